"""L3 ingestion: import MIND, MovieLens and JSON Lines directories into a store, in batches."""

from feedcraft.services.ingestion.importers import (
    DEFAULT_BATCH_SIZE,
    FORMATS,
    detect_format,
    import_directory,
    import_jsonl,
    import_mind,
    import_movielens,
)
from feedcraft.services.ingestion.report import ImportAborted, ImportReport
from feedcraft.services.ingestion.stubs import append_events_with_stubs, create_stubs
from feedcraft.services.ingestion.writer import OnBatch

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FORMATS",
    "ImportAborted",
    "ImportReport",
    "OnBatch",
    "append_events_with_stubs",
    "create_stubs",
    "detect_format",
    "import_directory",
    "import_jsonl",
    "import_mind",
    "import_movielens",
]

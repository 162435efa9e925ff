"""L1 file formats: streaming readers of MIND, MovieLens and JSON Lines into domain values."""

from feedcraft.formats._common import (
    csv_records,
    find_file,
    numbered_lines,
    open_binary,
    require_file,
    text_lines,
)

__all__ = [
    "csv_records",
    "find_file",
    "numbered_lines",
    "open_binary",
    "require_file",
    "text_lines",
]

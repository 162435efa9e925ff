"""L1 storage: one protocol per role; backends chosen by URL scheme."""

from feedcraft.storage.open import open_store
from feedcraft.storage.protocols import (
    ArtifactInfo,
    ArtifactStore,
    Catalogue,
    Consents,
    EventLog,
    Neighbour,
    Store,
    VectorStore,
)

__all__ = [
    "ArtifactInfo",
    "ArtifactStore",
    "Catalogue",
    "Consents",
    "EventLog",
    "Neighbour",
    "Store",
    "VectorStore",
    "open_store",
]

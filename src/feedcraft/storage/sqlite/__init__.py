"""SQLite backend of the storage layer: the default, zero-setup store."""

from feedcraft.storage.sqlite.migrations import SCHEMA_VERSION
from feedcraft.storage.sqlite.store import SqliteStore

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

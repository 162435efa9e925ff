"""SqliteStore: the storage roles over one SQLite database file (or memory)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from feedcraft.errors import InvalidInput
from feedcraft.storage.sqlite.artifacts import SqliteArtifacts
from feedcraft.storage.sqlite.cache import SqliteTextCache
from feedcraft.storage.sqlite.catalogue import SqliteCatalogue
from feedcraft.storage.sqlite.consents import SqliteConsents
from feedcraft.storage.sqlite.db import Database
from feedcraft.storage.sqlite.events import SqliteEventLog
from feedcraft.storage.sqlite.migrations import migrate
from feedcraft.storage.sqlite.url import parse_url
from feedcraft.storage.sqlite.vectors import SqliteVectors


class SqliteStore:
    """Opened by `open_store("sqlite:///path.db")`: creates the file and its parent folders,
    and brings the schema up to date. Safe to share between threads; several processes may
    open the same file."""

    def __init__(self, url: str) -> None:
        target = parse_url(url)
        if target.path is not None:
            try:
                target.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInput(
                    f"cannot create the folder for {target.path}: {exc}", field="store"
                ) from exc
        self.url = url
        self._db = Database(target)
        try:
            migrate(self._db)
        except BaseException:
            self._db.close()
            raise
        self._catalogue = SqliteCatalogue(self._db)
        self._events = SqliteEventLog(self._db)
        self._vectors = SqliteVectors(self._db)
        self._artifacts = SqliteArtifacts(self._db)
        self._text_cache = SqliteTextCache(self._db)
        self._consents = SqliteConsents(self._db)

    @property
    def catalogue(self) -> SqliteCatalogue:
        return self._catalogue

    @property
    def events(self) -> SqliteEventLog:
        return self._events

    @property
    def vectors(self) -> SqliteVectors:
        return self._vectors

    @property
    def artifacts(self) -> SqliteArtifacts:
        return self._artifacts

    @property
    def text_cache(self) -> SqliteTextCache:
        return self._text_cache

    @property
    def consents(self) -> SqliteConsents:
        return self._consents

    def pragmas(self) -> dict[str, Any]:
        """The settings this store runs with, for diagnostics (`feedcraft doctor`, tests)."""
        names = (
            "journal_mode",
            "synchronous",
            "foreign_keys",
            "secure_delete",
            "busy_timeout",
            "user_version",
        )
        return {name: self._db.pragma(name) for name in names}

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.url!r})"

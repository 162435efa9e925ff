"""Text cache on SQLite: generated text by key, replaced whole on put."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from feedcraft.domain.time import utcnow
from feedcraft.errors import InvalidInput
from feedcraft.storage.protocols import CachedText
from feedcraft.storage.sqlite.codec import (
    chunked,
    dump_json,
    from_micros,
    load_json,
    placeholders,
    to_micros,
)
from feedcraft.storage.sqlite.db import Database

#: Keys read per query by `keys`: bounded memory, and no read transaction held while the
#: caller works on a page (it may delete what it reads).
_PAGE = 1000


def _check_key(key: str, field: str = "key") -> None:
    if not isinstance(key, str) or not key:
        raise InvalidInput("must be a non-empty string", field=field)


def _prefix_clause(prefix: str) -> tuple[str, tuple[Any, ...]]:
    """WHERE clause for keys starting with `prefix`; substr, not LIKE, so '%' and '_' in a
    key are plain characters."""
    if not prefix:
        return "", ()
    return " WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)


class SqliteTextCache:
    """Generated text by key, with the JSON metadata the writer attached."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> CachedText | None:
        _check_key(key)
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT key, value, created_us, metadata FROM text_cache WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return CachedText(
            key=row[0], value=row[1], created_at=from_micros(row[2]), metadata=load_json(row[3])
        )

    def put(self, key: str, value: str, metadata: Mapping[str, Any] | None = None) -> None:
        _check_key(key)
        if not isinstance(value, str):
            raise InvalidInput(f"must be a string, not {type(value).__name__}", field="value")
        meta = dump_json(dict(metadata or {}), field="metadata", source=f"cache key {key!r}")
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO text_cache (key, value, created_us, metadata) "
                "VALUES (?, ?, ?, ?)",
                (key, value, to_micros(utcnow()), meta),
            )

    def delete(self, keys: Sequence[str]) -> int:
        if isinstance(keys, str):
            raise InvalidInput("expected a sequence of keys, got a string", field="keys")
        wanted = list(dict.fromkeys(keys))
        removed = 0
        with self._db.write() as conn:
            for part in chunked(wanted):
                cur = conn.execute(
                    f"DELETE FROM text_cache WHERE key IN ({placeholders(len(part))})",
                    tuple(part),
                )
                removed += cur.rowcount
        return removed

    def delete_prefix(self, prefix: str) -> int:
        _check_key(prefix, "prefix")
        where, args = _prefix_clause(prefix)
        with self._db.write() as conn:
            return int(conn.execute("DELETE FROM text_cache" + where, args).rowcount)

    def count(self, prefix: str = "") -> int:
        if not isinstance(prefix, str):
            raise InvalidInput("must be a string", field="prefix")
        where, args = _prefix_clause(prefix)
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM text_cache" + where, args).fetchone()[0])

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not isinstance(prefix, str):
            raise InvalidInput("must be a string", field="prefix")
        where, args = _prefix_clause(prefix)
        after: str | None = None
        while True:
            clause = where
            page_args: tuple[Any, ...] = args
            if after is not None:
                clause += (" AND" if where else " WHERE") + " key > ?"
                page_args = (*args, after)
            with self._db.read() as conn:
                rows = conn.execute(
                    f"SELECT key FROM text_cache{clause} ORDER BY key LIMIT {_PAGE}", page_args
                ).fetchall()
            yield from (row[0] for row in rows)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

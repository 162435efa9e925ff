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
#: The longest claim (a day): beyond it a claim is a mistake, and its microseconds still fit.
_MAX_CLAIM_S = 86_400


def _check_key(key: str, field: str = "key") -> None:
    if not isinstance(key, str) or not key:
        raise InvalidInput("must be a non-empty string", field=field)


#: The largest code point: a prefix ending in it has no successor of the same length.
_MAX_CHAR = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)  # not encodable in UTF-8: no key holds one


def _prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix`, or None when there
    is none (the prefix is all U+10FFFF). SQLite compares TEXT as UTF-8 bytes, which order
    as code points do, so the last character that can grow is increased (past the
    surrogates, which no key holds) and what follows it dropped."""
    head = prefix.rstrip(chr(_MAX_CHAR))
    if not head:
        return None
    following = ord(head[-1]) + 1
    if following in _SURROGATES:
        following = _SURROGATES.stop
    return head[:-1] + chr(following)


def _prefix_clause(prefix: str) -> tuple[str, tuple[Any, ...]]:
    """WHERE clause for keys starting with `prefix`: a range of the primary key's index
    (O(log n + matches)); `substr(key, 1, n) = ?` read every row. A range, not LIKE, so
    '%' and '_' in a key are plain characters."""
    if not prefix:
        return "", ()
    end = _prefix_end(prefix)
    if end is None:
        return " WHERE key >= ?", (prefix,)
    return " WHERE key >= ? AND key < ?", (prefix, end)


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
        return None if row is None else _entry(row)

    def get_many(self, keys: Sequence[str]) -> dict[str, CachedText]:
        """The entries held of `keys` (absent ones left out), read in one snapshot and a
        query per `IN_CHUNK` keys: a feed asks for a summary of each of its items."""
        if isinstance(keys, str):
            raise InvalidInput("expected a sequence of keys, got a string", field="keys")
        wanted = list(dict.fromkeys(keys))
        for key in wanted:
            _check_key(key, "keys")
        found: dict[str, CachedText] = {}
        with self._db.read() as conn:
            for part in chunked(wanted):
                rows = conn.execute(
                    "SELECT key, value, created_us, metadata FROM text_cache "
                    f"WHERE key IN ({placeholders(len(part))})",
                    tuple(part),
                ).fetchall()
                found.update((row[0], _entry(row)) for row in rows)
        return found

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
        return self.delete_prefixes([prefix])

    def delete_prefixes(self, prefixes: Sequence[str]) -> int:
        """Every entry under any of `prefixes`, in one transaction, then a checkpoint: this
        is how deleted items' texts are erased (`forget_items_texts`), and as in
        `EventLog.delete_user` secure_delete zeroes the rows in the database pages while the
        truncating checkpoint drops the WAL frames that still held them. Checkpointed even
        when no text was cached: the items' catalogue rows, deleted just before, are in the
        WAL too. One call for many items, as each checkpoint syncs the database file."""
        if isinstance(prefixes, str):
            raise InvalidInput("expected a sequence of prefixes, got a string", field="prefixes")
        wanted = list(dict.fromkeys(prefixes))
        for prefix in wanted:
            _check_key(prefix, "prefix")
        removed = 0
        with self._db.write() as conn:
            for prefix in wanted:
                where, args = _prefix_clause(prefix)
                removed += int(conn.execute("DELETE FROM text_cache" + where, args).rowcount)
                conn.execute("DELETE FROM text_cache_claims" + where, args)
        if wanted:
            self._db.checkpoint()
        return removed

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

    def claim(self, key: str, owner: str, seconds: float) -> bool:
        """One transaction: lapsed claims are dropped (of any key: rows of writers that died
        go too), the key taken if free, then whose it is read back; SQLite's single writer
        makes two processes' claims take turns. A claim made "later than now" was made
        before the clock was set back, and lapses now: its expiry is not to be trusted. The
        clock is read under the write lock: read before it, a claim made while this one
        queued for the lock would look made "later than now" and be dropped (two writers)."""
        _check_key(key)
        _check_key(owner, "owner")
        _check_seconds(seconds)
        with self._db.write() as conn:
            now = to_micros(utcnow())
            conn.execute(
                "DELETE FROM text_cache_claims WHERE expires_us <= ? OR claimed_us > ?",
                (now, now),
            )
            conn.execute("DELETE FROM text_cache_claims WHERE key = ? AND owner = ?", (key, owner))
            conn.execute(
                "INSERT OR IGNORE INTO text_cache_claims (key, owner, claimed_us, expires_us) "
                "VALUES (?, ?, ?, ?)",
                (key, owner, now, now + round(seconds * 1e6)),
            )
            row = conn.execute(
                "SELECT owner FROM text_cache_claims WHERE key = ?", (key,)
            ).fetchone()
        return row is not None and row[0] == owner

    def release(self, key: str, owner: str) -> bool:
        _check_key(key)
        _check_key(owner, "owner")
        with self._db.write() as conn:
            cur = conn.execute(
                "DELETE FROM text_cache_claims WHERE key = ? AND owner = ?", (key, owner)
            )
        return cur.rowcount > 0

    def holder(self, key: str) -> str | None:
        _check_key(key)
        now = to_micros(utcnow())
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT owner FROM text_cache_claims "
                "WHERE key = ? AND expires_us > ? AND claimed_us <= ?",
                (key, now, now),
            ).fetchone()
        return None if row is None else str(row[0])

    def take_over(self, key: str, dead_owner: str, owner: str, seconds: float) -> bool:
        """One UPDATE that names the owner it replaces: of two takers, the second finds the
        row no longer `dead_owner`'s and changes nothing. A lapsed row still held by
        `dead_owner` is taken too: `claim` would have granted it."""
        _check_key(key)
        _check_key(dead_owner, "dead_owner")
        _check_key(owner, "owner")
        _check_seconds(seconds)
        with self._db.write() as conn:
            now = to_micros(utcnow())  # under the lock, as in `claim`
            cur = conn.execute(
                "UPDATE text_cache_claims SET owner = ?, claimed_us = ?, expires_us = ? "
                "WHERE key = ? AND owner = ?",
                (owner, now, now + round(seconds * 1e6), key, dead_owner),
            )
        return cur.rowcount > 0


def _check_seconds(seconds: float) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise InvalidInput(
            f"must be a positive number of seconds, got {seconds!r}", field="seconds"
        )
    if seconds > _MAX_CLAIM_S:
        raise InvalidInput(
            f"must be at most {_MAX_CLAIM_S:,} seconds, got {seconds!r}", field="seconds"
        )


def _entry(row: tuple[Any, ...]) -> CachedText:
    return CachedText(
        key=row[0], value=row[1], created_at=from_micros(row[2]), metadata=load_json(row[3])
    )

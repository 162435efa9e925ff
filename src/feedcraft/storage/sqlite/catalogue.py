"""Catalogue on SQLite: one row per item; tags and attributes as canonical JSON.

Tombstones of deleted items live in `deleted_items` (migration 5) and change only inside the
write transactions of `delete` and `upsert`, so an id is never both stored and tombstoned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from feedcraft.domain import Item, ItemKind
from feedcraft.domain.time import utcnow
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.storage.sqlite.codec import (
    chunked,
    dump_json,
    from_micros,
    load_json,
    placeholders,
    to_micros,
)
from feedcraft.storage.sqlite.db import Database

_COLUMNS = (
    "id",
    "title",
    "kind",
    "body",
    "category",
    "subcategory",
    "tags",
    "language",
    "image_url",
    "published_us",
    "provider",
    "attributes",
    "stub",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM items"
_CHANGED = " OR ".join(f"items.{c} IS NOT excluded.{c}" for c in _COLUMNS[1:])
# The WHERE makes an identical re-upsert change no row (so it counts 0) and keeps a stub
# from replacing a full item; a full item replaces a stub or another full item.
_UPSERT = f"""
    INSERT INTO items ({", ".join(_COLUMNS)}) VALUES ({placeholders(len(_COLUMNS))})
    ON CONFLICT (id) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])}
    WHERE NOT (excluded.stub = 1 AND items.stub = 0) AND ({_CHANGED})
"""
_PAGE = 1000


def _to_row(item: object, position: int) -> tuple[Any, ...]:
    if not isinstance(item, Item):
        raise InvalidInput(
            f"element {position} is {type(item).__name__}, not an Item", field="items"
        )
    source = f"item {item.id!r}"
    for name in ("title", "body", "category", "subcategory"):
        if not isinstance(getattr(item, name), str):
            raise InvalidInput("must be a string", field=name, source=source)
    if not all(isinstance(tag, str) for tag in item.tags):
        raise InvalidInput("every tag must be a string", field="tags", source=source)
    return (
        item.id,
        item.title,
        item.kind.value,
        item.body,
        item.category,
        item.subcategory,
        dump_json(list(item.tags), field="tags", source=source),
        item.language,
        item.image_url,
        None if item.published_at is None else to_micros(item.published_at),
        item.provider,
        dump_json(dict(item.attributes), field="attributes", source=source),
        int(item.stub),
    )


def _from_row(row: Sequence[Any]) -> Item:
    return Item(
        id=row[0],
        title=row[1],
        kind=ItemKind(row[2]),
        body=row[3],
        category=row[4],
        subcategory=row[5],
        tags=tuple(load_json(row[6])),
        language=row[7],
        image_url=row[8],
        published_at=None if row[9] is None else from_micros(row[9]),
        provider=row[10],
        attributes=load_json(row[11]),
        stub=bool(row[12]),
    )


class SqliteCatalogue:
    """Items by id. Upserts replace a stored item whole; a stub never replaces a full item."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert(self, items: Iterable[Item]) -> int:
        """Validate everything first, then write in one transaction: all or none.

        Full items clear their tombstones; stubs of tombstoned ids are dropped. Both happen in
        the write transaction, so a stub racing a deletion cannot resurrect the item.
        """
        rows = [_to_row(item, i) for i, item in enumerate(items)]
        if not rows:
            return 0
        full = list(dict.fromkeys(row[0] for row in rows if not row[-1]))
        stubs = list(dict.fromkeys(row[0] for row in rows if row[-1]))
        with self._db.write() as conn:
            buried = _tombstoned(conn, stubs) if stubs else set()
            if buried:
                rows = [row for row in rows if not (row[-1] and row[0] in buried)]
            for part in chunked(full):
                sql = f"DELETE FROM deleted_items WHERE id IN ({placeholders(len(part))})"
                conn.execute(sql, tuple(part))
            if not rows:
                return 0
            cursor = conn.executemany(_UPSERT, rows)
            return max(cursor.rowcount, 0)

    def get(self, item_id: str) -> Item:
        with self._db.read() as conn:
            row = conn.execute(f"{_SELECT} WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise NotFound(f"no item with id {item_id!r} in the catalogue")
        return _from_row(row)

    def get_many(self, item_ids: Sequence[str]) -> dict[str, Item]:
        wanted = list(dict.fromkeys(item_ids))
        found: dict[str, Item] = {}
        with self._db.read() as conn:
            for part in chunked(wanted):
                sql = f"{_SELECT} WHERE id IN ({placeholders(len(part))})"
                for row in conn.execute(sql, tuple(part)):
                    found[row[0]] = _from_row(row)
        return {item_id: found[item_id] for item_id in wanted if item_id in found}

    def iter_items(self, *, include_stubs: bool = True) -> Iterator[Item]:
        """Pages by id (keyset), so no read transaction or lock is held between yields."""
        stub_filter = "" if include_stubs else " AND stub = 0"
        after = ""
        while True:
            with self._db.read() as conn:
                rows = conn.execute(
                    f"{_SELECT} WHERE id > ?{stub_filter} ORDER BY id LIMIT ?", (after, _PAGE)
                ).fetchall()
            for row in rows:
                yield _from_row(row)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def ids(self, *, include_stubs: bool = True) -> list[str]:
        where = "" if include_stubs else " WHERE stub = 0"
        with self._db.read() as conn:
            return [row[0] for row in conn.execute(f"SELECT id FROM items{where} ORDER BY id")]

    def delete(self, item_ids: Sequence[str]) -> int:
        """Remove the rows and tombstone exactly the ids removed, in one transaction."""
        wanted = list(dict.fromkeys(item_ids))
        removed = 0
        with self._db.write() as conn:
            now = to_micros(utcnow())
            for part in chunked(wanted):
                sql = f"DELETE FROM items WHERE id IN ({placeholders(len(part))}) RETURNING id"
                gone = [row[0] for row in conn.execute(sql, tuple(part)).fetchall()]
                conn.executemany(
                    "INSERT INTO deleted_items (id, deleted_us) VALUES (?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET deleted_us = excluded.deleted_us",
                    [(item_id, now) for item_id in gone],
                )
                removed += len(gone)
        return removed

    def deleted(self, item_ids: Sequence[str]) -> set[str]:
        wanted = list(dict.fromkeys(item_ids))
        if not wanted:
            return set()
        with self._db.read() as conn:
            return _tombstoned(conn, wanted)

    def count(self, *, include_stubs: bool = True) -> int:
        where = "" if include_stubs else " WHERE stub = 0"
        with self._db.read() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM items{where}").fetchone()[0])


def _tombstoned(conn: sqlite3.Connection, item_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in chunked(item_ids):
        sql = f"SELECT id FROM deleted_items WHERE id IN ({placeholders(len(part))})"
        found.update(row[0] for row in conn.execute(sql, tuple(part)))
    return found

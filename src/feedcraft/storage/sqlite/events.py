"""Event log on SQLite: rows keyed by Event.id, ordered by (timestamp, insertion sequence)."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from feedcraft.domain import Event, EventType
from feedcraft.errors import InvalidInput
from feedcraft.storage.sqlite.codec import from_micros, placeholders, to_micros
from feedcraft.storage.sqlite.db import Database

_COLUMNS = "id, user_id, item_id, type, ts_us, value, impression_id, position, propensity"
_INSERT = f"INSERT OR IGNORE INTO events ({_COLUMNS}) VALUES ({placeholders(9)})"
_PAGE = 5000
_TYPES = {t.value: t for t in EventType}
#: How many user_items answers are remembered (least recently used go first).
_RECENT_USERS = 4096
_WATERMARK = "SELECT MAX(seq), COUNT(*) FROM events WHERE user_id = ?"


def _to_row(event: object, position: int) -> tuple[Any, ...]:
    if not isinstance(event, Event):
        raise InvalidInput(
            f"element {position} is {type(event).__name__}, not an Event", field="events"
        )
    if event.value is not None and math.isnan(event.value):
        raise InvalidInput("NaN cannot be stored", field="value", source=f"event {event.id!r}")
    return (
        event.id,
        event.user_id,
        event.item_id,
        event.type.value,
        to_micros(event.timestamp),
        event.value,
        event.impression_id,
        event.position,
        event.propensity,
    )


def _from_row(row: Sequence[Any]) -> Event:
    return Event(
        id=row[0],
        user_id=row[1],
        item_id=row[2],
        type=_TYPES[row[3]],
        timestamp=from_micros(row[4]),
        value=row[5],
        impression_id=row[6],
        position=row[7],
        propensity=row[8],
    )


def _type_values(types: Sequence[EventType | str]) -> list[str]:
    try:
        return [EventType(t).value for t in types]
    except ValueError as exc:
        raise InvalidInput(str(exc), field="types") from exc


class SqliteEventLog:
    """Append-only behaviour log. `Event.id` is the idempotency key."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # (user, types, limit) -> (watermark, item ids) of the latest user_items answers
        self._recent: OrderedDict[
            tuple[str, tuple[str, ...] | None, int | None],
            tuple[tuple[Any, ...], tuple[str, ...]],
        ] = OrderedDict()
        self._recent_lock = threading.Lock()

    def append(self, events: Iterable[Event]) -> int:
        """Validate everything, then one executemany in one transaction: all or none, and
        durable on return (synchronous=FULL). Ids already stored are skipped, not counted."""
        rows = [_to_row(event, i) for i, event in enumerate(events)]
        if not rows:
            return 0
        with self._db.write() as conn:
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            return conn.total_changes - before

    def iter_events(
        self,
        *,
        user_id: str | None = None,
        types: Sequence[EventType] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Event]:
        """Streams in keyset pages of (ts, seq), each its own short read, so a slow consumer
        holds no lock and no snapshot that would stop WAL checkpoints."""
        where: list[str] = []
        params: list[Any] = []
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if types is not None:
            values = _type_values([types] if isinstance(types, str) else types)
            if not values:
                return
            where.append(f"type IN ({placeholders(len(values))})")
            params.extend(values)
        if since is not None:
            where.append("ts_us >= ?")
            params.append(to_micros(since))
        if until is not None:
            where.append("ts_us < ?")
            params.append(to_micros(until))
        base = " AND ".join(where) or "1"
        first = f"SELECT {_COLUMNS}, seq FROM events WHERE {base} ORDER BY ts_us, seq LIMIT ?"
        # The OR form lets SQLite seek the (ts_us) / (user_id, ts_us) index, whose implicit
        # rowid suffix is seq, so each page starts where the last ended.
        following = (
            f"SELECT {_COLUMNS}, seq FROM events WHERE {base} "
            "AND ts_us >= ? AND (ts_us > ? OR seq > ?) ORDER BY ts_us, seq LIMIT ?"
        )
        with self._db.read() as conn:
            rows = conn.execute(first, (*params, _PAGE)).fetchall()
        while True:
            for row in rows:
                yield _from_row(row)
            if len(rows) < _PAGE:
                return
            ts, seq = rows[-1][4], rows[-1][9]
            with self._db.read() as conn:
                rows = conn.execute(following, (*params, ts, ts, seq, _PAGE)).fetchall()

    def user_items(
        self,
        user_id: str,
        *,
        types: Sequence[EventType] | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """One range scan of the covering index (user_id, ts_us, seq, type, item_id): rows
        come in (ts, seq) order without a sort and the table itself is never read.

        Answers are remembered per (user, types, limit) with the user's watermark, the
        largest seq and the count of their events, which one covering-index lookup reads:
        events are only appended (seq never reused) or erased per user, so an unchanged
        watermark means unchanged events, whichever process wrote them. A heavy user's
        history (thousands of rows, each a table lookup) is then read only after it changed.
        """
        if limit is not None and limit < 0:
            raise InvalidInput(f"must be >= 0, got {limit}", field="limit")
        where = "user_id = ?"
        params: list[Any] = [user_id]
        values: list[str] | None = None
        if types is not None:
            values = _type_values([types] if isinstance(types, str) else types)
            if not values:
                return []
            where += f" AND type IN ({placeholders(len(values))})"
            params.extend(values)
        key = (user_id, None if values is None else tuple(sorted(values)), limit)
        sql = f"SELECT item_id FROM events WHERE {where} ORDER BY ts_us, seq"
        with self._db.read() as conn:
            mark = tuple(conn.execute(_WATERMARK, (user_id,)).fetchone())
            with self._recent_lock:
                hit = self._recent.get(key)
                if hit is not None and hit[0] == mark:
                    self._recent.move_to_end(key)
                    return list(hit[1])
            rows = conn.execute(sql, params).fetchall()
        distinct = list(dict.fromkeys(row[0] for row in rows))
        if limit is not None:
            distinct = distinct[-limit:] if limit else []
        with self._recent_lock:
            self._recent[key] = (mark, tuple(distinct))
            self._recent.move_to_end(key)
            while len(self._recent) > _RECENT_USERS:
                self._recent.popitem(last=False)
        return distinct

    def user_ids(self) -> list[str]:
        with self._db.read() as conn:
            sql = "SELECT DISTINCT user_id FROM events ORDER BY user_id"
            return [row[0] for row in conn.execute(sql)]

    def count(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def delete_user(self, user_id: str) -> int:
        """Delete, then checkpoint: secure_delete zeroes the rows in the database pages and the
        truncating checkpoint drops the WAL frames that still held them."""
        with self._db.write() as conn:
            removed = conn.execute("DELETE FROM events WHERE user_id = ?", (user_id,)).rowcount
        with self._recent_lock:  # nothing of an erased user stays in memory here
            for key in [k for k in self._recent if k[0] == user_id]:
                del self._recent[key]
        if removed:
            self._db.checkpoint()
        return removed

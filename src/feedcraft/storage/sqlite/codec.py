"""Value encodings shared by the tables: exact UTC microseconds and canonical JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from feedcraft.domain.time import ensure_utc
from feedcraft.errors import InvalidInput

T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Well below SQLite's default limit of bound parameters per statement.
IN_CHUNK = 500


def to_micros(value: datetime) -> int:
    """Integer microseconds since the epoch: exact, unlike a float, for every datetime."""
    return (ensure_utc(value) - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def dump_json(value: Any, *, field: str, source: str | None = None) -> str:
    """Canonical JSON (sorted keys) so equal values store equal text and compare unchanged."""
    try:
        return json.dumps(
            value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"not storable as JSON: {exc}", field=field, source=source) from exc


def load_json(text: str) -> Any:
    return json.loads(text)


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def placeholders(count: int) -> str:
    return ",".join("?" * count)

"""External ids are strings; dense integer indexes live only inside fitted models."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

UserId = str
ItemId = str
#: The longest id an entry point accepts (API bodies and paths, erasure requests).
MAX_ID_LENGTH = 256


class IdIndex:
    """A frozen, bidirectional map between string ids and dense positions 0..n-1."""

    __slots__ = ("_ids", "_pos")

    def __init__(self, ids: Iterable[str]) -> None:
        self._ids: tuple[str, ...] = tuple(ids)
        self._pos: dict[str, int] = {x: i for i, x in enumerate(self._ids)}
        if len(self._pos) != len(self._ids):
            raise ValueError("IdIndex ids must be unique")

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: object) -> bool:
        return key in self._pos

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._ids)

    @property
    def ids(self) -> tuple[str, ...]:
        return self._ids

    def position(self, key: str) -> int:
        """Dense position of `key`; raises KeyError for an unknown id."""
        return self._pos[key]

    def get(self, key: str, default: int = -1) -> int:
        return self._pos.get(key, default)

    def positions(self, keys: Sequence[str]) -> np.ndarray:
        """Positions of `keys`, -1 where unknown."""
        return np.fromiter((self._pos.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))

    def id_at(self, position: int) -> str:
        return self._ids[position]

    def ids_at(self, positions: Iterable[int]) -> list[str]:
        return [self._ids[int(p)] for p in positions]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdIndex) and self._ids == other._ids

    def __hash__(self) -> int:
        return hash(self._ids)

    def __repr__(self) -> str:
        return f"IdIndex(n={len(self._ids)})"

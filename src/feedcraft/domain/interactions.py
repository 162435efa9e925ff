"""The users x items interaction data every recommender is fitted on.

Orientation is fixed here once: rows are users, columns are items. Duplicate (user, item)
pairs are kept as separate entries in the coordinate arrays (so time-aware models can see
each event) and summed in `matrix()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from feedcraft.domain.ids import IdIndex


@dataclass(frozen=True)
class Interactions:
    users: IdIndex
    items: IdIndex
    user_pos: np.ndarray  # int64, one per interaction
    item_pos: np.ndarray  # int64
    weights: np.ndarray  # float32
    timestamps: np.ndarray  # float64 unix seconds

    def __post_init__(self) -> None:
        n = len(self.user_pos)
        for name in ("item_pos", "weights", "timestamps"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Interactions.{name} must have {n} entries")
        if n and (self.user_pos.min() < 0 or self.user_pos.max() >= len(self.users)):
            raise ValueError("Interactions.user_pos out of range")
        if n and (self.item_pos.min() < 0 or self.item_pos.max() >= len(self.items)):
            raise ValueError("Interactions.item_pos out of range")

    @classmethod
    def from_triples(
        cls,
        user_ids: Sequence[str],
        item_ids: Sequence[str],
        weights: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
        *,
        users: IdIndex | None = None,
        items: IdIndex | None = None,
    ) -> Interactions:
        """Build from parallel lists of external ids. Indexes default to first-seen order.

        When `items` is given (e.g. the whole catalogue), interactions with unknown ids raise.
        """
        if len(user_ids) != len(item_ids):
            raise ValueError("user_ids and item_ids must have the same length")
        users = users or IdIndex(dict.fromkeys(user_ids))
        items = items or IdIndex(dict.fromkeys(item_ids))
        up = users.positions(user_ids)
        ip = items.positions(item_ids)
        if (up < 0).any():
            raise ValueError(f"unknown user id {user_ids[int(np.argmin(up))]!r}")
        if (ip < 0).any():
            raise ValueError(f"unknown item id {item_ids[int(np.argmin(ip))]!r}")
        n = len(user_ids)
        w = np.ones(n, np.float32) if weights is None else np.asarray(weights, np.float32)
        t = np.zeros(n, np.float64) if timestamps is None else np.asarray(timestamps, np.float64)
        return cls(users, items, up, ip, w, t)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.users), len(self.items))

    def __len__(self) -> int:
        return len(self.user_pos)

    def matrix(self, binary: bool = False) -> sp.csr_matrix:
        """users x items CSR matrix; duplicates summed (or set to 1 when `binary`)."""
        data = np.ones(len(self), np.float32) if binary else self.weights
        m = sp.csr_matrix((data, (self.user_pos, self.item_pos)), shape=self.shape)
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        return m

    def seen_items(self, user_position: int) -> np.ndarray:
        """Item positions the user interacted with."""
        return np.unique(self.item_pos[self.user_pos == user_position])

    def subset(self, mask: np.ndarray) -> Interactions:
        """Same indexes, only the interactions where `mask` is true."""
        return Interactions(
            self.users,
            self.items,
            self.user_pos[mask],
            self.item_pos[mask],
            self.weights[mask],
            self.timestamps[mask],
        )

    def without_users(self, user_ids: Iterable[str]) -> tuple[Interactions, np.ndarray]:
        """These users and all their interactions removed (erasure), the other users closed
        up in their order; with the old positions of the users kept, so that a caller drops
        the same rows of anything else indexed by user. Unknown ids are ignored; when none is
        known, `self` comes back unchanged."""
        gone = self.users.positions(list(dict.fromkeys(user_ids)))
        keep = np.ones(len(self.users), bool)
        keep[gone[gone >= 0]] = False
        kept = np.flatnonzero(keep)
        if len(kept) == len(self.users):
            return self, kept
        new_position = np.cumsum(keep) - 1
        mask = keep[self.user_pos]
        remaining = Interactions(
            IdIndex(self.users.ids_at(kept)),
            self.items,
            new_position[self.user_pos[mask]],
            self.item_pos[mask],
            self.weights[mask],
            self.timestamps[mask],
        )
        return remaining, kept

    def with_items(self, items: Iterable[str]) -> Interactions:
        """Re-index onto a (super)set of item ids, e.g. the whole catalogue."""
        new = IdIndex(items)
        remap = new.positions(list(self.items.ids))
        if (remap < 0).any():
            raise ValueError("with_items: the new item index must contain every current item")
        return Interactions(
            self.users, new, self.user_pos, remap[self.item_pos], self.weights, self.timestamps
        )

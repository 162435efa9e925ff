"""Baselines every other model must beat: uniform random and (time-decayed) popularity."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.recommenders._common import MatrixRecommender, decayed_counts, user_histories

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _crc(values: Sequence[str]) -> np.ndarray:
    return np.fromiter((zlib.crc32(v.encode("utf-8")) for v in values), np.uint64, len(values))


def _uniform(seed: int, user_hashes: np.ndarray, item_hashes: np.ndarray) -> np.ndarray:
    """(users x items) uniform [0, 1) values from splitmix64 of (seed, user, item): the same
    on every machine and in every call, whichever other users or items are in it."""
    with np.errstate(over="ignore"):
        key = (np.uint64(seed % 2**64) * _GOLDEN) ^ (user_hashes[:, None] << np.uint64(32))
        z = (item_hashes[None, :] ^ key) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


class RandomRecommender(MatrixRecommender):
    """Uniformly random ranking: the floor any model must clear (AUC 0.5 on impressions).

    A user's score for an item depends only on (random_state, user id, item id), so `score`
    and `recommend` agree and results do not depend on batch composition. Items unknown to
    the model get random scores too: for this model there is no prior to fall back to.
    """

    name = "random"

    def __init__(self, random_state: int | None = 42) -> None:
        self.random_state = random_state

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        n_items = len(interactions.items)
        self.items_ = interactions.items
        self.history_ = user_histories(interactions, n_items, np.arange(n_items))
        self.item_hash_ = _crc(interactions.items.ids)
        if self.random_state is None:
            self.seed_ = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        else:
            self.seed_ = int(self.random_state)

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        hashes = self.item_hash_ if cols is None else self.item_hash_[cols]
        return _uniform(self.seed_, _crc(list(user_ids)), hashes)

    def score(
        self, user_id: str, item_ids: Sequence[str], history: Sequence[str] | None = None
    ) -> np.ndarray:
        self._check_fitted()
        return _uniform(self.seed_, _crc([user_id]), _crc(list(item_ids)))[0]


class PopularityRecommender(MatrixRecommender):
    """Most-interacted items, each event decayed by age so that news-like catalogues favour
    what is popular *now* (half-life in days, relative to the newest training event;
    None = plain counts). Same ranking for everyone, minus what they have seen."""

    name = "popularity"

    def __init__(self, half_life_days: float | None = 30.0) -> None:
        self.half_life_days = half_life_days

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        n_items = len(interactions.items)
        self.items_ = interactions.items
        self.history_ = user_histories(interactions, n_items, np.arange(n_items))
        self.counts_ = decayed_counts(interactions, self.half_life_days)

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        row = self.counts_ if cols is None else self.counts_[cols]
        return np.tile(row, (len(user_ids), 1))

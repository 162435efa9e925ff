"""Content-based recommendations: cosine between a user profile and item vectors.

The item space is the vectors' index (e.g. the whole catalogue), not the interactions', so
items nobody has interacted with yet (fresh news) can be recommended: the cold-item case
that collaborative models cannot serve.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.recommenders._common import (
    MatrixRecommender,
    decayed_counts,
    recency_rows,
    user_histories,
)


class ContentBasedRecommender(MatrixRecommender):
    """User profile = weighted mean of the vectors of history items; score = cosine.

    `recency_half_life` weighs recent history items more (the newest 1, halving every that
    many items back; None = plain mean). History items without a vector are ignored; users
    with no usable history get popularity (items with vectors only), scaled to [0, 1].
    """

    name = "content"
    needs_item_vectors = True
    #: Below any cosine (>= -1) and any popularity share (>= 0).
    lowest_prior = -2.0

    def __init__(self, recency_half_life: float | None = None) -> None:
        self.recency_half_life = recency_half_life

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        assert item_vectors is not None  # checked by fit()
        self.items_ = item_vectors.ids
        self.vectors_ = np.ascontiguousarray(item_vectors.matrix, dtype=np.float32)
        self.vectors64_ = self.vectors_.astype(np.float64)
        remap = item_vectors.ids.positions(list(interactions.items.ids))
        self.history_ = user_histories(interactions, len(self.items_), remap)
        counts = decayed_counts(interactions, None)
        ok = remap >= 0
        pop = np.zeros(len(self.items_))
        pop[remap[ok]] = counts[ok]
        self.popularity_ = pop / max(pop.max(), 1.0)

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        w = recency_rows(hist, self.recency_half_life)
        profiles = np.asarray(w @ self.vectors64_, dtype=np.float64)
        norms = np.linalg.norm(profiles, axis=1)
        cold = norms < 1e-12
        profiles[~cold] /= norms[~cold, None]  # the mean's scale drops out of the cosine
        # float64 copy made once at fit: converting per request cost more than the scoring
        vectors = self.vectors64_ if cols is None else self.vectors64_[cols]
        scores = profiles @ vectors.T
        pop = self.popularity_ if cols is None else self.popularity_[cols]
        scores[cold] = pop
        return scores

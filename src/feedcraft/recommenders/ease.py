"""EASE: an embarrassingly shallow linear autoencoder (Steck 2019), solved in closed form.

B minimises ||X - X B||² + λ||B||² subject to diag(B) = 0, which gives
B = I - P · diag(1 / diag(P)) with P = (XᵀX + λI)⁻¹. It is learned over the items that have
training interactions only (the others can never be predicted by it and get the lowest
score), so a catalogue with many never-seen items costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders._common import (
    MatrixRecommender,
    decayed_counts,
    recency_rows,
    user_histories,
)
from feedcraft.recommenders.explain import anchors, known_positions

#: Weight of popularity in scores, only to order items the model leaves tied.
_TIE_BREAK = 1e-6


#: EASE inverts an items x items matrix: O(n^3) time, O(n^2) memory and artifact size. Past
#: this many items only the most interacted ones take part (the rest keep other signals).
MAX_ITEMS = 10_000


def active_items(counts: np.ndarray, max_items: int) -> np.ndarray:
    """Positions of the items EASE learns: those with interactions, at most `max_items` of
    the most interacted (ties to the lower position), in ascending order."""
    if max_items < 1:
        raise InvalidInput("must be >= 1", field="max_items")
    active = np.flatnonzero(counts > 0)
    if len(active) > max_items:
        keep = np.argsort(-counts[active], kind="stable")[:max_items]
        active = np.sort(active[keep])
    return active


def ease_weights(x: sp.spmatrix | np.ndarray, l2: float, dtype: type = np.float32) -> np.ndarray:
    """The EASE item-item matrix B (items x items, zero diagonal) of users x items `x`.

    P = (XᵀX + λI)⁻¹ comes from a Cholesky factorisation (LAPACK potrf/potri, in `dtype`):
    the Gram matrix is symmetric positive definite for any λ > 0.
    """
    if l2 <= 0:
        raise InvalidInput("must be positive", field="l2")
    xs = sp.csr_matrix(x, dtype=np.float64)
    gram: np.ndarray = np.asarray((xs.T @ xs).todense(), dtype=dtype)
    gram[np.diag_indices_from(gram)] += dtype(l2)
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    factor, info = potrf(gram, lower=False, overwrite_a=True, clean=False)
    if info != 0:  # pragma: no cover - λ > 0 makes the matrix positive definite
        raise InvalidInput(f"Gram matrix is not positive definite (LAPACK info {info})")
    p, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:  # pragma: no cover
        raise InvalidInput(f"cannot invert the Gram matrix (LAPACK info {info})")
    p = np.triu(p)
    p += np.triu(p, 1).T  # potri fills the upper triangle only
    b = p / (-np.diag(p))[None, :]
    np.fill_diagonal(b, 0.0)
    return np.ascontiguousarray(b, dtype=dtype)


class EASERecommender(MatrixRecommender):
    """Scores = history row · B, B the closed-form EASE weights (see the module docstring).

    `l2` is the ridge strength λ (larger for bigger or denser data; Steck used 500 on
    MovieLens-20M). `recency_half_life` weighs history items by recency in the scoring row
    (the newest 1, halving every that many items back; None = binary, as in the paper).
    Items without training interactions score below every other item; users with no history
    get popularity. Memory is one float32 matrix of (items with interactions)².
    """

    name = "ease"

    def __init__(
        self,
        l2: float = 200.0,
        recency_half_life: float | None = None,
        max_items: int = MAX_ITEMS,
    ) -> None:
        self.l2 = l2
        self.recency_half_life = recency_half_life
        self.max_items = max_items

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        if not self.l2 > 0:
            raise InvalidInput("must be positive", field="l2")
        if self.recency_half_life is not None and self.recency_half_life <= 0:
            raise InvalidInput("must be positive or None", field="recency_half_life")
        n_items = len(interactions.items)
        x = interactions.matrix(binary=True)
        counts = decayed_counts(interactions, None)
        self.active_ = active_items(counts, self.max_items)
        self.weights_ = ease_weights(x[:, self.active_], self.l2)
        self.popularity_ = counts / max(counts.max(), 1.0)
        # history weights lie in [0, 1], so no score can fall below -(largest column |B| sum)
        bound = float(np.abs(self.weights_).sum(axis=0).max()) if len(self.active_) else 0.0
        self.lowest_prior = -bound - 1.0
        self.items_ = interactions.items
        self.history_ = user_histories(interactions, n_items, np.arange(n_items))

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        h = recency_rows(hist, self.recency_half_life)[:, self.active_]
        scores = np.full((hist.shape[0], len(self.items_)), self.lowest_prior)
        active = np.asarray(h.astype(np.float32) @ self.weights_, dtype=np.float64)
        scores[:, self.active_] = active + _TIE_BREAK * self.popularity_[self.active_]
        cold = np.diff(hist.indptr) == 0
        scores[np.ix_(cold, self.active_)] = self.popularity_[self.active_]
        return scores if cols is None else scores[:, cols]

    def explain(self, history: Sequence[str], item_ids: Sequence[str]) -> dict[str, str]:
        """The history item with the largest EASE weight towards each item (recency weights
        left out: they say how much the history counts, not which item an item follows)."""
        self._check_fitted()
        col = np.full(len(self.items_), -1)
        col[self.active_] = np.arange(len(self.active_))
        hist, hp, items, ip = known_positions(self.items_, history, item_ids)
        keep_h, keep_i = col[hp] >= 0, col[ip] >= 0
        hist = [h for h, k in zip(hist, keep_h, strict=True) if k]
        items = [i for i, k in zip(items, keep_i, strict=True) if k]
        if not hist or not items:
            return {}
        contrib = self.weights_[np.ix_(col[hp[keep_h]], col[ip[keep_i]])]
        return anchors(hist, items, contrib)

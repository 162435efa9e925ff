"""EASE: an embarrassingly shallow linear autoencoder (Steck 2019), solved in closed form.

B minimises ||X - X B||² + λ||B||² subject to diag(B) = 0, which gives
B = I - P · diag(1 / diag(P)) with P = (XᵀX + λI)⁻¹. It is learned over the items that have
training interactions only (the others can never be predicted by it and get the lowest
score), so a catalogue with many never-seen items costs nothing extra.

B is dense: (items)² float32, 270 MB for the 8,239 rated movies of MovieLens latest-small,
which made every artifact holding it hundreds of MB. `top_k_weights` keeps only the `k`
largest weights by magnitude per column (column j is the regression of item j on all
others, so each item keeps its `k` strongest predictors) in a CSR matrix: scores = sparse
history @ sparse B. The default `DEFAULT_TOP_K` was chosen by benchmarks/ease_sparse.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders._common import (
    MatrixRecommender,
    decayed_counts,
    inverse_positions,
    recency_rows,
    select_columns,
    sparse_product_rows,
    top_k_mask,
    user_histories,
)
from feedcraft.recommenders.explain import anchors, known_positions

#: Weight of popularity in scores, only to order items the model leaves tied.
_TIE_BREAK = 1e-6


#: EASE inverts an items x items matrix: O(n^3) time, O(n^2) memory and artifact size. Past
#: this many items only the most interacted ones take part (the rest keep other signals).
MAX_ITEMS = 10_000

#: Weights kept per column of B by default (None = dense; the hybrid's default too), measured
#: on MovieLens latest-small (benchmarks/ease_sparse.py): with a recency-weighted history (the
#: hybrid's, the learned ranker's EASE) test NDCG@10 stays within the paired bootstrap
#: interval of dense and validation is equal, and B falls from 271 to 13 MB. Plain binary EASE
#: (l2 200, the peer) loses 0.005 at 200 and nothing measurable at 500: pass top_k=None for
#: the exact Steck model.
DEFAULT_TOP_K: int | None = 200

#: Columns of B sparsified at once: bounds the temporaries at this many x items.
_CHUNK = 1024

#: Dense or top-k sparse EASE weights.
Weights: TypeAlias = np.ndarray | sp.csr_array


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


class SparseWeights(sp.csr_array):
    """CSR weights whose pair lookup `w[rows, cols]` (1-D index arrays) is always a 1-D ndarray,
    as with a dense B: scipy returns an empty sparse array when the index arrays are empty,
    which callers that assign the result into a numpy array cannot take."""

    def __getitem__(self, key: Any) -> Any:
        out = super().__getitem__(key)
        if sp.issparse(out) and _is_pair_lookup(key):
            return out.toarray().ravel()
        return out

    def by_columns(self) -> sp.csc_array:
        """The same weights stored by column, built once and kept in memory (never pickled):
        explaining a feed reads its 20 items' columns (at most k weights each) instead of a
        few hundred history rows. `prepare_serving` builds it off the request path."""
        columns = self.__dict__.get("_columns")
        if columns is None:
            columns = sp.csc_array(self)
            self.__dict__["_columns"] = columns
        return columns

    def columns_if_built(self) -> sp.csc_array | None:
        return self.__dict__.get("_columns")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_columns", None)
        return state


def _is_pair_lookup(key: Any) -> bool:
    return (
        isinstance(key, tuple)
        and len(key) == 2
        and all(isinstance(k, np.ndarray) and k.ndim == 1 for k in key)
    )


def top_k_weights(b: np.ndarray, k: int, axis: int = 0) -> SparseWeights:
    """The `k` largest-magnitude nonzero weights of `b` per column (axis 0) or per row
    (axis 1), ties to the lower position, as float32 CSR (rows = history items, the layout
    `history @ B` multiplies without converting). With `k` at least the axis length every
    nonzero stays, so the matrix equals `b` exactly."""
    if k < 1:
        raise InvalidInput("must be >= 1", field="top_k")
    if axis not in (0, 1):
        raise InvalidInput("must be 0 (columns) or 1 (rows)", field="axis")
    n = b.shape[1 - axis]
    rows, cols, vals = [], [], []
    for start in range(0, n, _CHUNK):
        block = b[:, start : start + _CHUNK].T if axis == 0 else b[start : start + _CHUNK]
        # contiguous rows: the partition runs along them (several times faster)
        magnitude = np.ascontiguousarray(np.abs(block))
        # floor 0: zeros (the diagonal, unconnected items) are never kept
        local, other = np.nonzero(top_k_mask(magnitude, k, floor=0.0))
        r, c = (other, local + start) if axis == 0 else (local + start, other)
        rows.append(r)
        cols.append(c)
        vals.append(b[r, c])
    data = np.concatenate(vals).astype(np.float32) if vals else np.zeros(0, np.float32)
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    out = SparseWeights((data, (r, c)), shape=b.shape, dtype=np.float32)
    out.sort_indices()
    if out.nnz < np.iinfo(np.int32).max:  # scipy keeps the int64 of the input: 4 bytes a weight
        out.indices = out.indices.astype(np.int32)
        out.indptr = out.indptr.astype(np.int32)
    return out


def weighted_sum(h: sp.csr_matrix, weights: Weights) -> np.ndarray:
    """Dense float64 `h @ weights`, dense B (float32 product) or sparse B (rows gathered)."""
    if sp.issparse(weights):
        return sparse_product_rows(h, weights)
    return np.asarray(h.astype(np.float32) @ weights, dtype=np.float64)


def weight_block(weights: Weights, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Dense float64 `weights[np.ix_(rows, cols)]` (zeros where a sparse B dropped a weight)."""
    if not sp.issparse(weights):
        return np.asarray(weights[np.ix_(rows, cols)], np.float64)
    columns = weights.columns_if_built() if isinstance(weights, SparseWeights) else None
    if columns is None or len(np.unique(rows)) < len(rows):
        return np.asarray(weights[rows][:, cols].toarray(), np.float64)
    picked = columns[:, cols]  # the items' columns, then only the history's rows of them
    place = inverse_positions(rows, weights.shape[0])[picked.indices]
    hit = place >= 0
    owner = np.repeat(np.arange(len(cols)), np.diff(picked.indptr))
    out = np.zeros((len(rows), len(cols)))
    out[place[hit], owner[hit]] = picked.data[hit]
    return out


def check_top_k(top_k: int | None, field: str) -> None:
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int | np.integer)):
        raise InvalidInput("must be an integer or None", field=field)
    if top_k is not None and top_k < 1:
        raise InvalidInput("must be >= 1 or None", field=field)


class EASERecommender(MatrixRecommender):
    """Scores = history row · B, B the closed-form EASE weights (see the module docstring).

    `l2` is the ridge strength λ (larger for bigger or denser data; Steck used 500 on
    MovieLens-20M). `recency_half_life` weighs history items by recency in the scoring row
    (the newest 1, halving every that many items back; None = binary, as in the paper).
    Items without training interactions score below every other item; users with no history
    get popularity. `top_k` keeps that many weights per column of B, sparse (None = all,
    dense: one float32 matrix of (items with interactions)², in memory and in the artifact).
    """

    name = "ease"

    def __init__(
        self,
        l2: float = 200.0,
        recency_half_life: float | None = None,
        max_items: int = MAX_ITEMS,
        top_k: int | None = DEFAULT_TOP_K,
    ) -> None:
        self.l2 = l2
        self.recency_half_life = recency_half_life
        self.max_items = max_items
        self.top_k = top_k

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        if not self.l2 > 0:
            raise InvalidInput("must be positive", field="l2")
        if self.recency_half_life is not None and self.recency_half_life <= 0:
            raise InvalidInput("must be positive or None", field="recency_half_life")
        check_top_k(self.top_k, "top_k")
        n_items = len(interactions.items)
        x = interactions.matrix(binary=True)
        counts = decayed_counts(interactions, None)
        self.active_ = active_items(counts, self.max_items)
        weights = ease_weights(x[:, self.active_], self.l2)
        self.weights_: Weights = (
            weights if self.top_k is None else top_k_weights(weights, self.top_k)
        )
        del weights  # the dense matrix can go before the rest is built
        self.popularity_ = counts / max(counts.max(), 1.0)
        # history weights lie in [0, 1], so no score can fall below -(largest column |B| sum)
        bound = float(np.max(abs(self.weights_).sum(axis=0))) if len(self.active_) else 0.0
        self.lowest_prior = -bound - 1.0
        self.items_ = interactions.items
        self.history_ = user_histories(interactions, n_items, np.arange(n_items))

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        h = recency_rows(hist, self.recency_half_life)
        h = select_columns(h, inverse_positions(self.active_, hist.shape[1]), len(self.active_))
        active = weighted_sum(h, self.weights_)
        cold = np.diff(hist.indptr) == 0
        if len(self.active_) == len(self.items_):  # all items, ascending: no scatter needed
            scores = active + _TIE_BREAK * self.popularity_
            scores[cold] = self.popularity_
        else:
            scores = np.full((hist.shape[0], len(self.items_)), self.lowest_prior)
            scores[:, self.active_] = active + _TIE_BREAK * self.popularity_[self.active_]
            scores[np.ix_(cold, self.active_)] = self.popularity_[self.active_]
        return scores if cols is None else scores[:, cols]

    def prepare_serving(self, cache_dir: Path | None = None) -> None:
        """Sparse B by column too, for explanations (see `SparseWeights.by_columns`)."""
        weights = getattr(self, "weights_", None)
        if isinstance(weights, SparseWeights):
            weights.by_columns()

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
        contrib = weight_block(self.weights_, col[hp[keep_h]], col[ip[keep_i]])
        return anchors(hist, items, contrib)

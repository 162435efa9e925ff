"""The seed's hybrid r = (1 - λ)·r_CF + λ·r_CB: collaborative and content scores, blended.

r_CF is itself a blend of two collaborative models on the same recency-weighted history row:
EASE (closed-form linear autoencoder, see `ease`) and item-kNN (see `itemknn`). r_CB is the
cosine between each item's vector and the recency-weighted mean of the history's vectors
(as in `content`). Raw scores of the three live on different scales, so each is first
normalised per user over the candidates (items not in the scoring history): the best
candidate maps to 1 and the `normalise_top`-th best to 0, and values are floored at
`_FLOOR`. Only the top of each list matters for a top-n blend, and this puts every part's top
on the same footing whatever the spread of the rest.

λ is `content_weight`, or with `content_pivot` set, it grows for short histories:
λ_u = w + (1 - w) · pivot / (pivot + n_u), so cold-ish users lean on content. Items with
training interactions but no vector get no content score (0, the normalised `normalise_top`-th
best); items with a vector but no interactions (new items) get the lowest collaborative
score, so only content can lift them. Users with no history get popularity.

Blend weights, `recency_half_life` and `content_pivot` are read when scoring, so one fitted
model can be re-weighted (the benchmark tunes them that way); `l2`, `knn_k`,
`knn_shrinkage` and `ease_top_k` shape what `fit` learns.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from feedcraft.domain import IdIndex, Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders._common import (
    MatrixRecommender,
    decayed_counts,
    extended_items,
    inverse_positions,
    recency_rows,
    stored_entries,
    user_histories,
)
from feedcraft.recommenders.ease import _TIE_BREAK as _EASE_TIE_BREAK
from feedcraft.recommenders.ease import (
    DEFAULT_TOP_K,
    MAX_ITEMS,
    SparseWeights,
    Weights,
    active_items,
    check_top_k,
    ease_weights,
    top_k_weights,
    weight_block,
    weighted_sum,
)
from feedcraft.recommenders.explain import anchors, known_positions
from feedcraft.recommenders.itemknn import _TIE_BREAK as _KNN_TIE_BREAK
from feedcraft.recommenders.itemknn import item_similarities

#: Lowest normalised score of any part; the blend stays at or above it.
_FLOOR = -10.0


def _row_bounds(
    x: np.ndarray, top: int, sorted_rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `x` (non-candidates at -inf): the `top`-th largest finite value (the
    lowest finite one in rows with fewer) and the span from it to the largest; (0, 1)
    for rows with nothing finite. `sorted_rows`: each row of `x` sorted ascending, where
    the caller has it (the same order statistics, no partition)."""
    n = x.shape[1]
    m = max(1, min(top, n))
    if not n:
        kth, best = np.zeros(len(x)), np.zeros(len(x))
    elif sorted_rows is not None:
        kth, best = sorted_rows[:, n - m].copy(), sorted_rows[:, n - 1].copy()
    else:
        kth, best = -np.partition(-x, m - 1, axis=1)[:, m - 1], x.max(axis=1)
    # rows with fewer finite candidates than `top`: use their lowest finite one
    short = ~np.isfinite(kth)
    if short.any():
        lowest = np.where(np.isfinite(x[short]), x[short], np.inf).min(axis=1)
        kth[short] = lowest
    bad = ~np.isfinite(best) | ~np.isfinite(kth)
    kth[bad], best[bad] = 0.0, 1.0
    return kth, np.maximum(best - kth, 1e-12)


def _scaled(s: np.ndarray, kth: np.ndarray, span: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out = (s - kth) / span
    out[np.isnan(out)] = _FLOOR
    return np.maximum(out, _FLOOR)


def normalise_rows(s: np.ndarray, candidates: np.ndarray, top: int) -> np.ndarray:
    """Per row, (s - t) / (best - t) with `best` the largest and t the `top`-th largest finite
    score among the row's candidate columns, floored at _FLOOR (-inf becomes _FLOOR)."""
    kth, span = _row_bounds(np.where(candidates & np.isfinite(s), s, -np.inf), top)
    return _scaled(s, kth[:, None], span[:, None])


def normalised_at(
    s: np.ndarray,
    top: int,
    r: np.ndarray,
    c: np.ndarray,
    sorted_rows: np.ndarray | None = None,
) -> np.ndarray:
    """`normalise_rows(s, np.isfinite(s), top)[r, c]` for `s` without NaN or +inf, scaling
    only the picked entries (a request needs a few hundred of ~10k); `sorted_rows` as in
    `_row_bounds`."""
    kth, span = _row_bounds(s, top, sorted_rows)
    return _scaled(s[r, c], kth[r], span[r])


class HybridRecommender(MatrixRecommender):
    """(1 - λ)·[(1 - w)·EASE + w·item-kNN] + λ·content, each part normalised per user.

    Defaults were tuned on MovieLens latest-small (user-temporal split, validation carved
    from training the same way; benchmarks/peers.py): test NDCG@10 0.1470 against 0.1300
    for the best peer (plain EASE), coverage@10 0.125 against 0.063. Most of the gain is
    the recency-weighted history (EASE with it alone: 0.1475); kNN and content added 0.007
    on validation but nothing measurable on test. At these weights new items (no
    interactions) do not reach a top 10: giving them a neutral collaborative score instead
    let content surface them but lowered NDCG@10. `recency_half_life` weighs the history row
    of all three parts (the newest item 1, halving every that many items back; None = all
    equal). `ease_top_k` keeps that many EASE weights per column, sparse (None = dense; see
    `ease.top_k_weights`): measured on the same split, 200 gives test NDCG@10 -0.0019
    against dense (paired bootstrap interval [-0.0047, 0.0010]), validation equal, and an
    artifact of 42 MB instead of 330 (what is left is mostly item vectors and kNN).
    """

    name = "hybrid"
    needs_item_vectors = True
    #: Below every blended score (each part is floored at _FLOOR) and any popularity share.
    lowest_prior = _FLOOR - 1.0

    def __init__(
        self,
        l2: float = 800.0,
        recency_half_life: float | None = 4.0,
        knn_weight: float = 0.5,
        content_weight: float = 0.15,
        content_pivot: float | None = None,
        knn_k: int = 100,
        knn_shrinkage: float = 20.0,
        normalise_top: int = 50,
        max_ease_items: int = MAX_ITEMS,
        ease_top_k: int | None = DEFAULT_TOP_K,
    ) -> None:
        self.l2 = l2
        self.recency_half_life = recency_half_life
        self.knn_weight = knn_weight
        self.content_weight = content_weight
        self.content_pivot = content_pivot
        self.knn_k = knn_k
        self.knn_shrinkage = knn_shrinkage
        self.normalise_top = normalise_top
        self.max_ease_items = max_ease_items
        self.ease_top_k = ease_top_k

    def _check(self) -> None:
        if not self.l2 > 0:
            raise InvalidInput("must be positive", field="l2")
        if not 0.0 <= self.knn_weight <= 1.0:
            raise InvalidInput("must be in [0, 1]", field="knn_weight")
        if not 0.0 <= self.content_weight <= 1.0:
            raise InvalidInput("must be in [0, 1]", field="content_weight")
        if self.content_pivot is not None and self.content_pivot < 0:
            raise InvalidInput("must be >= 0 or None", field="content_pivot")
        if self.recency_half_life is not None and self.recency_half_life <= 0:
            raise InvalidInput("must be positive or None", field="recency_half_life")
        if self.knn_k < 1:
            raise InvalidInput("must be >= 1", field="knn_k")
        if self.knn_shrinkage < 0:
            raise InvalidInput("must be >= 0", field="knn_shrinkage")
        if self.normalise_top < 1:
            raise InvalidInput("must be >= 1", field="normalise_top")
        check_top_k(self.ease_top_k, "ease_top_k")

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        self._check()
        data = interactions
        if item_vectors is not None:  # new items with a vector join the scoring space
            data = extended_items(interactions, item_vectors.ids.ids)
        n_items = len(data.items)
        x = data.matrix(binary=True)
        counts = decayed_counts(data, None)
        self.popularity_ = counts / max(counts.max(), 1.0)
        self.active_ = active_items(counts, self.max_ease_items)
        ease = ease_weights(x[:, self.active_], self.l2)
        self.ease_: Weights = (
            ease if self.ease_top_k is None else top_k_weights(ease, self.ease_top_k)
        )
        del ease  # the dense matrix can go before the rest is built
        self.knn_ = item_similarities(x, self.knn_k, self.knn_shrinkage, "cosine")
        self.vectors_, self.has_vector_ = _aligned_vectors(data.items, item_vectors)
        self.vectors64_ = self.vectors_.astype(np.float64)  # once, not per request
        self.items_ = data.items
        self.history_ = user_histories(data, n_items, np.arange(n_items))

    # -- the parts, raw -----------------------------------------------------------------------
    def _ease_raw(self, h: sp.csr_matrix) -> np.ndarray:
        out = np.full(h.shape, -np.inf)
        sub = _select_columns(h, self.active_, self._active_position())
        active = weighted_sum(sub, self.ease_)
        out[:, self.active_] = active + _EASE_TIE_BREAK * self.popularity_[self.active_]
        return out

    def _active_position(self) -> np.ndarray:
        """Item position -> column of the EASE matrix (-1 = not learned); derived from
        `active_` on first use, so models pickled before it existed still serve."""
        cached: np.ndarray | None = getattr(self, "_active_pos", None)
        if cached is None or len(cached) != len(self.items_):
            cached = inverse_positions(self.active_, len(self.items_))
            self._active_pos = cached
        return cached

    def prepare_serving(self, cache_dir: Path | None = None) -> None:
        """Sparse EASE weights by column too, for explanations."""
        weights = getattr(self, "ease_", None)
        if isinstance(weights, SparseWeights):
            weights.by_columns()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without `vectors64_`: a float64 copy of `vectors_` (30 MB for 9,742 MiniLM
        vectors), cheaper to rebuild on load than to store in every artifact."""
        state = self.__dict__.copy()
        state.pop("vectors64_", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "vectors_" in state and "vectors64_" not in state:
            self.vectors64_ = self.vectors_.astype(np.float64)

    def _knn_raw(self, h: sp.csr_matrix) -> np.ndarray:
        out = np.asarray((h @ self.knn_).todense(), np.float64)
        return out + _KNN_TIE_BREAK * self.popularity_

    def _content_raw(self, h: sp.csr_matrix) -> np.ndarray:
        # float64 rows: with the float32 ones scipy converted the whole matrix per request
        # (the product is computed in float64 either way, so the result is the same)
        profiles = np.asarray(h @ self.vectors64_, np.float64)
        norms = np.linalg.norm(profiles, axis=1)
        ok = norms > 1e-12
        profiles[ok] /= norms[ok, None]
        out = profiles @ self.vectors64_.T
        out[:, ~self.has_vector_] = -np.inf
        return out

    def _content_lambda(self, hist: sp.csr_matrix) -> np.ndarray:
        n = np.diff(hist.indptr).astype(np.float64)
        w = float(self.content_weight)
        if self.content_pivot is None:
            return np.full(len(n), w)
        pivot = float(self.content_pivot)
        return w + (1.0 - w) * pivot / np.maximum(pivot + n, 1e-12)

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        self._check()
        h = recency_rows(hist, self.recency_half_life)
        candidates = np.ones(hist.shape, bool)
        candidates[stored_entries(hist)] = False
        top = self.normalise_top
        w = float(self.knn_weight)
        cf = (1.0 - w) * normalise_rows(self._ease_raw(h), candidates, top)
        if w > 0:
            cf += w * normalise_rows(self._knn_raw(h), candidates, top)
        lam = self._content_lambda(hist)[:, None]
        scores = (1.0 - lam) * cf
        if self.vectors_.shape[1] and (lam > 0).any():
            content = normalise_rows(self._content_raw(h), candidates, top)
            content[:, ~self.has_vector_] = 0.0  # no vector: no content score
            scores += lam * content
        cold = np.diff(hist.indptr) == 0
        scores[cold] = self.popularity_
        return scores if cols is None else scores[:, cols]

    def explain(self, history: Sequence[str], item_ids: Sequence[str]) -> dict[str, str]:
        """The history item that contributes most to each item, over the three parts: each
        part's history x items contributions (EASE weights, kNN similarities, content
        cosines) scaled so its strongest link per item is 1, then blended with the model's
        weights (recency left out: it says how much the history counts, not which item an
        item follows)."""
        self._check_fitted()
        hist, hp, items, ip = known_positions(self.items_, history, item_ids)
        if not hist or not items:
            return {}
        col = np.full(len(self.items_), -1)
        col[self.active_] = np.arange(len(self.active_))
        ease = np.zeros((len(hp), len(ip)))
        hk, ik = col[hp] >= 0, col[ip] >= 0
        ease[np.ix_(hk, ik)] = weight_block(self.ease_, col[hp[hk]], col[ip[ik]])
        knn = np.asarray(self.knn_[hp][:, ip].todense(), np.float64)
        content = self.vectors64_[hp] @ self.vectors64_[ip].T
        w, lam = float(self.knn_weight), float(self.content_weight)
        total = (1.0 - lam) * ((1.0 - w) * _unit_columns(ease) + w * _unit_columns(knn))
        total += lam * _unit_columns(content)
        return anchors(hist, items, total)


def _select_columns(h: sp.csr_matrix, columns: np.ndarray, position: np.ndarray) -> sp.csr_matrix:
    """`h[:, columns]` for sorted distinct `columns` (`position` maps a column of `h` to its
    place in them, -1 if absent): entries keep their order within each row, as scipy's fancy
    indexing keeps it, without that path's per-call overhead."""
    new_cols = position[h.indices]
    keep = new_cols >= 0
    indptr = np.concatenate([[0], np.cumsum(keep)])[h.indptr]
    return sp.csr_matrix((h.data[keep], new_cols[keep], indptr), shape=(h.shape[0], len(columns)))


def _unit_columns(contrib: np.ndarray) -> np.ndarray:
    """Contributions divided per column by its largest positive one (columns without any
    stay as they are, at or below zero)."""
    top = contrib.max(axis=0, initial=0.0)
    return contrib / np.where(top > 0, top, 1.0)


def _aligned_vectors(items: IdIndex, vectors: ItemVectors | None) -> tuple[np.ndarray, np.ndarray]:
    """(items x dim float32 rows, zero where missing; which items have a vector)."""
    if vectors is None:
        return np.zeros((len(items), 0), np.float32), np.zeros(len(items), bool)
    pos = vectors.ids.positions(list(items.ids))
    has = pos >= 0
    out = np.zeros((len(items), vectors.dim), np.float32)
    out[has] = vectors.matrix[pos[has]]
    return out, has

"""The learned ranker's first stage: candidate sources fitted on one slice of data, and the
features of each (user, candidate) pair they give.

`FeatureStage` fits the sources of `candidates` (EASE, item-kNN, content, popularity,
trending, optionally ALS and fresh items) and the item statistics the features need; its
`features` turns history rows into candidate positions and a feature matrix: every source's
score, rank and per-user normalised score (for candidates another source proposed too), the
same collaborative models on differently weighted history rows, how many sources proposed
it, item-item weights and cosines to the newest history items, item popularity and the
recency of its interactions, category affinity, the user's activity and how mainstream their
history is, and where user and item sit in time (`TIME_FEATURES`). Every feature depends on
the history row (its items and their order), never on the user id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders._common import (
    decayed_counts,
    inverse_positions,
    pair_values,
    recency_rows,
    stored_entries,
    top_k_mask,
)
from feedcraft.recommenders.candidates import (
    CollaborativeSource,
    ContentSource,
    FreshSource,
    PopularitySource,
    ScoringSource,
    TrendingSource,
    category_matrix,
    category_shares,
)
from feedcraft.recommenders.ease import EASERecommender
from feedcraft.recommenders.hybrid import normalised_at
from feedcraft.recommenders.itemknn import ItemKNNRecommender

_DAY = 86400.0
_YEAR = 365.25 * _DAY
#: Width in years of the time bins of `pop_at_*` features.
_BIN_YEARS = 0.5
#: Rows featurised at once: bounds memory at about 10 x SUB_BATCH x n_items float64.
_SUB_BATCH = 128
#: Up to this many rows (a request), each source's score rows are sorted once and the sort
#: serves its pool cut, ranks and normalisation (three passes over ~10k items each before);
#: larger batches keep the partitions, which need no second copy of every score matrix.
_FEW_ROWS = 16
#: Features that place users and items in time (from interaction timestamps or dates). On a
#: user-temporal split of a long log (MovieLens spans 22 years) they tell the ranker which
#: items existed, and were popular, when a user was active: see benchmarks/ranker.py.
TIME_FEATURES = (
    "item_log_recent",
    "item_last_age",
    "item_first_age",
    "item_era",
    "user_era",
    "era_gap",
    "user_newest_age",
    "first_gap",
    "pop_at_user_time",
    "pop_at_user_era",
    "item_published_age",
    "published_gap",
)


def _row_min(hist: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    """Per history row, the smallest finite `values` over its items (NaN when none)."""
    v = values[hist.indices]
    v = np.where(np.isfinite(v), v, np.inf)
    out = np.full(hist.shape[0], np.inf)
    rows = np.repeat(np.arange(hist.shape[0]), np.diff(hist.indptr))
    np.minimum.at(out, rows, v)
    return np.where(np.isfinite(out), out, np.nan)


def _newest(hist: sp.csr_matrix, n: int) -> np.ndarray:
    """(rows x n) positions of each row's n most recent items, newest first, -1 padded."""
    out = np.full((hist.shape[0], n), -1, np.int64)
    for u in range(hist.shape[0]):
        lo, hi = hist.indptr[u], hist.indptr[u + 1]
        order = np.argsort(-hist.data[lo:hi], kind="stable")[:n]
        out[u, : len(order)] = hist.indices[lo + order]
    return out


def _ranks(s: np.ndarray) -> np.ndarray:
    """1-based competition rank of every entry in its row (descending): 1 + the number of
    larger entries, so tied entries share the best rank and no rank depends on an item's
    column (an arbitrary id order) - and a request needs one sort per row, no tie-breaking."""
    order = np.argsort(-s, axis=1, kind="stable")
    desc = np.take_along_axis(s, order, axis=1)
    first = np.ones(s.shape, bool)
    first[:, 1:] = desc[:, 1:] != desc[:, :-1]
    # each entry's tie group starts at the last "first" position at or before it
    start = np.maximum.accumulate(np.where(first, np.arange(s.shape[1]), 0), axis=1)
    out = np.empty(s.shape, np.int64)
    np.put_along_axis(out, order, start + 1, axis=1)
    return out


def ranks_at(
    s: np.ndarray, r: np.ndarray, c: np.ndarray, sorted_rows: np.ndarray | None = None
) -> np.ndarray:
    """`_ranks(s)[r, c]` (`r` ascending): for a few rows (one request), counting the entries
    above each picked one in the sorted row beats ranking all of them. `sorted_rows`: each
    row of `s` sorted ascending, where the caller already has it."""
    if sorted_rows is None and s.shape[0] > _FEW_ROWS:
        return _ranks(s)[r, c]
    out = np.empty(len(r), np.int64)
    bounds = np.searchsorted(r, np.arange(s.shape[0] + 1))
    for u in range(s.shape[0]):
        lo, hi = bounds[u], bounds[u + 1]
        if lo < hi:
            row = s[u]
            srt = np.sort(row) if sorted_rows is None else sorted_rows[u]
            above = len(row) - np.searchsorted(srt, row[c[lo:hi]], side="right")
            out[lo:hi] = above + 1
    return out


def global_ranks_at(
    grank: np.ndarray, hist: sp.csr_matrix, r: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """`ranks_at` for a score row shared by every user (popularity, trending) whose seen
    items are pushed to -inf: each candidate's rank in the shared row (`grank`, from
    `_ranks`) less the seen items ranked above it. Exact for candidates with a finite
    score (the only ranks used), and no per-request sort of all items."""
    out = grank[c].copy()
    bounds = np.searchsorted(r, np.arange(hist.shape[0] + 1))
    for u in range(hist.shape[0]):
        lo, hi = bounds[u], bounds[u + 1]
        if lo == hi:
            continue
        seen = np.sort(grank[hist.indices[hist.indptr[u] : hist.indptr[u + 1]]])
        out[lo:hi] -= np.searchsorted(seen, out[lo:hi])
    return out


def newest_rows(hist: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """History rows (data: recency ranks 1..L) cut to their `n` newest items, ranks 1..min(L, n):
    recency weights of the kept items are unchanged, and the cost of scoring a long history
    (EASE gathers one row of B per item) stops growing with it."""
    lengths = np.repeat(np.diff(hist.indptr), np.diff(hist.indptr))
    drop = np.maximum(lengths - n, 0)
    keep = hist.data > drop
    kept = np.concatenate([[0], np.cumsum(keep)])
    return sp.csr_matrix(
        (hist.data[keep] - drop[keep], hist.indices[keep], kept[hist.indptr]), shape=hist.shape
    )


def as_half_life(
    hist: sp.csr_matrix, half_lives: Sequence[float | None], base: float
) -> sp.csr_matrix:
    """History rows (data: recency ranks 1..L per row) stacked once per half-life, each copy
    re-ranked so that weighting it with half-life `base` gives the weights its half-life
    gives the originals (None: all ones): exp2(-(L - r') / base) = exp2(-(L - r) / hl).
    Built as one CSR from arrays (a request stacks three copies of one row)."""
    lengths = np.repeat(np.diff(hist.indptr), np.diff(hist.indptr)).astype(np.float64)
    data = []
    for half_life in half_lives:
        if half_life is None:
            data.append(lengths)
        elif half_life != base:
            data.append(lengths - (lengths - hist.data) * (base / half_life))
        else:
            data.append(np.asarray(hist.data, np.float64))
    n, nnz = len(half_lives), hist.nnz
    indptr = [hist.indptr[:-1] + j * nnz for j in range(n)] + [np.array([n * nnz])]
    return sp.csr_matrix(
        (np.concatenate(data), np.tile(hist.indices, n), np.concatenate(indptr)),
        shape=(n * hist.shape[0], hist.shape[1]),
    )


def squashed_order(s: np.ndarray) -> np.ndarray:
    """Scores mapped into [0, 1) by a monotone function: the same order (ties stay ties)
    without ranking every item, which cost more than any other feature for one user."""
    return 0.5 + np.arctan(s) / np.pi


class FeatureStage:
    """Fitted sources plus the item statistics features need, for one slice of data.

    `fit` builds one on the early part (to make training groups) and one on everything (to
    serve); both turn history rows into (candidate positions, feature matrix)."""

    def __init__(
        self,
        params: Mapping[str, Any],
        item_categories: Mapping[str, Sequence[str]] | None,
        published_at: Mapping[str, float] | None,
    ) -> None:
        self.params = dict(params)
        self.item_categories = item_categories
        self.published_at = published_at

    def sources(self) -> dict[str, ScoringSource]:
        p = self.params
        rhl = p["recency_half_life"]
        out: dict[str, ScoringSource] = {
            "ease": CollaborativeSource(EASERecommender(l2=p["l2"], recency_half_life=rhl)),
            "knn": CollaborativeSource(
                ItemKNNRecommender(
                    k=p["knn_k"], shrinkage=p["knn_shrinkage"], recency_half_life=rhl
                )
            ),
            "content": ContentSource(recency_half_life=p["content_half_life"]),
            "popularity": PopularitySource(half_life_days=None),
            "trending": TrendingSource(half_life_days=p["trending_half_life_days"]),
        }
        if p["als_factors"] > 0:
            from feedcraft.recommenders.factorization import ALSRecommender

            out["als"] = CollaborativeSource(
                ALSRecommender(
                    factors=p["als_factors"],
                    regularization=0.05,
                    alpha=1.0,
                    iterations=15,
                    recency_half_life=rhl,
                    random_state=p["random_state"],
                    num_threads=p["num_threads"],
                )
            )
        if self.published_at:
            out["fresh"] = FreshSource(self.published_at, self.item_categories)
        return out

    def fit(self, data: Interactions, vectors: ItemVectors) -> Self:
        """`data` must already span the whole item space (see `LearnedRanker._item_space`)."""
        self.sources_ = self.sources()
        for source in self.sources_.values():
            source.fit(data, vectors)
            if source.items_ != data.items:  # pragma: no cover - guarded by _item_space
                raise InvalidInput("a source changed the item space", field="item_vectors")
        # the collaborative models again, on differently weighted history rows (no refit)
        self.variants_: dict[str, list[tuple[str, float | None]]] = {}
        for base in ("ease", "knn"):
            src = self.sources_[base]
            assert isinstance(src, CollaborativeSource)
            for hl in self.params["extra_half_lives"]:
                name = f"{base}_{'binary' if hl is None else f'hl{hl:g}'}"
                self.sources_[name] = src.reweighted(hl, name)
                self.variants_.setdefault(base, [(base, self.params["recency_half_life"])])
                self.variants_[base].append((name, hl))
        self.personal_ = {
            name
            for name, src in self.sources_.items()
            if isinstance(src, CollaborativeSource | ContentSource)
        }
        self.pools_ = {name: int(self.params["pool"].get(name, 0)) for name in self.sources_}
        n_items = len(data.items)
        counts = decayed_counts(data, None)
        ts = data.timestamps
        newest = float(ts.max())
        self.log_pop_ = np.log1p(counts)
        recent = decayed_counts(data, self.params["trending_half_life_days"])
        self.log_recent_ = np.log1p(recent)
        last = np.full(n_items, -np.inf)
        np.maximum.at(last, data.item_pos, ts)
        first = np.full(n_items, np.inf)
        np.minimum.at(first, data.item_pos, ts)
        has = counts > 0
        # ages in years before the newest event; NaN (missing) for never-interacted items
        self.last_age_ = np.where(has, (newest - last) / _YEAR, np.nan)
        self.first_age_ = np.where(has, (newest - first) / _YEAR, np.nan)
        era = np.full(n_items, np.nan)
        if len(ts):
            order = np.lexsort((ts, data.item_pos))
            starts = np.concatenate([[0], np.cumsum(np.bincount(data.item_pos, minlength=n_items))])
            mid = (starts[:-1] + starts[1:]) // 2
            era[has] = (newest - ts[order][mid[has]]) / _YEAR  # median event, years back
        self.era_ = era
        self.era0_ = np.nan_to_num(era, nan=0.0)
        # interactions per item and half-year back from the newest event, lightly smoothed:
        # how popular an item was at the time a user seems to live in
        age_bins = ((newest - ts) / _YEAR / _BIN_YEARS).astype(np.int64)
        n_bins = int(age_bins.max()) + 1 if len(ts) else 1
        tc = np.zeros((n_items, n_bins + 2))
        np.add.at(tc, (data.item_pos, age_bins + 1), 1.0)
        tc = 0.5 * tc[:, 1:-1] + 0.25 * (tc[:, :-2] + tc[:, 2:])
        self.time_counts_ = np.log1p(tc).astype(np.float32)
        published = np.full(n_items, np.nan)
        for item, t in (self.published_at or {}).items():
            published[data.items.position(item)] = (newest - float(t)) / _YEAR
        self.published_age_ = published
        self.categories_, _ = category_matrix(data.items, self.item_categories)
        ncat = np.asarray(self.categories_.sum(axis=1), np.float64).ravel()
        self.n_categories_ = ncat
        self.vectors_ = self.sources_["content"].vectors_  # type: ignore[attr-defined]
        # popularity and trending score every user alike: rank their shared row once
        self.global_ranks_ = {
            name: _ranks(src.scores_[None, :])[0]
            for name, src in self.sources_.items()
            if isinstance(src, PopularitySource | TrendingSource)
        }
        self.names_ = self._names()
        return self

    def _names(self) -> list[str]:
        names = []
        for s in self.sources_:
            names += [f"{s}_score", f"{s}_rank"]
            if s in self.personal_:
                names.append(f"{s}_norm")
        names += [
            "n_proposed",
            "content_last",
            "content_recent_max",
            "ease_last",
            "knn_last",
            "item_log_pop",
            "item_log_recent",
            "item_last_age",
            "item_first_age",
            "item_era",
            "item_n_categories",
            "category_affinity",
            "category_affinity_mean",
            "user_log_history",
            "user_log_pop",
            "user_era",
            "era_gap",
            "user_newest_age",
            "first_gap",
            "pop_at_user_time",
            "pop_at_user_era",
            "item_published_age",
            "published_gap",
        ]
        return names

    def _popularity_at(self, age: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """log(1 + smoothed interactions) of each candidate in the half-year `age` years back
        from the newest event (NaN where the age is unknown)."""
        n_bins = self.time_counts_.shape[1]
        ok = np.isfinite(age)
        b = np.clip(np.where(ok, age, 0.0) / _BIN_YEARS, 0, n_bins - 1).astype(np.int64)
        out = self.time_counts_[c, b[r]].astype(np.float64)
        return np.where(ok[r], out, np.nan)

    def _recent_max(
        self, newest: np.ndarray, r: np.ndarray, candidates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(cosine of each candidate to the user's newest item, the highest cosine to one of
        their `newest` items: users x n positions, -1 padded), NaN where there is none;
        `candidates` holds the candidates' vectors, gathered once."""
        out = np.full(len(r), -np.inf)
        last = np.full(len(r), np.nan)
        for j, item in enumerate(newest.T):
            ok = item[r] >= 0
            v = self.vectors_[np.maximum(item, 0)][r]
            cos = np.einsum("ij,ij->i", v, candidates)
            if j == 0:
                last = np.where(ok, cos, np.nan)
            out = np.where(ok, np.maximum(out, cos), out)
        return last, np.where(np.isfinite(out), out, np.nan)

    def _item_item_row(
        self, name: str, last: np.ndarray, r: np.ndarray, c: np.ndarray
    ) -> np.ndarray:
        """The collaborative model's item-item weight from the user's newest item to each
        candidate (EASE's B, kNN's similarity); NaN where either is outside the model."""
        source = self.sources_.get(name)
        out = np.full(len(r), np.nan)
        if not isinstance(source, CollaborativeSource):
            return out
        model = source.model_
        pos = source.model_pos_
        lm = np.where(last >= 0, pos[np.maximum(last, 0)], -1)[r]  # model position of last
        cm = pos[c]
        ok = (lm >= 0) & (cm >= 0)
        if isinstance(model, EASERecommender):
            active = inverse_positions(model.active_, len(model.items_))
            la, ca = active[np.maximum(lm, 0)], active[np.maximum(cm, 0)]
            ok &= (la >= 0) & (ca >= 0)
            weights = model.weights_
            if sp.issparse(weights):
                out[ok] = pair_values(weights, la[ok], ca[ok])
            else:
                out[ok] = weights[la[ok], ca[ok]]
        elif isinstance(model, ItemKNNRecommender):
            out[ok] = pair_values(model.similarity_, lm[ok], cm[ok])
        return out

    def features(
        self, user_ids: Sequence[str], hist: sp.csr_matrix
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, X, fallback): candidate positions (row-major), their features, and a
        (users x items) order in (0, 1) for everything else (EASE's)."""
        rows, cols, feats, falls = [], [], [], []
        for start in range(0, hist.shape[0], _SUB_BATCH):
            stop = min(start + _SUB_BATCH, hist.shape[0])
            r, c, x, f = self._features(user_ids[start:stop], hist[start:stop])
            rows.append(r + start)
            cols.append(c)
            feats.append(x)
            falls.append(f)
        if not rows:
            n = len(self.names_)
            return (
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
                np.zeros((0, n)),
                np.zeros((0, hist.shape[1])),
            )
        return np.concatenate(rows), np.concatenate(cols), np.vstack(feats), np.vstack(falls)

    def score_matrices(self, user_ids: Sequence[str], hist: sp.csr_matrix) -> dict[str, np.ndarray]:
        """Every source's (users x items) scores. A collaborative model and its reweighted
        copies score in one call, on stacked rows whose recency ranks are rescaled so that
        the model's own half-life weighs each copy as its half-life would: one sparse
        product and one pass of per-call overhead instead of three (the same numbers: the
        rescaling is by a power of two here, and rows are scored independently)."""
        out: dict[str, np.ndarray] = {}
        n = hist.shape[0]
        for base, variants in getattr(self, "variants_", {}).items():  # older pickles: none
            base_hl = variants[0][1]
            if base_hl is None:  # a binary model cannot be made to weigh by recency
                continue
            stacked = as_half_life(hist, [hl for _, hl in variants], base_hl)
            s = self.sources_[base].score_matrix(list(user_ids) * len(variants), stacked)
            for j, (name, _) in enumerate(variants):
                out[name] = s[j * n : (j + 1) * n]
        for name, source in self.sources_.items():
            if name not in out:
                out[name] = source.score_matrix(list(user_ids), hist)
        return {name: out[name] for name in self.sources_}

    def _features(
        self, user_ids: Sequence[str], hist: sp.csr_matrix
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        full = hist  # seen items and history length always come from all of it
        cap = self.params.get("max_history")  # older pickles: none
        if cap is not None:
            hist = newest_rows(hist, int(cap))
        sr, sc = stored_entries(full)
        scores: dict[str, np.ndarray] = {}
        pool = np.zeros(hist.shape, bool)
        n_proposed = np.zeros(hist.shape, np.float64)
        global_ranks = getattr(self, "global_ranks_", {})
        few = hist.shape[0] <= _FEW_ROWS
        ordered: dict[str, np.ndarray] = {}  # each row sorted ascending (see _FEW_ROWS)
        for name, s in self.score_matrices(user_ids, hist).items():
            s[sr, sc] = -np.inf
            scores[name] = s
            if few and name not in global_ranks:
                ordered[name] = np.sort(s, axis=1)
            k = self.pools_[name]
            if k > 0:
                mask = top_k_mask(s, k, floor=-np.inf, sorted_rows=ordered.get(name))
                pool |= mask
                n_proposed += mask
        r, c = np.nonzero(pool)
        cols: list[np.ndarray] = []
        fallback = squashed_order(scores["ease"])
        for name, s in scores.items():
            if name in global_ranks:
                rank = global_ranks_at(global_ranks[name], full, r, c)
            else:
                rank = ranks_at(s, r, c, ordered.get(name))
            v = s[r, c]
            finite = np.isfinite(v)
            cols.append(np.where(finite, v, np.nan))
            cols.append(np.where(finite, rank, np.nan).astype(np.float64))
            if name in self.personal_:
                # s: seen items already at -inf
                norm = normalised_at(s, 50, r, c, ordered.get(name))
                cols.append(np.where(finite, norm, np.nan))
        cols.append(n_proposed[r, c])
        # similarity to the newest history item
        newest = _newest(hist, 3)
        last = newest[:, 0]
        cols += self._recent_max(newest, r, self.vectors_[c])
        cols.append(self._item_item_row("ease", last, r, c))
        cols.append(self._item_item_row("knn", last, r, c))
        # item statistics
        cols += [
            self.log_pop_[c],
            self.log_recent_[c],
            self.last_age_[c],
            self.first_age_[c],
            self.era_[c],
            self.n_categories_[c],
        ]
        # category affinity: the user's (distinct-item) share of history in the item's categories
        n_hist = np.diff(hist.indptr).astype(np.float64)
        if self.categories_.shape[1]:
            shares = category_shares(hist, self.categories_)
            aff = (self.categories_ @ shares.T)[c, r]  # CSR x dense: no transposed copy
            has_cat = self.n_categories_[c] > 0
            ok = has_cat & (n_hist[r] > 0)
            cols.append(np.where(ok, aff, np.nan))
            cols.append(np.where(ok, aff / np.maximum(self.n_categories_[c], 1.0), np.nan))
        else:
            cols += [np.full(len(r), np.nan), np.full(len(r), np.nan)]
        # the user: activity, how mainstream, and when (the era of their recent items)
        # weighted row sums from the CSR arrays: bincount adds each row's products in stored
        # order, as scipy's matrix-vector product does (the same numbers, fewer sparse objects)
        owner = np.repeat(np.arange(hist.shape[0]), np.diff(hist.indptr))
        w = recency_rows(hist, 4.0)
        wsum = np.asarray(w.sum(axis=1)).ravel()
        pop_sum = np.bincount(owner, self.log_pop_[hist.indices], minlength=hist.shape[0])
        era_sum = np.bincount(owner, w.data * self.era0_[hist.indices], minlength=hist.shape[0])
        user_pop = pop_sum / np.maximum(n_hist, 1.0)
        user_era = era_sum / np.maximum(wsum, 1e-12)
        empty = n_hist == 0
        user_pop[empty] = np.nan
        user_era[empty] = np.nan
        # the newest thing in the history appeared this long ago: the user lives after it
        newest_age = _row_min(hist, self.first_age_)
        cols += [
            np.log1p(np.diff(full.indptr).astype(np.float64))[r],
            user_pop[r],
            user_era[r],
            self.era_[c] - user_era[r],
            newest_age[r],
            self.first_age_[c] - newest_age[r],
            self._popularity_at(newest_age, r, c),
            self._popularity_at(user_era, r, c),
            self.published_age_[c],
            self.published_age_[c] - newest_age[r],
        ]
        x = np.column_stack(cols) if len(r) else np.zeros((0, len(self.names_)))
        return r, c, x, fallback

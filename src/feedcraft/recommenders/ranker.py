"""A two-stage recommender: candidate sources, then a LightGBM LambdaRank model over features.

Stage one asks the sources of `candidates` (EASE, item-kNN, content, popularity, trending,
optionally ALS and fresh items) for a pool per user and merges it without duplicates. Stage
two scores each (user, candidate) pair from features: every source's score, rank and per-user
normalised score (for candidates another source proposed too), the same collaborative models
on differently weighted history rows (all items equal, slower decay), how many sources
proposed it, item-item weights and cosines to the newest history items, item popularity and
the recency of its interactions, category affinity (the user's share of history in the
item's categories), the user's activity and how mainstream their history is, and where user
and item sit in time (`TIME_FEATURES`).

Labels come from the training data itself. `fit` carves each user's last `label_fraction` of
interactions (by time) as labels, fits the sources on the earlier part, and builds candidate
groups for those users; `label_windows` repeats this further back in time (the next window
labels the same share of what is left), which triples the groups on MovieLens and was worth
about 0.005 NDCG@10 on validation. It fits `n_boosters` LambdaRank models that differ only in
seed and averages them, then refits the sources on all interactions for serving. So the
ranker learns "what comes next" from the same kind of split it is judged on.

Every feature depends on the history row (its items and their order), never on the user id,
so a stranger with a given history gets what a known user with that history gets. Candidates
score above 1 (the boosters' mean output shifted by its lowest possible value); every other
item gets EASE's order squeezed into (0, 1), so it ranks below every candidate.

Measured in benchmarks/ranker.py (MovieLens latest-small, user-temporal split): see the
"Learned ranker" section of benchmarks/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders._common import (
    MatrixRecommender,
    check_interactions,
    decayed_counts,
    recency_rows,
    top_k_mask,
    user_histories,
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
    extended_items,
)
from feedcraft.recommenders.ease import EASERecommender
from feedcraft.recommenders.hybrid import normalise_rows
from feedcraft.recommenders.itemknn import ItemKNNRecommender

_DAY = 86400.0
_YEAR = 365.25 * _DAY
#: Width in years of the time bins of `pop_at_*` features.
_BIN_YEARS = 0.5
#: Rows featurised at once: bounds memory at about 10 x SUB_BATCH x n_items float64.
_SUB_BATCH = 128
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
#: Interactions (to fit) or candidate rows (to score) from which `num_threads` are used.
_THREADED_MIN = 20_000


def carve_labels(interactions: Interactions, fraction: float, min_interactions: int) -> np.ndarray:
    """Mask of the interactions that are each user's last `fraction` by time (rounded, at
    least one, at most all but one); users with fewer than `min_interactions` keep all theirs.
    The same rule as `evaluation.user_temporal_split`, so labels look like the test part."""
    it = interactions
    n = len(it)
    order = np.lexsort((np.arange(n), it.timestamps, it.user_pos))
    u_sorted = it.user_pos[order]
    counts = np.bincount(it.user_pos, minlength=len(it.users))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n_label = np.clip(np.floor(fraction * counts + 0.5), 1, np.maximum(counts - 1, 0))
    n_label[counts < min_interactions] = 0
    pos_in_user = np.arange(n) - starts[u_sorted]
    label_sorted = pos_in_user >= counts[u_sorted] - n_label[u_sorted]
    out = np.zeros(n, bool)
    out[order] = label_sorted
    return out


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
    """1-based rank of every entry in its row (descending; ties to the lower column)."""
    order = np.argsort(-s, axis=1, kind="stable")
    out = np.empty(s.shape, np.int64)
    np.put_along_axis(out, order, np.arange(1, s.shape[1] + 1)[None, :], axis=1)
    return out


def ranks_at(s: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """`_ranks(s)[r, c]` (`r` ascending): for a few rows, counting the entries above each
    picked one (and the equal ones to its left) beats ranking all of them (one request)."""
    if s.shape[0] > 16:
        return _ranks(s)[r, c]
    out = np.empty(len(r), np.int64)
    bounds = np.searchsorted(r, np.arange(s.shape[0] + 1))
    for u in range(s.shape[0]):
        lo, hi = bounds[u], bounds[u + 1]
        if lo == hi:
            continue
        row, cols = s[u], c[lo:hi]
        v = row[cols]
        asc = np.sort(row)
        right = np.searchsorted(asc, v, side="right")
        before = np.zeros(hi - lo, np.int64)
        tied = np.flatnonzero(right - np.searchsorted(asc, v, side="left") > 1)
        for value in np.unique(v[tied]):
            sel = tied[v[tied] == value]
            before[sel] = np.searchsorted(np.flatnonzero(row == value), cols[sel])
        out[lo:hi] = len(row) - right + before + 1
    return out


class _Stage:
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
        for base in ("ease", "knn"):
            src = self.sources_[base]
            assert isinstance(src, CollaborativeSource)
            for hl in self.params["extra_half_lives"]:
                name = f"{base}_{'binary' if hl is None else f'hl{hl:g}'}"
                self.sources_[name] = src.reweighted(hl, name)
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

    def _recent_max(self, newest: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Highest cosine of each candidate to one of the user's newest items (`newest`,
        users x n positions, -1 padded)."""
        out = np.full(len(r), -np.inf)
        for item in newest.T:
            ok = item[r] >= 0
            v = self.vectors_[np.maximum(item, 0)][r]
            cos = np.einsum("ij,ij->i", v, self.vectors_[c])
            out = np.where(ok, np.maximum(out, cos), out)
        return np.where(np.isfinite(out), out, np.nan)

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
            active = np.full(len(model.items_), -1, np.int64)
            active[model.active_] = np.arange(len(model.active_))
            la, ca = active[np.maximum(lm, 0)], active[np.maximum(cm, 0)]
            ok &= (la >= 0) & (ca >= 0)
            out[ok] = model.weights_[la[ok], ca[ok]]
        elif isinstance(model, ItemKNNRecommender):
            out[ok] = np.asarray(model.similarity_[lm[ok], cm[ok]]).ravel()
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

    def _features(
        self, user_ids: Sequence[str], hist: sp.csr_matrix
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n_items = hist.shape[1]
        seen = np.zeros(hist.shape, bool)
        sr, sc = hist.nonzero()
        seen[sr, sc] = True
        unseen = ~seen
        scores: dict[str, np.ndarray] = {}
        pool = np.zeros(hist.shape, bool)
        n_proposed = np.zeros(hist.shape, np.float64)
        for name, source in self.sources_.items():
            s = source.score_matrix(list(user_ids), hist)
            s[seen] = -np.inf
            scores[name] = s
            k = self.pools_[name]
            if k > 0:
                mask = top_k_mask(s, k, floor=-np.inf)
                pool |= mask
                n_proposed += mask
        r, c = np.nonzero(pool)
        cols: list[np.ndarray] = []
        fallback = np.zeros(hist.shape)
        for name, s in scores.items():
            finite = np.isfinite(s)
            if name == "ease":
                ranks = _ranks(s)
                fallback = (n_items - (ranks - 1.0)) / (n_items + 1.0)
                rank = ranks[r, c]
            else:
                rank = ranks_at(s, r, c)
            v = s[r, c]
            cols.append(np.where(np.isfinite(v), v, np.nan))
            cols.append(np.where(finite[r, c], rank, np.nan).astype(np.float64))
            if name in self.personal_:
                norm = normalise_rows(s, unseen & finite, 50)
                cols.append(np.where(finite[r, c], norm[r, c], np.nan))
        cols.append(n_proposed[r, c])
        # similarity to the newest history item
        newest = _newest(hist, 3)
        last = newest[:, 0]
        lv = np.where((last >= 0)[:, None], self.vectors_[np.maximum(last, 0)], 0.0)
        content_last = np.einsum("ij,ij->i", lv[r], self.vectors_[c])
        cols.append(np.where(last[r] >= 0, content_last, np.nan))
        cols.append(self._recent_max(newest, r, c))
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
            aff = np.asarray((sp.csr_matrix(shares) @ self.categories_.T).todense())[r, c]
            has_cat = self.n_categories_[c] > 0
            ok = has_cat & (n_hist[r] > 0)
            cols.append(np.where(ok, aff, np.nan))
            cols.append(np.where(ok, aff / np.maximum(self.n_categories_[c], 1.0), np.nan))
        else:
            cols += [np.full(len(r), np.nan), np.full(len(r), np.nan)]
        # the user: activity, how mainstream, and when (the era of their recent items)
        w = recency_rows(hist, 4.0)
        wsum = np.asarray(w.sum(axis=1)).ravel()
        h1 = hist.copy()
        h1.data[:] = 1.0
        user_pop = np.asarray(h1 @ self.log_pop_).ravel() / np.maximum(n_hist, 1.0)
        user_era = np.asarray(w @ self.era0_).ravel() / np.maximum(wsum, 1e-12)
        empty = n_hist == 0
        user_pop[empty] = np.nan
        user_era[empty] = np.nan
        # the newest thing in the history appeared this long ago: the user lives after it
        newest_age = _row_min(hist, self.first_age_)
        cols += [
            np.log1p(n_hist)[r],
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


class LearnedRanker(MatrixRecommender):
    """Candidate sources -> features -> LightGBM LambdaRank (see the module docstring).

    Pool sizes (`pool_*`, 0 = the source only gives features) set how many items each source
    proposes per user; the merged pool is what the boosters rank. `l2`, `recency_half_life`,
    `knn_k`, `knn_shrinkage` shape the collaborative sources as in `hybrid`;
    `extra_half_lives` re-scores EASE and kNN with other history weightings (None = all
    items equal) for features; `als_factors` > 0 adds an implicit ALS source (no gain on
    MovieLens validation). `label_fraction` and `label_windows` set the labels (see the
    module docstring); `drop_features` leaves named features out (ablations, e.g.
    `TIME_FEATURES`). The boosters' parameters follow LightGBM's names; defaults come from
    validation runs on MovieLens latest-small, and benchmarks/ranker.py tunes pools and
    boosters further (its gains there were within seed noise). `num_threads` is used for
    large inputs only: on small ones a second thread cost more than it saved.
    """

    name = "ranker"
    needs_item_vectors = True
    #: Below every candidate (> 1) and every other item (in (0, 1)).
    lowest_prior = -1.0

    def __init__(
        self,
        pool_ease: int = 100,
        pool_knn: int = 50,
        pool_content: int = 50,
        pool_popularity: int = 20,
        pool_trending: int = 10,
        pool_als: int = 0,
        pool_fresh: int = 20,
        l2: float = 800.0,
        recency_half_life: float | None = 4.0,
        extra_half_lives: tuple[float | None, ...] = (None, 16.0),
        content_half_life: float | None = 4.0,
        knn_k: int = 100,
        knn_shrinkage: float = 20.0,
        als_factors: int = 0,
        trending_half_life_days: float = 30.0,
        label_fraction: float = 0.2,
        label_windows: int = 3,
        min_label_interactions: int = 5,
        n_boosters: int = 3,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        feature_fraction: float = 0.5,
        reg_lambda: float = 10.0,
        lambdarank_truncation_level: int = 40,
        drop_features: tuple[str, ...] = (),
        random_state: int = 42,
        num_threads: int = 2,
    ) -> None:
        self.pool_ease = pool_ease
        self.pool_knn = pool_knn
        self.pool_content = pool_content
        self.pool_popularity = pool_popularity
        self.pool_trending = pool_trending
        self.pool_als = pool_als
        self.pool_fresh = pool_fresh
        self.l2 = l2
        self.recency_half_life = recency_half_life
        self.extra_half_lives = extra_half_lives
        self.content_half_life = content_half_life
        self.knn_k = knn_k
        self.knn_shrinkage = knn_shrinkage
        self.als_factors = als_factors
        self.trending_half_life_days = trending_half_life_days
        self.label_fraction = label_fraction
        self.label_windows = label_windows
        self.min_label_interactions = min_label_interactions
        self.n_boosters = n_boosters
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.reg_lambda = reg_lambda
        self.lambdarank_truncation_level = lambdarank_truncation_level
        self.drop_features = drop_features
        self.random_state = random_state
        self.num_threads = num_threads

    # -- fitting -----------------------------------------------------------------------------
    def _check(self) -> None:
        pools = [getattr(self, f"pool_{s}") for s in ("ease", "knn", "content", "popularity")]
        pools += [self.pool_trending, self.pool_als, self.pool_fresh]
        if min(pools) < 0 or max(pools) == 0:
            raise InvalidInput("pool sizes must be >= 0, at least one positive", field="pool_ease")
        if not 0.0 < self.label_fraction < 1.0:
            raise InvalidInput("must be in (0, 1)", field="label_fraction")
        if self.label_windows < 1:
            raise InvalidInput("must be >= 1", field="label_windows")
        if self.n_boosters < 1:
            raise InvalidInput("must be >= 1", field="n_boosters")
        if self.min_label_interactions < 2:
            raise InvalidInput("must be >= 2", field="min_label_interactions")
        if self.n_estimators < 1:
            raise InvalidInput("must be >= 1", field="n_estimators")
        if not self.learning_rate > 0:
            raise InvalidInput("must be positive", field="learning_rate")
        if any(h is not None and not h > 0 for h in self.extra_half_lives):
            raise InvalidInput("must be positive or None", field="extra_half_lives")
        if self.als_factors < 0:
            raise InvalidInput("must be >= 0 (0 = no ALS source)", field="als_factors")
        if self.num_threads < 1:
            raise InvalidInput("must be >= 1", field="num_threads")

    def _stage_params(self) -> dict[str, Any]:
        return {
            "l2": self.l2,
            "recency_half_life": self.recency_half_life,
            "extra_half_lives": tuple(self.extra_half_lives),
            "content_half_life": self.content_half_life,
            "knn_k": self.knn_k,
            "knn_shrinkage": self.knn_shrinkage,
            "als_factors": self.als_factors,
            "trending_half_life_days": self.trending_half_life_days,
            "random_state": self.random_state,
            "num_threads": self.num_threads,
            "pool": {
                "ease": self.pool_ease,
                "knn": self.pool_knn,
                "content": self.pool_content,
                "popularity": self.pool_popularity,
                "trending": self.pool_trending,
                "als": self.pool_als,
                "fresh": self.pool_fresh,
            },
        }

    def booster_params(self) -> dict[str, Any]:
        """LightGBM parameters of the second stage."""
        return {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [10],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "feature_fraction_seed": self.random_state,
            "lambda_l2": self.reg_lambda,
            "lambdarank_truncation_level": self.lambdarank_truncation_level,
            "seed": self.random_state,
            "num_threads": self.num_threads,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }

    def fit(
        self,
        interactions: Interactions,
        item_vectors: ItemVectors | None = None,
        *,
        item_categories: Mapping[str, Sequence[str]] | None = None,
        published_at: Mapping[str, float] | None = None,
    ) -> Self:
        """Fit on `interactions`; `item_categories` (item id -> categories, e.g. genres) feed
        the category-affinity features, `published_at` (item id -> unix seconds) the fresh
        source. Both are optional."""
        check_interactions(interactions)
        if item_vectors is None:
            raise InvalidInput("LearnedRanker needs item vectors", field="item_vectors")
        self._check()
        # threads pay off only on large inputs: on a busy machine two threads on small
        # matrices ran 8x slower than one (OpenBLAS and OpenMP spin-wait for each other)
        threads = self.num_threads if len(interactions) >= _THREADED_MIN else 1
        with threadpool_limits(threads, "blas"):
            data = self._item_space(interactions, item_vectors, published_at)
            x, y, groups, names = self._training_data(
                data, item_vectors, item_categories, published_at
            )
            self.stage_ = self._fit_stage(data, item_vectors, item_categories, published_at)
            unknown = set(self.drop_features) - set(self.stage_.names_)
            if unknown:
                raise InvalidInput(f"unknown features {sorted(unknown)}", field="drop_features")
            names = list(self.stage_.names_)
            self.kept_ = np.array([n not in self.drop_features for n in names], bool)
            self.feature_names_ = [n for n, k in zip(names, self.kept_, strict=True) if k]
            if len(x):
                x = x[:, self.kept_]
            self.boosters_, self.score_floor_ = self._train_boosters(
                x, y, groups, self.feature_names_, threads
            )
            self.n_training_groups_ = len(groups)
        self.items_ = data.items
        self.history_ = user_histories(data, len(data.items), np.arange(len(data.items)))
        self.interactions_ = interactions
        return self

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        raise NotImplementedError  # pragma: no cover - `fit` is overridden

    def _fit_stage(
        self,
        data: Interactions,
        item_vectors: ItemVectors,
        item_categories: Mapping[str, Sequence[str]] | None,
        published_at: Mapping[str, float] | None,
    ) -> _Stage:
        """Sources and item statistics fitted on `data` (one per label window, one to serve)."""
        stage = _Stage(self._stage_params(), item_categories, published_at)
        return stage.fit(data, item_vectors)

    @staticmethod
    def _item_space(
        interactions: Interactions,
        item_vectors: ItemVectors,
        published_at: Mapping[str, float] | None,
    ) -> Interactions:
        """Interacted items, then items with a vector, then items with a date: every source
        scores this one space, so new items are reachable through content and freshness."""
        data = extended_items(interactions, item_vectors.ids.ids)
        return extended_items(data, list(published_at or ()))

    def _training_data(
        self,
        data: Interactions,
        item_vectors: ItemVectors,
        item_categories: Mapping[str, Sequence[str]] | None,
        published_at: Mapping[str, float] | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Training groups from `label_windows` windows going back in time: the first labels
        each user's last `label_fraction`, the next the same share of what is left, and so
        on; each window's sources see only what precedes its labels."""
        parts = []
        names: list[str] = []
        current = data
        for _ in range(self.label_windows):
            label = carve_labels(current, self.label_fraction, self.min_label_interactions)
            if not label.any() or label.all():
                break
            early = current.subset(~label)
            stage = self._fit_stage(early, item_vectors, item_categories, published_at)
            names = stage.names_
            parts.append(self._training_set(stage, early, current.subset(label)))
            current = early
        if not parts:
            return np.zeros((0, 0)), np.zeros(0), np.zeros(0, np.int64), names
        x, y, groups = (np.concatenate([p[i] for p in parts]) for i in range(3))
        return x, y, groups, names

    def _training_set(
        self, stage: _Stage, early: Interactions, labels: Interactions
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(features, 0/1 labels, group sizes) for users whose pool holds a label item."""
        n_items = len(early.items)
        lab = sp.csr_matrix(
            (np.ones(len(labels)), (labels.user_pos, labels.item_pos)), shape=labels.shape
        )
        lab.data[:] = 1.0
        hist_all = user_histories(early, n_items, np.arange(n_items))
        lab = sp.csr_matrix(lab - lab.multiply(hist_all > 0))  # already seen: not a label
        lab.eliminate_zeros()
        users = np.flatnonzero(np.diff(lab.indptr) > 0)
        if len(users) == 0:
            return np.zeros((0, len(stage.names_))), np.zeros(0), np.zeros(0, np.int64)
        ids = early.users.ids_at(users)
        rows, cols, x, _ = stage.features(ids, hist_all[users])
        y = np.asarray(lab[users[rows], cols]).ravel() > 0
        sizes = np.bincount(rows, minlength=len(users))
        positives = np.bincount(rows, weights=y, minlength=len(users))
        keep_group = (sizes > 0) & (positives > 0)
        keep = keep_group[rows]
        return x[keep], y[keep].astype(np.float64), sizes[keep_group]

    def _train_boosters(
        self,
        x: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        names: Sequence[str],
        threads: int,
    ) -> tuple[list[Any], float]:
        """(`n_boosters` boosters differing in seed, the lowest possible mean raw score), or
        ([], 0) without any training group. Averaging seeds steadies a ranker learned from
        a few thousand groups (validation NDCG@10 of single seeds spread by about 0.003)."""
        if len(groups) == 0:
            return [], 0.0
        import lightgbm

        data = lightgbm.Dataset(
            x, y, group=groups, feature_name=list(names), params={"verbosity": -1}
        )
        boosters = []
        for b in range(self.n_boosters):
            seed = self.random_state + b
            params = {
                **self.booster_params(),
                "num_threads": threads,
                "seed": seed,
                "feature_fraction_seed": seed,
            }
            boosters.append(lightgbm.train(params, data, num_boost_round=self.n_estimators))
        floor = float(np.mean([_lowest_output(b) for b in boosters]))
        return boosters, floor

    # -- scoring -----------------------------------------------------------------------------
    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        rows, cand, x, fallback = self.stage_.features(list(user_ids), hist)
        x = x[:, self.kept_]
        scores = fallback
        if len(rows):
            if not self.boosters_:  # nothing to learn from: candidates in EASE's order
                raw = fallback[rows, cand]
            else:
                threads = self.num_threads if len(x) >= _THREADED_MIN else 1
                raw = np.mean([b.predict(x, num_threads=threads) for b in self.boosters_], axis=0)
                raw -= self.score_floor_
            scores[rows, cand] = 1.0 + np.maximum(raw, 0.0)
        return scores if cols is None else scores[:, cols]


def _lowest_output(booster: Any) -> float:
    """Sum over trees of each tree's smallest leaf: no prediction can fall below it."""
    total = 0.0
    for tree in booster.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        low = np.inf
        while stack:
            node = stack.pop()
            if "leaf_value" in node:
                low = min(low, float(node["leaf_value"]))
            else:
                stack += [node["left_child"], node["right_child"]]
        total += low if np.isfinite(low) else 0.0
    return total

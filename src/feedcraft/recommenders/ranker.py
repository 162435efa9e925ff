"""A two-stage recommender: candidate sources, then a LightGBM LambdaRank model over features.

Stage one (`ranker_features.FeatureStage`) asks the sources of `candidates` (EASE, item-kNN,
content, popularity, trending, optionally ALS and fresh items) for a pool per user and merges
it without duplicates. Stage
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
item gets EASE's order squeezed into [0, 1), so it ranks below every candidate. Users with
no history get popularity (interaction counts), as from the hybrid: the boosters never saw
an empty history.

Measured in benchmarks/ranker.py (MovieLens latest-small, user-temporal split): see the
"Learned ranker" section of benchmarks/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.evaluation.splits import latest_share_mask
from feedcraft.recommenders._common import (
    MatrixRecommender,
    check_interactions,
    extended_items,
    user_histories,
)
from feedcraft.recommenders.candidates import CollaborativeSource
from feedcraft.recommenders.compiled_trees import Predict, compile_boosters
from feedcraft.recommenders.ranker_features import TIME_FEATURES, FeatureStage

__all__ = ["TIME_FEATURES", "LearnedRanker"]

#: Interactions (to fit) or candidate rows (to score) from which `num_threads` are used.
_THREADED_MIN = 20_000


class LearnedRanker(MatrixRecommender):
    """Candidate sources -> features -> LightGBM LambdaRank (see the module docstring).

    Pool sizes (`pool_*`, 0 = the source only gives features) set how many items each source
    proposes per user; the merged pool is what the boosters rank. `l2`, `recency_half_life`,
    `knn_k`, `knn_shrinkage` shape the collaborative sources as in `hybrid`;
    `extra_half_lives` re-scores EASE and kNN with other history weightings (None = all
    items equal) for features; `als_factors` > 0 adds an implicit ALS source (no gain on
    MovieLens validation). `label_fraction` and `label_windows` set the labels (see the
    module docstring); `drop_features` leaves named features out (ablations, e.g.
    `TIME_FEATURES`). `max_history` scores only each user's newest items (None = all; seen
    items and the history length still count all): a long history costs more to score
    (about 1 ms of a feed at 400-500 items). 100 left MovieLens validation NDCG@10 where it
    was (0.1765) but cost 0.006 on test and had no clear effect over HTTP
    (benchmarks/README.md), so it is off.
    The boosters' parameters follow LightGBM's names; defaults come from
    validation runs on MovieLens latest-small, and benchmarks/ranker.py tunes pools and
    boosters further (its gains there were within seed noise). `num_threads` is used for
    large inputs only: on small ones a second thread cost more than it saved. `progress`
    shows a bar over the fit's stages (minutes on a real catalogue).
    """

    name = "ranker"
    needs_item_vectors = True
    #: Below every candidate (> 1) and every other item (in [0, 1)).
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
        max_history: int | None = None,
        random_state: int = 42,
        num_threads: int = 2,
        progress: bool = False,
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
        self.max_history = max_history
        self.random_state = random_state
        self.num_threads = num_threads
        self.progress = progress

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
        if self.max_history is not None and self.max_history < 1:
            raise InvalidInput("must be >= 1 or None", field="max_history")

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
            "max_history": self.max_history,
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
        self.__dict__.pop("_compiled", None)  # compiled for the previous fit
        # threads pay off only on large inputs: on a busy machine two threads on small
        # matrices ran 8x slower than one (OpenBLAS and OpenMP spin-wait for each other)
        threads = self.num_threads if len(interactions) >= _THREADED_MIN else 1
        # minutes on a real catalogue: one step per label window, the serving stage, boosters
        bar = tqdm(
            total=self.label_windows + 2, desc="ranker", unit="stage", disable=not self.progress
        )
        with threadpool_limits(threads, "blas"), bar:
            data = self._item_space(interactions, item_vectors, published_at)
            x, y, groups, names = self._training_data(
                data, item_vectors, item_categories, published_at, bar
            )
            bar.update(self.label_windows - bar.n)  # windows left out (too little data)
            self.stage_ = self._fit_stage(data, item_vectors, item_categories, published_at)
            bar.update()
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
            bar.update()
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
    ) -> FeatureStage:
        """Sources and item statistics fitted on `data` (one per label window, one to serve)."""
        stage = FeatureStage(self._stage_params(), item_categories, published_at)
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
        bar: tqdm[Any] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Training groups from `label_windows` windows going back in time: the first labels
        each user's last `label_fraction`, the next the same share of what is left, and so
        on; each window's sources see only what precedes its labels."""
        parts = []
        names: list[str] = []
        current = data
        for _ in range(self.label_windows):
            label = latest_share_mask(current, self.label_fraction, self.min_label_interactions)
            if not label.any() or label.all():
                break
            early = current.subset(~label)
            stage = self._fit_stage(early, item_vectors, item_categories, published_at)
            names = stage.names_
            parts.append(self._training_set(stage, early, current.subset(label)))
            current = early
            if bar is not None:
                bar.update()
        if not parts:
            return np.zeros((0, 0)), np.zeros(0), np.zeros(0, np.int64), names
        x, y, groups = (np.concatenate([p[i] for p in parts]) for i in range(3))
        return x, y, groups, names

    def _training_set(
        self, stage: FeatureStage, early: Interactions, labels: Interactions
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

    def explain(self, history: Sequence[str], item_ids: Sequence[str]) -> dict[str, str]:
        """The collaborative link behind each item, where there is one: the history item
        with the largest EASE weight to it, else its nearest kNN neighbour in the history
        (the two sources that propose most candidates and carry most of the ranker's
        gain); items only popularity, trending or content proposed get none here."""
        self._check_fitted()
        out: dict[str, str] = {}
        for name in ("ease", "knn"):
            source = self.stage_.sources_.get(name)
            rest = [i for i in item_ids if i not in out]
            if isinstance(source, CollaborativeSource) and rest:
                out.update(source.model_.explain(history, rest))
        return out

    # -- serving -----------------------------------------------------------------------------
    def prepare_serving(self, cache_dir: Path | None = None) -> None:
        """Compile the boosters to native code (see `compiled_trees`; kept in `cache_dir`
        for the next process): about 10x faster on a feed's few hundred candidates. Until
        this returns, LightGBM's predictor serves. The collaborative sources prepare theirs
        (EASE's weights by column, for explanations)."""
        self._check_fitted()
        for source in self.stage_.sources_.values():
            if isinstance(source, CollaborativeSource):
                source.model_.prepare_serving()
        if not self.boosters_ or getattr(self, "_compiled", None) is not None:
            return
        rng = np.random.default_rng(self.random_state)
        probe = rng.normal(0.0, 3.0, (64, len(self.feature_names_)))
        probe[rng.random(probe.shape) < 0.2] = np.nan
        probe[0] = np.nan
        probe[1] = 0.0
        self._compiled: list[Predict] | None = compile_boosters(self.boosters_, probe, cache_dir)

    def __getstate__(self) -> dict[str, Any]:
        """Compiled code is machine code in this process's memory: never pickled."""
        state = dict(self.__dict__)
        state.pop("_compiled", None)
        return state

    def _raw_scores(self, x: np.ndarray) -> np.ndarray:
        """Mean booster output over feature rows, compiled when ready."""
        compiled = getattr(self, "_compiled", None)
        if compiled is not None:
            return np.mean([predict(x) for predict in compiled], axis=0)
        threads = self.num_threads if len(x) >= _THREADED_MIN else 1
        return np.mean([b.predict(x, num_threads=threads) for b in self.boosters_], axis=0)

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
                raw = self._raw_scores(x) - self.score_floor_
            scores[rows, cand] = 1.0 + np.maximum(raw, 0.0)
        cold = np.diff(hist.indptr) == 0
        if cold.any():  # no training group has an empty history: popularity, as the hybrid
            counts = np.expm1(self.stage_.log_pop_)
            scores[cold] = counts / (counts.max() + 1.0)
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

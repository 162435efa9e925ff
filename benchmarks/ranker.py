"""The learned ranker against the hybrid default and EASE, on MovieLens latest-small.

Protocol: the one of `peers.py` (issue 3): every rating is an interaction;
`user_temporal_split(0.2, min 5)`; candidates = every catalogue item not in the user's
training data (9,742 movies); top-10, NDCG@10 with binary relevance; each model tuned on a
validation split carved from the training part the same way, then refitted on the whole
training part and measured on test; paired bootstrap over users.

Models, in one run:
- `ranker`: candidate sources (EASE, item-kNN, MiniLM content, popularity, trending) ->
  features -> LightGBM LambdaRank, with MovieLens genres as item categories. Tuned on
  validation in two steps: the candidate / label configuration (pool sizes, label windows),
  then the booster's parameters on the best one;
- `hybrid`: the default model as shipped (its defaults were tuned on this validation split
  by `peers.py`);
- `ease`: the best peer of `peers.py`, its l2 tuned on validation;
- `ranker, no time features`: the tuned ranker without the features that place users and
  items in time (`ranker.TIME_FEATURES`), an ablation: under this protocol other users'
  later ratings are in the training data, so those features can tell which movies existed,
  and were popular, when a user was active.

Also reported: the candidate recall of the ranker's pool on test (the share of test items
inside each source's proposals and inside the merged pool), which caps what re-ranking can
reach.

While tuning, configurations that share sources and labels reuse the fitted sources and the
training groups (`CachedRanker`); the test numbers come from a plain `LearnedRanker` fit.

    .venv/bin/python benchmarks/ranker.py [--out benchmarks/results/ranker.json]
        [--vectors-cache /tmp/feedcraft-movielens-minilm.npy] [--quick]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from feedcraft.domain import Interactions, ItemVectors, Recommendations
from feedcraft.evaluation import format_table, paired_bootstrap
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.candidates import merge
from feedcraft.recommenders.ranker import TIME_FEATURES, LearnedRanker
from feedcraft.recommenders.ranker_features import FeatureStage
from peers import (
    METRICS,
    N_BOOT,
    PROTOCOL,
    SEED,
    FeedcraftRunner,
    Runner,
    Split,
    cpu_note,
    evaluate,
    load_movielens,
    log,
    parse_args,
    write_results,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "ranker.json"

Genres = Mapping[str, Sequence[str]]


def genres_of(movies: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    return {m: [x for x in g.split("|") if x != "(no genres listed)"] for m, _, g in movies}


class RankerRunner(Runner):
    """A ranker fitted with MovieLens genres as its item categories."""

    def __init__(self, model: LearnedRanker, genres: Genres) -> None:
        self.model = model
        self.genres = genres

    def fit(self, train: Interactions, vectors: ItemVectors) -> None:
        self.model.fit(train, vectors, item_categories=self.genres)

    def recommend(self, users: Sequence[str], k: int) -> list[Recommendations]:
        return self.model.recommend(users, k)


def _fingerprint(data: Interactions) -> tuple[int, int, float]:
    return (len(data), len(data.items), float(data.timestamps.sum()))


class CachedRanker(LearnedRanker):
    """For tuning only: training groups are built once per (sources, labels, data) and the
    serving sources once per (sources, data), then shared by every booster setting."""

    training: ClassVar[dict[Any, Any]] = {}
    serving: ClassVar[dict[Any, FeatureStage]] = {}

    def _source_key(self) -> str:
        return repr(self._stage_params())

    def _training_data(
        self,
        data: Interactions,
        item_vectors: ItemVectors,
        item_categories: Genres | None,
        published_at: Mapping[str, float] | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        key = (
            self._source_key(),
            self.label_fraction,
            self.label_windows,
            self.min_label_interactions,
            _fingerprint(data),
        )
        if key not in self.training:
            self.training[key] = super()._training_data(
                data, item_vectors, item_categories, published_at
            )
        return self.training[key]  # type: ignore[no-any-return]

    def _fit_stage(
        self,
        data: Interactions,
        item_vectors: ItemVectors,
        item_categories: Genres | None,
        published_at: Mapping[str, float] | None,
    ) -> FeatureStage:
        key = (self._source_key(), _fingerprint(data))
        if key not in self.serving:
            self.serving.clear()  # one fitted EASE at a time is enough memory
            self.serving[key] = super()._fit_stage(
                data, item_vectors, item_categories, published_at
            )
        return self.serving[key]


def tune_ranker(
    val: Split, vectors: ItemVectors, genres: Genres, quick: bool
) -> tuple[dict[str, Any], float, list[dict[str, Any]]]:
    """Best validation NDCG@10: candidate / label configurations with default boosters, then
    booster settings on the best one. Returns (params, val NDCG@10, every row tried)."""
    sources: list[dict[str, Any]] = [{}]
    if not quick:
        sources += [
            {"pool_ease": 200, "pool_knn": 100, "pool_content": 100},
            {"pool_ease": 50, "pool_knn": 30, "pool_content": 30},
            {"label_windows": 2},
            {"label_windows": 4},
        ]
    boosters: list[dict[str, Any]] = [{}]
    if not quick:
        boosters += [
            {"n_estimators": 100},
            {"n_estimators": 400, "learning_rate": 0.025},
            {"num_leaves": 7, "n_estimators": 400},
            {"num_leaves": 31, "min_child_samples": 100},
            {"lambdarank_truncation_level": 20},
            {"reg_lambda": 0.0},
        ]
    rows: list[dict[str, Any]] = []

    def score(params: dict[str, Any]) -> float:
        start = time.perf_counter()
        metrics, _ = evaluate(RankerRunner(CachedRanker(**params), genres), val, vectors)
        rows.append({**params, "val_ndcg@10": metrics["ndcg@10"]})
        log(
            f"  ranker {params}: val NDCG@10 {metrics['ndcg@10']:.4f} "
            f"({time.perf_counter() - start:.0f} s)"
        )
        return metrics["ndcg@10"]

    best_s, best = max(((score(p), p) for p in sources), key=lambda t: t[0])
    for b in boosters[1:]:
        params = {**best, **b}
        s = score(params)
        if s > best_s:
            best_s, best = s, params
    CachedRanker.training.clear()
    CachedRanker.serving.clear()
    return best, best_s, rows


def tune_ease(val: Split, vectors: ItemVectors, quick: bool) -> tuple[float, float]:
    best = (float("-inf"), 0.0)
    for l2 in (400.0,) if quick else (100.0, 200.0, 400.0, 800.0, 1600.0):
        metrics, _ = evaluate(
            FeedcraftRunner(make_recommender("ease", l2=l2, top_k=None)), val, vectors
        )
        log(f"  ease l2={l2}: val NDCG@10 {metrics['ndcg@10']:.4f}")
        best = max(best, (metrics["ndcg@10"], l2))
    return best[1], best[0]


def candidate_recall(model: LearnedRanker, split: Split) -> dict[str, dict[str, float]]:
    """Share of test items inside each pooled source's proposals and the merged pool, and the
    mean pool size per user (what the booster re-ranks)."""
    users = split.users
    stage = model.stage_
    pools = {name: k for name, k in stage.pools_.items() if k > 0}
    lists = {name: stage.sources_[name].generate(users, k) for name, k in pools.items()}
    n_test = sum(len(split.test[u]) for u in users)
    out: dict[str, dict[str, float]] = {}
    for name, recs in lists.items():
        hits = sum(len(split.test[r.user_id] & set(r.item_ids)) for r in recs)
        size = float(np.mean([len(r) for r in recs]))
        out[name] = {"pool": pools[name], "mean_size": size, "recall": hits / n_test}
    merged = merge(lists)
    hits = sum(len(split.test[c.user_id] & set(c.item_ids)) for c in merged)
    out["merged"] = {
        "pool": float(sum(pools.values())),
        "mean_size": float(np.mean([len(c) for c in merged])),
        "recall": hits / n_test,
    }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv, __doc__, DEFAULT_OUT)
    started = time.perf_counter()
    ml = load_movielens(args.data, args.vectors_cache)
    if ml is None:
        return 0
    vectors, full, val = ml.vectors, ml.full, ml.val
    genres = genres_of(ml.movies)

    log("tuning EASE on validation")
    ease_l2, ease_val = tune_ease(val, vectors, args.quick)
    log("tuning the ranker on validation")
    ranker_params, ranker_val, ranker_rows = tune_ranker(val, vectors, genres, args.quick)
    hybrid = make_recommender("hybrid")
    hybrid_val, _ = evaluate(FeedcraftRunner(hybrid), val, vectors)
    log(f"  hybrid (defaults): val NDCG@10 {hybrid_val['ndcg@10']:.4f}")

    log("refitting on the full training part; measuring on test")
    ranker = LearnedRanker(**ranker_params)
    no_time = {**ranker_params, "drop_features": TIME_FEATURES}
    runs: dict[str, Runner] = {
        "ranker": RankerRunner(ranker, genres),
        "ranker, no time features": RankerRunner(LearnedRanker(**no_time), genres),
        "hybrid (default)": FeedcraftRunner(make_recommender("hybrid")),
        "ease": FeedcraftRunner(make_recommender("ease", l2=ease_l2, top_k=None)),
    }
    val_ndcg = {
        "ranker": ranker_val,
        "ranker, no time features": float("nan"),
        "hybrid (default)": hybrid_val["ndcg@10"],
        "ease": ease_val,
    }
    rows: dict[str, dict[str, float]] = {}
    ndcg: dict[str, np.ndarray] = {}
    for name, runner in runs.items():
        rows[name], ndcg[name] = evaluate(runner, full, vectors)
        rows[name]["val_ndcg@10"] = val_ndcg[name]
        log(f"  {name}: test NDCG@10 {rows[name]['ndcg@10']:.4f}")
    recall = candidate_recall(ranker, full)

    comparisons = {}
    pairs = [
        ("ranker", "hybrid (default)"),
        ("ranker", "ease"),
        ("ranker, no time features", "hybrid (default)"),
        ("ranker", "ranker, no time features"),
    ]
    for a, b in pairs:
        diff, lo, hi = paired_bootstrap(ndcg[a], ndcg[b], N_BOOT, seed=SEED)
        comparisons[f"{a} - {b}"] = {
            "d_ndcg": diff,
            "ci95_lo": lo,
            "ci95_hi": hi,
            "ratio": rows[a]["ndcg@10"] / rows[b]["ndcg@10"],
        }
    for metrics in rows.values():
        metrics["x_ease"] = metrics["ndcg@10"] / rows["ease"]["ndcg@10"]

    columns = [*METRICS, "train_s", "ms_per_user", "val_ndcg@10", "x_ease"]
    print("# learned ranker vs hybrid and EASE: MovieLens latest-small, user-temporal, top-10\n")
    print(f"{len(full.users)} test users, {len(ml.catalogue)} items; {ml.sizes()}")
    print(cpu_note())
    print(format_table(rows, columns, digits=4))
    print(f"\npaired bootstrap of per-user NDCG@10 ({N_BOOT} resamples, seed {SEED}):")
    print(format_table(comparisons, ["d_ndcg", "ci95_lo", "ci95_hi", "ratio"], digits=4))
    print("\ncandidate recall on test (share of test items inside the pool):")
    print(format_table(recall, ["pool", "mean_size", "recall"], digits=4))
    print(f"\ntuned ranker: {ranker_params} (val NDCG@10 {ranker_val:.4f}); ease l2={ease_l2}")
    print(
        f"ranker: {ranker.n_training_groups_} training groups, {len(ranker.feature_names_)} "
        "features"
    )

    importance = dict(
        zip(
            ranker.feature_names_,
            np.sum([b.feature_importance("gain") for b in ranker.boosters_], axis=0).tolist(),
            strict=True,
        )
    )
    out = {
        "protocol": f"{PROTOCOL} (the hybrid: its shipped defaults, tuned so by peers.py)",
        "users": len(full.users),
        "items": len(ml.catalogue),
        "train_interactions": len(full.train),
        "embed_s": ml.embed_s,
        "models": rows,
        "bootstrap": {"n_boot": N_BOOT, "seed": SEED, "metric": "ndcg@10", **comparisons},
        "candidate_recall": recall,
        "ranker": {
            "params": ranker_params,
            "val_ndcg": ranker_val,
            "grid": ranker_rows,
            "training_groups": ranker.n_training_groups_,
            "features": ranker.feature_names_,
            "gain_importance": importance,
        },
        "ease": {"l2": ease_l2, "val_ndcg": ease_val},
    }
    write_results(out, args.out, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())

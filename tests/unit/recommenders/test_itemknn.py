"""Item-kNN: similarity values, neighbour truncation, sparsity, fallbacks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from feedcraft.domain import Interactions
from feedcraft.errors import InvalidInput
from feedcraft.recommenders import ItemKNNRecommender
from feedcraft.recommenders.itemknn import item_similarities


def dense_cosine(x: sp.csr_matrix, shrinkage: float) -> np.ndarray:
    d = x.toarray().astype(np.float64)
    c = d.T @ d
    n = np.sqrt(np.diag(c))
    s = c / (np.outer(n, n) + shrinkage + 1e-12)
    np.fill_diagonal(s, 0.0)
    return s


@pytest.mark.parametrize("k", [1, 5, 50])
def test_neighbours_truncated_to_k(ml_small: Interactions, k: int) -> None:
    x = ml_small.matrix(binary=True)
    w = item_similarities(x, k, shrinkage=5.0)
    assert sp.issparse(w)
    per_target = np.diff(sp.csc_matrix(w).indptr)
    assert per_target.max() <= k
    full = dense_cosine(x, 5.0)
    # each kept column holds exactly the k largest similarities of that item (as values)
    wd = w.toarray()
    for j in range(0, x.shape[1], 97):
        expected = np.sort(full[:, j])[::-1][:k]
        expected = expected[expected > 0]
        np.testing.assert_allclose(np.sort(wd[:, j])[::-1][: len(expected)], expected, rtol=1e-5)
        assert np.count_nonzero(wd[:, j]) == len(expected)


def test_truncation_ties_are_deterministic() -> None:
    # item 0 co-occurs once with each of items 1..4 (equal similarities); k=2 keeps 1 and 2
    x = sp.csr_matrix(
        np.array([[1, 1, 0, 0, 0], [1, 0, 1, 0, 0], [1, 0, 0, 1, 0], [1, 0, 0, 0, 1]])
    )
    w = item_similarities(x, 2)
    assert set(np.flatnonzero(w.toarray()[:, 0])) == {1, 2}


def test_model_keeps_sparse_similarities(ml_small: Interactions) -> None:
    model = ItemKNNRecommender(k=20).fit(ml_small)
    n = len(ml_small.items)
    assert sp.issparse(model.similarity_)
    assert model.similarity_.nnz <= 20 * n


def test_jaccard(ml_small: Interactions) -> None:
    x = ml_small.matrix(binary=True)
    w = item_similarities(x, 1000, similarity="jaccard").toarray()
    d = x.toarray().astype(np.float64)
    c = d.T @ d
    n = np.diag(c)
    expected = c / (n[:, None] + n[None, :] - c + 1e-12)
    np.fill_diagonal(expected, 0.0)
    j = 10
    np.testing.assert_allclose(np.sort(w[:, j])[::-1][:20], np.sort(expected[:, j])[::-1][:20])
    with pytest.raises(InvalidInput, match="similarity"):
        item_similarities(x, 10, similarity="pearson")


def test_user_score_is_sum_of_similarities(ml_small: Interactions) -> None:
    model = ItemKNNRecommender(k=50, recency_half_life=None).fit(ml_small)
    history = list(ml_small.items.ids[:5])
    candidates = list(ml_small.items.ids[100:200])
    w = model.similarity_.toarray()
    expected = w[:5, 100:200].sum(axis=0)
    got = model.score("stranger", candidates, history=history)
    np.testing.assert_allclose(got, expected, atol=1e-5)  # plus a tiny popularity tie-break


def test_recency_weights_recent_items_more(ml_small: Interactions) -> None:
    model = ItemKNNRecommender(k=50, recency_half_life=1.0).fit(ml_small)
    w = model.similarity_.toarray()
    got = model.score("s", list(ml_small.items.ids[100:200]), history=list(ml_small.items.ids[:2]))
    np.testing.assert_allclose(got, 0.5 * w[0, 100:200] + w[1, 100:200], atol=1e-5)


def test_cold_user_gets_popularity(ml_small: Interactions) -> None:
    model = ItemKNNRecommender().fit(ml_small)
    counts = np.bincount(ml_small.item_pos, minlength=len(ml_small.items))
    (rec,) = model.recommend(["nobody"], 10)
    assert list(counts[ml_small.items.positions(list(rec.item_ids))]) == sorted(counts)[::-1][:10]


def test_validates_parameters(ml_small: Interactions) -> None:
    with pytest.raises(InvalidInput, match="'k'"):
        ItemKNNRecommender(k=0).fit(ml_small)
    with pytest.raises(InvalidInput, match="shrinkage"):
        ItemKNNRecommender(shrinkage=-1.0).fit(ml_small)


def test_single_item_catalogue() -> None:
    data = Interactions.from_triples(["a", "b"], ["x", "x"])
    model = ItemKNNRecommender().fit(data)
    assert model.recommend(["c"], 5)[0].item_ids == ("x",)
    assert model.recommend(["a"], 5)[0].item_ids == ()

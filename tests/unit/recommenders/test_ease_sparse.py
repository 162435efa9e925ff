"""Sparse EASE: top-k weights per column, on the bundled MovieLens sample (never skips)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders.ease import (
    DEFAULT_TOP_K,
    EASERecommender,
    SparseWeights,
    top_k_weights,
)
from feedcraft.recommenders.hybrid import HybridRecommender
from feedcraft.storage import model_pickle

N = 10


@pytest.fixture(scope="module")
def dense(ratings: Interactions) -> EASERecommender:
    return EASERecommender(l2=50.0, top_k=None).fit(ratings)


def rankings(model: object, users: list[str], n: int = N) -> list[tuple[str, ...]]:
    return [r.item_ids for r in model.recommend(users, n)]  # type: ignore[attr-defined]


def test_default_is_sparse(ratings: Interactions) -> None:
    model = EASERecommender(l2=50.0).fit(ratings)
    assert DEFAULT_TOP_K is not None
    assert isinstance(model.weights_, SparseWeights)
    assert model.weights_.dtype == np.float32
    assert model.weights_.nnz <= DEFAULT_TOP_K * len(model.active_)


def test_k_at_least_the_items_equals_dense(ratings: Interactions, dense: EASERecommender) -> None:
    n = len(dense.active_)
    users = list(ratings.users.ids)
    for k in (n, n + 7):
        sparse = EASERecommender(l2=50.0, top_k=k).fit(ratings)
        assert sp.issparse(sparse.weights_)
        np.testing.assert_array_equal(sparse.weights_.toarray(), dense.weights_)
        assert sparse.lowest_prior == dense.lowest_prior
        got, want = sparse.recommend(users, N), dense.recommend(users, N)
        assert [r.item_ids for r in got] == [r.item_ids for r in want]
        np.testing.assert_allclose(
            np.vstack([r.scores for r in got]), np.vstack([r.scores for r in want]), rtol=1e-6
        )


@pytest.mark.parametrize("k", [1, 5, 40])
def test_top_k_keeps_exactly_k_per_column(dense: EASERecommender, k: int) -> None:
    b = np.asarray(dense.weights_)
    kept = top_k_weights(b, k)
    assert kept.shape == b.shape
    dense_kept = kept.toarray()
    mask = dense_kept != 0
    per_column = mask.sum(axis=0)
    # every column of this sample has more than k nonzero weights, so exactly k stay
    assert ((b != 0).sum(axis=0) > k).all()
    np.testing.assert_array_equal(per_column, np.full(b.shape[1], k))
    # the kept ones are the dense values, and none dropped is larger in magnitude
    np.testing.assert_array_equal(dense_kept[mask], b[mask])
    magnitude = np.abs(b)
    smallest_kept = np.where(mask, magnitude, np.inf).min(axis=0)
    largest_dropped = np.where(mask, -np.inf, magnitude).max(axis=0)
    assert (smallest_kept >= largest_dropped).all()


def test_top_k_per_row(dense: EASERecommender) -> None:
    b = np.asarray(dense.weights_)
    kept = top_k_weights(b, 12, axis=1)
    np.testing.assert_array_equal(np.diff(kept.indptr), np.full(b.shape[0], 12))
    np.testing.assert_array_equal(kept.T.toarray(), top_k_weights(b.T, 12).toarray())


def test_top_k_never_keeps_zeros() -> None:
    b = np.array([[0.0, 2.0, 0.0], [-3.0, 0.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    kept = top_k_weights(b, 2).toarray()
    np.testing.assert_array_equal(kept, b)  # column 2 has no nonzero weight to keep
    np.testing.assert_array_equal(top_k_weights(b, 1).toarray()[:, 0], [0.0, -3.0, 0.0])


def test_sparse_scoring_ranks_as_dense_arithmetic(
    ratings: Interactions, dense: EASERecommender
) -> None:
    """The sparse product (history @ sparse B) ranks every item as the dense product with
    the same (densified) weights does."""
    sparse = EASERecommender(l2=50.0, top_k=30).fit(ratings)
    as_dense = copy.copy(sparse)
    as_dense.weights_ = sparse.weights_.toarray()
    users = list(ratings.users.ids)
    n_items = len(ratings.items)
    assert rankings(sparse, users, n_items) == rankings(as_dense, users, n_items)


def test_pair_lookup_returns_arrays(dense: EASERecommender) -> None:
    """`weights_[rows, cols]` (the ranker's features read it so) is a 1-D array, empty too."""
    kept = top_k_weights(np.asarray(dense.weights_), 20)
    rows, cols = np.array([0, 3, 5, 5]), np.array([1, 2, 5, 9])
    got = kept[rows, cols]
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, kept.toarray()[rows, cols])
    empty = kept[np.zeros(0, np.int64), np.zeros(0, np.int64)]
    assert isinstance(empty, np.ndarray)
    assert empty.shape == (0,)


def test_explain_with_sparse_weights(ratings: Interactions, dense: EASERecommender) -> None:
    user = ratings.users.id_at(1)
    history = list(ratings.items.ids_at(dense.history_[1].indices))
    (rec,) = dense.recommend([user], N)
    n = len(dense.active_)
    full = EASERecommender(l2=50.0, top_k=n).fit(ratings)
    assert full.explain(history, rec.item_ids) == dense.explain(history, rec.item_ids)
    sparse = EASERecommender(l2=50.0, top_k=20).fit(ratings)
    (rec,) = sparse.recommend([user], N)
    reasons = sparse.explain(history, rec.item_ids)
    assert set(reasons) == set(rec.item_ids)
    assert set(reasons.values()) <= set(history)


@pytest.mark.parametrize("top_k", [0, -3, 2.5, True, "100"])
def test_bad_top_k(ratings: Interactions, vectors: ItemVectors, top_k: object) -> None:
    with pytest.raises(InvalidInput, match="top_k"):
        EASERecommender(top_k=top_k).fit(ratings)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="ease_top_k"):
        HybridRecommender(ease_top_k=top_k).fit(ratings, vectors)  # type: ignore[arg-type]


def test_hybrid_k_at_least_the_items_equals_dense(
    ratings: Interactions, vectors: ItemVectors
) -> None:
    users = list(ratings.users.ids)
    dense = HybridRecommender(l2=50.0, ease_top_k=None).fit(ratings, vectors)
    sparse = HybridRecommender(l2=50.0, ease_top_k=len(dense.active_)).fit(ratings, vectors)
    np.testing.assert_array_equal(sparse.ease_.toarray(), dense.ease_)
    assert rankings(sparse, users) == rankings(dense, users)
    user = ratings.users.id_at(0)
    history = list(ratings.items.ids_at(dense.history_[0].indices))
    (rec,) = dense.recommend([user], N)
    assert sparse.explain(history, rec.item_ids) == dense.explain(history, rec.item_ids)


def test_hybrid_sparse_explains_and_pickles_small(
    ratings: Interactions, vectors: ItemVectors
) -> None:
    """The default hybrid keeps sparse EASE weights, explains every item it shows, and its
    pickle leaves out the float64 vector copy (rebuilt on load) and the dense matrix."""
    users = list(ratings.users.ids)[:5]
    model = HybridRecommender(l2=50.0).fit(ratings, vectors)
    assert isinstance(model.ease_, SparseWeights)
    assert DEFAULT_TOP_K is not None
    assert model.ease_.nnz <= DEFAULT_TOP_K * len(model.active_)
    dense = HybridRecommender(l2=50.0, ease_top_k=None).fit(ratings, vectors)
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(blob) < len(pickle.dumps(dense, protocol=pickle.HIGHEST_PROTOCOL))
    assert len(blob) < len(pickle.dumps(dict(model.__dict__)))  # vectors64_ left out
    loaded = model_pickle.loads(blob)
    np.testing.assert_array_equal(loaded.vectors64_, model.vectors64_)
    assert rankings(loaded, users) == rankings(model, users)
    history = list(ratings.items.ids_at(model.history_[0].indices))
    (rec,) = model.recommend([ratings.users.id_at(0)], N)
    reasons = model.explain(history, rec.item_ids)
    assert set(reasons) == set(rec.item_ids)
    assert set(reasons.values()) <= set(history)

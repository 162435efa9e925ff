"""History-row helpers the scoring paths share: column moves and sparse products."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from feedcraft.recommenders._common import (
    inverse_positions,
    pair_values,
    recency_rows,
    select_columns,
    sparse_product_rows,
    top_k_mask,
)
from feedcraft.recommenders.candidates import category_shares
from feedcraft.recommenders.hybrid import normalise_rows, normalised_at
from feedcraft.recommenders.ranker_features import _ranks, ranks_at


def _history(rows: int, cols: int, seed: int) -> sp.csr_matrix:
    h = sp.random(rows, cols, density=0.08, format="csr", random_state=seed)
    h.data = np.random.default_rng(seed).random(h.nnz)
    return h


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_product_is_scipys_product_on_both_paths(dtype: type) -> None:
    """The request path (few rows, gathered) and the batch path (scipy) add the same products
    in the same order and precision: bit-identical, so a user's scores never depend on the
    batch, and a float32 B sums as scipy (and a dense float32 B) does."""
    b = sp.random(300, 250, density=0.05, format="csr", random_state=1).astype(dtype)
    h = _history(40, 300, 2)
    want = (h.astype(dtype) @ b).toarray().astype(np.float64)
    np.testing.assert_array_equal(sparse_product_rows(h, b, few=100), want)
    np.testing.assert_array_equal(sparse_product_rows(h, b, few=0), want)
    for u in range(0, 40, 7):  # one row alone equals its row in the batch
        np.testing.assert_array_equal(sparse_product_rows(h[u], b)[0], want[u])


def test_product_of_empty_rows_is_zero() -> None:
    b = sp.random(30, 20, density=0.2, format="csr", random_state=3)
    out = sparse_product_rows(sp.csr_matrix((2, 30)), b)
    assert out.shape == (2, 20) and not out.any()


def test_select_columns_moves_and_drops() -> None:
    h = _history(12, 50, 4)
    keep = np.array([40, 3, 17, 8, 29])  # arbitrary order, like a model's active items
    out = select_columns(h, inverse_positions(keep, 50), len(keep))
    np.testing.assert_array_equal(out.toarray(), h.toarray()[:, keep])
    assert out.has_sorted_indices


def test_ranks_are_competition_ranks() -> None:
    """Tied entries share the best rank: a rank never depends on the item's column."""
    s = np.array([[0.5, 2.0, 0.5, -np.inf, 2.0, 1.0], [3.0, 3.0, 3.0, 1.0, -np.inf, 0.0]])
    want = np.array([[4, 1, 4, 6, 1, 3], [1, 1, 1, 4, 6, 5]])
    np.testing.assert_array_equal(_ranks(s), want)
    r, c = np.nonzero(np.ones(s.shape, bool))
    np.testing.assert_array_equal(ranks_at(s, r, c), want[r, c])


def test_normalised_at_equals_full_rows() -> None:
    rng = np.random.default_rng(5)
    s = rng.standard_normal((4, 300))
    s[rng.random(s.shape) < 0.2] = -np.inf
    s[3, 5:] = -np.inf  # fewer finite entries than `top`
    r, c = np.nonzero(rng.random(s.shape) < 0.1)
    full = normalise_rows(s, np.isfinite(s), 50)
    np.testing.assert_array_equal(normalised_at(s, 50, r, c), full[r, c])


def _tied_scores(seed: int) -> np.ndarray:
    """Rows with many ties (rounded), -inf entries and one row with nothing finite."""
    rng = np.random.default_rng(seed)
    s = np.round(rng.standard_normal((5, 400)), 1)
    s[rng.random(s.shape) < 0.3] = -np.inf
    s[4] = -np.inf
    s[3, 10:] = -np.inf  # fewer finite entries than most cuts
    return s


def test_one_sort_serves_every_cut_exactly() -> None:
    """A request sorts each score row once and reads the pool cut, ranks and normalisation
    bounds from it: the same numbers as the partitions and per-row sorts it replaces."""
    s = _tied_scores(6)
    ordered = np.sort(s, axis=1)
    for k in (1, 7, 50, 399, 400, 500):
        np.testing.assert_array_equal(
            top_k_mask(s, k, floor=-np.inf, sorted_rows=ordered), top_k_mask(s, k, floor=-np.inf)
        )
    r, c = np.nonzero(np.random.default_rng(7).random(s.shape) < 0.2)
    np.testing.assert_array_equal(ranks_at(s, r, c, ordered), _ranks(s)[r, c])
    for top in (1, 50, 1000):
        np.testing.assert_array_equal(
            normalised_at(s, top, r, c, ordered), normalised_at(s, top, r, c)
        )
    assert not np.shares_memory(ordered, s)
    np.testing.assert_array_equal(ordered, np.sort(s, axis=1))  # the sort is left untouched


@pytest.mark.parametrize("rows", [1, 3, 40])
def test_pair_values_are_scipys_lookup(rows: int) -> None:
    """One row spread dense (a request) or scipy's pair lookup (many rows): the stored
    value, or zero, in the matrix's dtype."""
    m = sp.random(60, 80, density=0.1, format="csr", random_state=8, dtype=np.float32)
    rng = np.random.default_rng(9)
    r = rng.integers(0, rows, 200) * (60 // rows)
    c = rng.integers(0, 80, 200)
    got = pair_values(m, r, c)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, m.toarray()[r, c])
    assert pair_values(m, r[:0], c[:0]).shape == (0,)


def test_pair_values_sums_duplicate_entries_as_scipy_does() -> None:
    m = sp.csr_matrix((np.array([1.0, 2.0, 4.0]), np.array([3, 3, 1]), np.array([0, 2, 3])), (2, 5))
    assert not m.has_canonical_format
    np.testing.assert_array_equal(
        pair_values(m, np.array([0, 1, 0]), np.array([3, 1, 0])), [3, 4, 0]
    )


def test_category_shares_count_distinct_history_items() -> None:
    """Each user's share of history items per category: what the sparse product gives."""
    cats = sp.random(300, 12, density=0.15, format="csr", random_state=10)
    cats.data[:] = 1.0
    h = _history(9, 300, 11)
    h = sp.csr_matrix(h[[0, 1, 2, 3, 4, 5, 6, 7]].toarray())  # one more empty row below
    h = sp.vstack([h, sp.csr_matrix((1, 300))], format="csr")
    binary = h.copy()
    binary.data[:] = 1.0
    n = np.maximum(np.diff(h.indptr), 1)[:, None]
    np.testing.assert_array_equal(category_shares(h, cats), (binary @ cats).toarray() / n)
    assert not category_shares(h, cats)[-1].any()


def test_weight_block_matches_dense_indexing() -> None:
    """Row gathering, and the by-column copy an explanation reads once it is built; the copy
    never goes into a pickle."""
    import pickle

    from feedcraft.recommenders.ease import top_k_weights, weight_block

    dense = np.random.default_rng(6).standard_normal((60, 60)).astype(np.float32)
    b = top_k_weights(dense, 10)
    full = b.toarray().astype(np.float64)
    rows, cols = np.array([5, 1, 40, 3]), np.array([7, 59, 0, 33, 7])
    np.testing.assert_array_equal(weight_block(b, rows, cols), full[np.ix_(rows, cols)])
    b.by_columns()
    assert b.columns_if_built() is not None
    np.testing.assert_array_equal(weight_block(b, rows, cols), full[np.ix_(rows, cols)])
    repeated = np.array([5, 5, 2])
    np.testing.assert_array_equal(weight_block(b, repeated, cols), full[np.ix_(repeated, cols)])
    assert pickle.loads(pickle.dumps(b)).columns_if_built() is None


def test_half_life_copies_stack_like_vstack() -> None:
    from feedcraft.recommenders.ranker_features import as_half_life

    h = sp.csr_matrix(
        (np.array([1.0, 2.0, 3.0, 1.0, 2.0]), np.array([4, 0, 7, 2, 5]), np.array([0, 3, 3, 5])),
        shape=(3, 9),
    )
    out = as_half_life(h, [4.0, None, 16.0], 4.0)
    assert out.shape == (9, 9)
    lengths = np.array([3.0, 3.0, 3.0, 2.0, 2.0])
    np.testing.assert_array_equal(out[:3].toarray(), h.toarray())
    np.testing.assert_array_equal(out[3:6].data, lengths)  # all ones once weighted
    np.testing.assert_array_equal(out[6:].data, lengths - (lengths - h.data) / 4.0)
    np.testing.assert_array_equal(out[6:].indices, h.indices)


def test_newest_rows_keeps_the_newest_with_their_recency_weights() -> None:
    from feedcraft.recommenders._common import recency_rows
    from feedcraft.recommenders.ranker_features import newest_rows

    # row 0: five items, recency ranks 1..5 (item 9 newest); row 1: two items; row 2: none
    h = sp.csr_matrix(
        (
            np.array([3.0, 1.0, 5.0, 2.0, 4.0, 2.0, 1.0]),
            np.array([0, 2, 9, 4, 7, 1, 3]),
            np.array([0, 5, 7, 7]),
        ),
        shape=(3, 10),
    )
    out = newest_rows(h, 3)
    assert out.shape == h.shape
    np.testing.assert_array_equal(out[0].indices, [0, 9, 7])
    np.testing.assert_array_equal(out[0].data, [1.0, 3.0, 2.0])
    np.testing.assert_array_equal(out[1].toarray(), h[1].toarray())  # shorter rows untouched
    assert out[2].nnz == 0
    kept = recency_rows(h, 4.0)[0].toarray()[0, [0, 9, 7]]
    np.testing.assert_allclose(recency_rows(out, 4.0)[0].toarray()[0, [0, 9, 7]], kept)


def test_recency_rows_own_their_indices() -> None:
    """Recency weights of an unsorted history: sorting the weighted copy in place leaves the
    history as it was (the copy owns its index arrays)."""
    hist = sp.csr_matrix((np.array([2.0, 1.0, 3.0]), np.array([4, 1, 2]), np.array([0, 3])), (1, 6))
    before = hist.toarray()
    weighted = recency_rows(hist, 2.0)
    weighted.sort_indices()
    np.testing.assert_array_equal(hist.toarray(), before)
    np.testing.assert_allclose(weighted.toarray()[0, [1, 2, 4]], [2.0**-1, 1.0, 2.0**-0.5])

"""Top-N metrics on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from feedcraft.domain import IdIndex, Interactions, ItemVectors, Recommendations
from feedcraft.errors import InvalidInput
from feedcraft.evaluation import (
    intra_list_diversity,
    novelty,
    popularity_shares,
    topn_metrics,
    topn_per_user,
)


def rec(user: str, *items: str) -> Recommendations:
    return Recommendations(user, items, np.arange(len(items), 0, -1, dtype=float))


def test_recall_ndcg_hit_by_hand() -> None:
    recs = [rec("u", "a", "x", "b"), rec("v", "y", "z", "w")]
    test = {"u": {"a", "b", "c", "d"}, "v": {"q"}}
    m = topn_metrics(recs, test, k=3, n_items=10)
    assert m["recall@3"] == pytest.approx((2 / 4 + 0) / 2)
    dcg = 1 + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # min(4 test items, k=3)
    assert m["ndcg@3"] == pytest.approx((dcg / idcg + 0) / 2)
    assert m["hitrate@3"] == 0.5
    assert m["coverage@3"] == pytest.approx(6 / 10)
    assert m["n_users"] == 2


def test_cut_off_truncates_lists() -> None:
    m = topn_metrics([rec("u", "x", "a")], {"u": {"a"}}, k=1, n_items=2)
    assert m["recall@1"] == 0.0 and m["coverage@1"] == 0.5


def test_missing_recommendations_count_as_zero() -> None:
    per = topn_per_user([rec("u", "a")], {"u": {"a"}, "w": {"a"}, "empty": set()}, k=5)
    assert list(per["users"]) == ["empty", "u", "w"]
    np.testing.assert_array_equal(per["recall"], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(per["ndcg"], [0.0, 1.0, 0.0])


def test_diversity_and_novelty() -> None:
    vecs = ItemVectors(IdIndex(["a", "b", "c"]), np.array([[1, 0], [0, 1], [1, 0]], np.float32))
    # a-b orthogonal (distance 1), a-c identical (0), b-c orthogonal (1): mean 2/3
    assert intra_list_diversity([rec("u", "a", "b", "c")], vecs, 3) == pytest.approx(2 / 3)
    assert math.isnan(intra_list_diversity([rec("u", "a", "nope")], vecs, 3))
    pop = {"a": 0.5, "b": 0.25}
    # "c" is unknown: treated as the rarest known item (0.25)
    assert novelty([rec("u", "a", "b", "c")], pop, 3) == pytest.approx((1 + 2 + 2) / 3)
    m = topn_metrics([rec("u", "a", "b")], {"u": {"a"}}, 2, 3, vecs, pop)
    assert m["diversity@2"] == pytest.approx(1.0)
    assert m["novelty@2"] == pytest.approx(1.5)


def test_popularity_shares_counts_users_once() -> None:
    data = Interactions.from_triples(["u", "u", "v", "w"], ["a", "a", "a", "b"])
    assert popularity_shares(data) == pytest.approx({"a": 2 / 3, "b": 1 / 3})


def test_validation() -> None:
    with pytest.raises(InvalidInput):
        topn_metrics([], {}, k=0, n_items=1)
    with pytest.raises(InvalidInput):
        topn_metrics([], {}, k=1, n_items=0)
    with pytest.raises(InvalidInput):
        novelty([rec("u", "a")], {}, 1)
    with pytest.raises(InvalidInput, match="not counts"):
        novelty([rec("u", "a")], {"a": 12.0}, 1)
    assert math.isnan(topn_metrics([], {}, k=1, n_items=1)["recall@1"])

"""Paired bootstrap and the plain-text results table."""

from __future__ import annotations

import numpy as np
import pytest

from feedcraft.errors import InvalidInput
from feedcraft.evaluation import format_table, paired_bootstrap


def test_constant_difference_has_no_spread() -> None:
    a = np.linspace(0, 1, 50)
    assert paired_bootstrap(a + 0.1, a, n_boot=200) == pytest.approx((0.1, 0.1, 0.1))


def test_interval_contains_mean_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    b = rng.random(500)
    a = b + rng.normal(0.02, 0.1, 500)
    mean, lo, hi = paired_bootstrap(a, b, n_boot=500, seed=1)
    assert lo < mean < hi
    assert lo > 0  # a real improvement of 0.02 with 500 pairs
    assert paired_bootstrap(a, b, n_boot=500, seed=1) == (mean, lo, hi)
    # pure noise: the interval straddles zero
    _, lo0, hi0 = paired_bootstrap(b + rng.normal(0, 0.1, 500), b, n_boot=500)
    assert lo0 < 0 < hi0


def test_bootstrap_validation() -> None:
    with pytest.raises(InvalidInput):
        paired_bootstrap([1.0, 2.0], [1.0])
    with pytest.raises(InvalidInput):
        paired_bootstrap([], [])
    with pytest.raises(InvalidInput):
        paired_bootstrap([1.0], [1.0], n_boot=0)


def test_table_layout() -> None:
    table = format_table(
        {
            "popularity": {"ndcg@10": 0.0876, "recall@10": 0.0392, "n_users": 610.0},
            "itemknn": {"ndcg@10": 0.12754, "n_users": 610.0},
        }
    )
    assert table.splitlines() == [
        "model       ndcg@10  recall@10  n_users",
        "----------  -------  ---------  -------",
        "popularity   0.0876     0.0392      610",
        "itemknn      0.1275          -      610",
    ]


def test_table_selected_metrics_and_nan() -> None:
    table = format_table({"m": {"auc": float("nan"), "mrr": 0.5}}, metrics=["mrr", "auc"], digits=2)
    assert table.splitlines()[2] == "m      0.50    -"

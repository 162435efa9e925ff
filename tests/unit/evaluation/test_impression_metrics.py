"""MIND impression metrics: hand-computed values, MIND's reference formulas, edge cases,
and real NeMig impressions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from feedcraft.errors import InvalidInput
from feedcraft.evaluation import impression_metrics, per_impression_metrics


# MIND's evaluate.py formulas, written out as the oracle
def mind_dcg(y_true: np.ndarray, y_score: np.ndarray, k: int) -> float:
    order = np.argsort(y_score)[::-1]
    y = np.take(y_true, order[:k])
    return float(np.sum((2**y - 1) / np.log2(np.arange(len(y)) + 2)))


def mind_ndcg(y_true: np.ndarray, y_score: np.ndarray, k: int) -> float:
    return mind_dcg(y_true, y_score, k) / mind_dcg(y_true, y_true, k)


def mind_mrr(y_true: np.ndarray, y_score: np.ndarray) -> float:
    y = np.take(y_true, np.argsort(y_score)[::-1])
    return float(np.sum(y / (np.arange(len(y)) + 1)) / np.sum(y))


def test_hand_computed_single_click() -> None:
    # the click is ranked 2nd of 3: beats one of two non-clicks
    m = impression_metrics([np.array([1, 0, 0])], [np.array([0.2, 0.5, 0.1])])
    assert m["auc"] == pytest.approx(0.5)
    assert m["mrr"] == pytest.approx(0.5)
    assert m["ndcg@5"] == pytest.approx(1 / math.log2(3))
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert m["n_impressions"] == 1 and m["n_skipped"] == 0


def test_hand_computed_two_clicks() -> None:
    # order by score: 0 (no), 1 (click), 3 (click), 2 (no) -> clicks at ranks 2 and 3
    m = impression_metrics([np.array([0, 1, 0, 1])], [np.array([0.9, 0.8, 0.1, 0.3])])
    assert m["auc"] == pytest.approx(0.5)  # each click beats one of the two non-clicks
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg@5"] == pytest.approx(dcg / (1 + 1 / math.log2(3)))


def test_perfect_and_worst() -> None:
    y = [np.array([0, 1, 0, 0, 1])]
    best = impression_metrics(y, [np.array([0.1, 0.9, 0.2, 0.3, 0.8])])
    worst = impression_metrics(y, [np.array([0.9, 0.1, 0.8, 0.7, 0.2])])
    assert best["auc"] == best["ndcg@5"] == pytest.approx(1.0)
    assert best["mrr"] == pytest.approx((1 + 1 / 2) / 2)  # MIND averages over the clicks
    assert worst["auc"] == 0.0


def test_cut_off_matters() -> None:
    # one click at rank 7: outside the top 5, inside the top 10
    y = np.zeros(12)
    y[6] = 1
    m = impression_metrics([y], [-np.arange(12.0)])
    assert m["ndcg@5"] == 0.0
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(8))
    assert m["mrr"] == pytest.approx(1 / 7)


def test_matches_mind_reference_and_sklearn() -> None:
    rng = np.random.default_rng(3)
    labels, scores = [], []
    for _ in range(300):
        n = int(rng.integers(2, 60))
        labels.append((rng.random(n) < 0.15).astype(np.int64))
        scores.append(rng.normal(size=n))  # continuous: no ties
    got = impression_metrics(labels, scores)
    kept = [(y, s) for y, s in zip(labels, scores, strict=True) if 0 < y.sum() < len(y)]
    assert got["n_impressions"] == len(kept)
    assert got["n_skipped"] == len(labels) - len(kept)
    assert got["auc"] == pytest.approx(np.mean([roc_auc_score(y, s) for y, s in kept]))
    assert got["mrr"] == pytest.approx(np.mean([mind_mrr(y, s) for y, s in kept]))
    for k in (5, 10):
        ref = np.mean([mind_ndcg(y, s, k) for y, s in kept])
        assert got[f"ndcg@{k}"] == pytest.approx(ref)


def test_ties_auc_half_credit_rank_by_position() -> None:
    y = [np.array([0, 1, 0, 1]), np.array([1, 0, 0])]
    s = [np.array([0.5, 0.5, 0.2, 0.5]), np.array([0.0, 0.0, 0.0])]
    per = per_impression_metrics(y, s)
    np.testing.assert_allclose(per["auc"], [roc_auc_score(y[0], s[0]), 0.5])
    # all tied: candidate order decides, so the click in front is ranked first
    assert per["mrr"][1] == 1.0
    # first impression: order 0, 1, 3 (tied at 0.5, by position), 2 -> clicks at 2 and 3
    assert per["mrr"][0] == pytest.approx((1 / 2 + 1 / 3) / 2)


def test_single_class_impressions_are_skipped() -> None:
    y = [np.array([0, 0]), np.array([1, 1]), np.array([1, 0]), np.array([], np.int64)]
    s = [np.array([0.1, 0.2]), np.array([0.1, 0.2]), np.array([0.1, 0.2]), np.array([])]
    m = impression_metrics(y, s)
    assert m["n_impressions"] == 1 and m["n_skipped"] == 3
    assert m["auc"] == 0.0
    assert list(per_impression_metrics(y, s)["index"]) == [2]


def test_nothing_to_evaluate_is_nan() -> None:
    m = impression_metrics([], [])
    assert math.isnan(m["auc"]) and m["n_impressions"] == 0


@pytest.mark.parametrize(
    ("labels", "scores", "match"),
    [
        ([np.array([1, 0])], [], "label arrays"),
        ([np.array([1, 0])], [np.array([0.1])], "impression 0"),
        ([np.array([2, 0])], [np.array([0.1, 0.2])], "0 or 1"),
        ([np.array([1, 0])], [np.array([0.1, np.nan])], "finite"),
    ],
)
def test_validation(labels: list[np.ndarray], scores: list[np.ndarray], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        impression_metrics(labels, scores)


def test_nemig_random_and_oracle_scores(
    nemig_impressions: list[tuple[str, str, list[str], np.ndarray]],
) -> None:
    labels = [lab for *_, lab in nemig_impressions]
    assert len(labels) == 15_000
    rng = np.random.default_rng(0)
    random = impression_metrics(labels, [rng.random(len(y)) for y in labels])
    assert 0.47 <= random["auc"] <= 0.53
    assert random["n_impressions"] + random["n_skipped"] == 15_000
    oracle = impression_metrics(labels, [y.astype(float) for y in labels])
    assert oracle["auc"] == 1.0
    assert oracle["ndcg@5"] == oracle["ndcg@10"] == pytest.approx(1.0)
    assert oracle["n_impressions"] == random["n_impressions"]

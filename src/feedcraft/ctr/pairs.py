"""Pairwise winner accuracy: within a test, which of two headlines drew the higher CTR.

The unit of evaluation is the pair inside one test (a causal comparison); the confidence
interval resamples whole tests, because pairs of one test share variants and are not
independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from feedcraft.ctr.data import HeadlineVariants
from feedcraft.errors import InvalidInput

__all__ = ["PairAccuracy", "WinnerPairs", "pairwise_accuracy", "winner_pairs"]


@dataclass(frozen=True, slots=True)
class WinnerPairs:
    """Index pairs (first, second) of variants of one test; `first_wins` when its CTR is
    higher; `groups` is the test index of each pair."""

    first: np.ndarray
    second: np.ndarray
    first_wins: np.ndarray
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.first)


def winner_pairs(variants: HeadlineVariants) -> WinnerPairs:
    """Every pair of variants of one test with different headlines and different CTRs.

    CTRs are compared exactly (clicks_i * impressions_j against clicks_j * impressions_i), so
    ties from equal counts are dropped and nothing depends on float rounding.
    """
    g = variants.groups
    order = np.argsort(g, kind="stable")
    bounds = np.flatnonzero(np.diff(g[order])) + 1
    heads = variants.headlines
    c, n = variants.clicks, variants.impressions
    first: list[int] = []
    second: list[int] = []
    for members in np.split(order, bounds):
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                if heads[a] != heads[b] and c[a] * n[b] != c[b] * n[a]:
                    first.append(int(a))
                    second.append(int(b))
    i = np.array(first, dtype=np.int64)
    j = np.array(second, dtype=np.int64)
    return WinnerPairs(i, j, c[i] * n[j] > c[j] * n[i], g[i])


@dataclass(frozen=True, slots=True)
class PairAccuracy:
    """Share of pairs whose winner scored higher, with a percentile bootstrap over tests."""

    accuracy: float
    low: float
    high: float
    pairs: int
    tests: int

    def to_json(self) -> dict[str, float | int]:
        return {
            "accuracy": self.accuracy,
            "ci95_low": self.low,
            "ci95_high": self.high,
            "pairs": self.pairs,
            "tests": self.tests,
        }


def pairwise_accuracy(
    scores: np.ndarray,
    pairs: WinnerPairs,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairAccuracy:
    """Accuracy of `scores` (one per variant) at ordering each pair; a tie counts one half."""
    s = np.asarray(scores, dtype=np.float64)
    if len(pairs) == 0:
        raise InvalidInput("no pairs to evaluate", field="pairs")
    if s.ndim != 1 or len(s) <= int(max(pairs.first.max(), pairs.second.max())):
        raise InvalidInput("need one score per variant", field="scores")
    if n_boot < 1:
        raise InvalidInput("must be >= 1", field="n_boot")
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("must be in (0, 1)", field="confidence")
    a, b = s[pairs.first], s[pairs.second]
    correct = np.where(a == b, 0.5, ((a > b) == pairs.first_wins).astype(np.float64))
    tests, inverse = np.unique(pairs.groups, return_inverse=True)
    hits = np.bincount(inverse, weights=correct)
    counts = np.bincount(inverse).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(tests), size=(n_boot, len(tests)))
    boot = hits[draws].sum(axis=1) / counts[draws].sum(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return PairAccuracy(float(correct.mean()), float(low), float(high), len(correct), len(tests))

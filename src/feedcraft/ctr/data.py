"""Headline A/B tests as arrays: one row per variant, grouped by the test it belongs to.

Only comparisons inside a test are causal (visitors were assigned to variants at random), so
every learner and metric in this package works within tests; CTR levels across tests differ by
package, placement and week and are never compared directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from feedcraft.errors import InvalidInput

__all__ = ["HeadlineVariants"]


def string_column(
    values: Sequence[str] | None, n: int, field: str, *, rows: str = "variants"
) -> tuple[str, ...]:
    """`n` strings ("" each when `values` is None), checked before they reach an encoder: a
    bare string would be read character by character. `rows` names what `n` counts."""
    if values is None:
        return ("",) * n
    if isinstance(values, str | bytes):
        raise InvalidInput("expected a sequence of strings, got a single string", field=field)
    out = tuple(values)
    if len(out) != n:
        raise InvalidInput(f"has {len(out)} values for {n} {rows}", field=field)
    for i, v in enumerate(out):
        if not isinstance(v, str):
            raise InvalidInput(f"element {i} is {type(v).__name__}, not str", field=field)
    return out


@dataclass(frozen=True, eq=False)
class HeadlineVariants:
    """Variants of headline tests with their outcomes.

    `test_ids` name the test of each variant; `weeks` are sortable period labels (YYYYWW in the
    Upworthy archive) used to split by time; `image_ids` are "" where unknown.
    """

    test_ids: tuple[str, ...]
    headlines: tuple[str, ...]
    impressions: np.ndarray
    clicks: np.ndarray
    excerpts: tuple[str, ...]
    ledes: tuple[str, ...]
    image_ids: tuple[str, ...]
    weeks: np.ndarray

    @classmethod
    def create(
        cls,
        test_ids: Sequence[str],
        headlines: Sequence[str],
        impressions: Sequence[int] | np.ndarray,
        clicks: Sequence[int] | np.ndarray,
        *,
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        image_ids: Sequence[str] | None = None,
        weeks: Sequence[int] | np.ndarray | None = None,
    ) -> HeadlineVariants:
        """Validated variants: counts are non-negative, clicks never exceed impressions."""
        tids = string_column(test_ids, len(test_ids), "test_ids")
        n = len(tids)
        imp = np.asarray(impressions, dtype=np.float64)
        clk = np.asarray(clicks, dtype=np.float64)
        for name, arr in (("impressions", imp), ("clicks", clk)):
            if arr.shape != (n,):
                raise InvalidInput(f"has shape {arr.shape}, expected ({n},)", field=name)
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise InvalidInput("must be finite and non-negative", field=name)
        if np.any(clk > imp):
            row = int(np.flatnonzero(clk > imp)[0])
            raise InvalidInput(f"variant {row} has more clicks than impressions", field="clicks")
        wk = np.zeros(n, dtype=np.int64) if weeks is None else np.asarray(weeks, dtype=np.int64)
        if wk.shape != (n,):
            raise InvalidInput(f"has shape {wk.shape}, expected ({n},)", field="weeks")
        return cls(
            test_ids=tids,
            headlines=string_column(headlines, n, "headlines"),
            impressions=imp,
            clicks=clk,
            excerpts=string_column(excerpts, n, "excerpts"),
            ledes=string_column(ledes, n, "ledes"),
            image_ids=string_column(image_ids, n, "image_ids"),
            weeks=wk,
        )

    def __len__(self) -> int:
        return len(self.test_ids)

    @property
    def groups(self) -> np.ndarray:
        """Dense test index per variant (0..n_tests-1, in order of first appearance)."""
        index: dict[str, int] = {}
        return np.array([index.setdefault(t, len(index)) for t in self.test_ids], dtype=np.int64)

    @property
    def test_weeks(self) -> np.ndarray:
        """Week of each variant's test: the earliest week of any of its variants, so that a
        test running over a week boundary is never split between training and held-out data."""
        g = self.groups
        first = np.full(int(g.max()) + 1 if len(g) else 0, np.iinfo(np.int64).max)
        np.minimum.at(first, g, self.weeks)
        return first[g]

    def subset(self, mask: np.ndarray) -> HeadlineVariants:
        """The variants where `mask` (boolean, one per variant) is true."""
        m = np.asarray(mask, dtype=bool)
        if m.shape != (len(self),):
            raise InvalidInput(f"has shape {m.shape}, expected ({len(self)},)", field="mask")
        idx = np.flatnonzero(m)

        def pick(values: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(values[i] for i in idx)

        return HeadlineVariants(
            test_ids=pick(self.test_ids),
            headlines=pick(self.headlines),
            impressions=self.impressions[idx],
            clicks=self.clicks[idx],
            excerpts=pick(self.excerpts),
            ledes=pick(self.ledes),
            image_ids=pick(self.image_ids),
            weeks=self.weeks[idx],
        )

    def split_by_week(self, first_held_out_week: int) -> tuple[HeadlineVariants, HeadlineVariants]:
        """(earlier tests, tests from `first_held_out_week` on): whole tests, never rows."""
        later = self.test_weeks >= first_held_out_week
        return self.subset(~later), self.subset(later)

    def week_at_fraction(self, fraction: float) -> int:
        """The first week such that about `fraction` of the tests start before it."""
        if not 0.0 < fraction < 1.0:
            raise InvalidInput("must be in (0, 1)", field="fraction")
        g = self.groups
        if len(g) == 0:
            raise InvalidInput("no variants", field="variants")
        tw = np.zeros(int(g.max()) + 1, dtype=np.int64)
        tw[g] = self.test_weeks
        weeks, counts = np.unique(tw, return_counts=True)
        cum = np.cumsum(counts) / counts.sum()
        k = int(np.searchsorted(cum, fraction))
        return int(weeks[min(k + 1, len(weeks) - 1)])

    @property
    def ctr(self) -> np.ndarray:
        """Observed click-through rate per variant (0 where there were no impressions)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.impressions > 0, self.clicks / self.impressions, 0.0)

    @property
    def typical_ctr(self) -> float:
        """The median pooled CTR of the tests with a click: the level p_click is anchored to
        (an average package), clipped away from 0 and 1 so its logit is finite."""
        g = self.groups
        if len(g) == 0:
            raise InvalidInput("no variants", field="variants")
        clicks = np.bincount(g, weights=self.clicks)
        if not (clicks > 0).any():
            raise InvalidInput("no test has a click", field="variants")
        pooled = clicks / np.maximum(np.bincount(g, weights=self.impressions), 1)
        return float(np.clip(np.median(pooled[clicks > 0]), 1e-6, 1 - 1e-6))

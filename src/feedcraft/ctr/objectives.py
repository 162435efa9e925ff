"""What fine-tuning optimises and learns from, apart from the model that does it: the
conditional-logit likelihood in torch, the between-test target, the tests that can teach, and
a vector table that lets the frozen warm start reuse `HeadlineClickModel`'s solver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from feedcraft.ctr.data import HeadlineVariants

__all__ = [
    "VectorTable",
    "clogit_nll",
    "informative_variants",
    "nll_per_click",
    "week_centred_log_ctr",
]


class VectorTable:
    """An `Encoder` over vectors already computed, so the warm start reuses the conditional
    logit solver of `HeadlineClickModel` unchanged."""

    def __init__(self, name: str, vectors: dict[str, np.ndarray], dim: int) -> None:
        self._name = name
        self._vectors = vectors
        self._dim = dim

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)


def clogit_nll(f: Any, groups: Any, log_n: Any, clicks: Any) -> Any:
    """Mean negative log-likelihood per click of the conditional logit (torch, differentiable):
    within each group, clicks follow softmax(log impressions + f)."""
    import torch

    u = log_n + f
    n_groups = int(groups.max()) + 1
    top = torch.full((n_groups,), -torch.inf, dtype=u.dtype, device=u.device).scatter_reduce(
        0, groups, u.detach(), reduce="amax"
    )
    norm = torch.zeros(n_groups, dtype=u.dtype, device=u.device).index_add(
        0, groups, torch.exp(u - top[groups])
    )
    lse = top + torch.log(norm)
    return -(clicks * (u - lse[groups])).sum() / clicks.sum()


def nll_per_click(scores: np.ndarray, v: HeadlineVariants) -> float:
    """Conditional-logit negative log-likelihood per click of `scores` on `v` (NaN when `v`
    has no clicks to explain)."""
    import torch

    keep = v.impressions > 0
    if not keep.any() or v.clicks[keep].sum() == 0:
        return float("nan")
    return float(
        clogit_nll(
            torch.as_tensor(scores[keep]),
            torch.as_tensor(np.unique(v.groups[keep], return_inverse=True)[1]),
            torch.as_tensor(np.log(v.impressions[keep])),
            torch.as_tensor(v.clicks[keep]),
        )
    )


def week_centred_log_ctr(variants: HeadlineVariants) -> np.ndarray:
    """log((clicks + 0.5) / (impressions + 1)) of each variant minus the mean of its test week."""
    y = np.log((variants.clicks + 0.5) / (variants.impressions + 1.0))
    _, week = np.unique(variants.test_weeks, return_inverse=True)
    means = np.bincount(week, weights=y) / np.bincount(week)
    return np.asarray(y - means[week])


def informative_variants(variants: HeadlineVariants) -> np.ndarray:
    """Variants of tests that can teach anything: shown, in a test with a click and at least
    two shown variants (the same rule as `HeadlineClickModel`)."""
    usable = variants.impressions > 0
    g = variants.groups
    clicks_per_test = np.bincount(g, weights=variants.clicks)
    shown_per_test = np.bincount(g, weights=usable.astype(np.float64))
    return np.asarray(usable & (clicks_per_test[g] > 0) & (shown_per_test[g] > 1))

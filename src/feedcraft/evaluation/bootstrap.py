"""Paired bootstrap over users (or impressions) to tell whether model A beats model B."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedcraft.errors import InvalidInput

#: Resampled cells per chunk, to bound memory on large evaluations.
_CHUNK_CELLS = 2**22


def paired_bootstrap(
    a_per_user: Sequence[float] | np.ndarray,
    b_per_user: Sequence[float] | np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """(mean of a - b, lower, upper) percentile confidence bounds of that mean.

    Users are resampled with replacement *in pairs*, so per-user difficulty cancels out and
    the interval is much tighter than comparing two independent intervals. An interval that
    excludes 0 means the difference is unlikely to be resampling noise.
    """
    a = np.asarray(a_per_user, np.float64)
    b = np.asarray(b_per_user, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise InvalidInput(f"need two 1-D arrays of equal length, got {a.shape} and {b.shape}")
    if len(a) == 0:
        raise InvalidInput("no values to compare", field="a_per_user")
    if n_boot < 1:
        raise InvalidInput("must be >= 1", field="n_boot")
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("must be in (0, 1)", field="confidence")
    diff = a - b
    n = len(diff)
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_CELLS // n)
    means = np.concatenate(
        [
            diff[rng.integers(0, n, (min(chunk, n_boot - start), n))].mean(axis=1)
            for start in range(0, n_boot, chunk)
        ]
    )
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return float(diff.mean()), float(lo), float(hi)

"""The encoder contract shared by every sentence encoder, and helpers the encoders share."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from feedcraft.errors import InvalidInput

__all__ = ["Encoder", "available_cpus", "check_texts", "l2_normalize"]


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into float32 rows of unit length (zero rows only for texts with no content).

    `name` identifies the model and its weights: it is the cache key for stored vectors, so two
    encoders with the same name must give the same vectors.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray: ...


def check_texts(texts: Sequence[str]) -> list[str]:
    """`texts` as a list, refusing a bare string (which would be encoded character by character)."""
    if isinstance(texts, str | bytes):
        raise InvalidInput("expected a sequence of strings, got a single string", field="texts")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise InvalidInput(f"element {i} is {type(t).__name__}, not str", field="texts")
    return out


def l2_normalize(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length as float32; all-zero rows stay zero."""
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (m / norms).astype(np.float32, copy=False)


def available_cpus() -> int:
    """CPUs this process may really use: affinity mask and cgroup quota, not the host's count."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            n = min(n, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)

"""Item vectors (e.g. sentence embeddings) aligned with an IdIndex: rows are items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from feedcraft.domain.ids import IdIndex


@dataclass(frozen=True)
class ItemVectors:
    """Row i of `matrix` is the L2-normalised vector of `ids.id_at(i)` (float32)."""

    ids: IdIndex
    matrix: np.ndarray

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=np.float32)
        if m.ndim != 2 or m.shape[0] != len(self.ids):
            raise ValueError(f"ItemVectors.matrix must be ({len(self.ids)}, dim), got {m.shape}")
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        object.__setattr__(self, "matrix", m / norms)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def rows(self, item_ids: list[str] | tuple[str, ...]) -> np.ndarray:
        """Vectors for `item_ids`; zero rows for ids without a vector."""
        pos = self.ids.positions(item_ids)
        out = np.zeros((len(item_ids), self.dim), np.float32)
        ok = pos >= 0
        out[ok] = self.matrix[pos[ok]]
        return out

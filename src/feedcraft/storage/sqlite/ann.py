"""An HNSW graph (faiss) over unit vectors that follows a changing set of ids.

Why HNSW: exact cosine search is one pass over the whole matrix per query, linear in the
catalogue; an HNSW graph answers in a few hundred vector comparisons at recall@10 near 0.99
(benchmarks/ann.py measures both on real item vectors). Inner product on unit vectors is the
cosine.

Faiss graphs cannot delete, so ids change by slots: each stored vector gets a slot (the faiss
label); replacing or removing an id marks its old slot dead, and searches skip dead slots with
a faiss id selector, which filters inside the graph walk instead of over-fetching. When too
many slots are dead the owner rebuilds the graph from scratch.

Not thread-safe on its own: callers serialise `add`, `remove` and `search` (faiss may not be
searched while it is being extended).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np


@dataclass(frozen=True, slots=True)
class HnswParams:
    """Graph shape and search effort; defaults measured on MovieLens and NeMig item vectors
    (benchmarks/ann.py): recall@10 >= 0.98 at a fraction of a millisecond per query."""

    m: int = 32
    ef_construction: int = 80
    ef_search: int = 64


class HnswIndex:
    """Cosine k-NN over unit-normalised float32 rows keyed by string ids."""

    def __init__(self, dim: int, params: HnswParams | None = None) -> None:
        self.params = params or HnswParams()
        self.dim = dim
        self._index = faiss.IndexHNSWFlat(dim, self.params.m, faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = self.params.ef_construction
        self._slot_ids: list[str] = []
        self._alive = np.zeros(0, bool)
        self._slot_of: dict[str, int] = {}

    @classmethod
    def build(
        cls, ids: Sequence[str], normed: np.ndarray, params: HnswParams | None = None
    ) -> HnswIndex:
        """A fresh graph over `normed` (rows already unit length), one slot per id.

        Built on one thread: the graph then depends only on the insertion order (faiss seeds
        its level generator), so a rebuild answers exactly as the build before it.
        """
        index = cls(int(normed.shape[1]), params)
        previous = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            index.add(ids, normed)
        finally:
            faiss.omp_set_num_threads(previous)
        return index

    # -- size --------------------------------------------------------------------------------
    @property
    def slots(self) -> int:
        return len(self._slot_ids)

    @property
    def live(self) -> int:
        return len(self._slot_of)

    @property
    def dead_fraction(self) -> float:
        return 0.0 if not self._slot_ids else 1.0 - self.live / self.slots

    # -- changes -----------------------------------------------------------------------------
    def add(self, ids: Sequence[str], normed: np.ndarray) -> None:
        """Insert rows; an id already present is replaced (its old slot dies)."""
        if not len(ids):
            return
        rows = np.ascontiguousarray(normed, dtype=np.float32)
        self.remove(ids)
        start = len(self._slot_ids)
        self._index.add(rows)
        self._slot_ids.extend(ids)
        self._alive = np.concatenate([self._alive, np.ones(len(ids), bool)])
        for offset, item_id in enumerate(ids):
            self._slot_of[item_id] = start + offset

    def remove(self, ids: Sequence[str]) -> None:
        for item_id in ids:
            slot = self._slot_of.pop(item_id, None)
            if slot is not None:
                self._alive[slot] = False

    # -- queries -----------------------------------------------------------------------------
    def search(
        self, query: np.ndarray, k: int, *, exclude: Sequence[str] = ()
    ) -> list[tuple[str, float]] | None:
        """Up to k (id, inner product) pairs, best first, skipping dead slots and `exclude`.

        None when the graph walk found fewer than min(k, eligible ids): heavy filtering can
        strand HNSW, and the caller then answers exactly.
        """
        blocked = [self._slot_of[i] for i in exclude if i in self._slot_of]
        eligible = self.live - len(set(blocked))
        k = min(k, eligible)
        if k <= 0:
            return []
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # stubs lag
        params.efSearch = max(self.params.ef_search, k)
        allowed = self._alive
        if blocked:
            allowed = allowed.copy()
            allowed[blocked] = False
        bitmap = None
        selector = None
        if not allowed.all():
            # the selector reads the bitmap by pointer: both must outlive the search call
            bitmap = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(bitmap)  # type: ignore[call-arg, arg-type]
            params.sel = selector
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        scores, labels = self._index.search(q, k, params=params)
        del bitmap, selector
        found = [
            (self._slot_ids[int(label)], float(score))
            for label, score in zip(labels[0], scores[0], strict=True)
            if label >= 0
        ]
        return found if len(found) >= k else None

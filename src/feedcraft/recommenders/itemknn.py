"""Item-based k-nearest-neighbours on the binary users x items matrix.

Similarities are computed a block of target items at a time (dense BLAS when X is small,
sparse products otherwise), so memory stays at one (block x n_items) array and the model
keeps only the top-k neighbours per item, sparse: never a dense items x items matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders._common import (
    MatrixRecommender,
    decayed_counts,
    recency_rows,
    sparse_product_rows,
    top_k_mask,
    user_histories,
)
from feedcraft.recommenders.explain import anchors, known_positions

#: Dense cells per similarity block (float32): about 64 MB, plus as much for temporaries.
_BLOCK_CELLS = 2**24
#: Below this many users x items cells, and above this density, co-occurrences come from
#: dense BLAS (much faster then); sparse products win on sparse logs such as news clicks.
_DENSE_CELLS = 2**26
_DENSE_MIN_DENSITY = 0.005
#: Weight of popularity in scores, only to order items the neighbours leave tied (e.g. at 0).
_TIE_BREAK = 1e-6
SIMILARITIES = ("cosine", "jaccard")


def item_similarities(
    x: sp.csr_matrix,
    k: int,
    shrinkage: float = 0.0,
    similarity: str = "cosine",
) -> sp.csr_matrix:
    """Top-k item-item similarity, items x items: column j holds j's k nearest neighbours.

    With c_ij co-occurrences and n_i item counts: cosine = c_ij / (sqrt(n_i n_j) + shrinkage),
    jaccard = c_ij / (n_i + n_j - c_ij + shrinkage). Ties at the k-th place go to the
    lower item position, so the result is deterministic.
    """
    if similarity not in SIMILARITIES:
        raise InvalidInput(f"must be one of {SIMILARITIES}", field="similarity")
    n_users, n_items = x.shape
    xc = sp.csc_matrix(x, dtype=np.float32)
    cells = max(n_users * n_items, 1)
    use_dense = cells <= _DENSE_CELLS and xc.nnz / cells >= _DENSE_MIN_DENSITY
    dense = xc.toarray() if use_dense else None
    xr = sp.csr_matrix(xc)
    sq = np.asarray(xc.multiply(xc).sum(axis=0), dtype=np.float32).ravel()
    norm = np.sqrt(sq)
    k = min(k, n_items - 1)
    if k <= 0:
        return sp.csr_matrix((n_items, n_items))
    block = max(1, _BLOCK_CELLS // max(n_items, 1))
    rows, cols, vals = [], [], []
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        j = np.arange(start, stop)
        # row r: co-occurrences of target item j[r] with every candidate neighbour
        if dense is not None:
            s = dense[:, start:stop].T @ dense
        else:
            s = (sp.csr_matrix(xc[:, start:stop].T) @ xr).toarray()
        if similarity == "cosine":
            denom = np.multiply.outer(norm[j], norm)
        else:
            denom = np.add.outer(sq[j], sq) - s
        denom += shrinkage + 1e-12
        s /= denom
        s[np.arange(len(j)), j] = 0.0  # an item is not its own neighbour
        r, c = np.nonzero(top_k_mask(s, k, floor=0.0))
        v = s[r, c]
        rows.append(c)  # neighbour i
        cols.append(j[r])  # target j
        vals.append(v)
    return sp.csr_matrix(
        (np.concatenate(vals).astype(np.float64), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
    )


class ItemKNNRecommender(MatrixRecommender):
    """Scores an item by the summed similarity to the user's items, among its k neighbours.

    `shrinkage` damps similarities resting on few co-occurrences. `recency_half_life` weighs
    history items by recency (the newest 1, halving every that many items back; None = a
    plain sum), since next interests follow recent ones. Defaults were tuned on MovieLens
    (user-temporal split, validation carved from train): on the test part recency lifts
    Recall@10 0.060 -> 0.074 and NDCG@10 0.120 -> 0.128 (the latter within noise).
    Users with no history fall back to popularity, which also orders otherwise tied items.
    """

    name = "itemknn"

    def __init__(
        self,
        k: int = 100,
        shrinkage: float = 20.0,
        similarity: str = "cosine",
        recency_half_life: float | None = 4.0,
    ) -> None:
        self.k = k
        self.shrinkage = shrinkage
        self.similarity = similarity
        self.recency_half_life = recency_half_life

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        if self.k < 1:
            raise InvalidInput("must be >= 1", field="k")
        if self.shrinkage < 0:
            raise InvalidInput("must be >= 0", field="shrinkage")
        n_items = len(interactions.items)
        x = interactions.matrix(binary=True)
        self.similarity_ = item_similarities(x, self.k, self.shrinkage, self.similarity)
        counts = decayed_counts(interactions, None)
        self.popularity_ = counts / max(counts.max(), 1.0)
        self.items_ = interactions.items
        self.history_ = user_histories(interactions, n_items, np.arange(n_items))

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        h = recency_rows(hist, self.recency_half_life)
        scores = sparse_product_rows(h, self.similarity_)
        scores += _TIE_BREAK * self.popularity_
        cold = np.diff(hist.indptr) == 0
        scores[cold] = self.popularity_
        return scores if cols is None else scores[:, cols]

    def explain(self, history: Sequence[str], item_ids: Sequence[str]) -> dict[str, str]:
        """The history item most similar to each item. Recency weights decide how much the
        history counts, not which of its items an item resembles, so they are left out."""
        self._check_fitted()
        hist, hp, items, ip = known_positions(self.items_, history, item_ids)
        if not hist or not items:
            return {}
        contrib = np.asarray(self.similarity_[hp][:, ip].todense())
        return anchors(hist, items, contrib)

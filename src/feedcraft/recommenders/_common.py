"""Plumbing shared by every recommender: history lookup, seen-item exclusion, batched top-n.

Models only implement `_fit` and `_predict` (dense scores for a batch of history rows); this
base turns those into `recommend` and `score` with one behaviour for unknown users, given
histories and unknown items, so the check suite can hold every model to the same contract.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp

from feedcraft.domain import IdIndex, Interactions, ItemVectors, Recommendations
from feedcraft.errors import InvalidInput
from feedcraft.recommenders.base import Recommender

#: Rows scored at once in `recommend`; bounds memory at BATCH x n_items float64.
BATCH = 512


def check_interactions(interactions: Interactions) -> None:
    """Fail early with a clear message instead of producing an empty or broken model."""
    if not isinstance(interactions, Interactions):
        raise InvalidInput(
            f"expected Interactions, got {type(interactions).__name__}", field="interactions"
        )
    if len(interactions) == 0:
        raise InvalidInput("no interactions to fit on", field="interactions")


def decayed_counts(interactions: Interactions, half_life_days: float | None) -> np.ndarray:
    """Per-item event counts, each event weighted 0.5 ** (age / half-life) from the newest one."""
    n_items = len(interactions.items)
    if half_life_days is None or len(interactions) == 0:
        w = np.ones(len(interactions), np.float64)
    else:
        if half_life_days <= 0:
            raise InvalidInput("must be positive or None", field="half_life_days")
        ts = interactions.timestamps
        age_days = (ts.max() - ts) / 86400.0
        w = np.exp2(-age_days / float(half_life_days))
    return np.bincount(interactions.item_pos, weights=w, minlength=n_items).astype(np.float64)


def recency_rows(hist: sp.csr_matrix, half_life: float | None) -> sp.csr_matrix:
    """History rows re-weighted by recency: the newest item gets 1, halving every `half_life`
    items back (all ones when None). `hist` data are recency ranks 1..len(row)."""
    if half_life is None:
        data = np.ones(hist.nnz)
    elif half_life <= 0:
        raise InvalidInput("must be positive or None", field="recency_half_life")
    else:
        lengths = np.repeat(np.diff(hist.indptr), np.diff(hist.indptr))
        data = np.exp2(-(lengths - hist.data) / float(half_life))
    # built from arrays (one sparse object, not a copy and a rebuild); the index arrays are
    # copied so that sorting one matrix in place can never reorder the other's entries
    return sp.csr_matrix((data, hist.indices.copy(), hist.indptr.copy()), shape=hist.shape)


def inverse_positions(selected: np.ndarray, n: int) -> np.ndarray:
    """For each of `n` columns, its place in `selected` (-1 when not selected)."""
    out = np.full(n, -1, np.int64)
    out[selected] = np.arange(len(selected))
    return out


def select_columns(h: sp.csr_matrix, position: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """`h` with column j moved to `position[j]` (dropped where -1), rows kept in order: what
    `h[:, cols]` or a product with a selection matrix does, without scipy's per-call
    overhead (several sparse objects each), which dominated scoring one user."""
    pos = position[h.indices]
    keep = pos >= 0
    kept = np.concatenate([[0], np.cumsum(keep)])
    out = sp.csr_matrix((h.data[keep], pos[keep], kept[h.indptr]), shape=(h.shape[0], n_cols))
    out.sort_indices()
    return out


def sparse_product_rows(h: sp.csr_matrix, b: sp.csr_matrix, few: int = 16) -> np.ndarray:
    """`h @ b` for CSR `b`, dense float64, summed in `b`'s precision in history-item order.

    Up to `few` rows (a request), `b`'s rows for the history's items are gathered and
    multiplied by a small dense block of weights: one C loop and no sparse product (whose
    object overhead dominated scoring one user). More rows take scipy's sparse product. Both
    add the same products in the same order and precision (so a float32 B gives the numbers
    a dense float32 B gives), and a row's numbers never depend on the rows scored with it."""
    h = h if h.has_sorted_indices else h.sorted_indices()
    if h.shape[0] > few:
        return np.asarray((h.astype(b.dtype) @ b).toarray(), np.float64)
    used = np.unique(h.indices)
    weights = np.zeros((len(used), h.shape[0]), b.dtype)
    owner = np.repeat(np.arange(h.shape[0]), np.diff(h.indptr))
    weights[np.searchsorted(used, h.indices), owner] = h.data
    return np.ascontiguousarray((b[used].T @ weights).T, np.float64)


def pair_values(m: sp.csr_matrix | sp.csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """`m[rows, cols]` of a CSR matrix as a 1-D array in `m`'s dtype (0 where nothing is
    stored). A request asks for pairs on one or a few rows (the user's newest item to each
    candidate): those rows are spread into dense vectors, without scipy's pair indexing
    (several sparse objects a call). Many rows, or duplicate entries, take scipy's path."""
    if len(rows) == 0:
        return np.zeros(0, m.dtype)
    distinct = np.unique(rows)
    if len(distinct) > 16 or not m.has_canonical_format:
        return np.asarray(m[rows, cols], m.dtype).ravel()
    out = np.empty(len(rows), m.dtype)
    dense = np.zeros(m.shape[1], m.dtype)
    for row in distinct:
        lo, hi = m.indptr[row], m.indptr[row + 1]
        dense[m.indices[lo:hi]] = m.data[lo:hi]
        at = rows == row
        out[at] = dense[cols[at]]
        dense[m.indices[lo:hi]] = 0
    return out


def ranked_rows(u: np.ndarray, i: np.ndarray, n_rows: int, n_items: int) -> sp.csr_matrix:
    """CSR of distinct (row, item) pairs whose data rank each row's items by recency.

    `u` (sorted) and `i` list events oldest first within each row; an item's place is that of
    its latest event, and data run 1..len(row) from oldest to newest.
    """
    if len(u) == 0:
        return sp.csr_matrix((n_rows, n_items), dtype=np.float64)
    key = u.astype(np.int64) * n_items + i
    _, first_in_reversed = np.unique(key[::-1], return_index=True)
    last = np.sort(len(key) - 1 - first_in_reversed)
    uu, ii = u[last], i[last]
    rank = np.arange(len(uu)) - np.searchsorted(uu, uu, side="left") + 1.0
    return sp.csr_matrix((rank, (uu, ii)), shape=(n_rows, n_items))


def user_histories(interactions: Interactions, n_items: int, remap: np.ndarray) -> sp.csr_matrix:
    """Users x items recency ranks (see `ranked_rows`) of each user's distinct training items.

    `remap` maps interaction item positions to the model's item space (-1 = none there).
    Events are ordered by time, ties by their order in the data.
    """
    it = interactions
    order = np.lexsort((np.arange(len(it)), it.timestamps, it.user_pos))
    u, i = it.user_pos[order], remap[it.item_pos[order]]
    keep = i >= 0
    return ranked_rows(u[keep], i[keep], len(it.users), n_items)


def top_k_mask(
    s: np.ndarray, k: int, floor: float | None = None, sorted_rows: np.ndarray | None = None
) -> np.ndarray:
    """Mask of min(k, n_cols) entries per row: the largest, ties to lower columns; with
    `floor`, entries at or below it are never selected (so rows may get fewer).

    A value-only partition finds each row's k-th value (several times faster than
    argpartition); entries above it are kept, and ties at it are admitted left to right, so
    the selection is fully specified, not left to the partition algorithm. A caller that
    already sorted each row ascending passes it as `sorted_rows` (the same k-th value).
    """
    n = s.shape[1]
    above = np.ones(s.shape, bool) if floor is None else s > floor
    if k >= n:
        return above
    if k <= 0:
        return np.zeros(s.shape, bool)
    if sorted_rows is None:
        kth = np.partition(s, n - k, axis=1)[:, n - k][:, None]
    else:
        kth = sorted_rows[:, n - k][:, None]
    keep = (s > kth) & above
    ties = (s == kth) & above
    room = k - keep.sum(axis=1)
    crowded = np.flatnonzero(ties.sum(axis=1) > room)  # rows with more ties than room
    if len(crowded):
        r, c = np.nonzero(ties[crowded])  # row-major: columns ascend within each row
        rank = np.arange(len(r)) - np.searchsorted(r, r) + 1
        drop = rank > room[crowded][r]
        ties[crowded[r[drop]], c[drop]] = False
    keep |= ties
    return keep


def top_n(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, positions of the n best finite scores, best first (ties: lower position first).

    Returns (positions, scores) as 2-D arrays padded with -1 / -inf where a row has fewer
    than n finite scores.
    """
    rows, cols = scores.shape
    n = min(n, cols)
    if n <= 0:
        return np.zeros((rows, 0), np.int64), np.zeros((rows, 0))
    _, c = np.nonzero(top_k_mask(scores, n))  # exactly n per row, row-major
    part = c.reshape(rows, n)
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    idx[~np.isfinite(vals)] = -1
    return idx, vals


def history_rows(
    items: IdIndex,
    history: sp.csr_matrix,
    upos: np.ndarray,
    user_ids: Sequence[str],
    given: Mapping[str, Sequence[str]] | None,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(history rows to score from, items to exclude) for a batch of users at training-row
    positions `upos` (-1 = unknown): a given history replaces the training one for scoring;
    both are excluded. Row data are recency ranks (see `ranked_rows`)."""
    user_list = list(user_ids)
    n_items = len(items)
    base = _keep_rows(history[np.maximum(upos, 0)], upos >= 0)
    has_given = np.array([given is not None and u in given for u in user_list], bool)
    if given is None or not has_given.any():
        return base, base
    rows, cols = [], []
    for r in np.flatnonzero(has_given):
        p = items.positions(list(given[user_list[r]]))
        p = p[p >= 0]
        rows.append(np.full(len(p), r, np.int64))
        cols.append(p)
    given_m = ranked_rows(np.concatenate(rows), np.concatenate(cols), len(user_list), n_items)
    hist = sp.csr_matrix(_keep_rows(base, ~has_given) + given_m)
    seen = sp.csr_matrix(base + given_m)
    return hist, seen


def extended_items(interactions: Interactions, extra: Sequence[str]) -> Interactions:
    """`interactions` re-indexed so that ids in `extra` (new items with a vector or a date)
    join the item space after the interacted ones, so content can reach them."""
    known = set(interactions.items.ids)
    new = [i for i in dict.fromkeys(extra) if i not in known]
    return interactions.with_items([*interactions.items.ids, *new]) if new else interactions


class MatrixRecommender(Recommender):
    """Base for models that score every item from a (weighted) history row."""

    #: Score given to items the model cannot place (unknown to it); below any real score.
    lowest_prior: float = 0.0

    # fitted state (annotations only, so `hasattr` still tells fitted from not)
    interactions_: Interactions
    items_: IdIndex
    history_: sp.csr_matrix

    # -- to implement -----------------------------------------------------------------------
    @abstractmethod
    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        """Learn; must set `items_` (the scoring space) and `history_` (users x items_)."""

    @abstractmethod
    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        """Dense float64 scores, (len(user_ids), len(cols) or n_items), for history rows.

        `hist` data are time ranks (larger = more recent); a row without entries is a user
        with no history, who must get the model's cold-start scores.
        """

    # -- the public API ---------------------------------------------------------------------
    def fit(self, interactions: Interactions, item_vectors: ItemVectors | None = None) -> Self:
        check_interactions(interactions)
        if self.needs_item_vectors and item_vectors is None:
            raise InvalidInput(f"{type(self).__name__} needs item vectors", field="item_vectors")
        self._fit(interactions, item_vectors)
        self.interactions_ = interactions
        return self

    def recommend(
        self,
        user_ids: Sequence[str],
        n: int = 10,
        *,
        exclude_seen: bool = True,
        histories: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Recommendations]:
        self._check_fitted()
        if n < 0:
            raise InvalidInput("must be >= 0", field="n")
        user_ids = list(user_ids)
        out: list[Recommendations] = []
        items = self.items_
        for start in range(0, len(user_ids), BATCH):
            batch = user_ids[start : start + BATCH]
            hist, seen = self._histories(batch, histories)
            scores = self._predict(batch, hist, None)
            if exclude_seen and seen.nnz:
                scores[stored_entries(seen)] = -np.inf
            scores[~np.isfinite(scores)] = -np.inf
            idx, vals = top_n(scores, n)
            for row, user in enumerate(batch):
                ok = idx[row] >= 0
                out.append(Recommendations(user, tuple(items.ids_at(idx[row][ok])), vals[row][ok]))
        return out

    def score(
        self, user_id: str, item_ids: Sequence[str], history: Sequence[str] | None = None
    ) -> np.ndarray:
        self._check_fitted()
        pos = self.items_.positions(list(item_ids))
        known = pos >= 0
        hist, _ = self._histories([user_id], None if history is None else {user_id: history})
        out = np.full(len(pos), self.lowest_prior, np.float64)
        if known.any():
            out[known] = self._predict([user_id], hist, pos[known])[0]
        return out

    # -- helpers ----------------------------------------------------------------------------
    def _histories(
        self, user_ids: Sequence[str], given: Mapping[str, Sequence[str]] | None
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(history rows used for scoring, items to exclude) for a batch of users.

        A given history replaces the training one for scoring; both are excluded.
        """
        user_list = list(user_ids)
        upos = self.interactions_.users.positions(user_list)
        if user_list and given is not None and all(u in given for u in user_list):
            return self._given_histories(user_list, given, upos)
        return self._general_histories(user_list, given, upos)

    def _general_histories(
        self, user_list: list[str], given: Mapping[str, Sequence[str]] | None, upos: np.ndarray
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """`_histories` for any batch, through scipy's general sparse operations."""
        return history_rows(self.items_, self.history_, upos, user_list, given)

    def _given_histories(
        self, user_list: list[str], given: Mapping[str, Sequence[str]], upos: np.ndarray
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """`_histories` when every user brings a history (the serving path), built directly.

        The general path spends milliseconds of scipy overhead per request (row gathers,
        diagonal products, sums). Here each history row is what `ranked_rows` gives (distinct
        items, ranked by their latest place) with columns ascending, the exact row the general
        path produces, so models compute bit-identical scores; `seen` adds the training row.
        """
        n_items = len(self.items_)
        train = self.history_
        indptr = np.zeros(len(user_list) + 1, np.int64)
        seen_indptr = np.zeros(len(user_list) + 1, np.int64)
        cols: list[np.ndarray] = []
        ranks: list[np.ndarray] = []
        seen_cols: list[np.ndarray] = []
        for r, user in enumerate(user_list):
            p = self.items_.positions(list(given[user]))
            p = p[p >= 0]
            # sorted distinct items and where each last occurs; rank = order of those places
            items, first_from_end = np.unique(p[::-1], return_index=True)
            rank = np.empty(len(items), np.float64)
            rank[np.argsort(len(p) - 1 - first_from_end)] = np.arange(1.0, len(items) + 1.0)
            cols.append(items)
            ranks.append(rank)
            indptr[r + 1] = indptr[r] + len(items)
            if upos[r] >= 0:
                lo, hi = train.indptr[upos[r]], train.indptr[upos[r] + 1]
                trained = train.indices[lo:hi][train.data[lo:hi] != 0]
                items = np.union1d(items, trained)
            seen_cols.append(items)
            seen_indptr[r + 1] = seen_indptr[r] + len(items)
        shape = (len(user_list), n_items)
        hist = sp.csr_matrix((np.concatenate(ranks), np.concatenate(cols), indptr), shape=shape)
        seen_idx = np.concatenate(seen_cols)
        seen = sp.csr_matrix((np.ones(len(seen_idx)), seen_idx, seen_indptr), shape=shape)
        return hist, seen


def stored_entries(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the non-zero entries of a CSR matrix: `m.nonzero()` without its
    conversion to COO, which costs more than the scoring of a small model per request."""
    stored = m.data != 0
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    return rows[stored], m.indices[stored]


def _keep_rows(m: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """`m` with the rows where `keep` is false emptied (no explicit zeros left behind)."""
    out = sp.csr_matrix(sp.diags(keep.astype(np.float64)) @ m)
    out.eliminate_zeros()
    return out

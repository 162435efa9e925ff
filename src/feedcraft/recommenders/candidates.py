"""Candidate generation: separate sources that each propose items for a user, and `merge`.

A two-stage recommender first asks cheap, recall-oriented sources for a few hundred items per
user and only then ranks that pool with a costlier model (see `ranker`). Each source here is
small and testable on its own:

- `CollaborativeSource` wraps a fitted feedcraft recommender (EASE, item-kNN, ALS, BPR);
- `ContentSource`: cosine to the recency-weighted mean of the history's vectors, with the
  nearest items found through a pluggable `search(query, k, exclude)` callable, so the service
  layer can hand in its vector store's (ANN) search; the default is exact numpy;
- `PopularitySource` and `TrendingSource`: counts with time decay, and the lift of recent
  counts over the long-run share;
- `FreshSource`: the newest items by a published-at mapping, optionally only from categories
  the user follows, for cold start.

`merge` de-duplicates the lists of several sources while keeping, for every candidate, each
source's score and rank (ranker features) and which sources proposed it.

Every source scores the whole item space from a history row (`score_matrix`, the bulk path the
ranker uses, with -inf meaning "not proposed"); `generate` is its top-k without seen items.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, Self, runtime_checkable

import numpy as np
import scipy.sparse as sp

from feedcraft.domain import IdIndex, Interactions, ItemVectors, Recommendations
from feedcraft.errors import InvalidInput, NotFitted
from feedcraft.recommenders._common import (
    BATCH,
    MatrixRecommender,
    check_interactions,
    decayed_counts,
    extended_items,
    history_rows,
    recency_rows,
    select_columns,
    top_n,
    user_histories,
)

#: `search(query_vector, k, exclude) -> [(item id, score), ...]`, best first. The vector
#: store's `search` fits after binding its namespace and unpacking its neighbours.
SearchFn = Callable[[np.ndarray, int, Sequence[str]], Sequence[tuple[str, float]]]

_DAY = 86400.0


@runtime_checkable
class CandidateSource(Protocol):
    """What every candidate source offers (see the module docstring)."""

    name: str

    def fit(self, interactions: Interactions, item_vectors: ItemVectors | None = None) -> Self:
        """Learn from users x items interactions; returns self."""
        ...

    def generate(
        self,
        user_ids: Sequence[str],
        k: int,
        histories: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Recommendations]:
        """Up to k proposals per user, best first, never an item of the user's history.

        `histories` replace the training interactions of the users they name (for users the
        source has never seen); without one, an unknown user has an empty history."""
        ...


# -- plumbing shared by the sources -------------------------------------------------------------


def exclude_seen(scores: np.ndarray, seen: sp.csr_matrix) -> np.ndarray:
    """`scores` with the seen entries set to -inf (in place)."""
    if seen.nnz:
        r, c = seen.nonzero()
        scores[r, c] = -np.inf
    return scores


def interacted_only(interactions: Interactions) -> Interactions:
    """`interactions` re-indexed onto the items that have at least one interaction."""
    used = np.bincount(interactions.item_pos, minlength=len(interactions.items)) > 0
    if used.all():
        return interactions
    keep = np.flatnonzero(used)
    remap = np.full(len(used), -1, np.int64)
    remap[keep] = np.arange(len(keep))
    it = interactions
    items = IdIndex(it.items.ids_at(keep))
    return Interactions(it.users, items, it.user_pos, remap[it.item_pos], it.weights, it.timestamps)


class ScoringSource(ABC):
    """Base of the sources here: scores for every item from a history row; `generate` is the
    top-k of them. Fitted state: `items_` (the scoring space), `history_`, `interactions_`."""

    name: str = "source"
    items_: IdIndex
    history_: sp.csr_matrix
    interactions_: Interactions

    def fit(self, interactions: Interactions, item_vectors: ItemVectors | None = None) -> Self:
        check_interactions(interactions)
        data = self._fit(interactions, item_vectors)
        self.items_ = data.items
        n = len(data.items)
        self.history_ = user_histories(data, n, np.arange(n))
        self.interactions_ = data
        return self

    @abstractmethod
    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> Interactions:
        """Learn; returns the interactions on the item space the source scores."""

    @abstractmethod
    def score_matrix(self, user_ids: Sequence[str], hist: sp.csr_matrix) -> np.ndarray:
        """Dense float64 (users x items_) scores for history rows (recency ranks as data);
        -inf where the source does not propose the item. Seen items are not removed here."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "interactions_"):
            raise NotFitted(f"{type(self).__name__} is not fitted; call fit() first")

    def generate(
        self,
        user_ids: Sequence[str],
        k: int,
        histories: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Recommendations]:
        self._check_fitted()
        if k < 0:
            raise InvalidInput("must be >= 0", field="k")
        user_ids = list(user_ids)
        out: list[Recommendations] = []
        for start in range(0, len(user_ids), BATCH):
            batch = user_ids[start : start + BATCH]
            hist, seen = self.rows(batch, histories)
            scores = exclude_seen(self.score_matrix(batch, hist), seen)
            idx, vals = top_n(scores, k)
            for row, user in enumerate(batch):
                ok = idx[row] >= 0
                ids = tuple(self.items_.ids_at(idx[row][ok]))
                out.append(Recommendations(user, ids, vals[row][ok]))
        return out

    def rows(
        self, user_ids: Sequence[str], histories: Mapping[str, Sequence[str]] | None
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(history rows, seen items) for users, see `history_rows`."""
        self._check_fitted()
        upos = self.interactions_.users.positions(list(user_ids))
        return history_rows(self.items_, self.history_, upos, user_ids, histories)


# -- the sources ---------------------------------------------------------------------------------


class CollaborativeSource(ScoringSource):
    """Proposals of a collaborative feedcraft recommender (EASE, item-kNN, ALS, BPR...).

    `model` is a template: `fit` fits a fresh copy of it (`model_`), as scikit-learn's
    meta-estimators clone theirs. A model that needs no item vectors is fitted on the items
    with interactions only (it cannot score the others; kNN's cost grows with the square of
    the item count). Scores are the model's own; items outside its space get -inf. Users
    with no history get what the model gives them (popularity for these models).
    """

    def __init__(self, model: MatrixRecommender, name: str | None = None) -> None:
        self.model = model
        self.name = name or model.name

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> Interactions:
        if not isinstance(self.model, MatrixRecommender):
            raise InvalidInput(
                f"expected a MatrixRecommender, got {type(self.model).__name__}", field="model"
            )
        model = type(self.model)(**self.model.get_params())
        if model.needs_item_vectors:
            model.fit(interactions, item_vectors)
        else:  # only interacted items: the others it could not score anyway (cheaper kNN)
            model.fit(interacted_only(interactions))
        self.model_ = model
        pos = model.items_.positions(list(interactions.items.ids))
        # (source items x model items) selection: history rows move into the model's space
        ok = np.flatnonzero(pos >= 0)
        self.to_model_ = sp.csr_matrix(
            (np.ones(len(ok)), (ok, pos[ok])), shape=(len(interactions.items), len(model.items_))
        )
        self.model_pos_ = pos
        return interactions

    def reweighted(self, recency_half_life: float | None, name: str) -> CollaborativeSource:
        """This fitted source scoring a differently weighted history row (the model's
        `recency_half_life`), without refitting: the copy shares the learned weights."""
        self._check_fitted()
        if not hasattr(self.model_, "recency_half_life"):
            raise InvalidInput(f"{self.model_.name} has no recency_half_life", field="model")
        out = copy.copy(self)
        out.name = name
        out.model_ = copy.copy(self.model_)
        out.model_.recency_half_life = recency_half_life
        return out

    def score_matrix(self, user_ids: Sequence[str], hist: sp.csr_matrix) -> np.ndarray:
        h = select_columns(hist, self.model_pos_, len(self.model_.items_))
        # the model's own scoring path: the same numbers its `recommend` ranks by
        raw = self.model_._predict(list(user_ids), h, None)
        # one gather along the model's positions, then -inf where the model has no item: a
        # boolean-masked assignment of the same columns cost 0.3 ms a request
        if raw.shape[1] == 0:
            return np.full((hist.shape[0], len(self.model_pos_)), -np.inf)
        out = np.take(raw, np.maximum(self.model_pos_, 0), axis=1)
        out[:, self.model_pos_ < 0] = -np.inf
        return out


class ExactSearch:
    """Exact cosine search over a fixed matrix (the default `search` of `ContentSource`);
    ties go to the lower row. Rows of `matrix` must be L2-normalised."""

    def __init__(self, ids: IdIndex, matrix: np.ndarray) -> None:
        self.ids = ids
        self.matrix = np.asarray(matrix, np.float64)

    def __call__(
        self, query: np.ndarray, k: int, exclude: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        s = self.matrix @ np.asarray(query, np.float64)
        pos = self.ids.positions(list(exclude))
        s[pos[pos >= 0]] = -np.inf
        idx, vals = top_n(s[None, :], k)
        ok = idx[0] >= 0
        return list(zip(self.ids.ids_at(idx[0][ok]), vals[0][ok].tolist(), strict=True))


class ContentSource(ScoringSource):
    """Items nearest to the user's profile: the recency-weighted mean of the history's vectors
    (the newest item 1, halving every `recency_half_life` items back; None = plain mean).

    The item space is the interacted items plus every item with a vector, so never-clicked
    items are reachable. `generate` asks `search` (default: exact numpy over the fitted
    vectors) for each user's nearest items; `score_matrix` is always exact, since a ranker
    needs the similarity of every candidate, not only of the nearest ones. Items without a
    vector, and users without a usable profile, get no proposals (-inf).
    """

    def __init__(
        self,
        recency_half_life: float | None = 4.0,
        search: SearchFn | None = None,
        name: str = "content",
    ) -> None:
        self.recency_half_life = recency_half_life
        self.search = search
        self.name = name

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> Interactions:
        if item_vectors is None:
            raise InvalidInput("ContentSource needs item vectors", field="item_vectors")
        if self.recency_half_life is not None and self.recency_half_life <= 0:
            raise InvalidInput("must be positive or None", field="recency_half_life")
        data = extended_items(interactions, item_vectors.ids.ids)
        pos = item_vectors.ids.positions(list(data.items.ids))
        self.has_vector_ = pos >= 0
        vectors = np.zeros((len(data.items), item_vectors.dim), np.float32)
        vectors[self.has_vector_] = item_vectors.matrix[pos[self.has_vector_]]
        self.vectors_ = vectors
        return data

    def profiles(self, hist: sp.csr_matrix) -> np.ndarray:
        """Unit-length user profiles (zero rows where the history has no vector)."""
        w = recency_rows(hist, self.recency_half_life).astype(np.float32)
        # float32 weights: with float64 ones scipy upcast the whole vector matrix per call
        p = np.asarray(w @ self.vectors_, np.float64)
        norms = np.linalg.norm(p, axis=1)
        ok = norms > 1e-12
        p[ok] /= norms[ok, None]
        p[~ok] = 0.0
        return p

    def score_matrix(self, user_ids: Sequence[str], hist: sp.csr_matrix) -> np.ndarray:
        p = self.profiles(hist)
        # float32: a request reads the whole (items x dim) matrix, and half the bytes took a
        # third of the time (0.59 vs 1.70 ms for 9,742 MiniLM vectors). One matrix-vector
        # product per user, never one product for the batch: a batched product rounds
        # differently, and a user's features (so their feed) must not depend on who else
        # was scored with them
        out = np.empty((hist.shape[0], len(self.vectors_)))
        for u, profile in enumerate(p.astype(np.float32)):
            out[u] = self.vectors_ @ profile
        out[:, ~self.has_vector_] = -np.inf
        out[~p.any(axis=1)] = -np.inf
        return out

    def generate(
        self,
        user_ids: Sequence[str],
        k: int,
        histories: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Recommendations]:
        self._check_fitted()
        if k < 0:
            raise InvalidInput("must be >= 0", field="k")
        search = self.search
        if search is None:
            has = np.flatnonzero(self.has_vector_)
            search = ExactSearch(IdIndex(self.items_.ids_at(has)), self.vectors_[has])
        user_ids = list(user_ids)
        hist, seen = self.rows(user_ids, histories)
        profiles = self.profiles(hist)
        out = []
        for r, user in enumerate(user_ids):
            if not profiles[r].any() or k == 0:
                out.append(Recommendations(user, (), np.zeros(0)))
                continue
            exclude = self.items_.ids_at(seen.indices[seen.indptr[r] : seen.indptr[r + 1]])
            found = list(search(profiles[r], k, exclude))[:k]
            out.append(
                Recommendations(user, tuple(i for i, _ in found), np.array([s for _, s in found]))
            )
        return out


class PopularitySource(ScoringSource):
    """The most interacted items, each event weighted 0.5 ** (age / half-life) from the newest
    one (None = plain counts). The same for everyone; items never interacted with are not
    proposed."""

    def __init__(self, half_life_days: float | None = None, name: str = "popularity") -> None:
        self.half_life_days = half_life_days
        self.name = name

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> Interactions:
        counts = decayed_counts(interactions, self.half_life_days)
        self.scores_ = np.where(counts > 0, counts, -np.inf)
        return interactions

    def score_matrix(self, user_ids: Sequence[str], hist: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.scores_, (hist.shape[0], 1))


class TrendingSource(ScoringSource):
    """Items gaining attention now: recent counts (half-life `half_life_days`) minus what the
    item's long-run share (half-life `baseline_half_life_days`, None = all time) predicts.

    score_i = r_i - (Σr / Σb)·b_i with r, b the two decayed counts; a rising item scores
    above zero, a steadily popular one near zero. Only items with a positive score are
    proposed, so on a log with no recent events this source proposes nothing.
    """

    def __init__(
        self,
        half_life_days: float = 7.0,
        baseline_half_life_days: float | None = 365.0,
        name: str = "trending",
    ) -> None:
        self.half_life_days = half_life_days
        self.baseline_half_life_days = baseline_half_life_days
        self.name = name

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> Interactions:
        recent = decayed_counts(interactions, self.half_life_days)
        base = decayed_counts(interactions, self.baseline_half_life_days)
        lift = recent - recent.sum() / max(base.sum(), 1e-300) * base
        self.lift_ = lift
        self.scores_ = np.where(lift > 1e-12 * max(recent.max(), 1.0), lift, -np.inf)
        return interactions

    def score_matrix(self, user_ids: Sequence[str], hist: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.scores_, (hist.shape[0], 1))


def category_matrix(
    items: IdIndex, item_categories: Mapping[str, Sequence[str]] | None
) -> tuple[sp.csr_matrix, tuple[str, ...]]:
    """(items x categories binary CSR, category names sorted) from an id -> categories map;
    items absent from the map have no category."""
    if not item_categories:
        return sp.csr_matrix((len(items), 0)), ()
    names = tuple(sorted({c for cs in item_categories.values() for c in cs}))
    col = {c: j for j, c in enumerate(names)}
    rows, cols = [], []
    for item, cats in item_categories.items():
        p = items.get(item)
        if p < 0:
            continue
        for c in dict.fromkeys(cats):
            rows.append(p)
            cols.append(col[c])
    m = sp.csr_matrix(
        (np.ones(len(rows)), (np.array(rows, np.int64), np.array(cols, np.int64))),
        shape=(len(items), len(names)),
    )
    return m, names


def category_shares(hist: sp.csr_matrix, categories: sp.csr_matrix) -> np.ndarray:
    """Users x categories: each user's share of (distinct) history items in each category
    (an item in two categories counts for both); zero rows for empty histories.

    Counted from the CSR arrays with one bincount (a sparse product built four sparse
    objects, ~0.1 ms of a request); the counts are integers, so exact in any order."""
    n_rows, n_cats = hist.shape[0], categories.shape[1]
    lengths = np.diff(hist.indptr)
    starts = categories.indptr[hist.indices]
    per_item = categories.indptr[hist.indices + 1] - starts
    # positions in `categories.indices` of every history item's categories, item by item
    offsets = np.arange(int(per_item.sum())) - np.repeat(np.cumsum(per_item) - per_item, per_item)
    cats = categories.indices[np.repeat(starts, per_item) + offsets]
    owner = np.repeat(np.repeat(np.arange(n_rows), lengths), per_item)
    counts = np.bincount(owner * n_cats + cats, minlength=n_rows * n_cats)
    n = lengths.astype(np.float64)
    return counts.reshape(n_rows, n_cats).astype(np.float64) / np.maximum(n, 1.0)[:, None]


class FreshSource(ScoringSource):
    """The newest items by `published_at` (item id -> unix seconds), for cold start.

    With `item_categories` (item id -> categories), a user with history sees only items from
    categories they follow: at least `follow_share` of their history items are in it. Users
    with no history, or no category past the threshold, see the newest items of all. The score
    is the publication time in days, so newer is higher; items without a date are not proposed.
    """

    def __init__(
        self,
        published_at: Mapping[str, float],
        item_categories: Mapping[str, Sequence[str]] | None = None,
        follow_share: float = 0.2,
        name: str = "fresh",
    ) -> None:
        self.published_at = published_at
        self.item_categories = item_categories
        self.follow_share = follow_share
        self.name = name

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> Interactions:
        if not 0.0 < self.follow_share <= 1.0:
            raise InvalidInput("must be in (0, 1]", field="follow_share")
        data = extended_items(interactions, list(self.published_at))
        dates = np.full(len(data.items), -np.inf)
        for item, t in self.published_at.items():
            dates[data.items.position(item)] = float(t) / _DAY
        self.dates_ = dates
        self.categories_, self.category_names_ = category_matrix(data.items, self.item_categories)
        return data

    def score_matrix(self, user_ids: Sequence[str], hist: sp.csr_matrix) -> np.ndarray:
        out = np.tile(self.dates_, (hist.shape[0], 1))
        if self.categories_.shape[1] == 0:
            return out
        follows = category_shares(hist, self.categories_) >= self.follow_share
        has = follows.any(axis=1)
        if has.any():
            # (items x categories) CSR times a dense (categories x users) block: no transposed
            # sparse copy of the category matrix per request (that cost 3 ms a feed)
            allowed = (self.categories_ @ follows[has].T.astype(np.float64)).T > 0
            sub = out[has]
            sub[~allowed] = -np.inf
            out[has] = sub
        return out


# -- merging -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """One user's merged pool: each candidate once, with every source's score and (0-based)
    rank for it (NaN / -1 where that source did not propose it), and who proposed it.

    Order: best rank over sources first, ties by source order, then by item id.
    """

    user_id: str
    item_ids: tuple[str, ...]
    sources: tuple[str, ...]
    scores: np.ndarray  # (n candidates, n sources) float64
    ranks: np.ndarray  # (n candidates, n sources) int64

    def proposed_by(self, index: int) -> tuple[str, ...]:
        """Names of the sources that proposed candidate `index`."""
        return tuple(s for s, r in zip(self.sources, self.ranks[index], strict=True) if r >= 0)

    def __len__(self) -> int:
        return len(self.item_ids)


def merge(lists: Mapping[str, Sequence[Recommendations]]) -> list[Candidates]:
    """De-duplicate the proposals of several sources (name -> one list per user, the users in
    the same order for every source) into one pool per user."""
    names = tuple(lists)
    if not names:
        return []
    per_source = [list(lists[n]) for n in names]
    n_users = len(per_source[0])
    for name, recs in zip(names, per_source, strict=True):
        if len(recs) != n_users:
            raise InvalidInput(f"{name!r} has {len(recs)} lists, expected {n_users}", field=name)
    out = []
    for u in range(n_users):
        user = per_source[0][u].user_id
        best: dict[str, tuple[int, int]] = {}
        for s, recs in enumerate(per_source):
            if recs[u].user_id != user:
                raise InvalidInput(
                    f"user order differs: {recs[u].user_id!r} where {user!r}", field=names[s]
                )
            for rank, item in enumerate(recs[u].item_ids):
                if item not in best or (rank, s) < best[item]:
                    best[item] = (rank, s)
        items = sorted(best, key=lambda i: (*best[i], i))
        where = {item: j for j, item in enumerate(items)}
        scores = np.full((len(items), len(names)), np.nan)
        ranks = np.full((len(items), len(names)), -1, np.int64)
        for s, recs in enumerate(per_source):
            for rank, (item, score) in enumerate(recs[u]):
                j = where[item]
                if ranks[j, s] < 0:  # a source listing an item twice keeps its first place
                    scores[j, s], ranks[j, s] = score, rank
        out.append(Candidates(user, tuple(items), names, scores, ranks))
    return out

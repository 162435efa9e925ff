"""Matrix factorisation fused with content: R ≈ U·Vᵀ with item factors tied to item vectors.

The seed's matrix-factorisation view of the hybrid, in the spirit of LightFM (an item's
representation includes a projection of its content features): implicit-feedback ALS
(Hu, Koren & Volinsky 2008) where each item factor is pulled towards a linear projection of
its content vector, v_i ≈ x_i·W, instead of towards zero. The item step solves

    (UᵀU + Σ_u (c - 1)·u uᵀ + (λ + β)·I) v_i = Σ_u c·u + β·x_i W

and W is refitted by ridge regression of V on X after each sweep. β
(`content_regularization`) sets how strongly content shapes the factors; β = 0 is plain
ALS. Items without interactions (new in the catalogue) get their content's factor x_i·W,
so they can be recommended; items without a vector are pulled towards zero as in
plain ALS. Users are folded in from the history row at scoring time, as in `factorization`.

Written in numpy rather than on `implicit` because the item step needs the prior term,
which implicit's solvers do not expose. The item and user steps are solved per row in
closed form (Cholesky), single-threaded BLAS, as `factorization.fold_in` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders._common import (
    MatrixRecommender,
    decayed_counts,
    extended_items,
    recency_rows,
    user_histories,
)
from feedcraft.recommenders.factorization import fold_in

#: Weight of popularity in scores, only to order items the factors leave tied.
_TIE_BREAK = 1e-9


def _solve_rows(
    rows: sp.csr_matrix,
    other: np.ndarray,
    regularization: float,
    alpha: float,
    prior: np.ndarray | None = None,
    prior_weight: float = 0.0,
) -> np.ndarray:
    """Factors for each row of `rows` (binary preferences, confidence `alpha` on entries),
    `other` fixed, ridge towards `prior` (rows x f) with weight `prior_weight`."""
    f = other.shape[1]
    gram = other.T @ other
    base = gram + (regularization + prior_weight) * np.eye(f)
    out = np.zeros((rows.shape[0], f))
    rhs_prior = prior_weight * prior if prior is not None and prior_weight > 0 else None
    if rhs_prior is not None:  # rows without entries: only the prior pulls them
        out[:] = np.linalg.solve(base, rhs_prior.T).T
    for r in range(rows.shape[0]):
        lo, hi = rows.indptr[r], rows.indptr[r + 1]
        if lo == hi:
            continue
        o = other[rows.indices[lo:hi]]
        a = base + (alpha - 1.0) * (o.T @ o)
        b = alpha * o.sum(axis=0)
        if rhs_prior is not None:
            b = b + rhs_prior[r]
        out[r] = np.linalg.solve(a, b)
    return out


class ContentFactorRecommender(MatrixRecommender):
    """Implicit ALS whose item factors are regularised towards a projection of content.

    `factors`, `regularization` (λ), `alpha` (confidence on observed items) and
    `iterations` as in `ials`; `content_regularization` (β) ties item factors to x_i·W;
    `projection_regularization` is the ridge on W. `recency_half_life` weighs recent history
    items higher when a user is folded in (None = all equal).

    Defaults: the best of a small grid on MovieLens validation (benchmarks/peers.py,
    approach 5): validation NDCG@10 0.1398 (β = 0, i.e. plain ALS with recency: 0.1337),
    test 0.1355 against 0.1136 for plain ALS and 0.1300 for EASE; below the hybrid (0.1470).
    """

    name = "ials-content"
    needs_item_vectors = True
    #: Below every squashed score and popularity share.
    lowest_prior = -1.0

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 1.0,
        alpha: float = 1.0,
        iterations: int = 10,
        content_regularization: float = 100.0,
        projection_regularization: float = 1.0,
        recency_half_life: float | None = 2.0,
        random_state: int | None = 42,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.content_regularization = content_regularization
        self.projection_regularization = projection_regularization
        self.recency_half_life = recency_half_life
        self.random_state = random_state

    def _check(self) -> None:
        if self.factors < 1:
            raise InvalidInput("must be >= 1", field="factors")
        if self.iterations < 1:
            raise InvalidInput("must be >= 1", field="iterations")
        if not self.regularization > 0:
            raise InvalidInput("must be positive", field="regularization")
        if not self.alpha >= 1:
            raise InvalidInput("must be >= 1 (confidence on observed items)", field="alpha")
        if not self.content_regularization >= 0:
            raise InvalidInput("must be >= 0", field="content_regularization")
        if not self.projection_regularization > 0:
            raise InvalidInput("must be positive", field="projection_regularization")
        if self.recency_half_life is not None and self.recency_half_life <= 0:
            raise InvalidInput("must be positive or None", field="recency_half_life")

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        self._check()
        data = interactions
        if item_vectors is not None:  # new items with a vector join the scoring space
            data = extended_items(interactions, item_vectors.ids.ids)
        n_items = len(data.items)
        x = data.matrix(binary=True)
        content, has = _aligned(data, item_vectors)
        rng = np.random.default_rng(self.random_state)
        f = self.factors
        v = rng.normal(0.0, 0.01, (n_items, f))
        w = np.zeros((content.shape[1], f))
        beta = float(self.content_regularization)
        xt = sp.csr_matrix(x.T)
        with threadpool_limits(1, "blas"):
            for _ in range(self.iterations):
                u = _solve_rows(x, v, self.regularization, self.alpha)
                prior = content @ w
                v = _solve_rows(xt, u, self.regularization, self.alpha, prior, beta)
                w = _ridge(content[has], v[has], self.projection_regularization)
        # items nobody interacted with are placed by content alone (LightFM's view): their
        # shrunken solve above only says that nobody has seen them yet
        new = has & (np.diff(xt.indptr) == 0)
        if beta > 0:
            v[new] = content[new] @ w
        self.item_factors_ = v
        self.projection_ = w
        counts = decayed_counts(data, None)
        self.popularity_ = counts / max(counts.max(), 1.0)
        self.items_ = data.items
        self.history_ = user_histories(data, n_items, np.arange(n_items))

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        weighted = recency_rows(hist, self.recency_half_life)
        users = fold_in(weighted, self.item_factors_, self.regularization, self.alpha)
        raw = users @ self.item_factors_.T
        scores = raw / (1.0 + np.abs(raw)) + _TIE_BREAK * self.popularity_
        cold = np.diff(hist.indptr) == 0
        scores[cold] = self.popularity_
        return scores if cols is None else scores[:, cols]


def _aligned(data: Interactions, vectors: ItemVectors | None) -> tuple[np.ndarray, np.ndarray]:
    """(items x dim float64 content rows, zero where missing; which items have one)."""
    if vectors is None:
        return np.zeros((len(data.items), 0)), np.zeros(len(data.items), bool)
    pos = vectors.ids.positions(list(data.items.ids))
    has = pos >= 0
    out = np.zeros((len(data.items), vectors.dim))
    out[has] = vectors.matrix[pos[has]]
    return out, has


def _ridge(x: np.ndarray, y: np.ndarray, regularization: float) -> np.ndarray:
    """argmin_W ‖Y - XW‖² + reg·‖W‖² (zeros when there is nothing to fit)."""
    if x.shape[0] == 0 or x.shape[1] == 0:
        return np.zeros((x.shape[1], y.shape[1]))
    a = x.T @ x + regularization * np.eye(x.shape[1])
    return np.linalg.solve(a, x.T @ y)

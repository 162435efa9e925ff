"""Matrix factorisation R ≈ U·Vᵀ with the `implicit` library: ALS (Hu, Koren & Volinsky 2008)
and BPR (Rendle et al. 2009), on the CPU.

Only the item factors V are kept from training. A user's factor is always folded in from
the history row being scored (the implicit-feedback least-squares solve of ALS, with V
fixed), so a known user and a stranger with the same history get the same list, and new
users need no retraining. For ALS this is exactly implicit's `recalculate_user`; BPR has
no such path, so the same solve is used on its factors as a projection.

`implicit` is imported only when fitting; it is an optional dependency of feedcraft.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput, Unavailable
from feedcraft.recommenders._common import (
    MatrixRecommender,
    decayed_counts,
    recency_rows,
    user_histories,
)

#: Weight of popularity in scores, only to order items the factors leave tied.
_TIE_BREAK = 1e-9


def _implicit() -> Any:
    try:
        import implicit
        import implicit.cpu.als
        import implicit.cpu.bpr
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise Unavailable(
            "the ALS and BPR recommenders need the 'implicit' package (pip install implicit)"
        ) from exc
    return implicit


def fold_in(
    hist: sp.csr_matrix, factors: np.ndarray, regularization: float, alpha: float
) -> np.ndarray:
    """User factors for weighted history rows, item factors fixed (implicit-feedback ALS).

    Per user: (VᵀV + λI + Σ_i (c_i - 1) v_i v_iᵀ) u = Σ_i c_i v_i with c_i = alpha · w_i over
    the history items i (weights w_i), the preference 1 on them and 0 elsewhere. Rows
    without entries get zero factors. BLAS runs single-threaded here: on these small systems
    its thread pool costs far more than it saves (20x slower on 2 busy cores).
    """
    with threadpool_limits(1, "blas"):
        return _fold_in(hist, factors, regularization, alpha)


def _fold_in(
    hist: sp.csr_matrix, factors: np.ndarray, regularization: float, alpha: float
) -> np.ndarray:
    v = np.asarray(factors, np.float64)
    f = v.shape[1]
    base = v.T @ v + regularization * np.eye(f)
    out = np.zeros((hist.shape[0], f))
    for r in range(hist.shape[0]):
        lo, hi = hist.indptr[r], hist.indptr[r + 1]
        if lo == hi:
            continue
        vi = v[hist.indices[lo:hi]]
        c = alpha * np.asarray(hist.data[lo:hi], np.float64)
        a = base + (vi * (c - 1.0)[:, None]).T @ vi
        out[r] = np.linalg.solve(a, vi.T @ c)
    return out


def _squash(s: np.ndarray) -> np.ndarray:
    """s / (1 + |s|): keeps the order, maps every score into (-1, 1) so that the lowest
    prior (-1) sits below any of them."""
    return s / (1.0 + np.abs(s))


class _FactorizationRecommender(MatrixRecommender):
    """Shared fit/predict; subclasses build the `implicit` model."""

    #: Below every squashed score and popularity share.
    lowest_prior = -1.0
    factors: int
    iterations: int
    regularization: float
    alpha: float
    random_state: int | None
    num_threads: int
    recency_half_life: float | None

    def _make(self, implicit: Any) -> Any:
        raise NotImplementedError

    def _check(self) -> None:
        if self.factors < 1:
            raise InvalidInput("must be >= 1", field="factors")
        if self.iterations < 1:
            raise InvalidInput("must be >= 1", field="iterations")
        if not self.regularization >= 0:
            raise InvalidInput("must be >= 0", field="regularization")
        if not self.alpha > 0:
            raise InvalidInput("must be positive", field="alpha")
        if self.num_threads < 0:
            raise InvalidInput("must be >= 0 (0 = all cores)", field="num_threads")

    def _fit(self, interactions: Interactions, item_vectors: ItemVectors | None) -> None:
        self._check()
        implicit = _implicit()
        n_items = len(interactions.items)
        x = sp.csr_matrix(interactions.matrix(binary=True), dtype=np.float32)  # users x items
        # implicit solves many small systems itself; a threaded BLAS underneath only slows it
        with threadpool_limits(1, "blas"):
            model = self._make(implicit)
            model.fit(x, show_progress=False)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float64)
        counts = decayed_counts(interactions, None)
        self.popularity_ = counts / max(counts.max(), 1.0)
        self.items_ = interactions.items
        self.history_ = user_histories(interactions, n_items, np.arange(n_items))

    def _user_factors(self, hist: sp.csr_matrix) -> np.ndarray:
        w = recency_rows(hist, self.recency_half_life)
        return fold_in(w, self.item_factors_, self.regularization, self.alpha)

    def _raw(self, users: np.ndarray) -> np.ndarray:
        return users @ self.item_factors_.T

    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        scores = _squash(self._raw(self._user_factors(hist)))
        scores += _TIE_BREAK * self.popularity_
        cold = np.diff(hist.indptr) == 0
        scores[cold] = self.popularity_
        return scores if cols is None else scores[:, cols]


class ALSRecommender(_FactorizationRecommender):
    """Implicit-feedback ALS (implicit's conjugate-gradient solver): binary preferences with
    confidence `alpha` on observed items, ridge `regularization`, `factors` dimensions.

    Users are folded in from their history row (see the module docstring);
    `recency_half_life` optionally weighs the confidence of recent items higher at that step
    (the newest 1, halving every that many items back; None = all equal). ALS is
    deterministic for a given `random_state` whatever `num_threads` (users, and then items,
    are solved independently of each other). Registered as "ials", the literature's name
    for implicit-feedback ALS. Defaults: the best of a small grid on MovieLens validation
    (benchmarks/peers.py).
    """

    name = "ials"

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        recency_half_life: float | None = None,
        random_state: int | None = 42,
        num_threads: int = 1,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.recency_half_life = recency_half_life
        self.random_state = random_state
        self.num_threads = num_threads

    def _make(self, implicit: Any) -> Any:
        return implicit.cpu.als.AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.random_state,
            num_threads=self.num_threads,
        )


class BPRRecommender(_FactorizationRecommender):
    """Bayesian personalised ranking by SGD on sampled (user, seen, unseen) triples.

    implicit's BPR runs Hogwild SGD: only `num_threads=1` is reproducible for a given
    `random_state`, hence the default. Its item factors carry an item bias (the last
    column), which stays in the score; users are folded in by the least-squares solve on the
    other columns (`fold_in_regularization`, confidence `alpha`), since BPR has no closed
    form for a new user. A strong ridge works best there (on MovieLens validation, 100 with
    alpha 5 matched implicit's own learned user factors; 1 lost 0.01 NDCG@10).
    """

    name = "bpr"

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 100,
        fold_in_regularization: float = 100.0,
        alpha: float = 5.0,
        recency_half_life: float | None = None,
        random_state: int | None = 42,
        num_threads: int = 1,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.fold_in_regularization = fold_in_regularization
        self.alpha = alpha
        self.recency_half_life = recency_half_life
        self.random_state = random_state
        self.num_threads = num_threads

    def _check(self) -> None:
        super()._check()
        if not self.learning_rate > 0:
            raise InvalidInput("must be positive", field="learning_rate")
        if not self.fold_in_regularization > 0:
            raise InvalidInput("must be positive", field="fold_in_regularization")

    def _make(self, implicit: Any) -> Any:
        return implicit.cpu.bpr.BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=self.random_state,
            num_threads=self.num_threads,
        )

    def _user_factors(self, hist: sp.csr_matrix) -> np.ndarray:
        w = recency_rows(hist, self.recency_half_life)
        return fold_in(w, self.item_factors_[:, :-1], self.fold_in_regularization, self.alpha)

    def _raw(self, users: np.ndarray) -> np.ndarray:
        v = self.item_factors_
        return users @ v[:, :-1].T + v[:, -1]

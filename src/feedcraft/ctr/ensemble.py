"""Several headline click models scored as one.

On held-out Upworthy weeks the best headline scores measured are combinations: fine-tuned
models of one encoder with different seeds, and above all models of two encoders (the
fine-tuned mpnet and MiniLM ensembles, whose scores correlate 0.84, together reach 0.6475
pairwise accuracy where the better alone reaches 0.641; benchmarks/README.md). This makes such
a combination a model of its own, so `train-headlines` can save it and `score-headlines` and
the generation tasks can use it like any other.

The combined lift is a weighted mean of each member's standardised lift, brought back to
log-odds units:

    lift(x) = u * sum_k w_k * f_k(x) / s_k,   u = sum_k w_k * s_k,   sum_k w_k = 1,

where f_k is member k's lift (its `score`: a log CTR ratio against an average headline of its
training data) and s_k its standard deviation over training headlines. Standardising first
means a member whose lifts are spread wider does not dominate (this is the equal-weight
z-score blend the benchmarks measured); multiplying by u keeps the result a lift in the
members' own units, so p_click stays sigmoid(logit(base) + lift). For members of one recipe
(seeds), s_k are about equal and the lift is about the plain mean of the members' lifts.
s_k are estimated on at most `scale_sample` training rows, so they do not depend on what is
scored later.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from feedcraft.ctr.data import HeadlineVariants, string_column
from feedcraft.ctr.models import HeadlineScorer, LiftClickModel, encoder_for
from feedcraft.embeddings import Encoder
from feedcraft.errors import InvalidInput, NotFitted

__all__ = ["HeadlineEnsemble"]


class HeadlineEnsemble(LiftClickModel):
    """A weighted combination of headline click models (see the module docstring).

    members: the models, unfitted (`fit` fits a copy of each, so the same list can build
    several ensembles) or, with `prefit=True`, already fitted (`fit` then only measures their
    spread on `variants`: the way to join models trained elsewhere, say one fine-tuned on a
    GPU machine and one on a laptop). weights: one non-negative weight per member (default
    equal), normalised to sum to 1. scale_sample: training rows used to measure each member's
    spread. seed: which rows.
    """

    def __init__(
        self,
        members: Sequence[Any],
        *,
        weights: Sequence[float] | None = None,
        prefit: bool = False,
        scale_sample: int = 2000,
        seed: int = 0,
    ) -> None:
        self.members = members
        self.weights = weights
        self.prefit = prefit
        self.scale_sample = scale_sample
        self.seed = seed

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_machine_cache", None)  # this machine's folder, not the model's
        return state

    def use_machine_cache(self, folder: Path | None) -> Self:
        """This machine's cache folder (settings `cache_dir`) for the members that keep
        something there (a fine-tuned GGUF backbone's conversion), and for the copies `fit`
        trains; a run-time setting, never pickled."""
        self._machine_cache = folder
        for member in [*self.members, *getattr(self, "members_", [])]:
            _pass_cache(member, folder)
        return self

    # -- fitting --------------------------------------------------------------------------
    def _checked_weights(self) -> np.ndarray:
        if isinstance(self.members, str | bytes) or not isinstance(self.members, Sequence):
            raise InvalidInput("expected a sequence of headline models", field="members")
        if len(self.members) == 0:
            raise InvalidInput("needs at least one model", field="members")
        for k, m in enumerate(self.members):
            if not isinstance(m, HeadlineScorer) or not callable(getattr(m, "fit", None)):
                raise InvalidInput(
                    f"member {k} ({type(m).__name__}) is not a headline click model",
                    field="members",
                )
        if not isinstance(self.scale_sample, int) or self.scale_sample < 2:
            raise InvalidInput("must be an integer >= 2", field="scale_sample")
        if self.weights is None:
            return np.full(len(self.members), 1.0 / len(self.members))
        w = np.asarray(list(self.weights), dtype=np.float64)
        if w.shape != (len(self.members),):
            raise InvalidInput(
                f"has {w.size} values for {len(self.members)} members", field="weights"
            )
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise InvalidInput("must be finite, >= 0 and not all 0", field="weights")
        return np.asarray(w / w.sum(), dtype=np.float64)

    def fit(
        self,
        variants: HeadlineVariants,
        *,
        encoder: Encoder | None = None,
        progress: bool = False,
    ) -> HeadlineEnsemble:
        """Fit copies of the members on `variants` (or, with `prefit`, take them as they are)
        and measure each one's spread there; returns self."""
        weights = self._checked_weights()
        if not isinstance(variants, HeadlineVariants):
            raise InvalidInput(
                f"expected HeadlineVariants, got {type(variants).__name__}", field="variants"
            )
        if len(variants) == 0:
            raise InvalidInput("no variants to learn from", field="variants")
        start = time.perf_counter()
        members: list[Any] = []
        for k, member in enumerate(self.members):
            if self.prefit:
                members.append(member)
                continue
            if progress:
                print(f"member {k + 1}/{len(self.members)}: {type(member).__name__}", flush=True)
            fresh = copy.deepcopy(member)  # run-time settings are not copied: passed again
            _pass_cache(fresh, getattr(self, "_machine_cache", None))
            fresh.fit(variants, encoder=encoder, progress=progress)
            members.append(fresh)
        rng = np.random.default_rng(self.seed)
        n = min(self.scale_sample, len(variants))
        rows = np.sort(rng.choice(len(variants), size=n, replace=False))
        texts = [
            [values[i] for i in rows]
            for values in (variants.headlines, variants.excerpts, variants.ledes)
        ]
        scales = np.zeros(len(members))
        for k, member in enumerate(members):
            if progress:
                print(f"member {k + 1}/{len(members)}: spread over {n} training rows", flush=True)
            try:
                lift = self._member_score(member, *texts, encoder=encoder)
            except NotFitted as exc:
                raise InvalidInput(
                    f"member {k} is not fitted; fit it first or use prefit=False",
                    field="members",
                ) from exc
            scales[k] = float(np.std(lift))
            if not (math.isfinite(scales[k]) and scales[k] > 0):
                raise InvalidInput(
                    f"member {k} gives every sampled headline the same score; it cannot rank",
                    field="members",
                )
        self.members_ = members
        self.weights_ = weights
        self.scales_ = scales
        self.unit_ = float(weights @ scales)
        self.base_ctr_ = variants.typical_ctr
        self.fit_seconds_ = time.perf_counter() - start
        return self

    # -- scoring --------------------------------------------------------------------------
    @staticmethod
    def _member_score(
        member: Any,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None,
        ledes: Sequence[str] | None,
        *,
        encoder: Encoder | None,
    ) -> np.ndarray:
        """The member's lifts; `encoder` goes only to a member trained with that encoder (the
        others build their own), so a store's cached vectors reach the members they fit."""
        passed = encoder_for(member, encoder)
        return np.asarray(
            member.score(headlines, excerpts, ledes, encoder=passed), dtype=np.float64
        )

    def score(
        self,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> np.ndarray:
        """The combined lift (module docstring): a log CTR ratio against an average headline."""
        if not hasattr(self, "members_"):
            raise NotFitted("HeadlineEnsemble is not fitted; call fit first")
        heads = string_column(headlines, len(headlines), "headlines", rows="headlines")
        excs = string_column(excerpts, len(heads), "excerpts", rows="headlines")
        leds = string_column(ledes, len(heads), "ledes", rows="headlines")
        total = np.zeros(len(heads), dtype=np.float64)
        for member, w, s in zip(self.members_, self.weights_, self.scales_, strict=True):
            if w > 0:
                total += (w / s) * self._member_score(
                    member,
                    heads,
                    None if excerpts is None else excs,  # absent stays absent: a member
                    None if ledes is None else leds,  # that needs ledes says so
                    encoder=encoder,
                )
        return self.unit_ * total


def _pass_cache(model: Any, folder: Path | None) -> None:
    """`model.use_machine_cache(folder)` where the model has one (not the linear models)."""
    use = getattr(model, "use_machine_cache", None)
    if callable(use):
        use(folder)

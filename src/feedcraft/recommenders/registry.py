"""Recommenders by name, for configs, the CLI and the shared check suite."""

from __future__ import annotations

import importlib.util
from typing import Any

from feedcraft.errors import InvalidInput
from feedcraft.recommenders.base import Recommender
from feedcraft.recommenders.baselines import PopularityRecommender, RandomRecommender
from feedcraft.recommenders.content import ContentBasedRecommender
from feedcraft.recommenders.ease import EASERecommender
from feedcraft.recommenders.factor_content import ContentFactorRecommender
from feedcraft.recommenders.factorization import ALSRecommender, BPRRecommender
from feedcraft.recommenders.hybrid import HybridRecommender
from feedcraft.recommenders.itemknn import ItemKNNRecommender
from feedcraft.recommenders.nrms import NRMSRecommender
from feedcraft.recommenders.ranker import LearnedRanker

#: Models that need the optional `implicit` package; registered only where it is installed.
_NEEDS_IMPLICIT: tuple[type[Recommender], ...] = (ALSRecommender, BPRRecommender)

_MODELS: tuple[type[Recommender], ...] = (
    RandomRecommender,
    PopularityRecommender,
    ItemKNNRecommender,
    ContentBasedRecommender,
    EASERecommender,
    HybridRecommender,
    LearnedRanker,
    NRMSRecommender,
    ContentFactorRecommender,
)
if importlib.util.find_spec("implicit") is not None:
    _MODELS += _NEEDS_IMPLICIT

RECOMMENDERS: dict[str, type[Recommender]] = {cls.name: cls for cls in _MODELS}


def available() -> list[str]:
    """Registered names, sorted."""
    return sorted(RECOMMENDERS)


def make_recommender(name: str, **params: Any) -> Recommender:
    """A new, unfitted recommender; unknown names and parameters raise InvalidInput."""
    try:
        cls = RECOMMENDERS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown recommender {name!r}; choose one of {available()}", field="name"
        ) from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise InvalidInput(f"bad parameters for {name!r}: {exc}", field="params") from None

"""L2 click models: p(click | headline text) learnt from within-test A/B comparisons."""

from feedcraft.ctr.data import HeadlineVariants
from feedcraft.ctr.ensemble import HeadlineEnsemble
from feedcraft.ctr.features import LEXICAL_FEATURES, lexical_features
from feedcraft.ctr.finetuned import FineTunedHeadlineModel
from feedcraft.ctr.models import (
    FIELDS,
    EmbeddingDiffLR,
    HeadlineClickModel,
    HeadlineScorer,
    LexicalPairwiseLR,
    encoder_for,
)
from feedcraft.ctr.pairs import PairAccuracy, WinnerPairs, pairwise_accuracy, winner_pairs

__all__ = [
    "FIELDS",
    "LEXICAL_FEATURES",
    "EmbeddingDiffLR",
    "FineTunedHeadlineModel",
    "HeadlineClickModel",
    "HeadlineEnsemble",
    "HeadlineScorer",
    "HeadlineVariants",
    "LexicalPairwiseLR",
    "PairAccuracy",
    "WinnerPairs",
    "encoder_for",
    "lexical_features",
    "pairwise_accuracy",
    "winner_pairs",
]

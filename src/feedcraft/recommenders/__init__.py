"""L2 recommenders: estimators with one API (see base.Recommender)."""

from feedcraft.recommenders.base import Recommender
from feedcraft.recommenders.baselines import PopularityRecommender, RandomRecommender
from feedcraft.recommenders.content import ContentBasedRecommender
from feedcraft.recommenders.itemknn import ItemKNNRecommender
from feedcraft.recommenders.registry import RECOMMENDERS, available, make_recommender

__all__ = [
    "RECOMMENDERS",
    "ContentBasedRecommender",
    "ItemKNNRecommender",
    "PopularityRecommender",
    "RandomRecommender",
    "Recommender",
    "available",
    "make_recommender",
]

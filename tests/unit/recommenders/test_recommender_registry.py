"""The registry: names to classes, clear errors."""

from __future__ import annotations

import pytest

from feedcraft.errors import InvalidInput
from feedcraft.recommenders import (
    RECOMMENDERS,
    ContentBasedRecommender,
    ItemKNNRecommender,
    available,
    make_recommender,
)


def test_names_map_to_classes() -> None:
    assert available() == sorted(RECOMMENDERS)
    assert isinstance(make_recommender("content"), ContentBasedRecommender)
    model = make_recommender("itemknn", k=7)
    assert isinstance(model, ItemKNNRecommender) and model.k == 7


def test_unknown_name_and_parameter() -> None:
    with pytest.raises(InvalidInput, match="unknown recommender 'als'"):
        make_recommender("als")
    with pytest.raises(InvalidInput, match="bad parameters"):
        make_recommender("popularity", k=3)

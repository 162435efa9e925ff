"""Explanations: each recommendation names the history item that drew it in."""

from __future__ import annotations

import numpy as np
import pytest
from test_recommender_checks import new

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.recommenders import available, make_recommender
from feedcraft.recommenders.explain import anchors

# Toy Story, Scream, The Godfather (MovieLens ids), oldest first
HISTORY = ["1", "1407", "858"]
SEQUELS = {"3114": "1", "1717": "1407", "1221": "858"}  # Toy Story 2, Scream 2, Godfather II


@pytest.mark.parametrize("name", available())
def test_every_model_names_only_history_items_for_listed_items(
    name: str, ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    model = new(name)
    model.fit(ml_small, genre_vectors if model.needs_item_vectors else None)
    history = list(ml_small.items.ids[:20])
    rec = model.recommend(["stranger"], 10, histories={"stranger": history})[0]
    found = model.explain(history, rec.item_ids)
    assert set(found) <= set(rec.item_ids)
    assert set(found.values()) <= set(history)
    assert all(item != anchor for item, anchor in found.items())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["itemknn", "ease", "hybrid"])
def test_a_sequel_is_explained_by_its_original(
    name: str, ml_full: Interactions, genre_vectors: ItemVectors
) -> None:
    """Collaborative anchors: each sequel is credited to the film it continues, not to the
    most recent film in the history."""
    model = make_recommender(name)
    model.fit(ml_full, genre_vectors if model.needs_item_vectors else None)
    found = model.explain(HISTORY, list(SEQUELS))
    assert found == SEQUELS


def test_anchors_take_the_largest_positive_contribution() -> None:
    contrib = np.array([[0.1, 0.0, -1.0], [0.3, 0.0, -2.0]])
    assert anchors(["a", "b"], ["x", "y", "z"], contrib) == {"x": "b"}

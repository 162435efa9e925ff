"""Content-based: profile = weighted mean of history vectors, cosine scores, cold items."""

from __future__ import annotations

import numpy as np
import pytest

from feedcraft.domain import IdIndex, Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders import ContentBasedRecommender


def test_recommends_items_no_one_interacted_with(
    ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    model = ContentBasedRecommender().fit(ml_small, genre_vectors)
    rated = set(ml_small.items.ids)
    recs = model.recommend(list(ml_small.users.ids), 10)
    cold = {i for r in recs for i in r.item_ids} - rated
    assert cold, "the catalogue beyond the interactions should be reachable"
    assert len(model.items_) == len(genre_vectors.ids) > len(rated)


def test_scores_are_cosine_to_mean_profile() -> None:
    ids = IdIndex(["a", "b", "c", "d"])
    vecs = ItemVectors(ids, np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], np.float32))
    data = Interactions.from_triples(["u", "u"], ["a", "b"], timestamps=[1.0, 2.0])
    model = ContentBasedRecommender().fit(data, vecs)
    # profile = mean of (1,0) and (0,1) -> direction (1,1)/sqrt2
    s = model.score("u", ["c", "d", "a"])
    np.testing.assert_allclose(s, [1.0, -np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    assert model.recommend(["u"], 2)[0].item_ids == ("c", "d")


def test_recency_weighting() -> None:
    ids = IdIndex(["a", "b", "c"])
    vecs = ItemVectors(ids, np.array([[1, 0], [0, 1], [1, 1]], np.float32))
    data = Interactions.from_triples(["u", "u"], ["a", "b"], timestamps=[1.0, 2.0])
    model = ContentBasedRecommender(recency_half_life=1.0).fit(data, vecs)
    # weights: a (older) 0.5, b (newest) 1 -> profile (0.5, 1)
    expected = np.array([0.5, 1.0]) / np.linalg.norm([0.5, 1.0])
    np.testing.assert_allclose(model.score("u", ["a", "b"]), expected, atol=1e-6)


def test_cold_user_gets_popularity_among_items_with_vectors() -> None:
    ids = IdIndex(["a", "b", "c"])
    vecs = ItemVectors(ids, np.eye(3, dtype=np.float32))
    # "z" has no vector: it counts for nothing
    data = Interactions.from_triples(["u", "v", "w", "w"], ["b", "b", "z", "c"])
    model = ContentBasedRecommender().fit(data, vecs)
    assert model.recommend(["nobody"], 3)[0].item_ids == ("b", "c", "a")
    assert model.score("nobody", ["z"])[0] == model.lowest_prior


def test_history_without_vectors_is_cold() -> None:
    vecs = ItemVectors(IdIndex(["a", "b"]), np.eye(2, dtype=np.float32))
    data = Interactions.from_triples(["u", "v"], ["a", "a"])
    model = ContentBasedRecommender().fit(data, vecs)
    cold = model.recommend(["x"], 2)[0]
    assert model.recommend(["x"], 2, histories={"x": ["nope"]})[0].item_ids == cold.item_ids


def test_needs_vectors(ml_small: Interactions) -> None:
    with pytest.raises(InvalidInput, match="item_vectors"):
        ContentBasedRecommender().fit(ml_small)

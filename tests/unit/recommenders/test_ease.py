"""EASE: the closed form against a direct solve, the item space, cold users, recency."""

from __future__ import annotations

import numpy as np
import pytest

from feedcraft.domain import IdIndex, Interactions
from feedcraft.errors import InvalidInput
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.ease import EASERecommender, ease_weights


def small_dense(ml_small: Interactions, n_items: int = 60) -> np.ndarray:
    """Users x the `n_items` most-rated items of the real slice, binary."""
    x = ml_small.matrix(binary=True).toarray()
    top = np.argsort(-x.sum(axis=0), kind="stable")[:n_items]
    return x[:, top].astype(np.float64)


def test_closed_form_equals_constrained_ridge_regressions(ml_small: Interactions) -> None:
    """Column j of B is the ridge regression of item j on all other items (diag(B) = 0):
    solve each one directly and compare with Steck's closed form."""
    x = small_dense(ml_small)
    l2 = 5.0
    b = ease_weights(x, l2)
    assert b.dtype == np.float32
    assert np.all(np.diag(b) == 0.0)
    n = x.shape[1]
    direct = np.zeros((n, n))
    for j in range(n):
        others = np.delete(np.arange(n), j)
        xo = x[:, others]
        direct[others, j] = np.linalg.solve(xo.T @ xo + l2 * np.eye(n - 1), xo.T @ x[:, j])
    np.testing.assert_allclose(b, direct, rtol=1e-3, atol=1e-5)


def test_closed_form_in_float64_matches_numpy_inverse(ml_small: Interactions) -> None:
    x = small_dense(ml_small, 40)
    p = np.linalg.inv(x.T @ x + 3.0 * np.eye(x.shape[1]))
    expected = np.eye(x.shape[1]) - p / np.diag(p)
    np.testing.assert_allclose(ease_weights(x, 3.0, np.float64), expected, atol=1e-10)


def test_scores_are_history_times_weights(ml_small: Interactions) -> None:
    model = EASERecommender(l2=50.0).fit(ml_small)
    user = ml_small.users.id_at(2)
    row = model.history_[ml_small.users.position(user)].toarray().ravel() > 0
    expected = row[model.active_].astype(np.float32) @ model.weights_
    items = list(ml_small.items.ids_at(model.active_[:30]))
    got = model.score(user, items)
    np.testing.assert_allclose(got, expected[:30], rtol=1e-5, atol=1e-5)


def test_items_without_interactions_rank_last(ml_small: Interactions) -> None:
    catalogue = [*ml_small.items.ids, "fresh-1", "fresh-2"]
    data = ml_small.with_items(catalogue)
    model = EASERecommender(l2=50.0).fit(data)
    assert len(model.active_) == len(ml_small.items)
    user = ml_small.users.id_at(0)
    (everything,) = model.recommend([user], 10**6)
    assert set(everything.item_ids[-2:]) == {"fresh-1", "fresh-2"}
    assert everything.scores[-1] == model.lowest_prior
    assert everything.scores[-3] > model.lowest_prior


def test_cold_user_gets_popularity(ml_small: Interactions) -> None:
    model = EASERecommender().fit(ml_small)
    (cold,) = model.recommend(["nobody"], 10)
    (pop,) = (
        make_recommender("popularity", half_life_days=None).fit(ml_small).recommend(["nobody"], 10)
    )
    assert cold.item_ids == pop.item_ids


def test_recency_weighting_changes_the_ranking(ml_small: Interactions) -> None:
    users = list(ml_small.users.ids)
    plain = EASERecommender(l2=50.0).fit(ml_small).recommend(users, 10)
    recent = EASERecommender(l2=50.0, recency_half_life=2.0).fit(ml_small).recommend(users, 10)
    assert [r.item_ids for r in plain] != [r.item_ids for r in recent]


@pytest.mark.parametrize("params", [{"l2": 0.0}, {"l2": -1.0}, {"recency_half_life": 0.0}])
def test_bad_parameters(ml_small: Interactions, params: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        EASERecommender(**params).fit(ml_small)


def test_single_item_catalogue() -> None:
    data = Interactions.from_triples(["u", "v"], ["i", "i"], items=IdIndex(["i"]))
    model = EASERecommender().fit(data)
    (rec,) = model.recommend(["w"], 5)
    assert rec.item_ids == ("i",)


def test_max_items_keeps_the_most_interacted(ml_small: Interactions) -> None:
    """Past `max_items`, EASE learns the most interacted items only; the rest score lowest."""
    capped = EASERecommender(max_items=100).fit(ml_small)
    counts = np.bincount(ml_small.item_pos, minlength=len(ml_small.items))
    assert len(capped.active_) == 100
    assert counts[capped.active_].min() >= np.sort(counts)[-100]
    recs = capped.recommend(list(ml_small.users.ids)[:3], 10)
    active_ids = {ml_small.items.id_at(i) for i in capped.active_}
    assert all(i in active_ids for r in recs for i in r.item_ids)
    with pytest.raises(InvalidInput, match="max_items"):
        EASERecommender(max_items=0).fit(ml_small)

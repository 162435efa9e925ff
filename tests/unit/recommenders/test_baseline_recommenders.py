"""Popularity (time decay) and random baselines, on hand-made data where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from feedcraft.domain import Interactions
from feedcraft.errors import InvalidInput
from feedcraft.recommenders import PopularityRecommender, RandomRecommender
from feedcraft.recommenders._common import decayed_counts

DAY = 86400.0


def decay_data() -> Interactions:
    """'old' has three events 60 days before the newest; 'new' one event at the newest time."""
    return Interactions.from_triples(
        ["a", "b", "c", "d"],
        ["old", "old", "old", "new"],
        timestamps=[0.0, 0.0, 0.0, 60 * DAY],
    )


def test_decayed_counts_halve_per_half_life() -> None:
    counts = decayed_counts(decay_data(), half_life_days=30.0)
    np.testing.assert_allclose(counts, [3 * 0.25, 1.0])  # two half-lives old: a quarter each
    np.testing.assert_allclose(decayed_counts(decay_data(), None), [3.0, 1.0])


def test_time_decay_reorders_popularity() -> None:
    plain = PopularityRecommender(half_life_days=None).fit(decay_data())
    decayed = PopularityRecommender(half_life_days=30.0).fit(decay_data())
    assert plain.recommend(["z"], 2)[0].item_ids == ("old", "new")
    assert decayed.recommend(["z"], 2)[0].item_ids == ("new", "old")
    # a long half-life is close to plain counts
    slow = PopularityRecommender(half_life_days=10_000.0).fit(decay_data())
    assert slow.recommend(["z"], 2)[0].item_ids == ("old", "new")


def test_popularity_validates_half_life() -> None:
    with pytest.raises(InvalidInput, match="half_life_days"):
        PopularityRecommender(half_life_days=0.0).fit(decay_data())


def test_popularity_on_real_data_matches_counts(ml_small: Interactions) -> None:
    model = PopularityRecommender(half_life_days=None).fit(ml_small)
    counts = np.bincount(ml_small.item_pos, minlength=len(ml_small.items))
    (rec,) = model.recommend(["nobody"], 20)
    np.testing.assert_array_equal(rec.scores, np.sort(counts)[::-1][:20])
    # ties are broken by item position, so the list is reproducible
    pos = ml_small.items.positions(list(rec.item_ids))
    for a, b, sa, sb in zip(pos, pos[1:], rec.scores, rec.scores[1:], strict=False):
        assert sa > sb or a < b


def test_random_depends_on_seed_and_user(ml_small: Interactions) -> None:
    a = RandomRecommender(random_state=1).fit(ml_small)
    b = RandomRecommender(random_state=2).fit(ml_small)
    assert a.recommend(["1"], 10)[0].item_ids != b.recommend(["1"], 10)[0].item_ids
    assert a.recommend(["1"], 10)[0].item_ids != a.recommend(["2"], 10)[0].item_ids


def test_random_scores_are_uniform_and_stable(ml_small: Interactions) -> None:
    model = RandomRecommender(random_state=7).fit(ml_small)
    items = [f"new-{i}" for i in range(20_000)]  # unknown to the model: random as well
    s = model.score("u", items)
    assert s.min() >= 0.0 and s.max() < 1.0
    assert abs(s.mean() - 0.5) < 0.01
    np.testing.assert_array_equal(model.score("u", items[:10]), s[:10])


def test_random_without_seed_is_fixed_once_fitted(ml_small: Interactions) -> None:
    model = RandomRecommender(random_state=None).fit(ml_small)
    first = model.recommend(["1"], 10)[0].item_ids
    assert model.recommend(["1"], 10)[0].item_ids == first


def test_ties_at_the_cut_go_to_the_earlier_item() -> None:
    # six items with one event each: every score ties, so catalogue order decides
    items = [f"i{j}" for j in range(6)]
    data = Interactions.from_triples([f"u{j}" for j in range(6)], items[::-1])
    model = PopularityRecommender(half_life_days=None).fit(data)
    order = list(data.items.ids)  # first-seen order: i5, i4, ..., i0
    assert model.recommend(["z"], 3)[0].item_ids == tuple(order[:3])
    assert model.recommend(["u0"], 3)[0].item_ids == tuple(order[1:4])  # u0 saw i5, first

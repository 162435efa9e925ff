"""Splits: no temporal leakage, the promised fractions, same indexes, determinism."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from feedcraft.domain import Impression, Interactions
from feedcraft.errors import InvalidInput
from feedcraft.evaluation import impression_user_split, temporal_split, user_temporal_split


def event_times(data: Interactions) -> dict[tuple[str, str], float]:
    users, items = data.users.ids, data.items.ids
    return {
        (users[u], items[i]): float(t)
        for u, i, t in zip(data.user_pos, data.item_pos, data.timestamps, strict=True)
    }


def test_user_temporal_split_on_movielens(ml_ratings: Interactions) -> None:
    train, test = user_temporal_split(ml_ratings, test_fraction=0.2, min_interactions=5)
    assert train.users is ml_ratings.users and train.items is ml_ratings.items
    times = event_times(ml_ratings)  # MovieLens has one rating per (user, item)
    counts = np.bincount(ml_ratings.user_pos, minlength=len(ml_ratings.users))
    train_counts = np.bincount(train.user_pos, minlength=len(ml_ratings.users))
    latest_train = np.full(len(ml_ratings.users), -np.inf)
    np.maximum.at(latest_train, train.user_pos, train.timestamps)
    for user, items in test.items():
        u = ml_ratings.users.position(user)
        assert min(times[(user, i)] for i in items) >= latest_train[u]  # no leakage
        n = counts[u]
        assert len(items) == max(1, int(np.floor(0.2 * n + 0.5)))
        assert train_counts[u] == n - len(items)
    assert len(train) + sum(map(len, test.values())) == len(ml_ratings)
    assert len(test) == 610  # every MovieLens user has at least 20 ratings


def test_user_temporal_split_small_users_and_ties() -> None:
    # "a": 6 events all at the same time -> the last one *in data order* is held out
    # "b": 3 events, below min_interactions -> all in train
    data = Interactions.from_triples(
        ["a"] * 6 + ["b"] * 3,
        ["i1", "i2", "i3", "i4", "i5", "i6", "i1", "i2", "i3"],
        timestamps=[5.0] * 6 + [1.0, 2.0, 3.0],
    )
    train, test = user_temporal_split(data, test_fraction=0.2, min_interactions=5)
    assert test == {"a": {"i6"}}
    assert len(train) == 8


def test_user_temporal_split_drops_items_seen_in_train() -> None:
    data = Interactions.from_triples(
        ["a"] * 5, ["x", "y", "z", "w", "x"], timestamps=[1.0, 2.0, 3.0, 4.0, 5.0]
    )
    _, test = user_temporal_split(data, 0.2)
    assert test == {}  # the held-out click is a repeat of a training item
    _, test = user_temporal_split(data, 0.2, drop_seen=False)
    assert test == {"a": {"x"}}


def test_temporal_split(ml_ratings: Interactions) -> None:
    train, test = temporal_split(ml_ratings, quantile=0.8)
    assert train.timestamps.max() <= min(
        t for (u, i), t in event_times(ml_ratings).items() if i in test.get(u, ())
    )
    held_out = sum(map(len, test.values()))
    assert len(train) + held_out == len(ml_ratings)
    assert 0.19 < held_out / len(ml_ratings) < 0.21


@pytest.mark.parametrize("bad", [0.0, 1.0])
def test_split_fractions_validated(bad: float) -> None:
    data = Interactions.from_triples(["a"], ["x"])
    with pytest.raises(InvalidInput):
        user_temporal_split(data, test_fraction=bad)
    with pytest.raises(InvalidInput):
        temporal_split(data, quantile=bad)
    with pytest.raises(InvalidInput):
        impression_user_split([], test_fraction=bad)


def make_impressions(n_users: int) -> list[Impression]:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        Impression(f"{u}-{j}", f"user{u}", t, ("n1", "n2"), (True, False))
        for u in range(n_users)
        for j in range(3)
    ]


def test_impression_user_split() -> None:
    imps = make_impressions(100)
    train, test = impression_user_split(imps, test_fraction=0.2, seed=3)
    train_users = {i.user_id for i in train}
    test_users = {i.user_id for i in test}
    assert not train_users & test_users
    assert len(test_users) == 20 and len(train) + len(test) == len(imps)
    assert [i.id for i in train] == [i.id for i in imps if i.user_id in train_users]
    again = impression_user_split(list(reversed(imps)), test_fraction=0.2, seed=3)[1]
    assert {i.user_id for i in again} == test_users  # input order does not matter
    other = impression_user_split(imps, test_fraction=0.2, seed=4)[1]
    assert {i.user_id for i in other} != test_users

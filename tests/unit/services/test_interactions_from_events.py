"""Events -> Interactions: rows are users, columns items, one entry per positive event."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from feedcraft.domain import Event, EventType, IdIndex, Item
from feedcraft.errors import InvalidInput
from feedcraft.formats.movielens import read_ratings
from feedcraft.services.interactions import (
    POSITIVE_TYPES,
    interactions_from_events,
    load_interactions,
)
from feedcraft.storage import Store

N = 1500  # first real ratings: 12 users, ~1,000 movies, so a transposed matrix would show


@pytest.fixture
def ratings(shared_path: Callable[[str], Path]) -> list[Event]:
    path = shared_path("movielens-latest-small/ratings.csv.gz")
    return list(islice(read_ratings(path), N))


def test_rows_are_users_and_columns_items(ratings: list[Event]) -> None:
    it = interactions_from_events(ratings)
    users = list(dict.fromkeys(e.user_id for e in ratings))
    items = list(dict.fromkeys(e.item_id for e in ratings))
    assert len(users) < 20 < len(items)
    assert it.shape == (len(users), len(items))
    assert list(it.users.ids) == users and list(it.items.ids) == items  # first-seen order
    m = it.matrix()
    assert m.shape == (len(users), len(items))
    for e in ratings[:: len(ratings) // 50]:
        assert m[it.users.position(e.user_id), it.items.position(e.item_id)] == 1.0
    # every row sums to the user's number of ratings
    per_user = Counter(e.user_id for e in ratings)
    sums = np.asarray(m.sum(axis=1)).ravel()
    assert {u: int(sums[it.users.position(u)]) for u in users} == per_user
    assert len(it) == len(ratings)
    assert np.array_equal(it.timestamps, [e.timestamp.timestamp() for e in ratings])


def test_only_positive_events_count(ratings: list[Event]) -> None:
    shown = [dataclasses.replace(e, type=EventType.IMPRESSION, id="") for e in ratings[:100]]
    ads = [dataclasses.replace(e, type=EventType.AD_IMPRESSION, id="") for e in ratings[:100]]
    it = interactions_from_events([*shown, *ratings, *ads])
    assert len(it) == len(ratings)
    assert EventType.IMPRESSION not in POSITIVE_TYPES and EventType.CLICK in POSITIVE_TYPES
    with pytest.raises(InvalidInput, match="no positive interactions"):
        interactions_from_events(shown)


def test_duplicates_are_separate_entries_summed_in_the_matrix(ratings: list[Event]) -> None:
    e = ratings[0]
    again = dataclasses.replace(e, type=EventType.CLICK, id="")
    it = interactions_from_events([*ratings, again])
    assert len(it) == len(ratings) + 1
    assert it.matrix()[it.users.position(e.user_id), it.items.position(e.item_id)] == 2.0
    assert it.matrix(binary=True).max() == 1.0


def test_fixed_item_index_keeps_its_order_and_appends_unknown_items(
    ratings: list[Event],
) -> None:
    catalogue = IdIndex(sorted({e.item_id for e in ratings[:200]} | {"never-rated"}))
    it = interactions_from_events(ratings, catalogue)
    assert it.items.ids[: len(catalogue)] == catalogue.ids
    extra = list(dict.fromkeys(e.item_id for e in ratings if e.item_id not in catalogue))
    assert list(it.items.ids[len(catalogue) :]) == extra
    col = it.items.position("never-rated")
    assert it.matrix()[:, col].nnz == 0  # in the index, with no interactions


def test_load_interactions_from_the_store(store: Store, ratings: list[Event]) -> None:
    items = sorted({e.item_id for e in ratings})
    store.catalogue.upsert(Item(i, f"movie {i}") for i in [*items, "unrated"])
    store.events.append(ratings)
    t = datetime(2024, 5, 1, tzinfo=UTC)
    store.events.append([Event("1", items[0], EventType.IMPRESSION, t)])
    whole = load_interactions(store)
    assert list(whole.items.ids) == sorted([*items, "unrated"])  # the catalogue, sorted
    assert len(whole) == len(ratings)
    assert whole.shape == (len({e.user_id for e in ratings}), len(items) + 1)
    seen_only = load_interactions(store, whole_catalogue=False)
    assert "unrated" not in seen_only.items and len(seen_only.items) == len(items)
    assert len(load_interactions(store, types=[EventType.RATING])) == len(ratings)
    with pytest.raises(InvalidInput, match="import events first"):
        load_interactions(store, types=[EventType.CLICK])  # the store holds none

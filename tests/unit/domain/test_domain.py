"""Domain values: validation, UTC timestamps, idempotency keys, matrix orientation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from feedcraft.domain import (
    Event,
    EventType,
    IdIndex,
    Impression,
    Interactions,
    Item,
    ItemKind,
    ItemVectors,
    Recommendations,
)


def test_event_timestamps_become_utc() -> None:
    cet = timezone(timedelta(hours=1))
    e = Event("u1", "i1", "click", datetime(2020, 1, 1, 13, 0, tzinfo=cet))
    assert e.timestamp == datetime(2020, 1, 1, 12, 0, tzinfo=UTC)
    assert e.type is EventType.CLICK
    naive = Event("u1", "i1", "click", datetime(2020, 1, 1, 12, 0))
    assert naive.timestamp.tzinfo is UTC


def test_event_id_is_a_stable_idempotency_key() -> None:
    t = datetime(2020, 1, 1, tzinfo=UTC)
    a = Event("u1", "i1", EventType.CLICK, t, impression_id="imp", position=3)
    b = Event("u1", "i1", EventType.CLICK, t, impression_id="imp", position=3)
    c = Event("u1", "i1", EventType.CLICK, t, impression_id="imp", position=4)
    assert a.id == b.id != c.id
    assert Event("u1", "i1", "click", t, id="mine").id == "mine"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user_id": ""}, "user_id"),
        ({"item_id": ""}, "item_id"),
        ({"type": "teleport"}, "teleport"),
        ({"position": -1}, "position"),
        ({"propensity": 0.0}, "propensity"),
        ({"propensity": 1.5}, "propensity"),
    ],
)
def test_event_rejects_bad_fields(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "user_id": "u",
        "item_id": "i",
        "type": "click",
        "timestamp": datetime(2020, 1, 1, tzinfo=UTC),
    }
    with pytest.raises(ValueError, match=message):
        Event(**{**base, **kwargs})  # type: ignore[arg-type]


def test_item_is_frozen_and_content_hash_tracks_content() -> None:
    a = Item("n1", "Title", tags=["x", "y"], attributes={"url": "u"})
    assert a.kind is ItemKind.ARTICLE and a.tags == ("x", "y")
    with pytest.raises(AttributeError):
        a.title = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.attributes["url"] = "v"  # type: ignore[index]
    assert a.content_hash() == Item("n2", "Title", tags=["x", "y"]).content_hash()
    assert a.content_hash() != Item("n1", "Title", body="new body").content_hash()


def test_interactions_are_users_by_items() -> None:
    x = Interactions.from_triples(["u1", "u2", "u1", "u1"], ["a", "b", "b", "b"])
    m = x.matrix()
    assert m.shape == (2, 2)
    assert m[x.users.position("u1"), x.items.position("b")] == 2.0
    assert x.matrix(binary=True).max() == 1.0
    assert list(x.seen_items(x.users.position("u2"))) == [x.items.position("b")]
    wider = x.with_items(["z", "b", "a"])
    assert wider.matrix()[wider.users.position("u2"), wider.items.position("b")] == 1.0
    with pytest.raises(ValueError, match="unknown item"):
        Interactions.from_triples(["u"], ["q"], items=IdIndex(["a"]))


def test_id_index_positions() -> None:
    idx = IdIndex(["a", "b", "c"])
    assert list(idx.positions(["c", "zz", "a"])) == [2, -1, 0]
    with pytest.raises(ValueError, match="unique"):
        IdIndex(["a", "a"])


def test_item_vectors_are_normalised() -> None:
    v = ItemVectors(IdIndex(["a", "b"]), np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(np.linalg.norm(v.matrix[0]), 1.0)
    assert np.allclose(v.rows(["b", "nope"]), 0.0)


def test_impression_and_recommendations_validate_alignment() -> None:
    t = datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="align"):
        Impression("1", "u", t, ("a", "b"), (True,))
    with pytest.raises(ValueError, match="same length"):
        Recommendations("u", ("a",), np.array([1.0, 2.0]))
    assert list(Recommendations("u", ("a",), np.array([0.5]))) == [("a", 0.5)]


def test_without_users_closes_up_the_others_in_order() -> None:
    data = Interactions.from_triples(
        ["a", "b", "c", "b", "a", "d"],
        ["x", "y", "x", "z", "z", "y"],
        [1, 2, 3, 4, 5, 6],
        [10, 20, 30, 40, 50, 60],
    )
    rest, kept = data.without_users(["b", "nobody", "b"])
    assert rest.users.ids == ("a", "c", "d")
    assert kept.tolist() == [0, 2, 3]
    assert rest.items == data.items
    triples = list(
        zip(
            rest.users.ids_at(rest.user_pos),
            rest.items.ids_at(rest.item_pos),
            rest.weights.tolist(),
            rest.timestamps.tolist(),
            strict=True,
        )
    )
    assert triples == [("a", "x", 1, 10), ("c", "x", 3, 30), ("a", "z", 5, 50), ("d", "y", 6, 60)]
    # rows of a users x items matrix follow `kept`
    np.testing.assert_array_equal(data.matrix()[kept].toarray(), rest.matrix().toarray())
    same, all_rows = data.without_users(["nobody"])
    assert same is data
    assert all_rows.tolist() == [0, 1, 2, 3]
    empty, none = data.without_users(data.users.ids)
    assert len(empty) == 0 and len(empty.users) == 0 and len(none) == 0

"""Bad input: every case gets a 4xx whose message names the field, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

GOOD_ITEM: dict[str, Any] = {"id": "a1", "title": "Rain in Spain", "category": "weather"}
GOOD_EVENT: dict[str, Any] = {
    "user_id": "u1",
    "item_id": "a1",
    "type": "click",
    "timestamp": "2024-05-01T08:00:00Z",
}


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


def _counts(client: TestClient) -> tuple[int, int]:
    health = client.get("/health").json()
    return health["items"], health["events"]


def _assert_names(response: Any, field: str, status: int = 422) -> None:
    """A `status` response whose message names `field` (as the last part of an error loc for
    request validation, or in the message text for errors raised by feedcraft)."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if isinstance(detail, list):
        assert detail, response.text
        assert all(e["msg"] for e in detail)
        locs = [e["loc"] for e in detail]
        assert any(loc[-1] == field for loc in locs), f"{field!r} not named in {locs}"
    else:
        assert field in detail, detail


BAD_ITEMS = [
    pytest.param(_without(GOOD_ITEM, "title"), "title", id="missing-title"),
    pytest.param(GOOD_ITEM | {"title": ""}, "title", id="empty-title"),
    pytest.param(GOOD_ITEM | {"id": ""}, "id", id="empty-id"),
    pytest.param(_without(GOOD_ITEM, "id"), "id", id="missing-id"),
    pytest.param(GOOD_ITEM | {"kind": "podcast"}, "kind", id="bad-kind"),
    pytest.param(GOOD_ITEM | {"tags": "rain"}, "tags", id="tags-not-a-list"),
    pytest.param(GOOD_ITEM | {"published_at": "last tuesday"}, "published_at", id="bad-time"),
    pytest.param(
        GOOD_ITEM | {"published_at": "0001-01-01T00:00:00+01:00"},
        "published_at",
        id="time-before-year-1-in-utc",
    ),
    pytest.param(GOOD_ITEM | {"colour": "red"}, "colour", id="unknown-key"),
]

BAD_EVENTS = [
    pytest.param(GOOD_EVENT | {"type": "clik"}, "type", id="bad-type"),
    pytest.param(_without(GOOD_EVENT, "type"), "type", id="missing-type"),
    pytest.param(GOOD_EVENT | {"timestamp": "yesterday"}, "timestamp", id="bad-timestamp"),
    pytest.param(GOOD_EVENT | {"timestamp": "2024-13-01T00:00:00Z"}, "timestamp", id="month-13"),
    pytest.param(
        GOOD_EVENT | {"timestamp": "9999-12-31T23:59:59-01:00"},
        "timestamp",
        id="timestamp-after-9999-in-utc",
    ),
    pytest.param(_without(GOOD_EVENT, "timestamp"), "timestamp", id="missing-timestamp"),
    pytest.param(GOOD_EVENT | {"position": -1}, "position", id="negative-position"),
    pytest.param(GOOD_EVENT | {"propensity": 0}, "propensity", id="propensity-0"),
    pytest.param(GOOD_EVENT | {"propensity": 1.5}, "propensity", id="propensity-above-1"),
    pytest.param(GOOD_EVENT | {"postion": 2}, "postion", id="unknown-key"),
    pytest.param(GOOD_EVENT | {"user_id": ""}, "user_id", id="empty-user"),
    pytest.param(GOOD_EVENT | {"item_id": ""}, "item_id", id="empty-item"),
    pytest.param(GOOD_EVENT | {"id": ""}, "id", id="empty-event-id"),
    pytest.param(GOOD_EVENT | {"value": "lots"}, "value", id="value-not-a-number"),
]


@pytest.mark.parametrize(("item", "field"), BAD_ITEMS)
def test_bad_item_is_422_naming_the_field(
    empty_client: TestClient, item: dict[str, Any], field: str
) -> None:
    response = empty_client.post("/items", json={"items": [GOOD_ITEM | {"id": "ok"}, item]})
    _assert_names(response, field)
    assert response.json()["detail"][0]["loc"][:3] == ["body", "items", 1]
    assert _counts(empty_client) == (0, 0)


@pytest.mark.parametrize(("event", "field"), BAD_EVENTS)
def test_bad_event_is_422_naming_the_field(
    empty_client: TestClient, event: dict[str, Any], field: str
) -> None:
    response = empty_client.post("/events", json={"events": [GOOD_EVENT, event]})
    _assert_names(response, field)
    assert _counts(empty_client) == (0, 0)  # not even the good event's stub


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_value_is_422_not_a_server_error(empty_client: TestClient, raw: str) -> None:
    # Python's json reads these (not strict JSON); echoing them back once broke the response
    good = json.dumps(GOOD_EVENT | {"item_id": "first"})
    bad = json.dumps(GOOD_EVENT)[:-1] + f', "value": {raw}}}'
    body = f'{{"events": [{good}, {bad}]}}'
    response = empty_client.post(
        "/events", content=body, headers={"content-type": "application/json"}
    )
    _assert_names(response, "value")
    assert _counts(empty_client) == (0, 0)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/items", {"items": []}, "items"),
        ("/events", {"events": []}, "events"),
        ("/items", {}, "items"),
        ("/events", {"event": [GOOD_EVENT]}, "events"),
        ("/events", {"events": [GOOD_EVENT], "dry_run": True}, "dry_run"),
    ],
    ids=["empty-items", "empty-events", "no-items", "misspelt-events", "unknown-top-level-key"],
)
def test_empty_or_misshapen_batch_is_422(
    empty_client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    _assert_names(empty_client.post(path, json=body), field)
    assert _counts(empty_client) == (0, 0)


def test_body_that_is_not_json_is_422(empty_client: TestClient) -> None:
    response = empty_client.post(
        "/events", content=b"user=u1", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert _counts(empty_client) == (0, 0)


def test_100_valid_events_and_1_invalid_write_nothing(client: TestClient) -> None:
    items, events = _counts(client)
    good = [
        {
            "user_id": f"user-{i % 7}",
            "item_id": f"unseen-item-{i}",  # unknown items: stubs would be written first
            "type": "click",
            "timestamp": 1714550400 + i,
        }
        for i in range(100)
    ]
    bad = GOOD_EVENT | {"position": -3}
    for batch in ([*good, bad], [bad, *good], [*good[:50], bad, *good[50:]]):
        response = client.post("/events", json={"events": batch})
        _assert_names(response, "position")
        assert response.json()["detail"][0]["loc"][:3] == ["body", "events", batch.index(bad)]
        assert _counts(client) == (items, events)
        assert client.get("/items/unseen-item-0").status_code == 404
    # the same 100 on their own go in whole
    assert client.post("/events", json={"events": good}).json() == {"received": 100, "new": 100}
    assert _counts(client) == (items + 100, events + 100)


def test_100_valid_items_and_1_invalid_write_nothing(client: TestClient) -> None:
    items, events = _counts(client)
    good = [{"id": f"new-{i}", "title": f"Item {i}"} for i in range(100)]
    # one bad item that also tries to overwrite a real movie's title
    for bad in ({"id": "1", "title": ""}, {"id": "1", "title": "Toy Story", "kind": "x"}):
        response = client.post("/items", json={"items": [*good, bad]})
        assert response.status_code == 422
        assert _counts(client) == (items, events)
        assert client.get("/items/new-0").status_code == 404
        assert client.get("/items/1").json()["title"] == "Toy Story (1995)"
    assert client.post("/items", json={"items": good}).json() == {"received": 100, "new": 100}
    assert _counts(client) == (items + 100, events)


def test_same_item_twice_in_a_batch_counts_once_and_the_later_wins(
    empty_client: TestClient,
) -> None:
    batch = [{"id": "d", "title": "first"}, {"id": "d", "title": "second"}]
    assert empty_client.post("/items", json={"items": batch}).json() == {"received": 2, "new": 1}
    assert empty_client.get("/items/d").json()["title"] == "second"
    assert _counts(empty_client) == (1, 0)


@pytest.mark.parametrize("n", [0, -1, 1001, "ten"])
def test_bad_feed_size_is_422_naming_n(client: TestClient, n: object) -> None:
    _assert_names(client.get("/users/1/feed", params={"n": n}), "n")


@pytest.mark.parametrize("n", [0, 501, "x"])
def test_bad_similar_size_is_422_naming_n(client: TestClient, n: object) -> None:
    _assert_names(client.get("/items/1/similar", params={"n": n}), "n")


def test_feed_size_limits_are_inclusive(client: TestClient) -> None:
    assert len(client.get("/users/1/feed", params={"n": 1}).json()["items"]) == 1
    big = client.get("/users/1/feed", params={"n": 1000})
    assert big.status_code == 200
    # 1,768 movies, 232 rated by user 1: every unrated one is there, ranked
    assert len(big.json()["items"]) == 1000


def test_unknown_model_is_4xx_even_with_a_good_n(client: TestClient) -> None:
    response = client.get("/users/1/feed", params={"n": 5, "model": "ItemKNN"})
    _assert_names(response, "model")
    assert "itemknn" in response.json()["detail"]

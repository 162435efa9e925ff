"""The HTTP API end to end: real SQLite store, real MovieLens subset, real trained models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from feedcraft.services.training import MODEL_NAMES

USER = "1"  # 232 ratings in the subset
TOY_STORY, TOY_STORY_2 = "1", "3114"


def _feed(client: TestClient, user: str, n: int, model: str | None = None) -> dict:
    params: dict[str, str | int] = {"n": n}
    if model is not None:
        params["model"] = model
    response = client.get(f"/users/{user}/feed", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _click(user: str, item: str, **extra: object) -> dict[str, object]:
    event: dict[str, object] = {"user_id": user, "item_id": item, "type": "click"}
    return event | {"timestamp": "2024-05-01T08:00:00Z"} | extra


def test_health(client: TestClient, trained) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["store"] == "sqlite" and body["version"]
    assert body["items"] == len(trained.data.titles)
    assert body["events"] == 3000


def test_docs_and_openapi_served(empty_client: TestClient) -> None:
    docs = empty_client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = empty_client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in ("/health", "/items", "/items/{item_id}", "/items/{item_id}/similar", "/events"):
        assert path in paths
    assert "/users/{user_id}/feed" in paths


def test_post_item_then_get_round_trip(empty_client: TestClient) -> None:
    item = {
        "id": "wn-1",
        "title": "Rain in Spain",
        "kind": "article",
        "body": "It rained on the plain.",
        "category": "weather",
        "subcategory": "europe",
        "tags": ["spain", "rain"],
        "language": "en",
        "image_url": "https://example.org/rain.jpg",
        "published_at": "2024-05-01T10:00:00+02:00",
        "provider": "Wikinews",
        "attributes": {"words": 5, "nested": {"a": [1, 2]}},
    }
    response = empty_client.post("/items", json={"items": [item]})
    assert response.status_code == 201, response.text
    assert response.json() == {"received": 1, "new": 1}
    got = empty_client.get("/items/wn-1")
    assert got.status_code == 200
    body = got.json()
    assert body.pop("stub") is False
    published = datetime.fromisoformat(body.pop("published_at"))
    assert published == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)  # stored in UTC
    expected = dict(item)
    del expected["published_at"]
    assert body == expected

    # the same item again changes nothing; an edited one replaces it
    assert empty_client.post("/items", json={"items": [item]}).json() == {"received": 1, "new": 0}
    edited = item | {"title": "Rain in Spain, again"}
    assert empty_client.post("/items", json={"items": [edited]}).json()["new"] == 1
    assert empty_client.get("/items/wn-1").json()["title"] == "Rain in Spain, again"
    assert empty_client.get("/health").json()["items"] == 1


def test_unknown_item_is_404(empty_client: TestClient) -> None:
    response = empty_client.get("/items/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_post_events_is_idempotent(client: TestClient) -> None:
    before = client.get("/health").json()["events"]
    batch = {
        "events": [
            _click("u-new", TOY_STORY),
            _click("u-new", TOY_STORY_2, timestamp=1714550400),
            _click("u-new", "2", id="client-key-1"),
            {
                "user_id": "u-new",
                "item_id": "3",
                "type": "impression",
                "timestamp": "2024-05-01T08:00:00",
                "impression_id": "s1",
                "position": 0,
                "propensity": 0.25,
            },
        ]
    }
    first = client.post("/events", json=batch)
    assert first.status_code == 201, first.text
    assert first.json() == {"received": 4, "new": 4}
    again = client.post("/events", json=batch)
    assert again.status_code == 201
    assert again.json() == {"received": 4, "new": 0}
    # the client's key alone decides: other fields under the same id are not a new event
    same_key = client.post("/events", json={"events": [_click("u-x", "5", id="client-key-1")]})
    assert same_key.json() == {"received": 1, "new": 0}
    assert client.get("/health").json()["events"] == before + 4


def test_event_for_unknown_item_creates_stub(client: TestClient) -> None:
    items_before = client.get("/health").json()["items"]
    response = client.post("/events", json={"events": [_click(USER, "brand-new-item")]})
    assert response.json() == {"received": 1, "new": 1}
    stub = client.get("/items/brand-new-item").json()
    assert stub["stub"] is True and stub["id"] == "brand-new-item"
    assert client.get("/health").json()["items"] == items_before + 1
    # a full item posted later replaces the stub
    full = {"id": "brand-new-item", "title": "Now with a title"}
    assert client.post("/items", json={"items": [full]}).json()["new"] == 1
    got = client.get("/items/brand-new-item").json()
    assert got["stub"] is False and got["title"] == "Now with a title"


@pytest.mark.parametrize("model", [None, *MODEL_NAMES])
def test_feed_after_training(client: TestClient, trained, model: str | None) -> None:
    data = trained.data
    body = _feed(client, USER, 10, model)
    name = model or "ranker"  # the default model
    assert body["user_id"] == USER and body["model"] == f"{name}@v1"
    items = body["items"]
    ids = [e["item_id"] for e in items]
    assert len(items) == 10 and len(set(ids)) == 10
    assert not set(ids) & data.seen[USER], "the feed holds items the user has rated"
    scores = [e["score"] for e in items]
    assert all(isinstance(s, float) for s in scores)
    assert scores == sorted(scores, reverse=True)
    for entry in items:
        assert entry["source"] == name
        assert entry["reason"].strip()
        assert entry["title"] == data.titles[entry["item_id"]]
    if name in ("itemknn", "content", "hybrid", "ranker"):
        # the reason names one of the user's own movies
        rated_titles = {data.titles[i] for i in data.seen[USER]}
        assert all(any(t in e["reason"] for t in rated_titles) for e in items)


def test_feed_excludes_seen_items_for_every_user(client: TestClient, trained) -> None:
    for user in trained.data.users:
        ids = {e["item_id"] for e in _feed(client, user, 20)["items"]}
        assert len(ids) == 20
        assert not ids & trained.data.seen[user], user


def test_events_after_training_remove_newly_seen_items(client: TestClient) -> None:
    before = [e["item_id"] for e in _feed(client, USER, 10)["items"]]
    clicked = before[:3]
    response = client.post("/events", json={"events": [_click(USER, i) for i in clicked]})
    assert response.json()["new"] == 3
    after = [e["item_id"] for e in _feed(client, USER, 10)["items"]]
    assert len(after) == 10
    assert not set(clicked) & set(after)
    # a model that ranks everyone the same keeps the rest of its ranking in order
    pop_before = [e["item_id"] for e in _feed(client, USER, 5, "popularity")["items"]]
    client.post("/events", json={"events": [_click(USER, pop_before[0])]})
    pop_after = [e["item_id"] for e in _feed(client, USER, 5, "popularity")["items"]]
    assert pop_before[0] not in pop_after and pop_after[:4] == pop_before[1:]


def test_unknown_user_gets_a_popularity_feed(client: TestClient, trained) -> None:
    counts = trained.data.counts
    body = _feed(client, "never-seen-user", 10)
    ids = [e["item_id"] for e in body["items"]]
    assert len(ids) == 10
    # the most rated movies of the data: every one in the feed has at least as many ratings
    # as any movie left out
    floor = min(counts[i] for i in ids)
    assert all(counts[i] <= floor for i in counts if i not in ids)
    assert ids[0] == counts.most_common(1)[0][0]
    assert all(e["reason"].startswith("popular") for e in body["items"])


def test_feed_before_training_is_503(untrained_client: TestClient) -> None:
    response = untrained_client.get(f"/users/{USER}/feed")
    assert response.status_code == 503
    assert "feedcraft train" in response.json()["detail"]
    response = untrained_client.get(f"/users/{USER}/feed", params={"model": "popularity"})
    assert response.status_code == 503
    assert "feedcraft train" in response.json()["detail"]


@pytest.mark.parametrize("fixture", ["client", "untrained_client"])
def test_unknown_model_is_422_naming_the_valid_ones(fixture: str, request) -> None:
    c: TestClient = request.getfixturevalue(fixture)
    response = c.get(f"/users/{USER}/feed", params={"model": "bogus"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "model" in detail and "bogus" in detail
    for name in MODEL_NAMES:
        assert name in detail


def test_similar_items(client: TestClient, trained) -> None:
    response = client.get(f"/items/{TOY_STORY}/similar", params={"n": 5})
    assert response.status_code == 200, response.text
    entries = response.json()
    ids = [e["item_id"] for e in entries]
    assert len(ids) == 5 and TOY_STORY not in ids
    assert TOY_STORY_2 in ids  # same words in the title and the same genres
    scores = [e["score"] for e in entries]
    assert scores == sorted(scores, reverse=True)
    assert all("Toy Story (1995)" in e["reason"] for e in entries)
    assert all(e["title"] == trained.data.titles[e["item_id"]] for e in entries)


def test_similar_unknown_item_is_404(client: TestClient) -> None:
    response = client.get("/items/no-such-item/similar")
    assert response.status_code == 404
    assert "no-such-item" in response.json()["detail"]


def test_similar_before_embedding_is_404_saying_to_train(untrained_client: TestClient) -> None:
    response = untrained_client.get(f"/items/{TOY_STORY}/similar")
    assert response.status_code == 404
    assert "feedcraft train" in response.json()["detail"]

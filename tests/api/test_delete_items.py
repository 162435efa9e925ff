"""DELETE /items/{id} end to end: real SQLite store, real MovieLens subset, real trained models.

The models were trained before the deletion and still know the item, so these tests show the
served feeds and similar items filtering it out, not a retrain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedcraft.services.training import MODEL_NAMES

ClientFactory = Callable[..., TestClient]
USER = "1"
#: Models whose ranking of the other items does not depend on how many are asked for.
ORDERED = ("hybrid", "itemknn", "popularity", "content", "ease")


def _feed(client: TestClient, user: str, n: int = 10, model: str | None = None) -> list[str]:
    params: dict[str, Any] = {"n": n} | ({"model": model} if model else {})
    response = client.get(f"/users/{user}/feed", params=params)
    assert response.status_code == 200, response.text
    return [e["item_id"] for e in response.json()["items"]]


def _similar(client: TestClient, item_id: str, n: int = 20) -> list[str]:
    response = client.get(f"/items/{item_id}/similar", params={"n": n})
    assert response.status_code == 200, response.text
    return [e["item_id"] for e in response.json()]


def test_deleted_item_is_gone_everywhere_and_its_events_stay(
    client: TestClient, trained: Any
) -> None:
    gone = _feed(client, USER, model="hybrid")[0]  # a mutual content neighbour in this data
    neighbour = _similar(client, gone, 1)[0]
    assert gone in _similar(client, neighbour)  # the case under test: it was someone's neighbour
    health = client.get("/health").json()

    response = client.delete(f"/items/{gone}")

    assert response.status_code == 204 and response.content == b""
    assert client.get(f"/items/{gone}").status_code == 404
    feed = _feed(client, USER)
    assert gone not in feed and len(feed) == 10  # the slot is filled by the next item
    assert gone not in _similar(client, neighbour)
    assert client.get(f"/items/{gone}/similar").status_code == 404
    after = client.get("/health").json()
    assert after["items"] == health["items"] - 1 == len(trained.data.titles) - 1
    assert after["events"] == health["events"] == 3000  # behaviour is kept


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_no_trained_model_serves_a_deleted_item(client: TestClient, model: str) -> None:
    before = _feed(client, USER, 10, model)
    gone = before[:3]
    for item_id in gone:
        assert client.delete(f"/items/{item_id}").status_code == 204
    after = _feed(client, USER, 10, model)
    assert not set(gone) & set(after) and len(after) == 10
    if model in ORDERED:  # the rest keep their order, with new items after them
        assert after[:7] == before[3:]


def test_reasons_never_name_a_deleted_item(client: TestClient, trained: Any) -> None:
    """A user's history keeps the deleted item (events are kept), but no reason cites it."""
    entries = client.get(f"/users/{USER}/feed", params={"n": 20, "model": "itemknn"}).json()
    cited = [
        movie
        for movie in trained.data.seen[USER]
        if any(f"'{trained.data.titles[movie]}'" in e["reason"] for e in entries["items"])
    ]
    assert cited  # the case under test: reasons name history items
    for movie in cited:
        assert client.delete(f"/items/{movie}").status_code == 204
    titles = [trained.data.titles[m] for m in cited]
    for e in client.get(f"/users/{USER}/feed", params={"n": 20, "model": "itemknn"}).json()[
        "items"
    ]:
        assert e["reason"] and not any(t in e["reason"] for t in titles), e
        assert not any(f"'{m}'" in e["reason"] for m in cited), e


def test_unknown_item_is_404_with_its_id(client: TestClient) -> None:
    response = client.delete("/items/no-such-movie")
    assert response.status_code == 404
    assert "no-such-movie" in response.json()["detail"]
    assert client.get("/health").json()["events"] == 3000


def test_deleting_twice_is_404_the_second_time(client: TestClient) -> None:
    assert client.delete("/items/1").status_code == 204
    again = client.delete("/items/1")
    assert again.status_code == 404 and "'1'" in again.json()["detail"]


def test_delete_drops_cached_generated_text(client_with: ClientFactory) -> None:
    with client_with(llm={"backend": "extractive"}) as c:
        store = c.app.state.services.store  # type: ignore[attr-defined]
        for movie in ("1", "2"):
            assert c.get(f"/items/{movie}/headlines", params={"n": 2}).status_code == 200
        assert store.text_cache.count() == 2
        assert c.delete("/items/1").status_code == 204
        assert store.text_cache.count() == 1
        assert c.get("/items/1/headlines", params={"n": 2}).status_code == 404
        kept = c.get("/items/2/headlines", params={"n": 2})
        assert kept.status_code == 200 and kept.json()["cache_hit"]


def test_delete_is_in_the_openapi_spec(empty_client: TestClient) -> None:
    operation = empty_client.get("/openapi.json").json()["paths"]["/items/{item_id}"]["delete"]
    assert {"204", "404"} <= set(operation["responses"])

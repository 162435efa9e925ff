"""POST /events after DELETE /items/{id}: events naming the deleted item are refused with a 422
that names the event and the item, nothing of the batch is written, and the item does not
come back as a stub; POST /items with the item restores it and its events are accepted again.

A real SQLite store holding the first 3,000 MovieLens ratings (api/conftest.py).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

GONE, KEPT = "1", "2"  # Toy Story and Jumanji, both in the subset


def _event(item: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "user_id": f"reader-{n % 2}",
        "item_id": item,
        "type": "click",
        "timestamp": f"2024-05-01T08:{n:02d}:00Z",
    } | extra


def _counts(client: TestClient) -> tuple[int, int]:
    health = client.get("/health").json()
    return health["items"], health["events"]


def _history(client: TestClient, user: str) -> list[str]:
    store = client.app.state.services.store  # type: ignore[attr-defined]
    items: list[str] = store.events.user_items(user)
    return items


def test_events_naming_a_deleted_item_are_refused_whole(untrained_client: TestClient) -> None:
    c = untrained_client
    assert c.delete(f"/items/{GONE}").status_code == 204
    before = _counts(c)
    batch = [
        _event(KEPT, 0),
        _event("brand-new", 1),
        _event(GONE, 2, id="evt-gone-1"),
        _event(GONE, 3),
    ]

    response = c.post("/events", json={"events": batch})

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("field 'events[2].item_id': event 'evt-gone-1' names item '1'")
    assert "which was deleted" in detail and "POST /items" in detail
    assert "2 events of this batch name deleted items ('1')" in detail
    assert _counts(c) == before  # no event, no stub for "brand-new" or "1"
    assert c.get(f"/items/{GONE}").status_code == 404
    assert c.get("/items/brand-new").status_code == 404
    assert _history(c, "reader-0") == [] and _history(c, "reader-1") == []


def test_events_about_other_items_still_create_stubs(untrained_client: TestClient) -> None:
    c = untrained_client
    assert c.delete(f"/items/{GONE}").status_code == 204
    items, events = _counts(c)

    response = c.post("/events", json={"events": [_event(KEPT, 0), _event("brand-new", 1)]})

    assert response.status_code == 201 and response.json() == {"received": 2, "new": 2}
    assert _counts(c) == (items + 1, events + 2)
    assert c.get("/items/brand-new").json()["stub"] is True


def test_posting_the_item_again_restores_it_and_its_events(untrained_client: TestClient) -> None:
    c = untrained_client
    original = c.get(f"/items/{GONE}").json()
    assert c.delete(f"/items/{GONE}").status_code == 204
    batch = [_event(GONE, 0), _event(KEPT, 1)]
    assert c.post("/events", json={"events": batch}).status_code == 422
    items, events = _counts(c)

    item = {k: original[k] for k in ("id", "title", "kind", "category", "tags")}
    restored = c.post("/items", json={"items": [item]})

    assert restored.status_code == 201 and restored.json() == {"received": 1, "new": 1}
    accepted = c.post("/events", json={"events": batch})
    assert accepted.status_code == 201 and accepted.json() == {"received": 2, "new": 2}
    assert _counts(c) == (items + 1, events + 2)
    again = c.get(f"/items/{GONE}").json()
    assert again["title"] == original["title"] and again["stub"] is False
    assert _history(c, "reader-0") == [GONE]


def test_events_stored_before_the_deletion_are_kept(untrained_client: TestClient) -> None:
    c = untrained_client
    batch = [_event(GONE, 0, id="before-1")]
    assert c.post("/events", json={"events": batch}).json() == {"received": 1, "new": 1}
    assert c.delete(f"/items/{GONE}").status_code == 204

    assert _history(c, "reader-0") == [GONE]
    retry = c.post("/events", json={"events": batch})  # a retry after the deletion is refused too
    assert retry.status_code == 422 and "'before-1'" in retry.json()["detail"]
    assert _history(c, "reader-0") == [GONE]

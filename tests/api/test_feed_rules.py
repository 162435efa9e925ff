"""Business rules and re-ranking from configuration, through the HTTP feed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

ClientFactory = Callable[..., TestClient]


def _feed(client: TestClient, user: str, n: int = 10) -> list[dict[str, Any]]:
    r = client.get(f"/users/{user}/feed", params={"n": n})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_pinned_items_lead_blocked_never_appear(trained: Any, client_with: ClientFactory) -> None:
    user = trained.data.users[0]
    with client_with() as plain:
        baseline = _feed(plain, user)
    block = baseline[0]["item_id"]
    blocked_category = baseline[1]["category"]
    shown = {e["item_id"] for e in baseline}
    unseen = [m for m in trained.data.titles if m not in trained.data.seen[user] | shown]
    with client_with() as plain:
        pin = next(
            m for m in unseen if plain.get(f"/items/{m}").json()["category"] != blocked_category
        )
    rules = {"pinned": [pin], "blocked_items": [block], "blocked_categories": [blocked_category]}
    with client_with(rerank=rules) as ruled:
        feed = _feed(ruled, user)
    assert feed[0]["item_id"] == pin
    assert feed[0]["source"] == "pinned" and feed[0]["reason"]
    assert block not in {e["item_id"] for e in feed}
    assert all(e["category"] != blocked_category for e in feed)
    assert len(feed) == 10


def test_category_cap_and_diversity(trained: Any, client_with: ClientFactory) -> None:
    user = trained.data.users[1]
    with client_with(rerank={"max_per_category": 2, "diversity": 0.5}) as c:
        feed = _feed(c, user, n=12)
    counts: dict[str, int] = {}
    for e in feed:
        counts[e["category"]] = counts.get(e["category"], 0) + 1
    assert len(feed) == 12
    assert max(counts.values()) <= 2
    assert all(e["reason"] for e in feed)


def test_a_pinned_item_the_user_has_seen_is_not_pinned(
    trained: Any, client_with: ClientFactory
) -> None:
    user = trained.data.users[0]
    seen = sorted(trained.data.seen[user])[0]
    with client_with(rerank={"pinned": [seen]}) as c:
        feed = _feed(c, user)
    assert seen not in {e["item_id"] for e in feed}

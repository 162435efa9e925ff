"""Generation endpoints on a real store of the bundled Wikinews articles (extractive backend:
no model, so these stay fast; the embedded model is exercised in tests/unit/services)."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedcraft.api.app import create_app
from feedcraft.config import Settings, load_settings
from feedcraft.ctr import HeadlineClickModel
from feedcraft.services.generation_limits import MAX_LENGTH
from feedcraft.services.headlines import UPWORTHY_FILE, read_upworthy, save_headline_model
from feedcraft.services.ingestion import import_jsonl
from feedcraft.storage import open_store
from heldruns import held
from ports import free_port
from shareddata import shared_path

WIKINEWS = Path(__file__).parents[2] / "src/feedcraft/sample/wikinews/items.jsonl"
T0 = "2024-05-01T09:00:00Z"
BODY = (
    "Heavy rain flooded several streets of the city centre overnight. Police closed two "
    "bridges and asked drivers to stay at home. Schools in three districts stayed shut."
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gen") / "gen.db"


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    settings = load_settings(
        store=f"sqlite:///{db}",
        embedding={"model": "hashing"},
        llm={"backend": "extractive"},
        progress=False,
    )
    store = open_store(settings.store)
    try:
        import_jsonl(store, WIKINEWS.parent, progress=False)
    finally:
        store.close()
    with TestClient(create_app(settings)) as c:
        yield c


def first_item(client: TestClient) -> dict[str, object]:
    with open(WIKINEWS, encoding="utf-8") as f:
        return dict(json.loads(f.readline()))


def test_summary_is_served_then_cached(client: TestClient) -> None:
    item_id = first_item(client)["id"]
    first = client.get(f"/items/{item_id}/summary", params={"max_length": 60})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["item_id"] == item_id and body["outputs"] and body["outputs"][0].strip()
    assert body["backend"] and body["produced_by"]
    assert body["cache_hit"] is False
    again = client.get(f"/items/{item_id}/summary", params={"max_length": 60}).json()
    assert again["cache_hit"] is True and again["outputs"] == body["outputs"]


def test_headlines_give_n_variants(client: TestClient) -> None:
    item_id = first_item(client)["id"]
    body = client.get(f"/items/{item_id}/headlines", params={"n": 2}).json()
    assert body["task"] == "headlines"
    assert 1 <= len(body["outputs"]) <= 2


def test_headlines_come_best_first_once_a_click_model_is_trained(
    client: TestClient, db: Path
) -> None:
    item_id = first_item(client)["id"]
    plain = client.get(f"/items/{item_id}/headlines", params={"n": 3}).json()
    assert plain["p_click"] == [] and plain["ranked_by"] == ""
    archive = read_upworthy(shared_path(UPWORTHY_FILE))
    weeks = archive.subset(archive.test_weeks >= 201440)
    model = HeadlineClickModel(encoder="hashing", fields=("headline",), max_iter=50)
    with closing(open_store(f"sqlite:///{db}")) as st:  # as `train-headlines` would, meanwhile
        version = save_headline_model(st, model.fit(weeks), {})
    ranked = client.get(f"/items/{item_id}/headlines", params={"n": 3}).json()
    assert ranked["cache_hit"] and sorted(ranked["outputs"]) == sorted(plain["outputs"])
    assert len(ranked["p_click"]) == len(ranked["outputs"])
    assert ranked["p_click"] == sorted(ranked["p_click"], reverse=True)
    assert all(0 < p < 1 for p in ranked["p_click"]) and f"v{version}" in ranked["ranked_by"]


def test_a_damaged_newest_click_model_gives_way_to_the_previous(
    client: TestClient, db: Path
) -> None:
    """A truncated newest version neither fails the request (was 503) nor ranks: the
    previous good one does, as it does once the bad one is rolled back."""
    from feedcraft.services.headlines import ARTIFACT
    from feedcraft.services.models import rollback

    item_id = first_item(client)["id"]
    archive = read_upworthy(shared_path(UPWORTHY_FILE))
    model = HeadlineClickModel(encoder="hashing", fields=("headline",), max_iter=50)
    with closing(open_store(f"sqlite:///{db}")) as st:
        good = save_headline_model(st, model.fit(archive.subset(archive.test_weeks >= 201440)), {})
        blob, _ = st.artifacts.load(ARTIFACT, good)
        st.artifacts.save(ARTIFACT, blob[: len(blob) // 2], {})
    damaged = client.get(f"/items/{item_id}/headlines", params={"n": 3})
    assert damaged.status_code == 200, damaged.text
    assert f"v{good}" in damaged.json()["ranked_by"]
    with closing(open_store(f"sqlite:///{db}")) as st:
        rollback(st, ARTIFACT)
    ranked = client.get(f"/items/{item_id}/headlines", params={"n": 3}).json()
    assert f"v{good}" in ranked["ranked_by"] and len(ranked["p_click"]) == len(ranked["outputs"])


def test_ad_copy_and_description(client: TestClient) -> None:
    item_id = first_item(client)["id"]
    ad = client.get(f"/items/{item_id}/ad-copy", params={"audience": "science fans"})
    assert ad.status_code == 200 and ad.json()["outputs"][0].strip()
    desc = client.get(f"/items/{item_id}/description")
    assert desc.status_code == 200 and desc.json()["outputs"][0].strip()


def test_unknown_item_is_404_and_bad_n_is_422(client: TestClient) -> None:
    assert client.get("/items/no-such-item/summary").status_code == 404
    item_id = first_item(client)["id"]
    assert client.get(f"/items/{item_id}/headlines", params={"n": 0}).status_code == 422


def _copy_of(trained: Any, tmp_path: Path, *, budget_s: float) -> Settings:
    """Settings over a copy of the trained MovieLens store (the database and its WAL)."""
    for path in trained.db.parent.glob(trained.db.name + "*"):
        shutil.copy(path, tmp_path / path.name)
    return load_settings(
        store=f"sqlite:///{tmp_path / trained.db.name}",
        embedding={"model": "hashing"},
        llm={"backend": "extractive", "feed_summary_budget_s": budget_s},
        progress=False,
    )


def test_ids_with_slashes_reach_every_item_route(client: TestClient) -> None:
    """URL-like ids ("news/2024/rain"), sent plain or as %2F; sub-resources still match."""
    item = {"id": "news/2024/rain", "title": "Heavy rain floods city streets", "body": BODY}
    assert client.post("/items", json={"items": [item]}).status_code == 201
    for path in ("news/2024/rain", "news%2F2024%2Frain"):
        got = client.get(f"/items/{path}")
        assert got.status_code == 200 and got.json()["id"] == item["id"], got.text
        summary = client.get(f"/items/{path}/summary")
        assert summary.status_code == 200 and summary.json()["item_id"] == item["id"]
        heads = client.get(f"/items/{path}/headlines", params={"n": 2})
        assert heads.status_code == 200 and heads.json()["item_id"] == item["id"]
    assert client.delete("/items/news%2F2024%2Frain").status_code == 204
    assert client.get("/items/news/2024/rain").status_code == 404


def test_an_id_ending_like_a_sub_resource_is_the_item_when_its_slash_is_encoded(
    client: TestClient,
) -> None:
    """Item "news/summary" beside item "news": %2F belongs to the id, a literal "/summary"
    is the sub-resource (before, both were the summary of "news", and an item
    "promo/description" alone was a 404 for item "promo")."""
    items = [
        {"id": "news", "title": "Heavy rain floods city streets", "body": BODY},
        {"id": "news/summary", "title": "The week's news in brief", "body": BODY},
        {"id": "promo/description", "title": "Spring promotion", "body": BODY},
    ]
    assert client.post("/items", json={"items": items}).status_code == 201
    for path, item_id in [
        ("news%2Fsummary", "news/summary"),
        ("news%2fsummary", "news/summary"),
        ("promo%2Fdescription", "promo/description"),
    ]:
        got = client.get(f"/items/{path}")
        assert got.status_code == 200 and got.json()["id"] == item_id, (path, got.text)
    summary = client.get("/items/news/summary")
    assert summary.status_code == 200 and summary.json()["item_id"] == "news"
    of_encoded = client.get("/items/news%2Fsummary/summary")
    assert of_encoded.status_code == 200 and of_encoded.json()["item_id"] == "news/summary"
    assert client.get("/items/promo/description").status_code == 404  # no item "promo"
    assert "/_item-by-id/{item_id}" not in client.get("/openapi.json").json()["paths"]


def test_a_stub_item_is_refused_by_id(client: TestClient) -> None:
    """An event naming an unknown item makes a stub (no text yet): the error says so."""
    event = {"user_id": "u1", "item_id": "stub-1", "type": "click", "timestamp": T0}
    assert client.post("/events", json={"events": [event]}).status_code == 201
    got = client.get("/items/stub-1/summary")
    assert got.status_code == 422 and "'stub-1' has no title or body" in got.text, got.text
    assert "a stub" in got.text


def test_the_feed_can_attach_a_summary_to_each_item(trained: Any, tmp_path: Path) -> None:
    """On the trained MovieLens store (tests/api/conftest.py): each entry carries a summary
    of that item (its title, these items having no body), for the reader's interest bucket.
    The budget is ample: all are written within the request."""
    settings = _copy_of(trained, tmp_path, budget_s=600.0)
    user = trained.data.users[0]
    with TestClient(create_app(settings)) as c:
        plain = c.get(f"/users/{user}/feed", params={"n": 3}).json()
        assert all(e["summary"] is None for e in plain["items"])
        body = c.get(f"/users/{user}/feed", params={"n": 3, "summaries": True}).json()
    assert [e["item_id"] for e in body["items"]] == [e["item_id"] for e in plain["items"]]
    for e in body["items"]:
        assert e["summary"] and not e["summary_pending"], e
        assert set(e["summary"].split()) & set(e["title"].split())


def test_summaries_not_written_within_the_budget_come_with_the_next_request(
    trained: Any, tmp_path: Path
) -> None:
    """With no budget the feed answers at once, every summary pending; the background thread
    writes them, and the same request then carries them all."""
    settings = _copy_of(trained, tmp_path, budget_s=0.0)
    user = trained.data.users[1]
    query = {"n": 5, "summaries": True}
    with TestClient(create_app(settings)) as c:
        first = c.get(f"/users/{user}/feed", params=query).json()["items"]
        assert len(first) == 5
        assert all(e["summary"] is None and e["summary_pending"] for e in first)
        assert c.app.state.services.feed_summaries.wait(60)  # type: ignore[attr-defined]
        second = c.get(f"/users/{user}/feed", params=query).json()["items"]
        plain = c.get(f"/users/{user}/feed", params={"n": 5}).json()["items"]
    assert [e["item_id"] for e in second] == [e["item_id"] for e in first]
    assert all(e["summary"] and not e["summary_pending"] for e in second)
    assert not any(e["summary_pending"] for e in plain)


def test_a_pending_summary_comes_as_the_one_for_anyone_when_there_is_one(
    trained: Any, tmp_path: Path
) -> None:
    """Each item's summary for no particular reader written (by GET without a user, as a
    batch writes them): a reader whose own are still being written gets those at once, each
    marked `summary_for_anyone` and still `summary_pending`; the next request brings theirs."""
    settings = _copy_of(trained, tmp_path, budget_s=0.0)
    user = trained.data.users[2]
    query = {"n": 4, "summaries": True}
    with TestClient(create_app(settings)) as c:
        ids = [e["item_id"] for e in c.get(f"/users/{user}/feed", params={"n": 4}).json()["items"]]
        anyone = {i: c.get(f"/items/{i}/summary").json()["outputs"] for i in ids}
        first = c.get(f"/users/{user}/feed", params=query).json()["items"]
        assert c.app.state.services.feed_summaries.wait(60)  # type: ignore[attr-defined]
        second = c.get(f"/users/{user}/feed", params=query).json()["items"]
        own = {i: c.get(f"/items/{i}/summary", params={"user_id": user}).json() for i in ids}
    assert [e["item_id"] for e in first] == ids
    for e in first:
        assert e["summary_for_anyone"] and e["summary_pending"], e
        assert e["summary"] == "\n".join(anyone[e["item_id"]])
    for e in second:
        assert not e["summary_for_anyone"] and not e["summary_pending"], e
        assert own[e["item_id"]]["interests"] and own[e["item_id"]]["cache_hit"]
        assert e["summary"] == "\n".join(own[e["item_id"]]["outputs"])


@pytest.mark.parametrize("backend", ["gemma4", "/nonexistent/model.gguf"])
def test_a_feed_with_summaries_is_served_when_generation_is_misconfigured(
    trained: Any, tmp_path: Path, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The client asked for a feed, not for the [llm] backend: it gets the feed, with the
    reason summaries are missing; /summary itself still refuses (422, naming the backend)."""
    settings = _copy_of(trained, tmp_path, budget_s=0.0)
    settings = settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"backend": backend})}
    )
    user = trained.data.users[0]
    with TestClient(create_app(settings)) as c, caplog.at_level(logging.WARNING):
        plain = c.get(f"/users/{user}/feed", params={"n": 3}).json()
        for _ in range(2):
            got = c.get(f"/users/{user}/feed", params={"n": 3, "summaries": True})
            assert got.status_code == 200, got.text
            body = got.json()
            assert [e["item_id"] for e in body["items"]] == [e["item_id"] for e in plain["items"]]
            assert all(e["summary"] is None and not e["summary_pending"] for e in body["items"])
            assert backend in body["summaries_unavailable"]
        assert plain["summaries_unavailable"] is None
        refused = c.get(f"/items/{plain['items'][0]['item_id']}/summary")
    assert refused.status_code == 422 and backend in refused.json()["detail"]
    warnings = [r for r in caplog.records if "without summaries" in r.getMessage()]
    assert len(warnings) == 1 and backend in warnings[0].getMessage()  # once, not per feed


def test_a_length_budget_above_the_maximum_is_422_naming_max_length(client: TestClient) -> None:
    item_id = first_item(client)["id"]
    for path in ("summary", "headlines", "ad-copy", "description"):
        got = client.get(f"/items/{item_id}/{path}", params={"max_length": MAX_LENGTH + 1})
        assert got.status_code == 422, (path, got.text)
        assert got.json()["detail"][0]["loc"] == ["query", "max_length"]
    ok = client.get(f"/items/{item_id}/summary", params={"max_length": MAX_LENGTH})
    assert ok.status_code == 200


def test_an_item_of_emoji_only_is_422_naming_the_item_for_every_task(
    client: TestClient,
) -> None:
    assert (
        client.post("/items", json={"items": [{"id": "emoji", "title": "🎉🎉🎉"}]}).status_code
        == 201
    )
    for path in ("summary", "headlines", "ad-copy", "description"):
        got = client.get(f"/items/emoji/{path}")
        assert got.status_code == 422, (path, got.text)
        assert got.json() == {"detail": "field 'item_id': item 'emoji' has no words to write from"}


def test_outputs_that_could_not_be_written_are_counted(client: TestClient) -> None:
    item = {"id": "two-sentences", "title": "Rain floods the city", "body": BODY}
    assert client.post("/items", json={"items": [item]}).status_code == 201
    got = client.get("/items/two-sentences/headlines", params={"n": 10}).json()
    assert len(got["outputs"]) < 10 and got["unfilled"] == 10 - len(got["outputs"])
    assert client.get("/items/two-sentences/summary").json()["unfilled"] == 0


def test_a_summary_beyond_the_pending_runs_is_the_fallback_marked_busy(
    client: TestClient, db: Path
) -> None:
    """`[llm] max_pending` runs pending: the next request gets the extractive summary at once
    (200, `backend_error` "busy: ..."), not a thread held until the model is free. (`client`
    has imported the articles into `db`.)"""
    settings = load_settings(
        store=f"sqlite:///{db}",
        embedding={"model": "hashing"},
        llm={"backend": f"http://127.0.0.1:{free_port()}", "max_pending": 1, "max_retries": 0},
        progress=False,
    )
    item = str(first_item(client)["id"])
    with TestClient(create_app(settings)) as c:
        admission = c.app.state.services.generation.generator.admission  # type: ignore[attr-defined]
        with held(admission):  # another request's model run, in progress
            busy = c.get(f"/items/{item}/summary")
        asked = c.get(f"/items/{item}/summary")  # the (down) model is asked now
    assert busy.status_code == 200, busy.text
    body = busy.json()
    assert body["fallback"] and body["outputs"] and not body["cache_hit"]
    assert body["backend_error"].startswith("busy") and "max_pending" in body["backend_error"]
    assert asked.status_code == 200 and not asked.json()["backend_error"].startswith("busy")

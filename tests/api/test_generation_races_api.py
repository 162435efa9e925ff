"""Generated text over HTTP when an item is deleted mid-request, and feeds during an outage of
the model's server: on a copy of the imported MovieLens subset (tests/api/conftest.py), with
the popularity model trained so that feeds have an order."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedcraft.api.app import create_app
from feedcraft.config import Settings, load_settings
from feedcraft.services.training import train
from feedcraft.storage import open_store
from ports import free_port


def _settings(
    imported_db: Path, tmp_path: Path, serve: dict[str, Any] | None = None, **llm: Any
) -> Settings:
    """Settings over a copy of the imported store, with the popularity model trained."""
    for path in imported_db.parent.glob(imported_db.name + "*"):  # the database and its WAL
        shutil.copy(path, tmp_path / path.name)
    settings = load_settings(
        store=f"sqlite:///{tmp_path / imported_db.name}",
        embedding={"model": "hashing"},
        llm=llm,
        serve=serve or {},
        progress=False,
    )
    with closing(open_store(settings.store)) as store:
        train(store, settings, models=["popularity"], progress=False)
    return settings


@pytest.fixture
def outage(imported_db: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The model's server is down (nothing listens on its port)."""
    down = f"http://127.0.0.1:{free_port()}/v1"
    settings = _settings(
        imported_db, tmp_path, backend=down, max_retries=0, feed_summary_budget_s=60.0
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_a_feed_during_an_outage_settles_on_the_fallback(
    outage: TestClient, ml_subset: Any
) -> None:
    """Not pending for ever: the fallback (what GET .../summary serves meanwhile) is attached,
    and the next feed request does not queue another call to the dead server."""
    user = ml_subset.users[0]
    query = {"n": 3, "summaries": True, "model": "popularity"}
    services = outage.app.state.services  # type: ignore[attr-defined]
    for _ in range(2):
        got = outage.get(f"/users/{user}/feed", params=query)
        assert got.status_code == 200, got.text
        entries = got.json()["items"]
        assert len(entries) == 3
        assert all(e["summary"] and not e["summary_pending"] for e in entries), entries
        assert services.feed_summaries.pending() == 0  # nothing queued for the dead server
    direct = outage.get(f"/items/{entries[0]['item_id']}/summary", params={"user_id": user})
    assert direct.json()["outputs"][0] == entries[0]["summary"]
    assert services.store.text_cache.count() == 0  # an outage's text is never cached


def test_deleting_an_item_while_its_summary_is_written_leaves_no_text(
    imported_db: Path, tmp_path: Path, ml_subset: Any
) -> None:
    settings = _settings(imported_db, tmp_path, backend="extractive")
    item_id = sorted(ml_subset.titles)[0]
    with TestClient(create_app(settings)) as c:
        generation = c.app.state.services.generation  # type: ignore[attr-defined]
        summarise = generation.generator.summary
        entered, release = threading.Event(), threading.Event()

        def held(request: Any) -> Any:
            entered.set()
            assert release.wait(30)
            return summarise(request)

        generation.generator.summary = held
        out: dict[str, Any] = {}
        thread = threading.Thread(
            target=lambda: out.setdefault("r", c.get(f"/items/{item_id}/summary"))
        )
        thread.start()
        assert entered.wait(30)
        assert c.delete(f"/items/{item_id}").status_code == 204
        release.set()
        thread.join(30)
        assert out["r"].status_code == 200  # it began before the delete
        assert c.get(f"/items/{item_id}").status_code == 404
        assert generation.store.text_cache.count(generation.item_prefix(item_id)) == 0


def test_the_outage_window_is_a_setting(imported_db: Path, tmp_path: Path) -> None:
    """A site whose model server stays down for hours can ask it less often."""
    down = f"http://127.0.0.1:{free_port()}/v1"
    settings = _settings(imported_db, tmp_path, backend=down, feed_outage_retry_s=900.0)
    with TestClient(create_app(settings)) as c:
        services = c.app.state.services  # type: ignore[attr-defined]
        assert services.feed_summaries.retry_s == 900.0


def test_generation_requests_hold_at_most_their_threads_and_feeds_keep_theirs(
    imported_db: Path, tmp_path: Path, ml_subset: Any
) -> None:
    """Five summaries at once with `generation_threads` 2: two run, three wait without a
    thread, and meanwhile feeds, items and /health are answered; then all five are."""
    settings = _settings(
        imported_db, tmp_path, serve={"generation_threads": 2}, backend="extractive"
    )
    items = sorted(ml_subset.titles)[:5]
    with TestClient(create_app(settings)) as c:
        generator = c.app.state.services.generation.generator  # type: ignore[attr-defined]
        summarise = generator.summary
        lock, release = threading.Lock(), threading.Event()
        running: list[int] = [0, 0]  # now, most at once

        def held(request: Any) -> Any:
            with lock:
                running[0] += 1
                running[1] = max(running[1], running[0])
            assert release.wait(30)
            with lock:
                running[0] -= 1
            return summarise(request)

        generator.summary = held
        answers: dict[str, Any] = {}
        threads = [
            threading.Thread(target=lambda i=i: answers.setdefault(i, c.get(f"/items/{i}/summary")))
            for i in items
        ]
        for t in threads:
            t.start()
        user = ml_subset.users[0]
        try:
            deadline = time.monotonic() + 30
            while running[0] < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.5)  # room for a third to start, were it let
            assert running[0] == 2
            feed = c.get(f"/users/{user}/feed", params={"n": 3, "model": "popularity"})
            assert feed.status_code == 200 and len(feed.json()["items"]) == 3
            assert c.get(f"/items/{items[0]}").status_code == 200
            assert c.get("/health").status_code == 200
            assert not answers  # all five still held or waiting
        finally:
            release.set()
            for t in threads:
                t.join(30)
        assert running[1] == 2
        assert sorted(answers) == items
        assert all(r.status_code == 200 and r.json()["outputs"] for r in answers.values())

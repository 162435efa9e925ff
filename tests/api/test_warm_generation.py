"""`[llm] warm_at_start`: the server loads the language model in the background at start-up,
answers meanwhile, and says in /health how far it got (trained MovieLens store of
tests/api/conftest.py, each test on its own copy)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedcraft.api.app import create_app
from feedcraft.config import Settings, load_settings
from ports import free_port


def _settings(trained: Any, tmp_path: Path, **llm: Any) -> Settings:
    """Settings over a copy of the trained store (the database and its WAL)."""
    for path in trained.db.parent.glob(trained.db.name + "*"):
        shutil.copy(path, tmp_path / path.name)
    llm = {"multilingual_encoder": None, "feed_summary_budget_s": 600.0} | llm
    return load_settings(
        store=f"sqlite:///{tmp_path / trained.db.name}",
        embedding={"model": "hashing"},
        llm=llm,
        progress=False,
    )


def test_generation_is_lazy_unless_asked(client: TestClient) -> None:
    assert client.get("/health").json()["generation"] == "lazy"


def test_the_embedded_model_is_loaded_before_the_first_request(
    trained: Any, tmp_path: Path
) -> None:
    pytest.importorskip("xllamacpp")
    from feedcraft.llm import embedded

    settings = _settings(trained, tmp_path, backend="smollm2", warm_at_start=True, context=3072)
    key = (embedded._file_id(embedded.resolve_gguf("smollm2")), 3072, settings.llm.threads, True)
    assert key not in embedded._engines  # a context size no other test loads
    with TestClient(create_app(settings)) as c:
        services = c.app.state.services  # type: ignore[attr-defined]
        assert c.get("/health").json()["generation"] in ("loading", "ready")
        services.warm_generation().join(120)  # the thread started at start-up, not a new one
        assert c.get("/health").json()["generation"] == "ready"
        assert key in embedded._engines
        user = trained.data.users[0]
        body = c.get(f"/users/{user}/feed", params={"n": 2, "summaries": True}).json()
    assert all(e["summary"] and not e["summary_pending"] for e in body["items"]), body


def test_a_model_that_cannot_load_is_reported_and_feeds_still_served(
    trained: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.gguf"
    settings = _settings(trained, tmp_path, backend=str(missing), warm_at_start=True)
    with TestClient(create_app(settings)) as c:
        c.app.state.services.warm_generation().join(60)  # type: ignore[attr-defined]
        state = c.get("/health").json()["generation"]
        assert state.startswith("failed:") and "missing.gguf" in state
        user = trained.data.users[0]
        assert c.get(f"/users/{user}/feed", params={"n": 3}).status_code == 200
        item = c.get(f"/users/{user}/feed", params={"n": 1}).json()["items"][0]["item_id"]
        refused = c.get(f"/items/{item}/summary")
    assert refused.status_code == 422 and "missing.gguf" in refused.json()["detail"]


def test_an_unreachable_model_server_is_reported_at_start_up(trained: Any, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = _settings(trained, tmp_path, backend=url, warm_at_start=True)
    with TestClient(create_app(settings)) as c:
        c.app.state.services.warm_generation().join(60)  # type: ignore[attr-defined]
        state = c.get("/health").json()["generation"]
        assert state.startswith("failed:") and url in state, state
        user = trained.data.users[0]
        assert c.get(f"/users/{user}/feed", params={"n": 3}).status_code == 200

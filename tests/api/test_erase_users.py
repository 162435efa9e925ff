"""DELETE /users/{id} end to end: real SQLite store, real MovieLens subset, every model trained."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from feedcraft.services.models import artifact_name, load_model
from feedcraft.services.training import MODEL_NAMES
from feedcraft.storage import open_store

GONE, STAYS, NEVER = "1", "2", "never-seen"


def _feed(client: TestClient, user: str, model: str) -> tuple[list[str], str]:
    response = client.get(f"/users/{user}/feed", params={"n": 10, "model": model})
    assert response.status_code == 200, response.text
    body = response.json()
    return [e["item_id"] for e in body["items"]], body["model"]


def test_erasing_a_reader_over_http(client: TestClient, trained: Any) -> None:
    events = client.get("/health").json()["events"]
    served = {m: _feed(client, STAYS, m)[0] for m in MODEL_NAMES}
    cold = {m: _feed(client, NEVER, m)[0] for m in MODEL_NAMES}

    assert client.put(f"/users/{GONE}/consent", json={"ads": False}).status_code == 200
    response = client.delete(f"/users/{GONE}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == GONE and body["unreadable"] == body["dropped"] == []
    assert body["consents"] == 1
    assert body["events"] == len(trained.data.seen[GONE]) > 0
    assert body["models"] == {m: {"1": 2} for m in MODEL_NAMES}  # every version knew them
    assert client.get("/health").json()["events"] == events - body["events"]
    for model in MODEL_NAMES:
        items, version = _feed(client, GONE, model)
        assert version == f"{model}@v2"
        if model != "random":  # random draws per user id
            assert items == cold[model], model
        assert _feed(client, STAYS, model)[0] == served[model], model

    store_url = client.app.state.services.settings.store  # type: ignore[attr-defined]
    with closing(open_store(store_url)) as store:
        for model in MODEL_NAMES:
            fitted, _ = load_model(store, model)
            users = fitted.interactions_.users  # type: ignore[attr-defined]
            assert GONE not in users and STAYS in users
            assert [v.version for v in store.artifacts.versions(artifact_name(model))] == [2]

    again = client.delete(f"/users/{GONE}")
    assert again.status_code == 200
    assert (again.json()["events"], again.json()["models"]) == (0, {})
    assert client.get(f"/users/{GONE}/consent").json()["updated_at"] is None
    assert client.get(f"/users/{GONE}/consent/history").json()["decisions"] == []


def test_erasure_needs_a_key_when_keys_are_set(client_with: Any, tmp_path: Path) -> None:
    with client_with(serve={"api_keys": ["k" * 32]}) as keyed:
        assert keyed.delete(f"/users/{GONE}").status_code == 401
        headers = {"Authorization": "Bearer " + "k" * 32}
        assert keyed.delete(f"/users/{GONE}", headers=headers).status_code == 200

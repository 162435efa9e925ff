"""GET and PUT /users/{id}/consent, and feeds that obey them: real store, real trained models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient

from feedcraft.services.training import MODEL_NAMES

READER, NEVER = "1", "never-seen"


def _feed(client: TestClient, user: str, **params: object) -> dict[str, object]:
    response = client.get(f"/users/{user}/feed", params={"n": 10, "model": "itemknn"} | params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _items(body: dict[str, object]) -> list[str]:
    return [e["item_id"] for e in body["items"]]  # type: ignore[attr-defined, index]


def test_consent_round_trip_and_the_feed_obeys_it(client: TestClient) -> None:
    undecided = client.get(f"/users/{READER}/consent").json()
    assert undecided == {
        "user_id": READER,
        "choices": {},
        "effective": {"personalisation": True, "ads": True},
        "default": "granted",
        "updated_at": None,
    }
    mine = _feed(client, READER)
    assert mine["personalised"] is True and _items(mine) != _items(_feed(client, NEVER))

    put = client.put(f"/users/{READER}/consent", json={"personalisation": False})

    assert put.status_code == 200, put.text
    body = put.json()
    assert body["choices"] == {"personalisation": False}
    assert body["effective"] == {"personalisation": False, "ads": True}
    assert datetime.fromisoformat(body["updated_at"]).tzinfo is not None
    assert client.get(f"/users/{READER}/consent").json() == body
    theirs = _feed(client, READER)
    assert theirs["personalised"] is False and theirs["user_id"] == READER
    assert _items(theirs) == _items(_feed(client, NEVER))
    # replaced whole: an empty body makes every purpose undecided again
    cleared = client.put(f"/users/{READER}/consent", json={}).json()
    assert cleared["choices"] == {} and cleared["effective"]["personalisation"] is True
    assert _items(_feed(client, READER)) == _items(mine)
    # when they agreed to what, oldest first
    history = client.get(f"/users/{READER}/consent/history").json()
    assert history["user_id"] == READER
    assert [d["choices"] for d in history["decisions"]] == [{"personalisation": False}, {}]
    assert history["decisions"][0]["updated_at"] == body["updated_at"]
    assert client.get(f"/users/{NEVER}/consent/history").json()["decisions"] == []


def test_bad_consent_bodies_are_422_naming_the_field(client: TestClient) -> None:
    for body, field in (
        ({"tracking": True}, "tracking"),
        ({"ads": "sometimes"}, "ads"),
        ({"ads": "yes"}, "ads"),  # a decision is true or false, not a word taken for one
        ({"personalisation": 0}, "personalisation"),
        ([True], "body"),
    ):
        response = client.put(f"/users/{READER}/consent", json=body)
        assert response.status_code == 422, body
        assert field in str(response.json()["detail"]), response.text
    assert client.get(f"/users/{READER}/consent").json()["choices"] == {}


def test_opt_in_site(client_with: Callable[..., TestClient]) -> None:
    with client_with(privacy={"default_consent": "refused"}) as client:
        assert _feed(client, READER)["personalised"] is False
        state = client.get(f"/users/{READER}/consent").json()
        assert state["default"] == "refused" and state["effective"]["personalisation"] is False
        client.put(f"/users/{READER}/consent", json={"personalisation": True})
        assert _feed(client, READER)["personalised"] is True


def test_every_model_serves_a_refusing_reader_as_one_never_seen(client: TestClient) -> None:
    client.put(f"/users/{READER}/consent", json={"personalisation": False})
    for model in MODEL_NAMES:
        theirs = _feed(client, READER, model=model)
        assert theirs["personalised"] is False
        if model != "random":  # random draws per reader id
            assert _items(theirs) == _items(_feed(client, NEVER, model=model)), model

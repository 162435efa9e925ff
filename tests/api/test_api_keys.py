"""`[serve] api_keys`: every route but /health asks for a key when keys are set.

A real app on a copy of the trained MovieLens store; the keys come in through the settings as
a deployment sets them (FEEDCRAFT_SERVE__API_KEYS), and one test starts a real server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from feedcraft.cli.main import exposure_warning
from feedcraft.config import load_settings
from feedcraft.errors import InvalidInput
from realserver import feedcraft_serve

KEY = "k3y-for-tests-0123456789abcdef"
OLD_KEY = "old-k3y-still-valid-0123456789"

# One route of each kind: reading a reader (feed, summary), writing (events), reading items.
ROUTES = [
    ("GET", "/users/7/feed?n=3", None),
    ("GET", "/items/1/summary?user_id=7", None),
    ("GET", "/items/1", None),
    (
        "POST",
        "/events",
        {"events": [{"user_id": "7", "item_id": "1", "type": "click", "timestamp": 1}]},
    ),
]


@pytest.fixture
def keyed(client_with: Callable[..., TestClient]) -> TestClient:
    return client_with(serve={"api_keys": [KEY, OLD_KEY]}, llm={"backend": "extractive"})


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_without_a_key_nothing_is_read_or_written(
    keyed: TestClient, method: str, path: str, body: object
) -> None:
    with keyed as c:
        events = c.get("/health").json()["events"]
        for headers in ({}, _bearer("wrong-key-0123456789abcdef"), {"Authorization": KEY}):
            r = c.request(method, path, json=body, headers=headers)
            assert r.status_code == 401, (headers, r.text)
            assert r.headers["www-authenticate"] == "Bearer"
            assert "API key" in r.json()["detail"]
            assert KEY not in r.text
        assert c.get("/health").json()["events"] == events  # the refused write wrote nothing


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_either_key_is_served(keyed: TestClient, method: str, path: str, body: object) -> None:
    with keyed as c:
        for key in (KEY, OLD_KEY):
            r = c.request(method, path, json=body, headers=_bearer(key))
            assert r.status_code in (200, 201), r.text


def test_health_answers_without_a_key(keyed: TestClient) -> None:
    with keyed as c:
        assert c.get("/health").status_code == 200


def test_a_request_without_a_key_is_refused_before_routing_or_reading_its_body(
    keyed: TestClient,
) -> None:
    """No body is parsed for it (a malformed or huge batch is a 401, not a 422), and no path
    tells whether it exists (401, not 404 or 405)."""
    with keyed as c:
        for method, path in [
            ("GET", "/no/such/route"),
            ("DELETE", "/health/x"),
            ("PUT", "/events"),
        ]:
            assert c.request(method, path).status_code == 401, path
        r = c.post("/events", content=b'{"events": [' + b"x" * 5_000_000)
        assert r.status_code == 401
        assert c.post("/events", content=b"{", headers=_bearer(KEY)).status_code == 422


def test_behind_a_path_prefix_health_still_answers_without_a_key(
    client_with: Callable[..., TestClient],
) -> None:
    """A proxy serving the API under /feeds sets root_path; the open paths are the app's."""
    app_client = client_with(serve={"api_keys": [KEY]})
    with TestClient(app_client.app, root_path="/feeds") as c:
        assert c.get("/feeds/health").status_code == 200
        assert c.get("/feeds/users/7/feed?n=3").status_code == 401
        assert c.get("/feeds/users/7/feed?n=3", headers=_bearer(KEY)).status_code == 200


@pytest.mark.parametrize("header", [f"bearer {KEY}", f"BEARER   {KEY}  ", f"Bearer {KEY}"])
def test_the_scheme_is_read_in_any_case(keyed: TestClient, header: str) -> None:
    with keyed as c:
        assert c.get("/items/1", headers={"Authorization": header}).status_code == 200


@pytest.mark.parametrize("header", [f"Basic {KEY}", KEY, "Bearer", f"Bearer\t{KEY}"])
def test_other_schemes_and_bare_keys_are_refused(keyed: TestClient, header: str) -> None:
    with keyed as c:
        assert c.get("/items/1", headers={"Authorization": header}).status_code == 401


def test_the_openapi_document_names_the_bearer_scheme(keyed: TestClient) -> None:
    with keyed as c:
        spec = c.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["api_key"]["scheme"] == "bearer"
    assert spec["paths"]["/users/{user_id}/feed"]["get"]["security"] == [{"api_key": []}]


DOCS = ["/openapi.json", "/docs", "/redoc"]


def test_the_docs_pages_answer_without_a_key_by_default(keyed: TestClient) -> None:
    with keyed as c:
        assert [c.get(p).status_code for p in DOCS] == [200, 200, 200]


def test_with_docs_off_no_page_maps_the_routes(client_with: Callable[..., TestClient]) -> None:
    """`[serve] docs = false`: a server facing the internet need not describe itself."""
    keyed = client_with(serve={"api_keys": [KEY], "docs": False}, llm={"backend": "extractive"})
    with keyed as c:
        assert [c.get(p).status_code for p in DOCS] == [401, 401, 401]  # like any path
        assert [c.get(p, headers=_bearer(KEY)).status_code for p in DOCS] == [404, 404, 404]
        assert c.get("/health").status_code == 200
        assert c.get("/items/1", headers=_bearer(KEY)).status_code == 200
    with client_with(serve={"docs": False}, llm={"backend": "extractive"}) as c:
        assert [c.get(p).status_code for p in DOCS] == [404, 404, 404]
        assert c.get("/users/7/feed?n=3").status_code == 200


def test_without_keys_configured_the_api_is_open(client: TestClient) -> None:
    assert client.get("/users/7/feed?n=3").status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


@pytest.mark.parametrize(
    "key",
    [
        "short",
        "x" * 15,
        "has a space in it 0123",
        "tab\tinside-0123456789",
        "clé-secrète-0123456789",
    ],
)
def test_weak_or_malformed_keys_are_refused_without_echoing_them(key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        load_settings(serve={"api_keys": [KEY, key]})
    assert err.value.field == "serve.api_keys.1.key"
    assert "must be at least 16 printable ASCII" in str(err.value)
    assert key not in str(err.value)


@pytest.mark.parametrize(
    ("host", "keyed", "warned"),
    [
        ("127.0.0.1", False, False),
        ("localhost", False, False),
        ("::1", False, False),
        ("[::1]", False, False),
        ("0.0.0.0", False, True),
        ("192.168.1.5", False, True),
        ("feeds.example.org", False, True),
        ("0.0.0.0", True, False),
    ],
)
def test_serving_beyond_loopback_without_keys_is_warned(
    host: str, keyed: bool, warned: bool
) -> None:
    warning = exposure_warning(host, keyed)
    assert (warning is not None) == warned
    if warning:
        assert "api_keys" in warning and host in warning


#: A reader id a log line could only hold by naming the request.
READER = "reader-in-no-log-7c1"


@pytest.mark.slow
def test_a_served_api_takes_its_keys_from_the_environment(trained: object, tmp_path: Path) -> None:
    with feedcraft_serve(tmp_path, {"FEEDCRAFT_SERVE__API_KEYS": json.dumps([KEY])}) as (
        base,
        log,
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/items/none", timeout=5)
        assert refused.value.code == 401
        asked = urllib.request.Request(f"{base}/items/none", headers=_bearer(KEY))
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(asked, timeout=5)
        assert missing.value.code == 404  # past the key check: the item is not there
        feed = urllib.request.Request(f"{base}/users/{READER}/feed", headers=_bearer(KEY))
        with pytest.raises(urllib.error.HTTPError) as untrained:
            urllib.request.urlopen(feed, timeout=5)
        assert untrained.value.code == 503  # a request naming the reader, answered
    written = log.read_text()
    assert "warning" not in written
    assert READER not in written and KEY not in written  # no access log names a reader

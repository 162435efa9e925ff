"""`[serve] rate_limit`: each client (its API key, else its address) gets a token bucket.

The buckets' arithmetic is checked with the time passed in; the middleware in a real app on
a copy of the imported MovieLens subset (no models needed: the limit comes before routing)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import client_factory
from feedcraft.api.limits import Buckets
from feedcraft.config import load_settings
from feedcraft.errors import InvalidInput
from realserver import feedcraft_serve

KEY = "k3y-for-tests-0123456789abcdef"
OTHER_KEY = "other-k3y-0123456789abcdefgh"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- the buckets ---------------------------------------------------------------------------


def test_a_client_gets_its_burst_then_waits_one_token() -> None:
    b = Buckets(rate=2.0, burst=3)
    assert [b.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take("a", 0.0) == pytest.approx(0.5)  # one token at 2 a second
    assert b.take("a", 0.25) == pytest.approx(0.25)
    assert b.take("a", 0.5) == 0.0
    assert b.take("a", 0.5) == pytest.approx(0.5)


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    b = Buckets(rate=10.0, burst=2)
    b.take("a", 0.0)
    waits = [b.take("a", 3600.0) for _ in range(3)]  # an hour idle refills 2, not 36,000
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0


def test_refused_requests_take_nothing_so_a_client_that_keeps_sending_gets_its_rate() -> None:
    b = Buckets(rate=1.0, burst=5)
    admitted = sum(b.take("flood", t / 100) == 0.0 for t in range(1000))  # 100 a s for 10 s
    assert admitted == 5 + 9  # the burst, then one a second (the tenth lands at 10.0 s)


def test_clients_have_their_own_buckets() -> None:
    b = Buckets(rate=1.0, burst=1)
    assert b.take("a", 0.0) == 0.0
    assert b.take("a", 0.0) > 0
    assert b.take("b", 0.0) == 0.0


def test_memory_is_bounded_by_forgetting_the_least_recently_seen() -> None:
    b = Buckets(rate=0.001, burst=2, max_clients=20)  # nothing refills within these 2 s
    b.take("drained", 0.0)
    b.take("drained", 0.0)
    for i in range(19):
        b.take(f"new-{i}", 1.0)
    assert len(b) == 20
    b.take("one-more", 2.0)
    assert len(b) == 18  # down to nine tenths of the bound: one scan per tenth, not per request
    assert [b.take("drained", 2.0), b.take("drained", 2.0)] == [0.0, 0.0]  # forgotten: full
    assert b.take("new-18", 2.0) == 0.0 and b.take("new-18", 2.0) > 0  # kept: still spent
    for i in range(1000):  # a flood of new addresses stays within the bound
        b.take(("flood", i), 3.0)
        assert len(b) <= 20


def test_refilled_buckets_go_before_any_spending_one() -> None:
    b = Buckets(rate=1.0, burst=2, max_clients=10)
    b.take("oldest-but-spent", 0.0)
    b.take("oldest-but-spent", 0.0)
    for i in range(9):
        b.take(f"once-{i}", 0.0)  # one token left each: full again by 1.0
    b.take("new", 1.5)  # over the bound: the nine full ones go, though newer
    assert len(b) == 2
    assert b.take("oldest-but-spent", 1.5) == 0.0  # kept: 1.5 tokens, not a fresh 2
    assert b.take("oldest-but-spent", 1.5) > 0


@pytest.mark.parametrize(
    ("rate", "burst", "field"),
    [(0, 1, "rate_limit"), (-1.0, 1, "rate_limit"), (float("nan"), 1, "rate_limit"),
     (1.0, 0, "rate_burst"), (1.0, True, "rate_burst"), (1.0, 1.5, "rate_burst")],
)  # fmt: skip
def test_bad_limits_are_refused_naming_the_setting(rate: float, burst: int, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Buckets(rate, burst)
    assert info.value.field == field


@pytest.mark.parametrize(
    "serve",
    [{"rate_limit": 0}, {"rate_limit": -2}, {"rate_limit": "nan"}, {"rate_burst": 0}],
)
def test_the_settings_refuse_limits_that_mean_nothing(serve: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as info:
        load_settings(serve=serve)
    assert info.value.field == f"serve.{next(iter(serve))}"


# --- the middleware in the app ---------------------------------------------------------------


@pytest.fixture
def app_with(imported_db: Path, tmp_path: Path) -> Callable[..., TestClient]:
    """Factory: a client on a fresh copy of the imported store, with these serve settings."""
    make = client_factory(imported_db, tmp_path)
    return lambda **serve: make(serve=serve)


# 0.2 a second: a refused request waits 5 s for its token, far longer than these tests take
SLOW = {"rate_limit": 0.2, "rate_burst": 2}


def test_a_key_past_its_burst_gets_429_with_retry_after_and_another_key_is_served(
    app_with: Callable[..., TestClient],
) -> None:
    with app_with(api_keys=[KEY, OTHER_KEY], **SLOW) as c:
        codes = [c.get("/items/1", headers=_bearer(KEY)).status_code for _ in range(2)]
        assert codes == [200, 200]
        r = c.get("/items/1", headers=_bearer(KEY))
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 5
        detail = r.json()["detail"]
        assert "[serve] rate_limit" in detail and "for this API key" in detail
        assert KEY not in r.text
        assert c.get("/items/1", headers=_bearer(OTHER_KEY)).status_code == 200
        assert c.get("/health").status_code == 200  # never limited
        assert c.get("/health").status_code == 200


def test_a_refused_write_writes_nothing(app_with: Callable[..., TestClient]) -> None:
    event = {"user_id": "7", "item_id": "1", "type": "click", "timestamp": 1}
    with app_with(api_keys=[KEY], **SLOW) as c:
        before = c.get("/health").json()["events"]
        first = c.post("/events", json={"events": [event]}, headers=_bearer(KEY))
        assert first.status_code == 201
        c.get("/items/1", headers=_bearer(KEY))
        refused = c.post(
            "/events", json={"events": [dict(event, item_id="2")]}, headers=_bearer(KEY)
        )
        assert refused.status_code == 429
        assert c.get("/health").json()["events"] == before + 1


def test_without_a_key_the_key_check_answers_first(app_with: Callable[..., TestClient]) -> None:
    """A request with no valid key is a 401 however many were sent: it takes no key's tokens
    (a stranger cannot use up the site's bucket)."""
    with app_with(api_keys=[KEY], **SLOW) as c:
        assert [c.get("/items/1").status_code for _ in range(4)] == [401] * 4
        wrong = _bearer("wrong-key-0123456789abcdef")
        assert [c.get("/items/1", headers=wrong).status_code for _ in range(4)] == [401] * 4
        assert c.get("/items/1", headers=_bearer(KEY)).status_code == 200


def test_without_keys_a_client_is_its_address(app_with: Callable[..., TestClient]) -> None:
    with app_with(**SLOW) as c:
        codes = [c.get("/items/1").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert "per client address" in c.get("/items/1").json()["detail"]
        # a made-up bearer token is no key here, so it does not buy a new bucket
        assert c.get("/items/1", headers=_bearer("anything-0123456789abc")).status_code == 429


def test_docs_pages_open_without_a_key_are_limited_by_address(
    app_with: Callable[..., TestClient],
) -> None:
    with app_with(api_keys=[KEY], **SLOW) as c:
        codes = [c.get("/openapi.json").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert c.get("/items/1", headers=_bearer(KEY)).status_code == 200  # the key's own


def test_no_limit_by_default(app_with: Callable[..., TestClient]) -> None:
    with app_with() as c:
        assert {c.get("/items/1").status_code for _ in range(50)} == {200}


JOB_KEY = "nightly-job-k3y-0123456789abcd"


def test_a_key_with_its_own_limit_is_held_to_it_while_the_others_are_not(
    app_with: Callable[..., TestClient],
) -> None:
    """No server-wide limit: only the job's key is limited, by its own table's values."""
    job = {"key": JOB_KEY, "rate_limit": 0.2, "rate_burst": 2}
    with app_with(api_keys=[KEY, job]) as c:
        assert [c.get("/items/1", headers=_bearer(JOB_KEY)).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        assert {c.get("/items/1", headers=_bearer(KEY)).status_code for _ in range(30)} == {200}
        assert {c.get("/openapi.json").status_code for _ in range(5)} == {200}  # no address limit


def test_a_key_without_its_own_limit_has_the_servers(app_with: Callable[..., TestClient]) -> None:
    job = {"key": JOB_KEY, "rate_burst": 1}  # the server's rate, its own burst
    with app_with(api_keys=[KEY, job], rate_limit=0.2, rate_burst=3) as c:
        assert [c.get("/items/1", headers=_bearer(JOB_KEY)).status_code for _ in range(2)] == [
            200,
            429,
        ]
        assert [c.get("/items/1", headers=_bearer(KEY)).status_code for _ in range(4)] == [
            200,
            200,
            200,
            429,
        ]


def test_keys_with_limits_come_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "FEEDCRAFT_SERVE__API_KEYS", f'["{KEY}", {{"key": "{JOB_KEY}", "rate_limit": 5}}]'
    )
    keys = load_settings().serve.api_keys
    assert [k.key.get_secret_value() for k in keys] == [KEY, JOB_KEY]
    assert [(k.rate_limit, k.rate_burst) for k in keys] == [(None, None), (5.0, None)]


@pytest.mark.parametrize(
    ("serve", "field", "message"),
    [
        ({"api_keys": [KEY, KEY]}, "serve.api_keys", "key 1 is given twice"),
        ({"api_keys": [{"key": KEY, "rate_burst": 3}]}, "serve", "a burst limits nothing"),
        ({"api_keys": [{"key": KEY, "rate_limit": 0}]}, "serve.api_keys.0.rate_limit", "greater"),
        ({"api_keys": [{"key": KEY, "rate": 1}]}, "serve.api_keys.0.rate", "not permitted"),
        ({"api_keys": [{"rate_limit": 1}]}, "serve.api_keys.0.key", "required"),
    ],
)
def test_bad_key_tables_are_refused_naming_the_field(
    serve: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        load_settings(serve=serve)
    assert info.value.field == field
    assert message in str(info.value)
    assert KEY not in str(info.value)


@pytest.mark.slow
def test_a_served_api_limits_each_forwarded_client_of_a_local_proxy(tmp_path: Path) -> None:
    """Without keys a client is its address. uvicorn trusts X-Forwarded-For from a proxy on
    loopback (its default FORWARDED_ALLOW_IPS), so behind one each reader's address has its
    own bucket, and the proxy's own requests theirs."""
    env = {"FEEDCRAFT_SERVE__RATE_LIMIT": "0.2", "FEEDCRAFT_SERVE__RATE_BURST": "1"}

    def status(base: str, forwarded: str | None) -> int:
        headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
        request = urllib.request.Request(f"{base}/items/none", headers=headers)
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as error:
            return error.code
        return 200

    with feedcraft_serve(tmp_path, env) as (base, _):
        assert [status(base, "203.0.113.1") for _ in range(2)] == [404, 429]  # 404: no item
        assert [status(base, "203.0.113.2") for _ in range(2)] == [404, 429]
        assert [status(base, None) for _ in range(2)] == [404, 429]  # the proxy's own
        assert status(base, "203.0.113.1") == 429

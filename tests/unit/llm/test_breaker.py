"""The breaker: a failed model call keeps the model refused for a while, then one probe."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput, Unavailable
from feedcraft.llm import Generator, OpenAICompatibleBackend, SummaryRequest
from feedcraft.llm.breaker import Breaker
from ports import free_port
from scriptedserver import Reply, scripted_server


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _fail(breaker: Breaker, error: str = "LLM server down") -> None:
    with pytest.raises(Unavailable), breaker.call():
        raise Unavailable(error)


def _passes(breaker: Breaker) -> bool:
    try:
        with breaker.call():
            return True
    except Unavailable:
        return False


def test_a_failed_call_refuses_the_next_until_the_wait_is_over() -> None:
    clock = Clock()
    breaker = Breaker(15.0, clock=clock)
    assert breaker.refusal() is None and _passes(breaker)
    _fail(breaker, "LLM server http://x failed after 3 tries: HTTP 503")
    refusal = breaker.refusal()
    assert refusal is not None and refusal.startswith("LLM server http://x failed after 3 tries")
    assert "down for 0 s; tried again in 15 s" in refusal
    with pytest.raises(Unavailable, match="tried again in 15 s"), breaker.call():
        pytest.fail("a refused call must not run")
    clock.now += 14.2
    with pytest.raises(Unavailable, match=r"down for 14 s; tried again in 1 s"), breaker.call():
        pass
    clock.now += 0.8
    assert breaker.refusal() is None  # the wait is over: the next call is the probe
    assert _passes(breaker)  # it succeeds: closed
    assert breaker.refusal() is None and _passes(breaker)


def test_while_the_probe_runs_the_others_are_refused_and_its_failure_reopens() -> None:
    clock = Clock()
    breaker = Breaker(10.0, clock=clock)
    _fail(breaker, "first")
    clock.now += 10.0
    with pytest.raises(Unavailable), breaker.call():  # the probe
        assert breaker.refusal() == "first (down for 10 s; another request is trying it again)"
        assert not _passes(breaker)
        clock.now += 3.0
        raise Unavailable("second")
    refusal = breaker.refusal()
    assert refusal == "second (down for 13 s; tried again in 10 s)"  # the outage's length runs on
    clock.now += 10.0
    assert _passes(breaker) and breaker.refusal() is None


def test_a_refused_request_means_the_server_is_up() -> None:
    """A 4xx (InvalidInput) is the server answering: the probe closes the breaker."""
    clock = Clock()
    breaker = Breaker(5.0, clock=clock)
    _fail(breaker)
    clock.now += 5.0
    with pytest.raises(InvalidInput), breaker.call():
        raise InvalidInput("server refused the request (HTTP 400)", field="request")
    assert breaker.refusal() is None


def test_a_probe_ended_by_our_own_bug_gives_no_verdict_but_frees_the_probe() -> None:
    clock = Clock()
    breaker = Breaker(5.0, clock=clock)
    _fail(breaker, "down")
    clock.now += 5.0
    with pytest.raises(KeyError), breaker.call():
        raise KeyError("not the server's doing")
    assert breaker.refusal() is None  # still open, and the next call may probe
    _fail(breaker, "still down")
    assert breaker.refusal() == "still down (down for 5 s; tried again in 5 s)"


def test_zero_seconds_never_refuses() -> None:
    breaker = Breaker(0.0)
    _fail(breaker)
    assert breaker.refusal() is None and _passes(breaker)


@pytest.mark.parametrize("seconds", [-1.0, float("inf"), float("nan")])
def test_a_wait_must_be_finite_and_not_negative(seconds: float) -> None:
    with pytest.raises(InvalidInput, match="retry_s"):
        Breaker(seconds)


def test_of_many_threads_after_the_wait_exactly_one_probes() -> None:
    clock = Clock()
    breaker = Breaker(1.0, clock=clock)
    _fail(breaker)
    clock.now += 1.0
    inside, release = threading.Event(), threading.Event()
    outcomes: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            with breaker.call():
                inside.set()
                release.wait(10)
                with lock:
                    outcomes.append("probed")
        except Unavailable:
            with lock:
                outcomes.append("refused")

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    assert inside.wait(10)
    time.sleep(0.1)  # the others have asked by now
    release.set()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["probed"] + ["refused"] * 7
    assert breaker.refusal() is None


# -- in a generator, against real servers -----------------------------------------------------


def _request(articles: list[dict[str, Any]]) -> SummaryRequest:
    return SummaryRequest(articles[0]["title"], articles[0]["body"])


def test_a_server_that_hangs_is_waited_for_once_not_by_every_request(
    hashing: HashingEncoder, articles: list[dict[str, Any]]
) -> None:
    """Each request waited out the timeout of a hung server before its fallback; now the
    first does, and the others get the fallback at once until the wait is over."""
    clock = Clock()
    with scripted_server() as server:
        server.replies += [Reply(delay=1.0), Reply(delay=1.0)]
        backend = OpenAICompatibleBackend(server.url, timeout=0.3, max_retries=0)
        generator = Generator(backend, hashing, max_attempts=1, breaker=Breaker(30, clock=clock))
        started = time.perf_counter()
        first = generator.summary(_request(articles))
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        later = [generator.summary(_request(articles)) for _ in range(3)]
        later_s = time.perf_counter() - started
        assert len(server.requests) == 1
    assert first.fallback and first.backend_error is not None and "Timeout" in first.backend_error
    assert first_s >= 0.3
    assert all(r.fallback and r.outputs == first.outputs for r in later)
    assert all(r.backend_error and "tried again in 30 s" in r.backend_error for r in later)
    assert all(r.calls == 0 and "backend" in r.failed_checks for r in later)
    assert later_s < first_s  # three fallbacks took less than one timeout


def test_after_the_wait_one_request_finds_the_server_back(
    hashing: HashingEncoder, articles: list[dict[str, Any]]
) -> None:
    clock = Clock()
    lead = articles[0]["body"].split(". ")[0].strip() + "."
    with scripted_server() as server:
        server.replies += [Reply(status=503), Reply(text=lead), Reply(text=lead)]
        backend = OpenAICompatibleBackend(server.url, max_retries=0, backoff=0)
        generator = Generator(backend, hashing, max_attempts=1, breaker=Breaker(15, clock=clock))
        down = generator.summary(_request(articles))
        refused = generator.summary(_request(articles))
        clock.now += 15.0
        back = generator.summary(_request(articles))
        again = generator.summary(_request(articles))
        assert len(server.requests) == 3
    assert down.fallback and refused.fallback and refused.calls == 0
    assert not back.fallback and back.outputs == (lead,) and back.backend_error is None
    assert not again.fallback and again.backend_error is None


def test_a_server_down_at_warm_up_is_refused_at_once_afterwards(hashing: HashingEncoder) -> None:
    """The warm-up's failed load opens the breaker: the first reader does not pay for it."""
    backend = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=0)
    generator = Generator(backend, hashing, breaker=Breaker(15, clock=Clock()))
    with pytest.raises(Unavailable):
        generator.warm()
    refusal = generator.breaker.refusal()
    assert refusal is not None and "tried again in 15 s" in refusal

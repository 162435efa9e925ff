"""SingleFlight: callers of one key at once share one run; an error is not shared."""

from __future__ import annotations

import threading
import time

import pytest

from feedcraft.services.single_flight import SingleFlight


def _wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_callers_of_one_key_share_the_leaders_run() -> None:
    flights: SingleFlight[str] = SingleFlight()
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("run")
        entered.set()
        release.wait(5)
        return "text"

    results: list[tuple[str, bool]] = []
    threads = [threading.Thread(target=lambda: results.append(flights.run("k", slow)))]
    threads[0].start()
    assert entered.wait(5)
    threads += [threading.Thread(target=lambda: results.append(flights.run("k", slow)))]
    threads += [threading.Thread(target=lambda: results.append(flights.run("k", slow)))]
    for t in threads[1:]:
        t.start()
    other = flights.run("other", lambda: "free")  # another key never waits
    assert other == ("free", False) and flights.in_flight() == 1
    time.sleep(0.1)  # the followers reach their wait
    release.set()
    for t in threads:
        t.join(5)
    assert calls == ["run"]
    assert sorted(results) == [("text", False), ("text", True), ("text", True)]
    assert flights.in_flight() == 0
    assert flights.run("k", lambda: "again") == ("again", False)  # finished flights are gone


def test_a_failed_run_is_retried_by_each_waiting_caller() -> None:
    flights: SingleFlight[int] = SingleFlight()
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def fails_first() -> int:
        calls.append(1)
        if len(calls) == 1:
            entered.set()
            release.wait(5)
            raise ValueError("model failed")
        time.sleep(0.3)  # long enough for the other callers to join the retry
        return len(calls)

    errors: list[BaseException] = []
    results: list[tuple[int, bool]] = []

    def call() -> None:
        try:
            results.append(flights.run("k", fails_first))
        except ValueError as exc:
            errors.append(exc)

    leader = threading.Thread(target=call)
    leader.start()
    assert entered.wait(5)
    followers = [threading.Thread(target=call) for _ in range(3)]
    for t in followers:
        t.start()
    time.sleep(0.1)
    release.set()
    for t in [leader, *followers]:
        t.join(5)
    assert len(errors) == 1 and str(errors[0]) == "model failed"  # the leader's alone
    assert len(results) == 3 and len({value for value, _ in results}) == 1
    assert sum(not shared for _, shared in results) == 1  # one follower led the retry
    assert len(calls) == 2


def test_an_error_in_the_only_caller_propagates() -> None:
    flights: SingleFlight[int] = SingleFlight()
    with pytest.raises(KeyError):
        flights.run("k", lambda: {}["missing"])
    assert flights.in_flight() == 0

"""The bound on pending model runs: beyond it a run is served the fallback at once.

The generator's model is scripted by a real HTTP server on loopback that takes a second to
answer, so a run is known to be in progress while another arrives.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from llmtesting import Reply, ScriptedServer, free_port

from countingencoder import CountingEncoder
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput
from feedcraft.llm import Generator, Guardrails, OpenAICompatibleBackend, SummaryRequest
from feedcraft.llm.admission import DEFAULT_MAX_PENDING, Admission, usable_cpus

GOOD = "Hu Jintao had lunch with Luiz Inácio Lula da Silva at the Granja do Torto."


def _hold(admission: Admission, n: int) -> tuple[list[threading.Thread], threading.Event]:
    """`n` threads each holding an admitted run until the returned event is set."""
    done = threading.Event()
    entered = threading.Barrier(n + 1)

    def hold() -> None:
        with admission.enter() as admitted:
            assert admitted
            entered.wait(10)
            done.wait(10)

    threads = [threading.Thread(target=hold) for _ in range(n)]
    for t in threads:
        t.start()
    entered.wait(10)
    return threads, done


def test_runs_beyond_the_bound_are_refused_until_one_ends() -> None:
    admission = Admission(2)
    threads, done = _hold(admission, 2)
    assert admission.pending == 2
    with admission.enter() as admitted:
        assert not admitted
    assert admission.pending == 2  # a refused run is not counted
    done.set()
    for t in threads:
        t.join(10)
    assert admission.pending == 0
    with admission.enter() as admitted:
        assert admitted and admission.pending == 1


def test_a_patient_thread_is_admitted_past_the_bound_and_only_that_thread() -> None:
    admission = Admission(1)
    threads, done = _hold(admission, 1)
    refused: list[bool] = []
    with admission.patient():
        with admission.enter() as admitted:
            assert admitted and admission.pending == 2
            other = threading.Thread(target=lambda: refused.append(_admitted(admission)))
            other.start()
            other.join(10)
        with admission.patient():  # nested: leaving the inner block keeps the outer one
            pass
        with admission.enter() as admitted:
            assert admitted
    assert refused == [False]  # patience is the calling thread's, not the admission's
    with admission.enter() as admitted:
        assert not admitted
    done.set()
    for t in threads:
        t.join(10)


def _admitted(admission: Admission) -> bool:
    with admission.enter() as admitted:
        return admitted


def test_a_run_that_raises_leaves_the_count() -> None:
    admission = Admission(1)
    with pytest.raises(RuntimeError), admission.enter():
        raise RuntimeError("the model's call failed")
    assert admission.pending == 0


def test_many_threads_never_exceed_the_bound() -> None:
    admission = Admission(3)
    seen: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def work() -> None:
        start.wait(10)
        for _ in range(200):
            with admission.enter() as admitted:
                if admitted:
                    with lock:
                        seen.append(admission.pending)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert seen and max(seen) <= 3
    assert admission.pending == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "4"])
def test_a_bound_below_one_or_not_an_integer_is_refused(bad: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        Admission(bad)
    assert info.value.field == "max_pending"


def test_the_default_bound() -> None:
    assert Admission().max_pending == DEFAULT_MAX_PENDING == 4


def _generator(url: str, hashing: HashingEncoder, admission: Admission) -> Generator:
    backend = OpenAICompatibleBackend(url, model="scripted", max_retries=0, backoff=0)
    rails = Guardrails(hashing, min_similarity=0.1)
    return Generator(backend, hashing, guardrails=rails, admission=admission)


def test_a_run_beyond_the_bound_gets_the_fallback_at_once_and_asks_no_model(
    scripted_server: ScriptedServer, hashing: HashingEncoder, articles: list[dict[str, Any]]
) -> None:
    article = articles[0]
    request = SummaryRequest(article["title"], article["body"])
    scripted_server.replies = [Reply(GOOD, delay=1.5), Reply(GOOD)]
    admission = Admission(1)
    generator = _generator(scripted_server.url, hashing, admission)
    threads, done = _hold(admission, 1)  # a busy run first: the fallback's imports are
    warm = generator.summary(request)  # not timed below
    done.set()
    for t in threads:
        t.join(10)
    assert warm.backend_error is not None and warm.backend_error.startswith("busy")
    assert not scripted_server.requests
    first: list[Any] = []
    slow = threading.Thread(target=lambda: first.append(generator.summary(request)))
    slow.start()
    deadline = time.monotonic() + 10
    while not scripted_server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(scripted_server.requests) == 1  # the first run is with the model

    start = time.perf_counter()
    busy = generator.summary(request)
    assert time.perf_counter() - start < 1.0  # not queued behind the model's 1.5 s
    assert busy.fallback and busy.outputs and busy.outputs[0] != GOOD
    assert busy.failed_checks[0] == "backend"
    assert busy.backend_error is not None and busy.backend_error.startswith("busy")
    assert "max_pending" in busy.backend_error
    assert (busy.attempts, busy.calls) == (0, 0)
    assert len(scripted_server.requests) == 1  # the busy run asked nothing

    slow.join(10)
    assert first[0].outputs == (GOOD,) and not first[0].fallback
    again = generator.summary(request)  # the model is free again: asked
    assert again.outputs == (GOOD,) and len(scripted_server.requests) == 2


def test_a_patient_caller_waits_for_the_model_instead(
    scripted_server: ScriptedServer, hashing: HashingEncoder, articles: list[dict[str, Any]]
) -> None:
    article = articles[0]
    scripted_server.replies = [Reply(GOOD)]
    admission = Admission(1)
    generator = _generator(scripted_server.url, hashing, admission)
    threads, done = _hold(admission, 1)
    try:
        with admission.patient():
            result = generator.summary(SummaryRequest(article["title"], article["body"]))
    finally:
        done.set()
        for t in threads:
            t.join(10)
    assert result.outputs == (GOOD,) and result.backend_error is None


def test_fallbacks_beyond_their_bound_wait_their_turn() -> None:
    """Each fallback encodes its article: dozens at once on 2 cores slowed every route."""
    admission = Admission(fallbacks=1)
    order: list[str] = []
    held = threading.Event()
    done = threading.Event()

    def first() -> None:
        with admission.fallback():
            order.append("first in")
            held.set()
            done.wait(10)
            order.append("first out")

    def second() -> None:
        with admission.fallback():
            order.append("second in")

    a = threading.Thread(target=first)
    a.start()
    assert held.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.3)
    assert b.is_alive()  # waiting for the slot
    done.set()
    a.join(10)
    b.join(10)
    assert order == ["first in", "first out", "second in"]


def test_the_fallback_bound_defaults_to_the_usable_cpus_and_refuses_nonsense() -> None:
    assert Admission().fallbacks == usable_cpus() >= 1
    with pytest.raises(InvalidInput) as info:
        Admission(fallbacks=0)
    assert info.value.field == "fallbacks"


def test_within_a_block_the_threads_answer_stands_and_counts_once() -> None:
    """A service decides before it claims the text; the generator it calls keeps to that."""
    admission = Admission(1)
    with admission.enter() as outer:
        with admission.enter() as inner:
            assert outer and inner and admission.pending == 1
        refused = threading.Thread(target=lambda: seen.append(_admitted(admission)))
        seen: list[bool] = []
        refused.start()
        refused.join(10)
        assert seen == [False]
    assert admission.pending == 0
    threads, done = _hold(admission, 1)
    with admission.enter() as outer:
        assert not outer
        done.set()
        for t in threads:
            t.join(10)
        assert admission.pending == 0  # a slot is free now, but this block was turned away
        with admission.enter() as inner:
            assert not inner and admission.pending == 0
    with admission.enter() as later:
        assert later


def test_a_busy_fallback_encodes_its_sentences_only(
    hashing: HashingEncoder, articles: list[dict[str, Any]]
) -> None:
    """Its similarity check encoded the source and the text again, two thirds of a busy
    answer's cost on the cores the model holds: a busy fallback quotes the source and is
    never cached, so it skips that check. A fallback after the model failed (cached) keeps
    it."""
    article = articles[0]
    request = SummaryRequest(article["title"], article["body"])
    counting = CountingEncoder(hashing)
    down = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=0, backoff=0)
    admission = Admission(1)
    rails = Guardrails(counting, min_similarity=0.1)
    generator = Generator(down, counting, guardrails=rails, admission=admission)
    threads, done = _hold(admission, 1)
    try:
        busy = generator.summary(request)
    finally:
        done.set()
        for t in threads:
            t.join(10)
    busy_texts = list(counting.texts)
    counting.texts.clear()
    failed = generator.summary(request)  # admitted: the (down) model is asked, then the fallback
    assert busy.fallback and failed.fallback and busy.outputs == failed.outputs
    assert busy.backend_error is not None and busy.backend_error.startswith("busy")
    assert busy.outputs[0] not in busy_texts  # only its sentences were encoded
    assert busy.outputs[0] in counting.texts  # the similarity check encodes the text

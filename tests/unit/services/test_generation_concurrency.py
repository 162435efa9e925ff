"""GenerationService under concurrent readers, and the bound on cached entries per item.

A real SQLite store with the bundled Wikinews articles and the real generator (extractive
fallback, or a backend that is down); a gate holds the first run until the other readers
have missed the cache too, which is what happens when a model takes seconds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from countingencoder import CountingEncoder
from feedcraft.config import Settings
from feedcraft.domain import Event, EventType
from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Generator, OpenAICompatibleBackend
from feedcraft.llm.admission import Admission
from feedcraft.services.generated import GeneratedText
from feedcraft.services.generation import GenerationService
from feedcraft.storage import Store
from gatedgenerator import GatedGenerator
from heldruns import held
from ports import free_port
from scriptedserver import Reply, ScriptedServer, scripted_server

READERS = 4


def _service(store: Store, settings: Settings, backend: object = None) -> GenerationService:
    encoder = HashingEncoder(256)
    generator = GatedGenerator(backend, encoder)
    return GenerationService(store, settings, encoder, generator=generator)


def _readers_at_once(service: GenerationService, item_id: str) -> list[GeneratedText]:
    """READERS summaries of one item: the first runs, the rest arrive while it runs."""
    gate = service.generator
    assert isinstance(gate, GatedGenerator)
    answers: list[GeneratedText] = []

    def ask() -> None:
        answers.append(service.summary(item_id))

    threads = [threading.Thread(target=ask) for _ in range(READERS)]
    threads[0].start()
    assert gate.entered.wait(10)
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)  # the others miss the cache and wait
    gate.release.set()
    for t in threads:
        t.join(10)
    assert len(answers) == READERS
    return answers


def test_readers_missing_one_summary_together_share_one_run(
    loaded: Store, llm_settings: Settings
) -> None:
    service = _service(loaded, llm_settings)
    answers = _readers_at_once(service, "wikinews-001")
    gate = service.generator
    assert isinstance(gate, GatedGenerator)
    assert gate.runs == 1  # every miss ran the generator before
    assert sorted(a.cache_hit for a in answers) == [False] + [True] * (READERS - 1)
    assert len({a.outputs for a in answers}) == 1 and answers[0].outputs[0]
    assert len({a.cache_key for a in answers}) == 1
    assert loaded.text_cache.count() == 1


def test_an_outage_answer_is_shared_but_not_cached(loaded: Store, llm_settings: Settings) -> None:
    down = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=0, backoff=0)
    service = _service(loaded, llm_settings, down)
    answers = _readers_at_once(service, "wikinews-002")
    gate = service.generator
    assert isinstance(gate, GatedGenerator)
    assert gate.runs == 1  # the waiting readers do not each wait out the outage
    assert all(a.fallback and "backend" in a.failed_checks and not a.cache_hit for a in answers)
    assert len({a.outputs for a in answers}) == 1
    assert loaded.text_cache.count() == 0
    service.summary("wikinews-002")  # the next reader asks the model again
    assert gate.runs == 2


def test_each_item_keeps_at_most_its_quota_of_entries_oldest_dropped(
    loaded: Store, llm_settings: Settings
) -> None:
    """Every audience an ad-copy caller names is an entry: without a bound, a caller naming
    audiences freely grows the cache for ever, and prune keeps them (they are current)."""
    llm = llm_settings.llm.model_copy(update={"cache_entries_per_item": 3})
    service = _service(loaded, llm_settings.model_copy(update={"llm": llm}))
    assert isinstance(service.generator, GatedGenerator)
    service.generator.release.set()
    headline = service.headlines("wikinews-003", n=2)
    audiences = [f"readers in town {i}" for i in range(5)]
    keys = [service.ad_copy("wikinews-003", audience=a).cache_key for a in audiences]
    cache = loaded.text_cache
    prefix = service.item_prefix("wikinews-003")
    assert cache.count(prefix + "ad_copy/") == 3
    assert [cache.get(k) is not None for k in keys] == [False, False, True, True, True]
    assert cache.get(headline.cache_key) is not None  # other tasks keep their own quota
    again = service.ad_copy("wikinews-003", audience=audiences[0])
    assert not again.cache_hit and cache.get(keys[2]) is None  # now the oldest went
    assert service.prune_cache(other_models=True).removed_stale == 0


def _bounded(store: Store, settings: Settings) -> tuple[GenerationService, Admission]:
    """A service whose model (a server that is down) admits one pending run."""
    down = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=0, backoff=0)
    encoder = HashingEncoder(256)
    admission = Admission(1)
    generator = GatedGenerator(down, encoder, admission=admission)
    generator.release.set()
    return GenerationService(store, settings, encoder, generator=generator), admission


def test_a_request_beyond_the_pending_bound_is_served_the_fallback_and_not_cached(
    loaded: Store, llm_settings: Settings
) -> None:
    """A burst of requests for distinct items must not hold every API thread behind the
    model: one beyond `[llm] max_pending` gets the fallback at once, and the next request,
    once the model is free, asks it (nothing of the busy answer was cached)."""
    service, admission = _bounded(loaded, llm_settings)
    with held(admission):  # another request's run, in progress
        busy = service.summary("wikinews-004")
    assert busy.fallback and busy.outputs and not busy.cache_hit
    assert busy.backend_error is not None and busy.backend_error.startswith("busy")
    assert loaded.text_cache.count() == 0
    asked = service.summary("wikinews-004")  # admitted: the (down) model is asked
    assert asked.backend_error is not None and not asked.backend_error.startswith("busy")


def test_a_batch_waits_for_the_model_rather_than_being_turned_away(
    loaded: Store, llm_settings: Settings
) -> None:
    service, admission = _bounded(loaded, llm_settings)
    with held(admission):  # an API request's run, in progress
        report = service.generate_batch("summary", ["wikinews-005"], progress=False)
    assert report.backend_failed == 1  # the model (down) was asked ...
    assert report.backend_error is not None and not report.backend_error.startswith("busy")
    with held(admission):  # ... and patience ended with the batch
        after = service.summary("wikinews-005")
    assert after.backend_error is not None and after.backend_error.startswith("busy")


def test_a_request_turned_away_writes_nothing_to_the_store(
    loaded: Store, llm_settings: Settings
) -> None:
    """A busy request claims no text in the store: a burst of them queued on its write lock
    (one transaction each to claim and to release), and event writes waited behind them."""
    service, admission = _bounded(loaded, llm_settings)
    service.summary("wikinews-006")  # warm: the fallback's first use imports its libraries
    path = llm_settings.store.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, timeout=1)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    answers: list[GeneratedText] = []
    try:
        with admission.enter():  # another request's run, in progress

            def ask() -> None:
                answers.append(service.summary("wikinews-007"))

            asking = threading.Thread(target=ask)
            asking.start()
            asking.join(5)
            served_meanwhile = bool(answers)
    finally:
        writer.rollback()
        writer.close()
        asking.join(40)
    assert served_meanwhile
    assert answers[0].backend_error is not None and answers[0].backend_error.startswith("busy")


def _reader(store: Store, user: str, category: str) -> None:
    """`user` has clicked the items of `category`: a profile, and so a bucket of their own."""
    ids = [i.id for i in store.catalogue.iter_items(include_stubs=False) if i.category == category]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    store.events.append(
        Event(user, i, EventType.CLICK, start + timedelta(minutes=n)) for n, i in enumerate(ids)
    )


@contextmanager
def _modelled(
    store: Store, settings: Settings
) -> Iterator[tuple[GenerationService, Admission, ScriptedServer]]:
    """A service whose model (a scripted server: answers in order) admits one pending run."""
    encoder = HashingEncoder(256)
    admission = Admission(1)
    with scripted_server() as server:
        backend = OpenAICompatibleBackend(server.url, max_retries=0, backoff=0)
        generator = Generator(backend, encoder, admission=admission, max_attempts=1)
        yield GenerationService(store, settings, encoder, generator=generator), admission, server


def test_a_busy_personalised_summary_is_the_cached_summary_for_anyone(
    loaded: Store, llm_settings: Settings
) -> None:
    """A busy model's reader gets the model's summary written for no particular reader (a
    batch writes them), from the cache, rather than the extractive fallback; it is not cached
    under the reader's bucket, so once the model is free it writes the reader's own."""
    item = loaded.catalogue.get("wikinews-008")
    lead = item.body.split(". ")[0].strip() + "."
    _reader(loaded, "reader", item.category)
    with _modelled(loaded, llm_settings) as (service, admission, server):
        server.replies.append(Reply(text=lead))
        general = service.summary(item.id)  # as `generate batch summary` writes it
        assert not general.fallback and general.outputs == (lead,)
        with held(admission):  # another request's model run, in progress
            busy = service.summary(item.id, "reader")
        assert len(server.requests) == 1  # the model was not asked for the busy reader
        server.replies.append(Reply(text=lead))
        own = service.summary(item.id, "reader")  # the model is free again
    assert busy.outputs == (lead,) and not busy.fallback and busy.cache_hit
    assert busy.interests == () and busy.profile_bucket == general.profile_bucket
    assert busy.backend_error is not None and busy.backend_error.startswith("busy")
    assert "no particular reader" in busy.backend_error
    assert len(server.requests) == 2 and not own.cache_hit and own.backend_error is None
    assert own.interests == (item.category,) and own.profile_bucket != general.profile_bucket


def test_a_busy_reader_without_a_summary_for_anyone_gets_the_fallback(
    loaded: Store, llm_settings: Settings
) -> None:
    service, admission = _bounded(loaded, llm_settings)
    _reader(loaded, "reader", loaded.catalogue.get("wikinews-009").category)
    with held(admission):
        busy = service.summary("wikinews-009", "reader")
    assert busy.fallback and not busy.cache_hit and busy.interests
    assert busy.backend_error is not None and busy.backend_error.endswith("served the fallback")


def test_busy_ad_copy_aimed_at_a_reader_is_the_copy_for_anyone_not_an_advertisers(
    loaded: Store, llm_settings: Settings
) -> None:
    """Ad copy aimed at the reader's interests stands in like a summary; copy for an audience
    the request names (an advertiser's brief) does not: that gets the fallback."""
    item = loaded.catalogue.get("wikinews-010")
    lead = item.body.split(". ")[0].strip() + "."
    _reader(loaded, "reader", item.category)
    with _modelled(loaded, llm_settings) as (service, admission, server):
        server.replies.append(Reply(text=lead))
        general = service.ad_copy(item.id)  # as `generate batch --task ad_copy` writes it
        assert not general.fallback, general.failed_checks
        with held(admission):
            busy = service.ad_copy(item.id, user_id="reader")
            briefed = service.ad_copy(item.id, audience="retired teachers")
        assert len(server.requests) == 1
    assert busy.outputs == general.outputs and busy.cache_hit and busy.interests == ()
    assert (
        busy.backend_error is not None and "ad copy for no particular reader" in busy.backend_error
    )
    assert briefed.fallback and not briefed.cache_hit
    assert briefed.backend_error is not None and briefed.backend_error.endswith("the fallback")


def test_during_an_outage_a_personalised_summary_is_the_one_for_anyone(
    loaded: Store, llm_settings: Settings
) -> None:
    """The model's server failing is no different from its being busy: the cached summary for
    no particular reader beats the extractive fallback. Not cached for the reader; a caller
    that wants the reader's own or the fallback (the feed's writer) says so."""
    item = loaded.catalogue.get("wikinews-011")
    lead = item.body.split(". ")[0].strip() + "."
    _reader(loaded, "reader", item.category)
    with _modelled(loaded, llm_settings) as (service, _, server):
        server.replies.append(Reply(text=lead))
        general = service.summary(item.id)
        server.replies += [Reply(status=503), Reply(status=503)]
        down = service.summary(item.id, "reader")
        own = service.summary(item.id, "reader", stand_in=False)
    assert down.outputs == general.outputs and not down.fallback and down.interests == ()
    assert down.backend_error is not None and "503" in down.backend_error
    assert down.backend_error.endswith("served the summary for no particular reader")
    assert own.fallback and "backend" in own.failed_checks and own.interests
    assert own.backend_error is not None and "503" in own.backend_error
    assert "tried again in" in own.backend_error  # the model is down: not asked (llm/breaker)
    assert len(server.requests) == 2


def test_once_the_model_is_known_down_a_reader_gets_the_stand_in_and_no_fallback(
    loaded: Store, llm_settings: Settings
) -> None:
    """After a failed call the breaker refuses the model for a while (`llm/breaker`): a
    personalised summary with one for anyone cached is then served it straight away, neither
    asking the dead server nor computing a fallback (encodes on the cores the API shares) only
    to discard it."""
    item = loaded.catalogue.get("wikinews-012")
    lead = item.body.split(". ")[0].strip() + "."
    _reader(loaded, "reader", item.category)
    counting = CountingEncoder(HashingEncoder(256))
    with scripted_server() as server:
        backend = OpenAICompatibleBackend(server.url, max_retries=0, backoff=0)
        generator = Generator(backend, counting, max_attempts=1)
        service = GenerationService(loaded, llm_settings, counting, generator=generator)
        server.replies += [Reply(text=lead), Reply(status=503)]
        general = service.summary(item.id)
        found_down = service.summary("wikinews-013")
        assert found_down.fallback and found_down.backend_error is not None
        counting.texts.clear()
        down = service.summary(item.id, "reader")
        assert len(server.requests) == 2
    assert down.outputs == general.outputs and down.cache_hit and not down.fallback
    assert down.backend_error is not None and "503" in down.backend_error
    assert "tried again in" in down.backend_error
    assert down.backend_error.endswith("served the summary for no particular reader")
    assert counting.texts == []  # no fallback was computed

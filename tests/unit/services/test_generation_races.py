"""GenerationService and FeedSummaries when the catalogue changes while a model runs, and
when the model's server is down.

A real SQLite store of the bundled Wikinews articles and the real generator (extractive, or
a backend that is down); a gate holds the first model run, so that a delete or an edit lands
while it is in flight, which is what happens when a model takes seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from feedcraft.config import Settings
from feedcraft.domain import Item
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.llm import GenerationResult, Generator, OpenAICompatibleBackend
from feedcraft.llm.tasks import PreparedTask
from feedcraft.services.feed_summaries import FeedSummaries
from feedcraft.services.generated import GeneratedText
from feedcraft.services.generation import GenerationService
from feedcraft.services.items import delete_items
from feedcraft.storage import Store
from ports import free_port

ITEM = "wikinews-001"
IDS = [f"wikinews-{i:03d}" for i in range(1, 6)]


class HeldGenerator(Generator):
    """The real generator, counting its runs; the first run waits until `release` is set,
    later ones pass at once. `after_first` runs when the first run has written its text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runs = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.after_first: Callable[[], None] | None = None

    def run(self, task: PreparedTask) -> GenerationResult:
        self.runs += 1
        first = self.runs == 1
        if first:
            self.entered.set()
            assert self.release.wait(30), "never released"
        out = super().run(task)
        if first and self.after_first is not None:
            self.after_first()
        return out


def _service(store: Store, settings: Settings, backend: object = None) -> GenerationService:
    encoder = HashingEncoder(256)
    return GenerationService(store, settings, encoder, generator=HeldGenerator(backend, encoder))


def _held(service: GenerationService) -> HeldGenerator:
    assert isinstance(service.generator, HeldGenerator)
    return service.generator


def _in_background(fn: Callable[[], GeneratedText]) -> tuple[threading.Thread, list[Any]]:
    """Run `fn` in a thread; its result (or exception) lands in the list."""
    out: list[Any] = []

    def go() -> None:
        try:
            out.append(fn())
        except Exception as exc:  # handed to the test
            out.append(exc)

    thread = threading.Thread(target=go)
    thread.start()
    return thread, out


# ------------------------------------------------------------------ deleted while in flight


def test_a_summary_in_flight_when_its_item_is_deleted_leaves_no_cached_text(
    loaded: Store, llm_settings: Settings
) -> None:
    service = _service(loaded, llm_settings)
    held = _held(service)
    thread, out = _in_background(lambda: service.summary(ITEM))
    assert held.entered.wait(30)
    delete_items(loaded, [ITEM])  # DELETE /items/<id> while the model writes
    held.release.set()
    thread.join(30)
    assert len(out) == 1 and isinstance(out[0], GeneratedText)  # it began before the delete
    assert loaded.text_cache.count(service.item_prefix(ITEM)) == 0
    with pytest.raises(NotFound):
        service.summary(ITEM)


def test_a_delete_landing_just_before_the_write_still_erases_it(
    loaded: Store, llm_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete commits (catalogue, then cached texts) right before the text is put: a
    check of the catalogue before the put would have passed, and the text stayed."""
    service = _service(loaded, llm_settings)
    _held(service).release.set()
    cache = loaded.text_cache
    put = cache.put

    def delete_then_put(*args: Any, **kwargs: Any) -> None:
        delete_items(loaded, [ITEM])
        put(*args, **kwargs)

    monkeypatch.setattr(cache, "put", delete_then_put)
    service.summary(ITEM)
    assert cache.count(service.item_prefix(ITEM)) == 0


def test_a_feed_summary_written_for_an_item_deleted_meanwhile_leaves_no_cached_text(
    loaded: Store, llm_settings: Settings
) -> None:
    service = _service(loaded, llm_settings)
    held = _held(service)
    feed = FeedSummaries(service, budget_s=0.0)
    try:
        assert feed.attach([ITEM], "reader").pending == frozenset([ITEM])
        assert held.entered.wait(30)  # the background thread is writing it
        delete_items(loaded, [ITEM])
        held.release.set()
        assert feed.wait(30)
    finally:
        feed.close(timeout=30)
    assert loaded.text_cache.count(service.item_prefix(ITEM)) == 0


# ------------------------------------------------------------------ edited while in flight


def test_a_request_for_the_old_version_finishing_late_keeps_the_new_versions_text(
    loaded: Store, llm_settings: Settings
) -> None:
    service = _service(loaded, llm_settings)
    held = _held(service)
    thread, out = _in_background(lambda: service.summary(ITEM))
    assert held.entered.wait(30)
    old = loaded.catalogue.get(ITEM)
    loaded.catalogue.upsert([replace(old, body=old.body + " An update follows.")])
    new = service.summary(ITEM)  # the new version, written while the old request runs
    assert not new.cache_hit
    held.release.set()
    thread.join(30)
    assert len(out) == 1 and isinstance(out[0], GeneratedText)
    stale = out[0].cache_key
    assert list(loaded.text_cache.keys(service.item_prefix(ITEM))) == [new.cache_key]
    assert loaded.text_cache.get(stale) is None
    assert service.summary(ITEM).cache_hit  # the new version is still served from the cache


# ------------------------------------------------------------------ batch


def test_a_batch_skips_an_item_deleted_while_it_runs(loaded: Store, llm_settings: Settings) -> None:
    service = _service(loaded, llm_settings)
    held = _held(service)
    held.release.set()
    held.after_first = lambda: delete_items(loaded, [IDS[3]])  # DELETE while the batch runs
    report = service.generate_batch("summary", IDS, progress=False)
    assert (report.items, report.generated, report.skipped) == (5, 4, 1)
    assert "1 skipped" in report.summary()
    assert loaded.text_cache.count() == 4
    with pytest.raises(NotFound):  # an id never stored is still an error, not a skip
        service.generate_batch("summary", ["no-such-item"], progress=False)


# ------------------------------------------------------------------ feeds settle


@pytest.fixture
def down(loaded: Store, llm_settings: Settings) -> GenerationService:
    backend = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=0, backoff=0)
    service = _service(loaded, llm_settings, backend)
    _held(service).release.set()
    return service


@pytest.fixture
def outage_feed(down: GenerationService) -> Iterator[FeedSummaries]:
    feed = FeedSummaries(down, budget_s=60.0, max_pending=10)  # retries after OUTAGE_RETRY_S
    yield feed
    feed.close(timeout=30)


def test_during_an_outage_a_feed_serves_the_fallback_and_stops_asking(
    down: GenerationService, outage_feed: FeedSummaries
) -> None:
    held = _held(down)
    first = outage_feed.attach(IDS[:3], "reader")
    assert first.pending == frozenset() and set(first.texts) == set(IDS[:3])
    assert first.texts[IDS[0]] == down.summary(IDS[0], "reader").text  # what GET serves
    runs = held.runs
    again = outage_feed.attach(IDS[:3], "reader")
    assert again == first and held.runs == runs  # the dead server is not asked per request
    assert outage_feed.pending() == 0 and down.store.text_cache.count() == 0  # not cached
    outage_feed.retry_s = 0.0  # the retry interval has passed: the model is asked again
    outage_feed.attach(IDS[:1], "reader")
    assert outage_feed.wait(30) and held.runs > runs


def test_the_outage_memory_is_bounded_and_keyed_like_the_cache(
    down: GenerationService,
) -> None:
    feed = FeedSummaries(down, budget_s=60.0, max_pending=2)
    try:
        for item_id in IDS[:3]:
            assert feed.attach([item_id], "reader").pending == frozenset()
        assert len(feed._outages) == 2  # the oldest forgotten
        keys = set(feed._outages)
        assert keys == {down.summary(i, "reader").cache_key for i in IDS[1:3]}
    finally:
        feed.close(timeout=30)


def test_an_item_with_nothing_servable_is_not_reported_pending(
    loaded: Store, llm_settings: Settings
) -> None:
    """Every sentence has a banned term: the settled entry holds no text; waiting would bring
    none, so the feed must not report it pending (the first request did, the next did not)."""
    llm = llm_settings.llm.model_copy(update={"banned_terms": ["rain"]})
    service = GenerationService(
        loaded, llm_settings.model_copy(update={"llm": llm}), HashingEncoder(256)
    )
    loaded.catalogue.upsert(
        [Item(id="rainy", title="Rain again", body="Rain fell. More rain came. The rain stopped.")]
    )
    feed = FeedSummaries(service, budget_s=60.0)
    try:
        first = feed.attach(["rainy", ITEM], None)
        assert first.pending == frozenset() and set(first.texts) == {ITEM}
        assert feed.attach(["rainy", ITEM], None) == first
    finally:
        feed.close(timeout=30)


def test_an_item_the_task_refuses_is_not_pending_nor_queued_again(
    loaded: Store, llm_settings: Settings
) -> None:
    """An item whose text is emoji only has no words to summarise (GET summary: 422): the
    feed must not report it pending for ever, each request queueing it again."""
    service = GenerationService(loaded, llm_settings, HashingEncoder(256))
    loaded.catalogue.upsert([Item(id="party", title="🎉", body="🎉 🎉")])
    with pytest.raises(InvalidInput, match="no words"):
        service.summary("party")
    feed = FeedSummaries(service, budget_s=60.0, retry_s=3600.0)
    try:
        first = feed.attach(["party", ITEM], None)
        assert first.pending == frozenset() and set(first.texts) == {ITEM}
        second = feed.attach(["party", ITEM], None)
        assert second == first and feed.pending() == 0
    finally:
        feed.close(timeout=30)

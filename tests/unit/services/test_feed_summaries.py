"""FeedSummaries on a real store of the bundled Wikinews articles (extractive generator).

The generator is the real one, wrapped to count its runs or to hold them at a gate, so the
background thread's queue can be inspected at a known moment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedcraft.config import Settings
from feedcraft.domain import Event, EventType, Item
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput
from feedcraft.llm import GenerationResult, Generator, OpenAICompatibleBackend
from feedcraft.llm.admission import Admission
from feedcraft.llm.tasks import PreparedTask
from feedcraft.services.feed_summaries import FeedSummaries
from feedcraft.services.generation import GenerationService
from feedcraft.services.ingestion import import_jsonl
from feedcraft.services.items import delete_items
from feedcraft.storage import Store
from ports import free_port
from scriptedserver import Reply, scripted_server

IDS = [f"wikinews-{i:03d}" for i in range(1, 7)]


class GatedGenerator(Generator):
    """The real generator, counting its runs; each run waits for `gate` to open."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.gate.set()
        self.runs = 0
        self.sources: list[str] = []  # what each run summarised, in order

    def run(self, task: PreparedTask) -> GenerationResult:
        self.runs += 1
        self.sources.append(task.source)
        assert self.gate.wait(30), "the gate was never opened"
        return super().run(task)


@pytest.fixture
def generation(store: Store, wikinews_dir: Path, settings: Settings) -> GenerationService:
    import_jsonl(store, wikinews_dir, progress=False)
    encoder = HashingEncoder(256)
    llm = settings.llm.model_copy(update={"backend": "extractive"})
    return GenerationService(
        store,
        settings.model_copy(update={"llm": llm}),
        encoder,
        generator=GatedGenerator(None, encoder),
    )


@pytest.fixture
def gated(generation: GenerationService) -> GatedGenerator:
    assert isinstance(generation.generator, GatedGenerator)
    return generation.generator


@pytest.fixture
def background(generation: GenerationService) -> Iterator[FeedSummaries]:
    summaries = FeedSummaries(generation, budget_s=0.0)
    yield summaries
    summaries.close(timeout=5)


def test_no_budget_queues_everything_and_the_next_request_is_served_from_the_cache(
    background: FeedSummaries, generation: GenerationService, gated: GatedGenerator
) -> None:
    first = background.attach(IDS, None)
    assert first.texts == {} and first.pending == frozenset(IDS)
    assert background.wait(30) and background.pending() == 0
    assert gated.runs == len(IDS)  # each written once, in the background
    second = background.attach(IDS, None)
    assert second.pending == frozenset() and set(second.texts) == set(IDS)
    assert gated.runs == len(IDS)  # from the cache
    assert second.texts["wikinews-001"] == generation.summary("wikinews-001").text


def test_within_the_budget_summaries_are_written_at_once(
    generation: GenerationService, gated: GatedGenerator
) -> None:
    summaries = FeedSummaries(generation, budget_s=60.0)
    got = summaries.attach(IDS[:3], None)
    assert set(got.texts) == set(IDS[:3]) and got.pending == frozenset()
    assert gated.runs == 3 and summaries.pending() == 0
    summaries.close()


def test_a_queued_item_is_queued_once_and_the_queue_is_bounded(
    generation: GenerationService, gated: GatedGenerator
) -> None:
    gated.gate.clear()
    summaries = FeedSummaries(generation, budget_s=0.0, max_pending=2)
    summaries.attach(IDS[:1], None)
    _until(lambda: gated.runs == 1)  # the thread holds the first one at the gate
    first = summaries.attach(IDS, None)
    # the one being written plus two waiting; the other three found no place, and are
    # pending all the same: the reader's next request queues them
    assert first.pending == frozenset(IDS) and summaries.pending() == 3
    again = summaries.attach(IDS, None)
    assert again.pending == first.pending and summaries.pending() == 3  # not queued twice
    gated.gate.set()
    assert summaries.wait(30) and gated.runs == 3
    third = summaries.attach(IDS, None)  # the next request queues what did not fit
    assert set(third.texts) == set(IDS[:3]) and third.pending == frozenset(IDS[3:])
    assert summaries.wait(30)
    assert summaries.attach(IDS, None).pending <= frozenset(IDS[5:])  # 6 if it took 4 first
    summaries.close(timeout=30)


def test_a_full_queue_gives_a_better_placed_item_the_worst_ones_place(
    generation: GenerationService, gated: GatedGenerator
) -> None:
    """Reader a's items 2 and 3 wait in a full queue; reader b's first item takes the place
    of a's third (still pending for a, queued again by a's next request)."""
    gated.gate.clear()
    summaries = FeedSummaries(generation, budget_s=0.0, max_pending=2)
    summaries.attach(IDS[:1], "a")
    _until(lambda: gated.runs == 1)
    assert summaries.attach(IDS[:3], "a").pending == frozenset(IDS[:3])
    assert summaries.attach(IDS[4:5], "b").pending == frozenset(IDS[4:5])
    assert summaries.pending() == 3  # a's first (in progress), b's first, a's second
    gated.gate.set()
    assert summaries.wait(30)
    titles = {i: generation.store.catalogue.get(i).title for i in IDS}
    order = [next(i for i in IDS if titles[i] in source) for source in gated.sources]
    assert order == [IDS[0], IDS[4], IDS[1]]
    again = summaries.attach(IDS[:3], "a")
    assert set(again.texts) == set(IDS[:2]) and again.pending == frozenset(IDS[2:3])
    summaries.close(timeout=30)


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_each_readers_top_items_are_written_before_anyones_later_ones(
    background: FeedSummaries, generation: GenerationService, gated: GatedGenerator
) -> None:
    """Reader a's feed of four is queued, then reader b's of two: b's first item comes right
    after a's first (already in progress), not after all of a's."""
    gated.gate.clear()
    background.attach(IDS[:4], "a")
    _until(lambda: gated.runs == 1)  # a's first is being written
    background.attach(IDS[4:], "b")
    gated.gate.set()
    assert background.wait(30)
    titles = {i: generation.store.catalogue.get(i).title for i in IDS}
    order = [next(i for i in IDS if titles[i] in source) for source in gated.sources]
    assert order == [IDS[0], IDS[4], IDS[1], IDS[5], IDS[2], IDS[3]]


def test_an_item_that_moved_up_a_feed_moves_up_the_queue(
    background: FeedSummaries, generation: GenerationService, gated: GatedGenerator
) -> None:
    """Queued fifth, then first in the reader's next feed: written next, not last."""
    gated.gate.clear()
    background.attach(IDS[:5], "a")
    _until(lambda: gated.runs == 1)  # the first is being written, four wait
    background.attach([IDS[4], *IDS[1:4]], "a")
    gated.gate.set()
    assert background.wait(30)
    titles = {i: generation.store.catalogue.get(i).title for i in IDS}
    order = [next(i for i in IDS if titles[i] in source) for source in gated.sources]
    assert order == [IDS[0], IDS[4], IDS[1], IDS[2], IDS[3]]


def test_close_drops_the_queue_and_waits_for_the_summary_in_progress(
    generation: GenerationService, gated: GatedGenerator, caplog: pytest.LogCaptureFixture
) -> None:
    gated.gate.clear()
    summaries = FeedSummaries(generation, budget_s=0.0)
    assert summaries.attach(IDS, None).pending == frozenset(IDS)
    _until(lambda: gated.runs == 1)
    with caplog.at_level(logging.WARNING):
        summaries.close(timeout=0.2)  # the one in progress is held at the gate
    assert "still being written" in caplog.text
    gated.gate.set()
    thread = summaries._thread
    assert thread is not None
    thread.join(30)
    assert not thread.is_alive() and gated.runs == 1  # the rest were dropped
    assert summaries.attach(IDS, None).pending == frozenset()  # closed: nothing queued


def test_an_item_deleted_while_queued_is_skipped(
    background: FeedSummaries,
    generation: GenerationService,
    gated: GatedGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gated.gate.clear()
    background.attach(IDS[:3], None)
    delete_items(generation.store, [IDS[2]])
    with caplog.at_level(logging.INFO):
        gated.gate.set()
        assert background.wait(30)
    assert f"no summary for {IDS[2]}" in caplog.text
    assert set(background.attach(IDS[:2], None).texts) == set(IDS[:2])


def test_an_item_without_text_or_gone_gets_no_summary_and_fails_nothing(
    generation: GenerationService,
) -> None:
    generation.store.catalogue.upsert([Item(id="blank", title="")])
    summaries = FeedSummaries(generation, budget_s=60.0)
    got = summaries.attach(["blank", IDS[0], "never-stored"], None)
    assert set(got.texts) == {IDS[0]} and got.pending == frozenset()
    summaries.close()


def test_bad_settings_are_refused(generation: GenerationService) -> None:
    with pytest.raises(InvalidInput, match="budget_s"):
        FeedSummaries(generation, budget_s=-1)
    with pytest.raises(InvalidInput, match="max_pending"):
        FeedSummaries(generation, max_pending=0)


class CountingId(str):
    """An item id counting the comparisons made with it (the queue's rescans)."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingId.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_a_repeat_feed_does_not_rescan_the_queue_for_each_queued_item(
    generation: GenerationService, gated: GatedGenerator
) -> None:
    """Each item of a feed asked for again is found queued by a lookup; the queue is only
    scanned for an item that moved up (formerly: a scan of the whole queue per item, so a
    feed of 1,000 cost 10^6 comparisons under the lock)."""
    gated.gate.clear()
    summaries = FeedSummaries(generation, budget_s=0.0)
    summaries.attach(IDS[:1], "a")
    _until(lambda: gated.runs == 1)  # held at the gate: the others stay queued
    n = 80
    ids = [f"wikinews-{i:03d}" for i in range(2, 2 + n)]
    for position, item_id in enumerate(ids, start=1):
        assert summaries._submit(CountingId(item_id), "a", position)
    CountingId.comparisons = 0
    for position, item_id in enumerate(ids, start=1):  # the same feed again
        assert summaries._submit(CountingId(item_id), "a", position)
    assert CountingId.comparisons <= 2 * n
    assert summaries.pending() == n + 1
    summaries._submit(CountingId(ids[-1]), "a", 0)  # moved to the top: written next
    gated.gate.set()
    _until(lambda: gated.runs >= 2)
    summaries.close(timeout=30)
    assert generation.store.catalogue.get(ids[-1]).title in gated.sources[1]


class RecordingGenerator(Generator):
    """The real generator, recording each run's backend error."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.errors: list[str | None] = []

    def run(self, task: PreparedTask) -> GenerationResult:
        result = super().run(task)
        self.errors.append(result.backend_error)
        return result


def test_the_summary_thread_waits_for_the_model_when_requests_fill_its_queue(
    store: Store, wikinews_dir: Path, settings: Settings
) -> None:
    """API requests holding every pending model run (`[llm] max_pending`) turn other requests
    away with the fallback; the feed's one writer thread waits its turn instead."""
    import_jsonl(store, wikinews_dir, progress=False)
    encoder = HashingEncoder(256)
    down = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=0, backoff=0)
    admission = Admission(1)
    recording = RecordingGenerator(down, encoder, admission=admission)
    generation = GenerationService(store, settings, encoder, generator=recording)
    summaries = FeedSummaries(generation, budget_s=30.0)
    try:
        with admission.enter():  # a request's run, in progress
            got = summaries.attach(IDS[:1], None)
    finally:
        summaries.close(timeout=5)
    assert set(got.texts) == set(IDS[:1])  # the outage's fallback, after asking the model
    assert len(recording.errors) == 1
    error = recording.errors[0]
    assert error is not None and not error.startswith("busy")


def test_a_readers_pending_summary_comes_as_the_one_for_anyone_meanwhile(
    background: FeedSummaries, generation: GenerationService, gated: GatedGenerator
) -> None:
    """A nightly batch writes each item's summary for no particular reader. A reader whose
    own summaries are not written yet gets those at once, marked, rather than none; their own
    replace them on the next request."""
    store = generation.store
    category = store.catalogue.get(IDS[0]).category
    start = datetime(2026, 1, 1, tzinfo=UTC)
    store.events.append([Event("reader", IDS[0], EventType.CLICK, start)])
    assert generation.profile_terms("reader") == (category,)
    generation.generate_batch("summary", IDS[:4], progress=False)  # for anyone
    anyone = {i: generation.summary(i).text for i in IDS[:4]}
    runs = gated.runs
    gated.gate.clear()  # the reader's own are being written
    first = background.attach(IDS, "reader")
    assert first.texts == anyone and first.for_anyone == frozenset(IDS[:4])
    assert first.pending == frozenset(IDS)  # their own still come
    gated.gate.set()
    assert background.wait(30) and gated.runs == runs + len(IDS)
    second = background.attach(IDS, "reader")
    assert second.for_anyone == frozenset() and second.pending == frozenset()
    assert second.texts == {i: generation.summary(i, "reader").text for i in IDS}


def test_a_reader_without_interests_has_no_summary_for_anyone_to_wait_on(
    background: FeedSummaries, generation: GenerationService, gated: GatedGenerator
) -> None:
    """No profile, no bucket of their own: their summaries are the ones for anyone, pending
    until written; nothing is marked as standing in."""
    gated.gate.clear()
    first = background.attach(IDS[:2], "stranger")
    assert first.texts == {} and first.for_anyone == frozenset()
    assert first.pending == frozenset(IDS[:2])
    gated.gate.set()
    assert background.wait(30)


def test_a_feed_with_a_stand_in_for_every_pending_summary_does_not_wait_its_budget(
    generation: GenerationService, gated: GatedGenerator
) -> None:
    """The budget is there so that a reader gets some summaries rather than none; when each
    one queued has the summary for anyone to show meanwhile, waiting buys nothing. One
    without a stand-in: the request waits its budget as before."""
    store = generation.store
    start = datetime(2026, 1, 1, tzinfo=UTC)
    store.events.append([Event("reader", IDS[0], EventType.CLICK, start)])
    generation.generate_batch("summary", IDS[:3], progress=False)  # for anyone
    summaries = FeedSummaries(generation, budget_s=1.0)
    gated.gate.clear()  # the reader's own take longer than the budget
    try:
        began = time.monotonic()
        covered = summaries.attach(IDS[:3], "reader")
        covered_s = time.monotonic() - began
        began = time.monotonic()
        uncovered = summaries.attach(IDS[:4], "reader")
        uncovered_s = time.monotonic() - began
    finally:
        gated.gate.set()
        summaries.close(timeout=5)
    assert covered.for_anyone == frozenset(IDS[:3]) and covered_s < 0.5
    assert uncovered.for_anyone == frozenset(IDS[:3]) and uncovered_s >= 0.9
    assert uncovered.pending == frozenset(IDS[:4]) and IDS[3] not in uncovered.texts


def test_while_the_model_is_down_a_feed_serves_the_stand_in_not_the_fallback(
    store: Store, wikinews_dir: Path, settings: Settings
) -> None:
    """The outage's fallback is remembered, so that the feed settles rather than queueing a
    call to the dead server per request; where the summary for anyone is cached, that is
    what the reader is shown meanwhile, not the extractive fallback."""
    import_jsonl(store, wikinews_dir, progress=False)
    item = store.catalogue.get(IDS[0])
    lead = item.body.split(". ")[0].strip() + "."
    store.events.append(
        [Event("reader", IDS[0], EventType.CLICK, datetime(2026, 1, 1, tzinfo=UTC))]
    )
    encoder = HashingEncoder(256)
    with scripted_server() as server:
        backend = OpenAICompatibleBackend(server.url, max_retries=0, backoff=0)
        generator = Generator(backend, encoder, max_attempts=1)
        generation = GenerationService(store, settings, encoder, generator=generator)
        server.replies.append(Reply(text=lead))
        anyone = generation.summary(IDS[0]).text  # then the server fails every call
        server.replies += [Reply(status=503) for _ in range(5)]
        summaries = FeedSummaries(generation, budget_s=0.0)
        try:
            first = summaries.attach(IDS[:1], "reader")
            assert summaries.wait(30)
            second = summaries.attach(IDS[:1], "reader")
            third = summaries.attach(IDS[:1], "reader")
        finally:
            summaries.close(timeout=5)
        asked = len(server.requests)
    assert first.texts == {IDS[0]: anyone} and first.pending == frozenset(IDS[:1])
    assert second.texts == {IDS[0]: anyone} and second.for_anyone == frozenset(IDS[:1])
    assert second.pending == frozenset() and third == second
    assert asked == 2  # the batch's call and the writer's one failed call: settled

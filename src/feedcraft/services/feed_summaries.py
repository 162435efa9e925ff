"""Summaries attached to a feed within a time budget; the rest written in the background.

A feed is served in milliseconds, a language model writes a summary in seconds: a feed of
20 articles, none cached, would keep its reader waiting half a minute or more. So a request
takes what the cache holds and hands the missing summaries to one background thread that
writes them into the cache; it waits for them at most its budget, attaches those written by
then, and reports the others as pending: the reader's next request finds them.

Where the reader's own summary is not written yet but the item's summary for no particular
reader is (a nightly `generate batch` writes them), that one is attached meanwhile, marked
(`for_anyone`), and the reader's own is still pending: a reader sees a summary of every item
at once rather than none, and theirs from the next request on. When every summary queued has
such a stand-in the request does not wait its budget: it has something to show for each. While
the model is down, too, the stand-in is served rather than the outage's fallback.

The thread writes by position in the feed, not by arrival: with several readers at once, each
reader's first items come before anyone's tenth, since a reader sees the top of a feed first
and may never scroll to the rest (`benchmarks/feed_summaries_readers.py`).

When the model's server is down, the summary served is the extractive fallback, which is not
cached (the model is asked again once it is back). The thread remembers such a fallback for
`OUTAGE_RETRY_S`, and feeds serve it meanwhile: otherwise every feed request would report the
item pending and queue one more call to the dead server, and its clients would poll for ever.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from feedcraft.errors import InvalidInput, NotFound
from feedcraft.services.generated import GeneratedText
from feedcraft.services.generation import GenerationService

__all__ = ["OUTAGE_RETRY_S", "AttachedSummaries", "FeedSummaries"]

log = logging.getLogger(__name__)

#: How long a feed serves an outage's fallback summary before the model is asked again.
OUTAGE_RETRY_S = 30.0

K = TypeVar("K")
V = TypeVar("V")


class _Recent(Generic[K, V]):
    """At most `size` values, each with the time it was put, the oldest forgotten first. Not
    locked: its owner holds its own lock around every call."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def put(self, key: K, value: V) -> None:
        self._values[key] = (time.monotonic(), value)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    def get(self, key: K, ttl: float) -> V | None:
        """The value put under `key`, None when there is none or it is `ttl` seconds old
        (it is then forgotten)."""
        found = self._values.get(key)
        if found is None:
            return None
        if time.monotonic() - found[0] >= ttl:
            del self._values[key]
            return None
        return found[1]

    def clear(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[K]:
        return iter(self._values)


@dataclass(frozen=True)
class AttachedSummaries:
    """Summaries for a feed's items, and the items whose summary is still being written;
    `for_anyone`: items whose text is their summary for no particular reader, standing in
    while the reader's own is pending or the model is down; `unavailable` says why a feed
    has none at all (generation cannot run), else None."""

    texts: Mapping[str, str]
    pending: frozenset[str]
    unavailable: str | None = None
    for_anyone: frozenset[str] = frozenset()


class FeedSummaries:
    """Attach summaries to feeds, waiting at most `budget_s` seconds per request for them.

    Queued summaries are written best position first (ties: first come). At most
    `max_pending` wait, so a burst of feeds cannot grow memory or work without bound; when the
    queue is full a better-placed item takes the place of the worst-placed one, and what finds
    no place is left for its reader's next request. A queued (item, reader) is not queued
    twice. An outage's fallback is served for `retry_s` seconds; at most `max_pending` are
    remembered (the oldest forgotten first).
    """

    def __init__(
        self,
        generation: GenerationService,
        *,
        budget_s: float = 1.0,
        max_pending: int = 1000,
        retry_s: float = OUTAGE_RETRY_S,
    ) -> None:
        if not budget_s >= 0:
            raise InvalidInput(f"must be >= 0, got {budget_s!r}", field="budget_s")
        if max_pending < 1:
            raise InvalidInput(f"must be at least 1, got {max_pending}", field="max_pending")
        if not retry_s >= 0:
            raise InvalidInput(f"must be >= 0, got {retry_s!r}", field="retry_s")
        self.generation = generation
        self.budget_s = budget_s
        self.max_pending = max_pending
        self.retry_s = retry_s
        # cache key -> an outage's fallback, served until the model is due another try
        self._outages: _Recent[str, GeneratedText] = _Recent(max_pending)
        # (item, reader) whose text the task refused (nothing to summarise once cleaned:
        # emoji or markup only); checked again after `retry_s` (an edit may give it words)
        self._refused: _Recent[tuple[str, str | None], bool] = _Recent(max_pending)
        # (position in its feed, arrival number, (item, reader)): a heap, best first
        self._queue: list[tuple[int, int, tuple[str, str | None]]] = []
        self._arrivals = itertools.count()
        # (item, reader) queued or being written -> its position in the queue (being written:
        # the one it had), so that a repeat feed rescans the queue only to move an item up
        self._queued: dict[tuple[str, str | None], int] = {}
        self._busy = False
        self._closed = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def attach(self, item_ids: Sequence[str], user_id: str | None) -> AttachedSummaries:
        """Cached summaries at once; the missing ones are queued (by position in the feed)
        and waited for until `budget_s` has passed since the call. Those not written by then
        are reported as pending: queued ones are written anyway, and ones the queue had no
        room for (or lost to a better-placed item) are queued by the next request. An item
        whose summary is settled but empty (a fallback with nothing servable, every sentence
        banned), or whose text the task refuses (emoji only), gets no text and is not
        pending: waiting would bring nothing else."""
        deadline = time.monotonic() + self.budget_s
        texts: dict[str, str] = {}
        missing: list[str] = []
        queued: list[str] = []
        outage: list[str] = []  # served an outage's fallback, remembered (`_recall`)
        # deleted and textless items are left out
        cached = self.generation.cached_summaries(item_ids, user_id, recall=self._recall)
        for position, item_id in enumerate(item_ids):
            hit = cached.get(item_id)
            if hit is not None:
                if hit.text:
                    texts[item_id] = hit.text
                if hit.backend_error is not None:
                    outage.append(item_id)
            elif item_id in cached and not self._was_refused(item_id, user_id):
                missing.append(item_id)
                if self._submit(item_id, user_id, position):
                    queued.append(item_id)
        stand_ins = self._stand_ins(missing + outage, user_id)
        wait = max(0.0, deadline - time.monotonic())
        if all(i in stand_ins for i in queued):  # something to show for each: no wait
            wait = 0.0
        with self._cond:
            self._cond.wait_for(lambda: all((i, user_id) not in self._queued for i in queued), wait)
            unsettled = {i for i in queued if (i, user_id) in self._queued}
            closed = self._closed
        # written meanwhile, by this request's thread work or for another reader of the bucket
        # (a fully cached feed, the usual one, skips the second read of the reader's profile)
        if written := [i for i in missing if i not in unsettled]:
            done = self.generation.cached_summaries(written, user_id, recall=self._recall)
            for i in written:
                hit = done.get(i)
                if hit is not None and hit.text:
                    texts[i] = hit.text
                elif hit is None and i in done and not self._was_refused(i, user_id):
                    unsettled.add(i)  # not written (no room in the queue, a failure)
                # else settled empty, or deleted meanwhile: nothing more will come
        return AttachedSummaries(
            texts=texts,
            pending=frozenset() if closed else frozenset(unsettled),
            for_anyone=self._stand_in(unsettled | set(outage), stand_ins, texts),
        )

    @staticmethod
    def _stand_in(
        items: set[str], stand_ins: dict[str, str], texts: dict[str, str]
    ) -> frozenset[str]:
        """Attach to `texts` the stand-in of each of `items` (pending, or an outage's
        fallback: the model's text for anyone is the better) that has one; those items."""
        attached = frozenset(i for i in items if i in stand_ins)
        texts.update((i, stand_ins[i]) for i in attached)
        return attached

    def _stand_ins(self, missing: list[str], user_id: str | None) -> dict[str, str]:
        """The cached summary for no particular reader of each of `missing` that has one, to
        stand in for the reader's own; none for a reader without interests (their own is
        that very summary)."""
        if not missing or not self.generation.profile_terms(user_id):
            return {}
        found = self.generation.cached_summaries(missing, None)
        return {i: hit.text for i, hit in found.items() if hit is not None and hit.text}

    def pending(self) -> int:
        """Summaries queued or being written now."""
        with self._cond:
            return len(self._queue) + self._busy

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued summary is written; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Drop what is queued and wait (up to `timeout`) for the summary being written, so
        that the store can be closed after this returns."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._queued.clear()
            self._outages.clear()
            self._refused.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("a feed summary was still being written after %.0f s", timeout)

    def _submit(self, item_id: str, user_id: str | None, position: int) -> bool:
        key = (item_id, user_id)
        with self._cond:
            if self._closed:
                return False
            queued_at = self._queued.get(key)
            if queued_at is not None:
                # queued by an earlier request; an item that has since moved up a feed moves
                # up the queue too (an O(n) scan, n <= max_pending, only when it moved up)
                if position < queued_at:
                    self._move_up(key, position)
                return True
            entry = (position, next(self._arrivals), key)
            if len(self._queue) >= self.max_pending:
                worst = max(self._queue)  # the latest of the worst-placed
                if entry >= worst:
                    return False
                self._queue.remove(worst)  # its reader's next request queues it again
                heapq.heapify(self._queue)
                self._queued.pop(worst[2], None)
            heapq.heappush(self._queue, entry)
            self._queued[key] = position
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="feedcraft-feed-summaries", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
        return True

    def _move_up(self, key: tuple[str, str | None], position: int) -> None:
        """Give a queued `key` the better `position` (it is being written when not found in
        the queue: nothing to move). The caller holds the lock."""
        self._queued[key] = position
        for i, (_, arrival, queued_key) in enumerate(self._queue):
            if queued_key == key:
                self._queue[i] = (position, arrival, key)
                heapq.heapify(self._queue)
                return

    def _work(self) -> None:
        # One thread writing in feed order: it waits for the model rather than being served
        # the fallback when API requests fill the model's queue (llm/admission).
        with self.generation.patient():
            self._write_queued()

    def _write_queued(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if self._closed:
                    return
                _, _, key = heapq.heappop(self._queue)
                self._busy = True
            try:
                # the reader's own, or an outage's fallback remembered under its key below
                out = self.generation.summary(*key, stand_in=False)
                if "backend" in out.failed_checks:  # an outage's fallback: not cached
                    self._remember(out)
            except NotFound as exc:  # deleted meanwhile
                log.info("no summary for %s in a feed: %s", key[0], exc)
            except InvalidInput as exc:  # no text to work from: not pending, nor asked again
                log.info("no summary for %s in a feed: %s", key[0], exc)
                self._refuse(key)
            except Exception:  # a bug or a broken store: logged, and the thread goes on
                log.warning("writing the summary of %s failed", key[0], exc_info=True)
            finally:
                with self._cond:
                    self._busy = False
                    self._queued.pop(key, None)
                    self._cond.notify_all()

    def _remember(self, served: GeneratedText) -> None:
        """Serve an outage's fallback to feeds until `retry_s` has passed."""
        with self._cond:
            self._outages.put(served.cache_key, served)

    def _refuse(self, key: tuple[str, str | None]) -> None:
        with self._cond:
            self._refused.put(key, True)

    def _was_refused(self, item_id: str, user_id: str | None) -> bool:
        """The task refused this item's text less than `retry_s` ago."""
        with self._cond:
            return self._refused.get((item_id, user_id), self.retry_s) is not None

    def _recall(self, cache_key: str) -> GeneratedText | None:
        """The outage's fallback remembered under `cache_key`, None once it is due a retry
        (the feed then queues the item again, and the model is asked)."""
        with self._cond:
            return self._outages.get(cache_key, self.retry_s)

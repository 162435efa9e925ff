"""The services an entry point needs, opened once from the settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from feedcraft.config import Settings
from feedcraft.domain import Event
from feedcraft.embeddings import encoder_from_settings
from feedcraft.errors import FeedcraftError
from feedcraft.services.feed_summaries import AttachedSummaries, FeedSummaries
from feedcraft.services.generation import GenerationService
from feedcraft.services.ingestion import append_events_with_stubs
from feedcraft.services.pseudonyms import Pseudonyms
from feedcraft.services.recommend import FeedService
from feedcraft.storage import Store, open_store

log = logging.getLogger(__name__)


@dataclass
class AppServices:
    settings: Settings
    store: Store
    feeds: FeedService
    #: Reader ids as the store keeps them (`Pseudonyms`): every entry point maps through it.
    readers: Pseudonyms = field(default_factory=lambda: Pseudonyms(None))
    _generation: GenerationService | None = field(default=None, repr=False)
    _summaries: FeedSummaries | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _warming: threading.Thread | None = field(default=None, repr=False)
    _warm_state: str = "lazy"
    _summaries_error: str | None = field(default=None, repr=False)

    @property
    def generation(self) -> GenerationService:
        """Built on first use: most deployments serve feeds without ever generating, and the
        language model and guardrail encoder load only when asked for."""
        with self._lock:
            if self._generation is None:
                encoder = encoder_from_settings(self.settings.embedding)
                self._generation = GenerationService(self.store, self.settings, encoder)
            return self._generation

    @property
    def feed_summaries(self) -> FeedSummaries:
        """Summaries for feeds, within the configured budget per request (built on first use)."""
        with self._lock:
            if self._summaries is None:
                llm = self.settings.llm
                self._summaries = FeedSummaries(
                    self.generation,
                    budget_s=llm.feed_summary_budget_s,
                    retry_s=llm.feed_outage_retry_s,
                )
            return self._summaries

    def attach_summaries(self, item_ids: Sequence[str], user_id: str | None) -> AttachedSummaries:
        """Summaries for a feed's items (`FeedSummaries.attach`). When generation cannot be
        set up (an unknown [llm] backend, a model file that is not there) the feed is served
        without them, the reason reported in `unavailable` and logged (once per reason), as
        an outage of the model's server is served the fallback: a feed must not fail for
        something its client did not send. /summary itself still reports the error."""
        try:
            summaries = self.feed_summaries
        except FeedcraftError as exc:
            reason = str(exc)
            with self._lock:
                first = reason != self._summaries_error
                self._summaries_error = reason
            if first:
                log.warning("feeds are served without summaries: %s", reason)
            return AttachedSummaries(texts={}, pending=frozenset(), unavailable=reason)
        return summaries.attach(item_ids, user_id)

    @property
    def generation_state(self) -> str:
        """`lazy` (loads on first use), `loading`, `ready` or `failed: <why>` (see
        `warm_generation`)."""
        return self._warm_state

    def warm_generation(self) -> threading.Thread:
        """Load the language model and the encoders generation needs in a background thread,
        so that the server answers meanwhile and its first generation request (a feed with
        summaries) does not wait for them. A failure is logged and left for that request to
        report, as it would be without warming."""
        with self._lock:
            if self._warming is None:
                self._warm_state = "loading"
                self._warming = threading.Thread(
                    target=self._warm, name="feedcraft-warm-generation", daemon=True
                )
                self._warming.start()
            return self._warming

    def _warm(self) -> None:
        try:
            seconds = self.generation.warm()
        except Exception as exc:  # the same error reaches the first request that generates
            self._warm_state = f"failed: {exc}"
            log.warning("loading the language model failed: %s", exc)
            return
        self._warm_state = "ready"
        log.info("generation loaded: %s", {k: round(v, 2) for k, v in seconds.items()})

    def ingest_events(self, events: Sequence[Event]) -> int:
        """Append events atomically, creating stub items for unknown item ids; a batch naming
        a deleted item is refused whole (InvalidInput naming `events[i].item_id`). Readers
        and event ids are stored as their pseudonyms when a key is set (`Pseudonyms`)."""
        return append_events_with_stubs(self.store, [self.readers.event(e) for e in events])

    def close(self) -> None:
        if self._warming is not None:  # it reads the store: let it finish (seconds) first
            self._warming.join()
        if self._summaries is not None:  # its thread writes to the store: stop it first
            self._summaries.close()
        self.feeds.close()
        self.store.close()


def open_services(settings: Settings) -> AppServices:
    store = open_store(settings.store)
    readers = Pseudonyms(settings.privacy.pseudonym_key)
    try:
        readers.check_store(store)
    except BaseException:
        store.close()
        raise
    feeds = FeedService(store, settings, encoder_from_settings(settings.embedding).name)
    return AppServices(settings=settings, store=store, feeds=feeds, readers=readers)

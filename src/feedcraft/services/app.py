"""The services an entry point needs, opened once from the settings."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from feedcraft.config import Settings
from feedcraft.domain import Event
from feedcraft.embeddings import encoder_from_settings
from feedcraft.services.feed_summaries import FeedSummaries
from feedcraft.services.generation import GenerationService
from feedcraft.services.ingestion import append_events_with_stubs
from feedcraft.services.recommend import FeedService
from feedcraft.storage import Store, open_store


@dataclass
class AppServices:
    settings: Settings
    store: Store
    feeds: FeedService
    _generation: GenerationService | None = field(default=None, repr=False)
    _summaries: FeedSummaries | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

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
                budget = self.settings.llm.feed_summary_budget_s
                self._summaries = FeedSummaries(self.generation, budget_s=budget)
            return self._summaries

    def ingest_events(self, events: Sequence[Event]) -> int:
        """Append events atomically, creating stub items for unknown item ids; a batch naming
        a deleted item is refused whole (InvalidInput naming `events[i].item_id`)."""
        return append_events_with_stubs(self.store, events)

    def close(self) -> None:
        if self._summaries is not None:  # its thread writes to the store: stop it first
            self._summaries.close()
        self.feeds.close()
        self.store.close()


def open_services(settings: Settings) -> AppServices:
    store = open_store(settings.store)
    feeds = FeedService(store, settings, encoder_from_settings(settings.embedding).name)
    return AppServices(settings=settings, store=store, feeds=feeds)

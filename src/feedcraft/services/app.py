"""The services an entry point needs, opened once from the settings."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from feedcraft.config import Settings
from feedcraft.domain import Event
from feedcraft.embeddings import encoder_from_settings
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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def generation(self) -> GenerationService:
        """Built on first use: most deployments serve feeds without ever generating, and the
        language model and guardrail encoder load only when asked for."""
        with self._lock:
            if self._generation is None:
                encoder = encoder_from_settings(self.settings.embedding)
                self._generation = GenerationService(self.store, self.settings, encoder)
            return self._generation

    def ingest_events(self, events: Sequence[Event]) -> int:
        """Append events atomically, creating stub items for unknown item ids; a batch naming
        a deleted item is refused whole (InvalidInput naming `events[i].item_id`)."""
        return append_events_with_stubs(self.store, events)

    def close(self) -> None:
        self.feeds.close()
        self.store.close()


def open_services(settings: Settings) -> AppServices:
    store = open_store(settings.store)
    feeds = FeedService(store, settings, encoder_from_settings(settings.embedding).name)
    return AppServices(settings=settings, store=store, feeds=feeds)

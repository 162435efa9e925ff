"""The services an entry point needs, opened once from the settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feedcraft.config import Settings
from feedcraft.domain import Event
from feedcraft.embeddings import encoder_from_settings
from feedcraft.services.ingestion import append_events_with_stubs
from feedcraft.services.recommend import FeedService
from feedcraft.storage import Store, open_store


@dataclass
class AppServices:
    settings: Settings
    store: Store
    feeds: FeedService

    def ingest_events(self, events: Sequence[Event]) -> int:
        """Append events atomically, creating stub items for unknown item ids."""
        return append_events_with_stubs(self.store, events)

    def close(self) -> None:
        self.store.close()


def open_services(settings: Settings) -> AppServices:
    store = open_store(settings.store)
    feeds = FeedService(store, settings, encoder_from_settings(settings.embedding).name)
    return AppServices(settings=settings, store=store, feeds=feeds)

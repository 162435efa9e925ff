"""Assemble a user's feed from the newest trained model and the live event log.

The user's history is read from the store at request time, so events posted after training
already change the feed (seen items drop out; history-based models use the new clicks).
Every entry carries a reason a person can read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedcraft.config import Settings
from feedcraft.domain import Feed, FeedEntry, Item, ItemVectors
from feedcraft.errors import NotFound
from feedcraft.services.embedding import load_item_vectors
from feedcraft.services.interactions import POSITIVE_TYPES
from feedcraft.services.models import ModelCache
from feedcraft.storage import Store

HISTORY_LIMIT = 500


class FeedService:
    """Feeds and similar items; one instance per process, shared by the API and the CLI."""

    def __init__(self, store: Store, settings: Settings, encoder_name: str) -> None:
        self._store = store
        self._settings = settings
        self._encoder_name = encoder_name
        self._models = ModelCache(store)
        self._vectors: ItemVectors | None = None
        self._vectors_count = -1

    def history(self, user_id: str) -> list[str]:
        """The user's positively interacted items, newest last (bounded)."""
        items = [
            e.item_id
            for e in self._store.events.iter_events(user_id=user_id, types=list(POSITIVE_TYPES))
        ]
        return list(dict.fromkeys(items))[-HISTORY_LIMIT:]

    def feed(self, user_id: str, n: int | None = None, model: str | None = None) -> Feed:
        name = model or self._settings.recommend.default_model
        n = n or self._settings.recommend.feed_size
        recommender, info = self._models.get(name)
        history = self.history(user_id)
        rec = recommender.recommend([user_id], n, histories={user_id: history})[0]
        items = self._store.catalogue.get_many(list(rec.item_ids))
        vectors = self.item_vectors()
        entries = [
            FeedEntry(
                item_id=item_id,
                score=score,
                reason=self._reason(name, item_id, history, items, vectors),
                source=name,
            )
            for item_id, score in rec
        ]
        return Feed(user_id=user_id, entries=entries, model=f"{name}@v{info.version}")

    def similar(self, item_id: str, n: int = 10) -> list[FeedEntry]:
        """Items whose content embedding is nearest to this one's."""
        item = self._store.catalogue.get(item_id)
        vectors = self.item_vectors()
        if vectors is None or item_id not in vectors.ids:
            raise NotFound(f"item '{item_id}' has no embedding yet; run `feedcraft train`")
        query = vectors.matrix[vectors.ids.position(item_id)]
        hits = self._store.vectors.search(
            f"items:{self._encoder_name}", query, n, exclude=[item_id]
        )
        label = item.title or item.id
        return [
            FeedEntry(h.id, h.score, f"similar in content to '{label}'", "content") for h in hits
        ]

    def item_vectors(self) -> ItemVectors | None:
        """Item embeddings, cached in process and reloaded when their count changes."""
        count = self._store.vectors.count(f"items:{self._encoder_name}")
        if count != self._vectors_count:
            self._vectors = load_item_vectors(self._store, self._encoder_name)
            self._vectors_count = count
        return self._vectors

    def _reason(
        self,
        model: str,
        item_id: str,
        history: Sequence[str],
        items: dict[str, Item],
        vectors: ItemVectors | None,
    ) -> str:
        item = items.get(item_id)
        category = item.category if item and item.category else None
        if model in ("itemknn", "content") and history and vectors is not None:
            anchor = _closest(item_id, history, vectors)
            if anchor is not None:
                title = self._title(anchor)
                verb = "liked" if model == "itemknn" else "read or watched"
                return f"because you {verb} '{title}'"
        if model == "random":
            return "picked at random to explore"
        if category:
            return f"popular in {category} lately"
        return "popular lately"

    def _title(self, item_id: str) -> str:
        try:
            return self._store.catalogue.get(item_id).title or item_id
        except NotFound:
            return item_id


def _closest(item_id: str, history: Sequence[str], vectors: ItemVectors) -> str | None:
    """The history item most similar in content to `item_id` (the basis of its reason)."""
    if item_id not in vectors.ids:
        return None
    known = [h for h in history[-200:] if h in vectors.ids]
    if not known:
        return None
    target = vectors.matrix[vectors.ids.position(item_id)]
    sims = vectors.rows(known) @ target
    return known[int(np.argmax(sims))]

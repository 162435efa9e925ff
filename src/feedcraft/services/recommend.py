"""Assemble a user's feed from the newest trained model and the live event log.

The user's history is read from the store at request time, so events posted after training
already change the feed (seen items drop out; history-based models use the new clicks).
Every entry carries a reason a person can read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from feedcraft.config import Settings
from feedcraft.domain import Feed, FeedEntry, Item, ItemVectors, Purpose, utcnow
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.recommenders import available
from feedcraft.recommenders.base import Recommender
from feedcraft.recommenders.rerank import Candidate, RerankPolicy, rerank
from feedcraft.services.consent import ConsentPolicy
from feedcraft.services.embedding import load_item_vectors
from feedcraft.services.interactions import POSITIVE_TYPES
from feedcraft.services.models import ModelCache
from feedcraft.storage import Store

HISTORY_LIMIT = 500
#: The reader a feed is asked for when its reader withheld consent: no reader has this id.
ANONYMOUS = ""
#: Models whose items may be explained by content likeness when the model itself names no
#: history item (content-based parts); the others then fall back to popularity or freshness.
CONTENT_ANCHORED = frozenset({"content", "hybrid", "itemknn", "ease", "ranker"})


class FeedService:
    """Feeds and similar items; one instance per process, shared by the API and the CLI."""

    def __init__(self, store: Store, settings: Settings, encoder_name: str) -> None:
        self._store = store
        self._settings = settings
        self._encoder_name = encoder_name
        self._models = ModelCache(
            store, settle_heap=settings.serve.settle_heap, cache_dir=settings.machine_cache()
        )
        self._vectors: ItemVectors | None = None
        self._vectors_version = -1
        self._policy = policy_from_settings(settings)
        self._positive_types = list(POSITIVE_TYPES)
        self.consent = ConsentPolicy(store, settings.privacy)

    def close(self) -> None:
        """Let model preparation started by requests finish (see `ModelCache.close`)."""
        self._models.close()

    def drop_models(self) -> None:
        """Forget the models loaded in this process (see `ModelCache.clear`)."""
        self._models.clear()

    def history(self, user_id: str) -> list[str]:
        """The user's positively interacted items, newest last (bounded)."""
        return self._store.events.user_items(
            user_id, types=self._positive_types, limit=HISTORY_LIMIT
        )

    def feed(self, user_id: str, n: int | None = None, model: str | None = None) -> Feed:
        return self.feed_with_items(user_id, n, model)[0]

    def feed_with_items(
        self, user_id: str, n: int | None = None, model: str | None = None
    ) -> tuple[Feed, dict[str, Item]]:
        """The feed and the catalogue items it shows (those that exist), read once here so
        a caller rendering titles does not read them again."""
        name = model or self._settings.recommend.default_model
        if name not in available():  # a typo is the caller's error, not a missing model (503)
            raise InvalidInput(
                f"unknown model {name!r}; choose from {', '.join(available())}", field="model"
            )
        n = n or self._settings.recommend.feed_size
        recommender, info = self._models.get(name)
        personal = self.consent.allows(user_id, Purpose.PERSONALISATION)
        # without consent the model is asked for a reader it cannot know (ids are never
        # empty), so not even what it learned of them in training is used
        history = self.history(user_id) if personal else []
        asked = user_id if personal else ANONYMOUS
        policy = self._policy
        pool = n if policy.is_identity else n * self._settings.rerank.candidates_factor
        seen = set(history)
        pin_ids = [p for p in policy.pinned if p not in seen]
        rec, items = self._live(recommender, asked, history, pool, pin_ids)
        now = utcnow()
        candidates = [_candidate(i, s, items.get(i), now, name) for i, s in rec]
        pins = [_candidate(p, 0.0, items[p], now, "pinned") for p in pin_ids if p in items]
        vectors = self.item_vectors()
        picked = rerank(candidates, n, policy, vectors, pinned=pins)
        anchors: dict[str, str] = {}
        if history:
            # the model's own link first (the CF neighbour that drew the item in), then, for
            # items it cannot place, the history item most alike in content
            picked_ids = [c.item_id for c in picked]
            anchors = recommender.explain(history[-200:], picked_ids)
            missing = [i for i in picked_ids if i not in anchors]
            if missing and name in CONTENT_ANCHORED and vectors is not None:
                anchors.update(_closest(missing, history, vectors))
        titles = self._store.catalogue.get_many(list(set(anchors.values()))) if anchors else {}
        anchors = {i: a for i, a in anchors.items() if a in titles}  # never name a deleted item
        entries = [
            FeedEntry(
                item_id=c.item_id,
                score=c.score,
                reason=c.reason or self._reason(name, c, items, anchors, titles),
                source=c.source,
            )
            for c in picked
        ]
        feed = Feed(user_id, entries, f"{name}@v{info.version}", personalised=personal)
        return feed, items

    def _live(
        self,
        recommender: Recommender,
        user_id: str,
        history: list[str],
        pool: int,
        pin_ids: list[str],
    ) -> tuple[list[tuple[str, float]], dict[str, Item]]:
        """The model's best `pool` items that the catalogue still holds, and the catalogue
        items of those and of `pin_ids`, read in one batch lookup. A trained model keeps
        recommending deleted items (their events are kept), so they are dropped here; when
        that thins the list, the model is asked once more with room for what was dropped."""
        rec = recommender.recommend([user_id], pool, histories={user_id: history})[0]
        items = self._store.catalogue.get_many([*rec.item_ids, *pin_ids])
        gone = sum(i not in items for i in rec.item_ids)
        if gone and len(rec) == pool:
            asked = set(rec.item_ids)
            rec = recommender.recommend([user_id], pool + 2 * gone, histories={user_id: history})[0]
            fresh = [i for i in rec.item_ids if i not in asked]
            items.update(self._store.catalogue.get_many(fresh))
        return [(i, s) for i, s in rec if i in items][:pool], items

    def similar(self, item_id: str, n: int = 10) -> list[FeedEntry]:
        """Items whose content embedding is nearest to this one's."""
        item = self._store.catalogue.get(item_id)
        namespace = f"items:{self._encoder_name}"
        # the query vector from the store, not the in-process copy: an edited item re-embedded
        # by a later `feedcraft train` keeps the vector count, so that copy would be stale
        found = self._store.vectors.get(namespace, [item_id])
        if item_id not in found:
            raise NotFound(f"item '{item_id}' has no embedding yet; run `feedcraft train`")
        hits = self._store.vectors.search(namespace, found[item_id], n, exclude=[item_id])
        label = item.title or item.id
        return [
            FeedEntry(h.id, h.score, f"similar in content to '{label}'", "content") for h in hits
        ]

    def item_vectors(self) -> ItemVectors | None:
        """Item embeddings, cached in process and reloaded when the namespace's version moves
        (one primary-key lookup per request; a COUNT over the vectors took ~0.5 ms)."""
        version = self._store.vectors.version(f"items:{self._encoder_name}")
        if version != self._vectors_version:
            self._vectors = load_item_vectors(self._store, self._encoder_name)
            self._vectors_version = version
        return self._vectors

    def _reason(
        self,
        model: str,
        candidate: Candidate,
        items: dict[str, Item],
        anchors: dict[str, str],
        titles: dict[str, Item],
    ) -> str:
        """A sentence a reader understands: the history item it resembles most, freshness,
        or popularity in its category."""
        item = items.get(candidate.item_id)
        category = item.category if item and item.category else None
        rerank_cfg = self._settings.rerank
        if (
            rerank_cfg.freshness_weight > 0
            and candidate.age_days is not None
            and candidate.age_days <= rerank_cfg.freshness_half_life_days
        ):
            return f"new in {category}" if category else "new"
        anchor = anchors.get(candidate.item_id)
        if anchor is not None:
            title = titles[anchor].title if anchor in titles else anchor
            verb = "liked" if model != "content" else "read or watched"
            return f"because you {verb} '{title or anchor}'"
        if model == "random":
            return "picked at random to explore"
        if category:
            return f"popular in {category} lately"
        return "popular lately"


def policy_from_settings(settings: Settings) -> RerankPolicy:
    r = settings.rerank
    return RerankPolicy(
        diversity=r.diversity,
        max_per_category=r.max_per_category,
        freshness_weight=r.freshness_weight,
        freshness_half_life_days=r.freshness_half_life_days,
        pinned=tuple(r.pinned),
        blocked_items=frozenset(r.blocked_items),
        blocked_categories=frozenset(r.blocked_categories),
        category_boosts=r.category_boosts,
    )


def _candidate(
    item_id: str, score: float, item: Item | None, now: datetime, source: str
) -> Candidate:
    age = None
    if item is not None and item.published_at is not None:
        age = (now - item.published_at).total_seconds() / 86400.0
    reason = "featured by the editors" if source == "pinned" else ""
    return Candidate(
        item_id=item_id,
        score=score,
        category=item.category if item is not None else "",
        age_days=age,
        reason=reason,
        source=source,
    )


def _closest(
    item_ids: Sequence[str], history: Sequence[str], vectors: ItemVectors
) -> dict[str, str]:
    """For each item, the history item most similar to it in content (its reason's anchor)."""
    known = [h for h in history[-200:] if h in vectors.ids]
    targets = [i for i in item_ids if i in vectors.ids]
    if not known or not targets:
        return {}
    sims = vectors.rows(known) @ vectors.rows(targets).T  # history x targets
    best = np.argmax(sims, axis=0)
    return {t: known[int(b)] for t, b in zip(targets, best, strict=True)}

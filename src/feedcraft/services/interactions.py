"""Read the event log into the users x items `Interactions` that recommenders fit on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from feedcraft.domain import Event, EventType, IdIndex, Interactions
from feedcraft.errors import InvalidInput
from feedcraft.storage import Store

POSITIVE_TYPES: tuple[EventType, ...] = tuple(t for t in EventType if t.is_positive)


def interactions_from_events(events: Iterable[Event], items: IdIndex | None = None) -> Interactions:
    """Positive events as interactions (weight 1 each; duplicates are kept as separate rows).

    With `items` (e.g. the whole catalogue), the item index is fixed to it so that content
    models can recommend items nobody has interacted with yet.
    """
    users: list[str] = []
    item_ids: list[str] = []
    stamps: list[float] = []
    for e in events:
        if not e.type.is_positive:
            continue
        users.append(e.user_id)
        item_ids.append(e.item_id)
        stamps.append(e.timestamp.timestamp())
    if not users:
        raise InvalidInput("the event log holds no positive interactions; import events first")
    if items is not None:
        extra = [i for i in dict.fromkeys(item_ids) if i not in items]
        if extra:
            items = IdIndex([*items.ids, *extra])
    return Interactions.from_triples(
        users, item_ids, None, np.asarray(stamps, np.float64), items=items
    )


def load_interactions(
    store: Store, *, types: Sequence[EventType] = POSITIVE_TYPES, whole_catalogue: bool = True
) -> Interactions:
    """All positive interactions in the store; item index = the catalogue when asked."""
    items = IdIndex(sorted(store.catalogue.ids())) if whole_catalogue else None
    return interactions_from_events(store.events.iter_events(types=list(types)), items)


@dataclass(frozen=True, slots=True)
class ItemMetadata:
    """What a model may learn from besides interactions and vectors: each item's categories
    (category, subcategory and tags, in that order, without repeats) and its publication
    time in unix seconds (items without one are absent)."""

    categories: Mapping[str, tuple[str, ...]]
    published_at: Mapping[str, float]


def load_item_metadata(store: Store) -> ItemMetadata:
    """Categories and publication times of every catalogue item (stubs have neither)."""
    categories: dict[str, tuple[str, ...]] = {}
    published: dict[str, float] = {}
    for item in store.catalogue.iter_items(include_stubs=False):
        names = tuple(dict.fromkeys(c for c in (item.category, item.subcategory, *item.tags) if c))
        if names:
            categories[item.id] = names
        if item.published_at is not None:
            published[item.id] = item.published_at.timestamp()
    return ItemMetadata(categories, published)

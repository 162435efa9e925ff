"""Rebuild impression slates (candidates, clicks, history) from the event log.

Importers store a slate as one `impression` event per candidate (with its position) and a
`click` event per clicked candidate, both tagged with the impression id; a user's earlier
clicks (MIND's history column) are `click` events without an impression id.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from feedcraft.domain import EventType, Impression
from feedcraft.storage import Store


def load_impressions(store: Store) -> list[Impression]:
    """Every impression in the store, ordered by time then id."""
    slates: dict[str, dict[int, str]] = defaultdict(dict)
    owner: dict[str, tuple[str, datetime]] = {}
    clicks: dict[str, set[int]] = defaultdict(set)
    history: dict[str, list[str]] = defaultdict(list)
    types = [EventType.IMPRESSION, EventType.CLICK]
    for e in store.events.iter_events(types=types):
        if e.impression_id is None:
            if e.type is EventType.CLICK:
                history[e.user_id].append(e.item_id)
            continue
        if e.type is EventType.IMPRESSION:
            position = e.position if e.position is not None else len(slates[e.impression_id])
            slates[e.impression_id][position] = e.item_id
            owner.setdefault(e.impression_id, (e.user_id, e.timestamp))
        elif e.position is not None:
            clicks[e.impression_id].add(e.position)
    out = []
    for imp_id, slots in slates.items():
        user, ts = owner[imp_id]
        positions = sorted(slots)
        out.append(
            Impression(
                id=imp_id,
                user_id=user,
                timestamp=ts,
                item_ids=tuple(slots[p] for p in positions),
                clicked=tuple(p in clicks[imp_id] for p in positions),
                history=tuple(dict.fromkeys(history[user])),
            )
        )
    out.sort(key=lambda imp: (imp.timestamp, imp.id))
    return out

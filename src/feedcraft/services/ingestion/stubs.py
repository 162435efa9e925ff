"""Stub items: an event may name an item the catalogue lacks; the item is created as a stub.

A stub never replaces a full item (the store guarantees it), and a later full item replaces
the stub, so creating stubs is safe whatever order items and events arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable

from feedcraft.domain import Event, Item
from feedcraft.storage import Store

LOOKUP_CHUNK = 500


def create_stubs(store: Store, item_ids: Iterable[str]) -> int:
    """Stub items for the ids the catalogue lacks; returns how many were created."""
    wanted = list(dict.fromkeys(item_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        found.update(store.catalogue.get_many(wanted[start : start + LOOKUP_CHUNK]))
    missing = [item_id for item_id in wanted if item_id not in found]
    if not missing:
        return 0
    return store.catalogue.upsert(Item(id=item_id, title="", stub=True) for item_id in missing)


def append_events_with_stubs(store: Store, events: Iterable[Event]) -> int:
    """Create stubs for unknown items, then append the events in one transaction.

    Returns how many events were new. The stubs are committed first, in their own
    transaction: if the append then fails, the stubs stay, which is harmless.
    """
    batch = list(events)
    create_stubs(store, (event.item_id for event in batch))
    return store.events.append(batch)

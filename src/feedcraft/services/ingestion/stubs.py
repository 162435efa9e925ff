"""Stub items: an event may name an item the catalogue lacks; the item is created as a stub.

A stub never replaces a full item (the store guarantees it), and a later full item replaces
the stub, so creating stubs is safe whatever order items and events arrive in.

A deleted item is different: its id has a tombstone in the catalogue, and an event naming it
is refused (`refuse_deleted_items`) rather than turned into a stub, because the deletion was a
publisher's decision that behaviour data must not undo. Storing the full item again clears the
tombstone. The check runs before anything is written; an event that races a deletion between
the check and the append is stored (events of deleted items are kept anyway), but its stub is
not: the store drops stubs of tombstoned ids inside its own write transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from feedcraft.domain import Event, Item
from feedcraft.errors import InvalidInput
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


def deleted_item_error(
    events: Sequence[Event],
    deleted: set[str],
    *,
    field: str,
    source: str | None = None,
    lines: Sequence[int] | None = None,
) -> InvalidInput:
    """The error for a batch whose events name deleted items: the first such event (its
    position fills `{position}` in `field`; with `lines`, its line), its id and item, and how
    many more there are."""
    offending = [(i, e) for i, e in enumerate(events) if e.item_id in deleted]
    position, event = offending[0]
    ids = sorted(deleted)
    more = ""
    if len(offending) > 1:
        shown = ", ".join(repr(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
        more = f"; {len(offending)} events of this batch name deleted items ({shown})"
    return InvalidInput(
        f"event {event.id!r} names item {event.item_id!r}, which was deleted; store the item "
        f"again (POST /items or an items file) to accept events about it{more}",
        field=field.format(position=position),
        source=source,
        line=None if lines is None else lines[position],
    )


def refuse_deleted_items(store: Store, events: Sequence[Event]) -> None:
    """Raise InvalidInput naming the first event (by its index in `events`) whose item was
    deleted; the field is `events[i].item_id`, as the HTTP body names it."""
    deleted = store.catalogue.deleted([event.item_id for event in events])
    if deleted:
        raise deleted_item_error(events, deleted, field="events[{position}].item_id")


def append_events_with_stubs(store: Store, events: Iterable[Event]) -> int:
    """Refuse events naming deleted items, create stubs for unknown items, then append the
    events in one transaction.

    Returns how many events were new. The stubs are committed first, in their own
    transaction: if the append then fails, the stubs stay, which is harmless.
    """
    batch = list(events)
    refuse_deleted_items(store, batch)
    create_stubs(store, (event.item_id for event in batch))
    return store.events.append(batch)

"""Take items down: the catalogue entry, its vectors under every model, its generated texts.

Order: the catalogue first, because it is what serving checks (feeds and similar items are
filtered against it, generation reads the item from it), so the item stops being shown the
moment that write commits. Vectors and cached texts follow; they are removed for every
requested id, found or not, so running the same deletion again finishes one that stopped
half way. Erasing the texts ends with a checkpoint of SQLite's WAL (`delete_prefixes`), so
what the deletion removed is no longer in the WAL file either.

Events that name the items are kept: they are behaviour, not content. They record what
readers did, feed other items' co-occurrence and popularity and readers' profiles, and back
evaluation; erasing a person's events is `EventLog.delete_user`. Models trained on them
still know the ids, which is why serving filters against the catalogue (services/recommend).

The catalogue records a tombstone for every item it removes, in the same transaction, so new
events naming a deleted item are refused (POST /events, importers) instead of bringing it back
as a stub. Storing the full item again (POST /items, an items file) is the way to restore it:
that clears the tombstone, and events about it are accepted from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feedcraft.services.id_lists import checked_ids
from feedcraft.services.text_keys import forget_items_texts
from feedcraft.storage import Store

__all__ = ["DeleteReport", "delete_items"]


@dataclass(frozen=True)
class DeleteReport:
    """What a deletion removed: ids deleted from the catalogue, ids it did not hold, and
    how many vectors (all namespaces together) and cached generated texts went with them."""

    deleted: tuple[str, ...]
    not_found: tuple[str, ...]
    vectors: int
    texts: int

    def summary(self) -> str:
        n = len(self.deleted)
        text = (
            f"deleted {n} item{'' if n == 1 else 's'} "
            f"({self.vectors} vectors, {self.texts} cached texts)"
        )
        if self.not_found:
            text += f"; not found: {', '.join(self.not_found)}"
        return text


def delete_items(store: Store, item_ids: Sequence[str]) -> DeleteReport:
    """Delete the items from the catalogue, the vector store (every namespace) and the
    generated-text cache; unknown ids are reported in `not_found`, never an error.

    The content-hash embedding cache (`cache:<encoder>`) is keyed by a hash of the text, not
    by item id, so it keeps its entry: it names no item, and an identical article imported
    again reuses the vector. Events are kept (see the module docstring); new ones naming a
    deleted item are refused until the item is stored again.
    """
    ids = checked_ids(item_ids, field="item_ids", what="item id")
    existing = store.catalogue.get_many(ids)
    store.catalogue.delete(ids)
    vectors = sum(store.vectors.delete(ns, ids) for ns in store.vectors.namespaces())
    # one erasure for all: SQLite's checkpoints its WAL after it, so that neither the texts
    # nor the catalogue rows deleted above linger in the WAL file
    texts = forget_items_texts(store, ids)
    return DeleteReport(
        deleted=tuple(i for i in ids if i in existing),
        not_found=tuple(i for i in ids if i not in existing),
        vectors=vectors,
        texts=texts,
    )

"""Keys of the generated-text cache: what names an entry, and what drops an item's entries.

A key is `gen1/<item id>/<task>/<item version>/<profile bucket>/<model>/<parameters>` (each
part URL-quoted), so one prefix holds every entry of an item, and the item version (a hash of
what the tasks read) tells an entry of an edited item from a current one. A module of its own
because deleting an item must drop its texts without building a generator.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from urllib.parse import quote

from feedcraft.domain import Item
from feedcraft.storage import Store

__all__ = [
    "KEY_VERSION",
    "digest",
    "forget_item_texts",
    "forget_items_texts",
    "item_key_prefix",
    "item_version",
    "key_parts",
]

KEY_VERSION = "gen1"  # bump when the cached value's layout changes


def digest(value: object) -> str:
    """A short, stable hash of a JSON-able value (dict keys sorted)."""
    payload = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def item_version(item: Item) -> str:
    """Hash of everything a task reads from the item (content and attributes)."""
    return digest([item.content_hash(), dict(item.attributes)])


def item_key_prefix(item_id: str) -> str:
    """The key prefix of every cached entry of an item: one `delete_prefix` drops them all."""
    return f"{KEY_VERSION}/{quote(item_id, safe='')}/"


def key_parts(key: str) -> list[str]:
    """[key version, item id (quoted), task, item version, bucket, model, parameters]."""
    parts = key.split("/")
    return parts if len(parts) == 7 else [*parts, *[""] * (7 - len(parts))]


def forget_item_texts(store: Store, item_id: str) -> int:
    """Drop every cached generation of an item (deleting items must not build a generator,
    which may load a language model)."""
    return forget_items_texts(store, [item_id])


def forget_items_texts(store: Store, item_ids: Sequence[str]) -> int:
    """Drop every cached generation of the items, in one erasure (one transaction, and for
    SQLite one checkpoint of the WAL that still holds the erased texts)."""
    return store.text_cache.delete_prefixes([item_key_prefix(item_id) for item_id in item_ids])

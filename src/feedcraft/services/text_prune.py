"""Drop cached generated texts that can never be served again.

An entry's key names its item version and model (`text_keys`), so whether it can still be
served is decided from the key and the catalogue alone: no generator is built, no value read.
A module of its own so that the generation service stays about serving.
"""

from __future__ import annotations

import time
from urllib.parse import unquote

from feedcraft.services.generated import PruneReport
from feedcraft.services.text_keys import KEY_VERSION, item_version, key_parts
from feedcraft.storage import Store

__all__ = ["prune_texts"]

_BATCH = 500  # keys examined per catalogue read: bounded memory on a large cache


def prune_texts(store: Store, current_model: str, *, other_models: bool = False) -> PruneReport:
    """Drop entries of items deleted or edited since they were written (always) and, with
    `other_models`, those whose model key is not `current_model`."""
    start = time.perf_counter()
    examined = stale = other = 0
    batch: list[str] = []
    for key in store.text_cache.keys(f"{KEY_VERSION}/"):
        examined += 1
        batch.append(key)
        if len(batch) >= _BATCH:
            s, o = _prune(store, batch, current_model, other_models)
            stale, other, batch = stale + s, other + o, []
    s, o = _prune(store, batch, current_model, other_models)
    return PruneReport(
        examined=examined,
        removed_stale=stale + s,
        removed_other_models=other + o,
        seconds=time.perf_counter() - start,
    )


def _prune(
    store: Store, keys: list[str], current_model: str, other_models: bool
) -> tuple[int, int]:
    parts = {k: key_parts(k) for k in keys}
    ids = sorted({unquote(p[1]) for p in parts.values()})
    items = store.catalogue.get_many(ids)
    versions = {i: item_version(it) for i, it in items.items() if not it.stub}
    stale = {k for k, p in parts.items() if versions.get(unquote(p[1])) != p[3]}
    other = {
        k for k, p in parts.items() if other_models and k not in stale and p[5] != current_model
    }
    store.text_cache.delete(sorted(stale | other))
    return len(stale), len(other)

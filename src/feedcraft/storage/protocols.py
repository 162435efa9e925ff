"""One narrow protocol per storage role. Every backend implements all of them, nothing more.

The contract test suite in tests/contract/ runs against every backend; a backend that needs a
method no protocol names has found a gap in the protocol, not a reason for a private extra.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np

from feedcraft.domain import Consent, Event, EventType, Item


@runtime_checkable
class Catalogue(Protocol):
    """Items by id. Upserts replace a stored item whole; a stub never replaces a full item.

    Deleting an item leaves a tombstone, so that events which still name it cannot bring it
    back as a stub; storing a full item with that id again is a deliberate re-add and clears it.
    """

    def upsert(self, items: Iterable[Item]) -> int:
        """Store items atomically (all or none); returns how many were inserted or changed.

        A full item clears its id's tombstone in the same transaction; a stub whose id has a
        tombstone is not stored (and not counted).
        """
        ...

    def get(self, item_id: str) -> Item:
        """The item; raises NotFound."""
        ...

    def get_many(self, item_ids: Sequence[str]) -> dict[str, Item]:
        """The items that exist among `item_ids` (missing ids are simply absent)."""
        ...

    def iter_items(self, *, include_stubs: bool = True) -> Iterator[Item]:
        """Every item, in id order, streamed."""
        ...

    def ids(self, *, include_stubs: bool = True) -> list[str]: ...

    def delete(self, item_ids: Sequence[str]) -> int:
        """Remove the items and, in the same transaction, record a tombstone for each one
        removed; returns how many were removed. Ids the catalogue does not hold are ignored
        (no tombstone: a typo must not block a future item)."""
        ...

    def deleted(self, item_ids: Sequence[str]) -> set[str]:
        """The ids among `item_ids` that have a tombstone: deleted and not stored again since."""
        ...

    def count(self, *, include_stubs: bool = True) -> int: ...


@runtime_checkable
class EventLog(Protocol):
    """Append-only behaviour log. `Event.id` is the idempotency key."""

    def append(self, events: Iterable[Event]) -> int:
        """Append atomically (all or none; durable once this returns).

        Returns how many were new: events whose id is already stored are skipped.
        """
        ...

    def iter_events(
        self,
        *,
        user_id: str | None = None,
        types: Sequence[EventType] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Event]:
        """Matching events in (timestamp, insertion) order, streamed. `until` is exclusive."""
        ...

    def user_items(
        self,
        user_id: str,
        *,
        types: Sequence[EventType] | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """The distinct item ids of a user's matching events, each placed by its first such
        event in (timestamp, insertion) order; with `limit`, only the last `limit` of them.

        Ids only, no Event objects: the feed reads a history on every request.
        """
        ...

    def user_ids(self) -> list[str]: ...

    def count(self) -> int: ...

    def delete_user(self, user_id: str) -> int:
        """Erase every event of a user; returns how many were removed."""
        ...


@dataclass(frozen=True, slots=True)
class Neighbour:
    id: str
    score: float


@runtime_checkable
class VectorStore(Protocol):
    """Dense vectors by (namespace, id); cosine k-nearest-neighbour search.

    Namespaces separate models and purposes, e.g. "items:minilm" or "cache:minilm".
    All vectors in a namespace share one dimension.
    """

    def upsert(self, namespace: str, ids: Sequence[str], vectors: np.ndarray) -> None: ...

    def get(self, namespace: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors that exist among `ids` (float32)."""
        ...

    def all(self, namespace: str) -> tuple[list[str], np.ndarray]:
        """Every id (sorted) and its vector, as one float32 matrix (0 x 0 when empty)."""
        ...

    def search(
        self,
        namespace: str,
        query: np.ndarray,
        k: int,
        *,
        exclude: Sequence[str] = (),
    ) -> list[Neighbour]:
        """The k ids with the highest cosine similarity to `query`, best first."""
        ...

    def delete(self, namespace: str, ids: Sequence[str]) -> int: ...

    def count(self, namespace: str) -> int: ...

    def version(self, namespace: str) -> int:
        """A counter that moves whenever the namespace's vectors change (0: never held any),
        so a reader can keep a copy and check it with one cheap lookup; a count would miss
        vectors replaced in place (an edited item embedded again)."""
        ...

    def namespaces(self) -> list[str]:
        """Every namespace holding at least one vector, sorted: deleting an item must reach
        its vectors under every model that embedded it, not only the one configured now."""
        ...


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """`sha256` is the hex digest of the bytes as saved: `load` checks them against it."""

    name: str
    version: int
    created_at: datetime
    size: int
    metadata: Mapping[str, Any] = field(default_factory=dict)
    sha256: str = ""


@runtime_checkable
class ArtifactStore(Protocol):
    """Versioned model blobs: each save makes version n+1; the newest is served by default."""

    def save(self, name: str, data: bytes, metadata: Mapping[str, Any] | None = None) -> int: ...

    def load(self, name: str, version: int | None = None) -> tuple[bytes, ArtifactInfo]:
        """The given version, or the newest; raises NotFound, or Unavailable when the bytes
        no longer match the checksum saved with them (a model is never unpickled from a
        damaged blob)."""
        ...

    def versions(self, name: str) -> list[ArtifactInfo]:
        """Oldest first."""
        ...

    def names(self, prefix: str = "") -> list[str]:
        """Every name starting with `prefix` that holds a version, sorted: an erasure must
        reach models saved under names this version of feedcraft no longer trains."""
        ...

    def delete(self, name: str, version: int) -> None:
        """Remove the version; raises NotFound. Nothing of its bytes may be left readable in
        the backend's files: a model rewritten without erased readers replaces its version
        by deleting it."""
        ...


@runtime_checkable
class Consents(Protocol):
    """Each reader's consent decisions (`Consent`) by user id: the latest, and their history."""

    def get(self, user_id: str) -> Consent | None:
        """The reader's decisions, or None when they made none."""
        ...

    def put(self, consent: Consent) -> None:
        """Store the reader's decisions, replacing any earlier ones whole, and add them to
        the reader's history (in the same transaction)."""
        ...

    def history(self, user_id: str) -> list[Consent]:
        """Every decision the reader made, oldest first (when they agreed to what)."""
        ...

    def delete(self, user_id: str) -> bool:
        """Erase the reader's record and history (False when there was none); nothing of
        them may be left readable in the backend's files."""
        ...

    def count(self) -> int: ...


class Store(Protocol):
    """The roles together, opened by URL with `open_store`."""

    url: str

    @property
    def catalogue(self) -> Catalogue: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def vectors(self) -> VectorStore: ...

    @property
    def artifacts(self) -> ArtifactStore: ...

    @property
    def text_cache(self) -> TextCache: ...

    @property
    def consents(self) -> Consents: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CachedText:
    key: str
    value: str
    created_at: datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class TextCache(Protocol):
    """Generated text by key: costly to make, cheap to make again, so losing it is safe.

    Keys are opaque strings built by the caller; related keys share a prefix so that one
    `delete_prefix` drops them together (every entry of an item, of a task, of a model).
    """

    def get(self, key: str) -> CachedText | None:
        """The entry, or None when absent."""
        ...

    def get_many(self, keys: Sequence[str]) -> dict[str, CachedText]:
        """The entries held of `keys`, absent ones left out, in one read (a feed asks for a
        summary of each of its items)."""
        ...

    def put(self, key: str, value: str, metadata: Mapping[str, Any] | None = None) -> None:
        """Store or replace the entry under `key`."""
        ...

    def delete(self, keys: Sequence[str]) -> int:
        """Remove the named entries; returns how many existed."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every entry whose key starts with `prefix`; returns how many."""
        ...

    def delete_prefixes(self, prefixes: Sequence[str]) -> int:
        """`delete_prefix` of each, as one erasure: nothing of the removed entries may be left
        readable in the backend's files (deleted items' texts); returns how many."""
        ...

    def count(self, prefix: str = "") -> int: ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with `prefix`, in sorted order, streamed (for pruning)."""
        ...

    def claim(self, key: str, owner: str, seconds: float) -> bool:
        """Take the writing of `key` for `seconds` unless another owner's claim on it has not
        lapsed; True when `owner` holds it now (a claim of its own is renewed). Processes that
        share the store and miss the same entry together run the model once: the others wait
        for the entry. A claim lapses by itself, so a process that dies holding one delays
        the others by `seconds` at most."""
        ...

    def release(self, key: str, owner: str) -> bool:
        """Give up `owner`'s claim on `key`; False when it held none (lapsed, or taken over)."""
        ...

    def holder(self, key: str) -> str | None:
        """The owner of `key`'s claim, or None when it is free (a lapsed claim is)."""
        ...

    def take_over(self, key: str, dead_owner: str, owner: str, seconds: float) -> bool:
        """Give `dead_owner`'s claim on `key` to `owner` for `seconds`, only if it is still
        `dead_owner`'s (compare-and-swap: of waiters that found its process gone, one takes
        it); False otherwise, and then nothing is claimed. A waiter that sees the owner's
        process gone need not wait for the claim to lapse."""
        ...

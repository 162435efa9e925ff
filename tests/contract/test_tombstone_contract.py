"""The catalogue's tombstones, on every backend: a deleted id stays deleted against stubs (what
events create) and is restored only by storing the full item again."""

from __future__ import annotations

import pytest

from feedcraft.domain import Item
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.storage import Store


def article(item_id: str, title: str = "Harbour bridge reopens after repairs") -> Item:
    return Item(id=item_id, title=title, body="Traffic returns to the bridge.", category="news")


def stub(item_id: str) -> Item:
    return Item(id=item_id, title="", stub=True)


def test_delete_tombstones_exactly_the_ids_it_removed(store: Store) -> None:
    store.catalogue.upsert([article("n-1"), article("n-2"), stub("n-3")])

    assert store.catalogue.delete(["n-1", "n-3", "never-stored", "n-1"]) == 2

    assert store.catalogue.deleted(["n-1", "n-2", "n-3", "never-stored"]) == {"n-1", "n-3"}
    assert store.catalogue.ids() == ["n-2"]
    assert store.catalogue.deleted([]) == set()


def test_deleting_again_removes_nothing_and_keeps_the_tombstone(store: Store) -> None:
    store.catalogue.upsert([article("n-1")])
    assert store.catalogue.delete(["n-1"]) == 1
    assert store.catalogue.delete(["n-1"]) == 0
    assert store.catalogue.deleted(["n-1"]) == {"n-1"}


def test_a_stub_never_brings_a_deleted_item_back(store: Store) -> None:
    store.catalogue.upsert([article("n-1"), article("n-2")])
    store.catalogue.delete(["n-1"])

    assert store.catalogue.upsert([stub("n-1"), stub("n-9")]) == 1  # only the unknown id

    with pytest.raises(NotFound, match="n-1"):
        store.catalogue.get("n-1")
    assert store.catalogue.ids() == ["n-2", "n-9"]
    assert store.catalogue.deleted(["n-1", "n-9"]) == {"n-1"}


def test_storing_the_full_item_again_restores_it(store: Store) -> None:
    store.catalogue.upsert([article("n-1", "Old headline")])
    store.catalogue.delete(["n-1"])
    restored = article("n-1", "Corrected headline")

    assert store.catalogue.upsert([restored]) == 1

    assert store.catalogue.get("n-1") == restored
    assert store.catalogue.deleted(["n-1"]) == set()
    assert store.catalogue.upsert([stub("n-1")]) == 0  # and a stub still never replaces it
    assert store.catalogue.get("n-1") == restored


def test_one_upsert_restores_full_items_and_drops_stubs_of_deleted_ids(store: Store) -> None:
    store.catalogue.upsert([article("n-1"), article("n-2"), article("n-3")])
    store.catalogue.delete(["n-1", "n-2", "n-3"])

    written = store.catalogue.upsert([stub("n-1"), article("n-1"), stub("n-2"), stub("n-4")])

    assert written == 2  # n-1 restored, n-4 new; n-2 stays deleted
    assert store.catalogue.ids() == ["n-1", "n-4"]
    assert not store.catalogue.get("n-1").stub
    assert store.catalogue.deleted(["n-1", "n-2", "n-3", "n-4"]) == {"n-2", "n-3"}


def test_a_failed_upsert_keeps_the_tombstone(store: Store) -> None:
    store.catalogue.upsert([article("n-1")])
    store.catalogue.delete(["n-1"])
    bad = Item(id="n-2", title="Bad", tags=("ok", 7))  # type: ignore[arg-type]

    with pytest.raises(InvalidInput, match="tags"):
        store.catalogue.upsert([article("n-1"), bad])

    assert store.catalogue.deleted(["n-1"]) == {"n-1"}
    assert store.catalogue.count() == 0


def test_tombstones_of_many_ids(store: Store) -> None:
    """More ids than any one statement takes: the backend must split them, losing none."""
    ids = [f"n-{i:05d}" for i in range(2_345)]
    store.catalogue.upsert(article(i) for i in ids)

    assert store.catalogue.delete(ids[::2]) == len(ids[::2])

    assert store.catalogue.deleted(ids) == set(ids[::2])
    assert store.catalogue.upsert(stub(i) for i in ids) == 0
    assert store.catalogue.count() == len(ids[1::2])
    assert store.catalogue.upsert(article(i) for i in ids[::2]) == len(ids[::2])
    assert store.catalogue.deleted(ids) == set()

"""The text-cache contract: every backend's `text_cache` role, tested only through the protocol."""

from __future__ import annotations

import threading
import time

import pytest

from feedcraft.errors import InvalidInput
from feedcraft.storage import Store
from feedcraft.storage.protocols import TextCache


def test_store_has_a_text_cache(store: Store) -> None:
    assert isinstance(store.text_cache, TextCache)


def test_get_of_a_missing_key_is_none(store: Store) -> None:
    assert store.text_cache.get("summary/none") is None
    assert store.text_cache.count() == 0


def test_put_then_get_round_trips_text_and_metadata(store: Store) -> None:
    cache = store.text_cache
    cache.put("summary/a/1", "Rain shut two roads. 中文也可以。", {"backend": "smollm2", "n": 2})
    got = cache.get("summary/a/1")
    assert got is not None
    assert got.key == "summary/a/1"
    assert got.value == "Rain shut two roads. 中文也可以。"
    assert dict(got.metadata) == {"backend": "smollm2", "n": 2}
    assert got.created_at.tzinfo is not None


def test_put_replaces_the_entry(store: Store) -> None:
    cache = store.text_cache
    cache.put("k", "old", {"v": 1})
    cache.put("k", "new")
    got = cache.get("k")
    assert got is not None and got.value == "new" and dict(got.metadata) == {}
    assert cache.count() == 1


def test_delete_removes_named_keys_and_counts_only_existing(store: Store) -> None:
    cache = store.text_cache
    for key in ("a", "b", "c"):
        cache.put(key, key.upper())
    assert cache.delete(["a", "c", "missing", "a"]) == 2
    assert cache.get("a") is None and cache.get("c") is None
    assert cache.get("b") is not None
    assert cache.delete([]) == 0


def test_delete_prefix_and_count_prefix(store: Store) -> None:
    cache = store.text_cache
    cache.put("summary/item-1/x", "1")
    cache.put("summary/item-1/y", "2")
    cache.put("summary/item-10/x", "3")
    cache.put("headlines/item-1/x", "4")
    assert cache.count("summary/item-1/") == 2
    assert cache.count("summary/") == 3
    assert cache.count() == 4
    assert cache.delete_prefix("summary/item-1/") == 2
    assert cache.count() == 2
    assert cache.get("summary/item-10/x") is not None


def test_keys_are_listed_sorted_by_prefix_across_pages(store: Store) -> None:
    cache = store.text_cache
    wanted = [f"summary/item-{i:04d}/x" for i in range(2_345)]  # more than one page
    for key in reversed(wanted):
        cache.put(key, "t")
    cache.put("headlines/item-1/x", "t")
    assert list(cache.keys("summary/")) == wanted
    assert list(cache.keys()) == ["headlines/item-1/x", *wanted]
    assert list(cache.keys("summary/item-0001/")) == ["summary/item-0001/x"]
    assert list(cache.keys("nothing/")) == []
    listed = cache.keys("summary/")  # deleting while listing neither skips nor repeats a key
    seen = [next(listed) for _ in range(1_500)]
    cache.delete(seen)
    assert seen + list(listed) == wanted


def test_prefix_is_literal_not_a_pattern(store: Store) -> None:
    cache = store.text_cache
    cache.put("a%b", "1")
    cache.put("axb", "2")
    cache.put("a_c", "3")
    assert cache.count("a%") == 1
    assert cache.count("a_") == 1
    assert cache.delete_prefix("a%") == 1
    assert cache.get("axb") is not None


@pytest.mark.parametrize("key", ["", None, 3])
def test_bad_keys_are_invalid_input(store: Store, key: object) -> None:
    with pytest.raises(InvalidInput):
        store.text_cache.put(key, "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        store.text_cache.get(key)  # type: ignore[arg-type]


def test_bad_values_and_metadata_are_invalid_input(store: Store) -> None:
    with pytest.raises(InvalidInput):
        store.text_cache.put("k", b"bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        store.text_cache.put("k", "v", {"x": object()})
    with pytest.raises(InvalidInput):
        store.text_cache.delete("k")
    with pytest.raises(InvalidInput):
        store.text_cache.delete_prefix("")
    assert store.text_cache.count() == 0


def test_get_many_returns_the_entries_held_and_leaves_out_the_rest(store: Store) -> None:
    cache = store.text_cache
    cache.put("summary/a", "Rain shut two roads.", {"n": 1})
    cache.put("summary/b", "风暴导致航班取消。")
    cache.put("summary/c", "not asked for")
    got = cache.get_many(["summary/b", "summary/missing", "summary/a", "summary/b"])
    assert sorted(got) == ["summary/a", "summary/b"]
    assert got["summary/a"].value == "Rain shut two roads." and dict(got["summary/a"].metadata)
    assert got["summary/b"].value == "风暴导致航班取消。"
    assert cache.get_many([]) == {}
    many = [f"k/{i:04d}" for i in range(1_200)]  # more keys than one query binds
    for key in many[::3]:
        cache.put(key, key)
    assert sorted(cache.get_many(many)) == many[::3]


def test_get_many_refuses_a_bare_string_and_empty_keys(store: Store) -> None:
    with pytest.raises(InvalidInput):
        store.text_cache.get_many("summary/a")
    with pytest.raises(InvalidInput):
        store.text_cache.get_many(["summary/a", ""])


# Keys at the edges of the code point order, where a prefix's upper bound is found by
# increasing its last character: the largest code point, and either side of the surrogates
# (which no string holds).
EDGE_KEYS = [
    "a",
    "a/",
    "a/x",
    "a0",
    "a\ud7ff",
    "a\ud7ffz",
    "a\ue000",
    "a\U0010ffff",
    "a\U0010ffffz",
    "a\U0010ffff\U0010ffff",
    "b",
    "\U0010ffff",
    "\U0010ffffq",
    "\U0010ffff\U0010ffff",
]


@pytest.mark.parametrize(
    "prefix", ["a", "a/", "a\ud7ff", "a\U0010ffff", "\U0010ffff", "\U0010ffff\U0010ffff", "z"]
)
def test_prefixes_at_the_edges_of_unicode(store: Store, prefix: str) -> None:
    cache = store.text_cache
    for key in EDGE_KEYS:
        cache.put(key, "t")
    wanted = sorted(k for k in EDGE_KEYS if k.startswith(prefix))
    assert list(cache.keys(prefix)) == wanted
    assert cache.count(prefix) == len(wanted)
    assert cache.delete_prefix(prefix) == len(wanted)
    assert sorted(cache.keys()) == sorted(k for k in EDGE_KEYS if not k.startswith(prefix))


# ------------------------------------------------------------------ claims


def test_a_claim_is_refused_to_another_owner_until_released(store: Store) -> None:
    cache = store.text_cache
    assert cache.claim("summary/a/1", "host/1/a", 60) is True
    assert cache.claim("summary/a/1", "host/2/b", 60) is False
    assert cache.claim("summary/a/2", "host/2/b", 60) is True  # other keys are free
    assert cache.release("summary/a/1", "host/2/b") is False  # not b's to give up
    assert cache.claim("summary/a/1", "host/2/b", 60) is False
    assert cache.release("summary/a/1", "host/1/a") is True
    assert cache.release("summary/a/1", "host/1/a") is False  # gone already
    assert cache.claim("summary/a/1", "host/2/b", 60) is True


def test_an_owner_renews_its_own_claim(store: Store) -> None:
    cache = store.text_cache
    assert cache.claim("k", "a", 0.2) is True
    assert cache.claim("k", "a", 60) is True  # renewed for a minute from now
    time.sleep(0.3)
    assert cache.claim("k", "b", 60) is False


def test_a_lapsed_claim_is_taken_over(store: Store) -> None:
    """A claimant that died holding a claim delays the others by its seconds, no more."""
    cache = store.text_cache
    assert cache.claim("k", "dead", 0.2) is True
    assert cache.claim("k", "alive", 60) is False
    time.sleep(0.3)
    assert cache.claim("k", "alive", 60) is True
    assert cache.release("k", "dead") is False  # the dead owner cannot free the new claim
    assert cache.claim("k", "dead", 60) is False


def test_claims_are_not_entries(store: Store) -> None:
    cache = store.text_cache
    cache.claim("summary/a/1", "a", 60)
    assert cache.get("summary/a/1") is None
    assert cache.count() == 0 and list(cache.keys()) == []


def test_erasing_a_prefix_drops_its_claims(store: Store) -> None:
    cache = store.text_cache
    cache.claim("summary/item-1/x", "a", 60)
    cache.claim("summary/item-10/x", "a", 60)
    cache.delete_prefixes(["summary/item-1/"])
    assert cache.claim("summary/item-1/x", "b", 60) is True
    assert cache.claim("summary/item-10/x", "b", 60) is False


def test_holder_names_the_owner_of_a_live_claim(store: Store) -> None:
    cache = store.text_cache
    assert cache.holder("k") is None
    assert cache.claim("k", "a", 0.2) is True
    assert cache.holder("k") == "a" and cache.holder("k2") is None
    time.sleep(0.3)
    assert cache.holder("k") is None  # lapsed: free to claim
    assert cache.claim("k", "b", 60) is True and cache.release("k", "b") is True
    assert cache.holder("k") is None


def test_a_claim_is_taken_over_only_from_the_owner_named(store: Store) -> None:
    """Compare-and-swap: the owner a waiter found dead, or nothing (a claim meanwhile
    released, lapsed and retaken, or erased is not taken)."""
    cache = store.text_cache
    assert cache.take_over("k", "dead", "next", 60) is False  # not claimed: not taken
    assert cache.holder("k") is None
    assert cache.claim("k", "dead", 60) is True
    assert cache.take_over("k", "other", "next", 60) is False  # not other's
    assert cache.take_over("k", "dead", "next", 60) is True
    assert cache.holder("k") == "next"
    assert cache.take_over("k", "dead", "late", 60) is False  # taken already
    assert cache.release("k", "dead") is False and cache.claim("k", "dead", 60) is False
    assert cache.claim("k", "next", 60) is True  # the taker's own claim, renewed
    cache.delete_prefixes(["k"])
    assert cache.take_over("k", "next", "late", 60) is False  # erased with its prefix


def test_a_taken_over_claim_lasts_the_takers_seconds(store: Store) -> None:
    cache = store.text_cache
    assert cache.claim("k", "dead", 60) is True
    assert cache.take_over("k", "dead", "next", 0.2) is True
    assert cache.claim("k", "b", 60) is False
    time.sleep(0.3)
    assert cache.claim("k", "b", 60) is True


def test_of_takers_racing_for_one_claim_one_wins(store: Store) -> None:
    cache = store.text_cache
    assert cache.claim("k", "dead", 60) is True
    start = threading.Barrier(8)
    won: list[str] = []

    def take(name: str) -> None:
        start.wait()
        if cache.take_over("k", "dead", name, 60):
            won.append(name)

    threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1 and cache.holder("k") == won[0]


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), 86_401, True, "60"])
def test_a_claim_needs_positive_bounded_seconds(store: Store, seconds: object) -> None:
    with pytest.raises(InvalidInput) as err:
        store.text_cache.claim("k", "a", seconds)  # type: ignore[arg-type]
    assert err.value.field == "seconds"
    store.text_cache.claim("k", "a", 60)
    with pytest.raises(InvalidInput) as err:
        store.text_cache.take_over("k", "a", "b", seconds)  # type: ignore[arg-type]
    assert err.value.field == "seconds"
    assert store.text_cache.holder("k") == "a"


@pytest.mark.parametrize(("key", "owner", "field"), [("", "a", "key"), ("k", "", "owner")])
def test_a_claim_needs_a_key_and_an_owner(store: Store, key: str, owner: str, field: str) -> None:
    for call in (
        lambda: store.text_cache.claim(key, owner, 60),
        lambda: store.text_cache.release(key, owner),
        lambda: store.text_cache.take_over(key, "x", owner, 60),
    ):
        with pytest.raises(InvalidInput) as err:
            call()
        assert err.value.field == field

"""Versioned models: every training run saves version n+1; the newest is what feeds serve."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from movielens_ratings import write_ratings

from feedcraft.config import Settings
from feedcraft.domain import Event, EventType
from feedcraft.errors import Conflict, InvalidInput, Unavailable
from feedcraft.recommenders import RECOMMENDERS
from feedcraft.services.models import (
    KEEP_VERSIONS,
    ModelCache,
    artifact_name,
    load_model,
    rollback,
)
from feedcraft.services.recommend import FeedService
from feedcraft.services.training import MODEL_NAMES, train
from feedcraft.storage import Store

N_RATINGS = 2000


@pytest.fixture
def ratings_store(store: Store, shared_path: Callable[[str], Path]) -> Store:
    """The first 2,000 real MovieLens ratings and their movies, written through the store."""
    return write_ratings(store, shared_path("movielens-latest-small"), N_RATINGS)


def test_training_twice_serves_version_2(ratings_store: Store, settings: Settings) -> None:
    feeds = FeedService(ratings_store, settings, "hashing-256")
    with pytest.raises(Unavailable, match="feedcraft train"):
        feeds.feed("1", 5)

    reports = train(ratings_store, settings, models=["popularity", "itemknn"], progress=False)
    assert [(r.model, r.version) for r in reports] == [("popularity", 1), ("itemknn", 1)]
    first = feeds.feed("1", 5, "itemknn")
    assert first.model == "itemknn@v1" and len(first.entries) == 5

    # a new user arrives, then the models are trained again
    t = datetime(2024, 5, 1, tzinfo=UTC)
    ratings_store.events.append(
        Event("new-user", item, EventType.CLICK, t) for item in ("1", "260", "1196")
    )
    reports = train(ratings_store, settings, models=["itemknn"], progress=False)
    assert [(r.model, r.version) for r in reports] == [("itemknn", 2)]
    assert reports[0].users == len(ratings_store.events.user_ids())  # with new-user

    second = feeds.feed("1", 5, "itemknn")  # the same service instance: its cache reloads
    assert second.model == "itemknn@v2"
    assert feeds.feed("1", 5, "popularity").model == "popularity@v1"  # not retrained
    versions = ratings_store.artifacts.versions(artifact_name("itemknn"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].metadata["users"] == versions[0].metadata["users"] + 1
    assert versions[1].metadata["interactions"] == versions[0].metadata["interactions"] + 3

    # the old version is still there, and really is the old model
    old, info = load_model(ratings_store, "itemknn", 1)
    assert info.version == 1 and "new-user" not in old.interactions_.users  # type: ignore[attr-defined]
    new, info = load_model(ratings_store, "itemknn")
    assert info.version == 2 and "new-user" in new.interactions_.users  # type: ignore[attr-defined]


def test_model_cache_reloads_only_when_a_newer_version_is_saved(
    ratings_store: Store, settings: Settings
) -> None:
    train(ratings_store, settings, models=["popularity"], progress=False)
    cache = ModelCache(ratings_store)
    model, info = cache.get("popularity")
    again, info_again = cache.get("popularity")
    assert again is model and info_again.version == info.version == 1  # no reload

    train(ratings_store, settings, models=["popularity"], progress=False)
    newer, newer_info = cache.get("popularity")
    assert newer_info.version == 2 and newer is not model
    assert cache.get("popularity")[0] is newer

    with pytest.raises(Unavailable, match="no trained 'itemknn' model"):
        cache.get("itemknn")


def test_unknown_model_is_invalid_input_naming_the_valid_ones(
    ratings_store: Store, settings: Settings
) -> None:
    feeds = FeedService(ratings_store, settings, "hashing-256")
    # before any training too: a typo is the caller's mistake, not a missing model
    with pytest.raises(InvalidInput, match="model") as excinfo:
        feeds.feed("1", 5, "itemcf")
    message = str(excinfo.value)
    assert excinfo.value.field == "model"
    for name in ("popularity", "itemknn", "content", "random"):
        assert name in message


def test_training_saves_metadata_of_what_it_saw(ratings_store: Store, settings: Settings) -> None:
    reports = train(ratings_store, settings, progress=False)
    assert {r.model for r in reports} == set(MODEL_NAMES)
    users = len(ratings_store.events.user_ids())
    for r in reports:
        assert (r.users, r.items, r.interactions) == (
            users,
            ratings_store.catalogue.count(),
            N_RATINGS,
        )
        meta = ratings_store.artifacts.versions(artifact_name(r.model))[-1].metadata
        assert meta["users"] == users and meta["interactions"] == N_RATINGS
        assert datetime.fromisoformat(meta["trained_at"]).tzinfo is not None
        needs_vectors = RECOMMENDERS[r.model].needs_item_vectors
        assert meta["encoder"] == ("hashing-256" if needs_vectors else None)


def test_old_versions_are_pruned_and_rollback_serves_the_previous(
    ratings_store: Store, settings: Settings
) -> None:
    for _ in range(KEEP_VERSIONS + 1):
        train(ratings_store, settings, models=["popularity"], progress=False)
    versions = [v.version for v in ratings_store.artifacts.versions(artifact_name("popularity"))]
    assert versions == list(range(2, KEEP_VERSIONS + 2))  # v1 pruned
    feeds = FeedService(ratings_store, settings, "hashing-256")
    assert feeds.feed("1", 5, "popularity").model == f"popularity@v{KEEP_VERSIONS + 1}"
    previous = rollback(ratings_store, "popularity")
    assert previous.version == KEEP_VERSIONS
    assert feeds.feed("1", 5, "popularity").model == f"popularity@v{KEEP_VERSIONS}"
    rollback(ratings_store, "popularity")
    with pytest.raises(Conflict, match="at least two"):
        rollback(ratings_store, "popularity")


def test_model_cache_settles_the_heap_after_preparing_a_model(
    ratings_store: Store, settings: Settings
) -> None:
    """The cache's `settle_heap`: the load's cyclic garbage is gone once the model is ready."""

    class Node:
        other: object = None

    def cycle() -> weakref.ref[Node]:
        a = Node()
        a.other = a
        return weakref.ref(a)

    train(ratings_store, settings, models=["itemknn"], progress=False)
    gc.disable()
    try:
        garbage = cycle()
        cache = ModelCache(ratings_store, settle_heap=True)
        cache.get("itemknn")
        cache.preparing["recommender:itemknn"].join(timeout=60)
        assert garbage() is None and gc.get_freeze_count() > 0

        garbage = cycle()
        plain = ModelCache(ratings_store)  # the default: the heap is left alone
        plain.get("itemknn")
        plain.preparing["recommender:itemknn"].join(timeout=60)
        assert garbage() is not None
    finally:
        gc.unfreeze()
        gc.enable()


class _Planted:
    """An artifact someone else wrote into the store: unpickling it would call getenv."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.getenv, ("HOME",)


def test_an_artifact_that_names_other_code_is_refused_by_name(ratings_store: Store) -> None:
    import pickle

    ratings_store.artifacts.save(artifact_name("itemknn"), pickle.dumps(_Planted()), {})
    with pytest.raises(Unavailable, match=r"recommender:itemknn v1 is refused: refused os\.getenv"):
        load_model(ratings_store, "itemknn")


def test_model_cache_clear_drops_what_it_holds(ratings_store: Store, settings: Settings) -> None:
    train(ratings_store, settings, models=["popularity"], progress=False)
    cache = ModelCache(ratings_store)
    model, _ = cache.get("popularity")
    ref = weakref.ref(model)
    del model
    cache.clear()
    for thread in cache.preparing.values():
        thread.join()
    gc.collect()
    assert ref() is None  # no copy left in this process
    again, info = cache.get("popularity")
    assert again is not ref()
    assert info.version == 1

"""Erasing readers on a real SQLite store: real MovieLens ratings, real trained models.

Reader ids are written as "reader-<id>~" so that a byte search of a pickle or of the database
files finds them only where they really are.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from movielens_ratings import write_ratings

from feedcraft.config import Settings
from feedcraft.errors import InvalidInput
from feedcraft.services import erasure, training
from feedcraft.services.erasure import erase_users
from feedcraft.services.models import artifact_name, load_model
from feedcraft.services.recommend import FeedService
from feedcraft.services.training import train
from feedcraft.storage import Store

N_RATINGS = 2000
MODELS = ["popularity", "itemknn", "content", "ease"]
GONE = ["reader-1~", "reader-4~"]
STAYS = "reader-5~"


@pytest.fixture
def ratings_store(store: Store, shared_path: Callable[[str], Path]) -> Store:
    source = shared_path("movielens-latest-small")
    return write_ratings(store, source, N_RATINGS, lambda u: f"reader-{u}~")


def _files(settings: Settings) -> bytes:
    db = Path(settings.store.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_erased_readers_are_in_no_event_no_model_version_and_no_file(
    ratings_store: Store, settings: Settings
) -> None:
    store = ratings_store
    theirs = sum(1 for u in GONE for _ in store.events.iter_events(user_id=u))
    train(store, settings, models=MODELS, progress=False)
    train(store, settings, models=MODELS[:2], progress=False)  # two versions of some
    feeds = FeedService(store, settings, "hashing-256")
    cold = {m: feeds.feed("reader-never~", 8, m) for m in MODELS}
    assert all(feeds.feed(GONE[0], 8, m).entries != cold[m].entries for m in MODELS[1:])
    assert all(u.encode() in _files(settings) for u in GONE)
    stays_feed = feeds.feed(STAYS, 8, "itemknn")

    report = erase_users(store, [*GONE, "reader-never~"])

    assert report.users == (*GONE, "reader-never~")
    assert report.events == theirs > 0
    assert report.models == {
        "popularity": {1: 3, 2: 4},
        "itemknn": {1: 3, 2: 4},
        "content": {1: 2},
        "ease": {1: 2},
    }
    assert report.unreadable == ()
    assert "2 model versions" not in report.summary() and "6 model versions" in report.summary()
    for name in MODELS:
        versions = store.artifacts.versions(artifact_name(name))
        for info in versions:
            assert info.metadata["erased_readers"] == 2
            blob, _ = store.artifacts.load(artifact_name(name), info.version)
            assert not [u for u in GONE if u.encode() in blob]
            assert STAYS.encode() in blob
        model, _ = load_model(store, name)
        assert STAYS in model.interactions_.users  # type: ignore[attr-defined]
    raw = _files(settings)
    assert not [u for u in GONE if u.encode() in raw]
    assert STAYS.encode() in raw
    assert list(store.events.iter_events(user_id=GONE[0])) == []
    # served as a reader never seen; the others as before
    for name in MODELS:
        assert feeds.feed(GONE[0], 8, name).entries == cold[name].entries
    assert feeds.feed(STAYS, 8, "itemknn").entries == stays_feed.entries

    again = erase_users(store, GONE)
    assert (again.events, again.models, again.unreadable) == (0, {}, ())


def test_a_version_that_cannot_be_read_is_deleted_not_kept(
    ratings_store: Store, settings: Settings
) -> None:
    train(ratings_store, settings, models=["popularity"], progress=False)
    ratings_store.artifacts.save(artifact_name("popularity"), b"not a pickle naming reader-1~")
    report = erase_users(ratings_store, ["reader-1~"])
    assert report.unreadable == ("popularity v2",)
    assert report.models == {"popularity": {1: 3}}
    assert [v.version for v in ratings_store.artifacts.versions(artifact_name("popularity"))] == [3]
    assert b"reader-1~" not in _files(settings)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ("reader-1~", "must be a list of user ids, got str"),
        ([], "at least one user id"),
        (["ok", " "], "element 1 must be a non-empty string"),
        (["ok", 7], "element 1 must be a non-empty string, got 7"),
        (["x" * 257], "element 0 is 257 characters"),
    ],
)
def test_bad_ids_are_refused_before_anything_is_erased(
    ratings_store: Store, ids: object, message: str
) -> None:
    count = ratings_store.events.count()
    with pytest.raises(InvalidInput, match=message) as excinfo:
        erase_users(ratings_store, ids)  # type: ignore[arg-type]
    assert excinfo.value.field == "user_ids"
    assert ratings_store.events.count() == count


def test_a_reader_erased_while_models_fit_is_not_saved_with_them(
    ratings_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The erasure arrives after training read the events and before it saves (a real
    erasure, at that moment): the saved models must not know the reader."""
    real_fit = training.fit_models

    def fit_then_erase(*args: Any, **kwargs: Any) -> Any:
        fitted = real_fit(*args, **kwargs)
        assert erase_users(ratings_store, [GONE[0]]).models == {}  # nothing saved yet
        return fitted

    monkeypatch.setattr(training, "fit_models", fit_then_erase)
    train(ratings_store, settings, models=["itemknn", "ease"], progress=False)
    for name in ("itemknn", "ease"):
        blob, _ = ratings_store.artifacts.load(artifact_name(name))
        assert GONE[0].encode() not in blob and GONE[1].encode() in blob


def test_models_no_longer_trained_are_reached_too(ratings_store: Store, settings: Settings) -> None:
    """A model saved under a name this feedcraft does not train (a retired one) is rewritten;
    a version whose pickle names a type that is no model is deleted as unreadable."""
    train(ratings_store, settings, models=["popularity"], progress=False)
    blob, _ = ratings_store.artifacts.load(artifact_name("popularity"))
    ratings_store.artifacts.save(artifact_name("retired"), blob)
    ratings_store.artifacts.save(artifact_name("retired"), pickle.dumps(Path("reader-1~")))
    report = erase_users(ratings_store, ["reader-1~"])
    assert report.models == {"popularity": {1: 2}, "retired": {1: 3}}
    assert report.unreadable == ("retired v2",)
    assert b"reader-1~" not in _files(settings)


def test_an_old_version_under_a_newer_one_without_them_is_deleted_not_served_again(
    ratings_store: Store, settings: Settings
) -> None:
    """Their events went another way (here: the event log's own erasure), a model was trained
    without them, then the reader is erased: the old version that knew them is dropped, not
    rewritten as the newest (which would serve the old model again)."""
    train(ratings_store, settings, models=["itemknn"], progress=False)
    ratings_store.events.delete_user(GONE[0])
    train(ratings_store, settings, models=["itemknn"], progress=False)
    report = erase_users(ratings_store, [GONE[0]])
    assert (report.models, report.dropped) == ({}, ("itemknn v1",))
    assert "deleted under a newer version without them: itemknn v1" in report.summary()
    assert [v.version for v in ratings_store.artifacts.versions(artifact_name("itemknn"))] == [2]
    assert GONE[0].encode() not in _files(settings)


def test_a_version_trained_during_the_erasure_stays_the_newest(
    ratings_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training run saves a model (without the reader: their events are gone) while the
    erasure is checking the old one: the old one's rewrite must not be saved over it."""
    train(ratings_store, settings, models=["itemknn"], progress=False)
    real_load = erasure.load_model
    trained_meanwhile: list[int] = []

    def load_then_train(*args: Any, **kwargs: Any) -> Any:
        loaded = real_load(*args, **kwargs)
        if not trained_meanwhile:
            reports = train(ratings_store, settings, models=["itemknn"], progress=False)
            trained_meanwhile.append(reports[0].version)
        return loaded

    monkeypatch.setattr(erasure, "load_model", load_then_train)
    report = erase_users(ratings_store, [GONE[0]])
    assert trained_meanwhile == [2]
    assert (report.models, report.dropped) == ({}, ("itemknn v1",))
    stored = ratings_store.artifacts.versions(artifact_name("itemknn"))
    assert [v.version for v in stored] == [2]  # the fresh model is served
    assert GONE[0].encode() not in ratings_store.artifacts.load(artifact_name("itemknn"))[0]

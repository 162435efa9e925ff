"""Deleting items on a real SQLite store holding the bundled Wikinews articles.

Vectors come from two real (hashing) encoders, generated texts from the extractive
generator, feeds from a popularity model trained on reading events: every store role a
deletion must reach holds real entries for the deleted items and for the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedcraft.config import Settings
from feedcraft.domain import Event, EventType, Item
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.services.embedding import cache_namespace, embed_catalogue, items_namespace
from feedcraft.services.generation import GenerationService
from feedcraft.services.ingestion import append_events_with_stubs, import_jsonl
from feedcraft.services.items import DeleteReport, delete_items
from feedcraft.services.recommend import FeedService
from feedcraft.services.training import train
from feedcraft.storage import Store

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
SMALL, LARGE = HashingEncoder(64), HashingEncoder(256)
GONE, KEPT = "wikinews-004", "wikinews-005"


@pytest.fixture
def extractive(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"backend": "extractive"})}
    )


@pytest.fixture
def loaded(store: Store, wikinews_dir: Path) -> Store:
    """Wikinews imported and embedded by two encoders (two item namespaces, two caches)."""
    import_jsonl(store, wikinews_dir, progress=False)
    for encoder in (SMALL, LARGE):
        embed_catalogue(store, encoder, progress=False)
    return store


def generate(store: Store, settings: Settings, item_ids: Sequence[str]) -> GenerationService:
    service = GenerationService(store, settings, LARGE)
    for item_id in item_ids:
        service.summary(item_id)
        service.headlines(item_id, n=2)
    return service


def read(store: Store, user: str, items: Sequence[str], start: int = 0) -> None:
    store.events.append(
        Event(user, item, EventType.CLICK, T0 + timedelta(minutes=start + i))
        for i, item in enumerate(items)
    )


def test_removes_catalogue_vectors_and_texts_and_only_those(
    loaded: Store, extractive: Settings
) -> None:
    store = loaded
    generate(store, extractive, [GONE, KEPT])
    texts_before = store.text_cache.count()
    items_before = store.catalogue.count()
    read(store, "ann", [GONE, KEPT])
    spaces = [items_namespace(SMALL), items_namespace(LARGE)]

    report = delete_items(store, [GONE])

    assert report == DeleteReport(deleted=(GONE,), not_found=(), vectors=2, texts=2)
    assert store.catalogue.get_many([GONE, KEPT]).keys() == {KEPT}
    with pytest.raises(NotFound):
        store.catalogue.get(GONE)
    for ns in spaces:
        assert store.vectors.get(ns, [GONE, KEPT]).keys() == {KEPT}
        assert store.vectors.count(ns) == items_before - 1
        assert GONE not in store.vectors.all(ns)[0]
    assert store.catalogue.count() == items_before - 1
    assert store.text_cache.count() == texts_before - 2
    # the other item's texts are still served from the cache; the deleted one is unknown
    service = GenerationService(store, extractive, LARGE)
    assert service.summary(KEPT).cache_hit
    with pytest.raises(NotFound):
        service.summary(GONE)
    # events are behaviour: kept
    assert store.events.user_items("ann") == [GONE, KEPT]
    assert store.events.count() == 2


def test_content_hash_caches_name_no_item_and_stay(loaded: Store) -> None:
    caches = {
        ns: loaded.vectors.count(ns) for ns in (cache_namespace(SMALL), cache_namespace(LARGE))
    }
    assert all(caches.values())
    delete_items(loaded, [GONE])
    assert {ns: loaded.vectors.count(ns) for ns in caches} == caches


def test_unknown_ids_are_reported_and_the_others_deleted(loaded: Store) -> None:
    report = delete_items(loaded, ["nope", GONE, "also-missing", GONE])
    assert report.deleted == (GONE,)
    assert report.not_found == ("nope", "also-missing")
    assert report.vectors == 2 and report.texts == 0
    assert "not found: nope, also-missing" in report.summary()
    assert loaded.catalogue.get_many([GONE]) == {}


def test_deleting_again_reports_not_found_and_removes_leftovers(loaded: Store) -> None:
    """A deletion that stopped after the catalogue is finished by running it again."""
    loaded.catalogue.delete([GONE])  # as if the process died right after the first step
    report = delete_items(loaded, [GONE])
    assert report.deleted == () and report.not_found == (GONE,)
    assert report.vectors == 2
    assert delete_items(loaded, [GONE]) == DeleteReport((), (GONE,), 0, 0)


def test_many_items_and_a_stub(loaded: Store) -> None:
    full = loaded.catalogue.count()
    append_events_with_stubs(loaded, [Event("bob", "only-an-event", EventType.CLICK, T0)])
    assert loaded.catalogue.get("only-an-event").stub
    ids = [*loaded.catalogue.ids(include_stubs=False)[:40], "only-an-event"]
    report = delete_items(loaded, ids)
    assert report.deleted == tuple(ids) and report.not_found == ()
    assert report.vectors == 2 * 40  # a stub was never embedded
    assert loaded.catalogue.count() == full - 40
    assert all(loaded.vectors.count(items_namespace(e)) == full - 40 for e in (SMALL, LARGE))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], "at least one"),
        ((), "at least one"),
        ("wikinews-004", "list of item ids"),
        (None, "list of item ids"),
        ({"wikinews-004"}, "list of item ids"),
        (["wikinews-004", ""], "element 1"),
        (["wikinews-004", "  "], "element 1"),
        ([4], "element 0"),
    ],
)
def test_bad_input_names_the_field_and_deletes_nothing(
    loaded: Store, bad: object, message: str
) -> None:
    before = loaded.catalogue.count()
    with pytest.raises(InvalidInput, match=message) as caught:
        delete_items(loaded, bad)  # type: ignore[arg-type]
    assert caught.value.field == "item_ids"
    assert loaded.catalogue.count() == before


def test_a_trained_model_never_serves_a_deleted_item(loaded: Store, settings: Settings) -> None:
    """Popularity, trained before the deletion, still ranks the item first; the feed drops it
    and still fills every slot."""
    store = loaded
    ids = store.catalogue.ids(include_stubs=False)
    # real reading events: readers 0..29 each read the first articles, GONE most of all
    for u in range(30):
        read(store, f"r{u}", [GONE, *ids[10 + u % 5 : 13 + u % 5]], start=u * 10)
    train(store, settings, models=["popularity"], encoder=LARGE, progress=False)
    feeds = FeedService(store, settings, LARGE.name)
    before = feeds.feed("newcomer", 5, "popularity")
    assert before.entries[0].item_id == GONE  # the case under test: the model ranks it first

    delete_items(store, [GONE])

    after = feeds.feed("newcomer", 5, "popularity")
    shown = [e.item_id for e in after.entries]
    assert GONE not in shown and len(shown) == 5
    assert shown[:4] == [e.item_id for e in before.entries[1:]]  # the rest keep their order
    assert GONE not in [e.item_id for e in feeds.similar(KEPT, 20)]


def test_nothing_of_a_deleted_item_stays_in_the_wal_file(
    store: Store, extractive: Settings, tmp_path: Path
) -> None:
    """The WAL holds every page written since the last checkpoint: the erased texts and
    catalogue rows too, until a checkpoint copies the zeroed pages over and truncates it."""
    marker = "Zorblaxian"
    body = f"The {marker} committee met today. It approved the budget. Members voted 7 to 2."
    store.catalogue.upsert(
        [
            Item(id="secret", title=f"{marker} quarterly report", body=body),
            Item(id="kept", title="Rain floods the city", body="Heavy rain closed two roads."),
        ]
    )
    generate(store, extractive, ["secret", "kept"])
    wal = tmp_path / "x.db-wal"
    assert marker.encode() in wal.read_bytes()
    report = delete_items(store, ["secret"])
    assert report.deleted == ("secret",) and report.texts == 2
    assert marker.encode() not in wal.read_bytes()
    assert marker.encode() not in (tmp_path / "x.db").read_bytes()
    assert GenerationService(store, extractive, LARGE).summary("kept").cache_hit

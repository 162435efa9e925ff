"""The storage contract: behaviour every backend must show, tested only through the protocols."""

from __future__ import annotations

import csv
import gzip
import hashlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from feedcraft.domain import Event, EventType, Item, ItemKind
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.storage import (
    ArtifactStore,
    Catalogue,
    EventLog,
    Store,
    VectorStore,
)

T0 = datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def article(item_id: str, title: str = "Storm closes coastal roads", **fields: object) -> Item:
    defaults: dict[str, object] = {
        "kind": ItemKind.ARTICLE,
        "body": "Heavy rain and gale-force winds shut two coastal roads overnight.",
        "category": "news",
        "subcategory": "weather",
        "tags": ("storm", "traffic"),
        "language": "en",
        "published_at": T0,
        "provider": "Coastal Herald",
    }
    defaults.update(fields)
    return Item(id=item_id, title=title, **defaults)  # type: ignore[arg-type]


def click(user: str, item: str, minutes: float, **fields: object) -> Event:
    kind = fields.pop("type", EventType.CLICK)
    return Event(
        user_id=user,
        item_id=item,
        type=kind,  # type: ignore[arg-type]
        timestamp=T0 + timedelta(minutes=minutes),
        **fields,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- store


def test_store_implements_every_role(store: Store) -> None:
    assert isinstance(store.catalogue, Catalogue)
    assert isinstance(store.events, EventLog)
    assert isinstance(store.vectors, VectorStore)
    assert isinstance(store.artifacts, ArtifactStore)
    assert isinstance(store.url, str)


# --------------------------------------------------------------------------- catalogue


def test_item_round_trip_keeps_every_field(store: Store) -> None:
    item = Item(
        id="n-1042",
        title="Ferry service resumes after strike",
        kind=ItemKind.VIDEO,
        body="Crossings restart at 6am; operators expect delays.",
        category="news",
        subcategory="transport",
        tags=("ferry", "strike", "café"),
        language="en",
        image_url="https://img.example.org/ferry.jpg",
        published_at=datetime(2024, 5, 1, 7, 15, 30, 123456, tzinfo=CET),
        provider="Harbour News",
        attributes={"duration_s": 94, "series": {"name": "Morning", "episode": 3}, "hd": True},
    )
    assert store.catalogue.upsert([item]) == 1
    loaded = store.catalogue.get("n-1042")
    assert loaded == item
    assert loaded.published_at == datetime(2024, 5, 1, 6, 15, 30, 123456, tzinfo=UTC)
    assert loaded.published_at is not None and loaded.published_at.utcoffset() == timedelta(0)
    with pytest.raises(TypeError):
        loaded.attributes["hd"] = False  # type: ignore[index]
    bare = Item(id="n-1", title="Minimal")
    store.catalogue.upsert([bare])
    assert store.catalogue.get("n-1") == bare


def test_get_unknown_item_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="n-404"):
        store.catalogue.get("n-404")


def test_upsert_counts_only_inserted_or_changed(store: Store) -> None:
    items = [article(f"n-{i}", f"Headline {i}") for i in range(5)]
    assert store.catalogue.upsert(items) == 5
    assert store.catalogue.upsert(items) == 0  # idempotent import relies on this
    changed = [article("n-2", "Headline 2 (updated)"), article("n-3", "Headline 3"), article("n-9")]
    assert store.catalogue.upsert(changed) == 2
    assert store.catalogue.get("n-2").title == "Headline 2 (updated)"
    assert store.catalogue.upsert([]) == 0
    assert store.catalogue.count() == 6


def test_stub_never_replaces_a_full_item(store: Store) -> None:
    full = article("n-7", "Council approves new library")
    store.catalogue.upsert([full])
    assert store.catalogue.upsert([Item(id="n-7", title="", stub=True)]) == 0
    assert store.catalogue.get("n-7") == full


def test_full_item_replaces_a_stub(store: Store) -> None:
    assert store.catalogue.upsert([Item(id="n-8", title="", stub=True)]) == 1
    assert store.catalogue.get("n-8").stub
    full = article("n-8", "Local team wins the cup")
    assert store.catalogue.upsert([full]) == 1
    assert store.catalogue.get("n-8") == full
    assert store.catalogue.ids(include_stubs=False) == ["n-8"]


def test_upsert_is_all_or_nothing(store: Store) -> None:
    store.catalogue.upsert([article("n-0", "Original")])
    batch: list[object] = [article(f"n-{i}", "Replaced") for i in range(10)]
    batch[6] = {"id": "n-6", "title": "not an Item"}
    with pytest.raises(InvalidInput):
        store.catalogue.upsert(batch)  # type: ignore[arg-type]
    unstorable = [article("n-1"), article("n-2", attributes={"when": datetime.now(UTC)})]
    with pytest.raises(InvalidInput, match="attributes"):
        store.catalogue.upsert(unstorable)

    def failing_reader() -> Iterator[Item]:
        yield article("n-3")
        raise ValueError("bad row in items.jsonl line 2")

    with pytest.raises(ValueError, match="line 2"):
        store.catalogue.upsert(failing_reader())
    assert store.catalogue.ids() == ["n-0"]
    assert store.catalogue.get("n-0").title == "Original"


def test_iter_items_streams_everything_in_id_order(store: Store) -> None:
    items = [article(f"a{i:05d}", f"Story {i}", stub=i % 7 == 0) for i in range(2503)]
    store.catalogue.upsert(reversed(items))
    streamed = list(store.catalogue.iter_items())
    assert streamed == items
    full = [item for item in items if not item.stub]
    assert list(store.catalogue.iter_items(include_stubs=False)) == full
    assert store.catalogue.ids() == [item.id for item in items]
    assert store.catalogue.count() == 2503
    assert store.catalogue.count(include_stubs=False) == len(full)


def test_get_many_and_delete(store: Store) -> None:
    store.catalogue.upsert([article(f"n-{i}") for i in range(1200)])
    wanted = [f"n-{i}" for i in range(0, 1200, 2)] + ["missing-1", "missing-2"]
    found = store.catalogue.get_many(wanted)
    assert set(found) == {f"n-{i}" for i in range(0, 1200, 2)}
    assert found["n-10"] == article("n-10")
    assert store.catalogue.get_many([]) == {}
    assert store.catalogue.delete([f"n-{i}" for i in range(700)] + ["missing-1"]) == 700
    assert store.catalogue.count() == 500
    assert store.catalogue.delete(["n-1"]) == 0
    with pytest.raises(NotFound):
        store.catalogue.get("n-5")


# --------------------------------------------------------------------------- events


def test_event_round_trip_keeps_every_field(store: Store) -> None:
    event = Event(
        user_id="u-17",
        item_id="n-3",
        type=EventType.DWELL,
        timestamp=datetime(2024, 3, 4, 9, 30, 0, 654321, tzinfo=CET),
        value=42.5,
        impression_id="imp-99",
        position=3,
        propensity=0.125,
    )
    bare = click("u-17", "n-4", 90)
    assert store.events.append([event, bare]) == 2
    assert list(store.events.iter_events()) == [event, bare]


def test_append_is_idempotent_by_event_id(store: Store) -> None:
    events = [click(f"u-{i % 3}", f"n-{i}", i) for i in range(50)]
    assert store.events.append(events) == 50
    assert store.events.append(events) == 0
    assert store.events.append([*events[:10], click("u-9", "n-1", 999)]) == 1
    twice = click("u-5", "n-5", 5)
    assert store.events.append([twice, twice]) == 1
    same_id_other_content = Event("u-0", "n-77", EventType.LIKE, T0, id=events[0].id)
    assert store.events.append([same_id_other_content]) == 0
    assert store.events.count() == 52
    assert next(store.events.iter_events(user_id="u-0")) == events[0]


def test_append_is_all_or_nothing(store: Store) -> None:
    batch: list[object] = [click(f"u-{i % 10}", f"n-{i}", i) for i in range(1000)]
    batch[617] = "u-1,n-1,click"
    with pytest.raises(InvalidInput):
        store.events.append(batch)  # type: ignore[arg-type]
    assert store.events.count() == 0

    def failing_reader() -> Iterator[Event]:
        for i in range(300):
            yield click("u-1", f"n-{i}", i)
        raise InvalidInput("unknown event type 'swipe'", source="events.csv", line=302)

    with pytest.raises(InvalidInput, match=r"events\.csv:302"):
        store.events.append(failing_reader())
    assert store.events.count() == 0
    assert list(store.events.iter_events()) == []


def test_events_come_in_timestamp_then_insertion_order(store: Store) -> None:
    late = [click("u-1", f"late-{i}", 60) for i in range(3)]
    early = [click("u-2", f"early-{i}", 10) for i in range(3)]
    middle = [click("u-1", "mid", 30)]
    store.events.append(late)
    store.events.append(early + middle)
    store.events.append([click("u-3", "late-x", 60)])
    got = [(e.item_id) for e in store.events.iter_events()]
    assert got == ["early-0", "early-1", "early-2", "mid", "late-0", "late-1", "late-2", "late-x"]


def test_ordering_holds_across_long_runs_of_equal_timestamps(store: Store) -> None:
    # Many identical timestamps (e.g. a file imported without times) must still stream
    # completely and in insertion order, whatever page size a backend uses internally.
    batches = [
        [click(f"u-{i % 40}", f"n-{b}-{i}", minutes=b % 3) for i in range(3000)] for b in range(5)
    ]
    for batch in batches:
        assert store.events.append(batch) == 3000
    expected = sorted(
        (e for batch in batches for e in batch), key=lambda e: e.timestamp
    )  # stable: insertion order within a timestamp
    streamed = list(store.events.iter_events())
    assert [e.id for e in streamed] == [e.id for e in expected]
    one_user = list(store.events.iter_events(user_id="u-7"))
    assert [e.id for e in one_user] == [e.id for e in expected if e.user_id == "u-7"]


def test_filters_by_user_type_and_time_window(store: Store) -> None:
    events = [
        click("u-1", "n-1", 0, type=EventType.IMPRESSION),
        click("u-1", "n-1", 1),
        click("u-2", "n-2", 2),
        click("u-1", "n-3", 3, type=EventType.LIKE),
        click("u-2", "n-3", 4, type=EventType.IMPRESSION),
        click("u-1", "n-4", 5, type=EventType.PURCHASE, value=19.99),
    ]
    store.events.append(events)

    def ids(**filters: object) -> list[str]:
        return [f"{e.user_id}/{e.item_id}/{e.type}" for e in store.events.iter_events(**filters)]  # type: ignore[arg-type]

    assert ids(user_id="u-2") == ["u-2/n-2/click", "u-2/n-3/impression"]
    assert ids(user_id="u-404") == []
    assert ids(types=[EventType.IMPRESSION]) == ["u-1/n-1/impression", "u-2/n-3/impression"]
    assert ids(types=[EventType.LIKE, EventType.PURCHASE]) == ["u-1/n-3/like", "u-1/n-4/purchase"]
    window = {"since": T0 + timedelta(minutes=1), "until": T0 + timedelta(minutes=4)}
    assert ids(**window) == ["u-1/n-1/click", "u-2/n-2/click", "u-1/n-3/like"]  # until exclusive
    assert ids(user_id="u-1", types=[EventType.CLICK, EventType.LIKE], **window) == [
        "u-1/n-1/click",
        "u-1/n-3/like",
    ]
    naive_since = datetime(2024, 3, 4, 8, 35)  # naive means UTC
    assert ids(since=naive_since) == ["u-1/n-4/purchase"]
    aware_until = datetime(2024, 3, 4, 9, 31, tzinfo=CET)  # 08:31 UTC
    assert ids(until=aware_until) == ["u-1/n-1/impression"]


def test_user_items_are_distinct_ids_in_first_event_order(store: Store) -> None:
    events = [
        click("u-1", "n-3", 5),
        click("u-1", "n-1", 1),
        click("u-1", "n-2", 2, type=EventType.IMPRESSION),
        click("u-1", "n-3", 3, type=EventType.LIKE),  # n-3 first seen here, at minute 3
        click("u-1", "n-1", 9),  # a repeat keeps n-1 at its first place
        click("u-1", "n-4", 3),  # same time as n-3, inserted later: after it
        click("u-2", "n-9", 0),
    ]
    store.events.append(events)
    assert store.events.user_items("u-1") == ["n-1", "n-2", "n-3", "n-4"]
    positive = [EventType.CLICK, EventType.LIKE]
    assert store.events.user_items("u-1", types=positive) == ["n-1", "n-3", "n-4"]
    assert store.events.user_items("u-1", types=[EventType.CLICK]) == ["n-1", "n-4", "n-3"]
    assert store.events.user_items("u-1", types=positive, limit=2) == ["n-3", "n-4"]
    assert store.events.user_items("u-1", limit=10) == ["n-1", "n-2", "n-3", "n-4"]
    assert store.events.user_items("u-1", limit=0) == []
    assert store.events.user_items("u-1", types=[]) == []
    assert store.events.user_items("u-404") == []
    with pytest.raises(InvalidInput):
        store.events.user_items("u-1", limit=-1)
    # the same answer as reading whole events
    for user in ("u-1", "u-2"):
        expected = list(dict.fromkeys(e.item_id for e in store.events.iter_events(user_id=user)))
        assert store.events.user_items(user) == expected
    # every write shows in the next answer, however often the same question was asked
    store.events.append([click("u-1", "n-0", -5), click("u-1", "n-5", 20)])
    assert store.events.user_items("u-1", types=positive) == ["n-0", "n-1", "n-3", "n-4", "n-5"]
    assert store.events.user_items("u-1", types=positive, limit=2) == ["n-4", "n-5"]
    assert store.events.delete_user("u-1") == 8
    assert store.events.user_items("u-1", types=positive) == []
    store.events.append([click("u-1", "n-7", 30)])
    assert store.events.user_items("u-1", types=positive) == ["n-7"]


def test_user_ids_and_count(store: Store) -> None:
    assert store.events.user_ids() == []
    assert store.events.count() == 0
    store.events.append([click(u, "n-1", i) for i, u in enumerate(["u-b", "u-a", "u-c", "u-a"])])
    assert store.events.user_ids() == ["u-a", "u-b", "u-c"]
    assert store.events.count() == 4


def test_delete_user_erases_only_that_user(store: Store) -> None:
    theirs = [click("u-forget", f"n-{i}", i) for i in range(120)]
    others = [click("u-keep", f"n-{i}", i) for i in range(80)]
    store.events.append(theirs + others)
    assert store.events.delete_user("u-forget") == 120
    assert store.events.user_ids() == ["u-keep"]
    assert list(store.events.iter_events(user_id="u-forget")) == []
    assert all(e.user_id == "u-keep" for e in store.events.iter_events())
    assert store.events.count() == 80
    assert store.events.delete_user("u-forget") == 0
    assert store.events.delete_user("u-never") == 0
    # Erased means forgotten: the same events are new again if they come back.
    assert store.events.append(theirs[:5]) == 5


def test_concurrent_appends_lose_nothing(store: Store) -> None:
    errors: list[BaseException] = []
    threads_n, batches_n, size = 8, 20, 50

    def writer(t: int) -> None:
        try:
            for b in range(batches_n):
                batch = [click(f"u-{t}", f"n-{b}-{i}", b + i / size) for i in range(size)]
                store.events.append(batch)
                store.events.append(batch[: size // 2])  # a retry of half the batch
        except BaseException as exc:
            errors.append(exc)

    def reader(stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                sum(1 for _ in store.events.iter_events(user_id="u-0"))
        except BaseException as exc:
            errors.append(exc)

    stop = threading.Event()
    watcher = threading.Thread(target=reader, args=(stop,))
    watcher.start()
    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    watcher.join()
    assert errors == []
    assert store.events.count() == threads_n * batches_n * size
    assert store.events.user_ids() == sorted(f"u-{t}" for t in range(threads_n))
    assert len({e.id for e in store.events.iter_events()}) == threads_n * batches_n * size


def test_real_movielens_ratings(store: Store, shared_path: Callable[[str], Path]) -> None:
    path = shared_path("movielens-latest-small/ratings.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [row for _, row in zip(range(600), csv.DictReader(handle), strict=False)]
    events = [
        Event(
            user_id=f"ml-{row['userId']}",
            item_id=f"movie-{row['movieId']}",
            type=EventType.RATING,
            timestamp=datetime.fromtimestamp(int(row["timestamp"]), UTC),
            value=float(row["rating"]),
        )
        for row in rows
    ]
    assert store.events.append(events[:300]) == 300
    assert store.events.append(events) == 300
    assert store.events.count() == 600
    assert store.events.user_ids() == sorted({e.user_id for e in events})
    for user in store.events.user_ids():
        expected = sorted((e for e in events if e.user_id == user), key=lambda e: e.timestamp)
        assert list(store.events.iter_events(user_id=user)) == expected
        assert (
            store.events.user_items(user, limit=7)
            == list(dict.fromkeys(e.item_id for e in expected))[-7:]
        )
    cutoff = sorted(e.timestamp for e in events)[450]
    assert sum(1 for _ in store.events.iter_events(since=cutoff)) == sum(
        e.timestamp >= cutoff for e in events
    )


# --------------------------------------------------------------------------- vectors


def test_vector_round_trip_is_float32(store: Store) -> None:
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((3, 16))  # float64 in, float32 out
    store.vectors.upsert("items:minilm", ["n-1", "n-2", "n-3"], matrix)
    got = store.vectors.get("items:minilm", ["n-3", "n-1", "missing"])
    assert set(got) == {"n-1", "n-3"}
    assert got["n-3"].dtype == np.float32
    np.testing.assert_array_equal(got["n-3"], matrix[2].astype(np.float32))
    replacement = rng.standard_normal((1, 16)).astype(np.float32)
    store.vectors.upsert("items:minilm", ["n-1"], replacement)
    np.testing.assert_array_equal(store.vectors.get("items:minilm", ["n-1"])["n-1"], replacement[0])
    assert store.vectors.count("items:minilm") == 3


def test_dimension_is_fixed_per_namespace(store: Store) -> None:
    store.vectors.upsert("items:minilm", ["n-1"], np.ones((1, 384), dtype=np.float32))
    with pytest.raises(InvalidInput, match="items:minilm"):
        store.vectors.upsert("items:minilm", ["n-2", "n-3"], np.ones((2, 768), dtype=np.float32))
    store.vectors.upsert("items:mpnet", ["n-2"], np.ones((1, 768), dtype=np.float32))
    assert store.vectors.count("items:minilm") == 1
    assert store.vectors.count("items:mpnet") == 1
    with pytest.raises(InvalidInput):
        store.vectors.upsert("items:minilm", ["n-4", "n-5"], np.ones((3, 384), dtype=np.float32))
    with pytest.raises(InvalidInput, match="items:minilm"):
        store.vectors.search("items:minilm", np.ones(768, dtype=np.float32), 3)
    assert store.vectors.count("items:minilm") == 1


def test_all_returns_sorted_ids_and_matrix(store: Store) -> None:
    ids, matrix = store.vectors.all("cache:minilm")
    assert ids == [] and matrix.shape == (0, 0) and matrix.dtype == np.float32
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((4, 8)).astype(np.float32)
    store.vectors.upsert("cache:minilm", ["d", "b", "a", "c"], vectors)
    ids, matrix = store.vectors.all("cache:minilm")
    assert ids == ["a", "b", "c", "d"]
    assert matrix.dtype == np.float32 and matrix.shape == (4, 8)
    np.testing.assert_array_equal(matrix, vectors[[2, 1, 3, 0]])


def test_namespaces_lists_exactly_those_holding_vectors(store: Store) -> None:
    assert store.vectors.namespaces() == []
    store.vectors.upsert("items:minilm", ["n-1", "n-2"], np.ones((2, 4), dtype=np.float32))
    store.vectors.upsert("cache:minilm", ["h-1"], np.ones((1, 8), dtype=np.float32))
    store.vectors.upsert("items:empty", [], np.zeros((0, 4), dtype=np.float32))  # stores nothing
    assert store.vectors.namespaces() == ["cache:minilm", "items:minilm"]
    assert store.vectors.delete("items:minilm", ["n-1"]) == 1
    assert store.vectors.namespaces() == ["cache:minilm", "items:minilm"]
    assert store.vectors.delete("items:minilm", ["n-2"]) == 1  # emptied: no longer listed
    assert store.vectors.namespaces() == ["cache:minilm"]
    store.vectors.upsert("items:minilm", ["n-3"], np.ones((1, 6), dtype=np.float32))
    assert store.vectors.namespaces() == ["cache:minilm", "items:minilm"]


def _brute_force(matrix: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    normed = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = normed @ (query / np.linalg.norm(query))
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(i), float(scores[i])) for i in order]


def test_search_matches_brute_force_cosine(store: Store) -> None:
    rng = np.random.default_rng(11)
    matrix = rng.standard_normal((600, 48)).astype(np.float32) * rng.uniform(0.1, 9, (600, 1))
    ids = [f"n-{i:04d}" for i in range(600)]
    store.vectors.upsert("items:test", ids, matrix.astype(np.float32))
    for _ in range(5):
        query = rng.standard_normal(48).astype(np.float32)
        got = store.vectors.search("items:test", query, 10)
        expected = _brute_force(matrix.astype(np.float64), query.astype(np.float64), 10)
        assert [n.id for n in got] == [ids[i] for i, _ in expected]
        assert [n.score for n in got] == pytest.approx([s for _, s in expected], abs=1e-5)
    exact = store.vectors.search("items:test", matrix[42] * 3.0, 1)
    assert exact[0].id == "n-0042" and exact[0].score == pytest.approx(1.0, abs=1e-5)


def test_search_exclude_and_small_namespaces(store: Store) -> None:
    basis = np.eye(4, dtype=np.float32)
    store.vectors.upsert("items:tiny", ["east", "north", "west", "south"], basis)
    query = np.array([1.0, 0.5, 0.0, 0.0], dtype=np.float32)
    assert [n.id for n in store.vectors.search("items:tiny", query, 2)] == ["east", "north"]
    skipped = store.vectors.search("items:tiny", query, 2, exclude=["east", "unknown"])
    assert skipped[0].id == "north"
    assert "east" not in [n.id for n in skipped]
    everything = store.vectors.search("items:tiny", query, 50)
    assert len(everything) == 4
    assert [n.score for n in everything] == sorted((n.score for n in everything), reverse=True)
    assert len(store.vectors.search("items:tiny", query, 50, exclude=["east", "west"])) == 2
    assert store.vectors.search("items:none", query, 5) == []
    assert store.vectors.search("items:tiny", query, 0) == []


def test_search_sees_every_write(store: Store) -> None:
    rng = np.random.default_rng(5)
    ids = [f"n-{i}" for i in range(200)]
    store.vectors.upsert("items:live", ids, rng.standard_normal((200, 32)).astype(np.float32))
    query = rng.standard_normal(32).astype(np.float32)
    before = store.vectors.search("items:live", query, 3)  # warms any cache
    store.vectors.upsert("items:live", ["n-new"], query.reshape(1, -1) * 2)
    assert store.vectors.search("items:live", query, 1)[0].id == "n-new"
    store.vectors.upsert("items:live", [before[0].id], -query.reshape(1, -1))
    assert before[0].id not in [n.id for n in store.vectors.search("items:live", query, 5)]
    assert store.vectors.delete("items:live", ["n-new", "absent"]) == 1
    assert "n-new" not in [n.id for n in store.vectors.search("items:live", query, 5)]
    assert store.vectors.count("items:live") == 200


def test_vector_delete_and_count(store: Store) -> None:
    store.vectors.upsert("items:a", ["x", "y", "z"], np.ones((3, 4), dtype=np.float32))
    store.vectors.upsert("items:b", ["x"], np.ones((1, 4), dtype=np.float32))
    assert store.vectors.delete("items:a", ["x", "y", "nope"]) == 2
    assert store.vectors.count("items:a") == 1
    assert store.vectors.count("items:b") == 1
    assert store.vectors.count("items:unknown") == 0
    assert store.vectors.get("items:a", ["x", "z"]).keys() == {"z"}
    store.vectors.upsert("items:a", [], np.zeros((0, 4), dtype=np.float32))  # a no-op
    assert store.vectors.count("items:a") == 1


def test_vector_version_moves_on_every_change_and_only_then(store: Store) -> None:
    assert store.vectors.version("items:v") == 0
    store.vectors.upsert("items:v", ["x", "y"], np.ones((2, 4), dtype=np.float32))
    first = store.vectors.version("items:v")
    assert first > 0
    store.vectors.get("items:v", ["x"])
    store.vectors.all("items:v")
    store.vectors.search("items:v", np.ones(4, dtype=np.float32), 1)
    store.vectors.upsert("items:other", ["x"], np.ones((1, 4), dtype=np.float32))
    assert store.vectors.version("items:v") == first  # reads and other namespaces: no move
    # replaced in place: the count stays 2, the version must still move
    store.vectors.upsert("items:v", ["x"], np.full((1, 4), 2.0, dtype=np.float32))
    second = store.vectors.version("items:v")
    assert second > first and store.vectors.count("items:v") == 2
    assert store.vectors.delete("items:v", ["nope"]) == 0
    assert store.vectors.version("items:v") == second
    store.vectors.delete("items:v", ["y"])
    assert store.vectors.version("items:v") > second


def test_concurrent_search_while_writing(store: Store) -> None:
    rng = np.random.default_rng(9)
    store.vectors.upsert(
        "items:busy", [f"n-{i}" for i in range(300)], rng.standard_normal((300, 24))
    )
    errors: list[BaseException] = []

    def searcher(seed: int) -> None:
        local = np.random.default_rng(seed)
        try:
            for _ in range(60):
                hits = store.vectors.search("items:busy", local.standard_normal(24), 5)
                assert len(hits) == 5
        except BaseException as exc:
            errors.append(exc)

    def writer() -> None:
        try:
            for j in range(30):
                store.vectors.upsert("items:busy", [f"w-{j}"], rng.standard_normal((1, 24)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=searcher, args=(s,)) for s in range(4)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.vectors.count("items:busy") == 330


# --------------------------------------------------------------------------- artifacts


def test_artifacts_are_versioned(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert store.artifacts.save("als", b"weights-v1", {"factors": 64}) == 1
    assert store.artifacts.save("als", b"weights-v2-longer", {"factors": 128}) == 2
    assert store.artifacts.save("popularity", b"\x00\x01") == 1
    data, info = store.artifacts.load("als")
    assert data == b"weights-v2-longer"
    assert (info.name, info.version, info.size) == ("als", 2, len(b"weights-v2-longer"))
    assert dict(info.metadata) == {"factors": 128}
    data, info = store.artifacts.load("als", 1)
    assert data == b"weights-v1" and info.version == 1
    listed = store.artifacts.versions("als")
    assert [v.version for v in listed] == [1, 2]
    assert [v.size for v in listed] == [10, 17]
    for v in listed:
        assert v.created_at.tzinfo is not None
        assert before <= v.created_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert listed[0].created_at <= listed[1].created_at
    assert dict(store.artifacts.load("popularity")[1].metadata) == {}
    assert store.artifacts.versions("unknown") == []
    digests = [hashlib.sha256(b).hexdigest() for b in (b"weights-v1", b"weights-v2-longer")]
    assert [v.sha256 for v in listed] == digests  # the checksum the loads were checked by
    assert store.artifacts.load("als", 2)[1].sha256 == digests[1]


def test_artifact_names_by_prefix(store: Store) -> None:
    assert store.artifacts.names() == []
    for name in ("recommender:ranker", "recommender:old_model", "ctr:headlines", "rec%_x"):
        store.artifacts.save(name, b"x")
    store.artifacts.save("recommender:gone", b"x")
    store.artifacts.delete("recommender:gone", 1)  # no version left: no name
    assert store.artifacts.names("recommender:") == ["recommender:old_model", "recommender:ranker"]
    assert store.artifacts.names("rec%") == ["rec%_x"]  # no pattern characters
    assert store.artifacts.names() == [
        "ctr:headlines",
        "rec%_x",
        "recommender:old_model",
        "recommender:ranker",
    ]


def test_artifact_binary_round_trip(store: Store) -> None:
    blob = bytes(range(256)) * 4096 + b"\x00"
    store.artifacts.save("ctr-model", blob, {"auc": 0.7312, "features": ["age", "hour"]})
    data, info = store.artifacts.load("ctr-model")
    assert data == blob and info.size == len(blob)
    assert dict(info.metadata) == {"auc": 0.7312, "features": ["age", "hour"]}


def test_unknown_artifacts_raise_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="bpr"):
        store.artifacts.load("bpr")
    store.artifacts.save("bpr", b"v1")
    with pytest.raises(NotFound, match=r"'bpr' has no version 7"):
        store.artifacts.load("bpr", 7)
    with pytest.raises(NotFound):
        store.artifacts.delete("bpr", 7)
    with pytest.raises(NotFound):
        store.artifacts.delete("never-saved", 1)


def test_artifact_delete_keeps_numbering(store: Store) -> None:
    for i in range(3):
        store.artifacts.save("ranker", f"model-{i + 1}".encode())
    store.artifacts.delete("ranker", 3)
    data, info = store.artifacts.load("ranker")
    assert (data, info.version) == (b"model-2", 2)
    with pytest.raises(NotFound):
        store.artifacts.load("ranker", 3)
    # A deleted version number never comes back for different bytes.
    assert store.artifacts.save("ranker", b"model-4") == 4
    store.artifacts.delete("ranker", 1)
    assert [v.version for v in store.artifacts.versions("ranker")] == [2, 4]

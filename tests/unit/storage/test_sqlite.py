"""SQLite-only behaviour: URLs, pragmas, schema migrations, sharing a file, secure erasure."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from feedcraft.domain import Consent, Event, EventType, Item, Purpose
from feedcraft.errors import Conflict, InvalidInput, NotFound, Unavailable
from feedcraft.storage import open_store
from feedcraft.storage.sqlite import SCHEMA_VERSION, SqliteStore
from feedcraft.storage.sqlite.codec import to_micros
from feedcraft.storage.sqlite.db import Database
from feedcraft.storage.sqlite.migrations import MIGRATIONS
from feedcraft.storage.sqlite.url import parse_url

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

# Schema version 1 exactly as it was released; frozen here so the upgrade test keeps testing
# an upgrade from the real old layout even if migration code is refactored later.
V1_SCHEMA = """
CREATE TABLE items (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
    category TEXT NOT NULL, subcategory TEXT NOT NULL, tags TEXT NOT NULL, language TEXT,
    image_url TEXT, published_us INTEGER, provider TEXT, attributes TEXT NOT NULL,
    stub INTEGER NOT NULL
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,
    item_id TEXT NOT NULL, type TEXT NOT NULL, ts_us INTEGER NOT NULL, value REAL,
    impression_id TEXT, position INTEGER, propensity REAL
);
CREATE INDEX events_user_ts ON events (user_id, ts_us);
CREATE INDEX events_ts ON events (ts_us);
CREATE TABLE vectors (
    rid INTEGER PRIMARY KEY, namespace TEXT NOT NULL, id TEXT NOT NULL, vec BLOB NOT NULL,
    UNIQUE (namespace, id)
);
CREATE TABLE artifact_names (name TEXT PRIMARY KEY, last_version INTEGER NOT NULL);
CREATE TABLE artifacts (
    name TEXT NOT NULL REFERENCES artifact_names (name) ON DELETE CASCADE,
    version INTEGER NOT NULL, created_us INTEGER NOT NULL, size INTEGER NOT NULL,
    metadata TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (name, version)
);
PRAGMA user_version = 1;
"""


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _make_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.execute(
        "INSERT INTO items VALUES ('n-1', 'Old headline', 'article', '', 'news', '', '[]',"
        " 'en', NULL, 1717243200000000, NULL, '{}', 0)"
    )
    conn.execute(
        "INSERT INTO events (id, user_id, item_id, type, ts_us) "
        "VALUES ('e-1', 'u-1', 'n-1', 'click', 1717243200000000)"
    )
    vectors = np.arange(12, dtype="<f4").reshape(3, 4) + 1
    conn.executemany(
        "INSERT INTO vectors (namespace, id, vec) VALUES ('items:old', ?, ?)",
        [(f"n-{i}", row.tobytes()) for i, row in enumerate(vectors)],
    )
    conn.execute("INSERT INTO artifact_names VALUES ('als', 2)")
    conn.execute("INSERT INTO artifacts VALUES ('als', 2, 1717243200000000, 3, '{}', x'010203')")
    conn.commit()
    conn.close()


# --------------------------------------------------------------------------- URLs


def test_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_url("sqlite:///data/feed.db").path == tmp_path / "data" / "feed.db"
    assert parse_url(f"sqlite:///{tmp_path}/abs.db").path == tmp_path / "abs.db"
    assert parse_url("sqlite:////srv/feedcraft/feed.db").path == Path("/srv/feedcraft/feed.db")
    memory = parse_url("sqlite:///:memory:")
    assert memory.memory and memory.path is None


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("sqlite://", "no database file"),
        ("sqlite://localhost/feed.db", "host"),
        ("sqlite:///", "no database file"),
        ("sqlite:///data/", "no database file"),
        ("sqlite:///feed.db?mode=ro", "options"),
        ("postgresql://db/feed", "not a sqlite URL"),
        ("feed.db", "not a sqlite URL"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, hint: str) -> None:
    with pytest.raises(InvalidInput, match=hint):
        parse_url(url)


def test_url_naming_a_directory_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "feed.db").mkdir()
    with pytest.raises(InvalidInput, match="not a regular file"):
        open_store(f"sqlite:///{tmp_path / 'feed.db'}")


def test_relative_url_creates_parent_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///var/lib/feedcraft/feed.db")
    assert isinstance(store, SqliteStore)
    assert store.url == "sqlite:///var/lib/feedcraft/feed.db"
    store.close()
    assert (tmp_path / "var" / "lib" / "feedcraft" / "feed.db").is_file()


# --------------------------------------------------------------------------- pragmas


def test_file_store_runs_wal_full_sync_and_secure_delete(store_url: str) -> None:
    with SqliteStore(store_url) as store:
        expected = {
            "journal_mode": "wal",
            "synchronous": 2,  # FULL
            "foreign_keys": 1,
            "secure_delete": 1,
            "busy_timeout": 30_000,
            "user_version": SCHEMA_VERSION,
        }
        assert store.pragmas() == expected
        seen: list[dict[str, object]] = []
        worker = threading.Thread(target=lambda: seen.append(store.pragmas()))
        worker.start()
        worker.join()
        assert seen == [expected]  # a pool thread's own connection is configured the same


def test_memory_store_is_private_and_migrated() -> None:
    with SqliteStore("sqlite:///:memory:") as first, SqliteStore("sqlite:///:memory:") as other:
        assert first.pragmas()["user_version"] == SCHEMA_VERSION
        first.catalogue.upsert([Item(id="n-1", title="Only here")])
        assert other.catalogue.count() == 0
        done: list[int] = []
        worker = threading.Thread(target=lambda: done.append(first.catalogue.count()))
        worker.start()
        worker.join()
        assert done == [1]


def test_closed_store_refuses_calls(store_url: str) -> None:
    store = SqliteStore(store_url)
    store.close()
    with pytest.raises(Unavailable, match="closed"):
        store.events.count()


# --------------------------------------------------------------------------- migrations


def test_opening_a_v1_database_upgrades_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _make_v1(path)
    with SqliteStore(f"sqlite:///{path}") as store:
        assert store.pragmas()["user_version"] == SCHEMA_VERSION
        assert store.catalogue.get("n-1").published_at == T0
        assert [e.id for e in store.events.iter_events()] == ["e-1"]
        assert store.artifacts.load("als")[0] == b"\x01\x02\x03"
        assert store.artifacts.save("als", b"new") == 3
        # v2 backfilled the namespace's dimension, so a wrong one is refused ...
        with pytest.raises(InvalidInput, match="items:old"):
            store.vectors.upsert("items:old", ["n-9"], np.ones((1, 8), dtype=np.float32))
        # ... and search works on the old rows.
        hit = store.vectors.search("items:old", np.array([9, 10, 11, 12], dtype=np.float32), 1)
        assert hit[0].id == "n-2"
        # ... and the backfilled namespace is listed, so deleting items reaches its vectors.
        assert store.vectors.namespaces() == ["items:old"]
    assert _user_version(path) == SCHEMA_VERSION
    with SqliteStore(f"sqlite:///{path}") as again:  # a second open has nothing to do
        assert again.vectors.count("items:old") == 3


def test_a_v8_consent_starts_its_history_on_upgrade(tmp_path: Path) -> None:
    """Decisions stored before consent history existed (schema 8) become its first entries."""
    path = tmp_path / "v8.db"
    db = Database(parse_url(f"sqlite:///{path}"))
    with db.write() as conn:
        for migration in MIGRATIONS[:8]:
            migration(conn)
        conn.execute("PRAGMA user_version = 8")
        conn.execute("INSERT INTO consents VALUES ('r-1', '{\"ads\":false}', ?)", (to_micros(T0),))
    db.close()
    with SqliteStore(f"sqlite:///{path}") as store:
        assert store.consents.history("r-1") == [Consent("r-1", {Purpose.ADS: False}, T0)]
        store.consents.put(Consent("r-1", {}, T0 + timedelta(1)))
        assert len(store.consents.history("r-1")) == 2


def test_history_reads_use_the_covering_index_after_upgrade(tmp_path: Path) -> None:
    """The feed reads a user's history on every request: after v4 that read (and the
    watermark of the history cache) must come from the index alone, in order, unsorted."""
    path = tmp_path / "old.db"
    _make_v1(path)
    SqliteStore(f"sqlite:///{path}").close()
    queries = [
        "SELECT item_id FROM events WHERE user_id = ? ORDER BY ts_us, seq",
        "SELECT item_id FROM events WHERE user_id = ? AND type IN (?, ?) ORDER BY ts_us, seq",
        "SELECT MAX(seq), COUNT(*) FROM events WHERE user_id = ?",
    ]
    with sqlite3.connect(path) as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "events_user_history" in indexes and "events_user_ts" not in indexes
        for sql in queries:
            params = ["u-1", "click", "rating"][: sql.count("?")]
            plan = " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            assert "COVERING INDEX events_user_history" in plan, (sql, plan)
            assert "TEMP B-TREE" not in plan, (sql, plan)


def test_a_failed_migration_leaves_the_old_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _make_v1(path)
    with sqlite3.connect(path) as conn:  # something already holds the name v2 will create
        conn.execute("CREATE TABLE vector_namespaces (unrelated TEXT)")
    with pytest.raises(Unavailable, match="vector_namespaces"):
        SqliteStore(f"sqlite:///{path}")
    assert _user_version(path) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 3


def test_a_damaged_artifact_is_refused_not_unpickled(tmp_path: Path) -> None:
    """Most single-byte changes to a pickle still load, as a different model: the checksum
    saved with the bytes is checked at every load."""
    path = tmp_path / "store.db"
    with SqliteStore(f"sqlite:///{path}") as store:
        store.artifacts.save("als", b"good weights")
        store.artifacts.save("als", b"newer weights")
    with sqlite3.connect(path) as conn:  # one byte flipped on disk, the size unchanged
        conn.execute("UPDATE artifacts SET data = ? WHERE version = 2", (b"newer weighs",))
    with SqliteStore(f"sqlite:///{path}") as store:
        with pytest.raises(Unavailable, match=r"'als' v2 is damaged.*roll back"):
            store.artifacts.load("als")
        assert store.artifacts.load("als", 1)[0] == b"good weights"  # the others still load


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SqliteStore(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(Conflict, match="newer than this feedcraft"):
        SqliteStore(f"sqlite:///{path}")
    assert _user_version(path) == SCHEMA_VERSION + 1


# --------------------------------------------------------------------------- sharing a file


def test_data_survives_reopening(store_url: str) -> None:
    item = Item(id="n-1", title="Kept", attributes={"score": 0.5})
    events = [Event("u-1", "n-1", EventType.CLICK, T0 + timedelta(seconds=i)) for i in range(3)]
    with SqliteStore(store_url) as store:
        store.catalogue.upsert([item])
        store.events.append(events)
        store.vectors.upsert("items:x", ["n-1"], np.ones((1, 3), dtype=np.float32))
        store.artifacts.save("pop", b"counts")
    with SqliteStore(store_url) as store:
        assert store.catalogue.get("n-1") == item
        assert list(store.events.iter_events()) == events
        assert store.vectors.count("items:x") == 1
        assert store.artifacts.load("pop")[0] == b"counts"


def test_two_stores_on_one_file_see_each_others_writes(store_url: str) -> None:
    # Two SqliteStores on one file behave as two processes: separate connections and caches.
    rng = np.random.default_rng(1)
    with SqliteStore(store_url) as writer, SqliteStore(store_url) as reader:
        writer.vectors.upsert("items:s", [f"n-{i}" for i in range(50)], rng.random((50, 8)))
        query = rng.random(8).astype(np.float32)
        first = reader.vectors.search("items:s", query, 1)[0]  # reader caches the matrix
        writer.vectors.upsert("items:s", ["n-best"], query.reshape(1, -1))
        assert reader.vectors.search("items:s", query, 1)[0].id == "n-best"
        writer.vectors.delete("items:s", ["n-best"])
        assert reader.vectors.search("items:s", query, 1)[0].id == first.id
        writer.events.append([Event("u-1", "n-1", EventType.LIKE, T0)])
        assert reader.events.count() == 1


def test_emptied_namespace_accepts_a_new_dimension(store_url: str) -> None:
    with SqliteStore(store_url) as store:
        store.vectors.upsert("cache:model", ["a", "b"], np.ones((2, 4), dtype=np.float32))
        store.vectors.delete("cache:model", ["a", "b"])
        store.vectors.upsert("cache:model", ["a"], np.ones((1, 6), dtype=np.float32))
        assert store.vectors.all("cache:model")[1].shape == (1, 6)


# --------------------------------------------------------------------------- erasure


def test_delete_user_leaves_no_trace_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "erase.db"
    secret = "user-7f3a9c-erase-me"
    with SqliteStore(f"sqlite:///{path}") as store:
        store.events.append(
            [
                Event(secret, f"n-{i}", EventType.CLICK, T0 + timedelta(seconds=i))
                for i in range(400)
            ]
            + [Event("u-stays", "n-1", EventType.CLICK, T0)]
        )
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert secret.encode() in raw
        assert store.events.delete_user(secret) == 400
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert secret.encode() not in raw
        assert b"u-stays" in raw


def test_a_deleted_artifact_leaves_no_trace_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "models.db"
    secret = b"model-naming-reader-5d1e" * 2000  # overflow pages, as a real model has
    with SqliteStore(f"sqlite:///{path}") as store:
        old = store.artifacts.save("recommender:x", secret)
        store.artifacts.save("recommender:x", b"model-without-them" * 2000)
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert b"model-naming-reader-5d1e" in raw
        store.artifacts.delete("recommender:x", old)
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert b"model-naming-reader-5d1e" not in raw
        assert b"model-without-them" in raw


def test_an_erased_consent_record_leaves_no_trace_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "consent.db"
    secret = "reader-2b7e-consented"
    with SqliteStore(f"sqlite:///{path}") as store:
        for day in range(3):
            store.consents.put(Consent(secret, {Purpose.ADS: day % 2 == 0}, T0 + timedelta(day)))
        store.consents.put(Consent("r-stays", {Purpose.ADS: True}, T0))
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert secret.encode() in raw
        assert store.consents.delete(secret)
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert secret.encode() not in raw and b"r-stays" in raw


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("meeting notes, definitely not SQLite\n" * 40)
    with pytest.raises(InvalidInput, match="not a SQLite database"):
        open_store(f"sqlite:///{path}")


# --------------------------------------------------------------------------- threads, fork


def test_finished_threads_release_their_connections(store_url: str) -> None:
    with SqliteStore(store_url) as store:
        for _ in range(40):
            worker = threading.Thread(target=store.events.count)
            worker.start()
            worker.join()
        gc.collect()
        assert len(store._db._holders) <= 2  # this thread's, maybe one not yet collected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_opens_its_own_connection(store_url: str) -> None:
    with SqliteStore(store_url) as store:
        store.events.append([Event("u-parent", "n-1", EventType.CLICK, T0)])
        pid = os.fork()
        if pid == 0:  # child: must not reuse the parent's connection
            code = 1
            try:
                store.events.append([Event("u-child", "n-2", EventType.CLICK, T0)])
                code = 0 if store.events.count() == 2 else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert store.events.user_ids() == ["u-child", "u-parent"]


def test_opening_without_create_refuses_a_store_that_does_not_exist(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'feed.db'}"
    with pytest.raises(NotFound, match="no store at"):
        open_store(url, create=False)
    assert not (tmp_path / "sub").exists()  # neither the file nor its folder is made
    open_store(url).close()
    open_store(url, create=False).close()  # an existing one opens
    open_store("sqlite:///:memory:", create=False).close()

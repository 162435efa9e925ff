"""SQLite's text cache beyond the protocol: the query plans of prefix reads and deletes, the
batched erasure and its WAL checkpoint, claims queued on the write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from feedcraft.domain.time import utcnow
from feedcraft.errors import InvalidInput
from feedcraft.storage.sqlite import SqliteStore
from feedcraft.storage.sqlite.codec import to_micros


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(f"sqlite:///{tmp_path / 'cache.db'}")
    yield opened
    opened.close()


def _statements(store: SqliteStore) -> list[str]:
    """Every statement this thread's connection runs from now on, values bound."""
    seen: list[str] = []
    store._db.connection().set_trace_callback(seen.append)
    return seen


def test_prefix_reads_and_deletes_search_the_key_index_instead_of_scanning(
    store: SqliteStore,
) -> None:
    cache = store.text_cache
    for i in range(50):
        cache.put(f"gen1/item-{i:03d}/summary/v/any/m/p", "text")
    seen = _statements(store)
    assert cache.count("gen1/item-007/") == 1
    assert list(cache.keys("gen1/item-00")) == [
        f"gen1/item-{i:03d}/summary/v/any/m/p" for i in range(10)
    ]
    assert cache.delete_prefix("gen1/item-012/") == 1
    assert cache.delete_prefixes(["gen1/item-013/", "gen1/item-014/"]) == 2
    queries = [s for s in seen if "text_cache" in s and "WHERE" in s]
    assert len(queries) >= 5
    conn = store._db.connection()
    conn.set_trace_callback(None)
    for sql in queries:
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "SEARCH text_cache" in plan and "SCAN" not in plan, (sql, plan)


def test_erasing_prefixes_leaves_no_text_in_the_wal_file(
    store: SqliteStore, tmp_path: Path
) -> None:
    cache = store.text_cache
    cache.put("gen1/secret/summary/v/any/m/p", "The Zorblaxian committee met in private.")
    cache.put("gen1/kept/summary/v/any/m/p", "Rain closed two roads.")
    wal = tmp_path / "cache.db-wal"
    assert b"Zorblaxian" in wal.read_bytes()  # written, not yet checkpointed
    assert cache.delete_prefixes(["gen1/secret/", "gen1/absent/"]) == 1
    assert b"Zorblaxian" not in wal.read_bytes()
    assert b"Zorblaxian" not in (tmp_path / "cache.db").read_bytes()  # secure_delete
    assert cache.get("gen1/kept/summary/v/any/m/p") is not None


def test_erasing_prefixes_refuses_a_bare_string_and_empty_prefixes(store: SqliteStore) -> None:
    with pytest.raises(InvalidInput):
        store.text_cache.delete_prefixes("gen1/")
    with pytest.raises(InvalidInput):
        store.text_cache.delete_prefixes(["gen1/", ""])
    assert store.text_cache.delete_prefixes([]) == 0


# ------------------------------------------------------------------ claims and the clock


def test_a_claim_made_before_the_clock_was_set_back_lapses(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Expiry is wall-clock time: a dead writer's claim made an hour "ahead" would otherwise
    hold the key for an hour and its seconds after the clock was put right."""
    import feedcraft.storage.sqlite.cache as cache_module
    from feedcraft.domain.time import utcnow

    ahead = utcnow() + timedelta(hours=1)
    monkeypatch.setattr(cache_module, "utcnow", lambda: ahead)
    assert store.text_cache.claim("k", "dead", 300)
    monkeypatch.setattr(cache_module, "utcnow", utcnow)  # the clock set back
    assert store.text_cache.claim("k", "alive", 300)


def test_lapsed_claims_of_other_keys_are_swept(store: SqliteStore) -> None:
    """Rows of writers that died are not left in the table for good."""
    store.text_cache.claim("a", "dead", 0.05)
    store.text_cache.claim("b", "dead", 0.05)
    time.sleep(0.1)
    store.text_cache.claim("c", "alive", 60)
    with store._db.read() as conn:
        rows = conn.execute("SELECT key FROM text_cache_claims ORDER BY key").fetchall()
    assert rows == [("c",)]


def test_a_claim_waiting_for_the_write_lock_keeps_a_claim_made_meanwhile(
    store: SqliteStore, tmp_path: Path
) -> None:
    """A claim that reads the clock before it gets the write lock, then waits for the lock
    while another process claims (or takes over) the key, saw that claim as made "later than
    now" (as after a clock set back), dropped it and took the key: two writers. CI caught it
    as two waiters both taking a dead owner's claim over. The clock is read under the lock."""
    key = "gen1/item-001/summary/v/any/m/p"
    other = sqlite3.connect(str(tmp_path / "cache.db"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    out: list[bool] = []
    waiter = threading.Thread(target=lambda: out.append(store.text_cache.claim(key, "b", 30)))
    waiter.start()
    time.sleep(0.3)  # the waiter is queued on the lock
    now = to_micros(utcnow())
    other.execute(
        "INSERT INTO text_cache_claims (key, owner, claimed_us, expires_us) VALUES (?, ?, ?, ?)",
        (key, "a", now, now + 30_000_000),
    )
    other.execute("COMMIT")
    other.close()
    waiter.join(10)
    assert out == [False]
    assert store.text_cache.holder(key) == "a"

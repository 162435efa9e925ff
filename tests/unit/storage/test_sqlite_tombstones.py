"""SQLite-only side of tombstones: migration 5 upgrades a version-4 file in place, and
tombstones are durable (they outlive the process that deleted the item)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from feedcraft.domain import Item
from feedcraft.storage.sqlite import SCHEMA_VERSION, SqliteStore
from feedcraft.storage.sqlite.db import Database
from feedcraft.storage.sqlite.migrations import MIGRATIONS
from feedcraft.storage.sqlite.url import parse_url


def _make_v4(path: Path) -> None:
    """A database as feedcraft left it before tombstones: migrations 1-4, one item."""
    db = Database(parse_url(f"sqlite:///{path}"))
    try:
        with db.write() as conn:
            for migration in MIGRATIONS[:4]:
                migration(conn)
            conn.execute(
                "INSERT INTO items VALUES ('n-1', 'Kept', 'article', '', '', '', '[]', NULL,"
                " NULL, NULL, NULL, '{}', 0)"
            )
            conn.execute("PRAGMA user_version = 4")
    finally:
        db.close()
    with closing(sqlite3.connect(path)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "deleted_items" not in tables


def test_version_4_upgrades_and_keeps_its_items(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    _make_v4(path)
    assert SCHEMA_VERSION >= 5

    with SqliteStore(f"sqlite:///{path}") as store:
        assert store.pragmas()["user_version"] == SCHEMA_VERSION
        assert store.catalogue.get("n-1").title == "Kept"
        assert store.catalogue.deleted(["n-1"]) == set()
        assert store.catalogue.delete(["n-1"]) == 1
        assert store.catalogue.deleted(["n-1"]) == {"n-1"}


def test_tombstones_survive_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with SqliteStore(url) as store:
        store.catalogue.upsert([Item(id="n-1", title="Gone"), Item(id="n-2", title="Kept")])
        store.catalogue.delete(["n-1"])
    with SqliteStore(url) as store:
        assert store.catalogue.deleted(["n-1", "n-2"]) == {"n-1"}
        assert store.catalogue.upsert([Item(id="n-1", title="", stub=True)]) == 0
        assert store.catalogue.ids() == ["n-2"]

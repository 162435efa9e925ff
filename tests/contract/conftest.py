"""The `store` fixture: every contract test runs once per backend.

A new backend joins by adding its URL factory to BACKENDS (PostgreSQL will, skipping where no
server is configured); the tests themselves never look behind the protocols. The `vectors`
fixture adds variants of a backend configured onto another search path (SQLite always using
its HNSW graph).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feedcraft.storage import Store, VectorStore, open_store
from feedcraft.storage.sqlite.db import Database
from feedcraft.storage.sqlite.migrations import migrate
from feedcraft.storage.sqlite.url import parse_url
from feedcraft.storage.sqlite.vectors import SqliteVectors

BACKENDS: dict[str, Callable[[Path], str]] = {
    "sqlite-file": lambda tmp: f"sqlite:///{tmp / 'contract' / 'store.db'}",
    "sqlite-memory": lambda _tmp: "sqlite:///:memory:",
}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_store(BACKENDS[request.param](tmp_path))
    try:
        yield opened
    finally:
        opened.close()


def _sqlite_graph(tmp: Path) -> tuple[VectorStore, Callable[[], None]]:
    """SQLite's vector role set to answer every eligible search from its HNSW graph, built
    in the search that needs it, so the contract also holds the approximate path."""
    db = Database(parse_url(f"sqlite:///{tmp / 'graph.db'}"))
    migrate(db)
    return SqliteVectors(db, exact_below=0, background=False), db.close


#: Vector-store variants for the search contract: every store backend's own vector role, plus
#: backend configurations that take another search path than their defaults.
VECTOR_BACKENDS: dict[str, Callable[[Path], tuple[VectorStore, Callable[[], None]]]] = {
    **{
        name: (lambda tmp, make=make: _vectors_of(open_store(make(tmp))))
        for name, make in BACKENDS.items()
    },
    "sqlite-hnsw": _sqlite_graph,
}


def _vectors_of(opened: Store) -> tuple[VectorStore, Callable[[], None]]:
    return opened.vectors, opened.close


@pytest.fixture(params=sorted(VECTOR_BACKENDS))
def vectors(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    opened, close = VECTOR_BACKENDS[request.param](tmp_path)
    try:
        yield opened
    finally:
        close()

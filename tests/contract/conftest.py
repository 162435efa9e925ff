"""The `store` fixture: every contract test runs once per backend.

A new backend joins by adding its URL factory to BACKENDS (PostgreSQL will, skipping where no
server is configured); the tests themselves never look behind the protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feedcraft.storage import Store, open_store

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

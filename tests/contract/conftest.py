"""The `store` fixture: every contract test runs once per backend.

A new backend joins by adding its URL factory to BACKENDS (PostgreSQL will, skipping where no
server is configured); the tests themselves never look behind the protocols.
"""

from __future__ import annotations

import importlib.util
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


def _root_shared_path() -> Callable[[str], Path]:
    # Both conftests are modules named "conftest" under pytest's default import mode, so the
    # root one cannot be imported by name from here; load it by path instead.
    spec = importlib.util.spec_from_file_location(
        "_feedcraft_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    helper: Callable[[str], Path] = module.shared_path
    return helper


@pytest.fixture(scope="session")
def shared_path() -> Callable[[str], Path]:
    """tests/conftest.py's `shared_path` (skips the test when the real data is absent)."""
    return _root_shared_path()

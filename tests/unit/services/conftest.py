"""Service fixtures: a real SQLite store per test, real data from ../shared/data or the package."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from feedcraft.config import Settings, load_settings
from feedcraft.storage import Store, open_store

WIKINEWS = Path(__file__).resolve().parents[3] / "src" / "feedcraft" / "sample" / "wikinews"


def _root_shared_path() -> Callable[[str], Path]:
    # Every conftest is a module named "conftest"; load the root one by path.
    spec = importlib.util.spec_from_file_location(
        "_feedcraft_root_conftest_services", Path(__file__).resolve().parents[2] / "conftest.py"
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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        store=f"sqlite:///{tmp_path / 'x.db'}", embedding={"model": "hashing"}, progress=False
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with closing(open_store(settings.store)) as s:
        yield s


@pytest.fixture
def wikinews_dir() -> Path:
    """The bundled 101 Wikinews articles (items.jsonl), real text."""
    return WIKINEWS

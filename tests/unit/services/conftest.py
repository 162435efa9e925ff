"""Service fixtures: a real SQLite store per test, real data from ../shared/data or the package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from feedcraft.config import Settings, load_settings
from feedcraft.services.ingestion import import_jsonl
from feedcraft.storage import Store, open_store

WIKINEWS = Path(__file__).resolve().parents[3] / "src" / "feedcraft" / "sample" / "wikinews"


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


@pytest.fixture
def loaded(store: Store, wikinews_dir: Path) -> Store:
    """The store holding the Wikinews articles (modules that need more override this)."""
    import_jsonl(store, wikinews_dir, progress=False)
    return store


@pytest.fixture
def llm_settings(settings: Settings) -> Settings:
    """The settings with the extractive backend: generation without a model."""
    return settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"backend": "extractive"})}
    )

"""Fixtures for the reader tests: real data via tests/conftest.py, and small files in tmp_path."""

from __future__ import annotations

import gzip
import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

Writer = Callable[[str, str], Path]


def _root_shared_path() -> Callable[[str], Path]:
    # Every conftest is a module named "conftest" under pytest's default import mode, so the
    # root one cannot be imported by name; load it by path instead.
    spec = importlib.util.spec_from_file_location(
        "_feedcraft_root_conftest_formats", Path(__file__).resolve().parents[2] / "conftest.py"
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
def write(tmp_path: Path) -> Writer:
    """write(name, text) -> path; a name ending in .gz is gzipped."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        data = text.encode("utf-8")
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return _write

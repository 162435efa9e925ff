"""Fixtures for the reader tests: real data via tests/conftest.py, and small files in tmp_path."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

Writer = Callable[[str, str], Path]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """write(name, text) -> path; a name ending in .gz is gzipped."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        data = text.encode("utf-8")
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return _write

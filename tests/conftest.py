"""Shared fixtures. Real data comes from ../shared/data (read-only); absent data skips."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from shareddata import shared_path as _shared_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared_path() -> Callable[[str], Path]:
    """`shareddata.shared_path`: a path under ../shared/data, skipping the test when absent."""
    return _shared_path


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'feedcraft.db'}"

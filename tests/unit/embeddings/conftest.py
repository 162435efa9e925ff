"""Embedding-test fixtures on top of tests/conftest.py's real text (wikinews, xmind_rows)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def wikinews_titles(wikinews: list[dict[str, Any]]) -> list[str]:
    return [str(row["title"]) for row in wikinews]

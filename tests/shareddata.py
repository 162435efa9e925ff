"""Where the real data sets live (../shared/data, read-only), and a skip when they are absent.

A plain module rather than a conftest so that any test or conftest can import it by name
(pytest puts tests/ on sys.path because tests/ is not a package).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FEEDCRAFT_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_path(relative: str) -> Path:
    """Path under ../shared/data, or skip the test when that data is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path

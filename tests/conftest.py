"""Shared fixtures. Real data comes from ../shared/data (read-only); absent data skips."""

from __future__ import annotations

import csv
import faulthandler
import gzip
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shareddata import shared_path as _shared_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def machine_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One machine cache (settings `cache_dir`) for the whole run, servers started by tests
    included (they inherit the environment): compiled code is shared between tests as
    between a server's restarts, and nothing is written to the user's own ~/.cache."""
    folder = tmp_path_factory.mktemp("machine-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEEDCRAFT_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def shared_path() -> Callable[[str], Path]:
    """`shareddata.shared_path`: a path under ../shared/data, skipping the test when absent."""
    return _shared_path


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'feedcraft.db'}"


# Real text shared by the text and embedding tests.
WIKINEWS = "wikinews-sample/en_wikinews_101.jsonl.gz"
XMIND = "xmind-cmn/xMINDsmall_dev/news.tsv.gz"


@pytest.fixture(scope="session")
def wikinews(shared_path: Callable[[str], Path]) -> list[dict[str, Any]]:
    """The 101 Wikinews articles: title, categories, wikitext_paragraphs, ..."""
    with gzip.open(shared_path(WIKINEWS), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def xmind_rows(shared_path: Callable[[str], Path]) -> list[tuple[str, str, str]]:
    """(nid, title, abstract) of the first 2,000 xMIND news (Traditional Chinese).

    The file starts with a header line `nid title abstract`, checked and skipped here.
    """
    rows: list[tuple[str, str, str]] = []
    with gzip.open(shared_path(XMIND), "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert next(reader) == ["nid", "title", "abstract"]
        for row in reader:
            rows.append((row[0], row[1], row[2] if len(row) > 2 else ""))
            if len(rows) == 2000:
                break
    return rows


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """pytest's faulthandler stops with the session, so a crash while the interpreter exits
    (a native thread still running) left CI's log only "Segmentation fault" (once, eighteenth
    session); on again here, it prints every thread's stack."""
    faulthandler.enable(file=sys.__stderr__ or sys.stderr, all_threads=True)

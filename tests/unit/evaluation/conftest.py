"""Real data for the evaluation tests, parsed inline (the importers live elsewhere)."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

from feedcraft.domain import Interactions
from shareddata import shared_path


@pytest.fixture(scope="session")
def nemig_impressions() -> list[tuple[str, str, list[str], np.ndarray]]:
    """(impression id, user, candidate ids, click labels) from NeMig's MIND-layout behaviors:
    impression_id, user, time (empty), history, candidates `news_X-1/0`."""
    path = shared_path("nemig/en/behaviors.tsv.gz")
    out = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            pairs = [c.rsplit("-", 1) for c in row[4].split()]
            labels = np.array([int(lab) for _, lab in pairs], np.int64)
            out.append((row[0], row[1], [c for c, _ in pairs], labels))
    return out


@pytest.fixture(scope="session")
def ml_ratings() -> Interactions:
    """All 100,836 MovieLens latest-small ratings."""
    path = shared_path("movielens-latest-small/ratings.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return Interactions.from_triples(
        [r["userId"] for r in rows],
        [r["movieId"] for r in rows],
        [float(r["rating"]) for r in rows],
        [float(r["timestamp"]) for r in rows],
    )

"""Real MovieLens ratings written through a store, for the services' tests."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from feedcraft.domain import Event, EventType, Item
from feedcraft.storage import Store


def write_ratings(store: Store, source: Path, n: int, reader: Callable[[str], str] = str) -> Store:
    """The first `n` real MovieLens ratings (`source`: ml-latest-small) and their movies,
    written through the store; `reader` turns a MovieLens user id into the stored one."""
    with gzip.open(source / "ratings.csv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = [r for _, r in zip(range(n), csv.DictReader(f), strict=False)]
    wanted = {r["movieId"] for r in rows}
    with gzip.open(source / "movies.csv.gz", "rt", encoding="utf-8", newline="") as f:
        movies = [
            Item(m["movieId"], m["title"], category=m["genres"].split("|")[0])
            for m in csv.DictReader(f)
            if m["movieId"] in wanted
        ]
    store.catalogue.upsert(movies)
    store.events.append(
        Event(
            reader(r["userId"]),
            r["movieId"],
            EventType.RATING,
            datetime.fromtimestamp(int(r["timestamp"]), UTC),
            value=float(r["rating"]),
        )
        for r in rows
    )
    return store

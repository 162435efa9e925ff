"""The bundled MovieLens sample (ships with feedcraft, so these tests never skip): readers
shared by the candidate-source and ranker tests and their fixtures in conftest.py."""

from __future__ import annotations

import csv
import gzip
import itertools
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import feedcraft
from feedcraft.domain import IdIndex, Interactions, ItemVectors

SAMPLE = Path(feedcraft.__file__).parent / "sample" / "movielens-latest-small"


def read_sample_ratings(limit: int) -> Interactions:
    """The first `limit` ratings, each an interaction (weight 1), with their timestamps."""
    with gzip.open(SAMPLE / "ratings.csv.gz", "rt", encoding="utf-8") as f:
        rows = list(itertools.islice(csv.DictReader(f), limit))
    return Interactions.from_triples(
        [r["userId"] for r in rows],
        [r["movieId"] for r in rows],
        None,
        [float(r["timestamp"]) for r in rows],
    )


def read_sample_movies() -> list[dict[str, str]]:
    with gzip.open(SAMPLE / "movies.csv.gz", "rt", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def movie_genres(movies: list[dict[str, str]]) -> dict[str, list[str]]:
    return {
        m["movieId"]: [g for g in m["genres"].split("|") if g != "(no genres listed)"]
        for m in movies
    }


def release_dates(movies: list[dict[str, str]]) -> dict[str, float]:
    """Movie id -> 1 January of the year in its title, unix seconds (titles without one: none)."""
    out = {}
    for m in movies:
        found = re.search(r"\((\d{4})\)\s*$", m["title"])
        if found:
            out[m["movieId"]] = datetime(int(found[1]), 1, 1, tzinfo=UTC).timestamp()
    return out


def noisy_genre_vectors(genres: dict[str, list[str]]) -> ItemVectors:
    """Multi-hot genres plus a little seeded noise, so ties between same-genre films break."""
    names = sorted({g for gs in genres.values() for g in gs})
    col = {g: j for j, g in enumerate(names)}
    m = np.zeros((len(genres), len(names)), np.float32)
    for i, gs in enumerate(genres.values()):
        m[i, [col[g] for g in gs]] = 1.0
    m += 0.05 * np.random.default_rng(0).standard_normal(m.shape).astype(np.float32)
    return ItemVectors(IdIndex(genres), m)

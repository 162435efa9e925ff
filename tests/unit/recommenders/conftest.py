"""Small deterministic real-data fixtures: the first 3,000 MovieLens ratings (20 users,
1,768 movies) and multi-hot genre vectors for the whole movie catalogue (9,742 movies), so
content models have cold items to reach. Tests skip cleanly when the data is absent."""

from __future__ import annotations

import csv
import gzip
import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from sample_data import (
    movie_genres,
    noisy_genre_vectors,
    read_sample_movies,
    read_sample_ratings,
    release_dates,
)
from threadpoolctl import threadpool_limits

from feedcraft.domain import IdIndex, Interactions, ItemVectors
from shareddata import shared_path

N_RATINGS = 3000


def read_ratings(limit: int | None) -> Interactions:
    path = shared_path("movielens-latest-small/ratings.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(itertools.islice(reader, limit))
    return Interactions.from_triples(
        [r["userId"] for r in rows],
        [r["movieId"] for r in rows],
        [float(r["rating"]) for r in rows],
        [float(r["timestamp"]) for r in rows],
    )


@pytest.fixture(scope="session")
def ml_small() -> Interactions:
    return read_ratings(N_RATINGS)


@pytest.fixture(scope="session")
def ml_full() -> Interactions:
    """All 100,836 ratings (610 users, 9,724 movies), for speed checks."""
    return read_ratings(None)


@pytest.fixture(scope="session")
def genre_vectors() -> ItemVectors:
    path = shared_path("movielens-latest-small/movies.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        movies = [(r["movieId"], r["genres"].split("|")) for r in csv.DictReader(f)]
    genres = sorted({g for _, gs in movies for g in gs})
    col = {g: j for j, g in enumerate(genres)}
    m = np.zeros((len(movies), len(genres)), np.float32)
    for i, (_, gs) in enumerate(movies):
        m[i, [col[g] for g in gs]] = 1.0
    return ItemVectors(IdIndex(mid for mid, _ in movies), m)


# -- the bundled sample, for the candidate-source and ranker tests ------------------------------


@pytest.fixture
def one_blas_thread() -> Iterator[None]:
    """Small matrices: a second BLAS thread only adds waiting on a busy machine."""
    with threadpool_limits(1, "blas"):
        yield


@pytest.fixture(scope="session")
def ratings() -> Interactions:
    """The first 5,000 ratings of the bundled sample."""
    return read_sample_ratings(5000)


@pytest.fixture(scope="session")
def movies() -> list[dict[str, str]]:
    return read_sample_movies()


@pytest.fixture(scope="session")
def genres(movies: list[dict[str, str]]) -> dict[str, list[str]]:
    return movie_genres(movies)


@pytest.fixture(scope="session")
def released(movies: list[dict[str, str]]) -> dict[str, float]:
    return release_dates(movies)


@pytest.fixture(scope="session")
def vectors(genres: dict[str, list[str]]) -> ItemVectors:
    return noisy_genre_vectors(genres)

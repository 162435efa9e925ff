"""API fixtures: a real SQLite store holding a real MovieLens subset, trained once per module.

The subset is the first 3,000 ratings of ml-latest-small (20 users) and the movies they name,
written as JSON Lines and imported through the real importer. Tests that write get their own
copy of the trained database, so they never see each other's events.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from feedcraft.api.app import create_app
from feedcraft.config import Settings, load_settings
from feedcraft.services.ingestion import import_jsonl
from feedcraft.services.training import train
from feedcraft.storage import open_store
from shareddata import shared_path

ML = "movielens-latest-small"
N_RATINGS = 3000
DB_NAME = "x.db"


@dataclass(frozen=True)
class MovieLensSubset:
    directory: Path
    titles: dict[str, str]  # movie id -> title
    seen: dict[str, set[str]]  # user id -> movies rated
    counts: Counter[str]  # movie id -> ratings

    @property
    def users(self) -> list[str]:
        return sorted(self.seen, key=int)


def write_movielens_subset(directory: Path, n_ratings: int = N_RATINGS) -> MovieLensSubset:
    """The first `n_ratings` real ratings and the movies they name, as items/events.jsonl."""
    source = shared_path(ML)
    directory.mkdir(parents=True, exist_ok=True)
    with gzip.open(source / "ratings.csv.gz", "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        ratings = [row for _, row in zip(range(n_ratings), reader, strict=False)]
    wanted = {r["movieId"] for r in ratings}
    with gzip.open(source / "movies.csv.gz", "rt", encoding="utf-8", newline="") as f:
        movies = [row for row in csv.DictReader(f) if row["movieId"] in wanted]
    with open(directory / "items.jsonl", "w", encoding="utf-8") as f:
        for m in movies:
            genres = m["genres"].split("|")
            item = {"id": m["movieId"], "title": m["title"], "kind": "video"}
            item |= {"category": genres[0], "tags": genres}
            f.write(json.dumps(item) + "\n")
    with open(directory / "events.jsonl", "w", encoding="utf-8") as f:
        for r in ratings:
            event = {"user_id": r["userId"], "item_id": r["movieId"], "type": "rating"}
            event |= {"timestamp": int(r["timestamp"]), "value": float(r["rating"])}
            f.write(json.dumps(event) + "\n")
    seen: dict[str, set[str]] = {}
    for r in ratings:
        seen.setdefault(r["userId"], set()).add(r["movieId"])
    return MovieLensSubset(
        directory=directory,
        titles={m["movieId"]: m["title"] for m in movies},
        seen=seen,
        counts=Counter(r["movieId"] for r in ratings),
    )


def settings_for(db: Path) -> Settings:
    return load_settings(store=f"sqlite:///{db}", embedding={"model": "hashing"}, progress=False)


def copy_db(source: Path, target_dir: Path) -> Path:
    for path in source.parent.glob(source.name + "*"):  # the database and any WAL beside it
        shutil.copy(path, target_dir / path.name)
    return target_dir / source.name


@dataclass(frozen=True)
class TrainedStore:
    db: Path
    data: MovieLensSubset


@pytest.fixture(scope="module")
def ml_subset(tmp_path_factory: pytest.TempPathFactory) -> MovieLensSubset:
    return write_movielens_subset(tmp_path_factory.mktemp("ml-jsonl"))


@pytest.fixture(scope="module")
def imported_db(tmp_path_factory: pytest.TempPathFactory, ml_subset: MovieLensSubset) -> Path:
    """The subset imported, nothing trained."""
    db = tmp_path_factory.mktemp("imported") / DB_NAME
    with closing(open_store(settings_for(db).store)) as store:
        import_jsonl(store, ml_subset.directory, progress=False)
    return db


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory, imported_db: Path, ml_subset: MovieLensSubset
) -> TrainedStore:
    """The subset imported, embedded (hashing encoder) and every model trained once."""
    db = copy_db(imported_db, tmp_path_factory.mktemp("trained"))
    settings = settings_for(db)
    with closing(open_store(settings.store)) as store:
        train(store, settings, progress=False)
    return TrainedStore(db, ml_subset)


@pytest.fixture
def client(trained: TrainedStore, tmp_path: Path) -> Iterator[TestClient]:
    """A client on this test's own copy of the trained store."""
    with TestClient(create_app(settings_for(copy_db(trained.db, tmp_path)))) as c:
        yield c


@pytest.fixture
def untrained_client(imported_db: Path, tmp_path: Path) -> Iterator[TestClient]:
    """A client on a copy of the imported, never-trained store."""
    with TestClient(create_app(settings_for(copy_db(imported_db, tmp_path)))) as c:
        yield c


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    """A client on a new, empty store."""
    with TestClient(create_app(settings_for(tmp_path / DB_NAME))) as c:
        yield c


def client_factory(source: Path, tmp_path: Path) -> Callable[..., TestClient]:
    """Factory: a client on a fresh copy of the store at `source`, with extra settings."""
    counter = iter(range(1_000))

    def make(**overrides: object) -> TestClient:
        target = tmp_path / f"copy{next(counter)}"
        target.mkdir()
        db = copy_db(source, target)
        settings = load_settings(
            store=f"sqlite:///{db}", embedding={"model": "hashing"}, progress=False, **overrides
        )
        return TestClient(create_app(settings))

    return make


@pytest.fixture
def client_with(trained: TrainedStore, tmp_path: Path) -> Callable[..., TestClient]:
    """Factory: a client on a fresh copy of the trained store, with extra settings."""
    return client_factory(trained.db, tmp_path)

"""CLI fixtures: a real MovieLens subset as JSON Lines, an environment for `feedcraft`, and
`feedcraft` run in process in that environment."""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from feedcraft.cli.main import app
from shareddata import shared_path

ML = "movielens-latest-small"
N_RATINGS = 3000


@pytest.fixture(scope="session")
def ml_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 3,000 real ratings of ml-latest-small (20 users) and the movies they name,
    as items.jsonl and events.jsonl."""
    source = shared_path(ML)
    directory = tmp_path_factory.mktemp("ml-jsonl")
    with gzip.open(source / "ratings.csv.gz", "rt", encoding="utf-8", newline="") as f:
        ratings = [row for _, row in zip(range(N_RATINGS), csv.DictReader(f), strict=False)]
    wanted = {r["movieId"] for r in ratings}
    with gzip.open(source / "movies.csv.gz", "rt", encoding="utf-8", newline="") as f:
        movies = [row for row in csv.DictReader(f) if row["movieId"] in wanted]
    with open(directory / "items.jsonl", "w", encoding="utf-8") as f:
        for m in movies:
            genres = m["genres"].split("|")
            item = {"id": m["movieId"], "title": m["title"], "category": genres[0]}
            f.write(json.dumps(item | {"tags": genres, "kind": "video"}) + "\n")
    with open(directory / "events.jsonl", "w", encoding="utf-8") as f:
        for r in ratings:
            event = {"user_id": r["userId"], "item_id": r["movieId"], "type": "rating"}
            event |= {"timestamp": int(r["timestamp"]), "value": float(r["rating"])}
            f.write(json.dumps(event) + "\n")
    return directory


@pytest.fixture
def cli_env(tmp_path: Path, machine_cache: Path) -> dict[str, str]:
    """Environment for a `feedcraft` process or CliRunner: a store in tmp_path, the hashing
    encoder, no progress bars, the run's machine cache, and no other FEEDCRAFT_* settings
    inherited from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDCRAFT_")}
    env |= {
        "FEEDCRAFT_STORE": f"sqlite:///{tmp_path / 'x.db'}",
        "FEEDCRAFT_CACHE_DIR": str(machine_cache),
        "FEEDCRAFT_EMBEDDING__MODEL": "hashing",
        "FEEDCRAFT_PROGRESS": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "COLUMNS": "80",  # a narrow terminal: messages must not be hard-wrapped
    }
    return env


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Callable[..., Result]:
    """Run `feedcraft ARGS...` in process with the test's environment (FEEDCRAFT_* variables
    of the caller that cli_env leaves out are unset, not inherited)."""
    env: dict[str, str | None] = dict(cli_env)
    env |= {k: None for k in os.environ if k.startswith("FEEDCRAFT_") and k not in cli_env}

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    return invoke

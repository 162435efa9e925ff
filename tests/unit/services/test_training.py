"""The training job hands models the item metadata they take, and the server prepares the
models it loads: the ranker gets categories and dates, drops the time features unless told,
and serves compiled boosters once the background work is done.

Data: the first 3,000 ratings of the MovieLens sample bundled with feedcraft, and their movies
(genres as category and tags, the title's year as publication date), through a real store.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedcraft.config import Settings
from feedcraft.domain import Item
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.ranker import TIME_FEATURES, LearnedRanker
from feedcraft.services.interactions import ItemMetadata, load_item_metadata
from feedcraft.services.models import ModelCache, load_model
from feedcraft.services.recommend import FeedService
from feedcraft.services.training import metadata_arguments, train
from feedcraft.storage import Store

SAMPLE = Path(__file__).resolve().parents[3] / "src" / "feedcraft" / "sample"
N_RATINGS = 3000


@pytest.fixture
def movielens_store(store: Store) -> Store:
    from feedcraft.formats.movielens import read_movies, read_ratings

    folder = SAMPLE / "movielens-latest-small"
    events = list(itertools.islice(read_ratings(folder / "ratings.csv.gz"), N_RATINGS))
    wanted = {e.item_id for e in events}
    store.catalogue.upsert(m for m in read_movies(folder / "movies.csv.gz") if m.id in wanted)
    store.events.append(events)
    return store


def test_item_metadata_is_categories_then_tags_and_dates(store: Store) -> None:
    published = datetime(1995, 1, 1, tzinfo=UTC)
    store.catalogue.upsert(
        [
            Item(
                "heat",
                "Heat (1995)",
                category="Action",
                tags=("Action", "Crime"),
                published_at=published,
            ),
            Item("plain", "No genres"),
            Item("news", "A story", category="Science", subcategory="Space", tags=("nasa",)),
        ]
    )
    metadata = load_item_metadata(store)
    assert metadata.categories == {
        "heat": ("Action", "Crime"),
        "news": ("Science", "Space", "nasa"),
    }
    assert metadata.published_at == {"heat": published.timestamp()}


def test_metadata_goes_only_to_models_whose_fit_takes_it() -> None:
    metadata = ItemMetadata({"a": ("x",)}, {"a": 1.0})
    assert metadata_arguments(make_recommender("ranker"), metadata) == {
        "item_categories": metadata.categories,
        "published_at": metadata.published_at,
    }
    assert metadata_arguments(make_recommender("ease"), metadata) == {}
    assert metadata_arguments(make_recommender("ranker"), None) == {}


@pytest.mark.slow
def test_trained_ranker_uses_metadata_and_serves_compiled(
    movielens_store: Store, settings: Settings
) -> None:
    (report,) = train(movielens_store, settings, models=["ranker"], progress=False)
    model, _ = load_model(movielens_store, "ranker")
    assert isinstance(model, LearnedRanker) and report.version == 1
    # no time features unless the settings ask for them
    assert not set(TIME_FEATURES) & set(model.feature_names_)
    assert "category_affinity" in model.feature_names_
    stage = model.stage_
    assert stage.item_categories and stage.published_at  # genres and years reached the fit
    assert "fresh" in stage.sources_  # dates make the fresh-items source

    cache = ModelCache(movielens_store)
    served, _ = cache.get("ranker")
    cache.close()  # waits for the compile: exiting under LLVM mid-compile is a segfault
    assert not cache.preparing["recommender:ranker"].is_alive()
    assert getattr(served, "_compiled", None) is not None

    feed = FeedService(movielens_store, settings, "hashing-256").feed("1", 10)
    assert feed.model == "ranker@v1" and len(feed.entries) == 10
    assert all(e.reason for e in feed.entries)
    assert any(e.reason.startswith("because you liked") for e in feed.entries)


@pytest.mark.slow
def test_a_feed_service_keeps_the_compiled_ranker_in_the_machine_cache(
    movielens_store: Store, settings: Settings, tmp_path: Path
) -> None:
    """The serving path passes settings' `cache_dir` to the ranker's compile: a restarted
    server loads the machine code instead of compiling it again (recommenders' tests)."""
    train(movielens_store, settings, models=["ranker"], progress=False)
    cached = settings.model_copy(update={"cache_dir": tmp_path / "machine"})
    service = FeedService(movielens_store, cached, "hashing-256")
    try:
        assert service.feed("1", 10).model == "ranker@v1"
    finally:
        service.close()
    model, _ = load_model(movielens_store, "ranker")
    assert isinstance(model, LearnedRanker)
    files = list((tmp_path / "machine").glob("*.o"))
    assert len(files) == model.n_boosters


# A program that loads the ranker and exits without closing its cache: the atexit hook in
# services.models must let the compile finish. The check below is registered before feedcraft
# is imported, so (atexit runs last-in, first-out) it runs after every hook feedcraft or the
# libraries it imports register (the temporary folder's cleanup at exit among them: it once
# deleted the compile's files under it), and reports what the compile thread left behind.
_EXIT_WITHOUT_CLOSE = """
import atexit, sys, threading, time

def report():
    alive = [t.name for t in threading.enumerate() if t.name.startswith("prepare-")]
    print("alive: " + ",".join(alive) if alive else "compile finished", flush=True)

atexit.register(report)
from feedcraft.services.models import ModelCache
from feedcraft.storage import open_store

store = open_store(sys.argv[1])
model, _ = ModelCache(store).get("ranker")
time.sleep(1.0)  # the compile is under way (temporary files made), not done: ~7 s for three
print("compiled before exit:", getattr(model, "_compiled", None) is not None, flush=True)
"""


@pytest.mark.slow
def test_a_program_exiting_while_the_ranker_compiles_waits_for_it(
    movielens_store: Store, settings: Settings
) -> None:
    import subprocess
    import sys

    train(movielens_store, settings, models=["ranker"], progress=False)
    done = subprocess.run(
        [sys.executable, "-c", _EXIT_WITHOUT_CLOSE, settings.store],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "compiled before exit: False" in done.stdout  # it really exited mid-compile
    assert done.stdout.rstrip().endswith("compile finished"), done.stdout
    assert "failed" not in done.stderr, done.stderr[-2000:]  # the compile itself succeeded

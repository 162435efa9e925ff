"""Real data sets imported through the real SQLite store: counts, idempotency, stubs, a crash."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from contextlib import closing

import pytest

from feedcraft.domain import EventType
from feedcraft.services.ingestion import import_mind, import_movielens
from feedcraft.storage import open_store
from shareddata import shared_path

MIND = "mind-small/MINDsmall_train_sample"
NEMIG = "nemig/en"
ML = "movielens-latest-small"
ML_RATINGS = 100_836


@pytest.mark.slow
def test_movielens_import_and_reimport(store_url: str) -> None:
    directory = shared_path(ML)
    with closing(open_store(store_url)) as store:
        report = import_movielens(store, directory, progress=False)
        assert (report.items_new, report.events_new, report.stubs_created) == (9_742, ML_RATINGS, 0)
        assert store.events.count() == ML_RATINGS and store.catalogue.count() == 9_742
        assert store.catalogue.get("1").attributes["user_tags"] == ["pixar", "fun"]
        again = import_movielens(store, directory, progress=False)
        assert (again.items_new, again.events_new, again.events_seen) == (0, 0, ML_RATINGS)
        assert store.events.count() == ML_RATINGS


@pytest.mark.slow
def test_mind_sample_import_with_stubs(store_url: str) -> None:
    directory = shared_path(MIND)
    with closing(open_store(store_url)) as store:
        report = import_mind(store, directory, progress=False)
        assert report.items_new == 2_000
        # 189,359 impressions + 7,542 labelled clicks + 136,952 distinct (user, item) histories
        assert report.events_read == 354_204 and report.events_new == 333_853
        assert report.stubs_created == 21_754  # ids in behaviors.tsv without a news.tsv row
        assert store.catalogue.count() == 23_754
        assert store.catalogue.count(include_stubs=False) == 2_000
        full = store.catalogue.get("N10286")  # in news.tsv and named by events
        assert not full.stub and full.title
        slate = [
            (e.item_id, e.position)
            for e in store.events.iter_events(user_id="U81994", types=[EventType.CLICK])
            if e.impression_id == "58376"
        ]
        assert sorted(slate, key=lambda x: x[1] or 0) == [("N6975", 2), ("N20678", 5)]

        again = import_mind(store, directory, progress=False)
        assert (again.events_new, again.events_seen, again.stubs_created) == (0, 354_204, 0)
        assert again.items_new == 0 and store.events.count() == 333_853
        assert not store.catalogue.get("N10286").stub


@pytest.mark.slow
def test_nemig_import(store_url: str) -> None:
    with closing(open_store(store_url)) as store:
        report = import_mind(store, shared_path(NEMIG), progress=False, provider="NeMig")
        assert (report.items_new, report.stubs_created) == (10_814, 0)
        assert report.events_new == 113_303  # 85,218 shown + 14,148 clicks + 13,937 history
        assert store.catalogue.get("news_0").provider == "NeMig"


CHILD = textwrap.dedent(
    """
    import sys
    from feedcraft.services.ingestion import import_movielens
    from feedcraft.storage import open_store

    store = open_store(sys.argv[1])

    def acknowledged(report):
        print(report.events_new, flush=True)

    import_movielens(store, sys.argv[2], batch_size=1000, progress=False, on_batch=acknowledged)
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_killed_import_keeps_what_it_acknowledged_and_resumes(store_url: str) -> None:
    directory = shared_path(ML)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store_url, str(directory)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        for line in child.stdout:
            assert line.strip() != "done", "the import finished before it could be killed"
            if int(line) > 0:
                acknowledged.append(int(line))
            if len(acknowledged) == 5:
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL and len(acknowledged) == 5

    with closing(open_store(store_url)) as store:
        survived = store.events.count()
        assert acknowledged[-1] <= survived < ML_RATINGS
        resumed = import_movielens(store, directory, batch_size=1000, progress=False)
        assert resumed.events_new == ML_RATINGS - survived
        assert store.events.count() == ML_RATINGS

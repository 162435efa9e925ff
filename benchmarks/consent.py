"""What obeying consent costs a feed: the lookup every feed and generation now makes, and a
feed served without the reader's data, next to the personalised feed.

The bundled MovieLens sample imported, item-kNN trained (hashing encoder), in process (no
HTTP): `FeedService.feed(n=20)` for 200 real readers, each way `--repeats` times, interleaved;
median microseconds per call.

    .venv/bin/python benchmarks/consent.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from feedcraft.cli.main import sample_dir
from feedcraft.config import load_settings
from feedcraft.domain import Purpose
from feedcraft.services.ingestion import import_movielens
from feedcraft.services.recommend import FeedService
from feedcraft.services.training import train
from feedcraft.storage import open_store
from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "consent.json"
MODEL = "itemknn"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.db"
        settings = load_settings(
            store=f"sqlite:///{db}", embedding={"model": "hashing"}, progress=False
        )
        with closing(open_store(settings.store)) as store:
            import_movielens(store, sample_dir("movielens-latest-small"), progress=False)
            train(store, settings, models=[MODEL], progress=False)
            readers = store.events.user_ids()[:400]
            undecided, refused = readers[:200], readers[200:]
            feeds = FeedService(store, settings, "hashing-256")
            for user in refused:
                feeds.consent.record(user, {"personalisation": False})
            feeds.feed(undecided[0], 20, MODEL)  # load the model
            ways: dict[str, Callable[[str], Any]] = {
                "feed, personalised (no record: default)": lambda u: feeds.feed(u, 20, MODEL),
                "feed, consent refused (a reader never seen)": lambda u: feeds.feed(u, 20, MODEL),
                "consent lookup, no record": lambda u: feeds.consent.allows(
                    u, Purpose.PERSONALISATION
                ),
                "consent lookup, a record": lambda u: feeds.consent.allows(
                    u, Purpose.PERSONALISATION
                ),
            }
            users = [undecided, refused, undecided, refused]
            samples: dict[str, list[float]] = {w: [] for w in ways}
            for _ in range(args.repeats):
                for (way, call), group in zip(ways.items(), users, strict=True):
                    start = time.perf_counter()
                    for user in group:
                        call(user)
                    samples[way].append((time.perf_counter() - start) / len(group) * 1e6)
            feeds.close()
    base = statistics.median(samples[next(iter(ways))])
    rows = [{"way": w, "median_us": statistics.median(s), "runs_us": s} for w, s in samples.items()]
    print(
        f"\nFeedService.feed(n=20, {MODEL}) on the MovieLens sample, 200 readers, "
        f"{args.repeats} runs each\n"
    )
    print("| way | median µs per call | vs personalised feed |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r['way']} | {r['median_us']:.0f} | {r['median_us'] / base:.3f}x |")
    args.out.write_text(json.dumps({"hardware": hardware(), "rows": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

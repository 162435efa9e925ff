"""What keeping reader ids as pseudonyms costs: importing the bundled MovieLens sample (100,836
ratings) into a fresh store with and without `[privacy] pseudonym_key`, `--repeats` times
each, interleaved; and a reader id's mapping (HMAC-SHA256) on its own, the first time (a new
`Pseudonyms` keyed each time, as a process starting) and once remembered.

    .venv/bin/python benchmarks/pseudonyms.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import timeit
from contextlib import closing
from pathlib import Path

from pydantic import SecretStr

from feedcraft.cli.main import sample_dir
from feedcraft.services.ingestion import import_movielens
from feedcraft.services.pseudonyms import Pseudonyms
from feedcraft.storage import open_store
from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "pseudonyms.json"
KEY = SecretStr("a-benchmark-pseudonym-key-0001")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    ways = {"plain ids": Pseudonyms(None), "pseudonyms": Pseudonyms(KEY)}
    seconds: dict[str, list[float]] = {w: [] for w in ways}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for way, readers in ways.items():
                db = Path(tmp) / f"{r}-{way.replace(' ', '-')}.db"
                url = f"sqlite:///{db}"
                with closing(open_store(url)) as store:
                    readers.check_store(store)
                    start = time.perf_counter()
                    import_movielens(
                        store, sample_dir("movielens-latest-small"), progress=False, readers=readers
                    )
                    seconds[way].append(time.perf_counter() - start)
    readers = ways["pseudonyms"]
    cached_us = (
        min(timeit.repeat(lambda: readers.reader("r-1"), number=10_000, repeat=5)) / 1e4 * 1e6
    )
    fresh = iter(range(10**9))
    first_us = (
        min(
            timeit.repeat(
                lambda: Pseudonyms(KEY)._digest(str(next(fresh)).encode()), number=10_000, repeat=5
            )
        )
        / 1e4
        * 1e6
    )
    base = statistics.median(seconds["plain ids"])
    print(f"\nimporting the MovieLens sample (100,836 ratings), {args.repeats} runs each\n")
    print("| way | median s | vs plain ids |")
    print("|---|---|---|")
    rows = []
    for way, runs in seconds.items():
        median = statistics.median(runs)
        rows.append({"way": way, "median_s": median, "runs": runs})
        print(f"| {way} | {median:.2f} | {median / base:.3f}x |")
    print(f"\na reader id mapped: {first_us:.2f} µs the first time, {cached_us:.2f} µs after")
    out = {"hardware": hardware(), "rows": rows, "first_us": first_us, "cached_us": cached_us}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

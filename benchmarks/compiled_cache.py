"""The learned ranker's compiled boosters, kept on disk: what does a restarted server save?

A server compiles the ranker's LightGBM boosters to native code after loading it
(`recommenders/compiled_trees`), in the background, on the cores that serve requests; every
restart, and every process serving the same model, compiled them again. With a cache folder
(settings `cache_dir`) the machine code is written once and loaded after.

The ranker as the main job trains it (MovieLens latest-small, the shipped parameters), from
its pickle as a server loads it; `prepare_serving` timed three ways, each on a fresh copy,
interleaved, `--repeats` times: without a cache folder (the code before), with an empty one
(compile and write), with the files that wrote (load).

    .venv/bin/python benchmarks/compiled_cache.py
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from feedcraft.cli.main import sample_dir
from feedcraft.config import load_settings
from feedcraft.services.ingestion import import_movielens
from feedcraft.services.models import load_model
from feedcraft.services.training import train
from feedcraft.storage import model_pickle, open_store
from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "compiled_cache.json"
WAYS = ("no cache (before)", "empty cache (compile, write)", "cached (load)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {w: [] for w in WAYS}
    sizes: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        blob = _trained_ranker(Path(tmp) / "store.db")
        for r in range(args.repeats):
            cache = Path(tmp) / f"cache{r}"
            for way, folder in zip(WAYS, (None, cache, cache), strict=True):
                model: Any = model_pickle.loads(blob)
                start = time.perf_counter()
                model.prepare_serving(folder)
                seconds[way].append(time.perf_counter() - start)
                if model._compiled is None:
                    raise RuntimeError(f"{way}: not compiled")
            sizes = [p.stat().st_size for p in cache.glob("*.o")]
            shutil.rmtree(cache)
    rows = [
        {
            "way": w,
            "median_s": statistics.median(s),
            "min_s": min(s),
            "max_s": max(s),
            "runs": s,
        }
        for w, s in seconds.items()
    ]
    report(rows, sizes, args.repeats)
    out = {"hardware": hardware(), "rows": rows, "file_bytes": sizes, "repeats": args.repeats}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


def _trained_ranker(db: Path) -> bytes:
    """The bundled MovieLens sample imported and the ranker trained as `feedcraft run` does
    (hashing encoder: the compile does not depend on it), loaded as a server loads it; its
    pickle, for fresh copies."""
    settings = load_settings(
        store=f"sqlite:///{db}", embedding={"model": "hashing"}, progress=False
    )
    store = open_store(settings.store)
    try:
        import_movielens(store, sample_dir("movielens-latest-small"), progress=False)
        start = time.perf_counter()
        train(store, settings, models=["ranker"], progress=False)
        print(f"trained the ranker in {time.perf_counter() - start:.0f} s")
        model, _ = load_model(store, "ranker")  # as a server loads it
        return pickle.dumps(model)
    finally:
        store.close()


def report(rows: list[dict[str, Any]], sizes: list[int], repeats: int) -> None:
    print(f"\nprepare_serving of the MovieLens ranker (3 boosters), {repeats} runs each\n")
    print("| way | median s | min / max s | vs no cache |")
    print("|---|---|---|---|")
    base = rows[0]["median_s"]
    for r in rows:
        print(
            f"| {r['way']} | {r['median_s']:.3f} | {r['min_s']:.3f} / {r['max_s']:.3f} "
            f"| {r['median_s'] / base:.3f}x |"
        )
    print(f"\ncompiled files: {len(sizes)}, {sum(sizes) / 1e6:.2f} MB in all")


if __name__ == "__main__":
    main()

"""Erasing readers: what does rewriting every stored model without them cost, next to
training every model again without them (the other way to get models that do not know them)?

The bundled MovieLens sample (610 readers, 100,836 ratings) imported and every model the main
job trains, trained once (hashing encoder), as `feedcraft run` does. Each erasure runs on a
fresh copy of that database: one reader, then ten in one call, `--repeats` times each. The
peer deletes the same ten readers' events and runs `train` again (once: minutes).

    .venv/bin/python benchmarks/erasure.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from feedcraft.cli.main import sample_dir
from feedcraft.config import Settings, load_settings
from feedcraft.services.erasure import erase_users
from feedcraft.services.ingestion import import_movielens
from feedcraft.services.models import artifact_name
from feedcraft.services.training import MODEL_NAMES, train
from feedcraft.storage import open_store
from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "erasure.json"
TEN = [str(u) for u in range(101, 111)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trained = Path(tmp) / "trained" / "store.db"
        trained.parent.mkdir()
        sizes, train_s = _trained(trained)
        ways: dict[str, list[float]] = {"erase 1 reader": [], "erase 10 readers": []}
        events: dict[str, int] = {}
        for r in range(args.repeats):
            for way, ids in (("erase 1 reader", ["100"]), ("erase 10 readers", TEN)):
                settings = _copy(trained, Path(tmp) / f"{way}-{r}".replace(" ", "-"))
                with closing(open_store(settings.store)) as store:
                    start = time.perf_counter()
                    report = erase_users(store, ids)
                    ways[way].append(time.perf_counter() - start)
                if len(report.models) != len(MODEL_NAMES):
                    raise RuntimeError(f"{way}: rewrote {report.models}, not every model")
                events[way] = report.events
        settings = _copy(trained, Path(tmp) / "retrain")
        with closing(open_store(settings.store)) as store:
            start = time.perf_counter()
            removed = sum(store.events.delete_user(u) for u in TEN)
            train(store, settings, progress=False)
            retrain_s = time.perf_counter() - start
    rows: list[dict[str, Any]] = [
        {"way": w, "events": events[w], "median_s": statistics.median(s), "runs": s}
        for w, s in ways.items()
    ]
    rows.append(
        {"way": "delete 10 readers' events, train again", "events": removed, "median_s": retrain_s}
    )
    report_table(rows, sizes, train_s, args.repeats)
    out = {"hardware": hardware(), "rows": rows, "model_bytes": sizes, "repeats": args.repeats}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


def _settings(db: Path) -> Settings:
    return load_settings(store=f"sqlite:///{db}", embedding={"model": "hashing"}, progress=False)


def _copy(db: Path, folder: Path) -> Settings:
    folder.mkdir()
    for path in db.parent.glob(db.name + "*"):
        shutil.copy(path, folder / path.name)
    return _settings(folder / db.name)


def _trained(db: Path) -> tuple[dict[str, int], float]:
    """The sample imported and every model trained; each model's stored size, and the
    training's seconds."""
    settings = _settings(db)
    with closing(open_store(settings.store)) as store:
        import_movielens(store, sample_dir("movielens-latest-small"), progress=False)
        start = time.perf_counter()
        train(store, settings, progress=False)
        seconds = time.perf_counter() - start
        sizes = {m: store.artifacts.versions(artifact_name(m))[-1].size for m in MODEL_NAMES}
    print(f"trained {len(MODEL_NAMES)} models in {seconds:.0f} s")
    return sizes, seconds


def report_table(rows: list[dict[str, Any]], sizes: dict[str, int], train_s: float, n: int) -> None:
    print(f"\nerasure on the MovieLens sample, every model stored once ({n} runs each)\n")
    print("| way | events removed | median s | vs training again |")
    print("|---|---|---|---|")
    base = rows[-1]["median_s"]
    for r in rows:
        print(f"| {r['way']} | {r['events']} | {r['median_s']:.2f} | {r['median_s'] / base:.3f}x |")
    total = sum(sizes.values())
    each = ", ".join(f"{m} {b / 1e6:.1f}" for m, b in sizes.items())
    print(f"\nmodels stored: {total / 1e6:.1f} MB ({each}); first training {train_s:.0f} s")


if __name__ == "__main__":
    main()

"""Readers asking for the same uncached text at once: how many model runs, how long they wait.

A new article goes on the front page; several readers open it within the same second and
each client asks for its summary (`GET /items/{id}/summary`) or headline variants
(`GET /items/{id}/headlines`) before any is cached. The earlier code let every request that
missed the cache run the model (one at a time: the embedded engine serves one request at a
time), so the last reader waited for all of them; with single flight the first request runs
the model and the others wait for its text.

Measured per burst (R readers at once, one item): the slowest and mean reader's seconds, and
how many answers the model wrote (`cache_hit` false) against read from the cache. The
earlier code runs from a worktree of the commit before the change:

    git worktree add /tmp/cm_before <commit>
    .venv/bin/python benchmarks/concurrent_misses.py --before /tmp/cm_before/src

Real server processes (`feedcraft serve --warm-generation`, uvicorn, over HTTP), warmed
before the readers arrive; the two versions run one after the other on copies of one store.
With `--processes P` there are P servers on the one store (as several workers behind a
balancer), the readers taking them in turn: single flight alone ran the model once per
process; a claim in the store makes it once in all.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

from feedcraft.config import load_settings
from feedcraft.storage import open_store
from server_start import copy_store, get, hardware, mind_store, served, wait_warm

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "concurrent_misses.json"
TASKS = {"summary": "summary", "headlines": "headlines?n=3"}


def items_with_text(db: Path, k: int) -> list[str]:
    """The first `k` items (id order) with a title and a body of at least 30 words."""
    store = open_store(load_settings(store=f"sqlite:///{db}", progress=False).store)
    try:
        found = []
        for item_id in store.catalogue.ids(include_stubs=False):
            item = store.catalogue.get(item_id)
            if item.title.strip() and len(item.body.split()) >= 30:
                found.append(item_id)
            if len(found) == k:
                return found
        raise RuntimeError(f"only {len(found)} items with text")
    finally:
        store.close()


def burst(bases: list[str], path: str, readers: int) -> list[dict[str, Any]]:
    """`readers` clients ask for `path` at the same moment, reader i of the server
    `bases[i % len(bases)]`; each one's seconds and hit."""
    barrier = threading.Barrier(readers)
    out: list[dict[str, Any]] = [{} for _ in range(readers)]

    def work(i: int) -> None:
        barrier.wait()
        start = time.perf_counter()
        answer = get(bases[i % len(bases)] + path)
        out[i] = {"s": time.perf_counter() - start, "hit": answer["cache_hit"]}
        out[i]["outputs"] = answer["outputs"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any(not r for r in out):
        raise RuntimeError(f"a reader of {path} failed")
    return out


def run_once(
    db: Path, items: list[str], readers: int, backend: str, src: str | None, processes: int
) -> list[dict[str, Any]]:
    env = {"PYTHONPATH": src} if src else {}
    bursts = []
    with ExitStack() as stack:
        bases = [
            stack.enter_context(served(db, backend, "--warm-generation", env=env))[1]
            for _ in range(processes)
        ]
        for base in bases:
            wait_warm(base)
        for task, suffix in TASKS.items():
            for item_id in items:
                path = f"/items/{quote(item_id, safe='')}/{suffix}"
                answers = burst(bases, path, readers)
                same = all(a["outputs"] == answers[0]["outputs"] for a in answers)
                bursts.append({"task": task, "item": item_id, "same_text": same, "ask": answers})
    return bursts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="src/ of the earlier code")
    parser.add_argument("--now", default=None, help="src/ of the new code (default: installed)")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--backend", default="gemma3")
    parser.add_argument("--processes", type=int, default=1, help="servers on the one store")
    parser.add_argument(
        "--names", default="every miss runs (before),single flight (now)", help="of the two codes"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    before, now = args.names.split(",")
    variants = {before: args.before, now: args.now}
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.db"
        mind_store(source)
        items = items_with_text(source, args.items)
        for name, src in variants.items():
            run = Path(tmp) / f"run{len(runs)}"
            db = copy_store(source, run)
            for b in run_once(db, items, args.readers, args.backend, src, args.processes):
                runs.append({"code": name, **b})
                print(json.dumps(runs[-1])[:300])
            shutil.rmtree(run)
    rows = []
    for name in variants:
        for task in TASKS:
            mine = [b for b in runs if b["code"] == name and b["task"] == task]
            asks = [a for b in mine for a in b["ask"]]
            rows.append(
                {
                    "code": name,
                    "task": task,
                    "bursts": len(mine),
                    "model_runs_per_burst": sum(not a["hit"] for a in asks) / len(mine),
                    "slowest_mean_s": statistics.mean(max(a["s"] for a in b["ask"]) for b in mine),
                    "reader_mean_s": statistics.mean(a["s"] for a in asks),
                    "same_text_share": sum(b["same_text"] for b in mine) / len(mine),
                }
            )
    print(
        f"\n{args.readers} readers at once per item, {args.items} items per task, "
        f"{args.processes} server process(es), {args.backend}, cold cache\n"
    )
    print(
        "| code | task | model runs per burst | slowest reader, mean s (vs before) "
        "| mean reader s (vs before) | readers got one text |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        base = next(x for x in rows if x["task"] == r["task"])
        print(
            f"| {r['code']} | {r['task']} | {r['model_runs_per_burst']:.2f} "
            f"| {r['slowest_mean_s']:.1f} ({r['slowest_mean_s'] / base['slowest_mean_s']:.2f}x) "
            f"| {r['reader_mean_s']:.1f} ({r['reader_mean_s'] / base['reader_mean_s']:.2f}x) "
            f"| {r['same_text_share']:.2f} |"
        )
    out = {"hardware": hardware(), "readers": args.readers, "items": items}
    out |= {"backend": args.backend, "processes": args.processes, "rows": rows, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

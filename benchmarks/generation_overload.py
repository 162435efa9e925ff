"""Many readers asking for summaries at once: does the rest of the API keep answering?

Every API route is a plain function that FastAPI runs in one shared pool of 40 threads. A
summary the cache lacks holds its thread while the model writes it (seconds; the embedded
model writes one text at a time), so a burst of summary requests for distinct items can hold
every thread, and feeds, event writes and /health then wait behind the model.

The burst: `--burst` clients ask at the same moment for the summaries of as many distinct
items (cold cache). Meanwhile one prober asks, one after another until the burst is answered,
for a feed (`GET /users/{id}/feed`, no summaries), `POST /events` (one click) and `/health`,
and records each answer's latency. Measured: the probes' latencies during the burst, each
summary's latency, how many summaries the model wrote (the others are the extractive
fallback served at once, reported as busy), and the burst's wall time.

`--readers`: the burst's requests are personalised, each by another reader (MIND users,
each with a profile), and the store already holds the summary of each item for no particular
reader, as a nightly `feedcraft generate batch` leaves it (written once, by a server of the
current code, before the runs; the copies of the store all have them). Then a busy reader may
be served that summary instead of the extractive fallback.

Before and now side by side on copies of one store, on real server processes (`feedcraft
serve --warm-generation`, uvicorn, over HTTP), interleaved; the earlier code from a worktree:

    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/generation_overload.py --before /tmp/before/src
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from server_start import (
    copy_store,
    get,
    hardware,
    items_with_text,
    mind_store,
    readers_with_interests,
    served,
    wait_warm,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "generation_overload.json"
READERS_OUT = REPO / "benchmarks" / "results" / "generation_overload_readers.json"


def post(url: str, body: Any, timeout: float = 900) -> Any:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def run_once(
    db: Path,
    items: list[str],
    user: str,
    backend: str,
    src: str | None,
    readers: list[str] | None = None,
) -> dict[str, Any]:
    env = {"PYTHONPATH": src} if src else {}
    with served(db, backend, "--warm-generation", env=env) as (_, base):
        wait_warm(base)
        # one feed and one event before the burst: what the probes cost on an idle server
        idle = {
            "feed": timed(lambda: get(f"{base}/users/{user}/feed?n=10&model=content")),
            "events": timed(lambda: post(f"{base}/events", _click(user, items[0], 0))),
        }
        barrier = threading.Barrier(len(items) + 1)
        answers: list[dict[str, Any]] = [{} for _ in items]

        def ask(i: int) -> None:
            barrier.wait()
            start = time.perf_counter()
            reader = f"?user_id={readers[i]}" if readers else ""
            out = get(f"{base}/items/{items[i]}/summary{reader}")
            error = out.get("backend_error") or ""
            answers[i] = {
                "s": time.perf_counter() - start,
                "model": not out["fallback"],
                "busy": "busy" in error,
                "for_anyone": "no particular reader" in error,
                "personal": bool(out["interests"]),
            }

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(items))]
        for t in threads:
            t.start()
        barrier.wait()
        burst_start = time.perf_counter()
        probes: dict[str, list[float]] = {"feed": [], "events": [], "health": []}
        n = 0
        while any(t.is_alive() for t in threads):
            n += 1
            probes["feed"].append(
                timed(lambda: get(f"{base}/users/{user}/feed?n=10&model=content"))
            )
            click = _click(user, items[0], n)
            probes["events"].append(timed(lambda: post(f"{base}/events", click)))  # noqa: B023
            probes["health"].append(timed(lambda: get(f"{base}/health")))
            time.sleep(0.2)
        for t in threads:
            t.join()
        wall = time.perf_counter() - burst_start
        if any(not a for a in answers):
            raise RuntimeError("a summary request failed")
        return {"idle": idle, "probes": probes, "answers": answers, "wall_s": wall}


def _click(user: str, item: str, n: int) -> dict[str, Any]:
    stamp = f"2019-11-15T10:{n // 60 % 60:02d}:{n % 60:02d}Z"
    return {"events": [{"user_id": user, "item_id": item, "type": "click", "timestamp": stamp}]}


def summarise(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    answers = [a for r in runs for a in r["answers"]]
    row: dict[str, Any] = {"code": name}
    for kind in ("feed", "events", "health"):
        seen = sorted(s for r in runs for s in r["probes"][kind])
        row[f"{kind}_median_s"] = statistics.median(seen)
        row[f"{kind}_max_s"] = seen[-1]
        row[f"{kind}_probes"] = len(seen)
    latencies = sorted(a["s"] for a in answers)
    row["summary_median_s"] = statistics.median(latencies)
    row["summary_max_s"] = latencies[-1]
    row["by_model"] = sum(a["model"] for a in answers) / len(runs)
    row["busy"] = sum(a["busy"] for a in answers) / len(runs)
    row["for_anyone"] = sum(a.get("for_anyone", False) for a in answers) / len(runs)
    row["personal"] = sum(a.get("personal", False) for a in answers) / len(runs)
    row["wall_s"] = statistics.mean(r["wall_s"] for r in runs)
    row["idle_feed_s"] = statistics.mean(r["idle"]["feed"] for r in runs)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="src/ of the earlier code (required to run)")
    parser.add_argument("--burst", type=int, default=48, help="summary requests at once")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--backend", default="gemma3")
    parser.add_argument(
        "--readers",
        action="store_true",
        help="personalised requests, the summaries for no particular reader already written",
    )
    parser.add_argument("--out", type=Path, help=f"default {DEFAULT_OUT.name} ({READERS_OUT.name})")
    parser.add_argument("--report", action="store_true", help="print the table of --out only")
    args = parser.parse_args()
    if args.out is None:
        args.out = READERS_OUT if args.readers else DEFAULT_OUT
    if args.report:
        saved = json.loads(args.out.read_text())
        runs_now = len(saved["runs"]["now"])
        report(saved["rows"], saved["burst"], saved["backend"], runs_now, saved.get("readers"))
        return
    if not args.before:
        parser.error("--before is required (the earlier code's src/)")
    variants = {"before": args.before, "now": None}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.db"
        user = mind_store(source)[0]
        items = items_with_text(source, args.burst)
        readers = None
        if args.readers:
            readers = readers_with_interests(source, args.burst)
            _write_for_anyone(source, items, args.backend)
        for repeat in range(args.repeats):
            for name, src in variants.items():  # interleaved, so drift hits both alike
                run = Path(tmp) / f"run{repeat}{name}"
                db = copy_store(source, run)
                runs[name].append(run_once(db, items, user, args.backend, src, readers))
                shutil.rmtree(run)
                print(name, json.dumps(summarise(name, runs[name][-1:])))
    rows = [summarise(name, runs[name]) for name in variants]
    report(rows, args.burst, args.backend, args.repeats, readers)
    out = {"hardware": hardware(), "burst": args.burst, "backend": args.backend}
    out |= {"items": items, "user": user, "readers": readers, "rows": rows, "runs": runs}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


def report(
    rows: list[dict[str, Any]],
    burst: int,
    backend: str,
    repeats: int,
    readers: list[str] | None = None,
) -> None:
    what = (
        "distinct readers and items, each item's summary for no particular reader cached"
        if readers
        else "distinct items, cold cache"
    )
    print(
        f"\n{burst} summary requests at once ({what}), "
        f"{backend}, {repeats} run(s); probes one after another during the burst\n"
    )
    print(
        "| code | feed median / max s | events median / max s | health median / max s "
        "| summary median / max s | by the model | busy | of them, for anyone "
        "| personalised | burst wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['code']} | {r['feed_median_s']:.3f} / {r['feed_max_s']:.1f} "
            f"| {r['events_median_s']:.3f} / {r['events_max_s']:.1f} "
            f"| {r['health_median_s']:.3f} / {r['health_max_s']:.1f} "
            f"| {r['summary_median_s']:.1f} / {r['summary_max_s']:.1f} "
            f"| {r['by_model']:.0f} | {r['busy']:.0f} | {r.get('for_anyone', 0):.0f} "
            f"| {r.get('personal', 0):.0f} | {r['wall_s']:.0f} |"
        )
    before, now = rows
    worst = {r["code"]: max(r[f"{k}_max_s"] for k in ("feed", "events", "health")) for r in rows}
    print(
        f"\nslowest probe of any route, now / before: {worst['now']:.1f} / {worst['before']:.1f}"
        f" s = {worst['now'] / worst['before']:.2f}x; slowest summary: "
        f"{now['summary_max_s'] / before['summary_max_s']:.2f}x"
    )


def _write_for_anyone(db: Path, items: list[str], backend: str) -> None:
    """Each item's summary for no particular reader, written into `db` by a server of the
    current code, one request at a time (so each is admitted), as a batch would write it."""
    start = time.perf_counter()
    with served(db, backend) as (_, base):
        fallbacks = sum(get(f"{base}/items/{i}/summary")["fallback"] for i in items)
    print(
        f"wrote {len(items)} summaries for anyone ({fallbacks} the fallback) "
        f"in {time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()

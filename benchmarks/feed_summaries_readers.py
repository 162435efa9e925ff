"""Feed summaries for readers arriving together: how soon each sees the top of their feed.

Several readers open their feed (`GET /users/{id}/feed?summaries=true`, n=10) at the same
moment on a fresh server with a cold text cache; each client asks again every 0.25 s, as a
page would, until every item carries its summary. Measured per reader: seconds until the top
3 items have summaries (what is on screen first), and until all 10 have. The summary thread
writes one at a time, so the total work is fixed; what changes is who waits for what.

Two orders, side by side on the same store and requests: arrival (the earlier code: a
reader's ten summaries queued behind the earlier reader's ten) and feed position (each
reader's first items before anyone's later ones). The earlier code runs from a worktree of
the commit before the change:

    git worktree add /tmp/fs_before <commit>
    .venv/bin/python benchmarks/feed_summaries_readers.py --before /tmp/fs_before/src

Real server processes (`feedcraft serve --warm-generation`, uvicorn, over HTTP), warmed
before the readers arrive, so model loading is not in the numbers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from server_start import copy_store, get, hardware, mind_store, served, wait_warm

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "feed_summaries_readers.json"
POLL_S = 0.25


def reader(base: str, user: str, n: int, top: int, start: threading.Barrier) -> dict[str, Any]:
    url = f"{base}/users/{user}/feed?n={n}&summaries=true&model=content"
    start.wait()
    asked = time.perf_counter()
    top_s = all_s = None
    while all_s is None:
        items = get(url)["items"]
        now = time.perf_counter() - asked
        if top_s is None and all(e["summary"] for e in items[:top]):
            top_s = now
        if all(e["summary"] for e in items):
            all_s = now
        elif now > 900:
            raise RuntimeError(f"{user}: summaries still pending after 900 s")
        else:
            time.sleep(POLL_S)
    return {"user": user, "top_s": top_s, "all_s": all_s}


def run_once(
    db: Path, users: list[str], n: int, top: int, backend: str, src: str | None
) -> list[dict[str, Any]]:
    env = {"PYTHONPATH": src} if src else {}
    with served(db, backend, "--warm-generation", env=env) as (_, base):
        wait_warm(base)
        barrier = threading.Barrier(len(users))
        results: list[dict[str, Any]] = [{} for _ in users]

        def work(i: int) -> None:
            results[i] = reader(base, users[i], n, top, barrier)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(users))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if any(not r for r in results):
            raise RuntimeError("a reader failed")
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="src/ of the earlier code")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backend", default="gemma3")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    variants = {"arrival (before)": args.before, "feed position (now)": None}
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.db"
        users = mind_store(source)[: args.readers]
        for repeat in range(args.repeats):
            for name, src in variants.items():  # interleaved, so drift hits both alike
                run = Path(tmp) / f"run{len(runs)}"
                db = copy_store(source, run)
                readers = run_once(db, users, args.n, args.top, args.backend, src)
                shutil.rmtree(run)
                runs.append({"order": name, "repeat": repeat, "readers": readers})
                print(json.dumps(runs[-1]))
    rows = []
    for name in variants:
        mine = [r for run in runs if run["order"] == name for r in run["readers"]]
        rows.append(
            {
                "order": name,
                "top_mean_s": statistics.mean(r["top_s"] for r in mine),
                "top_max_s": max(r["top_s"] for r in mine),
                "all_mean_s": statistics.mean(r["all_s"] for r in mine),
                "all_max_s": max(r["all_s"] for r in mine),
            }
        )
    base = rows[0]
    print(
        f"\n{len(users)} readers at once, feeds of {args.n}, summaries by {args.backend}, "
        f"{args.repeats} runs (means and maxima over readers and runs)\n"
    )
    print(
        f"| order | top {args.top} summarised, mean s (vs before) | max s "
        f"| all {args.n}, mean s (vs before) | max s |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['order']} | {r['top_mean_s']:.1f} ({r['top_mean_s'] / base['top_mean_s']:.2f}x)"
            f" | {r['top_max_s']:.1f} | {r['all_mean_s']:.1f} "
            f"({r['all_mean_s'] / base['all_mean_s']:.2f}x) | {r['all_max_s']:.1f} |"
        )
    out = {"hardware": hardware(), "users": users, "n": args.n, "top": args.top}
    out |= {"backend": args.backend, "rows": rows, "runs": runs}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

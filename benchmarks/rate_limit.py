"""One consumer flooding the API: do another key's requests keep their latency? (`[serve]
rate_limit`)

A publisher gives each consumer its own API key. Here two: the site's, one client asking
readers' feeds (`GET /users/{id}/feed?n=10`) every 0.25 s as pages are viewed, and a job's, N
connections (`--floods`: 8, each sending as soon as its last answer came, about what 2 cores
serve; 48, more than the server's 40 API threads) asking in turn for the summaries of
distinct items the cache lacks (each the extractive fallback: ~0.1 s of encoding) and for
feeds. Scenarios, each `--seconds` long on a fresh copy of one store (a MIND sample store with
the content model, `server_start.mind_store`) served by a real server process (`feedcraft
serve`, uvicorn, extractive backend), interleaved over `--repeats`:

- alone: the site's client and no job;
- flood, no limit: the code's behaviour without `rate_limit` (the default);
- flood, job key limited, retries at once: the job's key has its own `rate_limit` 5 a second,
  `rate_burst` 10 (the site's key none); the job sends its next request the moment a 429
  comes back (a client that ignores Retry-After);
- flood, job key limited, honours Retry-After: the same limit; the job's connection sleeps as
  told;
- flood, no limit (before), with `--before SRC`: the unlimited flood against an earlier
  checkout's server, e.g. one whose generation routes shared the 40 API threads with the rest
  (before `[serve] generation_threads`).

Measured for the site: its feeds' latency (median, p95, max) and how many it got; for the
job: requests served (not 429) and refused. The client threads run on the same machine as the
server, so a job retrying at once also spends client CPU the server would otherwise have.

    .venv/bin/python benchmarks/rate_limit.py [--seconds 30] [--repeats 2] [--floods 8,48]
    git worktree add /tmp/before <commit>   # and, to run an earlier server beside this one:
    .venv/bin/python benchmarks/rate_limit.py --before /tmp/before/src
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from server_start import copy_store, hardware, items_with_text, mind_store, served

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "rate_limit.json"
SITE_KEY = "site-key-for-the-benchmark-0123456789"
JOB_KEY = "job-key-for-the-benchmark-0123456789"
SITE_PERIOD_S = 0.25
JOB_LIMIT = {"rate_limit": 5, "rate_burst": 10}
SCENARIOS: dict[str, tuple[bool, dict[str, float] | None, bool]] = {
    # name: (job floods, the job key's own limits, job honours Retry-After)
    "alone": (False, None, False),
    "flood, no limit": (True, None, False),
    "flood, job key limited, retries at once": (True, JOB_LIMIT, False),
    "flood, job key limited, honours Retry-After": (True, JOB_LIMIT, True),
}


def call(url: str, key: str) -> tuple[int, float, float]:
    """(status, seconds taken, Retry-After seconds or 0) of one GET with `key`."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()
            return response.status, time.perf_counter() - started, 0.0
    except urllib.error.HTTPError as error:
        error.read()
        retry = float(error.headers.get("Retry-After") or 0)
        return error.code, time.perf_counter() - started, retry


def run_once(
    db: Path,
    scenario: str,
    readers: list[str],
    items: list[str],
    seconds: float,
    flood: int,
    src: str | None = None,
) -> dict[str, Any]:
    floods, job_limit, honours = SCENARIOS[scenario]
    job_key = JOB_KEY if job_limit is None else {"key": JOB_KEY} | job_limit
    env = {"FEEDCRAFT_SERVE__API_KEYS": json.dumps([SITE_KEY, job_key])}
    if src:  # the earlier code's package first on the path
        env["PYTHONPATH"] = src
    with served(db, "extractive", env=env) as (_, base):
        stop = time.perf_counter() + seconds
        site: list[tuple[int, float]] = []
        job = {"served": 0, "refused": 0}
        lock = threading.Lock()
        next_item = iter(items)

        def site_client() -> None:
            i = 0
            while time.perf_counter() < stop:
                user = readers[i % len(readers)]
                i += 1
                status, took, _ = call(f"{base}/users/{user}/feed?n=10&model=content", SITE_KEY)
                site.append((status, took))
                time.sleep(max(0.0, SITE_PERIOD_S - took))

        def job_client(k: int) -> None:
            n = 0
            while time.perf_counter() < stop:
                n += 1
                if n % 2:
                    with lock:
                        item = next(next_item, items[n % len(items)])
                    url = f"{base}/items/{item}/summary"
                else:
                    url = f"{base}/users/{readers[(k + n) % len(readers)]}/feed?n=10&model=content"
                status, _, retry = call(url, JOB_KEY)
                with lock:
                    job["refused" if status == 429 else "served"] += 1
                if status == 429 and honours:
                    time.sleep(min(retry, max(0.0, stop - time.perf_counter())))

        threads = [threading.Thread(target=site_client)]
        if floods:
            threads += [threading.Thread(target=job_client, args=(k,)) for k in range(flood)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    latencies = [took for status, took in site if status == 200]
    return {
        "scenario": scenario,
        "site_ok": len(latencies),
        "site_other": sorted({status for status, _ in site if status != 200}),
        "site_median_s": statistics.median(latencies),
        "site_p95_s": statistics.quantiles(latencies, n=20, method="inclusive")[-1],
        "site_max_s": max(latencies),
        "job_served": job["served"],
        "job_refused": job["refused"],
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    keys = ("site_ok", "site_median_s", "site_p95_s", "site_max_s", "job_served", "job_refused")
    return {k: med(k) for k in keys} | {
        "site_other": sorted({s for r in runs for s in r["site_other"]})
    }


def report(summary: dict[str, dict[str, Any]], seconds: float) -> None:
    alone = summary["alone"]["site_p95_s"]
    print(f"\nsite: a feed every {SITE_PERIOD_S} s for {seconds:g} s; medians over runs")
    print(
        f"{'scenario':57} {'site feeds':>10} {'median s':>9} {'p95 s':>7} {'p95/alone':>9} "
        f"{'max s':>7} {'job served':>10} {'job 429':>8}"
    )
    for name, s in summary.items():
        print(
            f"{name:57} {s['site_ok']:>10.0f} {s['site_median_s']:>9.3f} {s['site_p95_s']:>7.3f} "
            f"{s['site_p95_s'] / alone:>9.1f} {s['site_max_s']:>7.3f} {s['job_served']:>10.0f} "
            f"{s['job_refused']:>8.0f}"
        )
        if s["site_other"]:
            print(f"  site answers other than 200: {s['site_other']}")


def _label(scenario: str, flood: int, before: bool = False) -> str:
    label = scenario if not flood else scenario.replace("flood", f"flood of {flood}", 1)
    return f"{label} (before)" if before else label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--floods", default="8,48", help="the job's connections, per run")
    parser.add_argument(
        "--before", help="an earlier checkout's src/: its server also runs the unlimited floods"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rate-limit-"))
    try:
        source = work / "source" / "mind.db"
        source.parent.mkdir()
        readers = mind_store(source)[:200]
        items = items_with_text(source, 1_500)
        floods = [int(f) for f in args.floods.split(",")]
        cases = [("alone", 0, False)]
        for f in floods:
            if args.before:
                cases.append(("flood, no limit", f, True))
            cases += [(name, f, False) for name in SCENARIOS if name != "alone"]
        runs: dict[str, list[dict[str, Any]]] = {_label(*case): [] for case in cases}
        n = 0
        for repeat in range(args.repeats):
            for name, flood, before in cases:
                n += 1
                db = copy_store(source, work / f"run{n}")
                src = args.before if before else None
                run = run_once(db, name, readers, items, args.seconds, flood, src)
                print(f"repeat {repeat} {_label(name, flood, before)}: {run}", flush=True)
                runs[_label(name, flood, before)].append(run)
                shutil.rmtree(db.parent)
        summary = {label: summarise(r) for label, r in runs.items()}
        report(summary, args.seconds)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                {"hardware": hardware(), "args": vars(args) | {"out": str(args.out)}}
                | {"summary": summary, "runs": runs},
                indent=2,
            )
            + "\n"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

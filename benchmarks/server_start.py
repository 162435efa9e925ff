"""Server start benchmark: what the first reader of a fresh `feedcraft serve` waits for a feed
with summaries, with the generation models loaded lazily (the default) or warmed at start-up
(`--warm-generation`, `[llm] warm_at_start`).

A SQLite store holds the MIND sample (`../shared/data/mind-small`: real news with abstracts,
real clicks) with a content-similarity model trained; every run starts a real server process
(`feedcraft serve`, uvicorn) on its own copy of the store (an empty text cache), waits until
/health answers, then, per scenario:

- lazy: the reader asks at once; the model loads inside the server when the first summary is
  wanted;
- warm, at once: the server warms in the background and the reader asks at once;
- warm, when ready: the reader asks once /health says the generation models are ready.

For each: the first request's latency and how many of its summaries were pending, the time
from the server answering until all of the reader's summaries are in the cache (the feed asked
again every 0.5 s), and the server's resident memory then.

    .venv/bin/python benchmarks/server_start.py [--repeats 2] [--n 10] [--backend gemma3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feedcraft.config import load_settings
from feedcraft.services.ingestion import import_mind
from feedcraft.services.training import train
from feedcraft.storage import open_store

REPO = Path(__file__).resolve().parents[1]
MIND = REPO.parent / "shared" / "data" / "mind-small" / "MINDsmall_train_sample"
FEEDCRAFT = REPO / ".venv" / "bin" / "feedcraft"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "server_start.json"
SCENARIOS = ("lazy", "warm, at once", "warm, when ready")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hardware() -> dict[str, Any]:
    """The machine a benchmark ran on, for its results file."""
    return {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def get(url: str, timeout: float = 600) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_warm(base: str, poll_s: float = 0.1) -> None:
    """Until the server at `base` has loaded its generation models (`--warm-generation`)."""
    while (state := get(f"{base}/health")["generation"]) == "loading":
        time.sleep(poll_s)
    if state != "ready":
        raise RuntimeError(f"warming failed: {state}")


def mind_store(db: Path) -> list[str]:
    """Import the MIND sample into a new SQLite store at `db`, train the content model (it
    recommends only items with text, which summaries need); the readers' ids, sorted."""
    settings = load_settings(store=f"sqlite:///{db}", progress=False)
    store = open_store(settings.store)
    try:
        import_mind(store, MIND, progress=False)
        train(store, settings, models=["content"], progress=False)
        return sorted(store.events.user_ids())
    finally:
        store.close()


def readers_with_interests(db: Path, n: int) -> list[str]:
    """The first `n` readers (by id) with interests: a click on an item with a category (the
    sample lacks many clicked items; a reader of only those has no profile, so no bucket)."""
    from feedcraft.services.interactions import POSITIVE_TYPES

    store = open_store(load_settings(store=f"sqlite:///{db}", progress=False).store)
    try:
        found = []
        for user in sorted(store.events.user_ids()):
            clicked = store.events.user_items(user, types=POSITIVE_TYPES, limit=50)
            if any(i.category for i in store.catalogue.get_many(clicked).values()):
                found.append(user)
            if len(found) == n:
                return found
    finally:
        store.close()
    raise RuntimeError(f"only {len(found)} readers have interests, {n} asked")


def items_with_text(db: Path, n: int) -> list[str]:
    """The first `n` items (by id) with a body: distinct summaries, none cached."""
    store = open_store(load_settings(store=f"sqlite:///{db}", progress=False).store)
    try:
        ids = store.catalogue.ids(include_stubs=False)
        found = store.catalogue.get_many(ids)
        with_body = [i for i in ids if found[i].body.strip()]
    finally:
        store.close()
    if len(with_body) < n:
        raise RuntimeError(f"only {len(with_body)} items have a body, {n} asked")
    return with_body[:n]


def copy_store(source: Path, directory: Path) -> Path:
    """A copy of the database `source` and any WAL beside it, in a new `directory`."""
    directory.mkdir()
    for path in source.parent.glob(source.name + "*"):
        shutil.copy(path, directory / path.name)
    return directory / source.name


@contextmanager
def served(
    db: Path, backend: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A `feedcraft serve` process on `db`, up (answering /health); its process and URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full = {k: v for k, v in os.environ.items() if not k.startswith("FEEDCRAFT_")}
    full |= {
        "FEEDCRAFT_STORE": f"sqlite:///{db}",
        "FEEDCRAFT_LLM__BACKEND": backend,
        "FEEDCRAFT_PROGRESS": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    } | (env or {})
    cmd = [str(FEEDCRAFT), "serve", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                get(f"{base}/health", timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}") from None
                time.sleep(0.05)
        yield proc, base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_once(
    db: Path, scenario: str, user: str, n: int, backend: str, src: str | None = None
) -> dict[str, Any]:
    flag = "--lazy-generation" if scenario == "lazy" else "--warm-generation"
    started = time.perf_counter()
    env = {"PYTHONPATH": src} if src else None
    with served(db, backend, flag, env=env) as (proc, base):
        up = time.perf_counter()
        ready_s = None
        if scenario == "warm, when ready":
            wait_warm(base, 0.05)
            ready_s = time.perf_counter() - up
        url = f"{base}/users/{user}/feed?n={n}&summaries=true&model=content"
        asked = time.perf_counter()
        items = get(url)["items"]
        first_s = time.perf_counter() - asked
        pending_first = sum(e["summary_pending"] for e in items)
        while any(e["summary_pending"] for e in items):
            time.sleep(0.5)
            items = get(url)["items"]
        complete_s = time.perf_counter() - up
        return {
            "scenario": scenario,
            "server_up_s": up - started,
            "ready_s": ready_s,
            "first_s": first_s,
            "pending_first": pending_first,
            "complete_s": complete_s,
            "summaries": sum(bool(e["summary"]) for e in items),
            "rss_mb": rss_mb(proc.pid),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--backend", default="gemma3")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--src", help="serve the src/ of another checkout (the code before)")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.db"
        user = mind_store(source)[0]
        for _ in range(args.repeats):
            for scenario in SCENARIOS:  # interleaved, so drift hits every scenario alike
                run = Path(tmp) / f"run{len(runs)}"
                db = copy_store(source, run)
                runs.append(run_once(db, scenario, user, args.n, args.backend, args.src))
                shutil.rmtree(run)
                print(json.dumps(runs[-1]))
    rows = []
    for scenario in SCENARIOS:
        mine = [r for r in runs if r["scenario"] == scenario]
        rows.append(
            {
                "scenario": scenario,
                "first_s": statistics.mean(r["first_s"] for r in mine),
                "pending_first": statistics.mean(r["pending_first"] for r in mine),
                "ready_s": statistics.mean(r["ready_s"] or 0.0 for r in mine),
                "complete_s": statistics.mean(r["complete_s"] for r in mine),
                "rss_mb": statistics.mean(r["rss_mb"] for r in mine),
            }
        )
    base = rows[0]
    print(f"\nfirst reader of a fresh server, feed of {args.n} with summaries by {args.backend}")
    print(f"({args.repeats} runs each, means; times from the server answering /health)\n")
    print(
        "| scenario | waits for ready s | first request s (vs lazy) | pending | all summaries s "
        "(vs lazy) | server RSS MB |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['scenario']} | {r['ready_s']:.1f} | {r['first_s']:.2f} "
            f"({r['first_s'] / base['first_s']:.2f}x) | {r['pending_first']:.1f} "
            f"| {r['complete_s']:.1f} ({r['complete_s'] / base['complete_s']:.2f}x) "
            f"| {r['rss_mb']:.0f} |"
        )
    out = {"hardware": hardware(), "user": user, "n": args.n, "backend": args.backend}
    args.out.write_text(json.dumps(out | {"rows": rows, "runs": runs}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

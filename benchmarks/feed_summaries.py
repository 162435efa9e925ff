"""Feed summaries benchmark: what a reader waits for `GET /users/{id}/feed?summaries=true`.

A fresh SQLite store holds the MIND sample (`../shared/data/mind-small`: real news with
abstracts, real clicks); a content-similarity model (MiniLM vectors: it recommends only
items with text) serves feeds over HTTP (FastAPI's TestClient, the real app), summaries
written by the default backend (embedded gemma3) under the product guardrails. Each budget
starts from an empty text cache and asks the same readers' feeds twice: once cold, and again
after the background thread has written what the first requests left pending. "unbounded"
is the behaviour before budgets (every summary written inside the request).

`--for-anyone`: before the first requests, each feed item's summary for no particular reader
is written (as a nightly `feedcraft generate batch` leaves them), and the readers are ones
with interests (a bucket of their own); counted: summaries attached to the first request, and
how many of them stand in for the reader's own (`summary_for_anyone`).

    .venv/bin/python benchmarks/feed_summaries.py [--users 3] [--n 10] [--backend gemma3]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from feedcraft.api.app import create_app
from feedcraft.config import load_settings
from server_start import hardware, mind_store, readers_with_interests

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "feed_summaries.json"
UNBOUNDED = 1e9


def feed(client: TestClient, user: str, n: int) -> tuple[float, list[dict[str, Any]]]:
    start = time.perf_counter()
    response = client.get(
        f"/users/{user}/feed", params={"n": n, "summaries": True, "model": "content"}
    )
    seconds = time.perf_counter() - start
    response.raise_for_status()
    return seconds, response.json()["items"]


def scenario(
    db: str, budget: float, users: list[str], n: int, backend: str, for_anyone: bool = False
) -> dict[str, Any]:
    settings = load_settings(
        store=db,
        llm={"backend": backend, "threads": 2, "feed_summary_budget_s": budget},
        progress=False,
    )
    with TestClient(create_app(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        services.store.text_cache.delete_prefix("gen1/")
        full = services.store.catalogue.ids(include_stubs=False)
        services.generation.summary(full[0])  # load the model and the encoders
        services.store.text_cache.delete_prefix("gen1/")
        if for_anyone:
            batch = time.perf_counter()
            for user in users:
                plain = client.get(f"/users/{user}/feed", params={"n": n, "model": "content"})
                ids = [e["item_id"] for e in plain.json()["items"]]
                services.generation.generate_batch("summary", ids, progress=False)
            print(f"summaries for anyone written in {time.perf_counter() - batch:.0f} s")
        first, pending_first, second, pending_second, summaries = [], [], [], [], []
        summaries_first, anyone_first = [], []
        start = time.perf_counter()
        for user in users:
            seconds, items = feed(client, user, n)
            first.append(seconds)
            pending_first.append(sum(e["summary_pending"] for e in items))
            summaries_first.append(sum(bool(e["summary"]) for e in items))
            anyone_first.append(sum(e.get("summary_for_anyone", False) for e in items))
        first_done = time.perf_counter()
        assert services.feed_summaries.wait(3600)
        filled = time.perf_counter() - first_done
        for user in users:
            seconds, items = feed(client, user, n)
            second.append(seconds)
            pending_second.append(sum(e["summary_pending"] for e in items))
            summaries.append(sum(bool(e["summary"]) for e in items))
        return {
            "budget_s": None if budget >= UNBOUNDED else budget,
            "first_s": first,
            "first_mean_s": statistics.mean(first),
            "first_max_s": max(first),
            "pending_first": pending_first,
            "summaries_first": summaries_first,
            "for_anyone_first": anyone_first,
            "background_s": filled,
            "second_s": second,
            "second_mean_s": statistics.mean(second),
            "pending_second": pending_second,
            "summaries_second": summaries,
            "written": services.store.text_cache.count(),
            "total_s": time.perf_counter() - start,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--backend", default="gemma3")
    parser.add_argument("--budgets", default="unbounded,1,0")
    parser.add_argument("--for-anyone", action="store_true", help="see the module's docstring")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    budgets = [UNBOUNDED if b == "unbounded" else float(b) for b in args.budgets.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        users = mind_store(path)[: args.users]
        if args.for_anyone:
            users = readers_with_interests(path, args.users)
        db = f"sqlite:///{path}"
        rows = [scenario(db, b, users, args.n, args.backend, args.for_anyone) for b in budgets]
    print(f"\nfeeds of {args.n} MIND items for {len(users)} readers, summaries by {args.backend}\n")
    print(
        "| budget | first request mean s | max s | pending | summaries (for anyone) "
        "| background s | second mean s | pending | summaries |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    base = rows[0]["first_mean_s"]
    for r in rows:
        name = "unbounded" if r["budget_s"] is None else f"{r['budget_s']:g} s"
        print(
            f"| {name} | {r['first_mean_s']:.2f} ({r['first_mean_s'] / base:.3f}x) "
            f"| {r['first_max_s']:.2f} | {sum(r['pending_first'])} "
            f"| {sum(r['summaries_first'])} ({sum(r['for_anyone_first'])}) "
            f"| {r['background_s']:.1f} "
            f"| {r['second_mean_s']:.3f} | {sum(r['pending_second'])} "
            f"| {sum(r['summaries_second'])}/{len(users) * args.n} |"
        )
    out = {"hardware": hardware(), "users": users, "n": args.n, "backend": args.backend}
    out["for_anyone"] = args.for_anyone
    out["rows"] = rows
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

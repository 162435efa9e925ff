"""Cache pruning benchmark: how long `feedcraft generate prune` takes on a large text cache.

A fresh SQLite store holds the 101 Wikinews articles shipped with feedcraft and N cached
texts under real cache keys (every article, 4 tasks, many interest buckets and lengths, two
model settings). A quarter of the articles are then edited and a tenth deleted, by paths
that leave their texts behind; `prune_cache` runs twice, as shipped and with
`other_models=True`. Reported: entries examined per second, against the time writing them
took (one `put` each, the cost the cache pays anyway).

    .venv/bin/python benchmarks/cache_prune.py [--entries 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from feedcraft.config import load_settings
from feedcraft.embeddings import HashingEncoder
from feedcraft.services.generation import TASKS, GenerationService
from feedcraft.services.ingestion import import_jsonl
from feedcraft.storage import open_store

REPO = Path(__file__).resolve().parents[1]
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "cache_prune.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = open_store(db)
        try:
            import_jsonl(store, WIKINEWS, progress=False)
            encoder = HashingEncoder(256)
            services = [
                GenerationService(store, load_settings(store=db, llm={"backend": b}), encoder)
                for b in ("extractive", "smollm2")
            ]
            items = list(store.catalogue.iter_items(include_stubs=False))
            start = time.perf_counter()
            written = 0
            while written < args.entries:
                service = services[written % 2]
                item = items[(written // 2) % len(items)]
                task = TASKS[(written // (2 * len(items))) % len(TASKS)]
                bucket = f"bucket-{written // (8 * len(items))}"
                key = service.cache_key(task, item, bucket, {"max_length": 60})
                store.text_cache.put(key, '{"outputs": ["a cached text of some length"]}')
                written += 1
            write_s = time.perf_counter() - start
            for item in items[: len(items) // 4]:
                store.catalogue.upsert([replace(item, body="Edited. " + item.body)])
            store.catalogue.delete([i.id for i in items[-len(items) // 10 :]])
            total = store.text_cache.count()
            shipped = services[0].prune_cache()
            others = services[0].prune_cache(other_models=True)
            left = store.text_cache.count()
        finally:
            store.close()
    rows = [("prune", shipped), ("prune --other-models", others)]
    print(f"\n{total:,} cached texts, written in {write_s:.1f} s ({total / write_s:,.0f}/s)\n")
    print("| run | examined | removed stale | removed other models | s | examined/s | vs writing |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        rate = r.examined / r.seconds
        print(
            f"| {name} | {r.examined:,} | {r.removed_stale:,} | {r.removed_other_models:,} "
            f"| {r.seconds:.2f} | {rate:,.0f} | {rate / (total / write_s):.1f}x |"
        )
    print(f"\nleft: {left:,}")
    hardware = {"machine": platform.machine(), "python": platform.python_version()}
    out = {
        "hardware": hardware,
        "entries": total,
        "write_s": write_s,
        "runs": {name: asdict(r) for name, r in rows},
        "left": left,
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

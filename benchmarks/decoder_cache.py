"""A GGUF language model read as a fine-tunable backbone: what does keeping its conversion save?

`ctr.decoder` reads the packaged GGUF models through transformers, which parses the file three
times (config, tokenizer, weights) and dequantises the weights; every `score-headlines` with a
model fine-tuned on gemma3, and every server that loads one to rank headline variants, paid
that. With a cache folder (settings `cache_dir`) the converted model is written once and read
after.

For each packaged model, `load_decoder` three ways, in order, in fresh processes (transformers
keeps nothing between them): without a cache folder (the code before), with an empty one
(convert and write), with what that wrote (read). `--repeats` rounds.

    .venv/bin/python benchmarks/decoder_cache.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "decoder_cache.json"
WAYS = ("no cache (before)", "empty cache (convert, write)", "cached (read)")
MODELS = ("smollm2", "gemma3")

#: One load in a fresh interpreter; prints its seconds (imports excluded: paid either way).
_LOAD = """
import sys, time
from pathlib import Path
import torch, transformers
from feedcraft.ctr.decoder import load_decoder
from feedcraft.llm.embedded import resolve_gguf
path = resolve_gguf(sys.argv[1])
cache = Path(sys.argv[2]) if sys.argv[2] else None
start = time.perf_counter()
name, tokenizer, model = load_decoder(path, cache)
print(time.perf_counter() - start, name, sum(p.numel() for p in model.parameters()))
"""


def _load(model: str, cache: Path | None) -> tuple[float, str, int]:
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, model, str(cache) if cache else ""],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, name, params = done.stdout.split()[-3:]
    return float(seconds), name, int(params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for model in args.models.split(","):
        seconds: dict[str, list[float]] = {w: [] for w in WAYS}
        kept_bytes = 0
        name, params = "", 0
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(tmp) / "cache"
                for way, folder in zip(WAYS, (None, cache, cache), strict=True):
                    s, name, params = _load(model, folder)
                    seconds[way].append(s)
                    print(f"{model}: {way}: {s:.1f} s", flush=True)
                kept_bytes = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
        for way, s in seconds.items():
            rows.append(
                {
                    "model": model,
                    "file": name,
                    "parameters": params,
                    "way": way,
                    "median_s": statistics.median(s),
                    "runs": s,
                    "kept_bytes": kept_bytes,
                }
            )
    report(rows, args.repeats)
    out = {"hardware": hardware(), "rows": rows, "repeats": args.repeats}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


def report(rows: list[dict[str, Any]], repeats: int) -> None:
    print(f"\nload_decoder, fresh process each, {repeats} round(s)\n")
    print("| model | way | median s | vs no cache | kept on disk |")
    print("|---|---|---|---|---|")
    base: dict[str, float] = {}
    for r in rows:
        base.setdefault(r["model"], r["median_s"])
        print(
            f"| {r['model']} ({r['parameters'] / 1e6:.0f}M) | {r['way']} | {r['median_s']:.1f} "
            f"| {r['median_s'] / base[r['model']]:.3f}x | {r['kept_bytes'] / 1e9:.2f} GB |"
        )


if __name__ == "__main__":
    main()

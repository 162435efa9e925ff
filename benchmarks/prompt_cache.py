"""Prompt prefix reuse in the embedded backend: Gemma 3 with and without `swa_full`.

Every few-shot prompt of a task starts with the same worked examples. llama.cpp keeps them in
its KV cache between requests, except for models with sliding-window attention (Gemma 3)
whose SWA layers keep only a window: there it evaluates the whole prompt every time unless
the engine is built with `swa_full`, which feedcraft now does. This script measures what that
changes, through the product's `LlamaCppBackend`, each configuration in a process of its own
(for its peak memory), configurations interleaved and repeated:

- requests, greedy, at most 40 tokens, stopped at the newline, in two patterns: `summaries`,
  the summary prompts of Wikinews articles 10..10+N back to back (a feed's summaries), then
  `headlines`, 3 variants per article as `Generator` sends them (the rotated examples: the
  prompts of variants 0, 1, 0);
- per configuration (model, threads, swa_full): seconds per request, prompt tokens and the
  tokens taken from the cache per request, and the process's peak RSS;
- SmolLM2 as the control: no sliding window, so `swa_full` must change nothing.

    .venv/bin/python benchmarks/prompt_cache.py [--articles 20] [--reps 2] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from feedcraft.llm import LlamaCppBackend, SamplingParams
from feedcraft.llm.fewshot import STOP, excerpt, fewshot_prompts

REPO = Path(__file__).resolve().parents[1]
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "prompt_cache.json"


def prompts(n: int) -> dict[str, list[str]]:
    """Each pattern's prompts for Wikinews articles 10..10+n (module docstring)."""
    with WIKINEWS.open(encoding="utf-8") as f:
        articles = [json.loads(line) for line in f if line.strip()][10 : 10 + n]
    data = [excerpt(article["body"], "en") for article in articles]
    summaries = [fewshot_prompts("summary", "en", d)[0] for d in data]
    headlines = []
    for d in data:
        variants = fewshot_prompts("headline", "en", d, variants=3)
        headlines += [variants[slot % len(variants)] for slot in range(3)]
    return {"summaries": summaries, "headlines": headlines}


def worker(model: str, threads: int, swa_full: bool, n: int) -> dict[str, Any]:
    """One configuration, in this process: load, then every request once."""
    backend = LlamaCppBackend(model, n_threads=threads, swa_full=swa_full)
    start = time.perf_counter()
    backend.load()
    load_s = time.perf_counter() - start
    params = SamplingParams(max_tokens=40, temperature=0.0, stop=STOP)
    out: dict[str, Any] = {"load_s": load_s}
    for pattern, texts in prompts(n).items():
        seconds, prompt_tokens, cached = [], [], []
        for prompt in texts:
            start = time.perf_counter()
            completion = backend.complete(prompt, params)
            seconds.append(time.perf_counter() - start)
            prompt_tokens.append(completion.prompt_tokens or 0)
            cached.append(completion.cached_tokens or 0)
        out[pattern] = {"seconds": seconds, "prompt_tokens": prompt_tokens, "cached": cached}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run(model: str, threads: int, swa_full: bool, n: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", model, str(threads), str(int(swa_full))]
    cmd += ["--articles", str(n)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--models", default="gemma3,smollm2")
    parser.add_argument("--worker", nargs=3, metavar=("MODEL", "THREADS", "SWA_FULL"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.worker:
        model, threads, swa = args.worker
        print(json.dumps(worker(model, int(threads), swa == "1", args.articles)))
        return

    configs = [
        (model, int(t), swa)
        for model in args.models.split(",")
        for t in args.threads.split(",")
        for swa in (False, True)
    ]
    runs: dict[tuple[str, int, bool], list[dict[str, Any]]] = {c: [] for c in configs}
    for rep in range(args.reps):  # interleaved: a slow spell of the machine hits every config
        for config in configs if rep % 2 == 0 else configs[::-1]:
            runs[config].append(run(*config, args.articles))
            print(f"  rep {rep + 1}: {config} done", file=sys.stderr, flush=True)

    rows = []
    for model, threads, swa in configs:
        rs = runs[(model, threads, swa)]
        for pattern in ("summaries", "headlines"):
            per_run = [statistics.mean(r[pattern]["seconds"]) for r in rs]
            rows.append(
                {
                    "model": model,
                    "threads": threads,
                    "swa_full": swa,
                    "pattern": pattern,
                    "requests": len(rs[0][pattern]["seconds"]),
                    "prompt_tokens": statistics.mean(rs[0][pattern]["prompt_tokens"]),
                    "cached_tokens": statistics.mean(rs[0][pattern]["cached"]),
                    "s_per_request": statistics.mean(per_run),
                    "s_per_request_runs": per_run,
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                }
            )
    base = {(r["model"], r["threads"], r["pattern"]): r for r in rows if not r["swa_full"]}
    print(
        "| model | threads | swa_full | pattern | requests | prompt tok | cached tok "
        "| s/request | runs | vs off | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        off = base[(r["model"], r["threads"], r["pattern"])]["s_per_request"]
        runs_s = " / ".join(f"{s:.2f}" for s in r["s_per_request_runs"])
        print(
            f"| {r['model']} | {r['threads']} | {'on' if r['swa_full'] else 'off'} "
            f"| {r['pattern']} | {r['requests']} | {r['prompt_tokens']:.0f} "
            f"| {r['cached_tokens']:.0f} | {r['s_per_request']:.2f} | {runs_s} "
            f"| {r['s_per_request'] / off:.2f}x | {r['peak_rss_mb']:.0f} |"
        )
    from server_start import hardware  # not in the workers: its imports would add to RSS

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"hardware": hardware(), "args": vars(args) | {"out": str(args.out)}, "rows": rows}
    args.out.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()

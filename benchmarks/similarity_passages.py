"""Similarity guardrail: the whole source, or its closest passage?

The similarity check compares an output's embedding with the whole source's. A faithful
sentence taken from the middle of a long article can sit under the threshold (the MST case
in benchmarks/README.md, cosines 0.294 and 0.288 against 0.30), while off-topic text scores
far lower. The alternative measured here: the output passes if its cosine with the whole
source *or* with any window of k consecutive source sentences reaches the same threshold
(k = 1 or 2). It can only accept more than the current rule, so what it risks is accepting
text about something else.

Declared before any number existed (2026-12-01, twenty-first session):

- Static pairs, no model. Wikinews (the 101 bundled articles, MiniLM, threshold 0.3):
  P1 each title against its own body (the title is not in the body), share rejected;
  N1 each title against every other body, share accepted; P2 each body sentence against its
  own body without that sentence, share rejected; N2 each body sentence against every other
  body, share accepted. xMIND (first 100 news with an abstract of 60+ characters, USE
  multilingual, the configured 0.175): P1 and N1 with the abstract as the body.
- Model candidates: gemma3's first (greedy) attempt at a summary and 2 headlines for each of
  the 101 articles, as the product prompts it; for each candidate, the other checks' verdict
  and both cosines. Counted: candidates the current rule rejects on similarity alone that a
  passage rule accepts; every one is printed, to be read.
- A passage rule is adopted if P1 and P2 rejections fall, N1 and N2 acceptances (and xMIND's
  N1) rise by at most 1.0 point each, and every newly accepted model candidate, read, is about
  its article. If both k qualify, the one with the lower N1 + N2 acceptance is taken.

Result (benchmarks/README.md, under generation.py): not adopted; both windows raise the
off-topic acceptance by 2-9 points.

    .venv/bin/python benchmarks/similarity_passages.py [--no-model]     # ~4 min without
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from feedcraft.config import EmbeddingSettings, LLMSettings
from feedcraft.embeddings import make_encoder
from feedcraft.embeddings.base import Encoder
from feedcraft.llm import Generator, HeadlineRequest, LlamaCppBackend, SummaryRequest
from feedcraft.llm.factory import guardrails_from_settings
from feedcraft.llm.sentences import split_sentences
from feedcraft.llm.tasks import PreparedTask, prepare_headlines, prepare_summary
from generation import load_wikinews, load_xmind
from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "similarity_passages.json"
WINDOWS = (1, 2)


def windows(sentences: list[str], k: int) -> list[str]:
    """Runs of k consecutive sentences (the whole text if it has fewer)."""
    if len(sentences) <= k:
        return [" ".join(sentences)] if sentences else []
    return [" ".join(sentences[i : i + k]) for i in range(len(sentences) - k + 1)]


class Scorer:
    """Cosines of texts against sources: whole, and best window of k sentences."""

    def __init__(self, encoder: Encoder, sources: list[str]) -> None:
        self.encoder = encoder
        self.whole = encoder.encode(sources).astype(np.float64)
        self.sentences = [split_sentences(s) for s in sources]
        self.windows: dict[int, list[np.ndarray]] = {}
        for k in WINDOWS:
            texts = [windows(s, k) for s in self.sentences]
            flat = encoder.encode([t for ts in texts for t in ts]).astype(np.float64)
            out, at = [], 0
            for ts in texts:
                out.append(flat[at : at + len(ts)])
                at += len(ts)
            self.windows[k] = out

    def cosines(self, vectors: np.ndarray, source: int) -> dict[str, np.ndarray]:
        """Per text: cosine with the whole source and max(whole, best window) per k."""
        whole = vectors @ self.whole[source]
        out = {"whole": whole}
        for k in WINDOWS:
            w = self.windows[k][source]
            best = (vectors @ w.T).max(axis=1) if len(w) else whole
            out[f"passage{k}"] = np.maximum(whole, best)
        return out


def rates(scores: dict[str, list[float]], threshold: float, *, accept: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(scores["whole"])}
    for rule, values in scores.items():
        v = np.asarray(values)
        share = float(np.mean(v >= threshold)) if accept else float(np.mean(v < threshold))
        out[rule] = share
    return out


Scores = dict[str, list[float]]  # rule -> cosines


def title_scores(scorer: Scorer, titles: np.ndarray) -> tuple[Scores, Scores]:
    """Each title against its own source (P1) and against every other source (N1)."""
    rules = ["whole", *(f"passage{k}" for k in WINDOWS)]
    p1: Scores = {r: [] for r in rules}
    n1: Scores = {r: [] for r in rules}
    for j in range(len(titles)):
        c = scorer.cosines(titles, j)
        for r in rules:
            p1[r].append(float(c[r][j]))
            n1[r].extend(float(x) for i, x in enumerate(c[r]) if i != j)
    return p1, n1


def wikinews_static(encoder: Encoder, articles: list[dict[str, Any]]) -> dict[str, Any]:
    bodies = [a["body"] for a in articles]
    scorer = Scorer(encoder, bodies)
    titles = encoder.encode([a["title"] for a in articles]).astype(np.float64)
    p1, n1 = title_scores(scorer, titles)
    rules = list(p1)
    # P2: each body sentence against its own body without it (leave-one-out, re-encoded);
    # N2: each body sentence against every other body.
    p2: dict[str, list[float]] = {r: [] for r in rules}
    n2: dict[str, list[float]] = {r: [] for r in rules}
    for j, sentences in enumerate(scorer.sentences):
        if len(sentences) < 2:
            continue
        vectors = encoder.encode(sentences).astype(np.float64)
        rest = [" ".join(sentences[:i] + sentences[i + 1 :]) for i in range(len(sentences))]
        rest_vectors = encoder.encode(rest).astype(np.float64)
        # windows of the text without sentence i: the full text's windows that miss i, plus
        # (for k = 2) the one that now bridges its neighbours
        pairs = scorer.windows[2][j]  # window m covers sentences m, m+1
        bridges = [f"{sentences[i - 1]} {sentences[i + 1]}" for i in range(1, len(sentences) - 1)]
        bridge_vectors = encoder.encode(bridges).astype(np.float64) if bridges else None
        for i in range(len(sentences)):
            whole = float(vectors[i] @ rest_vectors[i])
            p2["whole"].append(whole)
            singles = np.delete(vectors, i, axis=0)
            p2["passage1"].append(max(whole, float((singles @ vectors[i]).max())))
            keep = [m for m in range(len(pairs)) if m not in (i - 1, i)]
            cands = [pairs[keep]] if keep else []
            if bridge_vectors is not None and 0 < i < len(sentences) - 1:
                cands.append(bridge_vectors[i - 1 : i])
            best = max((float((c @ vectors[i]).max()) for c in cands), default=whole)
            p2["passage2"].append(max(whole, best))
        for other in range(len(articles)):
            if other == j:
                continue
            c = scorer.cosines(vectors, other)
            for r in rules:
                n2[r].extend(float(x) for x in c[r])
    return {
        "P1_title_own_rejected": rates(p1, 0.3, accept=False),
        "N1_title_other_accepted": rates(n1, 0.3, accept=True),
        "P2_sentence_own_rejected": rates(p2, 0.3, accept=False),
        "N2_sentence_other_accepted": rates(n2, 0.3, accept=True),
    }


def xmind_static(encoder: Encoder, threshold: float, n: int = 100) -> dict[str, Any] | None:
    pairs = load_xmind(n)
    if not pairs:
        return None
    scorer = Scorer(encoder, [a for _, a in pairs])
    titles = encoder.encode([t for t, _ in pairs]).astype(np.float64)
    p1, n1 = title_scores(scorer, titles)
    return {
        "threshold": threshold,
        "sentences_per_abstract": float(np.mean([len(s) for s in scorer.sentences])),
        "P1_title_own_rejected": rates(p1, threshold, accept=False),
        "N1_title_other_accepted": rates(n1, threshold, accept=True),
    }


def model_candidates(
    encoder: Encoder, articles: list[dict[str, Any]], threads: int
) -> list[dict[str, Any]]:
    """gemma3's greedy first attempt per output slot, every check but similarity, and the
    cosines under each rule."""
    settings = LLMSettings(multilingual_encoder=None)
    rails = guardrails_from_settings(settings, encoder)
    backend = LlamaCppBackend("gemma3", n_threads=threads, prompt_style="completion")
    generator = Generator(backend, encoder, guardrails=rails, max_attempts=1)
    out: list[dict[str, Any]] = []
    for n, a in enumerate(articles):
        interests = (a["category"], *a["tags"][:1])
        tasks: list[PreparedTask] = [
            prepare_summary(SummaryRequest(a["title"], a["body"], interests)),
            prepare_headlines(HeadlineRequest(a["title"], a["body"], n=2)),
        ]
        for task in tasks:
            scorer = Scorer(encoder, [task.source])
            for slot in range(task.n_outputs):
                completion = generator._call(backend, task, 0, slot, slot)
                candidates = task.postprocess(completion.text)
                if not candidates:
                    continue
                text = candidates[0]
                checks = generator.check(task, text)
                others = [r.name for r in checks if not r.passed and r.name != "similarity"]
                vector = encoder.encode([text]).astype(np.float64)
                cos = {r: float(v[0]) for r, v in scorer.cosines(vector, 0).items()}
                out.append(
                    {"article": a["id"], "task": task.task, "slot": slot, "text": text}
                    | {"other_failures": others, "cosines": cos}
                )
        print(f"\r{n + 1}/{len(articles)} articles", end="", flush=True)
    print()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-model", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    start = time.perf_counter()
    articles = load_wikinews()
    encoder = make_encoder(EmbeddingSettings().model)  # the product's guardrail encoder
    result: dict[str, Any] = {"wikinews": wikinews_static(encoder, articles)}
    settings = LLMSettings()
    if settings.multilingual_encoder:
        use = make_encoder(settings.multilingual_encoder)
        result["xmind"] = xmind_static(use, settings.multilingual_min_similarity)
    for name, block in result.items():
        if block is None:
            continue
        print(f"\n{name}")
        print("| measure | n | whole | passage1 | passage2 |")
        print("|---|---|---|---|---|")
        for measure, r in block.items():
            if isinstance(r, dict):
                print(
                    f"| {measure} | {r['n']} | {r['whole']:.4f} | {r['passage1']:.4f} "
                    f"| {r['passage2']:.4f} |"
                )
    if not args.no_model:
        candidates = model_candidates(encoder, articles, args.threads)
        result["candidates"] = candidates
        print(f"\n{len(candidates)} gemma3 candidates")
        for k in WINDOWS:
            rule = f"passage{k}"
            flipped = [
                c
                for c in candidates
                if not c["other_failures"] and c["cosines"]["whole"] < 0.3 <= c["cosines"][rule]
            ]
            result[f"newly_accepted_{rule}"] = len(flipped)
            print(f"\n{rule}: {len(flipped)} accepted that the whole-source rule rejects")
            for c in flipped:
                cos = c["cosines"]
                print(
                    f"- {c['article']} {c['task']}: whole {cos['whole']:.3f}, "
                    f"{rule} {cos[rule]:.3f}: {c['text']}"
                )
        rejected = [c for c in candidates if c["cosines"]["whole"] < 0.3]
        print(f"\n(similarity rejects {len(rejected)} of {len(candidates)} under the whole rule)")
    result["hardware"] = hardware()
    result["seconds"] = time.perf_counter() - start
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

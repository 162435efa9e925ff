"""A second encoder for the headline click model, alone and blended with the fine-tuned seeds.

Question: does a differently trained encoder add to the fine-tuned MiniLM models where more
MiniLM seeds did not (their scores correlate 0.98-0.99)? Same week split and metric as
benchmarks/headlines.py. The second encoder's conditional logit (headline, excerpt, lede and
lexical features) gets its ridge strength on the validation weeks (fitted on the weeks before
them), then is refitted on every week before the held-out ones. The blends were declared
before any was scored: the sum of per-model z-scores over the held-out rows (no labels used),
equal weights:

- ft5 + second: the five fine-tuned seeds' mean score (`headline_finetune.py --refit --seeds`,
  read from results/headline_finetune_seeds.json) and the second encoder's model;
- ft5 + second + shipped: the same plus the shipped MiniLM conditional logit.

Each row has a 95% bootstrap interval over held-out tests and a paired bootstrap against ft5.
Encoders: `use-multilingual` (packaged), or a local sentence-transformers folder (e.g.
all-mpnet-base-v2); vectors are cached under /tmp as in headlines.py.

    .venv/bin/python benchmarks/headline_blend.py [--encoder use-multilingual] [--out FILE]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import HeadlineClickModel, pairwise_accuracy, winner_pairs
from feedcraft.embeddings import make_encoder
from feedcraft.embeddings.base import available_cpus
from feedcraft.evaluation import format_table
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headlines import FileCachedEncoder, paired_difference, scores_of

#: Ridge strengths tried on the validation weeks (the grid of headlines.py).
ALPHAS = (0.03, 0.1, 0.3, 1.0)


def _z(s: np.ndarray) -> np.ndarray:
    return (s - s.mean()) / s.std()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument(
        "--seeds", type=Path, default=Path("benchmarks/results/headline_finetune_seeds.json")
    )
    ap.add_argument("--encoder", default="use-multilingual")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/headline_blend.json"))
    args = ap.parse_args()
    if not args.data.is_file() or not args.seeds.is_file():
        print(f"skipped: {args.data} or {args.seeds} not found")
        return
    variants = read_upworthy(args.data)
    train, held = variants.split_by_week(variants.week_at_fraction(0.8))
    fit_part, val = train.split_by_week(variants.week_at_fraction(0.7))
    pairs, pairs_val = winner_pairs(held), winner_pairs(val)
    stored = json.loads(args.seeds.read_text())
    if stored["held_out_rows"]["count"] != len(held):
        raise SystemExit("the stored seed scores are for other held-out rows")
    ft5 = np.mean([np.asarray(s["scores"]) for s in stored["seeds"].values()], axis=0)
    shipped = np.asarray(stored["shipped"]["scores"])
    enc = FileCachedEncoder(make_encoder(args.encoder))
    val_acc = {}
    for alpha in ALPHAS:
        m = HeadlineClickModel(alpha=alpha, encoder=enc.name).fit(fit_part, encoder=enc)
        val_acc[alpha] = pairwise_accuracy(scores_of(m, val, enc), pairs_val, n_boot=1).accuracy
    alpha = max(ALPHAS, key=lambda a: val_acc[a])
    print(f"{enc.name}: validation accuracy by alpha {val_acc}, chosen {alpha}")
    model = HeadlineClickModel(alpha=alpha, encoder=enc.name).fit(train, encoder=enc)
    second = scores_of(model, held, enc)
    label = enc.name
    candidates = {
        f"ft5 (mean of {len(stored['seeds'])} fine-tuned seeds)": ft5,
        f"{label} conditional logit (headline, excerpt, lede)": second,
        "shipped MiniLM conditional logit": shipped,
        f"ft5 + {label} (z-scores)": _z(ft5) + _z(second),
        f"ft5 + {label} + shipped (z-scores)": _z(ft5) + _z(second) + _z(shipped),
    }
    results, table = {}, {}
    for name, s in candidates.items():
        acc = pairwise_accuracy(s, pairs, n_boot=2000)
        diff = paired_difference(s, ft5, pairs)
        results[name] = {"held_out": acc.to_json(), "vs_ft5": diff}
        table[name] = {
            "accuracy": acc.accuracy,
            "ci_low": acc.low,
            "ci_high": acc.high,
            "vs_ft5": diff["diff"],
            "diff_low": diff["ci95_low"],
            "diff_high": diff["ci95_high"],
        }
    print(format_table(table))
    corr = {
        "ft5/second": float(np.corrcoef(ft5, second)[0, 1]),
        "ft5/shipped": float(np.corrcoef(ft5, shipped)[0, 1]),
        "second/shipped": float(np.corrcoef(second, shipped)[0, 1]),
    }
    print("score correlations:", {k: round(v, 3) for k, v in corr.items()})
    payload = {
        "hardware": {"cpus_usable": available_cpus(), "note": "2 cores shared with other jobs"},
        "held_out_pairs": len(pairs),
        "second_encoder": enc.name,
        "validation_accuracy_by_alpha": {str(a): v for a, v in val_acc.items()},
        "alpha": alpha,
        "blend": "sum of z-scores over held-out rows, equal weights, declared before scoring",
        "models": results,
        "score_correlation": corr,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

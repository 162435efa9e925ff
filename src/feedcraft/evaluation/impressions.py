"""MIND's impression metrics (AUC, MRR, nDCG@5, nDCG@10), as its official evaluate.py
(msnews/MIND) defines them, computed for all impressions at once (vectorised).

Per impression, with binary click labels and the model's scores:
- AUC = sklearn's roc_auc_score(labels, scores) (ties count half; computed here as the
  equivalent Mann-Whitney statistic with mid-ranks);
- MRR = sum(labels[order] / rank) / sum(labels), order = candidates by descending score;
- nDCG@k = DCG@k / ideal DCG@k with DCG = sum over the top k of (2**label - 1) / log2(rank + 1);
then each is averaged over impressions.

Two choices differ from running evaluate.py on raw scores, both documented:
- Impressions without a click or without a non-click are **skipped for every metric** and
  counted in `n_skipped`. MIND's script would crash on them (roc_auc_score is undefined for
  one class) and its test labels never contain them; skipping is the usual practice.
- Ties in score are ordered by candidate position (earlier first) for MRR and nDCG, exactly
  as the prediction file writer ranks them, so metrics recomputed from a prediction file match
  (MIND's `argsort()[::-1]` would put later candidates first; it only ever sees the unique
  ranks of a prediction file). AUC keeps sklearn's half credit for ties.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedcraft.errors import InvalidInput

KS = (5, 10)


def _flatten(
    labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Concatenated labels, scores, impression index per candidate, and impression lengths."""
    if len(labels) != len(scores):
        raise InvalidInput(
            f"{len(labels)} label arrays but {len(scores)} score arrays", field="scores"
        )
    lengths = np.fromiter((len(x) for x in labels), np.int64, len(labels))
    for i, (lab, sc) in enumerate(zip(labels, scores, strict=True)):
        if len(sc) != len(lab):
            raise InvalidInput(
                f"impression {i}: {len(lab)} labels but {len(sc)} scores", field="scores"
            )
    empty = [np.zeros(0)]
    y = np.concatenate([np.asarray(x, np.float64).ravel() for x in labels] or empty)
    s = np.concatenate([np.asarray(x, np.float64).ravel() for x in scores] or empty)
    if not np.isin(y, (0.0, 1.0)).all():
        raise InvalidInput("labels must be 0 or 1 (clicked)", field="labels")
    if not np.isfinite(s).all():
        bad = int(np.repeat(np.arange(len(lengths)), lengths)[~np.isfinite(s)][0])
        raise InvalidInput(f"impression {bad}: scores must be finite", field="scores")
    g = np.repeat(np.arange(len(lengths)), lengths)
    return y, s, g, lengths


def per_impression_metrics(
    labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]
) -> dict[str, np.ndarray]:
    """Metrics per evaluated impression: keys `auc`, `mrr`, `ndcg@5`, `ndcg@10`, and `index`
    (positions in the input of the impressions kept; the others had a single class)."""
    y, s, g, lengths = _flatten(labels, scores)
    n_imp = len(lengths)
    n_pos = np.bincount(g, weights=y, minlength=n_imp)
    keep_imp = (n_pos > 0) & (n_pos < lengths)
    keep = keep_imp[g]
    index = np.flatnonzero(keep_imp)
    # renumber kept impressions 0..m-1
    y, s, g = y[keep], s[keep], np.searchsorted(index, g[keep])
    m = len(index)
    n_pos, lengths = n_pos[index], lengths[index]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    slot = np.arange(len(g)) - starts[g]  # candidate position within its impression

    # AUC: Mann-Whitney U with mid-ranks for ties (= roc_auc_score)
    o = np.lexsort((s, g))
    gs, ss = g[o], s[o]
    new_run = np.ones(len(o), bool)
    new_run[1:] = (gs[1:] != gs[:-1]) | (ss[1:] != ss[:-1])
    run_id = np.cumsum(new_run) - 1
    run_start = np.flatnonzero(new_run)
    run_end = np.append(run_start[1:], len(o)) - 1
    mid = (run_start + run_end) / 2.0 - starts[gs[run_start]] + 1.0  # 1-based mid-rank
    rank_sum = np.bincount(gs, weights=y[o] * mid[run_id], minlength=m)
    n_neg = lengths - n_pos
    auc = (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)

    # MRR and nDCG: descending score, ties by candidate position
    o = np.lexsort((slot, -s, g))
    rank = np.arange(len(o)) - starts[g[o]] + 1.0
    yo = y[o]
    mrr = np.bincount(g[o], weights=yo / rank, minlength=m) / n_pos
    ideal = np.lexsort((-y, g))
    out = {"auc": auc, "mrr": mrr}
    for k in KS:
        top = rank <= k
        gain = (2.0**yo - 1.0) / np.log2(rank + 1.0)
        dcg = np.bincount(g[o][top], weights=gain[top], minlength=m)
        ideal_gain = (2.0 ** y[ideal] - 1.0) / np.log2(rank + 1.0)  # same rank layout per g
        idcg = np.bincount(g[ideal][top], weights=ideal_gain[top], minlength=m)
        out[f"ndcg@{k}"] = dcg / idcg
    out["index"] = index
    return out


def impression_metrics(
    labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]
) -> dict[str, float]:
    """Mean `auc`, `mrr`, `ndcg@5`, `ndcg@10` over impressions with both a click and a
    non-click, with `n_impressions` (evaluated) and `n_skipped` (single-class)."""
    per = per_impression_metrics(labels, scores)
    n = len(per["index"])
    out = {
        key: float(per[key].mean()) if n else float("nan")
        for key in ("auc", "mrr", *(f"ndcg@{k}" for k in KS))
    }
    out["n_impressions"] = float(n)
    out["n_skipped"] = float(len(labels) - n)
    return out

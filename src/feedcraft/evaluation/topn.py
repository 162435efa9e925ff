"""Top-N list metrics for held-out items: accuracy (Recall, NDCG, HitRate) and beyond-accuracy
(catalogue coverage, intra-list diversity, novelty).

Accuracy is averaged over the users in `test`; a test user without recommendations scores 0,
recommendations for users outside `test` are ignored by it (but count for coverage etc.).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from feedcraft.domain import Interactions, ItemVectors, Recommendations
from feedcraft.errors import InvalidInput

_DISCOUNT = 1.0 / np.log2(np.arange(2, 10_002))  # 1/log2(rank+1) for ranks 1..10_000


def _discounts(k: int) -> np.ndarray:
    return _DISCOUNT[:k] if k <= len(_DISCOUNT) else 1.0 / np.log2(np.arange(2, k + 2))


def topn_per_user(
    recs: Sequence[Recommendations], test: Mapping[str, set[str]], k: int
) -> dict[str, np.ndarray]:
    """Recall@k, NDCG@k and HitRate@k per test user (users in sorted order; key `users`).

    Recall divides by the number of test items; NDCG uses binary relevance with the ideal
    DCG over min(#test items, k). Per-user arrays feed `paired_bootstrap`.
    """
    if k <= 0:
        raise InvalidInput("must be positive", field="k")
    by_user = {r.user_id: r.item_ids[:k] for r in recs}
    users = sorted(test)
    disc = _discounts(k)
    ideal = np.cumsum(disc)
    recall = np.zeros(len(users))
    ndcg = np.zeros(len(users))
    for j, user in enumerate(users):
        relevant = test[user]
        if not relevant:
            continue
        hits = np.fromiter((i in relevant for i in by_user.get(user, ())), bool)
        if hits.any():
            recall[j] = hits.sum() / len(relevant)
            ndcg[j] = disc[: len(hits)][hits].sum() / ideal[min(len(relevant), k) - 1]
    return {
        "users": np.array(users, dtype=object),
        "recall": recall,
        "ndcg": ndcg,
        "hit": (recall > 0).astype(np.float64),
    }


def popularity_shares(interactions: Interactions) -> dict[str, float]:
    """Share of users who interacted with each item (the `item_popularity` novelty expects)."""
    m = interactions.matrix(binary=True).tocsc()
    share = np.diff(m.indptr) / max(len(interactions.users), 1)
    return {i: float(s) for i, s in zip(interactions.items.ids, share, strict=True) if s > 0}


def intra_list_diversity(recs: Sequence[Recommendations], vectors: ItemVectors, k: int) -> float:
    """Mean over lists of the mean pairwise cosine distance (1 - cos) between items that have
    vectors; lists with fewer than two such items are left out (NaN if none remain)."""
    values = []
    for r in recs:
        pos = vectors.ids.positions(list(r.item_ids[:k]))
        v = vectors.matrix[pos[pos >= 0]].astype(np.float64)
        m = len(v)
        if m < 2:
            continue
        s = v.sum(axis=0)
        sim_sum = float(s @ s) - float(np.einsum("ij,ij->", v, v))  # off-diagonal sum of V V^T
        values.append(1.0 - sim_sum / (m * (m - 1)))
    return float(np.mean(values)) if values else float("nan")


def novelty(recs: Sequence[Recommendations], item_popularity: Mapping[str, float], k: int) -> float:
    """Mean self-information -log2 p(i) of recommended items, p = share of users (as from
    `popularity_shares`); items absent or at 0 count as the rarest known item.

    Shares above 1 (raw counts, most likely) are refused: they would give negative novelty.
    """
    positive = [p for p in item_popularity.values() if p > 0]
    if not positive:
        raise InvalidInput("has no positive value", field="item_popularity")
    if max(positive) > 1.0:
        raise InvalidInput(
            "must hold shares of users in (0, 1], not counts; see popularity_shares()",
            field="item_popularity",
        )
    floor = min(positive)
    values = [
        float(np.mean([-np.log2(max(item_popularity.get(i, 0.0), floor)) for i in r.item_ids[:k]]))
        for r in recs
        if len(r)
    ]
    return float(np.mean(values)) if values else float("nan")


def topn_metrics(
    recs: Sequence[Recommendations],
    test: Mapping[str, set[str]],
    k: int,
    n_items: int,
    item_vectors: ItemVectors | None = None,
    item_popularity: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """All top-N metrics at cut-off k, keyed `recall@k`, `ndcg@k`, `hitrate@k`, `coverage@k`,
    plus `diversity@k` / `novelty@k` when vectors / popularity are given, and `n_users`."""
    if n_items <= 0:
        raise InvalidInput("must be positive", field="n_items")
    per_user = topn_per_user(recs, test, k)
    n_users = len(per_user["users"])
    mean = (lambda a: float(a.mean())) if n_users else (lambda a: float("nan"))
    distinct = {i for r in recs for i in r.item_ids[:k]}
    out = {
        f"recall@{k}": mean(per_user["recall"]),
        f"ndcg@{k}": mean(per_user["ndcg"]),
        f"hitrate@{k}": mean(per_user["hit"]),
        f"coverage@{k}": len(distinct) / n_items,
    }
    if item_vectors is not None:
        out[f"diversity@{k}"] = intra_list_diversity(recs, item_vectors, k)
    if item_popularity is not None:
        out[f"novelty@{k}"] = novelty(recs, item_popularity, k)
    out["n_users"] = float(n_users)
    return out

"""Train/test splits that respect time, so offline numbers do not reward seeing the future.

Interaction splits return the training `Interactions` (same user and item indexes as the
input, so positions stay comparable) and the held-out items per user; the impression split
returns two lists of impressions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedcraft.domain import Impression, Interactions
from feedcraft.errors import InvalidInput

TestSets = dict[str, set[str]]


def _test_sets(it: Interactions, test_mask: np.ndarray, drop_seen: bool) -> TestSets:
    """Held-out items per user; with `drop_seen`, items the user also has in train are dropped
    (a model that excludes seen items could never hit them), and so are users left empty."""
    n_items = len(it.items)
    keys = it.user_pos.astype(np.int64) * n_items + it.item_pos
    test_idx = np.flatnonzero(test_mask)
    if drop_seen:
        in_train = np.isin(keys[test_idx], keys[~test_mask])
        test_idx = test_idx[~in_train]
    out: TestSets = {}
    users, items = it.users.ids, it.items.ids
    for u, i in zip(it.user_pos[test_idx].tolist(), it.item_pos[test_idx].tolist(), strict=True):
        out.setdefault(users[u], set()).add(items[i])
    return out


def temporal_split(
    interactions: Interactions, quantile: float = 0.8, *, drop_seen: bool = True
) -> tuple[Interactions, TestSets]:
    """Global time cutoff at the `quantile` of timestamps: events at or before it train, later
    ones test. Test users may be absent from train (cold users), as in production."""
    if not 0.0 < quantile < 1.0:
        raise InvalidInput("must be in (0, 1)", field="quantile")
    if len(interactions) == 0:
        raise InvalidInput("no interactions to split", field="interactions")
    cutoff = float(np.quantile(interactions.timestamps, quantile))
    test = interactions.timestamps > cutoff
    return interactions.subset(~test), _test_sets(interactions, test, drop_seen)


def user_temporal_split(
    interactions: Interactions,
    test_fraction: float = 0.2,
    min_interactions: int = 5,
    *,
    drop_seen: bool = True,
) -> tuple[Interactions, TestSets]:
    """Per user, the latest `test_fraction` of events (rounded, at least one, at most all but
    one) go to test; users with fewer than `min_interactions` events stay wholly in train.

    Events are ordered by time, ties by their order in the data, so every test event is at or
    after each of the user's training events.
    """
    if not 0.0 < test_fraction < 1.0:
        raise InvalidInput("must be in (0, 1)", field="test_fraction")
    if min_interactions < 2:
        raise InvalidInput("must be >= 2 (a user needs train and test)", field="min_interactions")
    test = latest_share_mask(interactions, test_fraction, min_interactions)
    return interactions.subset(~test), _test_sets(interactions, test, drop_seen)


def latest_share_mask(
    interactions: Interactions, fraction: float, min_interactions: int
) -> np.ndarray:
    """Mask of each user's latest `fraction` of events (rounded, at least one, at most all but
    one); users with fewer than `min_interactions` events get none. Events are ordered by time,
    ties by their order in the data. The test part of `user_temporal_split`, and the labels
    the learned ranker carves from its training data, so both follow one rule."""
    it = interactions
    n = len(it)
    order = np.lexsort((np.arange(n), it.timestamps, it.user_pos))
    u_sorted = it.user_pos[order]
    counts = np.bincount(it.user_pos, minlength=len(it.users))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n_last = np.clip(np.floor(fraction * counts + 0.5), 1, np.maximum(counts - 1, 0))
    n_last[counts < min_interactions] = 0
    pos_in_user = np.arange(n) - starts[u_sorted]
    last_sorted = pos_in_user >= counts[u_sorted] - n_last[u_sorted]
    out = np.zeros(n, bool)
    out[order] = last_sorted
    return out


def impression_user_split(
    impressions: Sequence[Impression], test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Impression], list[Impression]]:
    """Seeded split by *user* (no user on both sides), keeping the input order in each list.

    For impression logs without usable time (e.g. NeMig); users are shuffled from their sorted
    ids, so the split does not depend on the order of the input.
    """
    if not 0.0 < test_fraction < 1.0:
        raise InvalidInput("must be in (0, 1)", field="test_fraction")
    users = sorted({imp.user_id for imp in impressions})
    rng = np.random.default_rng(seed)
    shuffled = [users[i] for i in rng.permutation(len(users))]
    n_test = int(np.floor(test_fraction * len(users) + 0.5))
    test_users = set(shuffled[:n_test])
    train = [imp for imp in impressions if imp.user_id not in test_users]
    test = [imp for imp in impressions if imp.user_id in test_users]
    return train, test

"""Why an item was recommended: the history item that contributed most to its score.

Neighbourhood and linear models score an item as a sum over the user's history, so the
largest term names the history item that drew it in ("because you liked X"), the
explanation people find most convincing (Herlocker et al. 2000). Models build the
history x items contribution matrix; this module turns it into anchors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedcraft.domain import IdIndex


def known_positions(
    index: IdIndex, history: Sequence[str], item_ids: Sequence[str]
) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """(history ids the model knows, their positions, item ids it knows, their positions);
    a repeated history item counts once, at its latest place."""
    hist = list(dict.fromkeys(reversed(list(history))))[::-1]
    hp = index.positions(hist)
    ip = index.positions(list(item_ids))
    h_ok, i_ok = hp >= 0, ip >= 0
    return (
        [h for h, ok in zip(hist, h_ok, strict=True) if ok],
        hp[h_ok],
        [i for i, ok in zip(item_ids, i_ok, strict=True) if ok],
        ip[i_ok],
    )


def anchors(history: Sequence[str], item_ids: Sequence[str], contrib: np.ndarray) -> dict[str, str]:
    """For each item (column), the history item (row) with the largest positive contribution;
    items no history item contributes to are left out (the caller finds another reason)."""
    if contrib.size == 0:
        return {}
    best = np.argmax(contrib, axis=0)
    top = contrib[best, np.arange(contrib.shape[1])]
    return {
        item: history[int(b)]
        for item, b, value in zip(item_ids, best, top, strict=True)
        if value > 0 and history[int(b)] != item
    }

"""What recommenders and the feed service return."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class Recommendations:
    """Ranked items for one user: ids best first, with their scores (same length)."""

    user_id: str
    item_ids: tuple[str, ...]
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        object.__setattr__(self, "item_ids", tuple(self.item_ids))
        object.__setattr__(self, "scores", np.asarray(self.scores, dtype=np.float64))
        if len(self.item_ids) != len(self.scores):
            raise ValueError("Recommendations item_ids and scores must have the same length")

    def __len__(self) -> int:
        return len(self.item_ids)

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return zip(self.item_ids, (float(s) for s in self.scores), strict=True)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    item_id: str
    score: float
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class Feed:
    user_id: str
    entries: Sequence[FeedEntry]
    model: str
    #: False when the reader's consent kept their data out (`services.consent`).
    personalised: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))

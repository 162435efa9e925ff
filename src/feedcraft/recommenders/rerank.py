"""Re-ranking a candidate list: business rules, freshness, category caps, MMR diversity.

Runs after a recommender has scored candidates (typically a few times the feed size) and
before the feed is cut to n. Order of application, each step optional:
block -> category boosts -> freshness boost -> diversity (MMR) with category caps -> pins.
Pins come last so a pinned item is always on top whatever the model thinks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from feedcraft.domain import ItemVectors
from feedcraft.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Candidate:
    """One scored item on its way into a feed. `age_days` is None when unknown."""

    item_id: str
    score: float
    category: str = ""
    age_days: float | None = None
    reason: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class RerankPolicy:
    """What the publisher asked for. Defaults change nothing.

    - `diversity` in [0, 1]: MMR trade-off; 0 = by score only, 1 = only novelty vs picked items.
    - `max_per_category`: at most this many items of one category (None = no cap).
    - `freshness_weight`, `freshness_half_life_days`: add weight * 0.5 ** (age / half-life)
      to the normalised score, so new items rise.
    - `pinned`: item ids forced to the top, in this order, when they are in the catalogue.
    - `blocked_items`, `blocked_categories`: never shown.
    - `category_boosts`: multiplicative weights on the normalised score by category.
    """

    diversity: float = 0.0
    max_per_category: int | None = None
    freshness_weight: float = 0.0
    freshness_half_life_days: float = 2.0
    pinned: tuple[str, ...] = ()
    blocked_items: frozenset[str] = field(default_factory=frozenset)
    blocked_categories: frozenset[str] = field(default_factory=frozenset)
    category_boosts: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.diversity <= 1.0:
            raise InvalidInput("must be in [0, 1]", field="diversity")
        if self.max_per_category is not None and self.max_per_category < 1:
            raise InvalidInput("must be >= 1 or None", field="max_per_category")
        if self.freshness_weight < 0:
            raise InvalidInput("must be >= 0", field="freshness_weight")
        if self.freshness_half_life_days <= 0:
            raise InvalidInput("must be > 0", field="freshness_half_life_days")
        for cat, w in self.category_boosts.items():
            if not math.isfinite(w) or w < 0:
                raise InvalidInput(
                    f"boost for {cat!r} must be a finite number >= 0", field="category_boosts"
                )
        object.__setattr__(self, "pinned", tuple(self.pinned))
        object.__setattr__(self, "blocked_items", frozenset(self.blocked_items))
        object.__setattr__(self, "blocked_categories", frozenset(self.blocked_categories))
        object.__setattr__(self, "category_boosts", dict(self.category_boosts))

    @property
    def is_identity(self) -> bool:
        return (
            self.diversity == 0.0
            and self.max_per_category is None
            and self.freshness_weight == 0.0
            and not self.pinned
            and not self.blocked_items
            and not self.blocked_categories
            and not self.category_boosts
        )


def _normalised(scores: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1], so boosts and MMR weigh scores of any model alike."""
    if len(scores) == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-12:
        return np.ones_like(scores)
    return (scores - lo) / (hi - lo)


def rerank(
    candidates: Sequence[Candidate],
    n: int,
    policy: RerankPolicy,
    vectors: ItemVectors | None = None,
    pinned: Sequence[Candidate] = (),
) -> list[Candidate]:
    """The best n candidates under `policy`, best first.

    `pinned` are the candidates for `policy.pinned` (built by the caller from the catalogue,
    since a pinned item need not be among the model's candidates). Without vectors, MMR
    treats items of the same category as similar (similarity 1) and others as 0.
    """
    if n < 0:
        raise InvalidInput("must be >= 0", field="n")
    pins = [
        replace(c, reason=c.reason or "featured by the editors", source="pinned")
        for c in pinned
        if c.item_id not in policy.blocked_items and c.category not in policy.blocked_categories
    ][:n]
    pin_ids = {c.item_id for c in pins}
    pool = [
        c
        for c in candidates
        if c.item_id not in policy.blocked_items
        and c.category not in policy.blocked_categories
        and c.item_id not in pin_ids
    ]
    if policy.is_identity or not pool:
        return pins + pool[: n - len(pins)]
    base = _normalised(np.array([c.score for c in pool], np.float64))
    if policy.category_boosts:
        base = base * np.array([policy.category_boosts.get(c.category, 1.0) for c in pool])
    if policy.freshness_weight > 0:
        fresh = np.array(
            [
                0.0
                if c.age_days is None
                else 0.5 ** (max(c.age_days, 0.0) / policy.freshness_half_life_days)
                for c in pool
            ]
        )
        base = base + policy.freshness_weight * fresh
    order = _mmr(pool, base, n - len(pins), policy, vectors)
    return pins + [replace(pool[i], score=float(base[i])) for i in order]


def _similarity(pool: Sequence[Candidate], vectors: ItemVectors | None) -> np.ndarray:
    if vectors is not None:
        m = vectors.rows([c.item_id for c in pool]).astype(np.float64)
        return np.clip(m @ m.T, -1.0, 1.0)
    cats = np.array([c.category or f"\x00{i}" for i, c in enumerate(pool)])
    return (cats[:, None] == cats[None, :]).astype(np.float64)


def _mmr(
    pool: Sequence[Candidate],
    base: np.ndarray,
    n: int,
    policy: RerankPolicy,
    vectors: ItemVectors | None,
) -> list[int]:
    """Greedy maximal marginal relevance (Carbonell & Goldstein 1998) with category caps:
    pick argmax (1 - d) * relevance - d * max similarity to the already picked items."""
    d = policy.diversity
    sim = _similarity(pool, vectors) if d > 0 else None
    chosen: list[int] = []
    per_cat: dict[str, int] = {}
    max_sim = np.full(len(pool), -np.inf if sim is None else 0.0)
    available = np.ones(len(pool), bool)
    cap = policy.max_per_category
    while len(chosen) < n and available.any():
        value = (1 - d) * base - (d * max_sim if sim is not None and chosen else 0.0)
        value = np.where(available, value, -np.inf)
        i = int(np.argmax(value))
        available[i] = False
        cat = pool[i].category
        if cap is not None and cat and per_cat.get(cat, 0) >= cap:
            continue
        per_cat[cat] = per_cat.get(cat, 0) + 1
        chosen.append(i)
        if sim is not None:
            max_sim = np.maximum(max_sim, sim[i])
    return chosen

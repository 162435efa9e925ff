"""The one estimator API every recommender follows (scikit-learn style).

- The constructor only stores its arguments.
- `fit(interactions, item_vectors=None)` validates, learns, and returns `self`;
  learned state ends in `_`.
- `recommend(user_ids, n)` returns one `Recommendations` per user (the fixed return type).
- `score(user_id, item_ids)` scores given candidates (impression ranking, e.g. MIND).
- `explain(history, item_ids)` names the history item behind each recommendation.
- Users unknown at fit time are served, never refused: with a `history` (item ids the
  user interacted with) the model uses it, otherwise it falls back to its cold-start ranking.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from feedcraft.domain import Interactions, ItemVectors, Recommendations
from feedcraft.errors import NotFitted
from feedcraft.recommenders.forget import forget_users as _forget_users


class Recommender(ABC):
    name: ClassVar[str] = "base"
    #: Whether `fit` needs item vectors (content-based models).
    needs_item_vectors: ClassVar[bool] = False

    @abstractmethod
    def fit(self, interactions: Interactions, item_vectors: ItemVectors | None = None) -> Self:
        """Learn from users x items interactions; returns self."""

    @abstractmethod
    def score(
        self, user_id: str, item_ids: Sequence[str], history: Sequence[str] | None = None
    ) -> np.ndarray:
        """Scores (higher is better) for `item_ids`, aligned with them.

        `history`, when given, replaces the user's training interactions (for users the model
        has never seen, such as MIND test users). Unknown items get the model's lowest prior.
        """

    @abstractmethod
    def recommend(
        self,
        user_ids: Sequence[str],
        n: int = 10,
        *,
        exclude_seen: bool = True,
        histories: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Recommendations]:
        """Top-n items for each user, best first. Seen items (training interactions, and the
        given history) are excluded unless `exclude_seen` is False."""

    def explain(self, history: Sequence[str], item_ids: Sequence[str]) -> dict[str, str]:
        """For items recommended from `history` (oldest first), the history item that drew
        each one in, where the model can tell; models that cannot return {}."""
        return {}

    def prepare_serving(self, cache_dir: Path | None = None) -> None:
        """Slow one-off work that makes serving faster (e.g. compiling a model to native
        code), run by the server in the background after loading; the model serves the
        same scores before, during and after. Most models have none. `cache_dir` may keep
        what this machine can reuse (compiled code) between processes."""
        return None

    def forget_users(self, user_ids: Sequence[str]) -> int:
        """Remove these readers (their ids and training histories) from the fitted model, in
        every part of it, so a model saved afterwards names none of them (erasure); returns
        how many of them it knew. They are then served as unknown readers. What the model
        learned across readers stays until the next training (see `forget`)."""
        self._check_fitted()
        return _forget_users(self, user_ids)

    # -- shared helpers -------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, as scikit-learn's `get_params` (shallow)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def _check_fitted(self) -> None:
        if not hasattr(self, "interactions_"):
            raise NotFitted(f"{type(self).__name__} is not fitted; call fit() first")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

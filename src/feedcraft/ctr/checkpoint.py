"""A fine-tuning fit's training state on disk, so a long fit that is stopped (killed, a
machine handed back) resumes where it was and ends as it would have without the stop.

Why: the larger settings take hours on two CPU cores (gemma3-270m with all 18 layers, about
1.5 h on Zen 3), longer than a machine is often held. The state is everything the remaining
steps depend on (weights, optimiser and schedule, the epoch's test order, both random
generators, the history and best epoch so far), under a key of the fit's settings and data,
so a checkpoint is never resumed by a different fit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from feedcraft.ctr.data import HeadlineVariants
from feedcraft.errors import InvalidInput

__all__ = ["FitCheckpoint", "Progress", "fit_key"]


@dataclass
class Progress:
    """Where a training loop is: the epoch and step to run next, that epoch's order of tests
    (None: not drawn yet) and its summed loss so far."""

    epoch: int = 1
    step: int = 0
    order: list[int] | None = None
    total: float = 0.0


def fit_key(params: dict[str, Any], arrays: list[Any]) -> str:
    """A digest of a fit's settings and of its data (strings and numeric columns)."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for column in arrays:
        if isinstance(column, np.ndarray):
            h.update(np.ascontiguousarray(column).tobytes())
        else:
            h.update("\x1f".join(map(str, column)).encode())
        h.update(b"\x1e")
    return h.hexdigest()


class FitCheckpoint:
    """One file of training state, written atomically every `every_seconds` and at each
    epoch's end, read back by a fit with the same key. `earlier_seconds`: what the stopped runs
    had spent up to the checkpoint that was read (0 before one is), so a resumed fit can report
    its whole time."""

    def __init__(self, path: str | os.PathLike[str], key: str, every_seconds: float) -> None:
        self.path = Path(path)
        self.key = key
        self.every_seconds = every_seconds
        self._last = self._start = time.monotonic()
        self.earlier_seconds = 0.0
        if self.path.is_dir():
            raise InvalidInput(f"{self.path} is a folder, not a file", field="checkpoint")
        if not self.path.parent.is_dir():
            raise InvalidInput(f"no folder {self.path.parent} to write into", field="checkpoint")

    @classmethod
    def for_fit(
        cls,
        path: str | os.PathLike[str],
        every_seconds: float,
        settings: dict[str, Any],
        data: list[HeadlineVariants | None],
    ) -> FitCheckpoint:
        """The checkpoint of a fit with these settings on these variants (None: absent)."""
        columns: list[Any] = []
        for v in data:
            if v is not None:
                columns += [v.test_ids, v.headlines, v.excerpts, v.ledes, v.impressions, v.clicks]
        return cls(path, fit_key(settings, columns), every_seconds)

    def load(self) -> dict[str, Any] | None:
        """The stored state, or None when there is none yet; refuses another fit's state."""
        import torch

        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several kinds for a damaged file
            raise InvalidInput(
                f"{self.path} is not a readable checkpoint ({exc}); delete it to start afresh",
                field="checkpoint",
            ) from exc
        if not isinstance(state, dict) or state.get("key") != self.key:
            raise InvalidInput(
                f"{self.path} holds the state of another fit (its settings or data differ); "
                "delete it or pass another path",
                field="checkpoint",
            )
        self.earlier_seconds = float(state.get("seconds", 0.0))
        return state

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.every_seconds

    def save(self, state: dict[str, Any]) -> None:
        """Writes `state` beside the file and renames it over: a stop mid-write leaves the
        previous checkpoint whole."""
        import torch

        tmp = self.path.with_name(self.path.name + ".tmp")
        spent = self.earlier_seconds + time.monotonic() - self._start
        torch.save({**state, "key": self.key, "seconds": spent}, tmp)
        os.replace(tmp, self.path)
        self._last = time.monotonic()

    def save_training(
        self,
        stateful: dict[str, Any],
        tensors: dict[str, Any],
        rng: np.random.Generator,
        history: list[dict[str, float]],
        best: tuple[float, int, dict[str, Any]] | None,
        at: Progress,
    ) -> None:
        """Saves a training loop: `stateful` objects' `state_dict()` (modules, optimisers,
        schedules), loose `tensors`, both random generators, the history and best so far."""
        import torch

        cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        self.save(
            {
                "stateful": {k: v.state_dict() for k, v in stateful.items()},
                "tensors": {k: t.detach().cpu() for k, t in tensors.items()},
                "rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state() if cuda else None,
                "history": [
                    {k: int(v) if k == "epoch" else float(v) for k, v in row.items()}
                    for row in history
                ],
                "best": None if best is None else (float(best[0]), int(best[1]), best[2]),
                "at": dataclasses.asdict(at),
            }
        )

    @staticmethod
    def restore_training(
        state: dict[str, Any],
        *,
        stateful: dict[str, Any],
        tensors: dict[str, Any],
        rng: np.random.Generator,
    ) -> tuple[list[dict[str, float]], tuple[float, int, dict[str, Any]] | None, Progress]:
        """Puts a `save_training` state back in place; returns the history, best and progress."""
        import torch

        for k, v in stateful.items():
            v.load_state_dict(state["stateful"][k])
        with torch.no_grad():
            for k, t in tensors.items():
                t.copy_(state["tensors"][k])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state(state["cuda_rng"])
        return list(state["history"]), state["best"], Progress(**state["at"])

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

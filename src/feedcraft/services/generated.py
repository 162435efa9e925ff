"""What the generation service hands back: served texts and the reports of its jobs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["BatchReport", "GeneratedText", "PruneReport"]


@dataclass(frozen=True)
class GeneratedText:
    """One served generation: the outputs, who wrote them, and whether the cache answered.

    `generation_seconds` is what producing the text cost (at the miss); `seconds` is what
    serving it cost now.
    """

    task: str
    item_id: str
    outputs: tuple[str, ...]
    produced_by: tuple[str, ...]
    backend: str
    fallback: bool
    language: str
    failed_checks: tuple[str, ...]
    interests: tuple[str, ...]
    profile_bucket: str
    cache_hit: bool
    cache_key: str
    generation_seconds: float
    seconds: float
    #: Checks the served fallback text fails (it quotes the source, so these are the source's
    #: own: too long, say); empty when the model wrote every output or the fallback passed.
    fallback_failed_checks: tuple[str, ...] = ()
    #: Headlines only, when the store holds a headline click model: each output's p_click
    #: (outputs are then best first) and the model that scored them; else empty.
    p_click: tuple[float, ...] = ()
    ranked_by: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.outputs)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PruneReport:
    examined: int
    removed_stale: int
    removed_other_models: int
    seconds: float


@dataclass(frozen=True)
class BatchReport:
    """`skipped`: items the task has nothing to work from (no title or body; no title for ad
    copy and descriptions) or deleted while the batch ran, not counted in `generated`."""

    task: str
    items: int
    generated: int
    cache_hits: int
    fallbacks: int
    seconds: float
    skipped: int = 0

    def summary(self) -> str:
        skipped = f"{self.skipped} skipped (no text or deleted), " if self.skipped else ""
        return (
            f"{self.task}: {self.items} items, {self.generated} generated, "
            f"{self.cache_hits} from the cache, {self.fallbacks} with extractive fallback, "
            f"{skipped}{self.seconds:.1f}s"
        )

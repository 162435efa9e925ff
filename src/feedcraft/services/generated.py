"""What the generation service hands back: served texts and the reports of its jobs."""

from __future__ import annotations

import time
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
    #: (scored outputs best first, then the unscored, None, in generated order: another
    #: script than Latin) and the model that scored them; else empty.
    p_click: tuple[float | None, ...] = ()
    ranked_by: str = ""
    #: Why the backend gave no answer (server down, model failed to load, or "busy: ..."
    #: beyond `[llm] max_pending`) when it did not; such a text is the fallback's and is
    #: never cached, except that a busy personalised summary (or ad copy aimed at the
    #: reader's interests) is the cached one for no particular reader when there is one
    #: (`interests` then empty). None when the backend answered.
    backend_error: str | None = None
    #: Outputs asked for that neither the model nor the fallback could give (every fallback
    #: sentence banned, too short a source for n headlines): `outputs` is that much shorter,
    #: empty when nothing could be served.
    unfilled: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.outputs)

    @classmethod
    def stored(
        cls,
        task: str,
        item_id: str,
        terms: tuple[str, ...],
        bucket: str,
        key: str,
        value: dict[str, Any],
        *,
        hit: bool,
        start: float,
    ) -> GeneratedText:
        """The text as the cache stores it (`value`), served now; `start` is when serving it
        began (`time.perf_counter`)."""
        return cls(
            task=task,
            item_id=item_id,
            outputs=tuple(value["outputs"]),
            produced_by=tuple(value["produced_by"]),
            backend=str(value["backend"]),
            fallback=bool(value["fallback"]),
            language=str(value["language"]),
            failed_checks=tuple(value["failed_checks"]),
            fallback_failed_checks=tuple(value.get("fallback_failed_checks", ())),
            backend_error=value.get("backend_error"),
            unfilled=int(value.get("unfilled", 0)),
            interests=terms,
            profile_bucket=bucket,
            cache_hit=hit,
            cache_key=key,
            generation_seconds=float(value["generation_seconds"]),
            seconds=time.perf_counter() - start,
        )

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
    copy and descriptions) or deleted while the batch ran, not counted in `generated`.
    `backend_failed`: items whose model call failed (served the fallback, not cached, so a
    batch run during an outage fills nothing), counted in neither `generated` nor
    `fallbacks`; `backend_error`: the first such failure's message, None when none failed."""

    task: str
    items: int
    generated: int
    cache_hits: int
    fallbacks: int
    seconds: float
    skipped: int = 0
    backend_failed: int = 0
    backend_error: str | None = None
    #: Items never tried: the batch stopped after that many backend failures in a row (each
    #: costs a timeout and its retries, so a dead server would hold the batch for hours).
    not_attempted: int = 0

    @property
    def outage(self) -> bool:
        """Every item the batch asked the model about failed on the backend: nothing filled."""
        asked = self.items - self.skipped - self.cache_hits - self.not_attempted
        return asked > 0 and self.backend_failed >= asked

    def summary(self) -> str:
        skipped = f"{self.skipped} skipped (no text or deleted), " if self.skipped else ""
        failed = (
            f"{self.backend_failed} failed on the backend (not cached, run again: "
            f"{self.backend_error}), "
            if self.backend_failed
            else ""
        )
        stopped = f"stopped with {self.not_attempted} not attempted, " if self.not_attempted else ""
        return (
            f"{self.task}: {self.items} items, {self.generated} generated, "
            f"{self.cache_hits} from the cache, {self.fallbacks} with extractive fallback, "
            f"{failed}{stopped}{skipped}{self.seconds:.1f}s"
        )

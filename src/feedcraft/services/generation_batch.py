"""The counts of a generation batch, item by item.

An answer the backend could not give (server down, model failed to load) is served from the
extractive fallback but never cached (`GenerationService._write`), so a batch run during an
outage fills nothing: such items are counted as `backend_failed`, apart from `generated` and
from the guardrails' fallbacks (which are cached), and the report keeps the first error's
message, so that an outage is told, not reported as work done.
"""

from __future__ import annotations

from feedcraft.services.generated import BatchReport, GeneratedText

__all__ = ["STOP_AFTER_BACKEND_FAILURES", "BatchTally"]

#: Backend failures in a row after which a batch stops: the server is down, not one item
#: refused (each failure costs a timeout and its retries; a rerun resumes where it stopped).
STOP_AFTER_BACKEND_FAILURES = 5


class BatchTally:
    """The counts of a batch as its items are served. `stop_after` backend failures in a row
    make `stalled` true (0: never)."""

    def __init__(self, stop_after: int = STOP_AFTER_BACKEND_FAILURES) -> None:
        self.hits = self.generated = self.fallbacks = self.skipped = self.backend_failed = 0
        self.backend_error: str | None = None
        self.stop_after = stop_after
        self.in_a_row = 0

    @property
    def stalled(self) -> bool:
        return 0 < self.stop_after <= self.in_a_row

    @property
    def counted(self) -> int:
        return self.hits + self.generated + self.skipped + self.backend_failed

    def skip(self) -> None:
        self.skipped += 1

    def add(self, out: GeneratedText) -> None:
        """Count one served text. The signal of an outage is the generator's "backend"
        check, as a single request reports it."""
        if "backend" in out.failed_checks and not out.cache_hit:
            self.backend_failed += 1
            self.in_a_row += 1
            if self.backend_error is None:
                self.backend_error = out.backend_error or "the backend failed (no message)"
            return
        self.in_a_row = 0 if not out.cache_hit else self.in_a_row
        self.hits += out.cache_hit
        self.generated += not out.cache_hit
        self.fallbacks += out.fallback

    def report(self, task: str, items: int, seconds: float) -> BatchReport:
        return BatchReport(
            task=task,
            items=items,
            generated=self.generated,
            cache_hits=self.hits,
            fallbacks=self.fallbacks,
            seconds=seconds,
            skipped=self.skipped,
            backend_failed=self.backend_failed,
            backend_error=self.backend_error,
            not_attempted=items - self.counted,
        )

"""What an import did, and the error that stops one part-way with what was already committed."""

from __future__ import annotations

from dataclasses import dataclass

from feedcraft.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Counts of one import run.

    `*_read` counts records in the files; `*_new` what this run stored (for items: inserted or
    changed); `*_seen` the rest (already stored, or repeated within the input: MIND repeats a
    user's history on every impression line). A re-run of a finished import has events_new == 0.
    """

    format: str
    source: str
    items_read: int = 0
    items_new: int = 0
    items_seen: int = 0
    events_read: int = 0
    events_new: int = 0
    events_seen: int = 0
    stubs_created: int = 0
    batches: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events_read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.format} from {self.source}: items {self.items_new} new / {self.items_seen} "
            f"seen, events {self.events_new} new / {self.events_seen} seen, "
            f"{self.stubs_created} stubs, {self.seconds:.1f} s"
        )


class ImportAborted(InvalidInput):
    """A bad line stopped the import. The batch holding it was rejected whole (nothing of it was
    written); every batch before it is committed. `committed_lines` says how many lines of the
    file being imported are durable; `report` counts everything committed so far.
    Fixing the line and re-running continues idempotently: committed records are skipped.
    """

    def __init__(
        self, cause: InvalidInput, *, report: ImportReport, file: str, committed_lines: int
    ) -> None:
        # Keep the cause's file/line/field prefix verbatim and append what survived.
        lines = f"lines 1-{committed_lines}" if committed_lines else "no lines"
        Exception.__init__(
            self,
            f"{cause} (import stopped; the batch holding this line was rejected whole; "
            f"committed before it: {lines} of {file}, "
            f"{report.items_new} new items, {report.events_new} new events. "
            f"Fix the line and re-run: committed records are skipped)",
        )
        self.field = cause.field
        self.source = cause.source
        self.line = cause.line
        self.file = file
        self.committed_lines = committed_lines
        self.report = report

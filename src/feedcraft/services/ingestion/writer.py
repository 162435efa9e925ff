"""Batch writer shared by the importers: line-aligned batches, stubs, counts, progress.

Validation policy: a batch is read and validated in full before any of it is written, and it
ends on a line boundary (a MIND line's events never straddle two batches). A bad line rejects
its whole batch; every earlier batch is already committed (one store transaction each) and
stays so. The resulting `ImportAborted` names the file and line and says how many lines are
committed, so a re-run after the fix continues idempotently.

An event naming a deleted item (one with a tombstone) is such a bad line: the import stops
there rather than skip it, because skipping would lose data without a word and a stub would
undo the deletion. Items written earlier in the same import (an items file re-adding the item)
clear the tombstone first, so re-importing a whole data set restores what it contains.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from feedcraft.domain import Event, Item
from feedcraft.errors import InvalidInput
from feedcraft.services.ingestion.report import ImportAborted, ImportReport
from feedcraft.services.ingestion.stubs import create_stubs, deleted_item_error
from feedcraft.services.pseudonyms import Pseudonyms
from feedcraft.storage import Store

T = TypeVar("T")
OnBatch = Callable[[ImportReport], None]

# Item ids known to exist are remembered to spare catalogue look-ups; the set is dropped when it
# grows past this, so memory stays bounded on huge catalogues.
KNOWN_IDS_LIMIT = 200_000


@dataclass(slots=True)
class _Tally:
    items_read: int = 0
    items_new: int = 0
    events_read: int = 0
    events_new: int = 0
    stubs_created: int = 0
    batches: int = 0


class BatchWriter:
    """Writes numbered records from the readers into a store, one transaction per batch."""

    def __init__(
        self,
        store: Store,
        *,
        fmt: str,
        source: Path,
        batch_size: int,
        progress: bool,
        on_batch: OnBatch | None,
        readers: Pseudonyms | None = None,
    ) -> None:
        if batch_size < 1:
            raise InvalidInput(f"must be >= 1, got {batch_size}", field="batch_size")
        self._store = store
        self._fmt = fmt
        self._source = source
        self._batch_size = batch_size
        self._progress = progress
        self._on_batch = on_batch
        self._readers = readers
        self._tally = _Tally()
        self._known: set[str] = set()
        self._started = time.perf_counter()

    def report(self) -> ImportReport:
        t = self._tally
        return ImportReport(
            format=self._fmt,
            source=str(self._source),
            items_read=t.items_read,
            items_new=t.items_new,
            items_seen=t.items_read - t.items_new,
            events_read=t.events_read,
            events_new=t.events_new,
            events_seen=t.events_read - t.events_new,
            stubs_created=t.stubs_created,
            batches=t.batches,
            seconds=time.perf_counter() - self._started,
        )

    def write_items(self, path: Path, records: Iterable[tuple[int, Item]]) -> None:
        for batch in self._batches(path, ((line, (item,)) for line, item in records)):
            # a later line wins, as a re-upsert would
            unique = {item.id: item for _, item in batch}
            self._tally.items_new += self._store.catalogue.upsert(unique.values())
            self._tally.items_read += len(batch)
            self._remember(unique)
            self._committed()

    def write_events(self, path: Path, records: Iterable[tuple[int, Sequence[Event]]]) -> None:
        for batch in self._batches(path, records, check=self._refuse_deleted):
            unique = list({event.id: event for _, event in batch}.values())
            if self._readers is not None:
                unique = [self._readers.event(e) for e in unique]
            self._ensure_items(unique)
            self._tally.events_new += self._store.events.append(unique)
            self._tally.events_read += len(batch)
            self._committed()

    def _committed(self) -> None:
        self._tally.batches += 1
        if self._on_batch is not None:
            self._on_batch(self.report())

    def _batches(
        self,
        path: Path,
        records: Iterable[tuple[int, Sequence[T]]],
        check: Callable[[Path, list[tuple[int, T]]], None] | None = None,
    ) -> Iterator[list[tuple[int, T]]]:
        """Line-aligned batches of at least batch_size (line, value) pairs (the last may be
        smaller), each passed to `check` before it is yielded.

        The consumer commits each batch before asking for the next, so when a reader or check
        error surfaces here every batch yielded so far is durable.
        """
        committed_line = 0
        batch: list[tuple[int, T]] = []
        line = 0
        it = iter(records)
        with tqdm(
            desc=path.name, unit=" lines", unit_scale=True, disable=not self._progress
        ) as bar:
            while True:
                try:
                    line, values = next(it)
                except StopIteration:
                    break
                except InvalidInput as exc:
                    raise ImportAborted(
                        exc, report=self.report(), file=str(path), committed_lines=committed_line
                    ) from exc
                batch.extend((line, value) for value in values)
                if len(batch) >= self._batch_size:
                    self._check(path, batch, check, committed_line)
                    yield batch
                    bar.update(line - committed_line)
                    committed_line, batch = line, []
            if batch:
                self._check(path, batch, check, committed_line)
                yield batch
                bar.update(line - committed_line)

    def _check(
        self,
        path: Path,
        batch: list[tuple[int, T]],
        check: Callable[[Path, list[tuple[int, T]]], None] | None,
        committed_line: int,
    ) -> None:
        if check is None:
            return
        try:
            check(path, batch)
        except InvalidInput as exc:
            raise ImportAborted(
                exc, report=self.report(), file=str(path), committed_lines=committed_line
            ) from exc

    def _refuse_deleted(self, path: Path, batch: list[tuple[int, Event]]) -> None:
        """Events naming deleted items fail the batch at the first such line."""
        wanted = list(dict.fromkeys(e.item_id for _, e in batch if e.item_id not in self._known))
        deleted = self._store.catalogue.deleted(wanted) if wanted else set()
        if deleted:
            raise deleted_item_error(
                [e for _, e in batch],
                deleted,
                field="item_id",
                source=str(path),
                lines=[line for line, _ in batch],
            )

    def _ensure_items(self, events: Sequence[Event]) -> None:
        """Create stubs for items the catalogue lacks (a stub never replaces a full item)."""
        wanted = list(dict.fromkeys(e.item_id for e in events if e.item_id not in self._known))
        if wanted:
            self._tally.stubs_created += create_stubs(self._store, wanted)
            self._remember(wanted)

    def _remember(self, item_ids: Iterable[str]) -> None:
        ids = list(item_ids)
        if len(self._known) + len(ids) > KNOWN_IDS_LIMIT:
            self._known.clear()
        self._known.update(ids)

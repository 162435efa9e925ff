"""Crash-test writer: appends numbered events in batches and acknowledges each append.

Usage: crash_writer.py URL TOTAL BATCH [PREFIX]

After every `append` returns it prints the running total and flushes, so a parent that reads
"N" knows events PREFIX-0000000 .. PREFIX-(N-1) were acknowledged as durable. Re-running it is
safe: ids are fixed, so already stored events are skipped.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from feedcraft.domain import Event, EventType
from feedcraft.storage import open_store

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def event(prefix: str, i: int) -> Event:
    return Event(
        user_id=f"u-{i % 97}",
        item_id=f"n-{i % 1013}",
        type=EventType.CLICK,
        timestamp=T0 + timedelta(seconds=i),
        id=f"{prefix}-{i:07d}",
    )


def main(argv: list[str]) -> int:
    url, total, batch = argv[1], int(argv[2]), int(argv[3])
    prefix = argv[4] if len(argv) > 4 else "crash"
    store = open_store(url)
    try:
        for start in range(0, total, batch):
            stop = min(start + batch, total)
            store.events.append([event(prefix, i) for i in range(start, stop)])
            print(stop, flush=True)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""One writer per cache entry across processes: a claim in the store, the others wait.

`SingleFlight` shares a model run between the threads of one process. Server processes that
share a store (several API workers, a batch job beside the API) each have their own model, and
readers of a new article reach all of them at once: without a claim, each process missing the
entry ran the model for it, on the same cores. Here a process takes the entry's claim before
running, and a process that finds it taken polls the cache until the text is there. A claim
lapses after its seconds, so a writer that dies costs the others that long at most; a writer
that outlives its claim may see a second writer start, which costs a duplicate run, no more.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from feedcraft.storage.protocols import TextCache

__all__ = ["claim_owner", "run_claimed"]

T = TypeVar("T")

#: First wait between two looks at the cache, and the longest (the wait grows by half each
#: time): a short text is seen soon, and a long run is not polled a thousand times.
_FIRST_POLL_S = 0.05
_LONGEST_POLL_S = 0.5


def claim_owner() -> str:
    """A name for this claimant, unique across hosts, processes and services: readable in
    the store (host and pid) for whoever looks at a stuck claim."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:12]}"


def run_claimed(
    cache: TextCache,
    key: str,
    *,
    owner: str,
    seconds: float,
    cached: Callable[[], T | None],
    run: Callable[[], T],
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, bool]:
    """`run()` under the claim of `key`, or what `cached()` finds once another claimant has
    written it; the flag says whether it came from the cache.

    While the claim is another's, the cache is read again after each wait; when the claim
    comes free without a text (the writer failed, or served an outage's fallback, which is not
    cached), this caller takes it and runs. `cached()` is asked once more after the claim is
    taken: the writer may have finished between the last look and the claim.
    """
    wait = _FIRST_POLL_S
    while not cache.claim(key, owner, seconds):
        sleep(wait)
        wait = min(wait * 1.5, _LONGEST_POLL_S)
        if (found := cached()) is not None:
            return found, True
    try:
        if (found := cached()) is not None:
            return found, True
        return run(), False
    finally:
        cache.release(key, owner)

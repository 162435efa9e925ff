"""One writer per cache entry across processes: a claim in the store, the others wait.

`SingleFlight` shares a model run between the threads of one process. Server processes that
share a store (several API workers, a batch job beside the API) each have their own model, and
readers of a new article reach all of them at once: without a claim, each process missing the
entry ran the model for it, on the same cores. Here a process takes the entry's claim before
running, and a process that finds it taken polls the cache until the text is there.

A claim lasts `seconds` and its writer renews it every third of that while it runs, so a
writer that dies (killed, or its host down) holds the others up for `seconds` at most, while
a long run keeps its claim. When the claim comes free and the cache still holds nothing, the
writer failed or served an outage's fallback (not cached): the callers that waited then run
at once, side by side, rather than each waiting out the next one's failure in turn.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from feedcraft.storage.protocols import TextCache

__all__ = ["ClaimOwner", "run_claimed"]

T = TypeVar("T")

#: First wait between two looks at the cache, and the longest (the wait grows by half each
#: time): a short text is seen soon, and a long run is not polled a thousand times.
_FIRST_POLL_S = 0.05
_LONGEST_POLL_S = 0.5


class ClaimOwner:
    """The claimant name of one service: host and process (readable in the store by whoever
    looks at a stuck claim) and a token of its own. Read at each claim, so a process forked
    after the service was built claims under its own pid, not its parent's."""

    def __init__(self) -> None:
        self._token = uuid.uuid4().hex[:12]

    def __str__(self) -> str:
        return f"{socket.gethostname()}/{os.getpid()}/{self._token}"


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

    While the claim is another's, the cache is read again after each wait. `cached()` is asked
    once more after the claim is taken: the writer may have finished between the last look
    and the claim.
    """
    waited = False
    wait = _FIRST_POLL_S
    while not cache.claim(key, owner, seconds):
        waited = True
        sleep(wait)
        wait = min(wait * 1.5, _LONGEST_POLL_S)
        if (found := cached()) is not None:
            return found, True
    renewing = _Renewal(cache, key, owner, seconds)
    try:
        if (found := cached()) is not None:
            return found, True
        if waited:  # the writer left nothing: let the next waiter run now, not after this
            cache.release(key, owner)
            return run(), False
        renewing.start()
        return run(), False
    finally:
        renewing.stop()
        cache.release(key, owner)


class _Renewal:
    """Renews a claim every third of its seconds from a daemon thread until stopped; gives
    up when the claim was lost (it lapsed, and another took it: that one runs too)."""

    def __init__(self, cache: TextCache, key: str, owner: str, seconds: float) -> None:
        self._args = (cache, key, owner, seconds)
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._renew, name="claim-renewal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _renew(self) -> None:
        cache, key, owner, seconds = self._args
        while not self._done.wait(seconds / 3):
            try:
                if not cache.claim(key, owner, seconds):
                    return
            except Exception:  # the store closing under a run: the run reports it, if at all
                return

"""How many model runs may be pending at once; the rest are answered by the fallback at once.

A model writes one text at a time (the embedded engine decodes one request; a server has its
own slots), so requests beyond the first queue, and each holds its caller's thread meanwhile.
In the API that thread is one of the 40 that serve every route: a burst of summaries for
distinct items held all of them, and feeds, event writes and /health waited behind the model
for minutes (`benchmarks/generation_overload.py`). So a `Generator` lets at most `max_pending`
runs be in progress or queued (`[llm] max_pending`) and serves any other request its
extractive fallback at once, reported as the backend being busy (and so never cached, like an
outage's text). (The generation service first looks for a personalised request's cached text
for no particular reader: a model's text, served in milliseconds.)

Background writers (the feed's summary thread, a batch job) are one thread each and would
rather wait than be served a fallback: `patient()` lets the calling thread queue past the
bound.

The fallback is no free lunch either (~0.1 s of encoding per MIND article): 44 of them at
once on 2 cores took 8 s each and slowed every other route. So at most `fallbacks` run at
once (by default one per usable CPU), the others waiting their turn (`fallback()`), and a busy
fallback skips the similarity check, two of its three encodes (`Generator._fallback`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from feedcraft.errors import InvalidInput

__all__ = ["DEFAULT_MAX_PENDING", "Admission", "usable_cpus"]

#: Runs in progress or queued per process by default: with the embedded model's ~5 s per
#: summary on 2 cores, the last admitted waits about 20 s; an HTTP server with more slots
#: wants more (`[llm] max_pending`).
DEFAULT_MAX_PENDING = 4


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, where the platform tells)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - not Linux


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"must be an integer of at least 1, got {value!r}", field=field)
    return value


class Admission:
    """A bound on pending model runs, and one on fallbacks running at once, shared by the
    threads of one generator; `fallbacks` None is one per usable CPU."""

    def __init__(
        self, max_pending: int = DEFAULT_MAX_PENDING, *, fallbacks: int | None = None
    ) -> None:
        self.max_pending = _count(max_pending, "max_pending")
        self.fallbacks = _count(usable_cpus() if fallbacks is None else fallbacks, "fallbacks")
        self._fallback_slots = threading.BoundedSemaphore(self.fallbacks)
        self._lock = threading.Lock()
        self._pending = 0
        self._local = threading.local()

    @property
    def pending(self) -> int:
        """Runs admitted and not yet finished (patient ones included)."""
        with self._lock:
            return self._pending

    @contextmanager
    def patient(self) -> Iterator[None]:
        """Within this block the calling thread is always admitted: it waits its turn."""
        previous = getattr(self._local, "patient", False)
        self._local.patient = True
        try:
            yield
        finally:
            self._local.patient = previous

    @contextmanager
    def enter(self) -> Iterator[bool]:
        """Yields whether this run is admitted; an admitted run counts as pending until the
        block ends (however it ends). Within the block the thread's answer stands: a nested
        `enter` yields it again and counts nothing (a service decides before it claims the
        text in the store, and the generator it calls then keeps to that decision)."""
        decided = getattr(self._local, "decided", None)
        if decided is not None:
            yield decided
            return
        patient = getattr(self._local, "patient", False)
        with self._lock:
            admitted = patient or self._pending < self.max_pending
            if admitted:
                self._pending += 1
        self._local.decided = admitted
        try:
            yield admitted
        finally:
            self._local.decided = None
            if admitted:
                with self._lock:
                    self._pending -= 1

    @contextmanager
    def fallback(self) -> Iterator[None]:
        """Run a fallback once one of the `fallbacks` slots is free."""
        with self._fallback_slots:
            yield

    def busy_message(self, served: str = "the fallback") -> str:
        """What a refused run reports as its backend error; `served` says what it got."""
        return (
            f"busy: {self.max_pending} model runs already in progress or queued "
            f"([llm] max_pending); served {served}"
        )

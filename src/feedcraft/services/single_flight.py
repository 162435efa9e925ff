"""One run per key at a time: callers that miss the same cache entry together share one run.

Generated text costs seconds of a model that serves one request at a time, and readers of a
new article arrive together: without this, each of R requests that missed the cache ran the
model, and the last waited for all R runs. Here the first caller (the leader) runs, and the
others wait for its result. Within one process: processes that share a store take a claim on
the key there as well (`claimed`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

__all__ = ["SingleFlight"]

T = TypeVar("T")


@dataclass
class _Flight(Generic[T]):
    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    failed: bool = False


class SingleFlight(Generic[T]):
    """`run(key, fn)` calls `fn` unless a call for `key` is in flight, whose result it shares.

    When the leader's call raises, the exception is the leader's alone: each waiting caller
    tries again (one of them leading), so every caller sees its own error and no traceback is
    shared between threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight[T]] = {}

    def run(self, key: str, fn: Callable[[], T]) -> tuple[T, bool]:
        """`fn()`'s result, or the in-flight call's; the flag says whether it was shared."""
        while True:
            with self._lock:
                flight = self._flights.get(key)
                leader = flight is None
                if flight is None:
                    flight = self._flights[key] = _Flight()
            if leader:
                return self._lead(key, flight, fn), False
            flight.done.wait()
            if not flight.failed:
                return cast(T, flight.value), True  # set before `done`

    def _lead(self, key: str, flight: _Flight[T], fn: Callable[[], T]) -> T:
        try:
            value = fn()
            flight.value = value
        except BaseException:
            flight.failed = True
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()
        return value

    def in_flight(self) -> int:
        """How many keys are being computed now (for tests and metrics)."""
        with self._lock:
            return len(self._flights)

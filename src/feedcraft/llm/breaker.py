"""Fail fast while the model is down, instead of every request waiting out its timeouts.

A call to a server that is down costs its tries, the backoff between them and, for a server
that hangs rather than refuses, up to `[llm] total_timeout_s` (120 s by default). Every
request during an outage paid that again, holding an API thread and a model slot each, only to
be served the fallback. So after a call fails (`Unavailable`: its retries are spent) the
breaker opens: for `retry_s` seconds calls are refused at once with the failure's message, and
the caller serves its fallback (or the text for no particular reader) in milliseconds. Then
one call, the probe, is let through while the others are still refused; its success closes
the breaker, its failure opens it for another `retry_s`.

Only `Unavailable` counts as down. A refused request (`InvalidInput`: the server answered
4xx, or the request was bad) means the server is up. The breaker belongs to one generator,
so to one process: each process finds an outage with one call of its own.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from feedcraft.errors import InvalidInput, Unavailable

__all__ = ["DEFAULT_RETRY_S", "Breaker"]

#: Seconds a failed call keeps the model refused: the HTTP backend's own retries have already
#: covered a blip by then (three tries with backoff), so this is an outage.
DEFAULT_RETRY_S = 15.0


class Breaker:
    """Opened by a failed call, refusing calls for `retry_s` seconds, then letting one probe
    through; `retry_s` 0 never refuses (every call asks the model). `clock` is for tests."""

    def __init__(
        self, retry_s: float = DEFAULT_RETRY_S, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not 0 <= retry_s < math.inf:
            raise InvalidInput(f"must be >= 0 and finite, got {retry_s}", field="retry_s")
        self.retry_s = retry_s
        self._clock = clock
        self._lock = threading.Lock()
        self._error: str | None = None  # the last failure while open, else None
        self._down_since = 0.0  # the first failure of this outage
        self._opened = 0.0  # the last failure: the wait runs from here
        self._probing = False

    def refusal(self) -> str | None:
        """Why a call now would be refused (None: it would go through), without taking the
        probe: a caller with a better answer than the fallback asks this first."""
        with self._lock:
            return self._refusal(self._clock())

    def _refusal(self, now: float) -> str | None:
        if self._error is None:
            return None
        down = f"down for {now - self._down_since:.0f} s"
        if self._probing:
            return f"{self._error} ({down}; another request is trying it again)"
        left = self._opened + self.retry_s - now
        if left <= 0:
            return None
        return f"{self._error} ({down}; tried again in {math.ceil(left):.0f} s)"

    @contextmanager
    def call(self) -> Iterator[None]:
        """Around one call: raises `Unavailable` at once while open; records how the call
        inside ended (`Unavailable` opens the breaker, an answer or refusal closes it)."""
        with self._lock:
            refused = self._refusal(self._clock())
            if refused is not None:
                raise Unavailable(refused)
            probe = self._error is not None
            self._probing = self._probing or probe
        try:
            yield
        except Unavailable as exc:
            self._failed(str(exc))
            raise
        except InvalidInput:  # the server answered: up
            self._closed()
            raise
        except BaseException:  # not the server's doing: no verdict, but the probe is over
            if probe:
                with self._lock:
                    self._probing = False
            raise
        self._closed()

    def _failed(self, error: str) -> None:
        with self._lock:
            now = self._clock()
            if self.retry_s == 0:
                return
            if self._error is None:
                self._down_since = now
            self._error = error
            self._opened = now
            self._probing = False

    def _closed(self) -> None:
        with self._lock:
            self._error = None
            self._probing = False

"""Per-client rate limits: one client cannot take the server from the others.

A publisher gives each of its consumers its own API key (the site's back end, the apps, a
nightly job), and one of them in a loop, or replaying a day of events at once, would
otherwise have every serving thread to itself while the site's readers wait. With `[serve]
rate_limit` set, each client gets a token bucket: `rate_burst` requests at once, refilled at
`rate_limit` a second, so it keeps its rate however fast another one sends. A key may have
limits of its own (a nightly job held lower than the site). A client is its API key when the
server has keys, else its address: behind a reverse proxy on the same host, the one it
forwards (uvicorn believes X-Forwarded-For from loopback), behind one elsewhere the proxy's
unless uvicorn's FORWARDED_ALLOW_IPS names it. A request beyond its bucket is answered 429 with
`Retry-After` before routing or body parsing, and costs nothing else; refused requests take
no tokens, so a client that keeps sending still gets its rate. /health is never limited (a
load balancer probes it).

The limit is per server process, which is the whole server here: `feedcraft serve` runs one.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from feedcraft.api.keys import OPEN_PATHS, bearer_token, request_path
from feedcraft.config import ApiKey
from feedcraft.errors import InvalidInput

__all__ = ["MAX_CLIENTS", "Buckets", "RateLimit"]

#: Clients whose buckets are remembered: memory stays bounded when many addresses send.
MAX_CLIENTS = 10_000


class Buckets:
    """Token buckets by client: `burst` tokens each, refilled at `rate` a second.

    Time is passed in, so the arithmetic is tested without waiting. A bucket that has
    refilled is the same as none, so those are forgotten first when there are more than
    `max_clients`; past that the least recently seen clients' are (they start full again),
    down to nine tenths of the bound, so that a flood of new addresses pays for one scan per
    tenth of the bound, not one per request.
    """

    def __init__(self, rate: float, burst: int, *, max_clients: int = MAX_CLIENTS) -> None:
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise InvalidInput(f"must be a positive number, got {rate!r}", field="rate_limit")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise InvalidInput(
                f"must be an integer of at least 1, got {burst!r}", field="rate_burst"
            )
        self.rate = float(rate)
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[object, tuple[float, float]] = OrderedDict()  # tokens, at

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: object, now: float) -> float:
        """Take one token for `client` at time `now` (seconds): 0.0 when it had one, else the
        seconds until it will (nothing is taken then)."""
        tokens, at = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
        if not wait:
            tokens -= 1.0
        self._buckets[client] = (tokens, now)
        self._buckets.move_to_end(client)
        if len(self._buckets) > self.max_clients:
            self._forget(now)
        return wait

    def _forget(self, now: float) -> None:
        full = [
            c
            for c, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * self.rate >= self.burst
        ]
        for c in full:
            del self._buckets[c]
        keep = max(1, self.max_clients - max(1, self.max_clients // 10))
        while len(self._buckets) > keep:
            self._buckets.popitem(last=False)


class RateLimit:
    """ASGI middleware answering 429 to an HTTP request whose client has used its bucket.

    Put inside `KeyCheck`: a request that reaches it with one of `keys` has been checked, and
    is limited as that key (by its own `rate_limit` and `rate_burst` where it has them, else
    `rate` and `burst`); any other (no keys set, or a docs page without one) as its address.
    `rate` None: only keys with their own limit are limited."""

    def __init__(
        self,
        app: ASGIApp,
        rate: float | None,
        burst: int,
        keys: Sequence[ApiKey] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self._clock = clock
        self._addresses = None if rate is None else Buckets(rate, burst)
        # a key's place in the settings, not the key, names its bucket
        self._keys: dict[bytes, tuple[int, Buckets | None]] = {}
        for i, k in enumerate(keys):
            own_rate = k.rate_limit if k.rate_limit is not None else rate
            own_burst = k.rate_burst if k.rate_burst is not None else burst
            limit = None if own_rate is None else Buckets(own_rate, own_burst, max_clients=1)
            self._keys[k.key.get_secret_value().encode("ascii")] = (i, limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or request_path(scope) in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        key = None if token is None else self._keys.get(token)
        if key is not None:
            client: object = key[0]
            buckets, per = key[1], "for this API key"
        else:
            address = scope.get("client")
            client = address[0] if address else ""
            buckets, per = self._addresses, "per client address"
        wait = 0.0 if buckets is None else buckets.take(client, self._clock())
        if not wait:
            await self.app(scope, receive, send)
            return
        assert buckets is not None
        response = JSONResponse(
            status_code=429,
            content={
                "detail": f"too many requests: at most {buckets.rate:g} a second, "
                f"{buckets.burst} at once, {per} ([serve] rate_limit, rate_burst); "
                f"try again in {wait:.2f} s"
            },
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
        await response(scope, receive, send)

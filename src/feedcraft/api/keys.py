"""API keys: with `[serve] api_keys` set, every route but /health asks for one.

Feeds, summaries and events name readers and what they read (a summary's `interests` are the
reader's top categories), so a server reachable by more than the publisher's own back end must
not answer anyone who knows a user id. The key travels as a bearer token. It is checked by
ASGI middleware before routing, so a request without one costs no body parsing (a 50 MB
events batch was read and parsed before a route's dependency refused it) and learns nothing
of which paths exist; the routes declare the scheme (`bearer_scheme`) only so that OpenAPI
describes it and /docs offers to send it. Keys are compared in constant time, each in full.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from fastapi.security import HTTPBearer
from pydantic import SecretStr
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DOCS_PATHS", "OPEN_PATHS", "KeyCheck", "bearer_scheme", "bearer_token", "request_path"]

#: The API's description and docs pages: they hold nothing of anyone's (the docs page sends
#: the key), so they answer without one, unless `[serve] docs` is off (then they are no
#: routes, and asking for them without a key is a 401 like any other path).
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
#: Paths that answer without a key: a load balancer's health probe carries none.
OPEN_PATHS = frozenset({"/health"})

#: Declares the scheme in OpenAPI; checks nothing (`KeyCheck` has by the time it runs).
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="api_key",
    description="one of the server's `[serve] api_keys`",
)


class KeyCheck:
    """ASGI middleware answering 401 (`WWW-Authenticate: Bearer`) to an HTTP request that
    sends none of `keys` as `Authorization: Bearer <key>`, unless its path is open (/health,
    and the docs pages when `docs`)."""

    def __init__(self, app: ASGIApp, keys: Sequence[SecretStr], *, docs: bool = True) -> None:
        self.app = app
        self._keys = [k.get_secret_value().encode("ascii") for k in keys]
        self._open = OPEN_PATHS | DOCS_PATHS if docs else OPEN_PATHS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or request_path(scope) in self._open:
            await self.app(scope, receive, send)
            return
        sent = bearer_token(scope)
        # every key compared, so the time taken does not tell which one nearly matched
        if sent is not None and sum(hmac.compare_digest(sent, key) for key in self._keys):
            await self.app(scope, receive, send)
            return
        detail = (
            "an API key is required: send Authorization: Bearer <key>"
            if sent is None
            else "the API key is not one of this server's"
        )
        response = JSONResponse(
            status_code=401, content={"detail": detail}, headers={"WWW-Authenticate": "Bearer"}
        )
        await response(scope, receive, send)


def request_path(scope: Scope) -> str:
    """The path within the app: behind a proxy's prefix or mounted, without `root_path`."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def bearer_token(scope: Scope) -> bytes | None:
    """The token of an `Authorization: Bearer <token>` header (scheme in any case), or None."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
            return None
    return None

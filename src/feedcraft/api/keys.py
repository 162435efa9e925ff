"""API keys: with `[serve] api_keys` set, every route but /health asks for one.

Feeds, summaries and events name readers and what they read (a summary's `interests` are the
reader's top categories), so a server reachable by more than the publisher's own back end must
not answer anyone who knows a user id. The key travels as a bearer token, which OpenAPI
describes, so /docs offers to send it. Keys are compared in constant time, each in full.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

__all__ = ["OPEN_PATHS", "key_check"]

#: Routes that answer without a key: a load balancer's health probe carries none.
OPEN_PATHS = frozenset({"/health"})

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="api_key",
    description="one of the server's `[serve] api_keys`",
)


def key_check(keys: Sequence[SecretStr]) -> Callable[..., None]:
    """A dependency refusing requests without one of `keys` (401, `WWW-Authenticate: Bearer`)."""
    wanted = [k.get_secret_value().encode() for k in keys]

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if request.url.path in OPEN_PATHS:
            return
        sent = credentials.credentials.encode() if credentials is not None else b""
        # every key compared, so the time taken does not tell which one nearly matched
        if not sum(hmac.compare_digest(sent, key) for key in wanted):
            raise HTTPException(
                status_code=401,
                detail="an API key is required: send Authorization: Bearer <key>"
                if credentials is None
                else "the API key is not one of this server's",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check

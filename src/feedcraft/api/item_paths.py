"""Item ids that end like a sub-resource ("news/summary", "promo/description").

Routes match the decoded path, so GET /items/news%2Fsummary looked exactly like the summary of
item "news", and an existing item "promo/description" answered 404 for item "promo". The raw
path still tells them apart: a sub-resource is a literal last segment, while a %2F belongs to
the id. This middleware sends a GET whose tail was encoded to the item route itself.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ITEM_BY_ID", "SUBRESOURCES", "EncodedItemIds"]

#: The sub-resources of /items/{id}, each its own GET route.
SUBRESOURCES = frozenset({"similar", "summary", "headlines", "ad-copy", "description"})
#: The route an encoded id is sent to (not in the schema: /items/{id} is the public one).
ITEM_BY_ID = "/_item-by-id/"
_ITEMS = "/items/"


class EncodedItemIds:
    """ASGI middleware: GET /items/a%2Fsummary is item "a/summary", not the summary of "a"."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            scope = _rerouted(scope)
        await self.app(scope, receive, send)


def _rerouted(scope: Scope) -> Scope:
    path: str = scope["path"]
    prefix = scope.get("root_path", "") + _ITEMS
    if not path.startswith(prefix):
        prefix = _ITEMS
        if not path.startswith(prefix):
            return scope
    item_id = path[len(prefix) :]
    head, slash, tail = item_id.rpartition("/")
    if not slash or not head or tail not in SUBRESOURCES:
        return scope
    raw: bytes = (scope.get("raw_path") or b"").split(b"?", 1)[0]
    if not raw or unquote(raw.rsplit(b"/", 1)[-1].decode("latin-1")) == tail:
        return scope  # a literal "/summary": the sub-resource (or no raw path to tell)
    new_path = path[: len(path) - len(item_id) - len(_ITEMS)] + ITEM_BY_ID + item_id
    return {**scope, "path": new_path, "raw_path": quote(new_path).encode("ascii")}

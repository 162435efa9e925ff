"""Pick a backend by URL scheme."""

from __future__ import annotations

from feedcraft.errors import InvalidInput, NotFound, Unavailable
from feedcraft.storage.protocols import Store


def open_store(url: str, *, create: bool = True) -> Store:
    """Open (creating and migrating if needed) the store at `url`; with `create=False` a
    store that does not exist yet is NotFound, not made empty (a mistyped path for a command
    that only reads would otherwise leave an empty database behind).

    `sqlite:///relative.db`, `sqlite:////abs/path.db` and `sqlite:///:memory:` are supported;
    `postgresql://` is planned.
    """
    scheme, sep, _rest = url.partition("://")
    if not sep:
        raise InvalidInput(f"not a store URL: {url!r} (expected sqlite:///path.db)", field="store")
    if scheme == "sqlite":
        from feedcraft.storage.sqlite import SqliteStore
        from feedcraft.storage.sqlite.url import parse_url

        path = parse_url(url).path
        if not create and path is not None and not path.exists():
            raise NotFound(f"no store at {path} (from {url!r})")
        return SqliteStore(url)
    if scheme in ("postgresql", "postgres"):
        raise Unavailable("the PostgreSQL backend is not built yet; use sqlite:///path.db")
    raise InvalidInput(f"unknown store scheme {scheme!r} in {url!r}", field="store")

"""Pick a backend by URL scheme."""

from __future__ import annotations

from feedcraft.errors import InvalidInput, Unavailable
from feedcraft.storage.protocols import Store


def open_store(url: str) -> Store:
    """Open (creating and migrating if needed) the store at `url`.

    `sqlite:///relative.db`, `sqlite:////abs/path.db` and `sqlite:///:memory:` are supported;
    `postgresql://` is planned.
    """
    scheme, sep, _rest = url.partition("://")
    if not sep:
        raise InvalidInput(f"not a store URL: {url!r} (expected sqlite:///path.db)", field="store")
    if scheme == "sqlite":
        from feedcraft.storage.sqlite import SqliteStore

        return SqliteStore(url)
    if scheme in ("postgresql", "postgres"):
        raise Unavailable("the PostgreSQL backend is not built yet; use sqlite:///path.db")
    raise InvalidInput(f"unknown store scheme {scheme!r} in {url!r}", field="store")

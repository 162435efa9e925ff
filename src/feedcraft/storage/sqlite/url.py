"""Parse `sqlite:///...` store URLs into a file path or the in-memory marker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from feedcraft.errors import InvalidInput

_PREFIX = "sqlite://"
_EXAMPLES = "sqlite:///relative.db, sqlite:////absolute/path.db or sqlite:///:memory:"


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    """Where the database lives: `path` is None for a private in-memory database."""

    path: Path | None

    @property
    def memory(self) -> bool:
        return self.path is None


def parse_url(url: str) -> SqliteTarget:
    """Split a URL the way SQLAlchemy does: three slashes, then a relative or absolute path."""
    if not isinstance(url, str) or not url.startswith(_PREFIX):
        raise InvalidInput(f"not a sqlite URL: {url!r} (expected {_EXAMPLES})", field="store")
    rest = url[len(_PREFIX) :]
    if rest in ("", "/"):
        raise InvalidInput(
            f"no database file named in {url!r}; expected {_EXAMPLES}", field="store"
        )
    if not rest.startswith("/"):
        host = rest.split("/", 1)[0]
        raise InvalidInput(
            f"sqlite URLs take no host ({host!r} in {url!r}); expected {_EXAMPLES}", field="store"
        )
    raw = rest[1:]
    if "?" in raw or "#" in raw:
        raise InvalidInput(f"sqlite URL options are not supported: {url!r}", field="store")
    if raw == ":memory:":
        return SqliteTarget(None)
    if not raw or raw.endswith("/"):
        raise InvalidInput(
            f"no database file named in {url!r}; expected {_EXAMPLES}", field="store"
        )
    path = Path(raw)
    if path.exists() and not path.is_file():
        raise InvalidInput(f"{path} is not a regular file (from {url!r})", field="store")
    return SqliteTarget(path.resolve())

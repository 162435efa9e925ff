"""One small error hierarchy, mapped to HTTP status codes and CLI exit codes in one place each.

Messages name the field, file and line so a user can fix the input without reading code.
"""

from __future__ import annotations


class FeedcraftError(Exception):
    """Base of every error feedcraft raises on purpose."""


class NotFound(FeedcraftError):
    """A referenced item, user, artifact or file does not exist."""


class Conflict(FeedcraftError):
    """The request contradicts stored state (e.g. a different item under an existing id)."""


class InvalidInput(FeedcraftError):
    """Input failed validation; the message names the field and, for files, the file and line."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        self.field = field
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        what = f"field '{field}': " if field is not None else ""
        super().__init__(f"{where}{what}{message}")


class Unavailable(FeedcraftError):
    """A needed component (extra, model, backend, server) is not available here."""


class NotFitted(FeedcraftError):
    """A model was used before `fit`."""

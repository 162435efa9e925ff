"""The id lists that deletions and erasures take: checked whole before anything is removed."""

from __future__ import annotations

from collections.abc import Sequence

from feedcraft.errors import InvalidInput

__all__ = ["checked_ids"]


def checked_ids(ids: object, *, field: str, what: str, max_length: int | None = None) -> list[str]:
    """The ids, each once, in the order given. A bare string is refused, not split into
    characters; so are an empty list, an empty or blank id, and (with `max_length`) one
    longer than that, each naming `field` and the element's position."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Sequence):
        raise InvalidInput(f"must be a list of {what}s, got {type(ids).__name__}", field=field)
    if not ids:
        raise InvalidInput(f"must name at least one {what}", field=field)
    for position, value in enumerate(ids):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(
                f"element {position} must be a non-empty string, got {value!r}", field=field
            )
        if max_length is not None and len(value) > max_length:
            raise InvalidInput(
                f"element {position} is {len(value)} characters; ids have at most {max_length}",
                field=field,
            )
    return list(dict.fromkeys(ids))

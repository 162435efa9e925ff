"""A reader's interests as a generation sees them, and the profile bucket they make.

Generated texts are cached per bucket, never per reader (`services/generation`): the bucket is
the reader's top categories over their recent history, sorted, so that many readers share one
cached summary and erasing a reader's events leaves nothing of theirs in the cache.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence

from feedcraft.services.interactions import POSITIVE_TYPES
from feedcraft.storage import Store

__all__ = ["NO_PROFILE", "profile_bucket", "reader_interests"]

#: The bucket of a request for no particular reader (no user, or one with no history).
NO_PROFILE = "any"


def reader_interests(
    store: Store, user_id: str | None, *, interests: int, history: int
) -> tuple[str, ...]:
    """The reader's top `interests` categories (tags when items have none) over the `history`
    items they recently interacted with (clicks, reads, ratings: the feed's positive events;
    an item only shown to them says nothing of their interests), sorted so that the same
    interests always make the same bucket. Terms are NFC-normalised: "É" typed as one code
    point or as "E" and an accent is one interest, counted together."""
    if user_id is None:
        return ()
    recent = store.events.user_items(user_id, types=POSITIVE_TYPES, limit=history)
    if not recent:
        return ()
    counts: Counter[str] = Counter()
    for item in store.catalogue.get_many(recent).values():
        terms = [item.category] if item.category else list(item.tags)
        stripped = (t.strip() for t in terms if t)
        counts.update(unicodedata.normalize("NFC", t) for t in stripped if t)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(sorted(term for term, _ in ranked[:interests]))


def profile_bucket(terms: Sequence[str]) -> str:
    """The terms casefolded and NFC-normalised (one spelling of "Économie" whichever the
    catalogue stored), joined by "|", each with "%" and "|" escaped, so that no two lists of
    terms share a bucket (["a|b"] and ["a", "b"] would, joined as they are)."""
    if not terms:
        return NO_PROFILE
    folded = (unicodedata.normalize("NFC", t.casefold()) for t in terms)
    return "|".join(t.replace("%", "%25").replace("|", "%7C") for t in folded)

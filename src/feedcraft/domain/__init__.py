"""L0: frozen domain types shared by every layer. No I/O here.

Id types and matrix orientation are settled once, in this package:
external ids are strings; interaction matrices are users x items.
"""

from feedcraft.domain.consent import Consent, Purpose
from feedcraft.domain.events import Event, EventType, Impression
from feedcraft.domain.feed import Feed, FeedEntry, Recommendations
from feedcraft.domain.ids import MAX_ID_LENGTH, IdIndex, ItemId, UserId
from feedcraft.domain.interactions import Interactions
from feedcraft.domain.items import Item, ItemKind, User
from feedcraft.domain.time import ensure_utc, from_unix, to_unix, utcnow
from feedcraft.domain.vectors import ItemVectors

__all__ = [
    "MAX_ID_LENGTH",
    "Consent",
    "Event",
    "EventType",
    "Feed",
    "FeedEntry",
    "IdIndex",
    "Impression",
    "Interactions",
    "Item",
    "ItemId",
    "ItemKind",
    "ItemVectors",
    "Purpose",
    "Recommendations",
    "User",
    "UserId",
    "ensure_utc",
    "from_unix",
    "to_unix",
    "utcnow",
]

"""Behaviour: events in an append-only log, and impressions (slates shown to a user)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from feedcraft.domain.time import ensure_utc


class EventType(StrEnum):
    IMPRESSION = "impression"
    CLICK = "click"
    DWELL = "dwell"
    LIKE = "like"
    SHARE = "share"
    PURCHASE = "purchase"
    RATING = "rating"
    AD_IMPRESSION = "ad_impression"
    AD_CLICK = "ad_click"
    CONVERSION = "conversion"

    @property
    def is_positive(self) -> bool:
        """Whether the event signals interest (used as an implicit positive by recommenders)."""
        return self not in (EventType.IMPRESSION, EventType.AD_IMPRESSION)


@dataclass(frozen=True, slots=True)
class Event:
    """One user-item interaction.

    `id` is the idempotency key: appending an event whose id is already stored adds nothing.
    When not given it is derived from the fields, so re-importing the same file is a no-op.
    `value` carries dwell seconds, a rating or a price; `position` is the 0-based slate slot;
    `propensity` is the logging policy's probability of showing the item there.
    """

    user_id: str
    item_id: str
    type: EventType
    timestamp: datetime
    value: float | None = None
    impression_id: str | None = None
    position: int | None = None
    propensity: float | None = None
    id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not self.user_id:
            raise ValueError("Event.user_id must be a non-empty string")
        if not isinstance(self.item_id, str) or not self.item_id:
            raise ValueError("Event.item_id must be a non-empty string")
        object.__setattr__(self, "type", EventType(self.type))
        object.__setattr__(self, "timestamp", ensure_utc(self.timestamp))
        if self.position is not None and self.position < 0:
            raise ValueError("Event.position must be >= 0")
        if self.propensity is not None and not 0.0 < self.propensity <= 1.0:
            raise ValueError("Event.propensity must be in (0, 1]")
        if not self.id:
            object.__setattr__(self, "id", self.derive_id())

    def derive_id(self) -> str:
        key = "\x1f".join(
            [
                self.user_id,
                self.item_id,
                str(self.type),
                f"{self.timestamp.timestamp():.6f}",
                self.impression_id or "",
                "" if self.position is None else str(self.position),
            ]
        )
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Impression:
    """A slate of items shown to a user at one time, with which of them were clicked.

    `history` holds the items the user had clicked before (MIND keeps it per impression).
    """

    id: str
    user_id: str
    timestamp: datetime
    item_ids: tuple[str, ...]
    clicked: tuple[bool, ...] = ()
    history: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "timestamp", ensure_utc(self.timestamp))
        object.__setattr__(self, "item_ids", tuple(self.item_ids))
        object.__setattr__(self, "clicked", tuple(bool(c) for c in self.clicked))
        object.__setattr__(self, "history", tuple(self.history))
        if self.clicked and len(self.clicked) != len(self.item_ids):
            raise ValueError("Impression.clicked must align with item_ids")

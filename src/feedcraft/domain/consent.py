"""What a reader agreed to: the purposes their behaviour may be used for.

A publisher records each reader's choices (from its consent banner or settings page); a
purpose the reader has not decided on follows the site's default (`[privacy]
default_consent`): "granted" where personalisation runs until a reader objects (opt-out),
"refused" where it waits for their agreement (opt-in, as GDPR consent requires).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from feedcraft.domain.time import ensure_utc


class Purpose(StrEnum):
    #: Their events rank their feed (history, seen items, "because you liked"), and their
    #: interests shape the summaries written for them.
    PERSONALISATION = "personalisation"
    #: Their interests pick the audience of ad copy aimed at them.
    ADS = "ads"


@dataclass(frozen=True, slots=True)
class Consent:
    """A reader's decisions, purpose -> agreed; purposes absent are undecided."""

    user_id: str
    choices: Mapping[Purpose, bool] = field(default_factory=dict)
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", {Purpose(p): bool(v) for p, v in self.choices.items()})
        if self.updated_at is not None:
            object.__setattr__(self, "updated_at", ensure_utc(self.updated_at))

    def allows(self, purpose: Purpose, default: bool) -> bool:
        """The reader's choice for `purpose`, or `default` where they made none."""
        return self.choices.get(purpose, default)

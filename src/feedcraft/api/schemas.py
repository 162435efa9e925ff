"""HTTP schemas, kept apart from the domain types so the wire format can evolve on its own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from feedcraft.domain import MAX_ID_LENGTH, Event, EventType, Item, ItemKind
from feedcraft.domain.time import ensure_utc


def _utc(value: datetime | None) -> datetime | None:
    """UTC as the domain stores it; a time that cannot be expressed in UTC (e.g. year 1 at
    +01:00) fails validation here, with the field named, instead of as a server error later."""
    if value is None:
        return None
    try:
        return ensure_utc(value)
    except (OverflowError, ValueError):
        raise ValueError("datetime out of range once converted to UTC") from None


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    title: str = Field(min_length=1)
    kind: ItemKind = ItemKind.ARTICLE
    body: str = ""
    category: str = ""
    subcategory: str = ""
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    image_url: str | None = None
    published_at: datetime | None = None
    provider: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    _published_utc = field_validator("published_at")(_utc)

    def to_domain(self) -> Item:
        return Item(**self.model_dump())


class ItemOut(ItemIn):
    stub: bool = False

    @classmethod
    def from_domain(cls, item: Item) -> ItemOut:
        return cls(
            id=item.id,
            title=item.title or item.id,
            kind=item.kind,
            body=item.body,
            category=item.category,
            subcategory=item.subcategory,
            tags=list(item.tags),
            language=item.language,
            image_url=item.image_url,
            published_at=item.published_at,
            provider=item.provider,
            attributes=dict(item.attributes),
            stub=item.stub,
        )


class ItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ItemIn] = Field(min_length=1, max_length=10_000)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    item_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    type: EventType
    timestamp: datetime
    value: float | None = Field(default=None, allow_inf_nan=False)
    impression_id: str | None = None
    position: int | None = Field(default=None, ge=0)
    propensity: float | None = Field(default=None, gt=0.0, le=1.0)
    id: str | None = Field(default=None, min_length=1, max_length=128)

    _timestamp_utc = field_validator("timestamp")(_utc)

    def to_domain(self) -> Event:
        data = self.model_dump()
        data["id"] = data["id"] or ""
        return Event(**data)


class EventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=100_000)


class WriteResult(BaseModel):
    received: int
    new: int


class ConsentIn(BaseModel):
    """A reader's decisions, replacing earlier ones whole: a purpose left out (or null) is
    undecided, and the site's default (`[privacy] default_consent`) applies to it."""

    model_config = ConfigDict(extra="forbid")

    personalisation: StrictBool | None = Field(
        default=None,
        description="their events rank their feed and shape the summaries written for them",
    )
    ads: StrictBool | None = Field(
        default=None, description="their interests pick the audience of ad copy aimed at them"
    )

    def choices(self) -> dict[str, bool]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ConsentOut(BaseModel):
    user_id: str
    #: What the reader decided (purposes they did not decide on are absent).
    choices: dict[str, bool]
    #: Every purpose's answer: their choice, or the default.
    effective: dict[str, bool]
    #: The site's default for undecided purposes: "granted" or "refused".
    default: str
    updated_at: datetime | None


class ConsentDecisionOut(BaseModel):
    choices: dict[str, bool]
    updated_at: datetime | None


class ConsentHistoryOut(BaseModel):
    user_id: str
    #: Every decision the reader made, oldest first.
    decisions: list[ConsentDecisionOut]


class ErasureOut(BaseModel):
    """What erasing a reader removed: their events, and each stored model version that knew
    them, rewritten without them (old version -> the new one that replaced it)."""

    user_id: str
    events: int
    consents: int
    models: dict[str, dict[int, int]]
    unreadable: list[str]
    #: Versions that knew them under a newer version that never did: deleted, not rewritten.
    dropped: list[str]


class FeedEntryOut(BaseModel):
    item_id: str
    score: float
    reason: str
    source: str
    title: str | None = None
    category: str | None = None
    summary: str | None = None
    #: True when a summary was asked for and is being written or waits its turn: ask again.
    summary_pending: bool = False
    #: True when `summary` is the item's summary for no particular reader (a batch wrote it),
    #: attached while the reader's own is pending (theirs comes with a later request) or
    #: while the model is down.
    summary_for_anyone: bool = False


class FeedOut(BaseModel):
    user_id: str
    model: str
    items: list[FeedEntryOut]
    #: False when the reader's consent kept their data out: the feed of a reader never seen.
    personalised: bool = True
    #: Why the feed has no summaries though they were asked for (generation cannot run: a
    #: misconfigured [llm] backend); null otherwise.
    summaries_unavailable: str | None = None


class HealthOut(BaseModel):
    status: str
    version: str
    store: str
    items: int
    events: int
    generation: str = Field(
        description='"lazy" (the model loads on first use), "loading", "ready" or '
        '"failed: <why>" when the server warms it at start-up ([llm] warm_at_start); with an '
        "HTTP backend, ready means that server answered; failed reports the start-up try "
        "(each generation request still tries the server)"
    )


class GeneratedOut(BaseModel):
    """Generated text for an item, who wrote each output, and what the guardrails rejected."""

    task: str
    item_id: str
    outputs: list[str]
    produced_by: list[str]
    backend: str
    fallback: bool
    language: str
    failed_checks: list[str]
    #: Checks the served fallback text fails (the source's own failings: too long, say).
    fallback_failed_checks: list[str] = []
    interests: list[str]
    profile_bucket: str
    cache_hit: bool
    generation_seconds: float
    seconds: float
    #: Headlines with a trained click model: p_click of each output, outputs best first;
    #: null for a variant not scored (not in Latin script), listed after the scored ones.
    p_click: list[float | None] = []
    #: The click model that ordered the headlines ("" when none did).
    ranked_by: str = ""
    #: Why the backend gave no answer (the text is then the fallback's, not cached): the
    #: server down, or "busy: ..." when `[llm] max_pending` runs were already pending. A busy
    #: personalised summary (or ad copy aimed at the user's interests) is the cached one for
    #: no particular reader where there is one (`interests` empty, `profile_bucket` "any").
    backend_error: str | None = None
    #: Outputs asked for that could not be given (the fallback had no servable sentence
    #: left, a source too short for n headlines): `outputs` is that much shorter.
    unfilled: int = 0

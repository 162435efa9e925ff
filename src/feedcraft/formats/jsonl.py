"""feedcraft's generic import format: JSON Lines (one JSON object per line), plain or gzipped.

A directory holds `items.jsonl` and/or `events.jsonl` (each may be `.jsonl.gz`). Blank lines
are skipped; line numbers in errors count every physical line, from 1.

items.jsonl, one item per line:

    {"id": "a1", "title": "Rain in Spain", "body": "...", "category": "weather",
     "tags": ["spain", "rain"], "published_at": "2024-05-01T08:00:00Z"}

    key           required  type                     meaning
    id            yes       string or integer        item id (integers become strings)
    title         yes       string                   may be empty
    body          no        string                   main text
    category      no        string
    subcategory   no        string
    tags          no        list of strings
    language      no        string                   e.g. "en", "zh"
    published_at  no        ISO 8601 or Unix seconds naive ISO times are UTC
    kind          no        string                   article (default), video, product, creative
    image_url     no        string
    provider      no        string                   who published it
    attributes    no        object                   free-form metadata
    (any other)   no        any JSON                 kept in attributes (`attributes` wins on
                                                     a clash)

events.jsonl, one user-item interaction per line:

    {"user_id": "u1", "item_id": "a1", "type": "click", "timestamp": 1714550400}

    key            required  type                     meaning
    user_id        yes       string or integer
    item_id        yes       string or integer        an unknown item is created as a stub
    type           yes       string                   impression, click, dwell, like, share,
                                                      purchase, rating, ad_impression,
                                                      ad_click, conversion
    timestamp      yes       ISO 8601 or Unix seconds naive ISO times are UTC
    value          no        number                   dwell seconds, rating, price
    impression_id  no        string or integer        groups the events of one slate
    position       no        integer >= 0             0-based slot in the slate
    propensity     no        number in (0, 1]         logging policy's probability
    id             no        string or integer        idempotency key; derived from the
                                                      fields above when absent

Unknown keys in events.jsonl are an error (a misspelt optional key would otherwise be lost
without a word). `null` counts as absent for optional keys. Timestamps: a JSON number is Unix
seconds (fractions allowed); a string must be ISO 8601 ("2024-05-01T08:00:00Z",
"2024-05-01T10:00:00+02:00", "2024-05-01"). Errors read `events.jsonl:17: field 'timestamp':
...`. Importing the same file twice adds nothing: events are keyed by `id`, items by `id`.
The importer (feedcraft.services.ingestion.import_jsonl) writes in batches and rejects the
whole batch holding a bad line, keeping earlier batches. Scripts rely on this shape; extend it
only with optional keys. The same text, with examples, is docs/formats/jsonl.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from feedcraft.domain import Event, EventType, Item, ItemKind
from feedcraft.errors import InvalidInput
from feedcraft.formats._common import numbered_lines
from feedcraft.formats._jsonfields import Fields

ITEMS_FILE = "items.jsonl"
EVENTS_FILE = "events.jsonl"
ITEM_KEYS = (
    "id",
    "title",
    "body",
    "category",
    "subcategory",
    "tags",
    "language",
    "published_at",
    "kind",
    "image_url",
    "provider",
    "attributes",
)
EVENT_KEYS = (
    "id",
    "user_id",
    "item_id",
    "type",
    "timestamp",
    "value",
    "impression_id",
    "position",
    "propensity",
)
EVENT_TYPES = tuple(t.value for t in EventType)
ITEM_KINDS = tuple(k.value for k in ItemKind)


def read_items(path: str | Path) -> Iterator[Item]:
    """Items from items.jsonl[.gz], validated and streamed."""
    for _line, item in numbered_items(path):
        yield item


def read_events(path: str | Path) -> Iterator[Event]:
    """Events from events.jsonl[.gz], validated and streamed."""
    for _line, event in numbered_events(path):
        yield event


def numbered_items(path: str | Path) -> Iterator[tuple[int, Item]]:
    for record in _objects(Path(path)):
        yield record.line, item_from_fields(record)


def numbered_events(path: str | Path) -> Iterator[tuple[int, Event]]:
    for record in _objects(Path(path)):
        yield record.line, event_from_fields(record)


def item_from_fields(f: Fields) -> Item:
    extra = {k: v for k, v in f.obj.items() if k not in ITEM_KEYS}
    return Item(
        id=f.ident("id"),
        title=f.required_string("title"),
        kind=ItemKind(f.choice("kind", ITEM_KINDS) or ItemKind.ARTICLE),
        body=f.string("body") or "",
        category=f.string("category") or "",
        subcategory=f.string("subcategory") or "",
        tags=tuple(f.string_list("tags")),
        language=f.string("language"),
        image_url=f.string("image_url"),
        published_at=f.time("published_at"),
        provider=f.string("provider"),
        attributes={**extra, **f.mapping("attributes")},
    )


def event_from_fields(f: Fields) -> Event:
    unknown = sorted(k for k in f.obj if k not in EVENT_KEYS)
    if unknown:
        raise f.error(unknown[0], f"unknown key (allowed: {', '.join(EVENT_KEYS)})")
    event_type = f.required_choice("type", EVENT_TYPES)
    timestamp = f.required_time("timestamp")
    position = f.integer("position")
    if position is not None and position < 0:
        raise f.error("position", f"must be >= 0, got {position}")
    propensity = f.number("propensity")
    if propensity is not None and not 0.0 < propensity <= 1.0:
        raise f.error("propensity", f"must be in (0, 1], got {propensity}")
    return Event(
        user_id=f.ident("user_id"),
        item_id=f.ident("item_id"),
        type=EventType(event_type),
        timestamp=timestamp,
        value=f.number("value"),
        impression_id=f.optional_ident("impression_id"),
        position=position,
        propensity=propensity,
        id=f.optional_ident("id") or "",
    )


def _objects(path: Path) -> Iterator[Fields]:
    for line, text in numbered_lines(path):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"not valid JSON: {exc.msg} (column {exc.colno})", source=str(path), line=line
            ) from None
        if not isinstance(obj, dict):
            raise InvalidInput(
                f"expected a JSON object per line, got {type(obj).__name__}",
                source=str(path),
                line=line,
            )
        yield Fields(obj, path, line)

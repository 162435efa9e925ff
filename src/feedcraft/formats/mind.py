"""MIND news-recommendation files (and NeMig, which uses the MIND layout), plain or gzipped.

`news.tsv` (no header): id, category, subcategory, title, abstract, url, title_entities,
abstract_entities. Each row becomes an article `Item` with body = abstract and
attributes {"url": ...} (omitted when empty). Entity columns are not kept.

`behaviors.tsv` (no header): impression_id, user_id, time (M/D/YYYY h:mm:ss AM/PM, taken as
UTC), history (space-separated ids, may be empty), impressions (space-separated `id-1` /
`id-0`; MIND test sets give bare `id`s without labels). One line becomes:

- an `impression` event per candidate: impression_id, position = 0-based slot;
- a `click` event per candidate labelled 1, with the same impression_id and position;
- a `click` event per history item, without impression_id, at the impression's time minus one
  second (the history happened before). Its id is derived from (user, item, "history") only,
  so the same history entry repeated in a user's later impressions is stored once; its
  timestamp is that of the first line that stored it.

`read_impressions` yields the same lines as `Impression` slates (labels and history kept),
which is what offline evaluation needs.

NeMig leaves the time column empty. An empty time gets a surrogate that keeps file order:
1970-01-01T00:00:00Z plus the line number in seconds. Such timestamps order events but mean
nothing as dates; time-based splits over them are splits by line. NeMig's news.tsv also has
empty category, subcategory and url fields, which are accepted as empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedcraft.domain import Event, EventType, Impression, Item, ItemKind
from feedcraft.errors import InvalidInput
from feedcraft.formats._common import numbered_lines, require_id

NEWS_COLUMNS = 8
BEHAVIOR_COLUMNS = 5
SURROGATE_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HISTORY_OFFSET = timedelta(seconds=1)


def _rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, its tab-separated fields) of every non-blank line; both MIND files have
    a fixed column count, so a line with another is refused where it stands."""
    for line, text in numbered_lines(path):
        if not text.strip():
            continue
        cols = text.split("\t")
        if len(cols) != columns:
            raise InvalidInput(
                f"expected {columns} tab-separated columns, got {len(cols)}",
                source=str(path),
                line=line,
            )
        yield line, cols


def read_news(path: str | Path, *, provider: str = "MIND") -> Iterator[Item]:
    """Articles from news.tsv[.gz], streamed."""
    for _line, item in numbered_news(path, provider=provider):
        yield item


def numbered_news(path: str | Path, *, provider: str = "MIND") -> Iterator[tuple[int, Item]]:
    """(line number, Item) pairs; the importer uses the numbers to report committed lines."""
    path = Path(path)
    for line, cols in _rows(path, NEWS_COLUMNS):
        news_id = require_id(cols[0], field="id", source=path, line=line)
        url = cols[5].strip()
        yield (
            line,
            Item(
                id=news_id,
                title=cols[3].strip(),
                kind=ItemKind.ARTICLE,
                body=cols[4].strip(),
                category=cols[1].strip(),
                subcategory=cols[2].strip(),
                provider=provider,
                attributes={"url": url} if url else {},
            ),
        )


def read_impressions(path: str | Path) -> Iterator[Impression]:
    """Slates from behaviors.tsv[.gz] with labels (when given) and history, streamed."""
    for _line, impression in numbered_impressions(path):
        yield impression


def read_behaviors(path: str | Path) -> Iterator[Event]:
    """The events of behaviors.tsv[.gz] (see the module docstring for the mapping)."""
    for impression in read_impressions(path):
        yield from impression_events(impression)


def numbered_impressions(path: str | Path) -> Iterator[tuple[int, Impression]]:
    """(line number, Impression) pairs, validated line by line."""
    path = Path(path)
    for line, cols in _rows(path, BEHAVIOR_COLUMNS):
        impression_id = require_id(cols[0], field="impression_id", source=path, line=line)
        user_id = require_id(cols[1], field="user_id", source=path, line=line)
        timestamp = parse_time(cols[2], source=path, line=line)
        item_ids, clicked = _parse_slate(cols[4], source=path, line=line)
        yield (
            line,
            Impression(
                id=impression_id,
                user_id=user_id,
                timestamp=timestamp,
                item_ids=item_ids,
                clicked=clicked,
                history=tuple(cols[3].split()),
            ),
        )


def impression_events(impression: Impression) -> list[Event]:
    """History clicks, then one impression event per slot, then the labelled clicks."""
    user, ts, imp_id = impression.user_id, impression.timestamp, impression.id
    before = ts - HISTORY_OFFSET
    events: list[Event] = []
    seen: set[str] = set()
    for item in impression.history:
        if item not in seen:
            seen.add(item)
            events.append(
                Event(user, item, EventType.CLICK, before, id=history_event_id(user, item))
            )
    for pos, item in enumerate(impression.item_ids):
        events.append(
            Event(user, item, EventType.IMPRESSION, ts, impression_id=imp_id, position=pos)
        )
    for pos, clicked in enumerate(impression.clicked):  # () when the line had no labels
        if clicked:
            item = impression.item_ids[pos]
            events.append(
                Event(user, item, EventType.CLICK, ts, impression_id=imp_id, position=pos)
            )
    return events


def history_event_id(user_id: str, item_id: str) -> str:
    """Same (user, item) history entry -> same id, whichever impression line repeats it."""
    key = f"{user_id}\x1f{item_id}\x1fhistory"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def parse_time(text: str, *, source: Path, line: int) -> datetime:
    """MIND's `11/12/2019 2:14:46 PM` as UTC; empty (NeMig) -> epoch + line seconds."""
    text = text.strip()
    if not text:
        return SURROGATE_EPOCH + timedelta(seconds=line)
    try:
        date_part, clock, meridiem = text.split()
        month, day, year = (int(x) for x in date_part.split("/"))
        hour, minute, second = (int(x) for x in clock.split(":"))
        meridiem = meridiem.upper()
        if meridiem not in ("AM", "PM") or not 1 <= hour <= 12:
            raise ValueError(meridiem)
        hour = hour % 12 + (12 if meridiem == "PM" else 0)
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(
            f"not a MIND time (M/D/YYYY h:mm:ss AM/PM): {text!r}",
            field="time",
            source=str(source),
            line=line,
        ) from None


def _parse_slate(text: str, *, source: Path, line: int) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """`N1-1 N2-0` -> ids and labels; bare ids (test sets) -> ids and no labels."""
    tokens = text.split()
    if not tokens:
        raise InvalidInput("no candidates", field="impressions", source=str(source), line=line)
    items: list[str] = []
    labels: list[bool] = []
    for token in tokens:
        item, sep, label = token.rpartition("-")
        if not sep:
            items.append(token)
            continue
        if label not in ("0", "1") or not item:
            raise InvalidInput(
                f"bad candidate {token!r}: expected id-1, id-0 or a bare id",
                field="impressions",
                source=str(source),
                line=line,
            )
        items.append(item)
        labels.append(label == "1")
    if labels and len(labels) != len(items):
        raise InvalidInput(
            "mixes labelled (id-1/id-0) and unlabelled candidates",
            field="impressions",
            source=str(source),
            line=line,
        )
    return tuple(items), tuple(labels)

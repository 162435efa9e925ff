"""The JSON Lines format: what it accepts, how it maps, and how each mistake is reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from feedcraft.domain import EventType, ItemKind
from feedcraft.errors import InvalidInput
from feedcraft.formats import jsonl

Writer = Callable[[str, str], Path]
DOCS = Path(__file__).resolve().parents[3] / "docs" / "formats" / "jsonl.md"


def lines(*objects: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


def test_items_full_and_minimal(write: Writer) -> None:
    path = write(
        "items.jsonl",
        lines(
            {
                "id": "a1",
                "title": "Rain",
                "body": "Wet.",
                "category": "weather",
                "subcategory": "rain",
                "tags": ["spain", "rain"],
                "language": "en",
                "published_at": "2024-05-01T08:00:00Z",
                "kind": "video",
                "image_url": "https://x/y.png",
                "provider": "wire",
                "attributes": {"score": 3, "lang": "explicit wins"},
                "lang": "extra",
                "author": "Ann",
            },
            {"id": 42, "title": "", "published_at": 1714550400},
        ),
    )
    full, minimal = list(jsonl.read_items(path))
    assert full.kind is ItemKind.VIDEO and full.tags == ("spain", "rain")
    assert full.published_at == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert (full.language, full.image_url, full.provider) == ("en", "https://x/y.png", "wire")
    assert full.attributes == {"score": 3, "lang": "explicit wins", "author": "Ann"}
    assert minimal.id == "42" and minimal.title == "" and minimal.kind is ItemKind.ARTICLE
    assert minimal.published_at == datetime(2024, 5, 1, 8, tzinfo=UTC)


def test_events_mapping_and_timestamps(write: Writer) -> None:
    path = write(
        "events.jsonl.gz",
        lines(
            {"user_id": "u1", "item_id": "a1", "type": "click", "timestamp": 1714550400.5},
            {
                "user_id": 7,
                "item_id": 9,
                "type": "impression",
                "timestamp": "2024-05-01T10:00:00+02:00",
                "impression_id": 3,
                "position": 0,
                "propensity": 0.25,
                "value": None,
                "id": "my-key",
            },
            {
                "user_id": "u1",
                "item_id": "a1",
                "type": "rating",
                "timestamp": "2024-05-01",
                "value": 4,
            },
        )
        + "\n   \n",
    )
    click, shown, rating = list(jsonl.read_events(path))
    assert click.type is EventType.CLICK and click.id  # derived when absent
    assert click.timestamp == datetime(2024, 5, 1, 8, tzinfo=UTC) + timedelta(milliseconds=500)
    assert (shown.user_id, shown.item_id, shown.impression_id) == ("7", "9", "3")
    assert shown.timestamp == datetime(2024, 5, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    assert (shown.position, shown.propensity, shown.value, shown.id) == (0, 0.25, None, "my-key")
    assert rating.value == 4.0 and rating.timestamp == datetime(2024, 5, 1, tzinfo=UTC)


def test_reading_twice_gives_the_same_ids(write: Writer) -> None:
    path = write(
        "events.jsonl",
        lines({"user_id": "u", "item_id": "i", "type": "like", "timestamp": "2024-01-01T00:00:00"}),
    )
    assert [e.id for e in jsonl.read_events(path)] == [e.id for e in jsonl.read_events(path)]


EV = {"user_id": "u1", "item_id": "a1", "type": "click", "timestamp": 1714550400}
BAD_EVENTS = [
    ('{"user_id": "u1", "item_id": ', None, "not valid JSON"),
    ("[1, 2]", None, "expected a JSON object per line, got list"),
    (json.dumps({k: v for k, v in EV.items() if k != "user_id"}), "user_id", "required key"),
    (json.dumps({**EV, "timestamp": "yesterday"}), "timestamp", "not an ISO 8601 date-time"),
    (json.dumps({**EV, "timestamp": True}), "timestamp", "got a boolean"),
    (json.dumps({**EV, "timestamp": 1e30}), "timestamp", "out of range"),
    (json.dumps({**EV, "type": "view"}), "type", "'view' is not one of impression, click"),
    (json.dumps({**EV, "user_id": 1.5}), "user_id", "expected a string or an integer id"),
    (json.dumps({**EV, "item_id": ""}), "item_id", "empty id"),
    (json.dumps({**EV, "value": "high"}), "value", "expected a number, got the string"),
    (json.dumps({**EV, "position": -1}), "position", "must be >= 0"),
    (json.dumps({**EV, "position": 1.0}), "position", "expected an integer"),
    (json.dumps({**EV, "propensity": 0}), "propensity", "must be in (0, 1]"),
    (json.dumps({**EV, "postion": 1}), "postion", "unknown key"),
]


@pytest.mark.parametrize(("bad", "field", "message"), BAD_EVENTS)
def test_bad_event_line_names_file_line_and_field(
    write: Writer, bad: str, field: str | None, message: str
) -> None:
    good = json.dumps(EV) + "\n"
    path = write("events.jsonl", good * 16 + bad + "\n" + good)
    with pytest.raises(InvalidInput) as info:
        list(jsonl.read_events(path))
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), 17, field)
    where = f"{path}:17: " + (f"field '{field}': " if field else "")
    assert str(err).startswith(where) and message in str(err)


BAD_ITEMS = [
    ({"title": "no id"}, "id", "required key missing"),
    ({"id": "a"}, "title", "required key missing"),
    ({"id": "a", "title": 5}, "title", "expected a string, got the number 5"),
    ({"id": "a", "title": "t", "tags": "x"}, "tags", "expected a list of strings"),
    ({"id": "a", "title": "t", "tags": ["x", 1]}, "tags", "expected a list of strings"),
    ({"id": "a", "title": "t", "kind": "podcast"}, "kind", "'podcast' is not one of article"),
    ({"id": "a", "title": "t", "attributes": [1]}, "attributes", "expected an object"),
    ({"id": True, "title": "t"}, "id", "got a boolean"),
]


@pytest.mark.parametrize(("bad", "field", "message"), BAD_ITEMS)
def test_bad_item_line(write: Writer, bad: dict[str, object], field: str, message: str) -> None:
    path = write("items.jsonl.gz", lines({"id": "ok", "title": "fine"}, bad))
    with pytest.raises(InvalidInput) as info:
        list(jsonl.read_items(path))
    assert (info.value.line, info.value.field) == (2, field)
    assert f"items.jsonl.gz:2: field '{field}': " in str(info.value)
    assert message in str(info.value)


def test_documentation_names_every_key() -> None:
    documented = DOCS.read_text(encoding="utf-8")
    for key in (*jsonl.ITEM_KEYS, *jsonl.EVENT_KEYS, *jsonl.EVENT_TYPES, *jsonl.ITEM_KINDS):
        assert f"{key}" in documented, key
        assert f"{key}" in (jsonl.__doc__ or ""), key

"""JSON Lines imports through the real SQLite store: batches, bad lines, stubs, idempotency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedcraft.domain import Event, EventType, Item
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.services.ingestion import (
    ImportAborted,
    ImportReport,
    append_events_with_stubs,
    detect_format,
    import_directory,
    import_jsonl,
)
from feedcraft.storage import Store, open_store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def event(n: int, item: str | None = None) -> dict[str, object]:
    return {
        "user_id": f"u{n % 3}",
        "item_id": item or f"i{n % 7}",
        "type": "click",
        "timestamp": 1_700_000_000 + n,
    }


def write_lines(path: Path, rows: list[object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows))
    return path


def test_items_then_events_and_reimport_adds_nothing(store: Store, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_lines(data / "items.jsonl", [{"id": f"i{k}", "title": f"T{k}"} for k in range(5)])
    write_lines(data / "events.jsonl", [event(n) for n in range(40)])
    first = import_jsonl(store, data, batch_size=8, progress=False)
    assert (first.items_new, first.events_new, first.events_seen) == (5, 40, 0)
    assert first.stubs_created == 2  # i5 and i6 are only named by events
    assert store.catalogue.count(include_stubs=False) == 5 and store.catalogue.count() == 7
    again = import_jsonl(store, data, batch_size=8, progress=False)
    assert (again.items_new, again.items_seen, again.events_new, again.events_seen) == (0, 5, 0, 40)
    assert again.stubs_created == 0 and store.events.count() == 40


def test_bad_line_rejects_its_batch_and_keeps_earlier_ones(store: Store, tmp_path: Path) -> None:
    data = tmp_path / "data"
    rows: list[object] = [event(n) for n in range(25)]
    rows.append('{"user_id": "u1", "item_id": "i1", "type": "click", "timestamp": "soon"}\n')
    rows += [event(n) for n in range(26, 40)]
    path = write_lines(data / "events.jsonl", rows)
    acks: list[ImportReport] = []
    with pytest.raises(ImportAborted) as info:
        import_jsonl(store, data, batch_size=10, progress=False, on_batch=acks.append)
    err = info.value
    assert isinstance(err, InvalidInput)
    assert (err.source, err.line, err.field) == (str(path), 26, "timestamp")
    assert str(err).startswith(f"{path}:26: field 'timestamp': not an ISO 8601 date-time")
    assert "lines 1-20 of" in str(err) and "rejected whole" in str(err)
    assert err.committed_lines == 20 and err.report.events_new == 20
    assert [a.events_new for a in acks] == [10, 20]
    assert store.events.count() == 20  # lines 21-25 shared the bad line's batch: not written

    rows[25] = event(25)
    write_lines(path, rows)
    fixed = import_jsonl(store, data, batch_size=10, progress=False)
    assert (fixed.events_new, fixed.events_seen) == (20, 20)
    assert store.events.count() == 40


def test_bad_items_stop_before_any_event(store: Store, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_lines(data / "items.jsonl", [{"id": "a", "title": "A"}, {"id": "b"}])
    write_lines(data / "events.jsonl", [event(1, "a")])
    with pytest.raises(ImportAborted, match=r"items\.jsonl:2: field 'title': required") as info:
        import_jsonl(store, data, progress=False)
    assert info.value.committed_lines == 0 and "no lines of" in str(info.value)
    assert store.catalogue.count() == 0 and store.events.count() == 0


def test_stub_is_replaced_by_the_full_item_and_never_the_reverse(
    store: Store, tmp_path: Path
) -> None:
    events_only = tmp_path / "events"
    write_lines(events_only / "events.jsonl", [event(1, "x"), event(2, "x")])
    items_only = tmp_path / "items"
    write_lines(items_only / "items.jsonl", [{"id": "x", "title": "Full"}])

    assert import_jsonl(store, events_only, progress=False).stubs_created == 1
    assert store.catalogue.get("x").stub
    assert import_jsonl(store, items_only, progress=False).items_new == 1
    assert store.catalogue.get("x").title == "Full" and not store.catalogue.get("x").stub
    again = import_jsonl(store, events_only, progress=False)
    assert again.stubs_created == 0 and store.catalogue.get("x").title == "Full"


def test_detect_and_dispatch(store: Store, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_lines(data / "events.jsonl", [event(1)])
    assert detect_format(data) == "jsonl"
    assert import_directory(store, data, progress=False).events_new == 1
    with pytest.raises(InvalidInput, match="not a known data set"):
        detect_format(tmp_path)
    with pytest.raises(NotFound, match="not a directory"):
        import_jsonl(store, tmp_path / "missing", progress=False)
    with pytest.raises(InvalidInput, match="field 'batch_size'"):
        import_jsonl(store, data, batch_size=0, progress=False)


def test_append_events_with_stubs(store: Store) -> None:
    store.catalogue.upsert([Item(id="full", title="Full")])
    when = datetime(2024, 1, 1, tzinfo=UTC)
    events = [Event("u", item, EventType.CLICK, when) for item in ("full", "new", "new")]
    assert append_events_with_stubs(store, events) == 2
    assert append_events_with_stubs(store, events) == 0
    assert store.catalogue.get("new").stub and not store.catalogue.get("full").stub
    assert store.catalogue.count() == 2

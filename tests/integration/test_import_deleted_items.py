"""Imports meet deleted items: an event naming one stops the import at its line (nothing of
that batch written, no stub), and an items file that holds the item restores it.

Through the real importers and the real SQLite store; the MIND case reads real MIND lines,
where one line carries many events, so the reported line is the file's, not an event count.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedcraft.errors import InvalidInput, NotFound
from feedcraft.formats import mind
from feedcraft.services.ingestion import ImportAborted, import_jsonl, import_mind
from feedcraft.services.items import delete_items
from feedcraft.storage import Store, open_store
from shareddata import shared_path

MIND_BEHAVIORS = "mind-small/MINDsmall_train_sample/behaviors.tsv.gz"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def event(n: int, item: str) -> dict[str, object]:
    return {
        "user_id": f"u{n % 3}",
        "item_id": item,
        "type": "click",
        "timestamp": 1_700_000_000 + n,
    }


def write_lines(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_event_naming_a_deleted_item_stops_the_import_at_its_line(
    store: Store, tmp_path: Path
) -> None:
    items = tmp_path / "items"
    write_lines(items / "items.jsonl", [{"id": f"i{k}", "title": f"T{k}"} for k in range(4)])
    import_jsonl(store, items, progress=False)
    assert delete_items(store, ["i3"]).deleted == ("i3",)
    rows = [event(n, f"i{n % 3}") for n in range(25)]
    rows += [event(25, "i3"), event(26, "i3"), event(27, "new")]
    rows += [event(n, f"i{n % 3}") for n in range(28, 40)]
    path = write_lines(tmp_path / "events" / "events.jsonl", rows)

    with pytest.raises(ImportAborted) as info:
        import_jsonl(store, path.parent, batch_size=10, progress=False)

    err = info.value
    assert isinstance(err, InvalidInput)
    assert (err.source, err.line, err.field) == (str(path), 26, "item_id")
    message = str(err)
    assert message.startswith(f"{path}:26: field 'item_id': event ")
    assert "names item 'i3', which was deleted" in message
    assert "2 events of this batch name deleted items ('i3')" in message
    assert err.committed_lines == 20 and "lines 1-20 of" in message
    assert store.events.count() == 20  # lines 21-30 shared the batch: none written
    assert store.catalogue.get_many(["i3", "new"]) == {}  # no stub, not even for "new"
    assert store.catalogue.deleted(["i3"]) == {"i3"}


def test_an_items_file_restores_the_item_and_its_events_are_accepted(
    store: Store, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write_lines(data / "items.jsonl", [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}])
    write_lines(data / "events.jsonl", [event(n, "ab"[n % 2]) for n in range(12)])
    assert import_jsonl(store, data, progress=False).events_new == 12
    delete_items(store, ["a"])
    events_only = tmp_path / "events-only"
    write_lines(events_only / "events.jsonl", [event(n, "a") for n in range(100, 104)])
    with pytest.raises(ImportAborted, match=r"events\.jsonl:1: field 'item_id'"):
        import_jsonl(store, events_only, progress=False)

    again = import_jsonl(store, data, progress=False)  # items first: "a" is stored again

    assert (again.items_new, again.events_new, again.events_seen) == (1, 0, 12)
    assert store.catalogue.get("a").title == "A" and not store.catalogue.get("a").stub
    assert store.catalogue.deleted(["a"]) == set()
    assert import_jsonl(store, events_only, progress=False).events_new == 4


def test_real_mind_line_naming_a_deleted_item_is_reported_by_its_line(
    store: Store, tmp_path: Path
) -> None:
    source = shared_path(MIND_BEHAVIORS)
    with gzip.open(source, "rt", encoding="utf-8") as f:
        lines = [line for _, line in zip(range(60), f, strict=False)]
    data = tmp_path / "mind"
    data.mkdir()
    (data / "behaviors.tsv").write_text("".join(lines), encoding="utf-8")
    first = import_mind(store, data, batch_size=50, progress=False)
    assert first.events_new > 60  # many events per line
    # An item that first appears on a line after the first batch, as an impression slot.
    seen: dict[str, int] = {}
    for line, imp in mind.numbered_impressions(data / "behaviors.tsv"):
        for item in (*imp.history, *imp.item_ids):
            seen.setdefault(item, line)
    victim, line = max(seen.items(), key=lambda kv: kv[1])
    assert line > 1 and store.catalogue.get(victim).stub
    assert delete_items(store, [victim]).deleted == (victim,)
    events = store.events.count()

    with pytest.raises(ImportAborted) as info:
        import_mind(store, data, batch_size=50, progress=False)

    assert (info.value.line, info.value.field) == (line, "item_id")
    assert f"names item {victim!r}, which was deleted" in str(info.value)
    assert store.events.count() == events
    with pytest.raises(NotFound, match=victim):
        store.catalogue.get(victim)

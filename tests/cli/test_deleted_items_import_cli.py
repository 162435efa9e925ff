"""`feedcraft import` after `feedcraft delete-items`, on a real MovieLens subset: an events file
naming the deleted movie fails at its line (exit 2, nothing of its batch written); importing
the items file that holds the movie restores it, and the same events file then imports."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from typer.testing import Result

from feedcraft.storage import open_store


def test_deleted_movie_blocks_its_events_until_the_items_file_restores_it(
    cli: Callable[..., Result], cli_env: dict[str, str], ml_jsonl: Path, tmp_path: Path
) -> None:
    assert cli("import", "jsonl", ml_jsonl).exit_code == 0
    assert cli("delete-items", "1").exit_code == 0
    late = tmp_path / "late"
    late.mkdir()
    rows = [
        {"user_id": "900", "item_id": "2", "type": "click", "timestamp": 1_700_000_000},
        {"user_id": "900", "item_id": "1", "type": "click", "timestamp": 1_700_000_060},
    ]
    (late / "events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as store:
        events = store.events.count()

    refused = cli("import", "jsonl", late)

    assert refused.exit_code == 2, refused.output
    assert f"{late / 'events.jsonl'}:2: field 'item_id'" in refused.output
    assert "names item '1', which was deleted" in refused.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as store:
        assert store.events.count() == events  # line 1 shared the batch: not written
        assert store.catalogue.get_many(["1"]) == {}

    restored = cli("import", "jsonl", ml_jsonl)
    assert restored.exit_code == 0, restored.output
    assert "items 1 new" in restored.output
    accepted = cli("import", "jsonl", late)
    assert accepted.exit_code == 0, accepted.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as store:
        assert store.events.count() == events + 2
        assert not store.catalogue.get("1").stub

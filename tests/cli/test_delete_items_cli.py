"""`feedcraft delete-items` on a real MovieLens subset, imported and trained by the CLI itself."""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path

from typer.testing import CliRunner, Result

from feedcraft.cli.main import app
from feedcraft.storage import open_store


def _invoke(env: dict[str, str], *args: str | Path) -> Result:
    clean: dict[str, str | None] = dict(env)
    clean |= {k: None for k in os.environ if k.startswith("FEEDCRAFT_") and k not in env}
    return CliRunner().invoke(app, [str(a) for a in args], env=clean)


def test_delete_items_reports_deleted_and_unknown(cli_env: dict[str, str], ml_jsonl: Path) -> None:
    assert _invoke(cli_env, "import", "jsonl", ml_jsonl).exit_code == 0
    trained = _invoke(cli_env, "train", "--models", "popularity")
    assert trained.exit_code == 0, trained.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as store:
        items, events = store.catalogue.count(), store.events.count()
        (namespace,) = [ns for ns in store.vectors.namespaces() if ns.startswith("items:")]
        assert store.vectors.get(namespace, ["1", "3114"]).keys() == {"1", "3114"}

    result = _invoke(cli_env, "delete-items", "1", "no-such-movie", "3114")

    assert result.exit_code == 0, result.output
    assert "deleted 2 items (2 vectors, 0 cached texts)" in result.output
    assert "not found: no-such-movie" in result.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as store:
        assert store.catalogue.get_many(["1", "3114", "2"]).keys() == {"2"}
        assert store.catalogue.count() == items - 2
        assert store.vectors.get(namespace, ["1", "3114", "2"]).keys() == {"2"}
        assert store.events.count() == events  # behaviour is kept

    again = _invoke(cli_env, "delete-items", "1")
    assert again.exit_code == 0 and "deleted 0 items" in again.output
    assert "not found: 1" in again.output


def test_delete_items_needs_an_id(cli_env: dict[str, str]) -> None:
    result = _invoke(cli_env, "delete-items")
    assert result.exit_code == 2
    assert "Missing argument" in result.output

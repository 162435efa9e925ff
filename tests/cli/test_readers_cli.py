"""`feedcraft erase-users` and `feedcraft consent` on a real MovieLens subset, imported and trained
by the CLI itself."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from typer.testing import CliRunner, Result

from feedcraft.cli.main import app
from feedcraft.services.models import load_model
from feedcraft.services.pseudonyms import Pseudonyms
from feedcraft.storage import open_store


def test_erase_users_from_arguments_and_a_file(
    cli: Callable[..., Result], cli_env: dict[str, str], ml_jsonl: Path, tmp_path: Path
) -> None:
    assert cli("import", "jsonl", ml_jsonl).exit_code == 0
    trained = cli("train", "--models", "popularity,itemknn")
    assert trained.exit_code == 0, trained.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as store:
        theirs = {u: sum(1 for _ in store.events.iter_events(user_id=u)) for u in ("1", "3")}
        total = store.events.count()
    ids = tmp_path / "erase.txt"
    ids.write_text("3\n\n  no-such-reader  \n", encoding="utf-8")

    result = cli("erase-users", "1", "--ids-file", ids)

    assert result.exit_code == 0, result.output
    erased = f"erased 3 readers: {theirs['1'] + theirs['3']} events, 0 consent records, 2 model"
    assert erased in result.output.replace("\n", " ")
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as store:
        assert store.events.count() == total - theirs["1"] - theirs["3"]
        assert "1" not in store.events.user_ids() and "2" in store.events.user_ids()
        for name in ("popularity", "itemknn"):
            model, info = load_model(store, name)
            users = model.interactions_.users  # type: ignore[attr-defined]
            assert info.version == 2 and "1" not in users and "3" not in users and "2" in users

    again = cli("erase-users", "1")
    assert again.exit_code == 0 and "0 events, 0 consent records, 0 model versions" in again.output


def test_erase_users_refuses_no_ids_and_a_file_that_is_not_utf8(
    cli: Callable[..., Result], ml_jsonl: Path, tmp_path: Path
) -> None:
    assert cli("import", "jsonl", ml_jsonl).exit_code == 0
    nothing = cli("erase-users")
    assert nothing.exit_code == 2 and "at least one reader id" in nothing.output
    bad = tmp_path / "ids.txt"
    bad.write_bytes(b"1\n\xff\xfe2\n")
    refused = cli("erase-users", "--ids-file", bad)
    assert refused.exit_code == 2 and "line 2 is not UTF-8" in refused.output


def test_consent_shows_and_changes_only_the_purposes_given(
    cli: Callable[..., Result], ml_jsonl: Path
) -> None:
    assert cli("import", "jsonl", ml_jsonl).exit_code == 0
    shown = cli("consent", "1")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["effective"] == {"personalisation": True, "ads": True}
    assert json.loads(cli("consent", "1", "--no-ads").output)["choices"] == {"ads": False}
    changed = json.loads(cli("consent", "1", "--no-personalisation").output)
    assert changed["choices"] == {"ads": False, "personalisation": False}  # ads kept
    assert changed["updated_at"] is not None
    assert [d["choices"] for d in changed["history"]] == [
        {"ads": False},
        {"ads": False, "personalisation": False},
    ]
    erased = cli("erase-users", "1")
    assert "1 consent record" in erased.output
    assert json.loads(cli("consent", "1").output)["choices"] == {}


def test_with_a_pseudonym_key_commands_take_the_sites_ids(
    cli_env: dict[str, str], ml_jsonl: Path
) -> None:
    keyed = cli_env | {"FEEDCRAFT_PRIVACY__PSEUDONYM_KEY": "a-pseudonym-key-for-tests-0002"}

    def run(env: dict[str, str], *args: str | Path) -> Result:
        clean: dict[str, str | None] = dict(env)
        clean |= {k: None for k in os.environ if k.startswith("FEEDCRAFT_") and k not in env}
        return CliRunner().invoke(app, [str(a) for a in args], env=clean)

    assert run(keyed, "import", "jsonl", ml_jsonl).exit_code == 0
    again = run(keyed, "import", "jsonl", ml_jsonl)  # the same events map to the same ids
    assert again.exit_code == 0 and "events 0 new / 3000 seen" in again.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as store:
        stored = store.events.user_ids()
        theirs = sum(1 for _ in store.events.iter_events(user_id=Pseudonyms(None).reader("3")))
    assert stored and all(u.startswith("p-") for u in stored) and theirs == 0
    assert json.loads(run(keyed, "consent", "3", "--no-ads").output)["user_id"] == "3"
    erased = run(keyed, "erase-users", "3")
    assert erased.exit_code == 0 and "1 consent record" in erased.output
    assert "0 events" not in erased.output  # reader 3's events were found by their id
    refused = run(cli_env, "consent", "3")  # the key left out
    assert refused.exit_code == 2 and "pseudonym_key" in refused.output

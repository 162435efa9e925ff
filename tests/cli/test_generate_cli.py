"""`feedcraft generate` end to end with the extractive backend (no model) on bundled Wikinews."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from feedcraft.cli.main import app

Cli = Callable[..., Result]
WIKINEWS = Path(__file__).resolve().parents[2] / "src" / "feedcraft" / "sample" / "wikinews"


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Cli:
    env: dict[str, str | None] = dict(cli_env)
    env |= {k: None for k in os.environ if k.startswith("FEEDCRAFT_") and k not in cli_env}
    env["FEEDCRAFT_LLM__BACKEND"] = "extractive"

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    result = invoke("import", "jsonl", WIKINEWS)
    assert result.exit_code == 0, result.output
    return invoke


def payload(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_summary_then_cache_hit(cli: Cli) -> None:
    first = payload(cli("generate", "summary", "wikinews-001"))
    assert first["outputs"] and first["fallback"] is True and first["cache_hit"] is False
    assert first["produced_by"][0].startswith("extractive")
    again = payload(cli("generate", "summary", "wikinews-001", "--user", "nobody"))
    assert again["cache_hit"] is True and again["outputs"] == first["outputs"]


def test_headlines_n(cli: Cli) -> None:
    out = payload(
        cli("generate", "headlines", "wikinews-002", "--n", "2", "--backend", "extractive")
    )
    assert out["task"] == "headlines" and len(out["outputs"]) == 2


def test_headlines_keep_the_length_budget(cli: Cli) -> None:
    out = payload(cli("generate", "headlines", "wikinews-002", "--n", "2", "--max-length", "6"))
    assert out["outputs"] and all(len(h.split()) <= 6 for h in out["outputs"])


def test_ad_copy_for_an_audience_is_cached_per_audience(cli: Cli) -> None:
    teachers = ("generate", "ad-copy", "wikinews-003", "--audience", "retired teachers")
    first = payload(cli(*teachers, "--campaign", "history books"))
    assert first["task"] == "ad_copy" and first["outputs"] and first["cache_hit"] is False
    assert payload(cli(*teachers, "--campaign", "history books"))["cache_hit"] is True
    assert payload(cli(*teachers))["cache_hit"] is False  # another campaign: another text
    students = payload(cli("generate", "ad-copy", "wikinews-003", "--audience", "students"))
    assert students["cache_hit"] is False


def test_description_from_attributes(cli: Cli) -> None:
    out = payload(cli("generate", "description", "wikinews-003", "--max-length", "40"))
    assert out["task"] == "product_description" and out["item_id"] == "wikinews-003"
    (text,) = out["outputs"]
    assert "Palestine" in text and len(text.split()) <= 40  # the item's category, in budget


def test_batch_reports_hits_on_rerun(cli: Cli) -> None:
    first = payload(cli("generate", "batch", "--task", "summary", "--limit", "3"))
    assert (first["items"], first["generated"], first["cache_hits"]) == (3, 3, 0)
    again = payload(cli("generate", "batch", "--task", "summary", "--limit", "3"))
    assert again["cache_hits"] == 3


def test_prune_keeps_the_current_texts_and_drops_other_models_when_asked(cli: Cli) -> None:
    payload(cli("generate", "batch", "--task", "summary", "--limit", "3"))  # extractive
    report = payload(cli("generate", "prune"))
    assert (report["examined"], report["removed_stale"], report["removed_other_models"]) == (
        3,
        0,
        0,
    )
    # seen from the packaged SmolLM2's settings the three are another model's texts
    smollm2 = ("--backend", "smollm2")
    assert payload(cli("generate", "prune", *smollm2))["removed_other_models"] == 0
    assert (
        payload(cli("generate", "prune", "--other-models", *smollm2))["removed_other_models"] == 3
    )
    assert payload(cli("generate", "batch", "--task", "summary", "--limit", "3"))["cache_hits"] == 0


def test_errors_exit_2(cli: Cli) -> None:
    missing = cli("generate", "summary", "no-such-item")
    assert missing.exit_code == 2 and "no-such-item" in missing.output
    bad = cli("generate", "batch", "--task", "poem")
    assert bad.exit_code == 2 and "unknown task" in bad.output
    length = cli("generate", "ad-copy", "wikinews-001", "--max-length", "0")
    assert length.exit_code == 2 and "--max-length" in length.output
    gone = cli("generate", "description", "no-such-item")
    assert gone.exit_code == 2 and "no-such-item" in gone.output
    backend = cli("generate", "summary", "wikinews-001", "--backend", "bogus")
    assert backend.exit_code == 2 and "unknown backend" in backend.output


def test_batch_during_an_outage_warns_and_exits_2(cli: Cli) -> None:
    """A server that is down fills nothing: the report says so, not "generated"."""
    down = ("--backend", "http://127.0.0.1:9/v1")
    for _ in range(2):  # nothing cached: the second run is the same outage
        result = cli("generate", "batch", "--task", "summary", "--limit", "3", *down)
        assert result.exit_code == 2, result.output
        report = json.loads(result.stdout)
        assert (report["generated"], report["backend_failed"], report["fallbacks"]) == (0, 3, 0)
        assert "127.0.0.1:9" in report["backend_error"]
        assert "warning:" in result.stderr and "127.0.0.1:9" in result.stderr


def test_batch_during_an_outage_stops_after_failures_in_a_row(cli: Cli) -> None:
    down = ("--backend", "http://127.0.0.1:9/v1", "--stop-after", "1")
    result = cli("generate", "batch", "--task", "summary", "--limit", "3", *down)
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert (report["backend_failed"], report["not_attempted"]) == (1, 2)
    assert "stopped with 2 items left" in result.stderr


def test_batch_with_the_extractive_backend_reports_no_backend_failure(cli: Cli) -> None:
    result = cli("generate", "batch", "--task", "summary", "--limit", "2")
    report = payload(result)
    assert (report["backend_failed"], report["backend_error"]) == (0, None)
    assert "warning" not in result.stderr


def test_a_summary_for_an_unknown_user_says_it_is_for_no_profile(cli: Cli) -> None:
    result = cli("generate", "summary", "wikinews-001", "--user", "ghost")
    assert result.exit_code == 0, result.output
    assert payload(result)["profile_bucket"] == "any"
    assert "no interests known for user 'ghost'" in result.stderr


@pytest.fixture
def short_item(cli: Cli, tmp_path: Path) -> str:
    """An item of two sentences (of our own): too short for ten headline variants."""
    folder = tmp_path / "short"
    folder.mkdir()
    item = {
        "id": "short",
        "title": "Rain floods the city",
        "body": "Heavy rain flooded several streets overnight. Police closed two bridges.",
    }
    (folder / "items.jsonl").write_text(json.dumps(item) + "\n", encoding="utf-8")
    assert cli("import", "jsonl", folder).exit_code == 0
    return "short"


def test_fewer_outputs_than_asked_are_counted_and_warned_about(cli: Cli, short_item: str) -> None:
    result = cli("generate", "headlines", short_item, "--n", "10")
    out = payload(result)  # some were served: exit 0
    assert 0 < len(out["outputs"]) < 10 and out["unfilled"] == 10 - len(out["outputs"])
    assert f"{out['unfilled']} of 10 outputs could not be written" in result.stderr
    full = cli("generate", "headlines", short_item, "--n", "2")
    assert payload(full)["unfilled"] == 0 and "warning" not in full.stderr


def test_nothing_servable_exits_2(cli: Cli, short_item: str, cli_env: dict[str, str]) -> None:
    """Every sentence of the item holds a banned term: no text, and the command says so."""
    env = {**cli_env, "FEEDCRAFT_LLM__BACKEND": "extractive"}
    env["FEEDCRAFT_LLM__BANNED_TERMS"] = '["rain", "police"]'
    result = CliRunner().invoke(app, ["generate", "summary", short_item], env=env)
    assert result.exit_code == 2, result.output
    out = json.loads(result.stdout)
    assert out["outputs"] == [] and out["unfilled"] == 1
    assert "1 of 1 outputs could not be written" in result.stderr


def test_a_backend_that_failed_is_warned_about_with_the_fallback_served(cli: Cli) -> None:
    result = cli("generate", "summary", "wikinews-001", "--backend", "http://127.0.0.1:9/v1")
    out = payload(result)  # the fallback's text was served: exit 0
    assert out["outputs"] and "127.0.0.1:9" in out["backend_error"]
    assert "warning: the backend failed (served the fallback's text" in result.stderr
    assert "127.0.0.1:9" in result.stderr


def test_ad_copy_for_an_unknown_user_says_it_is_for_general_readers(cli: Cli) -> None:
    result = cli("generate", "ad-copy", "wikinews-001", "--user", "ghost")
    assert payload(result)["profile_bucket"] == "any"
    assert "no interests known for user 'ghost'" in result.stderr
    assert "general readers" in result.stderr
    aimed = cli("generate", "ad-copy", "wikinews-001", "--user", "ghost", "--audience", "runners")
    assert "no interests known" not in aimed.stderr  # the audience was given: no profile asked

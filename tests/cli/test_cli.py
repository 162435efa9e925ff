"""The `feedcraft` command on real data: in process (typer's CliRunner) and as a real process."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from feedcraft.cli.main import sample_dir
from feedcraft.services.training import MODEL_NAMES
from feedcraft.storage import open_store

FEEDCRAFT = Path(sys.executable).with_name("feedcraft")  # the entry point of this environment
TOPN = ("recall@10", "ndcg@10", "hitrate@10", "coverage@10")
ALL_MODELS = MODEL_NAMES

Cli = Callable[..., Result]


def _run(
    env: dict[str, str], *args: str | Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`feedcraft ARGS...` as a separate process."""
    return subprocess.run(
        [str(FEEDCRAFT), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _store(env: dict[str, str]) -> Any:
    return closing(open_store(env["FEEDCRAFT_STORE"]))


def _assert_clean_failure(code: int, stderr: str, *needles: str) -> None:
    """Non-zero exit, an `error:` line holding every needle, and no Python traceback."""
    assert code != 0
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert lines, stderr
    for needle in needles:
        assert any(needle in line for line in lines), (needle, stderr)


# -- import ------------------------------------------------------------------------------------


def test_import_jsonl(cli: Cli, cli_env: dict[str, str], ml_jsonl: Path) -> None:
    result = cli("import", "jsonl", ml_jsonl)
    assert result.exit_code == 0, result.output
    assert "items 1768 new / 0 seen, events 3000 new / 0 seen, 0 stubs" in result.stderr
    assert result.stderr.count(str(ml_jsonl)) == 1  # said once, not twice
    with _store(cli_env) as store:
        assert store.catalogue.count() == 1768 and store.events.count() == 3000
        assert store.catalogue.get("1").title == "Toy Story (1995)"
    again = cli("import", "jsonl", ml_jsonl)
    assert again.exit_code == 0
    assert "items 0 new / 1768 seen, events 0 new / 3000 seen" in again.stderr


@pytest.mark.slow
def test_import_movielens_bundled_sample(cli: Cli, cli_env: dict[str, str]) -> None:
    result = cli("import", "movielens", sample_dir("movielens-latest-small"))
    assert result.exit_code == 0, result.output
    assert "items 9742 new / 0 seen, events 100836 new / 0 seen, 0 stubs" in result.stderr
    with _store(cli_env) as store:
        assert store.events.count() == 100_836 and len(store.events.user_ids()) == 610


def test_bad_jsonl_line_fails_with_file_and_line(
    cli_env: dict[str, str], tmp_path: Path, ml_jsonl: Path
) -> None:
    # a long directory name: the file:line must not be wrapped onto two lines
    data = tmp_path / ("a-directory-with-a-rather-long-name-" * 3).rstrip("-")
    data.mkdir()
    good = (ml_jsonl / "items.jsonl").read_text(encoding="utf-8").splitlines()[:5]
    lines = [*good[:3], '{"id": "x", "title": [r1, r2]}', *good[3:]]
    (data / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = _run(cli_env, "import", "jsonl", data)
    _assert_clean_failure(proc.returncode, proc.stderr, f"{data / 'items.jsonl'}:4:")
    assert "not valid JSON" in proc.stderr
    with _store(cli_env) as store:
        assert store.catalogue.count() == 0  # the batch holding the bad line was rejected

    # a well-formed line that breaks a rule: the field is named too
    lines[3] = '{"id": "x", "titel": "typo"}'
    (data / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = _run(cli_env, "import", "jsonl", data)
    _assert_clean_failure(proc.returncode, proc.stderr, f"{data / 'items.jsonl'}:4:", "title")

    # the offending value is quoted as written, not read as console markup
    (data / "items.jsonl").unlink()
    event = '{"user_id": "u", "item_id": "1", "type": "[bold]click", "timestamp": 1}'
    (data / "events.jsonl").write_text(event + "\n", encoding="utf-8")
    proc = _run(cli_env, "import", "jsonl", data)
    _assert_clean_failure(
        proc.returncode, proc.stderr, f"{data / 'events.jsonl'}:1:", "type", "'[bold]click'"
    )


def test_jsonl_timestamp_out_of_range_fails_cleanly(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "events.jsonl").write_text(
        '{"user_id": "u", "item_id": "a", "type": "click", "timestamp": 1}\n'
        '{"user_id": "u", "item_id": "a", "type": "click", '
        '"timestamp": "0001-01-01T00:00:00+01:00"}\n',
        encoding="utf-8",
    )
    proc = _run(cli_env, "import", "jsonl", tmp_path)
    _assert_clean_failure(proc.returncode, proc.stderr, f"{tmp_path / 'events.jsonl'}:2:")


def test_import_errors_without_traceback(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = cli("import", "jsonl", missing)
    _assert_clean_failure(result.exit_code, result.stderr, str(missing))
    result = cli("import", "movielens", tmp_path)
    _assert_clean_failure(result.exit_code, result.stderr, "ratings.csv")
    result = cli("import", "mind", tmp_path)
    _assert_clean_failure(result.exit_code, result.stderr, "behaviors.tsv")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("train",), "import events first"),
        (("train", "--store", "postgresql://db/feedcraft"), "PostgreSQL"),
        (("train", "--store", "feedcraft.db"), "store"),
        (("train", "--config", "/no/such/feedcraft.toml"), "/no/such/feedcraft.toml"),
        (("evaluate",), "import events first"),
        (("evaluate", "--dataset", "mind"), "no impressions"),
        (("serve", "--store", "postgresql://db/feedcraft"), "PostgreSQL"),
        (("run", "--no-serve", "--store", "postgresql://db/feedcraft"), "PostgreSQL"),
    ],
    ids=[
        "train-empty",
        "postgres",
        "not-a-url",
        "missing-config",
        "eval-empty",
        "mind-empty",
        "serve-postgres",
        "run-postgres",
    ],
)
def test_commands_fail_cleanly_on_an_unusable_store(
    cli: Cli, cli_env: dict[str, str], args: tuple[str, ...], needle: str
) -> None:
    with _store(cli_env):
        pass  # the default store exists, empty
    result = cli(*args)
    _assert_clean_failure(result.exit_code, result.stderr, needle)


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("train",), "import events first"),
        (("evaluate",), "import events first"),
        (("evaluate", "--dataset", "mind"), "import events first"),
        (("rollback", "itemknn"), "train first"),
        (("delete-items", "1"), "check --store"),
        (("generate", "summary", "1"), "import items first"),
        (("generate", "prune"), "import items first"),
    ],
    ids=["train", "evaluate", "evaluate-mind", "rollback", "delete-items", "generate", "prune"],
)
def test_commands_that_read_a_store_do_not_create_one_at_a_mistyped_path(
    cli: Cli, cli_env: dict[str, str], args: tuple[str, ...], hint: str
) -> None:
    """A mistyped --store is named as missing, and no empty database is left behind there."""
    path = Path(cli_env["FEEDCRAFT_STORE"].removeprefix("sqlite:///"))
    result = cli(*args)
    _assert_clean_failure(result.exit_code, result.stderr, f"no store at {path}", hint)
    assert not path.exists()


# -- train and evaluate ------------------------------------------------------------------------


def test_train_then_evaluate_writes_metrics_for_every_model(
    cli: Cli, cli_env: dict[str, str], ml_jsonl: Path, tmp_path: Path
) -> None:
    assert cli("import", "jsonl", ml_jsonl).exit_code == 0
    result = cli("train", "--models", "popularity,itemknn")
    assert result.exit_code == 0, result.output
    assert "trained popularity v1" in result.stderr and "trained itemknn v1" in result.stderr
    assert "(20 users, 1768 items, 3000 interactions)" in result.stderr
    with _store(cli_env) as store:
        names = {"recommender:popularity", "recommender:itemknn"}
        assert all(len(store.artifacts.versions(n)) == 1 for n in names)
        assert store.artifacts.versions("recommender:content") == []

    metrics_path = tmp_path / "m.json"
    result = cli("evaluate", "--protocol", "user-temporal", "--json", metrics_path)
    assert result.exit_code == 0, result.output
    assert "user-temporal split" in result.stdout
    table = result.stdout.splitlines()
    for name in ALL_MODELS:
        assert any(line.startswith(name) for line in table), result.stdout
    metrics = json.loads(metrics_path.read_text())
    assert metrics["protocol"] == "user-temporal" and metrics["default_model"] == "ranker"
    assert set(metrics["models"]) == set(ALL_MODELS)
    for name, values in metrics["models"].items():
        for key in TOPN:
            assert 0.0 <= values[key] <= 1.0, (name, key, values[key])
        assert values["recall@10"] <= values["hitrate@10"]
    for key in TOPN:  # the default model's numbers at the top level, for scripts
        assert metrics[key] == metrics["models"]["ranker"][key]
    # the models learn something on real data: both beat random on NDCG
    models = metrics["models"]
    assert models["itemknn"]["ndcg@10"] > models["random"]["ndcg@10"]
    assert models["hybrid"]["ndcg@10"] > models["random"]["ndcg@10"]
    assert models["ranker"]["ndcg@10"] > models["random"]["ndcg@10"]
    assert models["popularity"]["ndcg@10"] > models["random"]["ndcg@10"]

    # evaluating saves no model; training again makes version 2
    assert cli("train", "--models", "itemknn").stderr.startswith("trained itemknn v2")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--predictions", "p.txt"), "--predictions is only for --dataset mind"),
        (("--protocol", "user-temporal", "--predictions", "p.txt"), "--dataset mind"),
        (("--dataset", "movielens"), "movielens"),
        (("--protocol", "leave-one-out"), "leave-one-out"),
        (("--models", "popularity,bogus"), "bogus"),
        (("--models", ","), "models"),
    ],
    ids=[
        "predictions-without-mind",
        "protocol-and-predictions",
        "dataset",
        "protocol",
        "model",
        "no-models",
    ],
)
def test_evaluate_bad_flag_combinations_fail_cleanly(
    cli: Cli,
    ml_jsonl: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    needle: str,
) -> None:
    assert cli("import", "jsonl", ml_jsonl).exit_code == 0
    monkeypatch.chdir(tmp_path)
    result = cli("evaluate", *args, "--json", tmp_path / "m.json")
    _assert_clean_failure(result.exit_code, result.stderr, needle)
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "p.txt").exists()


@pytest.mark.parametrize(
    "args", [("--k", "0"), ("--test-fraction", "1.5"), ("--test-fraction", "abc")]
)
def test_evaluate_bad_option_values_are_usage_errors(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli("evaluate", *args)
    assert result.exit_code == 2
    assert args[0] in result.output and "Traceback" not in result.output


# -- run and serve -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_run_no_serve_on_the_bundled_sample(cli_env: dict[str, str]) -> None:
    # the main job fits the learned ranker twice on all of MovieLens (evaluate, then train)
    proc = _run(cli_env, "run", "--no-serve", timeout=1500)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout.splitlines()
    assert out[0].startswith("user-temporal split")
    header = out[1].split()
    assert header[0] == "model" and all(k in header for k in TOPN)
    rows = {line.split()[0]: line.split() for line in out[3:] if line.strip()}
    assert set(rows) == set(ALL_MODELS)
    n_users = rows["itemknn"][header.index("n_users")]
    assert n_users == "610"  # every MovieLens user has >= 20 ratings, so all are evaluated
    assert "imported bundled movielens-latest-small" in proc.stderr
    assert "imported bundled wikinews" in proc.stderr
    for name in ALL_MODELS:
        assert f"trained {name} v1" in proc.stderr
    assert "try: curl" in proc.stderr


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_starts_serves_a_feed_and_stops_on_sigint(
    cli: Cli, cli_env: dict[str, str], ml_jsonl: Path, tmp_path: Path
) -> None:
    assert cli("import", "jsonl", ml_jsonl).exit_code == 0
    assert cli("train", "--models", "popularity,ranker").exit_code == 0
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(FEEDCRAFT), "serve", "--port", str(port), "--warm-generation"],
            env=cli_env | {"FEEDCRAFT_LLM__BACKEND": "extractive"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"serve exited early:\n{log.read_text()}"
            try:
                status, health = _get(f"{base}/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"not up in 60 s:\n{log.read_text()}"
                time.sleep(0.2)
        assert status == 200 and health["events"] == 3000

        status, feed = _get(f"{base}/users/7/feed?n=5")  # a real MovieLens user id
        assert status == 200, feed
        assert feed["model"] == "ranker@v1" and len(feed["items"]) == 5  # the default
        for entry in feed["items"]:
            assert isinstance(entry["score"], float) and entry["reason"] and entry["title"]
        status, pop = _get(f"{base}/users/7/feed?n=3&model=popularity")
        assert status == 200 and pop["model"] == "popularity@v1"
        status, missing = _get(f"{base}/users/7/feed?model=content")
        assert status == 503 and "feedcraft train" in missing["detail"]
        # --warm-generation: the encoders load in the background while the above was served
        while (state := _get(f"{base}/health")[1]["generation"]) == "loading":
            assert time.monotonic() < deadline + 120, f"still loading:\n{log.read_text()}"
            time.sleep(0.5)
        assert state == "ready", log.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert code == 0, log.read_text()
    assert f"serving on http://127.0.0.1:{port}" in log.read_text()
    assert "loading the generation models (extractive) in the background" in log.read_text()
    assert "Traceback" not in log.read_text()

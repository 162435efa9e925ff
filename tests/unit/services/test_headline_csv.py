"""score_csv streams the file: chunks keep the rows' order, a bad row is found before any
scoring, OUT may be IN (gzip stays gzip), and a file that changes while it is scored writes
nothing."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feedcraft.ctr import HeadlineClickModel
from feedcraft.errors import InvalidInput
from feedcraft.services import headline_csv
from feedcraft.services.headline_csv import score_csv
from feedcraft.services.headlines import UPWORTHY_FILE, read_upworthy, train_headline_model
from shareddata import shared_path

ROWS = 300


class CountingModel(HeadlineClickModel):
    """The real model, counting its scoring calls; `on_call` runs before each."""

    calls = 0
    on_call: Any = None

    def predict_proba(
        self,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        type(self).calls += 1
        if self.on_call is not None:
            self.on_call()
        return super().predict_proba(headlines, excerpts, ledes, **kwargs)


@pytest.fixture(scope="module")
def archive_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive's first rows as a plain CSV: headline, excerpt and lede with every other
    column (quoted commas, HTML ledes)."""
    out = tmp_path_factory.mktemp("upworthy") / "slice.csv"
    with gzip.open(shared_path(UPWORTHY_FILE), "rt", encoding="utf-8", newline="") as f:
        rows = [row for _, row in zip(range(ROWS + 1), csv.reader(f), strict=False)]
    with out.open("w", encoding="utf-8", newline="") as g:
        csv.writer(g).writerows(rows)
    return out


@pytest.fixture
def model(archive_csv: Path) -> CountingModel:
    fitted = CountingModel(encoder="hashing", fields=("headline", "excerpt"), max_iter=30)
    train_headline_model(archive_csv, encoder="hashing", progress=False, model=fitted)
    CountingModel.calls = 0
    return fitted


def test_chunks_score_every_row_in_order(
    model: CountingModel, archive_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = score_csv(model, archive_csv, tmp_path / "whole.csv")
    assert whole.rows == ROWS and CountingModel.calls == 1
    monkeypatch.setattr(headline_csv, "SCORE_CHUNK", 7)
    chunked = score_csv(model, archive_csv, tmp_path / "chunked.csv")
    assert chunked.rows == ROWS and CountingModel.calls == 1 + -(-ROWS // 7)
    assert (tmp_path / "chunked.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    with (tmp_path / "whole.csv").open(newline="", encoding="utf-8") as f:
        out = list(csv.reader(f))
    with archive_csv.open(newline="", encoding="utf-8") as f:
        src = list(csv.reader(f))
    assert [row[:-1] for row in out] == src  # every field unchanged, p_click appended
    assert len({row[-1] for row in out[1:]}) > ROWS // 2


def test_a_bad_row_at_the_end_is_found_before_any_scoring(
    model: CountingModel, archive_csv: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    text = archive_csv.read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    last = ["x"] * len(header)
    last[header.index("headline")] = "  "
    with bad.open("w", encoding="utf-8", newline="") as f:
        f.write(text)
        csv.writer(f).writerow(last)
    with pytest.raises(InvalidInput) as error:
        score_csv(model, bad, tmp_path / "out.csv")
    assert CountingModel.calls == 0  # not after minutes of scoring
    assert not (tmp_path / "out.csv").exists()
    assert error.value.field == "headline" and error.value.source == str(bad)
    assert error.value.line == len(text.splitlines()) + 1  # the appended record's line


def test_the_input_can_be_scored_in_place(
    model: CountingModel, archive_csv: Path, tmp_path: Path
) -> None:
    path = tmp_path / "same.csv"
    path.write_bytes(archive_csv.read_bytes())
    assert score_csv(model, path, path).rows == ROWS
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len(rows) == ROWS + 1 and rows[0][-1] == "p_click"
    assert score_csv(model, path, path).rows == ROWS  # again: p_click refilled, not added
    with path.open(newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)).count("p_click") == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_file_that_grows_while_it_is_scored_writes_nothing(
    model: CountingModel, archive_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    growing = tmp_path / "growing.csv"
    growing.write_bytes(archive_csv.read_bytes())
    out = tmp_path / "out.csv"
    out.write_text("kept\n")
    monkeypatch.setattr(headline_csv, "SCORE_CHUNK", 100)
    with archive_csv.open(newline="", encoding="utf-8") as f:
        extra = list(csv.reader(f))[1]

    def append() -> None:  # another program appends a row while the first chunk is scored
        if CountingModel.calls == 1:
            with growing.open("a", encoding="utf-8", newline="") as f:
                csv.writer(f).writerow(extra)

    model.on_call = append
    with pytest.raises(InvalidInput, match="changed while it was scored"):
        score_csv(model, growing, out)
    assert out.read_text() == "kept\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_gzip_file_scored_in_place_stays_gzip(
    model: CountingModel, archive_csv: Path, tmp_path: Path
) -> None:
    """OUT's name says gzip or not (IN is read either way); the old file keeps its mode."""
    path = tmp_path / "in.csv.gz"
    path.write_bytes(gzip.compress(archive_csv.read_bytes()))
    path.chmod(0o644)
    assert score_csv(model, path, path).rows == ROWS
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:  # zcat reads it
        rows = list(csv.reader(f))
    assert len(rows) == ROWS + 1 and rows[0][-1] == "p_click"
    assert path.stat().st_mode & 0o777 == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    plain = tmp_path / "out.csv"  # a plain name gets plain text, from gzip input too
    score_csv(model, path, plain)
    with plain.open(newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == rows


def test_a_field_over_128_kib_is_scored_and_trained_on(
    model: CountingModel, archive_csv: Path, tmp_path: Path
) -> None:
    """Python's csv stops at 131072 characters a field; a long lede is valid CSV all the same,
    for score-headlines and train-headlines (the same reader) alike."""
    with archive_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    lede = rows[0].index("lede")
    rows[1][lede] = "<p>" + "A long lede. " * 20_000 + "</p>"  # 260 KB
    path = tmp_path / "long.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    assert score_csv(model, path, tmp_path / "out.csv").rows == ROWS
    variants = read_upworthy(path)
    assert len(variants.headlines) == ROWS and max(map(len, variants.ledes)) > 2**17

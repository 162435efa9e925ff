"""Transparent gzip, file lookup and read errors shared by every reader."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from feedcraft.errors import InvalidInput, NotFound
from feedcraft.formats import _common, csv_records, find_file, numbered_lines, require_file

Writer = Callable[[str, str], Path]


def test_gzip_is_sniffed_not_guessed_from_the_name(tmp_path: Path) -> None:
    path = tmp_path / "news.tsv"  # gzipped content under a plain name
    path.write_bytes(gzip.compress(b"a\r\nb\n\nc"))
    assert list(numbered_lines(path)) == [(1, "a"), (2, "b"), (3, ""), (4, "c")]


def test_find_file_prefers_plain_then_gz(write: Writer, tmp_path: Path) -> None:
    assert find_file(tmp_path, "ratings.csv") is None
    zipped = write("ratings.csv.gz", "x")
    assert find_file(tmp_path, "ratings.csv") == zipped
    plain = write("ratings.csv", "x")
    assert find_file(tmp_path, "ratings.csv") == plain
    with pytest.raises(NotFound, match=r"missing behaviors\.tsv \(or behaviors\.tsv\.gz\)"):
        require_file(tmp_path, "behaviors.tsv")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="file not found"):
        list(numbered_lines(tmp_path / "nope.tsv"))


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "news.tsv"
    path.write_bytes(b"fine\n" + b"x" * 10_000 + b"\nbad \xff\xfe byte\n")
    with pytest.raises(InvalidInput, match="not UTF-8") as info:
        list(numbered_lines(path))
    assert info.value.source == str(path) and info.value.line is not None


def test_csv_records_start_lines_bom_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.csv.gz"  # gzip, a byte-order mark, a quoted field over two lines
    path.write_bytes(gzip.compress('\ufeffa,b\n1,"two\nlines"\n\n3,x\n'.encode()))
    assert list(csv_records(path)) == [(1, ["a", "b"]), (2, ["1", "two\nlines"]), (5, ["3", "x"])]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('h\nok\n"never closed\nmore\nrows\n', 3),  # a lenient reader merges it all
        ('h\nok\n"closed" then text\n', 3),
    ],
)
def test_csv_quoting_is_strict_and_names_the_record(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match="bad CSV") as info:
        list(csv_records(path))
    assert (info.value.source, info.value.line) == (str(path), line)


def test_csv_fields_over_128_kib_read(tmp_path: Path) -> None:
    """Python's csv module refuses a field over 131072 characters unless told otherwise."""
    path = tmp_path / "long.csv"
    long = "word " * 60_000  # 300 KB, as an article's text may be
    path.write_text(f'id,text\n1,"{long}"\n2,short\n', encoding="utf-8")
    assert list(csv_records(path)) == [(1, ["id", "text"]), (2, ["1", long]), (3, ["2", "short"])]


def test_a_field_over_the_cap_is_too_long_not_bad_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quote left open reads the rest of the file as one field: capped, and said so."""
    monkeypatch.setattr(_common, "CSV_FIELD_LIMIT", 1000)
    old = csv.field_size_limit(10)  # raised to the cap, not left at a lower limit
    try:
        path = tmp_path / "in.csv"
        path.write_text('a,b\n1,"' + "x\n" * 999 + "2,y\n", encoding="utf-8")
        with pytest.raises(InvalidInput) as info:
            list(csv_records(path))
        assert str(info.value).count("field too long (over 1,000 characters") == 1
        assert "bad CSV" not in str(info.value) and info.value.line == 2
        path.write_text('a,b\n1,"' + "x" * 999 + '"\n', encoding="utf-8")
        assert list(csv_records(path))[1] == (2, ["1", "x" * 999])
    finally:
        csv.field_size_limit(old)

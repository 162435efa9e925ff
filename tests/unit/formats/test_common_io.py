"""Transparent gzip, file lookup and read errors shared by every reader."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from feedcraft.errors import InvalidInput, NotFound
from feedcraft.formats import find_file, numbered_lines, require_file

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

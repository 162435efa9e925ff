"""Shared plumbing for the readers: transparent gzip, numbered lines, file lookup, errors.

Every reader streams: files are read line by line, never whole, so memory stays constant
however large the input. Errors carry the file and the 1-based physical line number.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import zlib
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path

from feedcraft.errors import InvalidInput, NotFound

_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    """Sniff the magic bytes rather than trust the suffix."""
    with open(path, "rb") as raw:
        return raw.read(2) == _GZIP_MAGIC


def open_binary(path: str | Path) -> io.BufferedIOBase:
    """Open a file for reading, gunzipping on the fly when it is gzip."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path}: file not found")
    if is_gzip(path):
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_error(path: Path, line: int, exc: BaseException) -> InvalidInput:
    """Map a decoding or decompression failure at `line` to InvalidInput."""
    what = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "damaged/truncated gzip"
    return InvalidInput(f"cannot read the file here ({what})", source=str(path), line=line)


_READ_ERRORS = (EOFError, OSError, zlib.error)


def text_lines(path: str | Path) -> Generator[str, None, None]:
    """Decoded lines, line ends kept, streamed. Decoding line by line (not in blocks) makes a
    bad byte's error name its exact line. A UTF-8 byte-order mark is dropped."""
    path = Path(path)
    with open_binary(path) as handle:
        number = 0
        it = iter(handle)
        while True:
            try:
                raw = next(it)
            except StopIteration:
                return
            except _READ_ERRORS as exc:
                raise read_error(path, number + 1, exc) from exc
            number += 1
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise read_error(path, number, exc) from exc
            yield text


def numbered_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its CR/LF) for every physical line, streamed."""
    for number, text in enumerate(text_lines(path), start=1):
        yield number, text.rstrip("\r\n")


def find_file(directory: str | Path, name: str) -> Path | None:
    """`directory/name` or `directory/name.gz`, whichever exists (plain first)."""
    directory = Path(directory)
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def require_file(directory: str | Path, name: str) -> Path:
    found = find_file(directory, name)
    if found is None:
        raise NotFound(f"{directory}: missing {name} (or {name}.gz)")
    return found


def parse_int(text: str, *, field: str, source: Path, line: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(
            f"not an integer: {text!r}", field=field, source=str(source), line=line
        ) from None


def parse_float(text: str, *, field: str, source: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInput(
            f"not a finite number: {text!r}", field=field, source=str(source), line=line
        )
    return value


def require_id(text: str, *, field: str, source: Path, line: int) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("empty id", field=field, source=str(source), line=line)
    return text


def unix_time(seconds: float, *, field: str, source: Path, line: int) -> datetime:
    """Unix seconds -> aware UTC datetime; out-of-range values become InvalidInput."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(
            f"Unix time out of range: {seconds!r}", field=field, source=str(source), line=line
        ) from None


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _cr_split(lines: Iterator[str]) -> Iterator[str]:
    """Lines ended by a lone CR as well: classic Mac exports ("CSV (Macintosh)") end every
    record so. The csv module reads a lone CR as a line end too (inside quotes, as part of
    the field), so this changes nothing for other files, and a record's line is its CR line."""
    for text in lines:
        if "\r" in text:
            yield from (piece for piece in _LONE_CR.split(text) if piece)
        else:
            yield text


#: The longest CSV field read, in characters (the csv module's default is 128 Ki, less than
#: a long article's text). A cap all the same: a quote left open reads the rest of the file
#: into one field, and this bounds the memory that takes before the error names its line.
CSV_FIELD_LIMIT = 64 * 1024 * 1024


def _raise_field_limit() -> int:
    """The csv module's field limit (process-wide), raised to `CSV_FIELD_LIMIT` if lower
    and left alone if something else set it higher."""
    limit = csv.field_size_limit()
    if limit < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
        limit = CSV_FIELD_LIMIT
    return limit


def _csv_error(exc: csv.Error, limit: int) -> str:
    if str(exc).startswith("field larger than field limit"):
        return f"field too long (over {limit:,} characters; a quote left open?)"
    return f"bad CSV: {exc}"


def csv_records(path: str | Path) -> Generator[tuple[int, list[str]], None, None]:
    """(line the record starts on, fields) for every non-blank record, header first, streamed.

    Quoting is strict: an unclosed quote or a stray character after a closing one is an error
    naming the record's first line, where a lenient reader would merge the rest of the file
    into one field and carry on. So is a record whose width differs from the header's (a
    field lost or split by an unquoted comma), text that is not UTF-8, and a field longer
    than `CSV_FIELD_LIMIT` characters.
    """
    path = Path(path)
    limit = _raise_field_limit()
    lines = text_lines(path)
    try:
        reader = csv.reader(_cr_split(lines), strict=True)
        start = 1
        width = -1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInput(_csv_error(exc, limit), source=str(path), line=start) from exc
            if row:
                if width < 0:
                    width = len(row)
                elif len(row) != width:
                    raise InvalidInput(
                        f"expected {width} comma-separated columns, got {len(row)}",
                        source=str(path),
                        line=start,
                    )
                yield start, row
            start = reader.line_num + 1
    finally:
        lines.close()


def csv_rows(path: str | Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """Rows of a headed CSV as (line, values in `columns` order); extra columns are ignored.

    Columns are found by header name, so files with reordered or added columns still read.
    """
    path = Path(path)
    records = csv_records(path)
    try:
        first = next(records, None)
        if first is None:
            raise InvalidInput(
                f"empty file: expected a header {','.join(columns)}", source=str(path)
            )
        names = [name.strip() for name in first[1]]
        missing = [c for c in columns if c not in names]
        if missing:
            raise InvalidInput(
                f"header lacks {', '.join(missing)} (expected {','.join(columns)})",
                source=str(path),
                line=1,
            )
        index = [names.index(c) for c in columns]
        for line, row in records:
            yield line, [row[i] for i in index]
    finally:
        records.close()

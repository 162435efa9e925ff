"""`feedcraft score-headlines`: a CSV of headlines written back with a `p_click` column.

The file is streamed twice, and never held whole: the first pass checks every row (so a bad
row late in a large file is an error before minutes of scoring, not after), the second scores
it chunk by chunk into a temporary file that replaces OUT only when every row is written.
Memory so stays flat in the file's size (it held about 7x the file before).

The CSV written is the input, field for field and in the same column order, plus one
`p_click` column (or that column's values replaced when the input already has one): scripts
rely on this shape. Header names are matched ignoring case and surrounding spaces. The
input's byte order mark and line end are kept: a spreadsheet's "CSV UTF-8" export (BOM,
CRLF) comes back as one, which the spreadsheet then opens as UTF-8, not as its code page.
"""

from __future__ import annotations

import csv
import gzip
import io
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO

from tqdm import tqdm

from feedcraft.embeddings import Encoder
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.formats import csv_records, open_binary
from feedcraft.services.headlines import HeadlineModel
from feedcraft.services.output_files import atomic_writer, check_writable
from feedcraft.text.clean import normalize_whitespace, strip_html
from feedcraft.text.script import mostly_latin

__all__ = ["SCORE_CHUNK", "ScoreReport", "score_csv"]

#: Rows scored per encoder call and held at once (bounds memory on large files).
SCORE_CHUNK = 2048
_COLUMNS = ("headline", "excerpt", "lede", "p_click")


@dataclass(frozen=True, slots=True)
class ScoreReport:
    """`not_latin`: rows whose headline is mostly in another script (Chinese, Cyrillic, ...),
    scored all the same (the CSV keeps its shape) though the model learnt English headlines;
    `first_not_latin` is the first such row's line in the file (0: none)."""

    rows: int
    seconds: float
    model: str
    not_latin: int = 0
    first_not_latin: int = 0


@dataclass(frozen=True, slots=True)
class _Layout:
    """What the checking pass learnt: the header, where the known columns are, the rows."""

    header: list[str]
    where: dict[str, int]
    rows: int
    not_latin: int
    first_not_latin: int


_BOM = b"\xef\xbb\xbf"


def _style(src: Path) -> tuple[bool, str]:
    """Whether the input opens with a UTF-8 byte order mark, and the line end its header
    uses ("\\r\\n" or "\\n"), read from its first 64 KiB (gunzipped)."""
    with open_binary(src) as f:
        head = f.read(1 << 16)
    end = head.find(b"\n")
    return head.startswith(_BOM), "\r\n" if end > 0 and head[end - 1 : end] == b"\r" else "\n"


def _columns(header: list[str], source: str) -> dict[str, int]:
    # Spreadsheets space and capitalise headers ("Headline", " Excerpt"): matched so.
    names = [name.strip().casefold() for name in header]
    if "headline" not in names:
        raise InvalidInput(
            f"no 'headline' column (columns: {', '.join(header)})",
            field="headline",
            source=source,
            line=1,
        )
    where: dict[str, int] = {}
    for name in _COLUMNS:
        at = [i + 1 for i, n in enumerate(names) if n == name]
        if len(at) > 1:  # which one is meant is the user's to say
            raise InvalidInput(
                f"{len(at)} '{name}' columns (columns {', '.join(map(str, at))})",
                field=name,
                source=source,
                line=1,
            )
        if at:
            where[name] = at[0] - 1
    return where


def _rows(src: Path) -> Generator[tuple[int, list[str]], None, None]:
    """The header record, then each row whose headline is not empty (else an error naming
    its line)."""
    records = csv_records(src)
    try:
        first = next(records, None)
        if first is None:
            raise InvalidInput(
                "empty file: expected a header with a 'headline' column", source=str(src)
            )
        yield first
        k = _columns(first[1], str(src))["headline"]
        for line, fields in records:
            if not fields[k].strip():
                raise InvalidInput("empty headline", field="headline", source=str(src), line=line)
            yield line, fields
    finally:
        records.close()


def _check(src: Path) -> _Layout:
    """The first pass: every row checked, nothing kept but counts."""
    rows = _rows(src)
    try:
        header = next(rows)[1]
        where = _columns(header, str(src))
        count = not_latin = first_not_latin = 0
        for line, fields in rows:
            count += 1
            if not mostly_latin(fields[where["headline"]]):
                not_latin += 1
                first_not_latin = first_not_latin or line
    finally:
        rows.close()
    return _Layout(header, where, count, not_latin, first_not_latin)


def score_csv(
    model: HeadlineModel,
    in_path: str | Path,
    out_path: str | Path,
    *,
    encoder: Encoder | None = None,
    progress: bool = False,
    model_name: str = "",
) -> ScoreReport:
    """Write `in_path` to `out_path` with a `p_click` column; nothing is written on error.

    Required column: `headline` (non-empty in every row); optional: `excerpt`, `lede`. Names
    are matched ignoring case and surrounding spaces; one given twice is an error. OUT may be
    the input file itself: it is replaced only once every row is scored. An OUT whose name
    ends in .gz is written gzipped, any other as plain text (the input may be either).
    """
    start = time.perf_counter()
    src, out = Path(in_path), Path(out_path)
    if not src.is_file():
        raise NotFound(f"no such file: {src}")
    check_writable(out)  # before the scoring, not after minutes of it
    layout = _check(src)
    bom, newline = _style(src)
    where = layout.where
    out_header = list(layout.header)
    if "p_click" in where:  # replaced, its header as written (" P_click" included)
        p_col = where["p_click"]
    else:
        p_col = len(out_header)
        out_header.append("p_click")

    def column(name: str, part: list[list[str]]) -> list[str] | None:
        k = where.get(name)
        if k is None:
            return None
        texts = [r[k].strip() for r in part]
        return [normalize_whitespace(strip_html(t)) for t in texts] if name == "lede" else texts

    rows = _rows(src)
    written = 0
    bar = tqdm(
        total=layout.rows, desc="scoring", unit="row", disable=not progress or not layout.rows
    )
    try:
        with _csv_output(out) as f:
            if next(rows)[1] != layout.header:
                raise _changed(src)
            f.write((_BOM if bom else b"") + _csv_text([out_header], newline))
            while part := [fields for _, fields in islice(rows, SCORE_CHUNK)]:
                probs = model.predict_proba(
                    column("headline", part) or [],
                    column("excerpt", part),
                    column("lede", part),
                    encoder=encoder,
                )
                for fields, p in zip(part, probs, strict=True):
                    if p_col == len(fields):
                        fields.append(f"{p:.6g}")
                    else:
                        fields[p_col] = f"{p:.6g}"
                f.write(_csv_text(part, newline))
                written += len(part)
                bar.update(len(part))
            if written != layout.rows:
                raise _changed(src)
    finally:
        rows.close()
        bar.close()
    return ScoreReport(
        written,
        time.perf_counter() - start,
        model_name,
        not_latin=layout.not_latin,
        first_not_latin=layout.first_not_latin,
    )


@contextmanager
def _csv_output(out: Path) -> Iterator[IO[bytes] | gzip.GzipFile]:
    """OUT as `atomic_writer` makes it, gzipped when its name ends in .gz: the input is read
    gzipped or not whatever its name, so `x.csv.gz` scored in place must stay gzip (zcat and
    this reader both expect it), and a plain name gets plain text."""
    with atomic_writer(out) as raw:
        if out.suffix.lower() != ".gz":
            yield raw
            return
        # mtime 0: the same rows give the same bytes; level 6 is gzip's own default.
        with gzip.GzipFile(out.name, "wb", compresslevel=6, fileobj=raw, mtime=0) as zipped:
            yield zipped


def _csv_text(records: list[list[str]], newline: str = "\n") -> bytes:
    """Records as UTF-8 CSV lines ending in `newline`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    # Python's writer leaves a lone CR unquoted when the line end is "\n", which would split
    # the record for every reader: such records are written fully quoted.
    quoted = csv.writer(buffer, lineterminator=newline, quoting=csv.QUOTE_ALL)
    for fields in records:
        (quoted if any("\r" in f for f in fields) else writer).writerow(fields)
    return buffer.getvalue().encode("utf-8")


def _changed(src: Path) -> InvalidInput:
    return InvalidInput("the file changed while it was scored; nothing written", source=str(src))

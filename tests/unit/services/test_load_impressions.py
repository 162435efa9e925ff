"""load_impressions rebuilds each slate (candidates in order, clicks, history) from the event
log, checked against the behaviors file read directly, on real NeMig and MIND subsets."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from feedcraft.services.impressions import load_impressions
from feedcraft.services.ingestion import import_mind
from feedcraft.storage import Store

N_LINES = 300


class Line(NamedTuple):
    id: str
    user: str
    time: str
    history: tuple[str, ...]
    candidates: tuple[str, ...]
    clicked: tuple[bool, ...]


def _subset(source: Path, target: Path, n_lines: int = N_LINES) -> list[Line]:
    """The first `n_lines` of behaviors.tsv.gz and the news rows they name, written to `target`
    in MIND layout; returns the behaviour lines as parsed here (not by feedcraft)."""
    target.mkdir()
    lines: list[Line] = []
    with gzip.open(source / "behaviors.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        raw = [next(f) for _ in range(n_lines)]
    for text in raw:
        imp, user, when, history, slate = text.rstrip("\n").split("\t")
        pairs = [c.rsplit("-", 1) for c in slate.split()]
        lines.append(
            Line(
                imp,
                user,
                when,
                tuple(history.split()),
                tuple(p[0] for p in pairs),
                tuple(p[1] == "1" for p in pairs),
            )
        )
    (target / "behaviors.tsv").write_text("".join(raw), encoding="utf-8")
    named = {i for line in lines for i in (*line.history, *line.candidates)}
    with gzip.open(source / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        news = [row for row in f if row.split("\t", 1)[0] in named]
    (target / "news.tsv").write_text("".join(news), encoding="utf-8")
    return lines


def _check(store: Store, lines: list[Line]) -> dict[str, Line]:
    impressions = load_impressions(store)
    expected = {line.id: line for line in lines}
    assert len(impressions) == len(lines)
    assert {imp.id for imp in impressions} == set(expected)
    for imp in impressions:
        line = expected[imp.id]
        assert imp.user_id == line.user
        assert imp.item_ids == line.candidates
        assert imp.clicked == line.clicked
        assert imp.history == tuple(dict.fromkeys(line.history))
    keys = [(imp.timestamp, imp.id) for imp in impressions]
    assert keys == sorted(keys)
    return expected


def test_nemig_slates(store: Store, shared_path: Callable[[str], Path], tmp_path: Path) -> None:
    lines = _subset(shared_path("nemig/en"), tmp_path / "nemig")
    report = import_mind(store, tmp_path / "nemig", progress=False)
    assert report.stubs_created == 0  # NeMig has text for every id
    _check(store, lines)
    impressions = load_impressions(store)
    # NeMig has no time: the surrogate keeps file order
    assert [imp.id for imp in impressions] == [line.id for line in lines]
    assert sum(sum(imp.clicked) for imp in impressions) == sum(sum(line.clicked) for line in lines)
    assert any(not imp.history for imp in impressions)  # NeMig has empty histories
    assert sum(1 for imp in impressions if not any(imp.clicked)) == sum(
        1 for line in lines if not any(line.clicked)
    )


def test_mind_slates_and_times(
    store: Store, shared_path: Callable[[str], Path], tmp_path: Path
) -> None:
    lines = _subset(shared_path("mind-small/MINDsmall_train_sample"), tmp_path / "mind")
    import_mind(store, tmp_path / "mind", progress=False)
    expected = _check(store, lines)
    for imp in load_impressions(store):
        when = datetime.strptime(expected[imp.id].time, "%m/%d/%Y %I:%M:%S %p")
        assert imp.timestamp == when.replace(tzinfo=UTC)


def test_re_import_does_not_duplicate_slates(
    store: Store, shared_path: Callable[[str], Path], tmp_path: Path
) -> None:
    lines = _subset(shared_path("nemig/en"), tmp_path / "nemig", n_lines=50)
    import_mind(store, tmp_path / "nemig", progress=False)
    import_mind(store, tmp_path / "nemig", progress=False)
    _check(store, lines)


def test_no_impressions_gives_an_empty_list(store: Store) -> None:
    assert load_impressions(store) == []


def test_a_single_line(store: Store, shared_path: Callable[[str], Path], tmp_path: Path) -> None:
    lines = _subset(shared_path("mind-small/MINDsmall_train_sample"), tmp_path / "m", 1)
    import_mind(store, tmp_path / "m", progress=False)
    (imp,) = load_impressions(store)
    assert imp.item_ids == lines[0].candidates and imp.clicked == lines[0].clicked

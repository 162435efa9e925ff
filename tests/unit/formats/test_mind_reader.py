"""MIND/NeMig readers on the real files, and their errors on small malformed ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from pathlib import Path

import pytest

from feedcraft.domain import EventType, ItemKind
from feedcraft.errors import InvalidInput
from feedcraft.formats import mind

MIND = "mind-small/MINDsmall_train_sample"
NEMIG = "nemig/en"
SharedPath = Callable[[str], Path]
Writer = Callable[[str, str], Path]


def test_mind_news_counts_and_first_row(shared_path: SharedPath) -> None:
    items = list(mind.read_news(shared_path(f"{MIND}/news.tsv.gz")))
    assert len(items) == 2000
    assert len({item.id for item in items}) == 2000
    first = items[0]
    assert first.id == "N34700"
    assert first.kind is ItemKind.ARTICLE
    assert first.category == "news" and first.subcategory == "newspolitics"
    assert first.title.startswith("New Florida Majority celebrates grand opening")
    assert first.body.startswith("As music blasted through the Fort Lauderdale plaza")
    assert first.attributes == {"url": "https://assets.msn.com/labs/mind/AAJte4f.html"}
    assert first.provider == "MIND"


def test_mind_first_impression_line(shared_path: SharedPath) -> None:
    path = shared_path(f"{MIND}/behaviors.tsv.gz")
    imp = next(mind.read_impressions(path))
    assert (imp.id, imp.user_id) == ("58376", "U81994")
    assert imp.timestamp == datetime(2019, 11, 12, 14, 14, 46, tzinfo=UTC)
    assert len(imp.item_ids) == 17 and len(imp.history) == 97
    assert imp.item_ids[:3] == ("N43266", "N58363", "N6975")
    assert [i for i, c in enumerate(imp.clicked) if c] == [2, 5]

    events = mind.impression_events(imp)
    shown = [e for e in events if e.type is EventType.IMPRESSION]
    assert [e.position for e in shown] == list(range(17))
    assert [e.item_id for e in shown] == list(imp.item_ids)
    assert {e.impression_id for e in shown} == {"58376"}
    assert all(e.propensity is None and e.timestamp == imp.timestamp for e in shown)
    clicks = [e for e in events if e.type is EventType.CLICK and e.impression_id is not None]
    assert [(e.item_id, e.position) for e in clicks] == [("N6975", 2), ("N20678", 5)]
    history = [e for e in events if e.impression_id is None]
    assert len(history) == len(set(imp.history))  # repeats within a line stored once
    assert all(e.type is EventType.CLICK and e.position is None for e in history)
    assert all(e.timestamp == imp.timestamp - timedelta(seconds=1) for e in history)
    assert all(e.id == mind.history_event_id("U81994", e.item_id) for e in history)


def test_mind_history_ids_repeat_across_a_users_lines(shared_path: SharedPath) -> None:
    path = shared_path(f"{MIND}/behaviors.tsv.gz")
    lines = [imp for imp in mind.read_impressions(path) if imp.user_id == "U86946"]
    assert len(lines) == 4
    id_sets = [
        {e.id for e in mind.impression_events(imp) if e.impression_id is None} for imp in lines
    ]
    assert all(ids == id_sets[0] for ids in id_sets) and len(id_sets[0]) > 0
    noon = next(imp for imp in lines if imp.id == "64001")
    assert noon.timestamp == datetime(2019, 11, 14, 12, 24, 54, tzinfo=UTC)  # 12 PM is noon


@pytest.mark.slow
def test_mind_behaviors_event_counts(shared_path: SharedPath) -> None:
    events = list(mind.read_behaviors(shared_path(f"{MIND}/behaviors.tsv.gz")))
    distinct = {e.id: e for e in events}
    by_kind = {
        "impression": sum(e.type is EventType.IMPRESSION for e in distinct.values()),
        "click": sum(e.impression_id is not None and e.type is EventType.CLICK for e in events),
        "history": sum(e.impression_id is None for e in distinct.values()),
    }
    assert by_kind == {"impression": 189_359, "click": 7_542, "history": 136_952}
    assert len(distinct) == 333_853


def test_nemig_news_with_empty_fields(shared_path: SharedPath) -> None:
    items = list(mind.read_news(shared_path(f"{NEMIG}/news.tsv.gz"), provider="NeMig"))
    assert len(items) == 10_814
    first = items[0]
    assert first.id == "news_0"
    assert first.title == "Texas Gov. Greg Abbott tours southern border"
    assert (first.category, first.subcategory, first.provider) == ("", "", "NeMig")
    assert first.attributes == {}


def test_nemig_behaviors_get_order_preserving_surrogate_times(shared_path: SharedPath) -> None:
    imps = list(mind.read_impressions(shared_path(f"{NEMIG}/behaviors.tsv.gz")))
    assert len(imps) == 15_000
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert [imp.timestamp for imp in imps[:3]] == [epoch + timedelta(seconds=s) for s in (1, 2, 3)]
    assert all(a.timestamp < b.timestamp for a, b in pairwise(imps))
    first = imps[0]
    assert (first.id, first.user_id) == ("10725", "U3527")
    assert first.history[:2] == ("news_2499", "news_5074")
    assert first.item_ids[-1] == "news_5432"  # CRLF line end stripped from the last label
    assert first.clicked == (False, False, False, False, False, True)
    history = [e for e in mind.impression_events(first) if e.impression_id is None]
    assert {e.timestamp for e in history} == {epoch}


def test_unlabelled_test_set_line(write: Writer) -> None:
    path = write("behaviors.tsv", "7\tU1\t1/2/2020 12:05:00 AM\t\tN1 N2 N3\n")
    imp = next(mind.read_impressions(path))
    assert imp.clicked == () and imp.history == ()
    assert imp.timestamp == datetime(2020, 1, 2, 0, 5, tzinfo=UTC)  # 12 AM is midnight
    events = list(mind.read_behaviors(path))
    assert [e.type for e in events] == [EventType.IMPRESSION] * 3
    assert [e.position for e in events] == [0, 1, 2]


def test_plain_and_gzip_read_the_same(write: Writer) -> None:
    text = "N1\tnews\tworld\tTitle\tAbstract\t\t[]\t[]\r\nN2\tsports\tgolf\tT2\t\t\t[]\t[]\n"
    plain = list(mind.read_news(write("news.tsv", text)))
    zipped = list(mind.read_news(write("news.tsv.gz", text)))
    assert plain == zipped and [i.id for i in plain] == ["N1", "N2"]
    assert plain[0].attributes == {} and plain[1].body == ""


GOOD = "1\tU1\t11/12/2019 2:14:46 PM\tN9\tN1-1 N2-0"
BAD_BEHAVIORS = [
    ("1\tU1\t11/12/2019 2:14:46 PM\tN1-1", None, "expected 5 tab-separated columns"),
    ("1\tU1\t2019-11-12 14:14:46\t\tN1-1", "time", "not a MIND time"),
    ("1\tU1\t11/12/2019 13:14:46 PM\t\tN1-1", "time", "not a MIND time"),
    ("1\tU1\t11/31/2019 1:14:46 PM\t\tN1-1", "time", "not a MIND time"),
    ("1\tU1\t11/12/2019 2:14:46 PM\t\tN1-2", "impressions", "bad candidate 'N1-2'"),
    ("1\tU1\t11/12/2019 2:14:46 PM\t\tN1-1 N2", "impressions", "mixes labelled"),
    ("1\tU1\t11/12/2019 2:14:46 PM\t\t", "impressions", "no candidates"),
    ("1\t\t11/12/2019 2:14:46 PM\t\tN1-1", "user_id", "empty id"),
]


@pytest.mark.parametrize(("bad", "field", "message"), BAD_BEHAVIORS)
def test_bad_behaviors_line_names_file_and_line(
    write: Writer, bad: str, field: str | None, message: str
) -> None:
    path = write("behaviors.tsv.gz", f"{GOOD}\n{GOOD}\n{bad}\n{GOOD}\n")
    with pytest.raises(InvalidInput) as info:
        list(mind.read_behaviors(path))
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), 3, field)
    assert str(err).startswith(f"{path}:3: ") and message in str(err)


def test_bad_news_column_count(write: Writer) -> None:
    path = write("news.tsv", "N1\tnews\tworld\tTitle\tAbstract\t\t[]\t[]\nN2\tnews\tTitle only\n")
    reader = mind.read_news(path)
    assert next(reader).id == "N1"  # streamed: good lines come out before the bad one is read
    with pytest.raises(InvalidInput, match=r"news\.tsv:2: expected 8 tab-separated columns, got 3"):
        next(reader)


def test_truncated_gzip_is_invalid_input(write: Writer, tmp_path: Path) -> None:
    full = write("full.tsv.gz", (GOOD + "\n") * 2000).read_bytes()
    cut = tmp_path / "behaviors.tsv.gz"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(InvalidInput, match="damaged/truncated gzip") as info:
        list(islice(mind.read_impressions(cut), 5000))
    assert info.value.source == str(cut) and info.value.line is not None

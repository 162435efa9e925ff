"""Numbers written in other ways (session 29b): decades ("'90s"), times ("5.30pm", "17:30"),
E notation ("1e6"), fiscal years ("FY19"), two-digit years ("19年3月") and Chinese days of the
week ("周三", no 3); and the source's readings kept for the next candidate."""

from __future__ import annotations

import pytest

from feedcraft.llm import numerals, units
from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import largest_quantity, read_powers, source_numbers


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("In the '90s.", "In the 1990s."),
        ("In the 1990s.", "In the '90s."),
        ("In the 70s.", "In the 1970s."),
        ("At 5.30pm.", "At 5:30 p.m."),
        ("At 5:30 p.m.", "At 5.30pm."),
        ("At 17:30.", "At 5:30 pm."),
        ("At 5:30 pm.", "At 17:30."),
        ("At 17:00.", "At 5 pm."),
        ("It has 1e6 cells.", "It has 1 million cells."),
        ("It has 2.5E-3 grams.", "It has 0.0025 grams."),
        ("FY19 profit rose.", "FY2019 profit rose."),
        ("FY2019 profit rose.", "FY 19 profit rose."),
        ("19年3月投票", "2019年3月投票"),
        ("周三投票", "They voted on Wednesday."),
        ("星期三投票", "They voted on Wednesday."),
        ("每周三次", "每周三次"),  # three times a week: a number
    ],
)
def test_other_spellings_pass(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("At 17:30.", "At 5:30 am."),
        ("At 18:30.", "At 5:30 pm."),
        ("It has 1e7 cells.", "It has 1 million cells."),
        ("FY18 profit rose.", "FY2019 profit rose."),
        ("18年3月投票", "2019年3月投票"),
        ("3人投票", "他们周三投票"),  # Wednesday licenses no 3 (was a pass)
        ("每周3次", "他们周三投票"),
    ],
)
def test_other_spellings_of_other_numbers_fail(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


def test_e_notation_is_read_only_as_a_number() -> None:
    assert read_powers("1e6 and 2.5E-3") == "1000000 and 0.0025"
    assert read_powers("a Galaxy S10e, code 0x1e6, 3e") == "a Galaxy S10e, code 0x1e6, 3e"


def test_the_sources_readings_are_kept_for_the_next_candidate() -> None:
    source = "A source read once for several candidates: 12 people, 5 km, in 2019."
    numerals._source_numbers.cache_clear()
    units._source_units.cache_clear()
    for output in ("12 people.", "5 km.", "In 2019."):
        assert check_numbers(output, source).passed
    assert numerals._source_numbers.cache_info().hits >= 2
    assert units._source_units.cache_info().hits == 2
    assert largest_quantity(source) == 12
    source_numbers(source).add("99")  # a copy: the cached set stays as it was
    assert "99" not in source_numbers(source)

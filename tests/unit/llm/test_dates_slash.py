"""Dates with slashes in an output, read either way, and Chinese words with a month inside.

"3/5" is 5 March to an American reader and 3 May to a British, European or Chinese one, so
an output's "a/b" passes when either reading is a date the source gives ("13/5" has only
one). Words such as 五月天 (the band Mayday) hold a numeral and 月 but name no month: they
neither give nor need one.
"""

from __future__ import annotations

import pytest

from feedcraft.llm.entities import Vocabulary
from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import output_dates, source_dates


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The fair opened on 3/5.", "The fair opened on 3 May."),  # day first
        ("The fair opened on 3/5.", "The fair opened on March 5."),  # month first
        ("The fair opened on 5/3.", "The fair opened on 3 May."),
        ("The fair opened on 3/5/2019.", "The fair opened on 3 May 2019."),
        ("The fair opened on 3/5/19.", "The fair opened on 3 May 2019."),
        ("The fair opened on 3.5.2019.", "The fair opened on 3 May 2019."),
        ("The fair opened on 03/05/2019.", "The fair opened on 2019-05-03."),
        ("The fair opened on 13/5.", "The fair opened on 13 May."),
        ("The fair opened on 5/13.", "The fair opened on 13 May."),
        ("The fair opened on 3/5.", "展会于5月3日开幕。"),
        ("The fair opened on 3/5.", "The fair opened on 3/5."),
    ],
)
def test_a_slash_date_passes_for_either_reading_the_source_gives(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The fair opened on 3/5.", "The fair opened on 4 May."),
        ("The fair opened on 3/5.", "The fair opened on April 5."),
        ("The fair opened on 3/5/2019.", "The fair opened on 3 May 2018."),
        ("The fair opened on 13/5.", "The fair opened on May 12."),
        ("The fair opened on 13/5.", "The fair opened on 5 March."),  # 13/5 has one reading
        ("The fair opened on 3/5.", "The fair opened in May."),  # a month gives no day
    ],
)
def test_a_slash_date_the_source_does_not_give_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


def test_a_source_date_licenses_both_slash_spellings() -> None:
    dates = source_dates("The fair opened on 3 May 2019.")
    assert {"5/3", "3/5", "5/3/2019", "3/5/2019"} <= dates
    # a day above 12 is read one way only, whichever comes first
    assert {"5/13", "13/5"} <= source_dates("The fair opened on 13 May.")
    assert "13/5" not in source_dates("The fair opened on 5 March.")


@pytest.mark.parametrize(
    "output",
    ["About 3/5 of voters agreed.", "The team won 3/1 on Sunday.", "The fair opened on 3/5."],
)
def test_a_slash_pair_is_read_as_before(output: str) -> None:
    """Fractions and scores are read as they were (a slash pair of numbers that may be a date
    is one): the same text licenses them, other numbers do not."""
    assert output_dates(output)[0]
    assert check_numbers(output, output).passed
    assert not check_numbers(output, "Nothing was counted on 8 June.").passed


def test_numbers_that_are_no_date_stay_numbers() -> None:
    assert output_dates("The road I-35/80 closed.")[0] == set()
    assert output_dates("It grew 4-7 per cent, or 3.5.")[0] == set()
    assert output_dates("It was rated 4/5.")[0] == {"4/5"}


@pytest.mark.parametrize(
    "text",
    [
        "五月天在台北举行演唱会。",  # the band Mayday
        "五月天樂團發行新專輯。",
        "五月花号的乘客登陆。",  # the Mayflower
        "她十月怀胎生下女儿。",  # ten months' pregnancy
    ],
)
def test_a_word_with_a_month_inside_gives_no_month(text: str) -> None:
    assert output_dates(text)[0] == set()
    assert source_dates(text) == set()
    assert Vocabulary(text).months == set()


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("五月天在台北开唱。", "乐队五月天在台北举行演唱会。"),
        ("五月天在台北开唱。", "The band Mayday played in Taipei."),  # was: no May in the source
        ("五月天开唱", "Mayday played in Taipei on 3 June."),
    ],
)
def test_the_band_needs_no_month_nor_number(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("演唱会5月举行。", "五月天在台北举行演唱会。"),  # was a pass: the band's "May"
        ("演唱会五月举行。", "五月天在台北举行演唱会。"),
        ("5人到场。", "五月天在台北举行演唱会。"),
    ],
)
def test_the_band_licenses_no_month_nor_number(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("五月天气转暖。", "--05"),  # May weather
        ("五月花开满山。", "--05"),  # flowers open in May
        ("他们五月投票。", "--05"),
        ("十月革命", "--10"),
    ],
)
def test_a_month_next_to_such_a_word_is_still_a_month(text: str, month: str) -> None:
    assert month in output_dates(text)[0]

"""Dates in the numbers check (session 29b): a month with a day licenses no bare number, dates
written with slashes ("9/11"), short ranges of years ("2019-20"), ranges of days with the
month last ("4 to 7 March", "3月5日至7日") and "N日" that is no day ("3日游")."""

from __future__ import annotations

import pytest

from feedcraft.llm.dates import blank_months, dates_in, expand_years
from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import source_numbers


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("11人死亡。", "展会将于11月13日开幕。"),  # the month of a date with a day (was a pass)
        ("3 people came.", "It opened on 2019-03-05."),
        ("3 people came.", "It opened on 03/05/2019."),
        ("3 people came.", "It opened on 3/5."),
        ("11 people came.", "The 9/11 memorial opened."),  # 11 may be the month
        ("It opened on 3/6.", "It opened on March 5 with 3 and 7 guests."),
        ("It opened on 13/3.", "It opened on March 14."),
    ],
)
def test_a_month_with_a_day_licenses_no_bare_number(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The 9/11 memorial opened.", "纪念馆于9月11日开放。"),
        ("The 9/11 memorial opened.", "It opened on September 11."),
        ("The 9/11 memorial opened.", "The 9/11 memorial opened."),
        ("9·11事件", "纪念9月11日的袭击。"),
        ("It opened on 3/5/2019.", "It opened on March 5, 2019."),
        ("It opened on 03/05/19.", "It opened on 5 March 2019."),
        ("News for 11-15-19", "News for 11-15-19"),
        ("It opened on 3.5.2019.", "It opened on 2019-03-05."),
        ("It opened on 13/3.", "It opened on March 13."),  # day first: 13 is no month
        ("It was rated 4/5.", "Critics gave it 4 stars of 5."),  # read as numbers, as before
        ("About 3 1/2 hours.", "It took 3 1/2 hours."),
        ("They open 24/7.", "They open 24/7."),
        ("It happened on the 13th.", "It happened on 11/13."),  # a day still licenses
        ("In 2019, 13 people came.", "On 11/13/2019 13 people came."),
    ],
)
def test_a_date_with_slashes_passes_for_the_same_date(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


def test_only_the_numbers_that_may_be_the_month_are_blanked() -> None:
    assert blank_months("on 11月13日") == "on   月13日"
    assert blank_months("on 2019-03-05") == "on 2019-  -05"
    assert blank_months("on 9/11 and 13/3") == "on  /   and 13/ "  # 11 may be the month
    assert blank_months("3.5 and 4-7 and 1/2") == "3.5 and 4-7 and 1/2"  # numbers


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The 2019-20 season began.", "The 2019-2020 season began."),
        ("The 2019-2020 season began.", "The 2019-20 season began."),
        ("The 2019–20 season began.", "The 2019/20 season began."),
        ("He served 2005-09.", "He served from 2005 to 2009."),
        ("He won in 2010-12.", "He won in 2010 and 2012."),
        ("The 1999-00 season.", "The 1999-2000 season."),
        ("2019-20赛季开始。", "2019-2020赛季开始。"),
        ("The vote was in 2019-03.", "The vote was in March 2019."),  # still a month
    ],
)
def test_a_short_range_of_years_passes_for_its_years(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


def test_a_short_range_of_years_must_end_in_the_sources_year() -> None:
    assert not check_numbers("He served 2005-09.", "He served from 2005 to 2008.").passed
    assert expand_years("2019-20, 2010-11, 2019-03, 2005-09-01") == (
        "2019-2020, 2010-2011, 2019-03, 2005-09-01"
    )
    assert "2020" in source_numbers("The 2019-20 season.")


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The fair runs March 4-7.", "The fair runs from 4 to 7 March."),
        ("The votes are on March 5 and 7.", "The votes are on 5 and 7 March."),
        ("展会3月7日结束。", "展会3月5日至7日举行。"),
        ("The fair ends March 7.", "展会3月5日至7日举行。"),
        ("展会3月6日举行。", "展会3月5日、6日和7日举行。"),
        ("展会3月7日结束。", "展会3月5-7日举行。"),
    ],
)
def test_a_range_of_days_gives_each_day(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


def test_a_range_of_days_gives_no_other_day() -> None:
    assert not check_numbers("展会3月8日结束。", "展会3月5日至7日举行。").passed
    assert "--04-02" in dates_in("3月5日至4月2日")
    assert "--03-04" not in dates_in("3月5日至4月2日")


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("北京3日游", "北京三日游"),
        ("为期3日的会议", "为期三天的会议"),
        ("有5日本游客", "有五名日本游客"),
        ("日均3日均值", "三日均值"),
        ("他们本月3日投票。", "他们本月三日投票。"),  # a day in Chinese numerals
    ],
)
def test_n_ri_that_is_no_day_is_a_number(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


def test_a_real_day_is_still_a_day() -> None:
    assert not check_numbers("他们5日投票。", "They voted on March 6 with 5 parties.").passed
    assert not check_numbers("本月5日投票。", "They voted on March 6 with 5 parties.").passed
    assert check_numbers("他们5日投票。", "They voted on March 5.").passed

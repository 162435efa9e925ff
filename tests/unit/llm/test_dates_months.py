"""Months and year-months in the numbers check: compared as dates with the source's dates, in
any language and format, and never as the bare numbers they are written with."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import output_dates, source_numbers, unscaled_numbers


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("他们三月投票。", "They voted in March."),
        ("他们三月投票。", "They voted in March 2019."),
        ("他们2019年三月投票。", "They voted in March 2019."),
        ("他们二〇一九年三月投票。", "They voted in March 2019."),
        ("他们三月投票。", "The vote was on 2019-03-05."),
        ("他们十二月投票。", "They voted in December."),
        ("他们3月投票。", "They voted last March."),
        ("他们三月五日投票。", "They voted on March 5."),
        ("他们5日投票。", "They voted on March 5."),
        ("他们5日投票。", "They voted on the 5th."),
    ],
)
def test_a_chinese_month_passes_for_the_same_month_in_english(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("他们三月投票。", "They voted in May 2019 with 3 parties."),  # was a pass: the 3
        ("他们五月投票。", "They voted in March."),
        ("他们三月五日投票。", "They voted on March 6 with 5 parties."),  # was a pass
        ("他们5日投票。", "They voted on March 6 with 5 parties."),  # was a pass
        ("3人投票。", "他们三月投票。"),  # a month licenses no count (was a pass)
        ("3 people voted.", "投票在3月举行。"),  # nor in digits (was a pass)
    ],
)
def test_a_chinese_month_is_no_bare_number(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


def test_a_source_month_licenses_no_bare_number() -> None:
    assert "3" not in source_numbers("他们三月投票。")
    assert "3" not in source_numbers("投票在3月举行。")
    assert "3" not in source_numbers("It was filed as 2019-03.")
    # A month with a day neither; an output's "9/11" is read as a date and passes.
    assert "11" not in source_numbers("展会将于11月13日开幕。")
    assert check_numbers("The 9/11 museum opened.", "国家9月11日纪念馆开幕。").passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote was in 2019-03.", "The vote was in March 2019."),
        ("The vote was in 2019-03.", "投票在2019年3月举行。"),
        ("The vote was in 2019-03.", "The vote was on March 5, 2019."),  # a day in that month
        ("The vote was in 2019-03.", "The vote, in 2019, was in March."),
        ("The vote was in March 2019.", "It was filed as 2019-03."),
        ("投票在2019年3月举行。", "It was filed as 2019-03."),
    ],
)
def test_a_year_month_passes_for_the_same_month(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote was in 2019-03.", "The vote was in April 2019 with 3 parties."),  # was a pass
        ("The vote was in 2019-04.", "The vote was in March 2019; 4 parties ran."),  # was a pass
        ("The vote was in 2018-03.", "The vote was in March 2019; 2018 was calm."),
    ],
)
def test_a_year_month_of_another_month_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("The 2019-20 season began.", {"2019", "2020"}),  # the range's years, spelled whole
        ("The 2010-11 season began.", {"2010", "2011"}),  # a season, though 11 is a month
        ("It grew in 2009-12.", {"2009", "2012"}),  # 2009 to 2012
        ("A 3-2 win.", {"3", "2"}),
        ("From 2010-2015.", {"2010", "2015"}),
    ],
)
def test_seasons_scores_and_ranges_are_no_year_months(text: str, numbers: set[str]) -> None:
    assert unscaled_numbers(text) == numbers
    assert check_numbers(text, text).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote was on March 5.", "The vote was on the 5th of May."),
        ("The vote was on March 5.", "The vote was held 5 days late."),
        ("The vote was in March.", "The vote was in May."),  # was a pass
        ("The vote on March 5 drew crowds.", "The vote on May 5 drew crowds."),  # was a pass
        ("The vote on 5 March drew crowds.", "The vote on 5 May drew crowds."),  # was a pass
        ("On March 5 they voted.", "On May 5 they voted."),  # was a pass
        ("The vote in March 2019 drew crowds.", "The vote in May 2019 drew crowds."),  # was
        ("Last March, 5 people voted.", "Last May, 5 people voted."),  # was a pass
        ("Since March, prices rose.", "Since May, prices rose."),  # was a pass
        ("The vote on March 5 drew crowds.", "The vote in March drew 5 crowds."),  # was a pass
        ("The April 5 rally drew crowds.", "The rally drew 5 crowds in May."),  # was a pass
        ("Prices rose in mid-March.", "Prices rose in May."),  # was a pass
    ],
)
def test_an_english_month_must_be_the_sources_month(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote was in March.", "The vote was on March 5, 2019."),
        ("The vote was in March.", "投票在3月举行。"),
        ("The vote was in March.", "The vote was on 2019-03-05."),
        ("The vote on March 5 drew crowds.", "The vote, on 5 March, drew crowds."),
        ("The vote in March 2019 drew crowds.", "The vote on 2019-03-05 drew crowds."),
        ("Last May, 5 people voted.", "In May, five people voted."),
        ("The talks ran until March 7.", "The talks ran March 4-7."),
        ("In May 5 people were hired.", "Five people were hired in May."),
    ],
)
def test_an_english_month_of_the_source_passes(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    "text",
    [
        "Theresa May said 5 things.",
        "Theresa May's 5 ministers.",
        "They march on 5 roads.",
        "Workers March 10 Miles to City Hall.",
        "Injuries Mar 5 Games.",
        "Fans in March Madness pools.",
        "Protests in May's cabinet grew.",
        "The March on Washington.",
        "Top 10 May releases.",
    ],
)
def test_month_words_that_are_no_months_give_no_date(text: str) -> None:
    assert output_dates(text)[0] == set()
    assert check_numbers(text, text.replace("May", "Smith").replace("March", "walk")).passed

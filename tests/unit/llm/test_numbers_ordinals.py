"""Ordinals, fractions and footnote marks in the numbers check: "the fourth time" needs a 4 in
the source, "a third of" the fraction 1/3, and "2010¹" is the year 2010 with a footnote."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import numbers_in, ordinal_numbers, source_numbers


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("It was the fourth time this year.", "It was the second time this year."),
        ("It was the fourth time this year.", "It happened three times this year."),
        ("The fifth suspect was arrested.", "Police arrested a sixth suspect."),
        ("Sales fell in the third quarter.", "Sales fell in the fourth quarter."),
        ("The club won a tenth title.", "The club won its 9th title."),
        ("The twenty-third edition opened.", "The 22nd edition opened."),
        ("The 103rd edition opened.", "The one hundred and second edition opened."),
        ("It marked the hundredth day.", "It marked day 99."),
        ("He finished Third overall.", "He finished fourth overall."),
    ],
)
def test_an_invented_ordinal_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("It was the fourth time this year.", "It was the 4th time this year."),
        ("It was the 4th time this year.", "It was the fourth time this year."),
        ("It was the fourth time this year.", "It happened four times this year."),
        ("It is the third-largest city.", "It is the 3rd largest city."),
        ("Growth in the twenty-first century.", "Growth in the 21st century."),
        ("Growth in the 21st century.", "Growth in the twenty-first century."),
        ("The twenty-first edition opened.", "The 21st edition opened."),
        ("The one hundred and first edition opened.", "The 101st edition opened."),
        ("It marked the hundredth day.", "It marked the 100th day."),
        ("The fifth and sixth games are at home.", "Games 5 and 6 are at home."),
        ("Five third-graders won.", "Five pupils in 3rd grade won."),
        # "first" and "second" stay unchecked: an adverb, a unit of time, a verb.
        ("First, the council voted.", "The council voted on the plan."),
        ("Wait a second, he said.", "He asked them to wait."),
        ("Third-party sellers joined the site.", "Outside sellers joined the site."),
    ],
)
def test_an_ordinal_is_licensed_by_its_number_in_any_form(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("A third of voters agreed.", "One in three voters agreed."),
        ("A third of voters agreed.", "33% of voters agreed."),
        ("A third of voters agreed.", "About 33.3 percent of voters agreed."),
        ("A third of voters agreed.", "One-third of voters agreed."),
        ("One-third of voters agreed.", "A third of voters agreed."),
        ("Two-thirds of voters agreed.", "67% of voters agreed."),
        ("Two thirds of voters agreed.", "Two in three voters agreed."),
        ("Prices rose by a fifth.", "Prices rose 20 per cent."),
        ("A tenth of the stock was sold.", "One tenth of the stock was sold."),
    ],
)
def test_a_fraction_is_licensed_by_the_same_share(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("A third of voters agreed.", "A fifth of voters agreed."),
        ("A third of voters agreed.", "25% of voters agreed."),
        ("A third of voters agreed.", "It was the third vote; most agreed."),
        ("Two-thirds of voters agreed.", "One in three voters agreed."),
        ("Three-fifths of voters agreed.", "Three in four voters agreed."),
    ],
)
def test_an_invented_fraction_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


def test_ordinals_are_read_with_their_value_and_whether_they_are_checked() -> None:
    found = {(w, str(v), checked) for w, v, checked in ordinal_numbers("the first and fifth")}
    assert found == {("first", "1", False), ("fifth", "5", True)}
    assert [str(v) for _, v, _ in ordinal_numbers("the twenty-first and 3rd")] == ["21"]
    assert "100" in source_numbers("It marked the hundredth day.")


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("第十届大会开幕。", "第九届大会开幕。"),
        ("第五场比赛在主场举行。", "第四场比赛在主场举行。"),
        ("他获得第三名。", "他获得第二名。"),
    ],
)
def test_an_invented_chinese_ordinal_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("第十届大会开幕。", "第10届大会开幕。"),
        ("第2届大会开幕。", "第二届大会开幕。"),
        ("第二届大会开幕。", "The 2nd congress opened."),
        ("第三场比赛", "The third game was played at home."),
        ("他获得第一名。", "他获胜。"),  # 第一 unchecked, like "first"
        ("第三方卖家加入。", "外部卖家加入。"),  # third party: no number
        ("第二天他离开了。", "次日他离开了。"),  # the next day
    ],
)
def test_a_chinese_ordinal_is_licensed_like_an_english_one(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("founded in 2010¹", {"2010"}),
        ("founded in 2010.²", {"2010"}),
        ("Smith¹ said", set()),
        ("5 km² and 3 m³", {"5", "3"}),
        ("10⁶ cells", {"1000000"}),
        # bracketed reference marks after a word or punctuation, as Wikipedia writes them
        ("founded in 2010.[1]", {"2010"}),
        ("Smith[2] said", set()),
        ("it grew[3][4] fast", set()),
        ("as reported[1–3]", set()),
        ("增长了5倍。[1]", {"5"}),
        ("see table [12]", {"12"}),  # after a space: a number in brackets, read
    ],
)
def test_a_footnote_mark_does_not_glue_onto_a_number(text: str, expected: set[str]) -> None:
    assert numbers_in(text) == expected


@pytest.mark.parametrize(
    ("output", "source", "passes"),
    [
        ("The town was founded in 2010.", "The town was founded in 2010¹.", True),
        ("The town was founded in 2010¹.", "The town was founded in 2010.", True),
        ("It was founded in 2010.¹", "It was founded in 2010.", True),
        ("Smith¹ said 5 things.", "Smith said 5 things.", True),
        ("Three¹ people were hurt.", "Five people were hurt.", False),
        ("The town was founded in 2011.", "The town was founded in 2010¹.", False),
        ("1 person was hurt.", "The town was founded in 2010¹.", False),
        ("The park covers 5 km².", "The park covers 5 square kilometres.", True),
        ("It was founded in 2010.[1]", "It was founded in 2010.", True),
        ("Smith said 5 things.[2]", "Smith said 5 things.", True),
        ("2 people were hurt.", "Two were named.[2]", True),  # "two" licenses 2
        ("7 people were hurt.", "Five people were hurt.[7]", False),  # a mark licenses nothing
    ],
)
def test_footnote_marks_in_output_and_source(output: str, source: str, passes: bool) -> None:
    assert check_numbers(output, source).passed is passes

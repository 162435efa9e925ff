"""Shares given in another form than the source's: "one in three" for "33%", "三分之一" for
"百分之三十三". Read as their numbers, the output's "one in three" needed a 1 and a 3 in the
source and failed a faithful summary; a share the source does not give still fails."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import source_numbers

FAITHFUL = [
    ("One in three voters backed the plan.", "About 33% of voters backed the plan."),
    ("1 in 3 voters backed the plan.", "About 33% of voters backed the plan."),
    ("33% of voters backed the plan.", "One in three voters backed the plan."),
    ("33.3% of voters backed the plan.", "A third of voters backed the plan."),
    ("Some 67 per cent backed it.", "Two-thirds of voters backed the plan."),
    ("Half of them, 50%, agreed.", "One in two of them agreed."),
    ("三分之一的选民支持该计划。", "约百分之三十三的选民支持该计划。"),
    ("三分之一的选民支持该计划。", "33%的选民支持该计划。"),
    ("百分之三十三的选民支持该计划。", "三分之一的选民支持该计划。"),
    ("33%的选民支持该计划。", "三分之一的选民支持该计划。"),
    ("A third of voters backed the plan.", "三分之一的选民支持该计划。"),
    ("百分之三十三点三的选民支持。", "三分之一的选民支持该计划。"),
    # tenths: 三成 is 30%, 九成五 95%
    ("三成居民支持该计划。", "30%的居民支持该计划。"),
    ("30%的居民支持该计划。", "近三成居民支持该计划。"),
    ("九成五的用户表示满意。", "95%的用户表示满意。"),
    ("六成三的用户表示满意。", "63%的用户表示满意。"),
    ("七成五的用户表示满意。", "百分之七十五的用户表示满意。"),
    ("十分之三的居民支持。", "三成居民支持该计划。"),
    ("Three in ten residents back the plan.", "三成居民支持该计划。"),
    ("四成人口居住在城市。", "40%的人口居住在城市。"),
    ("两成受访者反对。", "20%的受访者反对。"),
]

UNFAITHFUL = [
    ("One in four voters backed the plan.", "One in three voters backed the plan."),
    ("One in three voters backed the plan.", "About 45% of voters backed the plan."),
    ("45% of voters backed the plan.", "One in three voters backed the plan."),
    ("四分之一的选民支持该计划。", "三分之一的选民支持该计划。"),
    ("百分之四十的选民支持该计划。", "三分之一的选民支持该计划。"),
    # a percentage licenses the shares it rounds, not other percentages near it
    ("35% of voters backed the plan.", "33% of voters backed the plan."),
    ("33% of voters backed the plan.", "35% of voters backed the plan."),
    # a percentage licenses no count: "33 voters" is no share
    ("33 voters backed the plan.", "One in three voters backed the plan."),
    ("四成居民支持该计划。", "30%的居民支持该计划。"),
    ("40%的居民支持该计划。", "三成居民支持该计划。"),
    ("九成的用户表示满意。", "95%的用户表示满意。"),
]


@pytest.mark.parametrize(("output", "source"), FAITHFUL)
def test_a_share_given_in_another_form_passes(output: str, source: str) -> None:
    assert check_numbers(output, source).passed


@pytest.mark.parametrize(("output", "source"), UNFAITHFUL)
def test_another_share_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


def test_chinese_fractions_and_percentages_are_shares_in_a_source() -> None:
    assert {"share 1/3", "percent 33", "percent 33.3"} <= source_numbers("三分之一的人")
    assert {"share 1/3"} <= source_numbers("百分之三十三的人")
    assert "share 1/30" in source_numbers("三十分之一的人")  # not 1/3 of 十
    assert "share 1/3" not in source_numbers("三十分之一的人")


def test_only_exact_shares_give_percentages() -> None:
    """ "34%" licenses "a third" (a writer rounds), not "33%": that would be a new number."""
    numbers = source_numbers("34% of voters")
    assert "share 1/3" in numbers
    assert not {n for n in numbers if n.startswith("percent ")}


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("近三成居民支持", "share 3/10"),
        ("九成五的用户", "share 19/20"),
        ("十成把握", "share 1/1"),
        ("逾四成人口", "share 2/5"),
    ],
)
def test_chinese_tenths_are_shares_in_a_source(text: str, share: str) -> None:
    assert share in source_numbers(text)


@pytest.mark.parametrize(
    "text",
    [
        "他星期六成功返回",  # Saturday, then 成功 (success)
        "三成员出席",  # three members
        "情况一成不变",  # an idiom: unchanged
        "公司二十成立",  # not 十成 inside a numeral
        "他们分成两组",  # 成 after a verb, no numeral
    ],
)
def test_other_words_with_cheng_are_no_shares(text: str) -> None:
    assert not {n for n in source_numbers(text) if n.startswith("share ")}

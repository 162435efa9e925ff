"""The numbers check on scales, very large numbers, spoken Chinese forms and long inputs."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Generator
from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import expand_scales, round_half_up, zh_value
from feedcraft.llm.tasks import SummaryRequest

REVENUE = "The merged company will have $55 billion in annual revenue."


@pytest.mark.parametrize(
    "output",
    [
        "The company will have $55m in revenue.",
        "The company will have $55M in revenue.",
        "The company will have $55K in revenue.",
        "The company will have $55 trillion in revenue.",
        "The company will have $55tn in revenue.",
        "The company will have €55k in revenue.",
    ],
)
def test_a_scale_suffix_changes_the_number(output: str) -> None:
    result = check_numbers(output, REVENUE)
    assert not result.passed and "55" in result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The company will have $55bn in revenue.", REVENUE),
        ("The company will have $55 billion in revenue.", "It will have $55bn in revenue."),
        ("The budget is $2.5 million.", "The budget is $2.5m."),
        ("The budget is 2.5 million dollars.", "The budget is US$2.5M."),
        ("The run is 5 m long.", "The run is 5 m long."),  # metres, not a million
    ],
)
def test_a_scale_suffix_read_as_its_word_passes(output: str, source: str) -> None:
    assert check_numbers(output, source).passed


def test_scale_suffixes_are_spelled_out_only_where_they_are_scales() -> None:
    assert expand_scales("$55m and 4bn and €3k") == "$55 million and 4 billion and €3 thousand"
    assert expand_scales("a 5 m rope, 5k run") == "a 5 m rope, 5k run"


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("About 3.5 million people voted.", "About 3,500,000 people voted."),
        ("约1.5万人参加。", "约15000人参加。"),
        ("It cost $1.5 billion.", "It cost $1,500 million."),
        ("Each engine gives 2.9 million newtons.", "Each engine gives 2,900,000 N."),
        ("It cost $3.5m.", "It cost 3,500,000 dollars."),
    ],
)
def test_a_number_with_a_scale_word_is_compared_by_value(output: str, source: str) -> None:
    assert check_numbers(output, source).passed


def test_a_scaled_number_of_another_value_still_fails() -> None:
    assert not check_numbers("About 3.6 million people voted.", "About 3,500,000 voted.").passed
    assert not check_numbers("约1.6万人参加。", "约15000人参加。").passed


@pytest.mark.parametrize(
    ("run", "value"),
    [("一万五", 15000), ("三百五", 350), ("两万五", 25000), ("一千二", 1200), ("一亿五", 150000000),
     ("一百零五", 105), ("二十万零五", 200005), ("三万五千", 35000), ("十五", 15)],
)  # fmt: skip
def test_spoken_chinese_short_forms(run: str, value: int) -> None:
    assert zh_value(None, run) == value


def test_spoken_chinese_short_forms_in_the_check() -> None:
    assert check_numbers("月薪一万五。", "月薪15000元。").passed
    assert not check_numbers("月薪一万五。", "月薪10005元。").passed
    assert check_numbers("门票三百五。", "门票350元。").passed


SUN = "The Sun has a mass of about 1,989,000,000,000,000,000,000,000,000,000 kg, astronomers said."


def test_numbers_past_28_digits_are_compared_exactly() -> None:
    assert round_half_up(Decimal("1" * 40 + ".5")) == Decimal("1" * 39 + "2")
    assert check_numbers(SUN, SUN).passed
    wrong = SUN.replace("000 kg", "001 kg")
    assert not check_numbers(wrong, SUN).passed


@pytest.mark.slow
def test_a_summary_of_a_huge_number_does_not_crash() -> None:
    result = Generator(None, HashingEncoder(256)).summary(SummaryRequest("Sun weighed", SUN))
    assert result.outputs


def test_a_run_of_yi_does_not_overflow() -> None:
    assert check_numbers("约" + "亿" * 130_000 + "人。", "约3人。") is not None
    assert check_numbers("一亿两千万人。", "120,000,000人。").passed


@pytest.mark.parametrize(
    "source",
    [
        "Compatible models: " + ",".join(str(1000 + i % 9000) for i in range(40_000)),
        "Serial: " + "7" * 200_000,
        "x" + " " * 200_000 + "三",
        "- a" + "\u00a0" * 200_000,
    ],
    ids=["number-list", "digits", "spaces", "no-break-spaces"],
)
def test_long_inputs_are_checked_in_linear_time(source: str) -> None:
    start = time.perf_counter()
    check_numbers("The filter fits model 1000.", source)
    check_numbers(source, "The filter fits model 1000.")
    assert time.perf_counter() - start < 5  # was minutes (quadratic or worse)


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Thousands marched through the city.", "About 300 people marched in 2004."),
        ("Thousands marched through the city.", "In 2004 about 300 people marched."),
        ("数千人参加了游行。", "约300人参加了游行。"),
        ("上万人参加了游行。", "约300人参加了游行。"),
        ("数百万人参加了游行。", "约300人参加了游行。"),
        ("十人死亡。", "三人死亡。"),
        ("千人死亡。", "三人死亡。"),
        ("A dozen people died.", "Five people died."),
        ("Dozens of people died.", "Five people died."),
    ],
)
def test_vague_and_lone_counts_are_checked(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Thousands marched through the city.", "About 3,000 people marched in 2004."),
        ("Thousands marched.", "2004 people marched."),  # a count, not a year
        ("数千人参加了游行。", "约2000人参加了游行。"),
        ("A dozen people died.", "12 people died."),
        ("Half a dozen people died.", "Six people died."),
        ("他说十分感谢。", "他表示感谢。"),  # 十分 is "very"
        ("About 12,000 people came.", "About 12 000 people came."),
        ("About 12\u00a0000 people came.", "About 12,000 people came."),
        ("About 12\u202f000 people came.", "About 12000 people came."),
        ("On May 5 300 people died.", "On May 5, 300 people died."),  # two numbers
    ],
)
def test_faithful_counts_pass(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


def test_a_huge_unknown_number_is_named_short() -> None:
    detail = check_numbers("It weighs " + "7" * 20000 + " kg.", "It weighs 5 kg.").detail
    assert len(detail) < 200 and "20000 characters" in detail

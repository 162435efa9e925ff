"""The numbers check on number formats: exponents in units ("km²"), dates ("2019-03-05") and
ISO currency codes ("CAD 20")."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import CURRENCY_CODES, source_numbers, unscaled_numbers
from feedcraft.llm.units import dimension, quantities_in


def pairs(text: str) -> list[tuple[str, str]]:
    return [(q.value, q.unit) for q in quantities_in(text)]


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The park covers 5 km².", "The park covers 5 square kilometres of forest."),
        ("The park covers 5 square kilometres.", "The park covers 5 km²."),
        ("The park covers 5 km2.", "The park covers 5 sq km."),
        ("The flat has 80 m² of floor.", "The flat has 80 square metres of floor."),
        ("The house has 900 ft².", "The house has 900 square feet."),
        ("The lake covers 3 mi².", "The lake covers 3 square miles."),
        ("The chip is 1 cm².", "The chip is one square centimetre."),
        ("The tank holds 5 m³.", "The tank holds 5 cubic metres."),
        ("The tank holds 5 cubic metres.", "The tank holds 5 m³."),
        ("The engine is 250 cm³.", "The engine is 250 cc."),
        ("The field is 7 km² and the pond 40 m².", "A 7 km² field and a 40 m² pond."),
        ("Flats cost €3,000/m².", "Flats cost €3,000 per square metre."),
        ("It falls at 9.8 m/s².", "It falls at 9.8 m/s²."),
        ("公园面积5平方公里。", "The park covers 5 km²."),
        ("水库容量为5立方米。", "The tank holds 5 m³."),
    ],
)
def test_an_exponent_after_a_unit_is_part_of_the_unit(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The park covers 5 km.", "The park covers 5 km²."),
        ("The park covers 5 km².", "The park covers 5 km."),
        ("The tank holds 5 m³.", "The tank holds 5 m²."),
        ("The tank holds 5 m³.", "The tank holds 5 litres."),
        ("The house has 900 ft².", "The house has 900 m²."),
        ("The park covers 6 km².", "The park covers 5 km²."),
    ],
)
def test_an_area_or_volume_is_not_another_unit(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    "output",
    ["CO2 levels rose.", "The G7 met.", "A 4G phone.", "The iPhone 11 sold.", "The M2 chip."],
)
def test_digits_in_names_are_still_checked(output: str) -> None:
    assert not check_numbers(output, "It happened.").passed
    assert check_numbers(output, output).passed


def test_exponents_are_no_numbers_and_give_their_units() -> None:
    assert unscaled_numbers("5 km², 80 m2 and 5 m³") == {"5", "80"}
    assert "2" not in source_numbers("A 5 km² park.")
    assert pairs("5 km², 5 m³, 900 sq ft, 5 cubic metres") == [
        ("5", "square kilometre"),
        ("5", "cubic metre"),
        ("900", "square foot"),
        ("5", "cubic metre"),
    ]


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote is on 2019-03-05.", "The vote is on March 5, 2019."),
        ("The vote is on 2019-03-05.", "The vote is on Tuesday, March 5th, 2019."),
        ("The vote is on 2019-03-05.", "The vote is on 5 March 2019."),
        ("The vote is on 2019-03-05.", "The vote is on Mar. 5, 2019."),
        ("The vote is on 2019-03-05.", "投票在2019年3月5日举行。"),
        ("The vote is on 2019-03-05.", "The vote, held in 2019, is on March 5."),
        ("The vote is on 2019-03-05.", "The vote is on 2019-03-05."),
        ("The vote is on 2019/03/05.", "The vote is on 2019-3-5."),
        ("The vote is on March 5, 2019.", "The vote is on 2019-03-05."),
        ("The vote is on 5 March 2019.", "The vote is on 2019-03-05."),
        ("投票在2019年3月5日举行。", "The vote is on March 5, 2019."),
        ("投票在3月5日举行。", "The vote is on March 5."),
        ("投票在2019年3月5日举行。", "投票在2019年3月5日举行。"),
        ("It opened on 2004.11.13.", "It opened on 2004.11.13."),
    ],
)
def test_a_date_passes_in_another_format(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote is on 2019-03-06.", "The vote is on March 5, 2019."),
        ("The vote is on 2019-04-05.", "The vote is on March 5, 2019."),
        ("The vote is on 2018-03-05.", "The vote is on March 5, 2019."),
        ("The vote is on 2019-03-05.", "The vote is on May 3, 2019."),
        ("投票在2019年4月5日举行。", "The vote is on March 5, 2019."),
        ("投票在3月6日举行。", "The vote is on March 5."),
    ],
)
def test_a_date_with_another_day_month_or_year_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    "output",
    ["3 people voted in March.", "It is the 3rd vote in March.", "Turnout was 3% in March."],
)
def test_a_month_name_licenses_no_bare_number(output: str) -> None:
    assert not check_numbers(output, "People voted in March 2019 and on March 5.").passed
    assert "3" not in source_numbers("People voted in March 2019 and on March 5.")


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("It costs 20 euros.", "It costs CAD 20."),
        ("It costs 20 euros.", "It costs 20 CAD."),
        ("It costs €20.", "It costs USD 20."),
        ("It costs 20 pounds.", "It costs AUD 20."),
        ("It costs $20.", "It costs EUR 20."),
        ("It costs $20.", "It costs JPY 20."),
        ("It costs ¥20.", "It costs GBP 20."),
        ("It costs 20 yuan.", "It costs SGD 20."),
        ("It costs 20 rupees.", "It costs KRW 20."),
        ("It costs $20.", "It costs 20 SEK."),
        ("It costs $5 million.", "It costs EUR 5m."),
    ],
)
def test_a_currency_code_names_its_currency(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert not result.passed and "wrong unit" in result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("It costs C$20.", "It costs CAD 20."),
        ("It costs $20.", "It costs NZD 20."),
        ("It costs HK$20.", "It costs HKD 20."),
        ("It costs €20.", "It costs EUR 20."),
        ("It costs 20 euros.", "It costs 20 EUR."),
        ("It costs 20 pounds.", "It costs GBP 20."),
        ("It costs 20 yen.", "It costs JPY 20."),
        ("It costs 20 yuan.", "It costs CNY 20."),
        ("It costs 20 francs.", "It costs CHF 20."),
        ("It costs ₩20.", "It costs KRW 20."),
        ("It costs 20 kronor.", "It costs SEK 20."),
        ("It costs $5 million.", "It costs AUD 5m."),
        ("It costs USD 20.", "It costs $20."),
    ],
)
def test_a_currency_code_passes_for_its_own_currency(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


def test_ordinary_upper_case_words_are_no_currencies() -> None:
    assert pairs("TOP 10, ALL 20 teams, CUP 3, TRY 5 times, PHP 8, AND 4 more") == []
    assert check_numbers("The top 10 teams.", "TOP 10 teams in the league.").passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote is on March 5, 2019.", "The vote, on 5 May 2019, drew 3 parties."),
        ("The vote is on October 12, 2019.", "The vote is on 2019-12-10."),
        ("投票在2019年12月10日举行。", "投票在2019年10月12日举行。"),
    ],
)
def test_a_date_is_compared_whole(output: str, source: str) -> None:
    """Each number of a date may be in the source and the date still not (was a pass)."""
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("5 March Madness upsets to remember.", "Five upsets to remember."),
        ("Workers March 10 Miles to City Hall.", "Workers walked 10 miles."),
        ("Top 10 May releases.", "The top 10 releases out in May."),
        ("On May 5 300 people died.", "On May 5, 300 people died."),
    ],
)
def test_a_month_name_next_to_a_count_is_no_date(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


def test_every_currency_code_is_read_as_money() -> None:
    for code in CURRENCY_CODES:
        (before,), (after,) = quantities_in(f"{code} 20"), quantities_in(f"20 {code}")
        assert before.unit == after.unit and dimension(before.unit) == "money", code
    assert pairs("5 sq. km, 5 sq. ft") == [("5", "square kilometre"), ("5", "square foot")]

"""Numbers with units: how they are read, and the numbers check's rule that an output's unit
must be one the source gives that same number."""

from __future__ import annotations

import time
from typing import Any

import pytest

from feedcraft.llm import Guardrails
from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.sentences import split_sentences
from feedcraft.llm.tasks import ProductDescriptionRequest, prepare_product_description
from feedcraft.llm.units import dimension, quantities_in, same_unit, unit_mismatches

BACKPACK = prepare_product_description(
    ProductDescriptionRequest.from_mapping(
        "Trail backpack",
        {"capacity_l": 28, "weight_kg": 1.2, "screen (in)": "15.6", "battery_mah": 3000},
    )
).source


def pairs(text: str) -> list[tuple[str, str]]:
    return [(q.value, q.unit) for q in quantities_in(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28 l, 28L, 28-litre, 28 litres, 28 liters", [("28", "litre")] * 5),
        ("5km, 5 km, 5-kilometre, five kilometers", [("5", "kilometre")] * 4),
        ("a 5-mile race", [("5", "mile")]),
        ("10%, 10 per cent, 10 percent, 百分之十", [("10", "percent")] * 4),
        ("$5, 5 dollars, US$5, 5 USD", [("5", "dollar")] * 4),
        ("$5m, $5 million, 5 million dollars", [("5000000", "dollar")] * 3),
        ("€5, 5 euros", [("5", "euro")] * 2),
        ("20 kg, 20 minutes", [("20", "kilogram"), ("20", "minute")]),
        ("3 hours, a 6-inch blade", [("3", "hour"), ("6", "inch")]),
        ("64 GB, 3000 mAh", [("64", "gigabyte"), ("3000", "mAh")]),
        ("60 W, 30 °C, 30℃", [("60", "watt"), ("30", "celsius"), ("30", "celsius")]),
        ("two hundred and fifty miles", [("250", "mile")]),
        ("5公里，5千米，5英里", [("5", "kilometre"), ("5", "kilometre"), ("5", "mile")]),
        ("20美元，20元，三百公里", [("20", "dollar"), ("20", "yuan"), ("300", "kilometre")]),
        ("20万美元，两个小时，3個小時", [("200000", "dollar"), ("2", "hour"), ("3", "hour")]),
    ],
)
def test_quantities_are_read_with_canonical_units(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert pairs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "In 2004, the 5th race on May 5 drew 28 people.",  # years, ordinals, dates, nouns
        "The 2nd and 3rd heats; 5 points; 10 a.m.; Flight MH370 hours later",
        "A 5G network; 5m viewers; one day; COVID-19 cases",  # 5m: million or metres?
        "2004年5月3日，第5天，5周年，80年代",  # a date, an ordinal, an anniversary, a decade
        "他们统一了意见。",  # 一 in a word
    ],
)
def test_years_dates_ordinals_and_other_words_are_not_units(text: str) -> None:
    assert pairs(text) == []


def test_units_group_by_dimension() -> None:
    assert dimension("mile") == dimension("kilometre") == "length"
    assert dimension("litre") == dimension("gallon") == "volume"
    assert dimension("dollar") == dimension("yuan") == "money"
    assert {dimension(u) for u in ("kilogram", "hour", "percent", "gigabyte", "mAh")} == {
        "mass",
        "time",
        "percent",
        "data",
        "charge",
    }
    assert same_unit("pound", "gbp") and same_unit("lb", "pound")  # "pounds" is either
    assert not same_unit("gbp", "lb") and not same_unit("dollar", "euro")


@pytest.mark.parametrize(
    ("output", "source", "pair"),
    [
        ("A roomy 28-inch backpack.", BACKPACK, "28 inch"),
        ("It weighs 1.2 lb.", BACKPACK, "1.2 lb"),
        ("She ran a 5-mile race.", "She won a 5 km race on Sunday.", "5 mile"),
        ("Tickets cost $20.", "Tickets cost €20.", "20 dollar"),
        ("The load weighed 20 kg.", "The convoy drove 20 km.", "20 kilogram"),
        ("The flight took 3 days.", "The flight took 3 hours.", "3 day"),
        ("他跑了5英里。", "他跑了5公里。", "5 mile"),
        ("门票20美元。", "门票20元。", "20 dollar"),
        ("增长了百分之五。", "增长了5公里。", "5 percent"),
    ],
)
def test_a_number_with_another_unit_fails_the_numbers_check(
    output: str, source: str, pair: str
) -> None:
    result = check_numbers(output, source)
    assert result.name == "numbers" and not result.passed
    assert "wrong unit" in result.detail and pair in result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("A 28-litre backpack weighing 1.2 kg.", BACKPACK),
        ("A 28 L pack with a 15.6-inch sleeve and a 3000 mAh battery.", BACKPACK),
        ("It weighs about 1 kg.", BACKPACK),  # rounded, as the numbers check allows
        ("She ran 5 kilometres.", "She won a 5 km race on Sunday."),
        ("Turnout was 45 percent.", "Turnout was 45%."),
        ("投票率为百分之四十五。", "Turnout was 45%."),
        ("他跑了五公里。", "He ran a 5 km race."),
        ("The bag holds 28 litres.", "capacity: 28"),  # bare in the source: cannot tell
        ("A 28-inch screen.", "28 people came."),  # a counting noun is not a unit
        ("It sold for 5 pounds.", "It sold for £5."),
        ("The 5 km race and 5 hours of music.", "A 5 km race, then 5 hours of music."),
    ],
)
def test_the_same_unit_spelled_differently_passes(output: str, source: str) -> None:
    assert check_numbers(output, source).passed


def test_the_guardrails_report_a_wrong_unit_as_a_numbers_failure() -> None:
    results = Guardrails(None, min_overlap=0).check(
        "A 28-inch backpack.", source=BACKPACK, language="en", max_length=80
    )
    failed = {r.name: r.detail for r in results if not r.passed}
    assert list(failed) == ["numbers"] and "28 inch" in failed["numbers"]


def test_faithful_summary_of_a_real_article_passes(articles: list[dict[str, Any]]) -> None:
    """A summary of a Wikinews article that respells its units passes; a unit swap fails."""
    article = next(a for a in articles if a["id"] == "wikinews-073")
    source = f"Title: {article['title']}\n{article['body']}"
    summary = (
        "A 16-foot asteroid, about 5 metres wide, passed 22,300 miles (36,000 km) above Earth "
        "on Dec. 19, just under the geostationary satellites."
    )
    assert check_numbers(summary, source).passed
    assert not check_numbers(summary.replace("36,000 km", "36,000 miles"), source).passed
    assert not check_numbers(summary.replace("5 metres", "5 feet"), source).passed


def test_real_articles_agree_with_their_own_units(articles: list[dict[str, Any]]) -> None:
    """No unit failure for a Wikinews title against its body, nor any sentence against its
    article: the rule must not flag faithful text (there are 100+ quantities in them)."""
    failures, quantities = [], 0
    for article in articles:
        source = f"Title: {article['title']}\n{article['body']}"
        quantities += len(pairs(source))
        failures += unit_mismatches(article["title"], article["body"])
        for sentence in split_sentences(article["body"]):
            failures += unit_mismatches(sentence, source)
    assert quantities >= 100 and failures == []


@pytest.mark.parametrize(
    "text",
    [" " * 200_000, "x" + "\u00a0" * 200_000, "- a (b" + " " * 200_000 + ":", "k_" * 100_000],
)
def test_attribute_lines_are_read_in_linear_time(text: str) -> None:
    start = time.perf_counter()
    assert unit_mismatches("28 kg", text) == []
    assert time.perf_counter() - start < 5  # a line of spaces was cubic: 6 s at 2,000


def test_attribute_lines_still_give_their_units() -> None:
    text = "- capacity_l: 28\nScreen (in) : 15.6\nprice: 30"
    wrong = unit_mismatches("28 kg, 15.6 cm and 30 kg", text)
    assert [(q.value, sorted(u)) for q, u in wrong] == [("28", ["litre"]), ("15.6", ["inch"])]


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Take 500 mcg daily.", "Take 500 mg daily."),
        ("Take 500 µg daily.", "Take 500 mg daily."),
        ("A 5 mi trail.", "A 5 km trail."),
        ("A 5 yd rope.", "A 5 m rope."),
        ("Take 5 tsp.", "Take 5 ml."),
        ("A 5 GHz chip.", "A 5 GB chip."),
        ("It costs $20.", "It costs ₹20."),
        ("It costs $20.", "It costs Rs 20."),
        ("It costs $20.", "It costs 20 CHF."),
        ("It costs €20.", "It costs 20 pesos."),
    ],
)
def test_more_units_are_told_apart(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Take 500 micrograms daily.", "Take 500 mcg daily."),
        ("It costs 20 rupees.", "It costs ₹20."),
        ("It costs 20 francs.", "It costs CHF 20."),
        ("A 3.2 gigahertz chip.", "A 3.2 GHz chip."),
    ],
)
def test_more_units_accept_their_aliases(output: str, source: str) -> None:
    assert check_numbers(output, source).passed

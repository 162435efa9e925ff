"""The entities check on months and acronyms written in another form than the source's."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_entities, entities_in


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote is on November 18.", "The vote is on Nov. 18."),
        ("The vote is on Nov. 18.", "The vote is on November 18."),
        ("The vote is on Sept. 3.", "The vote is on September 3."),
        ("The shop closed in December.", "The shop closed on 25 Dec 2019."),
        ("The shop opened in March.", "The shop opened on 2019-03-05."),
        ("The shop opened in March.", "The shop opened on 3/5."),
        ("Stocks Rose In March", "Stocks rose on 2019-03-05."),  # title case
        ("The Rams play Sunday November 3.", "The Rams play Sunday Nov. 3."),  # side by side
    ],
)
def test_a_month_the_source_gives_in_another_form_passes(output: str, source: str) -> None:
    assert check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The vote is on November 18.", "The vote is on Oct. 18."),
        ("The shop opened in April.", "The shop opened on 2019-03-05."),
        ("The vote is on Dec. 18.", "The vote is on November 18."),
        ("Novak won the final.", "He won the final on Nov. 18."),  # a month is no other name
        ("The vote is on May 5.", "They may vote on the 5th."),  # the verb is no month
    ],
)
def test_a_month_or_name_the_source_does_not_give_fails(output: str, source: str) -> None:
    assert not check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("The UK voted to leave.", "The U.K. voted to leave."),
        ("The U.K. voted to leave.", "The UK voted to leave."),
        ("The U.S. imposed tariffs.", "The US imposed tariffs."),
        ("The US imposed tariffs.", "The U.S. imposed tariffs."),
        ("The USA imposed tariffs.", "The U.S.A. imposed tariffs."),
        ("US officials met.", "Officials at the US-Mexico border met."),
        ("US officials met.", "Officials of the United States met."),
        ("Ukrainians in the US met.", "Ukrainians in America met."),
        ("HHS officials met.", "Officials of Health and Human Services met."),
        ("The rally starts at 9 AM.", "The rally starts at 9 a.m."),
        ("The WHO warned.", "The WHO warned."),
        ("Crossings at the US-Mexico border rose.", "Crossings at the U.S.-Mexico border rose."),
        ("Coach JW Smith left.", "Coach J.W. Smith left."),
        ("Senator Jane Roe, D-NY, spoke.", "Senator Jane Roe, D-N.Y., spoke."),
    ],
)
def test_an_acronym_the_source_gives_in_another_form_passes(output: str, source: str) -> None:
    assert check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("US officials said the talks failed.", "Officials said the talks failed."),
        ("US officials said the talks failed.", "The officials told us the talks failed."),
        ("WHO experts met on Monday.", "Experts who met on Monday."),
        ("IT staff walked out.", "Staff walked out and it rained."),
        ("The rally starts at 9 AM.", "The rally starts at 9 and I am there."),
        ("The UK voted to leave.", "The U.S. voted to leave."),
        ("Latin Americans in the US met.", "Latin Americans in South America met."),
    ],
)
def test_an_acronym_is_not_licensed_by_a_stopword(output: str, source: str) -> None:
    result = check_entities(output, source)
    assert not result.passed and "not in the source" in result.detail


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("They told us the talks failed.", "The talks failed, they said."),
        ("I think the plan works.", "The plan works."),
        ("STORM HITS THE COAST AS WE WAIT", "A storm hit the coast while we waited."),
        ("THERE IT IS: Storm hits the coast", "A storm hit the coast."),
        ("This is NOT a drill.", "This is not a drill."),
    ],
)
def test_words_in_capitals_that_are_no_acronym_still_pass(output: str, source: str) -> None:
    assert check_entities(output, source).passed


def test_a_month_with_a_day_opening_a_sentence_is_a_month() -> None:
    assert entities_in("March 5 protest drew crowds.") == ["March"]
    assert entities_in("Nov. 18 vote looms.") == ["Nov"]
    assert entities_in("May they win.") == []  # no day: the verb
    assert not check_entities("March 5 protest drew crowds.", "The May 5 protest drew.").passed
    assert not check_entities("May 5 was the deadline.", "The deadline was March 5.").passed
    assert check_entities("May 5 was the deadline.", "The deadline was May 5.").passed
    assert check_entities("Nov. 18 vote looms.", "A vote looms on November 18.").passed

"""The entities check on names that are also words: brands the cased vocabulary writes in lower
case, a capitalised word mid-sentence that the source has only in lower case, and a month that
is a name ("Theresa May") or a name that is a month."""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_entities

SHOES = "The company sold more running shoes in Germany last year, the report said."


@pytest.mark.parametrize(
    "output",
    [
        "Adidas sold more running shoes in Germany.",
        "Interpol said the company sold more shoes.",
        "Viagra sales rose in Germany last year.",
    ],
)
def test_a_brand_opening_a_sentence_is_a_name_the_source_must_give(output: str) -> None:
    assert not check_entities(output, SHOES).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Adidas sold more running shoes.", "Adidas sold more running shoes last year."),
        ("Interpol issued a notice.", "A notice was issued by Interpol on Monday."),
        ("Email scams rose last year.", "Scams by email rose last year."),  # a modern word
        ("Online sales rose last year.", "Sales rose last year."),  # ordinary: unchecked
    ],
)
def test_a_brand_or_modern_word_the_source_gives_passes(output: str, source: str) -> None:
    assert check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        (
            "Wages rose, the Labour leader said.",
            "Wages rose as labour costs climbed, the union leader said.",
        ),
        (
            "Shares of Apple fell on Monday.",
            "Shares of fruit growers fell on Monday as apple prices slid.",
        ),
        ("The ship carried the actor Cruise.", "The cruise ship carried an actor."),
        ("Sales rose at Shell last year.", "Sales of shell suits rose last year."),
    ],
)
def test_a_capitalised_word_mid_sentence_needs_the_source_name(output: str, source: str) -> None:
    assert not check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Wages rose, the Labour leader said.", "Wages rose, Labour's leader said."),
        ("Wages rose, the Labour leader said.", "Labour said wages rose."),  # a sentence start
        ("The Tories won the seat.", "The Tory candidate won the seat."),
        ("Shares of Apple fell.", "APPLE SHARES FELL ON MONDAY"),  # a source in capitals
        ("Apple Shares Fell On Monday", "Shares of apple growers fell on Monday."),  # title case
        ("Shares of Apple fell.", "Shares of Apple fell on Monday."),
        # Titles and institutions a paraphrase may capitalise where the source does not.
        ("British Prime Minister Theresa May spoke.", "British prime minister Theresa May spoke."),
        ("The talks failed, the President said.", "The talks failed, the president said."),
        ("Sheriff Will Lewis was sentenced.", "Will Lewis, the sheriff, was sentenced."),
        # A headline's capitals on a word never written so, a label, a quotation's first word.
        ("The zoo's oldest Giraffe died at 26.", "The zoo's oldest giraffe died at 26."),
        ("The team lost Game 2 on Sunday.", "The team lost the second game on Sunday."),
        ('He said the "Remain in Mexico" policy ended.', "The remain in Mexico policy ended."),
    ],
)
def test_a_capitalised_word_the_source_gives_passes(output: str, source: str) -> None:
    assert check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Sales rose in May.", "Theresa May said sales rose in June."),  # a name is no month
        ("Sales rose in May.", "Prime Minister May said sales rose in June."),
        ("Sales rose on May 5.", "Theresa May said sales rose on June 5."),
        ("Sales rose in June.", "June Carter said sales rose in May."),
        ("Theresa May said sales rose.", "Theresa Smith said sales rose in May."),  # no month
        ("Prime Minister May said sales rose.", "The prime minister said sales rose in May."),
        ("Jan Egeland said aid arrived.", "Aid arrived on Jan. 5, Mr Egeland said."),
    ],
)
def test_a_month_and_a_name_spelled_alike_do_not_license_each_other(
    output: str, source: str
) -> None:
    assert not check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Sales rose in May.", "Theresa May said sales rose in May."),
        ("Sales rose in May.", "Sales rose on 2019-05-03."),
        ("The vote is on May 5.", "The vote is on May 5."),
        ("Theresa May said sales rose.", "Theresa May said sales rose in June."),
        ("Prime Minister May said sales rose.", "Prime Minister Theresa May said sales rose."),
        ("The talks, May said, failed.", "May said the talks failed."),
        ("The talks, May said, failed.", "The talks failed in May."),  # either reading
        ("June Carter sang on Friday.", "June Carter sang on Friday."),
        ("The Rams play on Sunday, November 3.", "The Rams play Sunday Nov. 3."),
        ("Jan Egeland said aid arrived.", "Jan Egeland said aid arrived on Jan. 5."),
        # In title case a capital tells no name: the month is read either way.
        ("Retail Sales Rose Sharply In May", "Retail sales rose sharply in May."),
        ("Theresa May Resigns As Leader", "Theresa May resigned as leader."),
    ],
)
def test_a_month_or_name_the_source_gives_in_that_sense_passes(output: str, source: str) -> None:
    assert check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        # gemma3 on Wikinews: the source writes the party's generic noun in lower case.
        (
            "The Republican Party still holds the majority.",
            "Reid won the position as the Republican party still holds majority in both houses.",
        ),
        ("Floods hit towns along the Yangtze River.", "Floods hit towns along the Yangtze river."),
        ("He studied at Harvard University.", "He studied at Harvard university in 1990."),
    ],
)
def test_a_generic_word_after_the_source_name_it_follows_there_passes(
    output: str, source: str
) -> None:
    assert check_entities(output, source).passed


@pytest.mark.parametrize(
    ("output", "source"),
    [
        # The word before must be the source's capitalised word, right beside it there.
        ("Wages rose, the New Labour leader said.", "New wages rose as labour costs climbed."),
        (
            "The Republican Party won the vote in both houses on the day.",
            "The Republican candidate said the party won the vote in both houses.",
        ),
        ("Shares of the growers in the Big Apple fell.", "Shares of big apple growers fell."),
    ],
)
def test_a_generic_word_needs_the_source_name_right_before_it(output: str, source: str) -> None:
    assert not check_entities(output, source).passed

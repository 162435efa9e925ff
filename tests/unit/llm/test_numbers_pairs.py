"""Pairs written "a/b" in the source and "a of b" in the output, and the reverse.

A score, rating or tally the source writes "3/5" ("went 3/5", "rated 7/10") is the same pair
as "3 of 5", "three of five", "3 out of 5" or "3 in 5". Read as numbers, the output's "3 of 5"
needed a bare 3 and 5 in the source, which a slash pair does not give (it may be a date: "11
people" is not in "9/11"), and failed a faithful summary. Only the pair as written licenses
it: "60%" licenses "3 in 5" (a share) but not the count "3 of 5", "6/10" not "3 of 5"; a date
("3/5/2019", "on 3/5", "after 9/11") licenses no pair. On a star scale (out of 4, 5 or 10) the
pair is also a rating in stars: "rated 3/5" licenses "3 stars", "a three-star film".
"""

from __future__ import annotations

import pytest

from feedcraft.llm.guardrails import check_numbers
from feedcraft.llm.numerals import source_numbers

FAITHFUL = [
    ("It won 3 of 5 games.", "The team went 3/5 in its games."),
    ("Three of five voters agreed.", "Voters agreed 3/5."),
    ("Critics gave it 3 out of 5.", "The film was rated 3/5 by critics."),
    ("The film got 3 of 5 stars.", "The film was rated 3/5 by critics."),
    ("Reviewers gave it seven of ten.", "Reviewers scored it 7/10."),
    ("She made 2 of 3 attempts.", "She was 2/3 on attempts."),
    ("He hit 9 of 12 shots.", "He shot 9/12 from the field."),
    ("The team won three of the five games.", "The team went 3/5 in its games."),
    ("Panelists rated it 8 in 10.", "Panelists rated it 8/10."),
    ("He went 0 of 4 from deep.", "He went 0/4 from deep."),
    ("He made 9 of 11 shots.", "He went 9/11 from the field."),  # a tally, after its verb
    # a rating on a star scale is its stars
    ("The film got 3 stars.", "The film was rated 3/5 by critics."),
    ("A three-star film, critics say.", "The film was rated 3/5 by critics."),
    ("Reviewers gave it 7 stars.", "Reviewers scored it 7/10."),
    ("The hotel has four stars.", "Guests rate the hotel 4/4."),
    # the reverse: the source's "a of b" licenses "a/b" (as numbers, or a date either reading)
    ("The film was rated 3/5.", "Critics gave it 3 out of 5."),
    ("The film was rated 3/5.", "Critics gave it three of five stars."),
    ("He shot 9/12 from the field.", "He hit 9 of 12 shots."),
    ("He shot 13/25 from the field.", "He hit 13 of 25 shots."),
]

UNFAITHFUL = [
    ("It won 4 of 5 games.", "The team went 3/5 in its games."),
    ("It won 3 of 5 games.", "The team went 3/7 in its games."),
    ("It won 3 of 5 games.", "The team went 5/3 in its games."),
    ("It won 3 of 5 games.", "The game was played on 3/5/2019."),
    ("It won 3 of 5 games.", "The game was played on 11-15-19 with 3 teams."),
    ("It won 3 of 5 games.", "The game was played on 3/5 in Ohio."),  # a date: no pair
    ("9 of 11 people died.", "Families of people killed after 9/11 met."),
    ("Three of five voters agreed.", "Six in ten voters agreed."),  # a share, not this count
    ("It won 3 of 5 games.", "It won 60% of its games."),
    ("It won 3 of 5 games.", "The team went 6/10 in its games."),
    # a pair licenses no bare number (the slash pair may be a date: "11 people", "9/11")
    ("The film got 3 votes.", "The film was rated 3/5 by critics."),
    ("The film got 4 stars.", "The film was rated 3/5 by critics."),  # another rating
    ("The film got 5 stars.", "The film was rated 3/5 by critics."),  # the scale, no rating
    ("The hotel got 3 stars.", "The team went 3/7 in its games."),  # no star scale
    ("The memorial got 9 stars.", "The 9/11 memorial opened."),
    # slash names of the news are no tallies
    ("9 of 11 people died.", "The 9/11 attacks killed thousands."),
    ("Seven of seven trains stopped.", "The 7/7 bombings stopped London."),
    ("All voters agreed, 100%.", "Voters split 50/50."),  # an even split, not all of 50
    ("The film got 3 stars.", "The film opened on 3/5 in Ohio."),  # a date: no rating
    ("The film got 3.5 stars.", "The film was rated 3/5 by critics."),
    ("11 people were hurt.", "The 9/11 memorial opened."),
    ("The film was rated 3/5.", "Critics gave it 3 out of 7."),
]


@pytest.mark.parametrize(("output", "source"), FAITHFUL)
def test_a_pair_written_another_way_passes(output: str, source: str) -> None:
    result = check_numbers(output, source)
    assert result.passed, result.detail


@pytest.mark.parametrize(("output", "source"), UNFAITHFUL)
def test_another_pair_or_a_date_fails(output: str, source: str) -> None:
    assert not check_numbers(output, source).passed


def test_a_slash_pair_gives_its_pair_and_its_share() -> None:
    numbers = source_numbers("The team went 3/5 in its games.")
    assert {"pair 3/5", "share 3/5"} <= numbers
    assert not {"3", "5"} & numbers  # it may be a date (5 March, 3 May)


@pytest.mark.parametrize(
    "source",
    [
        "It opened on 3/5/2019.",
        "It opened on 3/5.",
        "The memorial opened after 9/11.",
        "A post-9/11 era began.",
    ],
)
def test_a_slash_date_gives_no_pair(source: str) -> None:
    assert not {n for n in source_numbers(source) if n.startswith(("pair ", "share "))}

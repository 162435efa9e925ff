"""Reading a run of clauses: a subordinate clause with an aside, a list or an appositive
inside it is no headline; a run that reaches its main clause is one.

On real abstracts (MIND, NeMig) the fallback served "If Boric, who holds a narrow lead, wins
the race" and "When it comes to lean, ethical meat, simply put": the aside's verb, a
predicate and an adverb with a participle were taken for a main clause.
"""

from __future__ import annotations

import pytest

from feedcraft.llm.clauses import is_adverbial, is_fragment


@pytest.mark.parametrize(
    "head",
    [
        "If Garcia, who leads the polls by two points, wins the vote",  # an aside, then its verb
        "When it comes to cheap, healthy food, simply put",  # a list, then an adverb
        "After three weeks, somehow the climbers, like ghosts",  # plural noun, no verb
        "As the minister toured Malta, an island strained by arrivals",  # an appositive
    ],
)
def test_a_subordinate_clause_with_commas_inside_is_no_headline(head: str) -> None:
    assert is_adverbial(head)


@pytest.mark.parametrize(
    "head",
    [
        "If Garcia, who leads the polls by two points, wins the vote, she will be president",
        "When she got home hours later, everything was gone",
        "After the report, officials said the plan was dead",
        "If you missed the final, don't worry",
        "After the storm, a town flooded by the river was evacuated",
        "After the report, shares jumped by five percent",
        "While it's rare, men do get breast cancer",
        "As a mother of three, Lopez is worried",
        "After the vote, the party split",
    ],
)
def test_a_run_that_reaches_its_main_clause_is_a_headline(head: str) -> None:
    assert not is_adverbial(head)


@pytest.mark.parametrize(
    ("sentence", "fragment"),
    [
        ("Since 2010, Ohio Govs.", True),  # split at an abbreviation
        ("As part of the store's holiday sale.", True),
        ("When crews arrived they found the house empty.", False),  # its main clause unmarked
        ("As always, vote early!", False),
        ("After the match, there was a long silence.", False),
        ("The match ended in a draw.", False),
    ],
)
def test_a_whole_sentence_that_is_only_a_subordinate_clause_is_a_fragment(
    sentence: str, fragment: bool
) -> None:
    assert is_fragment(sentence) is fragment

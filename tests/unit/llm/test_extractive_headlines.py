"""Fallback headlines read like the model's: verbatim, punctuated and cut where words end.

The fallback copies the source, so a headline it serves must be the source's own text as the
model path would serve it (`cleanup.postprocess_headline`), a clause that stands as a
headline, or a cut marked "…" at a word boundary.
"""

from __future__ import annotations

import pytest

from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import ExtractiveSummarizer
from feedcraft.llm.cleanup import postprocess_headline


@pytest.mark.parametrize(
    "title",
    [
        "Flooding Is Not a “Disaster” Yet",
        "Mayor Calls the Flooding a “Test”",
        "Is the old bridge still safe to cross?",
        "Council approves the budget at last!",
        "Storm warnings issued across the U.S.",
        "“Storm hits the coast.”",
        "The new tram line opens on Monday.",
        "市政府宣布地铁十号线延长运营时间？",
        "「地铁十号线将延长运营时间」。",
    ],
)
def test_a_title_is_served_as_the_model_path_would_serve_it(
    hashing: HashingEncoder, title: str
) -> None:
    """ "?", "!", the dot of "U.S." and quotes that mark a part stay; only a final full stop
    and quotes wrapping the whole title go. Real titles lost them: NeMig 1,422 of 10,814."""
    heads = ExtractiveSummarizer(hashing).headlines(title, "", 1, 24)
    assert heads == postprocess_headline(title)


def test_a_sentence_opening_with_a_quote_keeps_it(hashing: HashingEncoder) -> None:
    body = '"ACME" was the most searched word in 2005.'
    assert ExtractiveSummarizer(hashing).headlines("", body, 1, 14) == [
        '"ACME" was the most searched word in 2005'
    ]


def test_the_same_words_punctuated_differently_are_one_headline(
    hashing: HashingEncoder,
) -> None:
    heads = ExtractiveSummarizer(hashing).headlines("Storm hits coast!", "Storm hits coast.", 3, 14)
    assert heads == ["Storm hits coast!"]


def test_a_leading_adverbial_clause_is_no_headline(hashing: HashingEncoder) -> None:
    """ "Following the flood of 2004" only sets the scene for a main clause that did not fit."""
    body = (
        "Following the flood of 2004, rice prices rose sharply in markets across the region "
        "as traders feared shortages."
    )
    heads = ExtractiveSummarizer(hashing).headlines("", body, 3, 10)
    assert heads and "Following the flood of 2004" not in heads
    zh = "随着气温持续下降，全市多个公园的湖面已经结冰，管理部门提醒市民不要在冰面上行走。"
    zh_heads = ExtractiveSummarizer(hashing).headlines("", zh, 3, 12)
    assert zh_heads and "随着气温持续下降" not in zh_heads


def test_a_clause_does_not_end_on_a_function_word(hashing: HashingEncoder) -> None:
    body = (
        "The ruling breaks the national building code and, in several cases, the regional fire "
        "regulations that apply to schools."
    )
    heads = ExtractiveSummarizer(hashing).headlines("", body, 1, 10)
    assert heads == ["The ruling breaks the national building code"]


@pytest.mark.parametrize(
    ("body", "budget"),
    [
        (
            "Firefighters rescued three hikers – all members of a school club – after a storm "
            "trapped them on the ridge overnight.",
            12,
        ),
        (
            'The minister said change was possible "only with a fair court, a free press and '
            'open markets", and that reform would come.',
            12,
        ),
        (
            "The new line (which links the airport, the port and the old town) opens in May, "
            "officials said on Tuesday.",
            8,
        ),
    ],
)
def test_clause_headlines_are_verbatim_and_close_what_they_open(
    hashing: HashingEncoder, body: str, budget: int
) -> None:
    """A dash was dropped where clauses were joined ("hikers all members of"), and a run of
    clauses ended inside a quote or bracket it opened."""
    heads = ExtractiveSummarizer(hashing).headlines("", body, 3, budget)
    assert heads
    for head in heads:
        text, _, closers = head.partition("…")
        assert text in body, head  # verbatim up to a cut's "…"
        assert head.count('"') % 2 == 0 and head.count("(") == head.count(")"), head
        assert closers in ("", '"', ")"), head


@pytest.mark.parametrize(
    "body",
    [
        "研究人员发现这种新型材料可以有效地吸收空气中的污染物。",
        "研究人員發現這種新型材料可以有效地吸收空氣中的污染物。",
    ],
)
def test_a_chinese_cut_ends_on_a_whole_word(hashing: HashingEncoder, body: str) -> None:
    """At 23 and 24 characters a cut by characters ended on "的" (of) or in "污染物"."""
    ex = ExtractiveSummarizer(hashing)
    for budget in (23, 24):
        (head,) = ex.headlines("", body, 1, budget)
        assert head == body[:22] + "…", (budget, head)


def test_a_sentence_split_inside_a_quotation_leaves_no_quote_open(
    hashing: HashingEncoder,
) -> None:
    body = 'The minister told reporters: "We will rebuild the bridge. Work starts in May."'
    heads = ExtractiveSummarizer(hashing).headlines("", body, 3, 14)
    assert "Work starts in May" in heads
    assert all(h.count('"') % 2 == 0 for h in heads), heads


def test_a_sentence_that_closes_a_bracket_it_did_not_open_is_no_headline(
    hashing: HashingEncoder,
) -> None:
    body = "Enter the Spring Garden Draw] and win prizes. The mayor’s garden opens on Monday."
    heads = ExtractiveSummarizer(hashing).headlines("", body, 3, 14)
    assert heads == ["The mayor’s garden opens on Monday"]


@pytest.mark.parametrize(
    "body",
    [
        "While the Liberals, the Greens and two independent members voted against, the council "
        "approved the budget for the coming year by a wide margin.",
        "Although Smith, Jones and the other board members objected, the company sold its "
        "shipping business to a rival for two billion dollars.",
        "When the mayor, the police chief and the fire marshal arrived, the crowd had already "
        "left the square in front of the old town hall.",
    ],
)
def test_a_subordinate_clause_whose_commas_list_its_subject_is_no_headline(
    hashing: HashingEncoder, body: str
) -> None:
    """The list's commas looked like clause ends, so the run of clauses ending on the verb
    of the subordinate clause was served ("While the Greens, Eurosceptics and the Communist
    Party voted against", Wikinews): the main clause had not begun."""
    subordinate = body[: body.index(", the ", body.index(" and "))]
    heads = ExtractiveSummarizer(hashing).headlines("", body, 3, 12)
    assert heads and subordinate not in heads, heads


@pytest.mark.parametrize(
    ("body", "head"),
    [
        (
            "After the vote, the party split into two camps, and its leader resigned on Friday "
            "night after ten years in office.",
            "After the vote, the party split into two camps",
        ),
        (
            "If the bill passes, taxes will rise for most families, the finance minister "
            "warned in a speech to parliament on Tuesday.",
            "If the bill passes, taxes will rise for most families",
        ),
        (
            "While he was away, burglars broke into the house, the police said in a statement "
            "released late on Sunday evening.",
            "While he was away, burglars broke into the house",
        ),
        (
            "The party split after the vote, while the Greens abstained, according to the "
            "official record of the session published on Monday.",
            "The party split after the vote, while the Greens abstained",
        ),
    ],
)
def test_a_clause_run_that_reaches_its_main_clause_is_kept(
    hashing: HashingEncoder, body: str, head: str
) -> None:
    assert head in ExtractiveSummarizer(hashing).headlines("", body, 3, 12)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("The derby ended in a draw. Before the...", "Before the"),
        (
            "Fans gathered outside the stadium hours before kickoff on Sunday. As expected...",
            "As expected",
        ),
    ],
)
def test_a_sentence_cut_short_by_an_ellipsis_is_no_whole_headline(
    hashing: HashingEncoder, body: str, fragment: str
) -> None:
    """Abstracts cut with "..." ended in fragments that lost their dots and read as whole."""
    heads = ExtractiveSummarizer(hashing).headlines("", body, 3, 12)
    assert fragment not in heads and heads
    assert all(not h.endswith(".") for h in heads)


def test_a_headline_from_a_sentence_cut_short_keeps_its_mark(
    hashing: HashingEncoder,
) -> None:
    body = "The city council voted on Tuesday to close the central library for repairs and the..."
    heads = ExtractiveSummarizer(hashing).headlines("", body, 1, 20)
    assert heads == ["The city council voted on Tuesday to close the central library for repairs…"]


def test_a_chinese_sentence_cut_short_loses_its_dangling_particle(hashing: HashingEncoder) -> None:
    """Marked as cut, a headline must not end on the 的 the source's cut left: "…公眾的…"."""
    heads = ExtractiveSummarizer(hashing).headlines("", "警方正在尋求公眾的…", 1, 20)
    assert heads == ["警方正在尋求公眾…"]

"""Fallback headlines are main clauses or marked cuts, and a cut ends on a word that can
end one: not on "for" after a dash, not on a lone "That", not on Chinese "因" (because of).
"""

from __future__ import annotations

from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import ExtractiveSummarizer


def test_a_subordinate_clause_around_an_aside_is_no_headline(hashing: HashingEncoder) -> None:
    body = (
        "If Garcia, who leads the polls by two points, wins the vote, she would become the "
        "first woman to lead the country in its history."
    )
    heads = ExtractiveSummarizer(hashing).headlines("", body, 3, 12)
    assert heads and "If Garcia, who leads the polls by two points, wins the vote" not in heads


def test_a_whole_sentence_fragment_is_no_headline(hashing: HashingEncoder) -> None:
    body = "The storm closed every road in the county overnight. As part of the holiday sale."
    heads = ExtractiveSummarizer(hashing).headlines("", body, 3, 12)
    assert heads == ["The storm closed every road in the county overnight"]


def test_a_whole_sentence_keeps_its_last_word(hashing: HashingEncoder) -> None:
    """Served as a run of clauses, "stood by." lost its "by" as a dangling preposition."""
    body = "As the fire spread, the soldiers stood by."
    heads = ExtractiveSummarizer(hashing).headlines("", body, 5, 8)
    assert heads == ["As the fire spread, the soldiers stood by"]
    cut_upstream = "As the fire spread, the soldiers were driving the"  # no end: cut upstream
    assert ExtractiveSummarizer(hashing).headlines("", cut_upstream, 5, 10) == [
        "As the fire spread, the soldiers were driving"
    ]


def test_a_cut_does_not_end_on_a_function_word_after_a_dash(hashing: HashingEncoder) -> None:
    body = "The program has been reinstated—for now at least, after a long fight in court."
    heads = ExtractiveSummarizer(hashing).headlines("", body, 1, 5)
    assert heads == ["The program has been reinstated…"]


def test_a_cut_that_is_only_a_function_word_is_no_headline(hashing: HashingEncoder) -> None:
    heads = ExtractiveSummarizer(hashing).headlines("", "That...", 3, 12)
    assert heads == []


def test_a_chinese_cut_does_not_end_on_because_of(hashing: HashingEncoder) -> None:
    body = "一位住在海边的老人因暴雨引发的洪水失去了家园。"
    heads = ExtractiveSummarizer(hashing).headlines("", body, 1, 11)
    assert heads == ["一位住在海边的老人…"]

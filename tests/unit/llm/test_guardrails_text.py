"""Guardrails on words: language shares, multi-word names, preambles and banned-term spellings."""

from __future__ import annotations

import pytest

from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Guardrails
from feedcraft.llm.guardrails import (
    check_banned_terms,
    check_entities,
    check_format,
    check_language,
)


@pytest.mark.parametrize(
    "output",
    [
        "IBM与Google签署合作协议。",
        "Apple iPhone 15 Pro Max 手机，256GB存储，黑色。",
        "如何在Windows,macOS,iOS或Android上记录您的画面",
    ],
)
def test_latin_names_in_chinese_count_as_one_word_each(output: str) -> None:
    assert check_language(output, "zh").passed


JAPANESE = "東京都は2日、新しい感染者が確認されたと発表した。"


def test_japanese_is_told_from_chinese_by_its_kana() -> None:
    assert check_language(JAPANESE, "ja").passed
    assert not check_language(JAPANESE, "zh").passed
    assert not check_language("The government announced a new policy.", "ja").passed


def test_language_tags_are_normalised() -> None:
    assert check_language("政府宣布了新的政策。", "zh-TW").passed
    assert check_language("政府宣布了新的政策。", "zh_Hant").passed
    rails = Guardrails(HashingEncoder(64), min_similarity=-1.0, min_overlap=0)
    text = "政府宣布了新的政策。"
    results = rails.check(text, source=text, language="zh-TW", max_length=50)
    assert all(r.passed for r in results), [r for r in results if not r.passed]


def test_a_possessive_ends_a_name() -> None:
    """gemma3 wrote "SCO's Linux lawsuit against IBM", rejected as the name "SCO's Linux"."""
    source = "The SCO Group sued IBM, claiming that Linux holds code from SCO Unix."
    assert check_entities("SCO's Linux lawsuit against IBM", source).passed


TWO_MINISTERS = "Ministers Eduardo Campos and Roberto Rodrigues attended."
SOUTH = "The envoy flew to South Korea, landing north of Seoul."


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Minister Eduardo Rodrigues attended.", TWO_MINISTERS),
        ("The envoy flew to North Korea.", SOUTH),
        ("They met on May 5.", "They met on March 5. You may go."),
    ],
)
def test_names_must_appear_as_written(output: str, source: str) -> None:
    assert not check_entities(output, source).passed


SOURCE = (
    "Hu Jintao, the President of China, had lunch with the President of Brazil, Luiz Inácio "
    "Lula da Silva, at the Granja do Torto on May 5. Russia's envoy and Tatars from Latin "
    "America attended."
)


@pytest.mark.parametrize(
    "output",
    [
        "President Lula met Hu Jintao.",
        "Brazilian President Luiz Inácio Lula met Hu.",
        "Lula da Silva hosted Hu Jintao's delegation.",
        "They met on May 5 at the Granja do Torto.",
        "Russian Tatars and Latin American envoys attended.",
        "Officials said Chinese and Brazilian envoys met.",
        "Brazil's Lula met China's Hu Jintao.",
    ],
)
def test_names_with_titles_parts_and_demonyms_pass(output: str) -> None:
    result = check_entities(output, SOURCE)
    assert result.passed, result.detail


@pytest.mark.parametrize(
    "output",
    [
        "Surely the vote will be close, analysts said.",
        "Sure deodorant keeps you dry for 48 hours.",
        "Surety bonds rose 5%.",
        "Certainly the best phone this year.",
        "作为一个拥有百年历史的品牌，它值得信赖。",
        "Stay dry all day! 🌞",
        "Made for summer. ☀️",
        "Done. 👍🏽",
    ],
)
def test_ordinary_openings_and_trailing_emoji_pass_the_format_check(output: str) -> None:
    result = check_format(output, source="x")
    assert result.passed, result.detail


@pytest.mark.parametrize(
    "output",
    [
        "Sure, here it is.",
        "Certainly! The article says x.",
        "作为一个AI助手，我无法回答。",
        "Stay dry 🌞",
    ],
)
def test_preambles_and_unfinished_prose_still_fail(output: str) -> None:
    assert not check_format(output, source="x").passed


TERMS = ["cure", "free money", "anti-aging", "can't"]


@pytest.mark.parametrize(
    "output",
    [
        "It cures insomnia.",
        "Cured in a week.",
        "Curing made simple.",
        "Get free  money.",
        "Get free\nmoney.",
        "Get free\tmoney.",
        "Our anti\u2011aging cream.",
        "Our anti\u2013aging cream.",
        "Our antiaging cream.",
        "You can\u2019t lose.",
        "A \u0441ure for all.",  # Cyrillic es
        "A cu\u034fre for all.",  # combining grapheme joiner
        "A cu\ufe0fre.",  # variation selector
        "A cu\U000e0020re.",  # tag space
        "A cu\u061cre.",  # Arabic letter mark
    ],
)
def test_banned_terms_in_other_spellings_are_caught(output: str) -> None:
    assert not check_banned_terms(output, TERMS).passed


@pytest.mark.parametrize(
    "output", ["A secure payment.", "We procure parts.", "Curry for dinner.", "Вы сможете."]
)
def test_banned_terms_do_not_hit_other_words(output: str) -> None:
    assert check_banned_terms(output, TERMS).passed


@pytest.mark.parametrize("term", ["\ufeff", "\u200b", "\u00ad", "\u200b \ufeff"])
def test_an_invisible_banned_term_bans_nothing(term: str) -> None:
    assert check_banned_terms("A perfectly ordinary sentence.", [term]).passed
    assert Guardrails(HashingEncoder(64), banned_terms=[term, "cure"]).banned_terms == ("cure",)


LULA = "Luiz Inácio Lula da Silva hosted Hu in Brasília."


@pytest.mark.parametrize(
    ("output", "source"),
    [
        ("Luiz Inacio Lula da Silva hosted Hu in Brasilia.", LULA),
        ("Luiz Inácio Lula hosted Hu.", "Luiz Inacio Lula hosted Hu."),
        ("It was backed by O’Brien.", "It was backed by O'Brien."),
        ("It was backed by O'Brien.", "It was backed by O’Brien."),
    ],
)
def test_names_match_without_accents_and_with_any_apostrophe(output: str, source: str) -> None:
    result = check_entities(output, source)
    assert result.passed, result.detail

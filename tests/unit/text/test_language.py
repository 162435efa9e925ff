"""Language detection on real titles (Wikinews English, xMIND Traditional Chinese) and edges."""

from __future__ import annotations

from typing import Any

import pytest

from feedcraft.errors import InvalidInput
from feedcraft.text.language import (
    detect_language,
    language_code,
    language_scores,
    supported_languages,
)


def test_english_wikinews_titles(wikinews: list[dict[str, Any]]) -> None:
    titles = [a["title"] for a in wikinews[:50]]
    accuracy = sum(detect_language(t) == "en" for t in titles) / len(titles)
    assert accuracy >= 0.95


def test_chinese_xmind_titles(xmind_rows: list[tuple[str, str, str]]) -> None:
    titles = [title for _, title, _ in xmind_rows[:50]]
    accuracy = sum(detect_language(t) == "zh" for t in titles) / len(titles)
    assert accuracy >= 0.95


def test_restricted_to_english_and_chinese_is_exact_on_real_titles(
    wikinews: list[dict[str, Any]], xmind_rows: list[tuple[str, str, str]]
) -> None:
    en = [detect_language(a["title"], restrict_to=["en", "zh"]) for a in wikinews[:50]]
    zh = [detect_language(t, restrict_to=("en", "zh")) for _, t, _ in xmind_rows[:50]]
    assert en == ["en"] * 50
    assert zh == ["zh"] * 50


@pytest.mark.parametrize(
    "text",
    ["中国经济增长速度放缓", "中國經濟增長速度放緩", "东京奥运会推迟举行", "東京奧運會推遲舉行"],
)
def test_simplified_and_traditional_chinese_are_zh(text: str) -> None:
    assert detect_language(text) == "zh"


def test_other_languages_keep_their_code() -> None:
    assert detect_language("Der Bundestag hat heute ein neues Gesetz beschlossen") == "de"
    assert detect_language("東京で新しい展覧会が始まりました") == "ja"
    assert detect_language("서울에서 새로운 전시회가 열렸습니다") == "ko"


@pytest.mark.parametrize("text", ["", None, "   ", "12345 678", "ok", "東京", "!!!"])
def test_short_or_empty_text_is_none(text: str | None) -> None:
    assert detect_language(text) is None


def test_thresholds() -> None:
    assert detect_language("hello", min_letters=1) is not None
    assert detect_language("Hello world, how are you today?", min_confidence=1.01) is None


def test_restrict_to_validates_codes() -> None:
    with pytest.raises(InvalidInput, match="restrict_to"):
        detect_language("some english text here", restrict_to=["english"])
    with pytest.raises(InvalidInput):
        detect_language("some english text here", restrict_to=[])
    assert detect_language("Das ist ein deutscher Satz", restrict_to=["en", "de"]) == "de"
    assert detect_language("Das ist ein deutscher Satz", restrict_to=["en-US"]) == "en"


def test_scores_are_iso_639_1_probabilities() -> None:
    scores = language_scores("The president met the prime minister in Brasilia today")
    assert next(iter(scores)) == "en"
    assert all(len(code) == 2 for code in scores)
    assert 0.99 <= sum(scores.values()) <= 1.0001
    values = list(scores.values())
    assert values == sorted(values, reverse=True)
    assert {"en", "zh", "ja", "de"} <= supported_languages()
    assert all(len(c) == 2 for c in supported_languages())


def test_language_tags_name_their_iso_639_1_code() -> None:
    tags = {"zh_CN": "zh", "zh-Hant": "zh", "cmn": "zh", "yue": "zh", " EN-us ": "en", "fr": "fr"}
    assert {tag: language_code(tag) for tag in tags} == tags
    assert language_code("tlh") == "tlh"  # unknown codes pass through, lower-cased

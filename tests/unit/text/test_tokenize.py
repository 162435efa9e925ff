"""Tokenisation: English rule, jieba for Chinese (real xMIND titles), mixed text, stopwords."""

from __future__ import annotations

import subprocess
import sys

import pytest

from feedcraft.text.tokenize import (
    CHINESE_STOP_WORDS,
    english_stopwords,
    tokenize,
    tokenize_chinese,
)


def test_english_words_lowercased_without_punctuation() -> None:
    text = "Hu Jintao, the President of the People's Republic of China, didn't eat—at 12:30."
    assert tokenize(text) == [
        "hu",
        "jintao",
        "the",
        "president",
        "of",
        "the",
        "people",
        "republic",
        "of",
        "china",
        "didn't",
        "eat",
        "at",
        "12",
        "30",
    ]


def test_english_stopwords_and_numbers() -> None:
    tokens = tokenize("The 3 ministers were at the event, and it's over", remove_stopwords=True)
    assert tokens == ["3", "ministers", "event"]
    assert tokenize("The 3 ministers", remove_stopwords=True, keep_numbers=False) == ["ministers"]
    assert {"the", "and", "of"} <= english_stopwords()


def test_other_language_keeps_english_stopwords() -> None:
    # "will" and "die" must not be dropped from German as if they were English function words.
    assert tokenize("Sie will die Wahl", "de", remove_stopwords=True) == [
        "sie",
        "will",
        "die",
        "wahl",
    ]


def test_unicode_words() -> None:
    assert tokenize("Café São Paulo naïve Zürich") == ["café", "são", "paulo", "naïve", "zürich"]


def test_real_chinese_titles_give_multi_character_words(
    xmind_rows: list[tuple[str, str, str]],
) -> None:
    titles = [title for _, title, _ in xmind_rows[:200]]
    multi = 0
    for title in titles:
        tokens = tokenize(title)
        han = [t for t in tokens if all("\u4e00" <= c <= "\u9fff" for c in t)]
        if any(len(t) >= 2 for t in han):
            multi += 1
        # Segmentation only splits: the Han characters come back in order.
        assert "".join(han) == "".join(c for c in title if "\u4e00" <= c <= "\u9fff")
    assert multi / len(titles) >= 0.95
    first = tokenize(xmind_rows[0][1])  # a title on brands the British royals use
    assert {"伊麗莎白", "女王", "王子", "品牌"} <= set(first)


def test_chinese_stopwords_removed() -> None:
    tokens = tokenize("我们的经济在今年增长了", remove_stopwords=True)
    assert "的" not in tokens and "了" not in tokens and "在" not in tokens
    assert "经济" in tokens
    assert {"的", "了", "是", "在", "和", "与", "與"} <= CHINESE_STOP_WORDS


def test_mixed_text_routes_each_script() -> None:
    tokens = tokenize("Apple发布了新的iPhone 15，售价为999美元。")
    assert tokens[0] == "apple" and "iphone" in tokens and "15" in tokens
    assert "发布" in tokens and "美元" in tokens
    assert "，" not in tokens and "。" not in tokens


def test_deterministic() -> None:
    text = "足球聯盟能否因球員批評裁判而處罰他們? 許多NFL球員曾因此被罰款."
    assert tokenize(text) == tokenize(text) == tokenize(str(text))
    assert tokenize_chinese("") == []
    assert tokenize("") == []


def test_traditional_chinese_segmented_via_simplified() -> None:
    pytest.importorskip("opencc")
    tokens = tokenize("他在書店購買筆記本,外套等出門不能沒有的東西")
    assert "筆記本" in tokens and "購買" in tokens


def test_jieba_initialises_quietly() -> None:
    code = "from feedcraft.text.tokenize import tokenize; print(tokenize('今天天气很好'))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "天气" in done.stdout
    assert done.stderr == ""

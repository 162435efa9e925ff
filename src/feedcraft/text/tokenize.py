"""Tokenisation for English and Chinese, and for text that mixes both.

Script decides the segmenter: runs of Han characters go to jieba (Chinese has no spaces, so a
word regex would return whole clauses), everything else to a lowercase Unicode word regex.
Language decides the stopword lists. jieba is loaded once, lazily and quietly, as a private
instance so that other users of the global jieba dictionary are not affected.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

from feedcraft.text.script import HAN_CLASS, is_han, to_simplified

if TYPE_CHECKING:
    import jieba

__all__ = [
    "CHINESE_STOP_WORDS",
    "english_stopwords",
    "is_stopword",
    "tokenize",
    "tokenize_chinese",
    "tokenize_english",
]

_EN_EXTRA = """
    s t ll ve re d m don't doesn't didn't isn't wasn't aren't weren't won't can't couldn't
    wouldn't shouldn't hasn't haven't hadn't i'm i've i'd i'll you're we're they're he'd she'd
    we've they've let's also"""


@lru_cache(maxsize=1)
def english_stopwords() -> frozenset[str]:
    """scikit-learn's English list plus contractions; loaded on first use (sklearn is slow)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | frozenset(_EN_EXTRA.split())


# Function words, pronouns and particles (Simplified and Traditional forms) that carry no topic.
_ZH_STOP = """
    的 了 是 在 和 与 與 及 或 也 就 都 而 但 并 並 之 其 于 於 为 為 以 被 把 将 將 对 對 从 從
    向 到 给 給 让 讓 由 上 下 中 内 內 里 裡 後 后 前 这 這 那 此 该 該 个 個 些 每 各 又 还 還
    很 更 最 已 已经 已經 曾 会 會 能 可 可以 要 应 應 该 说 說 着 著 过 過 吗 嗎 呢 吧 啊 呀 么
    麼 什么 什麼 怎么 怎麼 如何 为什么 為什麼 哪 谁 誰 我 你 您 他 她 它 我们 我們 你们 你們
    他们 他們 她们 她們 它们 它們 自己 一 一个 一個 不 没 沒 没有 沒有 有 个 因为 因為
    所以 如果 虽然 雖然 但是 而且 以及 或者 以后 以後 之后 之後 之前 时 時 时候 時候 等 等等
    地 得 所 啦 嘛 哦 呢 者
    因 则 則 即 亦 仍 再 才 只 可能 需要 似乎 来说 來說 一名 一种 一種 这是 這是 非常 甚至 然而
    因此 其中 目前 进行 進行 表示 认为 認為 指出 据 據 称 稱 这个 這個 那个 那個 这些 這些 那些
    一些 这里 這裡 這裏 那里 那裡 这样 這樣 那样 那樣 应该 應該 每个 每個 是否 许多 許多 其他
    所有 然后 然後 这种 這種 那种 那種 怎样 怎樣 那么 那麼 一直 一起 之一
"""
CHINESE_STOP_WORDS: frozenset[str] = frozenset(_ZH_STOP.split())

_EN_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SEGMENTS = re.compile(f"([{HAN_CLASS}]+)")
_POSSESSIVE = re.compile(r"'s$")

_jieba: jieba.Tokenizer | None = None
_jieba_lock = threading.Lock()


def _jieba_tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer, initialised once with its stderr chatter silenced."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _jieba = tok
    return _jieba


def is_stopword(token: str, language: str | None = None) -> bool:
    """Stopword test by token script: Han tokens use the Chinese list, others the English one.

    With a `language` other than "en"/"zh" only the Chinese list applies (to Han tokens), so
    that e.g. German "will" or Dutch "door" are not removed as English function words.
    """
    if is_han(token):
        return token in CHINESE_STOP_WORDS
    if language not in (None, "en", "zh"):
        return False
    return token in english_stopwords()


def tokenize_english(text: str) -> list[str]:
    """Lowercased Unicode words; apostrophes inside words kept, possessive 's dropped."""
    words = (m.group(0).lower().replace("’", "'") for m in _EN_WORD.finditer(text))
    return [_POSSESSIVE.sub("", w) for w in words]


def tokenize_chinese(text: str) -> list[str]:
    """jieba words (precise mode with HMM for unknown words, deterministic), no whitespace.

    jieba's dictionary is Simplified: Traditional text (e.g. xMIND) splits into wrong words
    ("購買筆|記本" instead of "購買|筆記本"). Segmenting a same-length Simplified copy and
    cutting the original at the same offsets fixes that while tokens keep their own script.
    """
    spans = _jieba_tokenizer().tokenize(to_simplified(text), mode="default", HMM=True)
    return [w for _, start, end in spans if (w := text[start:end]).strip()]


def tokenize(
    text: str,
    language: str | None = None,
    *,
    remove_stopwords: bool = False,
    keep_numbers: bool = True,
    min_length: int = 1,
) -> list[str]:
    """Words of `text` in order. Han runs go to jieba, the rest to the English word rule.

    `language` (ISO 639-1; None: assume English/Chinese by script) selects stopword lists.
    Punctuation is dropped; jieba's punctuation tokens are filtered the same way.
    """
    if not text:
        return []
    out: list[str] = []
    for i, segment in enumerate(_SEGMENTS.split(text)):
        if not segment:
            continue
        words = tokenize_chinese(segment) if i % 2 else tokenize_english(segment)
        for w in words:
            if len(w) < min_length or not any(ch.isalnum() for ch in w):
                continue
            if not keep_numbers and w.isnumeric():
                continue
            if remove_stopwords and is_stopword(w, language):
                continue
            out.append(w)
    return out

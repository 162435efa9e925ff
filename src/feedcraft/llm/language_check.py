"""Is a generated text in the language asked for? The guardrails' language check.

A small model often drifts to English, or answers Chinese in Japanese. Chinese and Japanese
are judged by script share, which is reliable on a headline: Han characters against the
other words, a Latin name counting as one word ("IBM与Google签署合作协议" is 7 Han characters
and 2 words, not 7 against 9 letters), and kana marking Japanese. Other languages are
detected statistically (`text.language`), only on text long enough to tell.
"""

from __future__ import annotations

import re

from feedcraft.llm.sentences import count_units
from feedcraft.text.language import detect_language, language_code
from feedcraft.text.script import HAN

__all__ = ["judge_language"]

_KANA_LETTER = re.compile("[\u3041-\u3096\u30a1-\u30fa\u31f0-\u31ff\uff66-\uff6f\uff71-\uff9d]")
_LETTERS = re.compile(r"[^\W\d_]+")


def _script_units(text: str) -> tuple[int, int, int]:
    """Han characters, kana letters and other words in `text`."""
    han = len(HAN.findall(text))
    kana = len(_KANA_LETTER.findall(text))
    words = len(_LETTERS.findall(_KANA_LETTER.sub(" ", HAN.sub(" ", text))))
    return han, kana, words


def judge_language(output: str, language: str) -> tuple[bool, str]:
    """Whether `output` is in `language` (any tag: "zh-TW", "en_US"), and why in words."""
    code = language_code(language)
    letters = [ch for ch in output if ch.isalpha()]
    if not letters:
        return False, "no letters"
    han, kana, words = _script_units(output)
    if code in ("zh", "ja"):
        kana_share = kana / (han + kana) if han + kana else 0.0
        if code == "zh" and kana_share >= 0.2:
            return False, f"{kana_share:.0%} kana: Japanese, not Chinese"
        share = (han + kana if code == "ja" else han) / (han + kana + words)
        return (
            share >= 0.5,
            f"{share:.0%} {'CJK' if code == 'ja' else 'Han'} of words and characters",
        )
    han_share = sum(1 for ch in letters if HAN.match(ch)) / len(letters)
    if han_share > 0.2:
        return False, f"{han_share:.0%} Han characters in {code} text"
    if count_units(output) >= 4:
        detected = detect_language(output, min_confidence=0.8)
        if detected is not None and detected != code:
            return False, f"written in {detected}, expected {code}"
    return True, ""

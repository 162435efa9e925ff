"""Unicode script tests (Han, kana, hangul, Latin) and conversion between Traditional and
Simplified Chinese."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

# Han ideographs: URO, extension A, compatibility ideographs, extensions B-G (supplementary).
HAN_CLASS = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN = re.compile(f"[{HAN_CLASS}]")
HAN_RUN = re.compile(f"[{HAN_CLASS}]+")
KANA_CLASS = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
KANA = re.compile(f"[{KANA_CLASS}]")
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")


def mostly_latin(text: str) -> bool:
    """Whether most letters of `text` are Latin: a script test, reliable on a few words where
    language identification is not ("Obama speaks" reads as Estonian)."""
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if unicodedata.name(c, "").startswith("LATIN"))
    return not letters or latin * 2 >= len(letters)


def has_han(text: str) -> bool:
    return HAN.search(text) is not None


def is_han(token: str) -> bool:
    """True when every character of `token` is a Han ideograph."""
    return bool(token) and HAN_RUN.fullmatch(token) is not None


def _identity(text: str) -> str:
    return text


@cache
def _opencc(config: str) -> Callable[[str], str]:
    """OpenCC's converter for `config` ("t2s", "s2t"), loaded once; the identity when OpenCC
    is missing (an optional dependency) or its data files are."""
    try:
        import opencc

        convert: Callable[[str], str] = opencc.OpenCC(config).convert
        return convert
    except Exception:
        return _identity


def to_simplified(text: str) -> str:
    """`text` with Traditional Chinese characters in Simplified form, same length; else as-is.

    Uses OpenCC when it is installed (an optional dependency). A conversion that would change
    the length is refused, so that callers may map offsets back to the original text.
    """
    if not has_han(text):
        return text
    converted = _opencc("t2s")(text)
    return converted if len(converted) == len(text) else text


def can_convert_traditional() -> bool:
    """True when OpenCC is available, i.e. `to_simplified` really converts."""
    return _opencc("t2s") is not _identity


def to_traditional(text: str) -> str:
    """`text` with Simplified Chinese characters in Traditional form (OpenCC's s2t, which
    picks among one-to-many forms by phrase); as-is without OpenCC or Han characters. For
    text written for a Traditional reader by a model that answered in Simplified."""
    return _opencc("s2t")(text) if has_han(text) else text

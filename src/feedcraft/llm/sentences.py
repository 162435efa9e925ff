"""Sentences and length units for English and Chinese text.

Length budgets count what a reader counts: words in space-separated languages, characters
in Chinese (a Han character is roughly a word's worth of meaning). Mixed text counts both:
"DEA回收日" is one word plus three characters. Japanese kana count per character like Han;
Thai, Lao, Khmer and Myanmar, written without spaces between words, count a unit per four
characters (about a word): counted by spaces, a whole paragraph of Thai would be one "word"
and no length budget could hold it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

from feedcraft.text.script import HAN_CLASS, KANA_CLASS

__all__ = [
    "Sentence",
    "clip_chars",
    "count_units",
    "iter_sentences",
    "split_sentences",
    "truncate_units",
]

# A Chinese sentence ends at 。！？ (and ；, which joins independent clauses), "……", or ASCII
# !?. right after a Han character (machine-translated text such as xMIND uses ASCII marks);
# then come any closing quotes or brackets.
_ZH_END = re.compile(
    f"(?:[。！？；]+|…+|(?<=[{HAN_CLASS}])(?:[!?]+|\\.(?=\\s|[{HAN_CLASS}]|$)))[」』”’）)\\]]*"
)
# An English sentence ends at . ! ? (plus closing quotes/brackets) before whitespace and
# anything but a lower-case letter (a capital, digit, Han character, quote, bracket, tag).
_EN_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+(?![a-z])\S)")
_ABBREVIATION_LIST = """
    mr mrs ms dr prof sr jr st mt vs etc inc ltd co corp gen gov sen rep lt col capt sgt
    jan feb mar apr jun jul aug sep sept oct nov dec no nos fig approx dept est
    e.g i.e u.s u.k u.n a.m p.m"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_LIST.split())
# Words that start a sentence and hardly ever continue a name: after a dotted initialism
# ("the U.S. The first ...", "at 9 a.m. After ...") they mean its dot also ends the sentence,
# where "U.S. Army" or "D.C. United" go on. "e.g." and "i.e." always introduce more.
_SENTENCE_STARTERS = frozenset(
    """The A An In On At After Before But He She It They We This That These Those There
    Their His Her Its When While However Meanwhile Although If As According Despite During
    Last Earlier Later Now Some Many Most""".split()  # noqa: SIM905 (a word list)
)
_OPEN_ENDED = frozenset(("e.g", "i.e"))
_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
_UNIT = re.compile(
    f"[{HAN_CLASS}{KANA_CLASS}]|[{_UNSPACED}]{{1,4}}|[^\\s{HAN_CLASS}{KANA_CLASS}{_UNSPACED}]+"
)
_WORD_BREAK = re.compile(r"\s+")
_LINE_BREAK = re.compile(r"\n\s*\n|\n")
# A list marker opening a line: a bullet, or an enumerator ("1.", "2)", "(3)", "a.", "iv.",
# "IV.", "1、", "一、", "（二）"). A single capital and a full stop ("J. Smith said") is an
# initial, not an enumerator, so capital letters count only before ")" or as a Roman numeral
# of two or more letters; Roman numerals are well formed up to 39 ("civil." is a word). "1、"
# or "一、" before another number is a list of numbers ("1、2月份", January and February).
_ZH_DIGITS = "一二三四五六七八九十"
_ROMAN = r"(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})"
_ROMAN_CAPS = r"(?=[IVX]{2})X{0,3}(?:IX|IV|V?I{0,3})"
_LIST_MARKER = re.compile(
    rf"(?:[-*•·▪–]|(?:\d{{1,3}}|[a-z]|{_ROMAN}|{_ROMAN_CAPS})[.)]|[A-Z]\)"
    rf"|\((?:\d{{1,3}}|[a-zA-Z]|{_ROMAN}|{_ROMAN_CAPS})\))(?:\s+|$)"
    rf"|(?:\d{{1,3}}|[{_ZH_DIGITS}]{{1,3}})、(?![0-9０-９{_ZH_DIGITS}])"
    rf"|[（(][{_ZH_DIGITS}\d]{{1,3}}[)）]\s*"
)


class Sentence(NamedTuple):
    """A sentence of a text: `item` when its line is a list item (the marker is stripped),
    `first` when it opens its line (an item's later sentences do not start the item)."""

    text: str
    item: bool = False
    first: bool = True


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the '.' at `end` closes an abbreviation or an initial ("Mr.", "U.S.", "J.")
    and not the sentence too: a dotted initialism before a word in `_SENTENCE_STARTERS` ends
    one ("... to the U.S. The first ...")."""
    start = end
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "(\"'“‘":
        start -= 1
    word = text[start:end].lower().rstrip(".")
    if not word:
        return False
    # single letters and dotted initialisms: "J", "U.S", "D.C"
    initials = word.split(".")
    initialism = all(len(part) == 1 and part.isalpha() for part in initials)
    if initialism and len(initials) > 1 and word not in _OPEN_ENDED:
        following = text[end : end + 40].split(maxsplit=2)  # bounded: called per dot
        if len(following) > 1 and following[1] in _SENTENCE_STARTERS:
            return False
    return initialism or word in _ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` in order, stripped; paragraph breaks always end a sentence."""
    out: list[str] = []
    for paragraph in _LINE_BREAK.split(text or ""):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        cuts = [m.end() for m in _ZH_END.finditer(paragraph)]
        for m in _EN_END.finditer(paragraph):
            if m.group(0).startswith(".") and _is_abbreviation(paragraph, m.start()):
                continue
            cuts.append(m.end())
        start = 0
        for cut in sorted(set(cuts)):
            piece = paragraph[start:cut].strip()
            if piece:
                out.append(piece)
            start = cut
        tail = paragraph[start:].strip()
        if tail:
            out.append(tail)
    return out


def iter_sentences(text: str) -> Iterator[Sentence]:
    """Sentences of `text` in order, with list markers taken off their items: a line-initial
    "1." or "-" is neither a sentence nor part of the item's text. Lazy, so that a caller
    wanting only the leading sentences of a huge text does not split all of it."""
    for line in _LINE_BREAK.split(text or ""):
        line = line.strip()
        marker = _LIST_MARKER.match(line)
        if marker:
            line = line[marker.end() :]
        for i, piece in enumerate(split_sentences(line)):
            yield Sentence(piece, marker is not None, i == 0)


def count_units(text: str) -> int:
    """Length in reader units: Han characters plus words of other scripts."""
    return sum(1 for m in _UNIT.finditer(text or "") if any(ch.isalnum() for ch in m.group(0)))


def truncate_units(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """`text` cut to at most `limit` units at a unit boundary, marked with `ellipsis` if cut."""
    if limit < 1:
        return ""
    if count_units(text) <= limit:
        return text
    n = 0
    end = 0
    for m in _UNIT.finditer(text):
        if any(ch.isalnum() for ch in m.group(0)):
            n += 1
            if n > limit:
                break
        end = m.end()
    while end < len(text) and unicodedata.category(text[end]).startswith("M"):
        end += 1  # a vowel or tone mark belongs to the letter before it (Thai, Myanmar, ...)
    return text[:end].rstrip(" ,;:，、；：-—") + ellipsis


#: How far back from a character limit a clean cut is looked for: a sentence's end, else a space.
_CUT_WINDOW = 2_000
_CUT_SENTENCE_END = re.compile(r"[.!?…][\"'”’)）」』]*\s|[。！？]|\n")
_CUT_SPACE = re.compile(r"\s")


def clip_chars(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, cut after the last sentence that ends in the
    final `_CUT_WINDOW` characters, else at the last whitespace there, else at the limit
    itself (never between a letter and its combining marks). An outsized body is cut so,
    not at its last space: Chinese has none, and the last one may end the dateline."""
    if len(text) <= limit:
        return text
    start = max(0, limit - _CUT_WINDOW)
    window = text[start:limit]
    for pattern in (_CUT_SENTENCE_END, _CUT_SPACE):
        ends = [m.end() for m in pattern.finditer(window)]
        if ends:
            return text[: start + ends[-1]].rstrip()
    end = limit
    while end > 0 and unicodedata.category(text[end]).startswith("M"):
        end -= 1
    return text[:end]

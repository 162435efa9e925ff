"""Finding configured banned terms in generated text, however they are spelled.

A model (or an injected source) can write a banned term in a form a plain search misses: an
inflection ("cures" for "cure"), another run of spaces ("free\\nmoney"), another hyphen
("anti‑aging", "antiaging"), a curly apostrophe ("can’t"), a Cyrillic look-alike letter inside
a Latin word ("сure") or an invisible character inside it. Each is matched here; the word
boundaries stay, so "secure" and "procure" do not hit "cure".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from feedcraft.llm.numerals import fold
from feedcraft.text.lexicon import inflections
from feedcraft.text.script import HAN, to_simplified

__all__ = ["banned_terms_in", "usable_term"]

# Default-ignorable characters that `fold` (NFKC and safety.strip_invisible) keeps: combining
# grapheme joiner, variation selectors, tag characters, the Arabic letter mark, Hangul fillers,
# the Mongolian vowel separator. Inside a Latin word they can only hide it.
_IGNORABLE = re.compile(
    "[\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0000-\U000e0fff]"
)
# Cyrillic and Greek letters drawn like Latin ones; replaced only inside a word that also has
# Latin letters ("сure"), so Russian or Greek text is left as it is.
_LOOK_ALIKES = str.maketrans(
    "аеорсухіјѕԁԛѡвнкмтАВЕКМНОРСТУХІЈЅοαινκρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwbhkmtABEKMHOPCTYXIJSoaivkptuxABEZHIKMNOPTYX",
)
_MIXED_WORD = re.compile(r"\w*(?:[a-zA-Z]\w*[\u0370-\u04ff]|[\u0370-\u04ff]\w*[a-zA-Z])\w*")
_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_APOSTROPHES = "'\u2018\u2019\u02bc\u02bb\u0060\u00b4"
_PIECE = re.compile(rf"(\s+|[{_HYPHENS}]|[{_APOSTROPHES}])")


def _normalise(text: str) -> str:
    text = _IGNORABLE.sub("", to_simplified(fold(text)))
    return _MIXED_WORD.sub(lambda m: m[0].translate(_LOOK_ALIKES), text)


@lru_cache(maxsize=4096)
def usable_term(term: str) -> bool:
    """False for a term that is empty once folded ("\\ufeff", "\\u200b"): it would match
    everywhere, banning every text."""
    return bool(_normalise(term).strip())


@lru_cache(maxsize=4096)  # every candidate is checked against the same configured terms
def _pattern(term: str) -> re.Pattern[str]:
    term = _normalise(term).strip()
    pieces = _PIECE.split(term)
    parts: list[str] = []
    for i, piece in enumerate(pieces):
        if not piece:
            continue
        if piece.isspace():
            parts.append(r"\s+")
        elif piece in _HYPHENS:
            parts.append(rf"[{_HYPHENS}\s]?")  # "anti-aging", "anti–aging", "antiaging"
        elif piece in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]")
        elif i == len(pieces) - 1 and piece.isascii() and piece.isalpha() and len(piece) >= 3:
            forms = sorted(inflections(piece.lower()), key=len, reverse=True)
            parts.append(f"(?:{'|'.join(map(re.escape, forms))})")
        else:
            parts.append(re.escape(piece))
    body = "".join(parts)
    if HAN.search(term):
        return re.compile(body, re.I)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.I)


def banned_terms_in(text: str, terms: Iterable[str]) -> list[str]:
    """The terms (as configured) that `text` contains, in order; unusable terms are skipped."""
    normalised = _normalise(text)
    return [t for t in terms if usable_term(t) and _pattern(t).search(normalised)]

"""Is a capitalised English word a name or an ordinary word?

A sentence's first word is capitalised whatever it is, so "Obama said ..." and "Police
said ..." look alike; the guardrails must tell them apart to check the name against the source.
The test is a dictionary that writes names with a capital and other words without: web2 (the
1934 Webster's word list shipped with BSD's /usr/share/dict, public domain, 235,970 entries),
packaged on PyPI as `english-words`. A word is ordinary when web2 has it in lower case, directly
or after a regular ending is removed ("Officials" -> "official", "Earlier" -> "early").

The list is old, so modern words ("Email", "Online") read as names; they are checked against
the source like any name, which costs a retry only when the source lacks them. Names that are
also words ("Brown", "Bush", "China" as porcelain) read as words and go unchecked: the test
errs towards letting text through.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["inflections", "is_ordinary_word"]

# Regular endings, each with what replaces it; tried in turn on the lower-cased word.
_ENDINGS = (
    ("ies", "y"),  # authorities
    ("ier", "y"),  # earlier
    ("iest", "y"),
    ("es", ""),
    ("s", ""),
    ("ed", ""),
    ("ed", "e"),  # announced
    ("d", ""),
    ("ing", ""),
    ("ing", "e"),  # driving
    ("er", ""),
    ("est", ""),
    ("ly", ""),
    ("men", "man"),  # women, firemen
)
_DOUBLED = re.compile(r"([b-df-hj-np-tv-z])\1(?:ed|ing|er|est)$")  # stopped, running, bigger
_APOSTROPHE = re.compile(r"['’]")
_NOT = re.compile(r"n['’]t$")  # isn't, doesn't, won't (wo)


@cache
def _lower_case_entries() -> frozenset[str]:
    """web2's words written in lower case (its names are capitalised); ~0.1 s on first use."""
    from english_words import get_english_words_set

    return frozenset(w for w in get_english_words_set(["web2"]) if w.islower())


def _forms(word: str) -> list[str]:
    forms = [word]
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            forms.append(word[: -len(ending)] + replacement)
    if m := _DOUBLED.search(word):
        forms.append(word[: m.start() + 1])
    return forms


def inflections(word: str) -> set[str]:
    """`word` with the regular endings of a noun or verb that `_ENDINGS` removes: "cure" gives
    "cures", "cured", "curing"; "stop" "stopped"; "remedy" "remedies". For matching a term in
    its forms (banned terms); some forms are not words ("curees"), which costs nothing."""
    w = word.lower()
    forms = {w, w + "s", w + "ed", w + "ing"}
    if w.endswith(("s", "x", "z", "ch", "sh", "o")):
        forms.add(w + "es")
    if w.endswith("e"):
        forms |= {w + "d", w[:-1] + "ing"}
    if w.endswith("y") and len(w) > 2 and w[-2] not in "aeiou":
        forms |= {w[:-1] + "ies", w[:-1] + "ied"}
    if re.fullmatch(r".*[aeiou][b-df-hj-np-tvz]", w) and not re.search(r"[aeiou]{2}.$", w):
        forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}  # stopped, banning
    return forms


def is_ordinary_word(word: str) -> bool:
    """True when `word` (any case) is an English word other than a name: "Police",
    "Researchers", "Don't", "Self-driving"; False for "Obama", "Instagram", "Émile".

    One-letter words are ordinary ("I", "A"). Hyphenated words are ordinary when every part
    is; a contraction or possessive is judged by the part before its apostrophe.
    """
    w = word.strip(".-'’").lower()
    if len(w) <= 1:
        return True
    if _APOSTROPHE.search(w):
        w = _NOT.sub("", w)
        w = _APOSTROPHE.split(w)[0]
        if len(w) <= 1:
            return True
    parts = [p for p in w.split("-") if p]
    entries = _lower_case_entries()
    return bool(parts) and all(any(f in entries for f in _forms(p)) for p in parts)

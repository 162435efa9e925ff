"""Is a capitalised English word a name or an ordinary word?

A sentence's first word is capitalised whatever it is, so "Obama said ..." and "Police
said ..." look alike; the guardrails must tell them apart to check the name against the source.
The test is a dictionary that writes names with a capital and other words without: web2 (the
1934 Webster's word list shipped with BSD's /usr/share/dict, public domain, 235,970 entries),
packaged on PyPI as `english-words`. A word is ordinary when web2 has it in lower case, directly
or after a regular ending is removed ("Officials" -> "official", "Earlier" -> "early").

The list is old, so modern words ("Email", "Online") read as names; they are checked against
the source like any name, which costs a retry only when the source lacks them.

Names that are also words ("Brown", "China" as porcelain, the "Jets") read as words there;
`may_be_name` adds what a sentence start needs on top: a country or US state, a major-league
team nickname, or a name in the 1990 US Census lists (PyPI `names`) that is much commoner as a
name than as a word, by wordfreq's frequency ("Smith", "Bell"; not "Young", "White", "May").
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib.resources import files
from itertools import takewhile

__all__ = ["inflections", "is_ordinary_word", "may_be_name"]

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


# Countries (ISO 3166 short names, and "Turkey") and US states that web2 has in lower case.
_PLACE_NAMES = """antarctica bolivia brazil canada chad chile china finland gambia guernsey guinea
    iceland japan jersey jordan macao mali morocco mozambique niger panama tonga turkey zimbabwe
    colorado michigan montana"""
# US major-league team nicknames that web2 has in lower case, less those a paraphrase uses as
# plain words (Bills, Bulls, Hawks, Hurricanes, Rays, Senators, Rangers, Giants...).
_TEAM_NAMES = """falcons ravens panthers browns cowboys broncos lions packers colts jaguars chiefs
    dolphins vikings patriots jets eagles steelers buccaneers redskins hornets cavaliers
    mavericks nuggets pistons clippers lakers grizzlies bucks pelicans knicks sixers blazers
    spurs raptors wizards diamondbacks braves orioles cubs rockies tigers dodgers marlins brewers
    mets padres mariners ducks coyotes bruins oilers flyers penguins sharks kraken"""
_KNOWN_NAMES = frozenset((_PLACE_NAMES + " " + _TEAM_NAMES).split())
# A census name is a name at a sentence start when log10(its share of people, in %) minus the
# word's Zipf frequency is at least this. Chosen on MIND's entity marks
# (benchmarks/sentence_start_names.py): Smith 1.006% and Zipf 4.9 scores -4.9, Bell -5.5,
# Green -5.9, Young -6.1, Strong -7.0, Will -8.2.
_NAME_SCORE = -5.75
_CENSUS_FILES = ("dist.all.last", "dist.male.first", "dist.female.first")
_POSSESSIVE = re.compile(r"['’]s$")


@cache
def _census_shares() -> dict[str, float]:
    """Lower-cased names of the 1990 US Census lists (public domain) with their share of people
    in % (the larger where a name is in several lists); ~0.05 s on first use. The files are
    sorted by share: reading stops where shares round to 0.000 (22,872 names are kept)."""
    shares: dict[str, float] = {}
    for name in _CENSUS_FILES:
        with (files("names") / name).open(encoding="ascii") as f:
            lines = list(takewhile(lambda line: " 0.000 " not in line, f))
        for line in lines:
            word, share = line.split()[:2]
            key = word.lower()
            shares[key] = max(shares.get(key, 0.0), float(share))
    return shares


def _zipf(word: str) -> float:
    """log10 of the word's frequency per billion words (0 when rarer than wordfreq's small list
    knows), any case: its uses as a name count too, which only makes the test stricter.
    wordfreq's import and list take ~0.2 s on first use."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en", wordlist="small"))


def may_be_name(word: str) -> bool:
    """True when a capitalised `word` opening a sentence may be a name: it is not an ordinary
    word ("Obama"), or is a place, team or common census name whose ordinary sense is rarer
    ("China", "Jets", "Brown", "Smith's"); False for "Police", "Young", "Strong", "Don't".
    """
    if not is_ordinary_word(word):
        return True
    key = _POSSESSIVE.sub("", word.strip(".-'’")).lower()
    if not key.isalpha():
        return False
    if key in _KNOWN_NAMES:
        return True
    share = _census_shares().get(key)
    return share is not None and math.log10(share) - _zipf(key) >= _NAME_SCORE

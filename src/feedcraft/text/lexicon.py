"""Is a capitalised English word a name or an ordinary word?

A sentence's first word is capitalised whatever it is, so "Obama said ..." and "Police
said ..." look alike; the guardrails must tell them apart to check the name against the source.
The test is a dictionary that writes names with a capital and other words without: web2 (the
1934 Webster's word list shipped with BSD's /usr/share/dict, public domain, 235,970 entries),
packaged on PyPI as `english-words`. A word is ordinary when web2 has it in lower case, directly
or after a regular ending is removed ("Officials" -> "official", "Earlier" -> "early").

The list is old, so modern words ("Email", "Online") are not in it; they are ordinary when a
cased vocabulary (`cased_vocabulary`: Gemma 3's tokenizer, frequency-ordered) writes them in
lower case at least twice as often as capitalised, or has them in lower case only
("Firefighters", "Meantime"), and they are not census names ("Tim"), much commoner in
another language than in English ("Salah", "Notre", "Forza") nor one of the few names among
them ("Adidas", "Interpol", "Viagra": `_LOWER_CASE_NAMES`).

Names that are also words ("Brown", "China" as porcelain, the "Jets") read as words there;
`may_be_name` adds what a sentence start needs on top: a country or US state, a major-league
team nickname, a name in the 1990 US Census lists (PyPI `names`) that is much commoner as a
name than as a word, by wordfreq's frequency ("Smith", "Bell"; not "Young", "White", "May"),
or a word the cased vocabulary writes capitalised more than three times as often as in lower
case ("Trump", "Democrats", "Pentagon"; not "Police", "Apple", "Moreover").
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib.resources import files
from itertools import takewhile

from feedcraft.text.cased_vocabulary import case_lean, lower_case_only
from feedcraft.text.cased_vocabulary import warm as _warm_vocabulary
from feedcraft.text.tokenize import english_stopwords

__all__ = [
    "capitalised_word",
    "common_name",
    "inflections",
    "is_ordinary_word",
    "may_be_name",
    "name_key",
    "warm",
]

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
    "Researchers", "Don't", "Self-driving", "Email"; False for "Obama", "Instagram", "Émile".

    One-letter words are ordinary ("I", "A"). Hyphenated words are ordinary when every part
    is; a contraction or possessive is judged by the part before its apostrophe.
    """
    return _in_dictionary(word, modern=True)


def _in_dictionary(word: str, *, modern: bool = False) -> bool:
    """`is_ordinary_word` by web2 alone, or (`modern`) also by the cased vocabulary."""
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
    return bool(parts) and all(
        any(f in entries for f in _forms(p)) or (modern and _written_lower(p)) for p in parts
    )


# A word web2 lacks is ordinary when the cased vocabulary writes it (or, for "Firefighters",
# one of its `_forms` of 5 letters or more) in lower case at least 10**0.3 = 2 times as often
# as capitalised, or in lower case only: three in four of web2's own lower-case words that the
# vocabulary has in both forms lean at least that far (Email -0.64, Podcast -0.42).
_LOWER_CASE_LEAN = -0.3
# ... and when it has 5 letters or more and wordfreq gives it a Zipf frequency of 3 or more
# (once per million words): shorter lower-case pieces are mostly abbreviations ("nato", "oz",
# "dem") and rarer ones fragments or other languages' words ("esper" of "esperanza").
_MODERN_LENGTH = 5
_MODERN_ZIPF = 3.0
# ... and when no language of `_OTHER_LANGUAGES` has it 10**1.5 = 32 times commoner than
# English does: Gemma 3 is multilingual, so "salah" (Malay, Indonesian), "notre", "monde",
# "forza" and "serie" lean to lower case, while English loans abroad stay close ("website"
# +0.47 in Dutch, "smartphone" +0.57 in Indonesian, "latte" +1.41 in Italian); the cut-off is
# the widest gap between those two groups over every word the rule reads as ordinary
# (benchmarks/sentence_start_names.py).
_FOREIGN_MARGIN = 1.5
_OTHER_LANGUAGES = ("fr", "es", "it", "pt", "de", "nl", "id", "ms", "tr")
# ... and when it is none of the names the vocabulary writes mostly in lower case (hashtags,
# web addresses, spam), found by reading every word the rule makes ordinary (733, listed by
# benchmarks/sentence_start_names.py): two brands, an organisation and a web framework;
# "Aussies" (a demonym) and "iPhone" (never capitalised so) stay words.
_LOWER_CASE_NAMES = frozenset(["adidas", "interpol", "viagra", "django"])


def _written_lower(word: str) -> bool:
    """A modern word mostly written in lower case ("email", "podcast", "firefighters"); never
    a census name, whose lower-case form may be a common word elsewhere ("Tim", "Max" lean
    -0.33, -0.52), another language's word ("salah") nor a listed name ("adidas")."""
    if len(word) < _MODERN_LENGTH or not word.isalpha() or word in _census_shares():
        return False
    if word in _LOWER_CASE_NAMES:
        return False
    forms = (f for f in _forms(word) if len(f) >= _MODERN_LENGTH)
    if not any(_lower_case_evidence(f) for f in forms):
        return False
    english = _zipf(word)
    return english >= _MODERN_ZIPF and _foreign_zipf(word) - english < _FOREIGN_MARGIN


def _lower_case_evidence(form: str) -> bool:
    lean = case_lean(form)
    return lower_case_only(form) if lean is None else lean <= _LOWER_CASE_LEAN


def _foreign_zipf(word: str) -> float:
    """The word's highest Zipf frequency in `_OTHER_LANGUAGES` (wordfreq's small lists)."""
    from wordfreq import zipf_frequency

    return max(float(zipf_frequency(word, lang, wordlist="small")) for lang in _OTHER_LANGUAGES)


# Countries (ISO 3166 short names, and "Turkey") and US states that web2 has in lower case.
_PLACE_NAMES = """antarctica bolivia brazil canada chad chile china finland gambia guernsey guinea
    iceland japan jersey jordan macao mali morocco mozambique niger panama tonga turkey zimbabwe
    colorado michigan montana"""
# US major-league team nicknames that web2 has in lower case (or the cased vocabulary only in
# lower case: "canadiens"), less those a paraphrase uses as plain words (Bills, Bulls, Hawks,
# Hurricanes, Rays, Senators, Rangers, Giants...).
_TEAM_NAMES = """falcons ravens panthers browns cowboys broncos lions packers colts jaguars chiefs
    dolphins vikings patriots jets eagles steelers buccaneers redskins hornets cavaliers
    mavericks nuggets pistons clippers lakers grizzlies bucks pelicans knicks sixers blazers
    spurs raptors wizards diamondbacks braves orioles cubs rockies tigers dodgers marlins brewers
    mets padres mariners ducks coyotes bruins oilers flyers penguins sharks kraken canadiens"""
_KNOWN_NAMES = frozenset((_PLACE_NAMES + " " + _TEAM_NAMES).split())
# A census name is a name at a sentence start when log10(its share of people, in %) minus the
# word's Zipf frequency is at least this: Smith 1.006% and Zipf 4.9 scores -4.9, Bell -5.5,
# Green -5.9, Young -6.1, Strong -7.0, Will -8.2.
_NAME_SCORE = -5.75
# A word web2 knows is a name at a sentence start when the cased vocabulary writes it
# capitalised at least 10**0.5 = 3.2 times as often as in lower case (Trump +0.59, Phoenix
# +0.62, Democrats +0.99; Apple +0.25, Watt -0.05, Cruise -0.34, Police -0.35).
# Both cut-offs are chosen together on MIND's entity marks in half of its items (split by news
# id), the other half held out (benchmarks/sentence_start_names.py).
_CAPITALISED_LEAN = 0.5
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
    word ("Obama"), or is a place, team, common census name or mostly capitalised word whose
    ordinary sense is rarer ("China", "Jets", "Brown", "Smith's", "Trump", "Democrats"); False
    for "Police", "Young", "Strong", "Don't", "Email", "Moreover".
    """
    if not is_ordinary_word(word):
        return True
    key = name_key(word)
    return key.isalpha() and (common_name(key) or capitalised_word(key))


def name_key(word: str) -> str:
    """The lower-case word a name test looks up: no edge punctuation or possessive."""
    return _POSSESSIVE.sub("", word.strip(".-'’")).lower()


def common_name(key: str, cut_off: float = _NAME_SCORE) -> bool:
    """A listed place or team, or a census name whose log10(share of people, %) minus the
    word's Zipf frequency is at least `cut_off` ("smith", not "young")."""
    if key in _KNOWN_NAMES:
        return True
    share = _census_shares().get(key)
    return share is not None and math.log10(share) - _zipf(key) >= cut_off


def capitalised_word(key: str, cut_off: float = _CAPITALISED_LEAN) -> bool:
    """The cased vocabulary leans to the capitalised form by at least `cut_off` ("trump"),
    and it is no function word: "Moreover" and "Furthermore" lean +0.63 and +0.72, as words
    that mostly open a sentence do; a function word is an English stopword or two joined."""
    lean = case_lean(key)
    return lean is not None and lean >= cut_off and not _function_word(key)


def _function_word(key: str) -> bool:
    stop = english_stopwords()
    return key in stop or any(key[:i] in stop and key[i:] in stop for i in range(2, len(key) - 1))


def warm() -> None:
    """Load everything the tests above read (web2, the census lists, wordfreq's lists and the
    cased vocabulary, ~1 s together), so that the first checked output does not wait for it."""
    _lower_case_entries()
    _census_shares()
    _zipf("the")
    _foreign_zipf("the")
    _warm_vocabulary()
    english_stopwords()

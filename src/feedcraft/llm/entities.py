"""Names in generated text, for the guardrails' entities check: which words are names, and
whether the source licenses them.

A capitalised span is the cheap stand-in for named-entity recognition in English; a dictionary,
census names, places and teams tell a name that starts a sentence from an ordinary word (see
`text.lexicon`). A name word is licensed by the same word in the source, inflected or as a
demonym ("Brazilian" ~ "Brazil"); adjacent name words must be adjacent there ("Eduardo
Rodrigues" is not "Eduardo Campos and Roberto Rodrigues"). Two kinds of word are compared
otherwise:

- months, as dates are (`dates`): "Nov." is "November", and "2019-03-05" or "3/5" gives March;
  a month licenses no other name ("Nov." is not "Novak");
- acronyms, without their dots ("U.S." = "US") and by their capitals: "US" is no pronoun, so
  "told us" does not license it, while "United States" does (initials of a capitalised span);
- an ordinary word capitalised mid-sentence, by the source's capitalised word: "the Labour
  leader" is a name, which "labour costs" does not license (`_needs_capital`);
- a month word by its sense, in the output and the source alike (`_month_sense`): a month
  after "in" or before a day ("in May", "May 5") is licensed by a month only, a name after
  or before a capitalised word ("Theresa May", "June Carter") by a name only.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property
from itertools import pairwise
from os.path import commonprefix
from typing import Literal, NamedTuple

from feedcraft.llm.dates import MONTH_NAMES, MONTHS, months_of
from feedcraft.llm.numerals import fold, source_dates
from feedcraft.text.cased_vocabulary import case_lean
from feedcraft.text.lexicon import is_ordinary_word, may_be_name, name_key
from feedcraft.text.script import HAN
from feedcraft.text.tokenize import english_stopwords

__all__ = ["WORD", "Vocabulary", "entities_in", "unknown_entities"]

WORD = re.compile(r"[^\W\d_][\w'’.-]*[^\W_]|[^\W\d_]")
# Lower-case words that may join a multi-word name ("Luiz Inácio Lula da Silva").
_CONNECTOR_WORDS = "of de da do dos das del della di du la le van von der den bin al el y and the"
_CONNECTORS = frozenset(_CONNECTOR_WORDS.split())
# What follows a month that opens a sentence as a date: a day or a year ("May 5 was the
# deadline", "Nov. 18 vote", "March 2019 saw"), not "May 50 people" nor "May they".
_DAY_OR_YEAR = re.compile(r"\.?[ \t]+(?:\d{1,2}|1\d{3}|2\d{3})(?![\d,.]\d|\d)")
# Stopwords that are also common acronyms: in capitals, none is licensed by the word in lower
# case ("told us" is no US, "the man who" no WHO).
_ACRONYM_WORDS = frozenset(["us", "un", "it", "who", "am", "is"])
# Countries an acronym names ("US" for "America", not for "South America" or "Bank of America").
_COUNTRIES = {
    "america": "US",
    "american": "US",
    "americans": "US",
    "britain": "UK",
    "british": "UK",
}
_REGIONS = frozenset(["North", "South", "Central", "Latin", "of", "Anglo"])
# Initials with dots ("U.S", "U.K.", "e.g"): compared without them.
_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]\.?")
# Inflection and demonym endings, before which a final vowel may drop ("China" -> "Chinese");
# a shared prefix alone would accept other names (Austria ~ Australia, Micron ~ Microsoft).
_ENDING = re.compile(r"(?:(?<=e)d|(?<=a)n|(?<=[sxzh])es|s|ed|ing|ian|an|ese|ic|ies|i)s?")
_INFLECTION = re.compile(r"(?:(?<=e)d|(?<=[sxzh])es|s|ed|ing)$")
_DEMONYM_PAIRS = """britain:british france:french spain:spanish netherlands:dutch england:english
    ireland:irish scotland:scottish wales:welsh greece:greek sweden:swedish denmark:danish
    finland:finnish norway:norwegian poland:polish turkey:turkish switzerland:swiss"""
_DEMONYMS = [tuple(pair.split(":")) for pair in _DEMONYM_PAIRS.split()]
# Ordinary words that are part of a place's name ("North Korea" is not "South Korea").
_DIRECTION_WORDS = "north south east west northern southern eastern western central upper lower"
_DIRECTIONS = frozenset(_DIRECTION_WORDS.split())
# What makes a month word a month: a cue before it ("in May", "last May", "mid-May", "5 May",
# "the 5th of May"); a day or year after it is `_DAY_OR_YEAR`.
_MONTH_CUE = re.compile(
    r"(?:\b(?i:in|since|until|till|through|during|from|last|next|this|early|late|of|by|each|every)"
    r"[ \t]+|\b(?i:mid|early|late)-|\d(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?)$"
)
# ... and a name: a capitalised word right before it ("Theresa May", "Prime Minister May",
# "Mrs. May") or after it ("June Carter"), other than a weekday, a month or a function word.
_WORD_BEFORE = re.compile(r"(?<![\w'’.-])([^\W\d_][\w'’-]*)(\.?)[ \t]+$")
_WORD_AFTER = re.compile(r"[ \t]+([^\W\d_][\w'’-]*)")
_TITLE_WORDS = "mr mrs ms dr gov sen rep gen lt col capt sgt prof st"
_TITLES = frozenset(_TITLE_WORDS.split())
_WEEKDAY_NAMES = "monday tuesday wednesday thursday friday saturday sunday"
_WEEKDAYS = frozenset(_WEEKDAY_NAMES.split())
# Offices and institutions that one paraphrase capitalises and another not ("the President",
# "the Government", "prime minister Theresa May"), none of them a common name of its own.
_OFFICE_WORDS = """president vice prime minister premier chancellor secretary senator governor
    mayor government administration parliament congress senate cabinet ministry department
    federal state pope internet"""
_OFFICES = frozenset(_OFFICE_WORDS.split())
_NUMBER_AFTER = re.compile(r"[ \t]+\d")
_QUOTES = "\"'“‘「『"
_MONTH_WORD = re.compile(rf"\b(?:{'|'.join(m.capitalize() for m in MONTHS)})\b")
_Sense = Literal["month", "name", "either"]


class _Span(NamedTuple):
    """Capitalised words side by side (connectors between), where they are in the text, and
    whether they open a sentence (or follow a colon, a dash, a quote)."""

    words: list[str]
    places: list[tuple[int, int]]
    initial: bool


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


def _undotted(word: str) -> str:
    """Initials without their dots ("U.S." -> "US", "U.S.-Mexico" -> "US-Mexico"); any other
    word as it is."""
    parts = word.split("-")
    return "-".join(p.replace(".", "") if _DOTTED.fullmatch(p) else p for p in parts)


def _acronym(word: str) -> str | None:
    """`word` as an acronym of 2+ capitals, dots and possessive dropped ("U.S.'s" -> "US");
    None for any other word ("I", "Nasa", "CEOs", "US-China")."""
    key = _undotted(re.sub(r"['’]s$", "", word))
    return key if len(key) > 1 and key.isalpha() and key.isupper() else None


def _month(word: str) -> int | None:
    """The month a capitalised month name or abbreviation stands for ("Sept" -> 9)."""
    return MONTHS.get(word.lower()) if _is_capitalised(word) else None


def _in_capitals(words: list[str]) -> bool:
    """Whether a text is written in capitals ("STORM HITS THE COAST"): its acronyms cannot be
    told from its words."""
    long = [w for w in words if len(w) > 1]
    return len(long) >= 3 and sum(w.isupper() for w in long) >= 0.8 * len(long)


def entities_in(text: str, *, title_case: bool | None = None) -> list[str]:
    """Capitalised spans of Latin-script words that are not just a sentence's first word
    (`_spans`)."""
    return [" ".join(span.words) for span in _spans(text, title_case)[0]]


def _spans(text: str, title_case: bool | None) -> tuple[list[_Span], bool, str]:
    """Capitalised spans of Latin-script words that are not just a sentence's first word.

    A span starting a sentence counts when it has two or more words, is an acronym
    ("Luiz Inácio", "NASA"), is a month with a day or year ("May 5 was the deadline") or is a
    lone word that may be a name: one a dictionary does not know as an ordinary word
    ("Obama"), or a place, team or common surname whose ordinary sense is rarer ("China",
    "Jets", "Brown"); "Police" and "Young" are words (see `text.lexicon`).
    In title-case text (headlines) every capitalised word is a candidate; the caller matches
    common words against the source, so "Meets" passes when the source says "meeting".
    """
    # Han characters become a neutral letter: a Latin word after them is mid-sentence, and
    # \w would otherwise glue "与IBM高管" into one token.
    text = HAN.sub(" x ", fold(text))
    words = list(WORD.finditer(text))
    if title_case is None:
        caps = sum(1 for m in words if _is_capitalised(m.group(0)))
        title_case = len(words) >= 3 and caps / len(words) >= 0.6
    spans: list[_Span] = []
    i = 0
    while i < len(words):
        m = words[i]
        if not _is_capitalised(m.group(0)):
            i += 1
            continue
        before = text[: m.start()].rstrip(" \t\"'“‘([「『")
        initial = not before or before[-1] in ".!?:;\n。！？：；—–-|"
        j = i + 1
        while j < len(words):
            gap = text[words[j - 1].end() : words[j].start()]
            if gap.strip():
                break
            w = words[j].group(0)
            if _is_capitalised(w):
                j += 1
            elif (
                w.lower() in _CONNECTORS
                and j + 1 < len(words)
                and _is_capitalised(words[j + 1].group(0))
            ):
                j += 2
            else:
                break
        span_words = [w.group(0) for w in words[i:j]]
        acronym = len(span_words[0]) > 1 and span_words[0].isupper()
        lone = len(span_words) == 1
        lone_name = lone and may_be_name(span_words[0])
        dated = lone and _month(span_words[0]) and _DAY_OR_YEAR.match(text, m.end())
        if title_case or not initial or not lone or acronym or lone_name or dated:
            places = [(w.start(), w.end()) for w in words[i:j]]
            spans.append(_Span(span_words, places, initial))
        i = j
    return spans, title_case, text


def _plain(text: str) -> str:
    """Without accents and with straight apostrophes: "Inácio" = "Inacio", "O’Brien" = "O'Brien"
    (a model may drop an accent the source has, or the other way round)."""
    decomposed = unicodedata.normalize("NFD", text.replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _key(word: str) -> str:
    """A word as names are compared: lower case, no accents, no edge punctuation or possessive,
    initials without dots ("U.S.'s" -> "us"), a month in full ("Nov" -> "november")."""
    if (month := _month(word)) is not None:
        return MONTH_NAMES[month - 1]
    return _undotted(_plain(word).lower().removesuffix("'s").strip("'.-"))


def _is_name_word(word: str) -> bool:
    return word.lower() in _DIRECTIONS or not is_ordinary_word(word)


def _inflects(word: str, base: str) -> bool:
    """`word` is `base` with an ending: "brazilians" ~ "brazil", "chinese" ~ "china"."""
    stems = (base, base[:-1]) if base.endswith(("a", "e", "o", "y")) else (base,)
    return any(word.startswith(s) and _ENDING.fullmatch(word, len(s)) for s in stems if s[2:])


class Vocabulary:
    """Lower-cased source words, with the demonyms of the places among them and vice versa."""

    def __init__(self, text: str) -> None:
        self.text = text
        latin = _plain(HAN.sub(" ", fold(text)))
        found = list(WORD.finditer(latin))
        self.words = {w.group(0).lower().strip("'’.-") for w in found}
        self.words |= {w.removesuffix("'s").removesuffix("’s") for w in self.words}
        self.cased = [w.group(0) for w in found]
        keys = [_key(w) for w in self.cased]  # computed once: most of a long source's cost
        self.words |= set(keys)  # "u.s" is "us" too
        # Words the source writes capitalised, for those a name needs (`_needs_capital`).
        self.capitalised = {k for w, k in zip(self.cased, keys, strict=True) if _is_capitalised(w)}
        # The words in order, " | " where anything but spaces parts two: "Eduardo Campos and
        # Roberto Rodrigues" has no "eduardo rodrigues".
        pieces = [" "]
        self.pairs: set[tuple[str, str]] = set()  # adjacent words, for inflected names
        self.runs: list[list[str]] = []  # capitalised words side by side, for initials
        for i, (prev, w) in enumerate(zip([None, *found], found, strict=False)):
            gap = latin[prev.end() : w.start()] if prev else "|"
            if prev and _DOTTED.fullmatch(f"{prev.group(0)}."):
                gap = gap.removeprefix(".")  # "J.W. Hertzberg": the dot ends the initials
            pieces.append(f"{' ' if not gap.strip() else ' | '}{keys[i]}")
            if prev and not gap.strip():
                self.pairs.add((keys[i - 1], keys[i]))
            if _is_capitalised(w.group(0)):
                if gap.strip() or not self.runs or not self.runs[-1]:
                    self.runs.append([])
                self.runs[-1].append(w.group(0))
            elif gap.strip() or w.group(0) not in _CONNECTORS:
                self.runs.append([])
        self.sequence = "".join(pieces) + " "
        self.words |= {b for a, b in _DEMONYMS + [(b, a) for a, b in _DEMONYMS] if a in self.words}

    @cached_property
    def acronyms(self) -> set[str]:
        """Acronyms the source gives, without dots and in capitals ("U.S." and "US": "US";
        "a.m.": "AM", not "am"), and the initials of its capitalised spans ("United States")."""
        parts = {p for w in self.cased for p in w.split("-")}  # "US-Mexico" gives "US"
        found = {a for p in parts if (a := _acronym(p.upper() if _DOTTED.fullmatch(p) else p))}
        for prev, word in pairwise(["", *self.cased]):
            if (country := _COUNTRIES.get(_key(word))) and prev not in _REGIONS:
                found.add(country)
        for run in self.runs:
            initials = "".join(w[0] for w in run)
            found |= {initials[i:j] for i in range(len(run)) for j in range(i + 2, len(run) + 1)}
        return found

    @cached_property
    def _month_words(self) -> list[tuple[re.Match[str], _Sense]]:
        """Each capitalised month word of the source with its sense (`_month_sense`)."""
        found = _MONTH_WORD.finditer(self.text)
        return [(m, _month_sense(self.text, m.start(), m.end())) for m in found]

    @cached_property
    def months(self) -> set[int]:
        """The months the source gives in any form: "Nov. 18", "2019-03-05", "3/5", "三月";
        not the name in "Theresa May"."""
        text = self.text
        for m, sense in self._month_words:
            if sense == "name":
                text = f"{text[: m.start()]}{' ' * len(m[0])}{text[m.end() :]}"
        return months_of(source_dates(text))

    @cached_property
    def month_names(self) -> set[int]:
        """The months whose word the source writes where it may be a name ("Theresa May",
        "May said"; not "in May" nor "May 5")."""
        return {MONTHS[m[0].lower()] for m, sense in self._month_words if sense != "month"}

    def knows(self, word: str, *, loose: bool = False, capitalised: bool = False) -> bool:
        """Exact match or a known inflection, either way or of one base ("Brazilian" ~ "Brazil",
        "Meets" ~ "meeting"); `loose` also takes a shared stem ("elected" ~ "election");
        `capitalised` takes only the words the source capitalises."""
        w = _key(word)
        words = self.capitalised if capitalised else self.words
        if not w or w in words:
            return True
        base = _INFLECTION.sub("", w)
        for o in (o for o in words if o[:3] == w[:3]):
            if _inflects(w, o) or _inflects(o, w) or _inflects(o, base):
                return True
            shared = len(commonprefix([w, o]))  # noqa: RUF071 (a character prefix is meant)
            if loose and len(w) >= 4 and shared >= max(4, min(len(w), len(o)) - 3):
                return True
        return False


def _month_sense(text: str, start: int, end: int, *, cased: bool = True) -> _Sense:
    """Whether the month word at `start:end` is a month ("in May", "May 5", "5 May"), a name
    (after a capitalised word: "Theresa May", "Prime Minister May", "Mrs. May"; before a name:
    "June Carter") or may be either ("May said", "the May elections"). Capitals tell a name
    only in `cased` text: a headline in title case or capitals gives a month or either."""
    if _DAY_OR_YEAR.match(text, end) or _MONTH_CUE.search(text, max(0, start - 16), start):
        return "month"
    if not cased:
        return "either"
    if (b := _WORD_BEFORE.search(text, max(0, start - 40), start)) and _name_cue(b[1], b[2]):
        return "name"
    if (a := _WORD_AFTER.match(text, end)) and _name_cue(a[1]) and may_be_name(a[1]):
        return "name"
    return "either"


def _name_cue(word: str, dot: str = "") -> bool:
    """A capitalised word beside a month word that makes it a name: no weekday ("Tuesday
    May 5"), month, function word ("The May elections") nor, before a dot, a title."""
    w = word.lower()
    if not _is_capitalised(word) or (dot and w not in _TITLES):
        return False
    return not (w in english_stopwords() or w in _WEEKDAYS or w in MONTHS or w in _CONNECTORS)


def _needs_capital(span: _Span, k: int, text: str) -> bool:
    """Whether the `k`th word of a span is an ordinary word capitalised as a name is ("Labour",
    "Apple", "Cruise", "Tories" mid-sentence), which only the source's capitalised word
    licenses: "labour costs" does not give "the Labour leader". Not a sentence's or a
    quotation's first word, an acronym, a month, a function word, an office whose capital is a
    matter of style ("the President"), a title or modifier before a capitalised word ("Sheriff
    Will Lewis": the name is checked), a label before a number ("Week 7", "Game 2") nor a word
    the cased vocabulary never writes capitalised: a headline's style gives "oldest Giraffe",
    "Gifts for Gamers", while every name here is a piece of its own ("▁Apple", "▁Labour")."""
    word = span.words[k]
    if (k == 0 and span.initial) or len(word) < 2 or word.isupper() or _month(word):
        return False
    lower = word.lower()
    if lower in _CONNECTORS or lower in english_stopwords() or lower.removesuffix("s") in _OFFICES:
        return False
    start, end = span.places[k]
    if k + 1 < len(span.words) and _is_capitalised(span.words[k + 1]):
        return False
    if _NUMBER_AFTER.match(text, end) or (k == 0 and text[:start].rstrip()[-1:] in _QUOTES):
        return False
    return case_lean(name_key(word)) is not None and is_ordinary_word(word)


def _licensed(
    word: str, vocab: Vocabulary, *, shouted: bool, sense: _Sense | None, capital: bool
) -> bool:
    """Whether the source licenses one word of a span. In `shouted` text ("WE MAY WIN", a
    kicker such as "THERE IT IS:") a month or an acronym may be a word the source gives.
    A month word is licensed by the source's use in its `sense`; a `capital` word needs the
    source's word capitalised."""
    stop = english_stopwords()
    plain = word.lower() in _CONNECTORS or word.lower() in stop or vocab.knows(word)
    if (month := _month(word)) is not None:
        as_month = sense != "name" and month in vocab.months
        return as_month or (sense != "month" and month in vocab.month_names) or (shouted and plain)
    if capital:
        return vocab.knows(word, capitalised=True)
    acronym = _acronym(word)
    if acronym is None or shouted or acronym in vocab.acronyms:
        return plain or acronym in vocab.acronyms
    # "US" is not the source's "us", nor "WHO" its "who"; "NOT" may stress its "not".
    return acronym.lower() not in _ACRONYM_WORDS and plain


def _styled(words: list[str], k: int, vocab: Vocabulary) -> bool:
    """Whether the `k`th word of a span follows a name the source capitalises and there
    writes right before it: "the Republican Party" from "the Republican party", "Yangtze
    River" from "Yangtze river" is a house style, not a new name (gemma3 on Wikinews)."""
    if k == 0 or not _is_capitalised(words[k - 1]):
        return False
    before, word = _key(words[k - 1]), _key(words[k])
    return before in vocab.capitalised and (before, word) in vocab.pairs


def _shouted(words: list[str]) -> bool:
    """A span of words in capitals that are not all acronyms ("THERE IT IS", "SEE IT")."""
    capitals = all(w.isupper() for w in words)
    return len(words) > 1 and capitals and not all(w.lower() in _ACRONYM_WORDS for w in words)


def unknown_entities(output: str, source: str, *, title_case: bool | None = None) -> list[str]:
    """The name spans of `output` the source does not license: a word it lacks, or name
    words side by side that are apart there."""
    vocab = Vocabulary(source)
    spans, title_case, text = _spans(output, title_case)
    capitals = _in_capitals(WORD.findall(fold(output)))
    unknown: list[str] = []
    for span in spans:
        words = span.words
        shouted = capitals or _shouted(words)
        cased = not (title_case or shouted)  # where a capital tells a name from a word
        senses = [
            _month_sense(text, *place, cased=cased) if _month(w) else None
            for w, place in zip(words, span.places, strict=True)
        ]
        licensed = all(
            _licensed(
                w,
                vocab,
                shouted=shouted,
                sense=sense,
                capital=cased and _needs_capital(span, k, text) and not _styled(words, k, vocab),
            )
            for k, (w, sense) in enumerate(zip(words, senses, strict=True))
        )
        names = {k for k, sense in enumerate(senses) if sense == "name"}
        if not licensed or _split_name(words, vocab, names):
            unknown.append(" ".join(words))
    return unknown


def _split_name(words: list[str], vocab: Vocabulary, names: set[int]) -> bool:
    """True when two name words that follow each other in a span (connectors between) do not
    follow each other in the source: "Eduardo Rodrigues" from "Eduardo Campos and Roberto
    Rodrigues", "North Korea" from "South Korea ... north". A title before a name ("President
    Lula"), a last name alone, a derived first word ("Russian Tatars", the source saying
    "Russia"), an inflected pair ("Latin American" for "Latin America") and a possessive
    ("SCO's Linux") are no such pair. A month word at `names` is a name ("Theresa May")."""
    stop = english_stopwords()
    kept = [i for i, w in enumerate(words) if i in names or w.lower() not in _CONNECTORS | stop]
    for i, j in pairwise(kept):
        name_words = (i in names or _is_name_word(words[i])) and (
            j in names or _is_name_word(words[j])
        )
        if "and" in words[i:j] or not name_words:
            continue  # "British and Italian" are two
        if words[i].endswith(("'s", "’s", "s'", "s’")):
            continue  # a possessive ends a name: "SCO's Linux lawsuit" names SCO, then Linux
        keys = [_key(w) for w in words[i : j + 1]]
        if f" {' '.join(keys)} " in vocab.sequence or _derived(keys[0], vocab):
            continue
        if not any(_same_word(keys[0], x) and _same_word(keys[-1], y) for x, y in vocab.pairs):
            return True
    return False


def _derived(word: str, vocab: Vocabulary) -> bool:
    """A demonym of a source place, or a word the source lacks ("russian" for "Russia's")."""
    if word not in vocab.words:
        return True
    demonym = word.endswith(("an", "ese", "ish", "i"))
    return demonym and any(_inflects(word, o) for o in vocab.words if o[:3] == word[:3])


def _same_word(a: str, b: str) -> bool:
    return a == b or _inflects(a, b) or _inflects(b, a)

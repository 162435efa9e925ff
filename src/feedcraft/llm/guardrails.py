"""Checks every generated text passes before a reader sees it.

A small model writes fluent text that is often wrong: it invents names, shifts dates, answers
in the wrong language or repeats its prompt. Each check here is cheap, explainable and
deliberately strict; a text that fails any of them is regenerated with another seed and then
replaced by the extractive fallback (see `generator`). The checks:

- length: within the budget (words, or characters for Chinese) and not trivially short;
- format: no refusal or preamble, no markup (<<, >>, ```), no broken character (U+FFFD), no
  unfinished sentence (prose), one line (headlines), no URL the source does not contain, no
  degenerate repetition;
- numbers: every number in the output (digits, words, Chinese numerals) is in the source,
  and one with a unit ("28-inch") has a unit the source gives that number (see `units`);
- offers: no price cut, free extra, bundle, guarantee or deadline the source does not make
  (see `offers`);
- entities: every capitalised name in the output occurs in the source, a multi-word name's
  parts side by side there ("Eduardo Rodrigues" is not "Eduardo Campos and Roberto
  Rodrigues"), a month in any form ("Nov. 18", "2019-11-18"), an acronym without its dots
  and in capitals ("U.S." for "US"; "told us" is no US). A capitalised span is the cheap
  stand-in for named-entity recognition in English; a dictionary, census names, places and
  teams tell a name that starts a sentence from an ordinary word (see `entities`). In Chinese
  only Latin-script names and the numbers are checked (no segmentation-free NER for Han
  names here);
- overlap: most of the output's content words (Chinese: character bigrams) occur in the
  source, a lexical check that still works where the encoder does not know the language;
- similarity: the embedding cosine between output and source reaches a threshold, which
  catches fluent text about something else. An English encoder (MiniLM) cannot do this for
  Chinese: an xMIND title scores above 0.3 against 90% of other articles' abstracts. So text
  in any language but English can be checked by a multilingual encoder with its own
  threshold (`multilingual`; USE-multilingual at 0.175 by default: see benchmarks/README.md);
- banned terms: none of a configured list (whole words for Latin script, inflected or
  respelled: see `banned`);
- language: the output is in the source's language (a 135M model often drifts to English;
  see `language_check`);
- injection: no echo of a removed instruction, of the prompt, of a delimiter or chat token.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from feedcraft.embeddings.base import Encoder
from feedcraft.errors import InvalidInput
from feedcraft.llm.banned import banned_terms_in, usable_term
from feedcraft.llm.entities import WORD as _WORD
from feedcraft.llm.entities import Vocabulary as _Vocabulary
from feedcraft.llm.entities import entities_in, unknown_entities
from feedcraft.llm.language_check import judge_language
from feedcraft.llm.numerals import canonical as _canonical
from feedcraft.llm.numerals import fold as _fold
from feedcraft.llm.numerals import join_digit_groups, largest_quantity, numbers_in
from feedcraft.llm.numerals import ordinal_numbers as _ordinal_numbers
from feedcraft.llm.numerals import read_superscripts as _read_superscripts
from feedcraft.llm.numerals import source_numbers as _source_numbers
from feedcraft.llm.numerals import unscaled_numbers as _unscaled_numbers
from feedcraft.llm.numerals import written_numbers as _written_numbers
from feedcraft.llm.offers import offers_not_in_source
from feedcraft.llm.safety import has_control_markup, has_delimiter_like
from feedcraft.llm.sentences import count_units
from feedcraft.llm.shares import blank_licensed_shares
from feedcraft.llm.units import unit_mismatches
from feedcraft.text import lexicon
from feedcraft.text.language import language_code
from feedcraft.text.script import HAN, to_simplified
from feedcraft.text.tokenize import english_stopwords

__all__ = [
    "CheckResult",
    "Guardrails",
    "SimilarityRule",
    "check_banned_terms",
    "check_entities",
    "check_format",
    "check_injection",
    "check_language",
    "check_length",
    "check_numbers",
    "check_overlap",
    "check_similarity",
    "entities_in",
    "numbers_in",
]


@dataclass(frozen=True)
class CheckResult:
    """One guardrail's verdict on one text; `detail` says what failed, in words."""

    name: str
    passed: bool
    detail: str = ""


# A link: a scheme or "www.", or labels and a top-level domain of 2+ letters in one case
# ("cheap-meds.ru", "bit.ly/3xYz"); not "3.5", "U.S.", "e.g." or "ended.The".
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'“”‘’]+|(?<![\w./-])(?:[a-zA-Z\d](?:[\w-]*[a-zA-Z\d])?\.)+"
    r"(?:[a-z]{2,24}|[A-Z]{2,24})\b(?![.-]?\w)(?:/[^\s<>\"'“”‘’]*)?"
)
# "Sure," and "Certainly!" open an answer; "Surely the vote", "Sure deodorant" and "Surety
# bonds" are prose, as is "作为一个拥有百年历史的品牌" (only "作为一个AI" is a preamble).
_PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|certainly|of course)\s*[!,.:;—–-]|here(?:'s| is| are)\b|i'm sorry|i am sorry"
    r"|i cannot|i can't|as an ai\b|as a language model|summary:|headline:"
    r"|抱歉|对不起|對不起|好的[，,]|以下是"
    r"|作[为為](?:一[个個])?(?:AI|人工智能|人工智慧|[语語]言模型|大[语語]言模型|助手|智能助手))",
    re.I,
)
_TERMINAL = tuple("。！？.!?…\"'”’」』)）")
# What may follow the last terminator ("Stay dry all day! 🌞"): emoji, their modifiers and
# joiners, other symbols, spaces.
_SYMBOL = "[\\s\u200d\ufe0e\ufe0f\u2600-\u27bf\U0001f000-\U0001faff]"
_TRAILING_SYMBOLS = re.compile(f"(?<!{_SYMBOL}){_SYMBOL}+$")  # from a run's start: linear


def check_length(output: str, max_length: int, *, min_length: int = 1) -> CheckResult:
    n = count_units(output)
    if n < min_length:
        return CheckResult("length", False, f"{n} units, at least {min_length} needed")
    if n > max_length:
        return CheckResult("length", False, f"{n} units over the budget of {max_length}")
    return CheckResult("length", True, f"{n} units")


def check_format(output: str, *, source: str = "", kind: str = "prose") -> CheckResult:
    """Refusals, preambles, unfinished prose, multi-line headlines, new URLs, repetition."""
    text = output.strip()
    if not text:
        return CheckResult("format", False, "empty")
    if _PREAMBLE.match(text.replace("’", "'").replace("‘", "'")):  # "Here’s", "I’m sorry"
        return CheckResult("format", False, f"starts with a preamble or refusal: {text[:30]!r}")
    if has_delimiter_like(text):
        return CheckResult("format", False, "contains markup such as <<, >> or ```")
    if "\ufffd" in text and "\ufffd" not in source:
        # a multi-byte character cut between tokens (measured: SmolLM2 on Chinese headlines)
        return CheckResult("format", False, "contains a broken character (U+FFFD)")
    if kind == "headline" and "\n" in text:
        return CheckResult("format", False, "a headline must be one line")
    if text.endswith((":", "：")):
        return CheckResult("format", False, "ends with a colon: an introduction, not an answer")
    if kind == "prose" and not _TRAILING_SYMBOLS.sub("", text).endswith(_TERMINAL):
        return CheckResult("format", False, "ends mid-sentence")
    known = _links(source)
    known |= {link.split("/")[0] for link in known}  # a source link's site may be named alone
    if unknown := sorted(_links(text) - known):
        return CheckResult("format", False, f"link not in the source: {unknown[0]!r}")
    grams = _ngrams(text, words=3, chars=4)
    if grams:
        gram, count = Counter(grams).most_common(1)[0]
        if count >= 3:
            return CheckResult("format", False, f"repeats {gram!r} {count} times")
    return CheckResult("format", True)


def _links(text: str) -> set[str]:
    """Links in `text`, compared whole ("evil.co" is not "evil.com"), bare and lower-cased."""
    links = (m.group(0).lower() for m in _URL.finditer(_fold(text)))
    return {re.sub(r"^(?:https?://)?(?:www\.)?", "", x).rstrip(".,;:!?)]}/") for x in links}


def check_overlap(output: str, source: str, threshold: float) -> CheckResult:
    """Share of the output's content found in the source: non-stopword words (stem-tolerant)
    for Latin script, character bigrams for Chinese. Faithful rewrites reuse the source's
    terms; text about something else does not. It backs up the embedding check where the
    encoder is weak: MiniLM is English-only, and xMIND titles score 0.42 on average against
    unrelated Chinese abstracts (benchmarks/README.md).
    """
    folded = _fold(output)
    vocab = _Vocabulary(source)
    stop = english_stopwords()
    words = [m.group(0) for m in _WORD.finditer(HAN.sub(" ", folded))]
    words = [w for w in words if w.lower() not in stop]
    hits = sum(1 for w in words if vocab.knows(w, loose=True))
    grams = _han_bigrams(to_simplified(folded))  # Traditional and Simplified count alike
    source_grams = set(_han_bigrams(to_simplified(_fold(source))))
    hits += sum(1 for g in grams if g in source_grams)
    total = len(words) + len(grams)
    if total == 0:
        return CheckResult("overlap", True, "no content words")
    share = hits / total
    return CheckResult("overlap", share >= threshold, f"{share:.0%} of content in the source")


def _han_bigrams(text: str) -> list[str]:
    runs = re.findall(f"(?:{HAN.pattern})+", text)
    return [run[i : i + 2] for run in runs for i in range(len(run) - 1)]


def check_numbers(output: str, source: str) -> CheckResult:
    """Every number in the output is in the source in some form ("five": "5", "三百": "300"),
    and with a unit the source gives it ("28-litre", not "28-inch", for `capacity_l: 28`)."""
    allowed = _source_numbers(source) | _source_numbers(join_digit_groups(source))
    top = largest_quantity(source)
    # "12 000" is 12000 or 12 and 0 ("on May 5 300 people"): the reading with fewer unknowns
    readings = {output, join_digit_groups(output)}
    unknown = min((_unknown_numbers(text, allowed, top) for text in readings), key=len)
    shown = (n if len(n) <= 40 else f"{n[:20]}…({len(n)} characters)" for n in sorted(unknown)[:5])
    problems = [f"not in the source: {', '.join(shown)}"] if unknown else []
    if wrong := unit_mismatches(output, source):
        pairs = (f"{q.value} {q.unit} (source: {q.value} {'/'.join(sorted(u))})" for q, u in wrong)
        problems.append(f"wrong unit: {', '.join(list(pairs)[:5])}")
    if problems:
        return CheckResult("numbers", False, "; ".join(problems))
    return CheckResult("numbers", True)


def _unknown_numbers(output: str, allowed: set[str], top: Decimal) -> set[str]:
    """Numbers in `output` the source does not license; a vague one ("thousands") must not
    exceed the largest count in the source (`top`); an ordinal or a fraction in words needs
    its number or share ("fifth": 5, "a third": "one in three"); a share the source gives in
    another form is no numbers ("one in three" for "33%")."""
    folded = blank_licensed_shares(_fold(_read_superscripts(output)), allowed)  # "three¹": 3
    unknown = {n for n in _unscaled_numbers(folded) if _canonical(n) not in allowed}
    for written, value, vague, checked in _written_numbers(folded):
        if checked and (value > top if vague else _canonical(value) not in allowed):
            unknown.add(written)
    unknown |= {w for w, key, checked in _ordinal_numbers(folded) if checked and key not in allowed}
    return unknown


def check_offers(output: str, source: str) -> CheckResult:
    """No price cut, free extra, bundle, guarantee or deadline the source does not offer
    (`offers`): ad copy invents deals that involve no number ("now at half price")."""
    if invented := offers_not_in_source(output, source):
        return CheckResult("offers", False, f"not offered in the source: {', '.join(invented)}")
    return CheckResult("offers", True)


def check_entities(output: str, source: str, *, title_case: bool | None = None) -> CheckResult:
    """Every name word in the source; adjacent name words adjacent there; a month in any form
    there ("Nov. 18" for "November"; "May 5" is not licensed by the verb "may"); an acronym
    in capitals, dots aside ("U.S." for "US"; "told us" is no US). See `entities`."""
    if unknown := unknown_entities(output, source, title_case=title_case):
        return CheckResult("entities", False, f"not in the source: {', '.join(unknown[:5])}")
    return CheckResult("entities", True)


def check_similarity(
    output: str,
    source: str,
    encoder: Encoder,
    threshold: float,
    *,
    source_vector: np.ndarray | None = None,
) -> CheckResult:
    """Cosine of the two texts' embeddings; pass `source_vector` to skip re-encoding the source."""
    if source_vector is None:
        source_vector = encoder.encode([source])[0]
    output_vector = encoder.encode([output])[0]
    cosine = float(np.asarray(output_vector, np.float64) @ np.asarray(source_vector, np.float64))
    detail = f"cosine {cosine:.3f} (threshold {threshold:.2f})"
    return CheckResult("similarity", cosine >= threshold, detail)


def check_banned_terms(output: str, terms: Iterable[str]) -> CheckResult:
    """None of `terms` in any spelling: inflected, respaced, other hyphens (see `banned`)."""
    if found := banned_terms_in(output, terms):
        return CheckResult("banned_terms", False, f"contains {', '.join(found[:5])}")
    return CheckResult("banned_terms", True)


def check_language(output: str, language: str) -> CheckResult:
    """Chinese and Japanese by script share, other languages by detection (`language_check`)."""
    passed, detail = judge_language(output, language)
    return CheckResult("language", passed, detail)


def _ngrams(text: str, *, words: int, chars: int) -> list[str]:
    """Word n-grams of the Latin-script part and character n-grams of the Han part."""
    folded = _fold(text).lower()
    tokens = [w.group(0) for w in _WORD.finditer(HAN.sub(" ", folded))]
    grams = [" ".join(tokens[i : i + words]) for i in range(len(tokens) - words + 1)]
    for run in re.findall(f"(?:{HAN.pattern})+", folded):
        grams.extend(run[i : i + chars] for i in range(len(run) - chars + 1))
    return grams


def check_injection(
    output: str,
    *,
    source: str,
    removed: Sequence[str] = (),
    instructions: Sequence[str] = (),
) -> CheckResult:
    """No delimiter, chat token, removed instruction or prompt text in the output."""
    text = _fold(output)
    if has_control_markup(text):
        return CheckResult("injection", False, "contains a delimiter or chat token")
    own = set(_ngrams(source, words=4, chars=6))
    out4 = set(_ngrams(text, words=4, chars=6)) - own
    for sentence in removed:
        shared = out4 & set(_ngrams(sentence, words=4, chars=6))
        if shared:
            return CheckResult("injection", False, f"echoes a removed instruction: {min(shared)!r}")
    out6 = set(_ngrams(text, words=6, chars=10)) - set(_ngrams(source, words=6, chars=10))
    for instruction in instructions:
        shared = out6 & set(_ngrams(instruction, words=6, chars=10))
        if shared:
            return CheckResult("injection", False, f"echoes the prompt: {min(shared)!r}")
    return CheckResult("injection", True)


# One sentence per script the checks treat differently (English; Chinese: Han share, the
# multilingual encoder), used only to load what the checks need.
_WARM_TEXTS = {
    "en": "The city council approved a new budget for public libraries on Tuesday.",
    "zh": "市議會週二批准了公共圖書館的新預算。",
}


@dataclass(frozen=True)
class SimilarityRule:
    """An encoder and the cosine its outputs must reach against their source."""

    encoder: Encoder
    min_similarity: float

    def __post_init__(self) -> None:
        if not -1.0 <= self.min_similarity <= 1.0:
            raise InvalidInput(
                f"must be in [-1, 1], got {self.min_similarity}", field="min_similarity"
            )


class Guardrails:
    """All checks with their settings; `check` runs them on one candidate text.

    `min_similarity` depends on the encoder: 0.3 suits MiniLM on English (a Wikinews title
    scores 0.56 on average against its own article and 0.06 against others; see
    benchmarks/README.md), bag-of-words hashing scores lower. `multilingual`, when set,
    replaces encoder and threshold for every language but English.
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        min_similarity: float = 0.3,
        min_overlap: float = 0.5,
        banned_terms: Sequence[str] = (),
        check_entities: bool = True,
        multilingual: SimilarityRule | None = None,
    ) -> None:
        if not -1.0 <= min_similarity <= 1.0:
            raise InvalidInput(f"must be in [-1, 1], got {min_similarity}", field="min_similarity")
        if not 0.0 <= min_overlap <= 1.0:
            raise InvalidInput(f"must be in [0, 1], got {min_overlap}", field="min_overlap")
        if isinstance(banned_terms, str):
            raise InvalidInput("expected a list of terms, got a string", field="banned_terms")
        self.encoder = encoder
        self.min_similarity = min_similarity
        self.min_overlap = min_overlap
        self.banned_terms = tuple(t for t in banned_terms if t and usable_term(t))
        self.check_entities = check_entities
        self.multilingual = multilingual
        self._source_vectors: dict[tuple[int, str], np.ndarray] = {}

    def similarity_rule(self, language: str) -> SimilarityRule | None:
        """The encoder and threshold that judge text in `language` (None: no such check)."""
        if self.multilingual is not None and language_code(language) != "en":
            return self.multilingual
        if self.encoder is None:
            return None
        return SimilarityRule(self.encoder, self.min_similarity)

    def _source_vector(self, encoder: Encoder, source: str) -> np.ndarray:
        """The source's embedding, kept for the next candidates of the same task."""
        key = (id(encoder), source)
        vector = self._source_vectors.get(key)
        if vector is None:
            if len(self._source_vectors) >= 64:
                self._source_vectors.clear()
            vector = encoder.encode([source])[0]
            self._source_vectors[key] = vector
        return vector

    def warm(self) -> None:
        """Run every check once on English and Chinese text, so that the encoders and the
        language detector they use are loaded before the first real output is checked, and
        the word lists that tell names from words (`lexicon.warm`: some are read only for
        the rare word the warm-up texts lack)."""
        lexicon.warm()
        for language, text in _WARM_TEXTS.items():
            self.check(text, source=text, language=language, max_length=len(text) + 1)

    def check(
        self,
        output: str,
        *,
        source: str,
        language: str,
        max_length: int,
        min_length: int = 1,
        kind: str = "prose",
        removed: Sequence[str] = (),
        instructions: Sequence[str] = (),
        similarity: bool = True,
    ) -> tuple[CheckResult, ...]:
        """Every check on `output`; `similarity` False leaves out the one that encodes (a
        busy model's fallback: quotes of the source, on cores the model holds)."""
        results = [
            check_length(output, max_length, min_length=min_length),
            check_format(output, source=source, kind=kind),
            check_numbers(output, source),
            check_offers(output, source),
        ]
        if self.check_entities:
            results.append(check_entities(output, source))
        if self.min_overlap > 0:
            results.append(check_overlap(output, source, self.min_overlap))
        rule = self.similarity_rule(language) if similarity else None
        if rule is not None:
            vector = self._source_vector(rule.encoder, source)
            results.append(
                check_similarity(
                    output, source, rule.encoder, rule.min_similarity, source_vector=vector
                )
            )
        if self.banned_terms:
            results.append(check_banned_terms(output, self.banned_terms))
        results.append(check_language(output, language))
        results.append(
            check_injection(output, source=source, removed=removed, instructions=instructions)
        )
        return tuple(results)

"""Keyword extraction: TF-IDF over word n-grams, with IDF learned from a corpus.

A small TF-IDF of our own rather than scikit-learn's vectoriser, for two reasons: a term never
seen during `fit` (a new name in today's news) should count as rare, not be dropped; and n-grams
must not span stopwords ("bank of america" must not yield "bank america") and Chinese n-grams
are joined without a space. Unfitted, the extractor ranks by term frequency alone.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Self

from feedcraft.errors import InvalidInput, NotFitted
from feedcraft.text.script import is_han
from feedcraft.text.tokenize import is_stopword, tokenize

__all__ = ["KeywordExtractor"]

_PUNCT = re.compile(r"[^\w\s'’-]+")
_COMPOUND = re.compile(r"(?<![\w-])[^\W_]+(?:-[^\W_]+)+(?![\w-])")
# Reporting verbs that dominate news text but say nothing about its topic.
_NEWS_NOISE = frozenset({"said", "says", "say", "told", "according", "reported", "reuters"})


class KeywordExtractor:
    """`fit(texts)` learns document frequencies; `extract(text)` ranks the text's n-grams.

    `max_df` (a fraction of documents) drops terms too common in the corpus to be keywords;
    terms below `min_df` are forgotten after fit and then treated as unseen (maximally rare).
    """

    def __init__(
        self,
        top_k: int = 10,
        ngram_range: tuple[int, int] = (1, 2),
        *,
        language: str | None = None,
        min_df: int = 1,
        max_df: float = 1.0,
        sublinear_tf: bool = True,
        min_token_length: int = 2,
    ) -> None:
        lo, hi = ngram_range
        if top_k < 1:
            raise InvalidInput("must be at least 1", field="top_k")
        if not 1 <= lo <= hi:
            raise InvalidInput(f"needs 1 <= min <= max, got {ngram_range}", field="ngram_range")
        if not 0.0 < max_df <= 1.0:
            raise InvalidInput(f"must be in (0, 1], got {max_df}", field="max_df")
        if min_df < 1:
            raise InvalidInput("must be at least 1", field="min_df")
        self.top_k = top_k
        self.ngram_range = (lo, hi)
        self.language = language
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.min_token_length = min_token_length
        self.n_documents_: int = 0
        self.document_frequency_: dict[str, int] = {}
        self._fitted = False

    @property
    def is_fitted(self) -> bool:
        return self._fitted

    def _usable(self, token: str) -> bool:
        if token.isnumeric() or token in _NEWS_NOISE or is_stopword(token, self.language):
            return False
        if is_han(token):
            return len(token) >= 2  # one Han character is usually a function word or a morpheme
        return len(token) >= self.min_token_length

    def _words(self, chunk: str) -> list[str]:
        """`tokenize`'s words, a hyphenated compound ("Wi-Fi", "Trump-era", "21-year-old")
        kept as one: split, its halves made phrases with their neighbours ("era public",
        "fi routers", "year old")."""
        words: list[str] = []
        at = 0
        for m in _COMPOUND.finditer(chunk):
            if not any(ch.isalpha() for ch in m.group(0)):  # "2-1", "2024-05-01": numbers
                continue
            words += tokenize(chunk[at : m.start()], self.language)
            words.append(m.group(0).lower().replace("’", "'"))
            at = m.end()
        return words + tokenize(chunk[at:], self.language)

    def _grams(self, text: str) -> Counter[tuple[str, ...]]:
        tokens: list[str] = []
        for chunk in _PUNCT.split(text):  # phrases never span punctuation
            tokens += self._words(chunk)
            tokens.append("")  # a break
        lo, hi = self.ngram_range
        counts: Counter[tuple[str, ...]] = Counter()
        run: list[str] = []
        for token in tokens:  # "" and unusable tokens end a run
            if token and self._usable(token):
                run.append(token)
                continue
            for n in range(lo, hi + 1):
                for i in range(len(run) - n + 1):
                    counts[tuple(run[i : i + n])] += 1
            run = []
        return counts

    def terms(self, text: str) -> Counter[str]:
        """Counts of the candidate n-grams of `text` (runs of usable tokens only)."""
        counts: Counter[str] = Counter()
        for gram, c in self._grams(text).items():  # "烏克蘭|戰爭" and "烏克蘭戰爭" are one term
            counts[_join(gram)] += c
        return counts

    def fit(self, texts: Iterable[str]) -> Self:
        """Learn document frequencies of candidate terms over `texts`."""
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            df.update(self.terms(text).keys())
            n += 1
        if n == 0:
            raise InvalidInput("needs at least one text to learn from", field="texts")
        self.n_documents_ = n
        self.document_frequency_ = {t: c for t, c in df.items() if c >= self.min_df}
        self._fitted = True
        return self

    def _corpus_df(self, term: str) -> int:
        return self.document_frequency_.get(term, 0) if self._fitted else 0

    def idf(self, term: str) -> float:
        """Smoothed IDF, ln((1 + N) / (1 + df)) + 1; an unseen term has df = 0."""
        if not self._fitted:
            raise NotFitted("KeywordExtractor.idf needs fit(texts) first")
        df = self.document_frequency_.get(term, 0)
        return math.log((1 + self.n_documents_) / (1 + df)) + 1.0

    def extract(self, text: str, top_k: int | None = None) -> list[tuple[str, float]]:
        """The `top_k` best terms of `text` with scores in (0, 1], best first.

        Scores are L2-normalised TF-IDF weights (TF alone when unfitted). A term contained in a
        better-ranked phrase is skipped, so "hu jintao" does not also yield "jintao".
        """
        k = self.top_k if top_k is None else top_k
        counts: Counter[str] = Counter()
        sizes: dict[str, int] = {}
        for gram, c in self._grams(text).items():
            term = _join(gram)
            counts[term] += c
            sizes[term] = max(sizes.get(term, 0), len(gram))
        if not counts or k < 1:
            return []
        scores: dict[str, float] = {}
        limit = self.max_df * self.n_documents_
        for term, tf in counts.items():
            if sizes[term] > 1 and tf < 2 and self._corpus_df(term) < 2:
                continue  # a phrase needs evidence that it is one: a repeat here or in the corpus
            weight = 1.0 + math.log(tf) if self.sublinear_tf else float(tf)
            if self._fitted:
                if self.max_df < 1.0 and self.document_frequency_.get(term, 0) > limit:
                    continue
                weight *= self.idf(term)
            scores[term] = weight
        norm = math.sqrt(sum(v * v for v in scores.values())) or 1.0
        # On a tie the longer phrase wins: its words then never occur outside it here.
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], -sizes[kv[0]], kv[0]))
        chosen: list[tuple[str, float]] = []
        for term, score in ranked:
            if any(_contains(big, term) for big, _ in chosen):
                continue
            chosen.append((term, score / norm))
            if len(chosen) == k:
                break
        return chosen

    def extract_many(
        self, texts: Sequence[str], top_k: int | None = None
    ) -> list[list[tuple[str, float]]]:
        return [self.extract(t, top_k) for t in texts]


def _join(tokens: Sequence[str]) -> str:
    """Join n-gram tokens: no space between two Chinese words, one space otherwise."""
    out = tokens[0]
    for prev, tok in itertools.pairwise(tokens):
        out += tok if is_han(prev) and is_han(tok) else " " + tok
    return out


def _contains(phrase: str, term: str) -> bool:
    """True when `term` is a word sub-sequence of `phrase` (a substring, for Chinese)."""
    if f" {term} " in f" {phrase} ":
        return True
    return is_han(term) and term in phrase

"""Hand-made headline features: length, punctuation, numbers, pronouns, question words.

These are the classic "clickbait" cues that editors argue about; on their own they are the
baseline a text model has to beat, and beside embeddings they add what a sentence model
averages away (an exclamation mark, a digit, capitalised words).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["LEXICAL_FEATURES", "lexical_features"]

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_DIGIT = re.compile(r"\d")
_SECOND = frozenset({"you", "your", "you're", "you'll", "you've", "yourself", "you’re"})
_FIRST = frozenset({"i", "me", "my", "i'm", "i’m", "we", "our", "us"})
_DEMONSTRATIVE = frozenset({"this", "these", "here", "that"})
_QUESTION = frozenset({"why", "how", "what", "who", "when", "where", "which"})
_NEGATION = frozenset({"not", "no", "never", "don't", "can't", "won't", "isn't", "nobody"})

LEXICAL_FEATURES: tuple[str, ...] = (
    "chars",
    "words",
    "mean_word_length",
    "question_mark",
    "exclamation",
    "digit",
    "quote",
    "all_caps_words",
    "sentences",
    "colon",
    "second_person",
    "first_person",
    "demonstrative",
    "question_word",
    "negation",
    "emphasis",
    "commas",
    "ellipsis",
)


def _row(text: str) -> list[float]:
    words = _WORD.findall(text)
    lower = {w.lower() for w in words}
    return [
        len(text),
        len(words),
        float(np.mean([len(w) for w in words])) if words else 0.0,
        "?" in text,
        "!" in text,
        bool(_DIGIT.search(text)),
        any(q in text for q in ('"', "“", "”")) or bool(re.search(r"(^|\s)'\w", text)),
        sum(1 for w in words if len(w) > 1 and w.isupper()),
        len(re.findall(r"[.!?]+(?:\s|$)", text)),
        ":" in text,
        bool(lower & _SECOND),
        bool(lower & _FIRST),
        bool(lower & _DEMONSTRATIVE),
        bool(lower & _QUESTION),
        bool(lower & _NEGATION),
        "*" in text,
        text.count(","),
        "..." in text or "…" in text,
    ]


def lexical_features(texts: Sequence[str]) -> np.ndarray:
    """One row of `LEXICAL_FEATURES` per text, as float64."""
    rows = [_row(t) for t in texts]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(LEXICAL_FEATURES))

"""A hashed bag-of-words encoder: no model, no dependencies, same vectors on every machine.

It is the fallback when no neural model is installed and the encoder for fast tests. Tokens
come from `feedcraft.text.tokenize` (English and Chinese), so texts sharing words are close.
Hashing uses BLAKE2b, not Python's `hash`, which is salted per process.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from feedcraft.embeddings.base import check_texts, l2_normalize
from feedcraft.errors import InvalidInput
from feedcraft.text.tokenize import tokenize

__all__ = ["HashingEncoder"]


class HashingEncoder:
    """Signed feature hashing of (1 + log tf)-weighted words and, optionally, word bigrams."""

    def __init__(self, dim: int = 256, *, ngrams: int = 1, remove_stopwords: bool = True) -> None:
        if dim < 2:
            raise InvalidInput(f"must be at least 2, got {dim}", field="dim")
        if ngrams not in (1, 2):
            raise InvalidInput(f"must be 1 or 2, got {ngrams}", field="ngrams")
        self._dim = dim
        self.ngrams = ngrams
        self.remove_stopwords = remove_stopwords

    @property
    def name(self) -> str:
        suffix = "" if self.ngrams == 1 else f"-{self.ngrams}g"
        stop = "" if self.remove_stopwords else "-all"
        return f"hashing-{self._dim}{suffix}{stop}"

    @property
    def dim(self) -> int:
        return self._dim

    def _features(self, text: str) -> Counter[str]:
        tokens = tokenize(text, remove_stopwords=self.remove_stopwords)
        feats = Counter(tokens)
        if self.ngrams == 2:
            feats.update(f"{a} {b}" for a, b in itertools.pairwise(tokens))
        return feats

    def _slot(self, feature: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest())
        return (h >> 1) % self._dim, (1.0 if h & 1 else -1.0)

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        """One row per text; a text without tokens (e.g. "") gives a zero row."""
        items = check_texts(texts)
        out = np.zeros((len(items), self._dim), dtype=np.float32)
        for row, text in enumerate(tqdm(items, disable=not show_progress, desc="hashing")):
            for feature, tf in self._features(text).items():
                col, sign = self._slot(feature)
                out[row, col] += sign * (1.0 + math.log(tf))
        return l2_normalize(out)

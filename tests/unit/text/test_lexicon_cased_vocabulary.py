import struct
from pathlib import Path

import pytest

from feedcraft.text.cased_vocabulary import case_lean, read_word_ranks


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _gguf(pieces: list[str]) -> bytes:
    """A GGUF header: a string, a uint32 array and a float, then the vocabulary."""
    entries = [
        _string("general.name") + struct.pack("<I", 8) + _string("toy"),
        _string("general.tags") + struct.pack("<IIQ", 9, 4, 3) + struct.pack("<3I", 1, 2, 3),
        _string("general.eps") + struct.pack("<If", 6, 0.5),
        _string("tokenizer.ggml.tokens")
        + struct.pack("<IIQ", 9, 8, len(pieces))
        + b"".join(_string(p) for p in pieces),
    ]
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(entries)) + b"".join(entries)


def test_reads_word_initial_pieces_with_their_ranks(tmp_path: Path) -> None:
    path = tmp_path / "toy.gguf"
    path.write_bytes(_gguf(["<pad>", "▁the", "▁Trump", "ing", "▁trump", "▁Trump", "▁Émile", "▁a1"]))
    ranks, size = read_word_ranks(path)
    # the first rank of a repeated piece; no sub-word pieces, non-ASCII or digits
    assert ranks == {"the": 1, "Trump": 2, "trump": 4}
    assert size == 8


def test_a_file_without_a_vocabulary_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 0))
    with pytest.raises(ValueError, match=r"tokenizer\.ggml\.tokens"):
        read_word_ranks(path)
    path.write_bytes(b"not a model at all, long enough to read a header from")
    with pytest.raises(ValueError, match="not a GGUF"):
        read_word_ranks(path)


def test_the_packaged_vocabulary_leans_names_to_the_capital() -> None:
    lean = {w: case_lean(w) for w in ("Trump", "trump", "Police", "Email")}
    assert lean["Trump"] == lean["trump"]  # any case in, the capitalised form is compared
    assert lean["Trump"] is not None and lean["Trump"] > 0.5
    assert lean["Police"] is not None and lean["Police"] < 0
    assert lean["Email"] is not None and lean["Email"] < -0.5
    assert case_lean("Xqzvbt") is None  # no capitalised piece: no evidence

"""The hashed bag-of-words encoder: deterministic across processes, unit rows, word overlap."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from feedcraft.embeddings import Encoder, HashingEncoder
from feedcraft.errors import InvalidInput


def test_shape_dtype_and_unit_rows(wikinews_titles: list[str]) -> None:
    enc = HashingEncoder()
    vectors = enc.encode(wikinews_titles)
    assert isinstance(enc, Encoder)
    assert (enc.name, enc.dim) == ("hashing-256", 256)
    assert vectors.shape == (len(wikinews_titles), 256) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_empty_text_gives_zero_row() -> None:
    vectors = HashingEncoder(dim=64).encode(["", "the of and", "news"])
    assert not vectors[0].any() and not vectors[1].any()  # no tokens (only stopwords)
    assert np.linalg.norm(vectors[2]) == pytest.approx(1.0)
    assert HashingEncoder().encode([]).shape == (0, 256)


def test_same_vectors_in_another_process() -> None:
    """Python's str hash is salted per process; the encoder must not depend on it."""
    text = "Kmart to buy Sears for US$11 billion 中國經濟"
    here = HashingEncoder(dim=32).encode([text])[0]
    code = (
        "import sys; from feedcraft.embeddings import HashingEncoder; "
        f"print(HashingEncoder(dim=32).encode([{text!r}])[0].tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    np.testing.assert_array_equal(np.array(json.loads(out), dtype=np.float32), here)


def test_titles_sharing_words_are_closer(wikinews_titles: list[str]) -> None:
    enc = HashingEncoder(dim=1024)
    kidnapped = "Brazilian soccer player's mother has been kidnapped"
    freed = "Brazilian soccer player's mother freed by kidnappers"
    unrelated = "Japan to reduce aid to China"
    assert {kidnapped, freed, unrelated} <= set(wikinews_titles)
    a, b, c = enc.encode([kidnapped, freed, unrelated])
    assert a @ b > 0.5 > a @ c


def test_chinese_text_uses_words() -> None:
    a, b, c = HashingEncoder(dim=512).encode(
        ["烏克蘭戰爭前線的士兵", "烏克蘭戰爭仍在繼續", "醫生教你如何保養皮膚"]
    )
    assert a @ b > a @ c


def test_bigram_variant_and_validation() -> None:
    enc = HashingEncoder(dim=128, ngrams=2)
    assert enc.name == "hashing-128-2g"
    assert enc.encode(["new york city"]).shape == (1, 128)
    with pytest.raises(InvalidInput, match="dim"):
        HashingEncoder(dim=1)
    with pytest.raises(InvalidInput, match="ngrams"):
        HashingEncoder(ngrams=3)
    with pytest.raises(InvalidInput, match="texts"):
        enc.encode("a bare string")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="texts"):
        enc.encode(["ok", 3])  # type: ignore[list-item]

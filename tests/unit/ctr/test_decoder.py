"""ctr.decoder: a decoder LM's layers, run the way ctr.backbone runs a backbone, give the
model's own last hidden state (so training and scoring see what the model computes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from feedcraft.ctr.backbone import load_backbone, make_top, run_layers  # noqa: E402
from feedcraft.ctr.decoder import load_decoder, wrap_decoder  # noqa: E402
from feedcraft.errors import InvalidInput  # noqa: E402


def tiny_gemma3() -> Any:
    config = transformers.Gemma3TextConfig(
        vocab_size=100,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        sliding_window=3,  # shorter than the texts below, so the window matters
        layer_types=[
            "sliding_attention",
            "sliding_attention",
            "full_attention",
            "sliding_attention",
        ],
    )
    return transformers.Gemma3TextModel(config).eval()


def tiny_llama() -> Any:
    config = transformers.LlamaConfig(
        vocab_size=100,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    return transformers.LlamaModel(config).eval()


def right_padded_batch() -> tuple[Any, Any]:
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 100, (3, 7), generator=g)
    mask = torch.ones(3, 7, dtype=torch.long)
    mask[1, 5:] = 0
    mask[2, 3:] = 0
    return ids, mask


@pytest.mark.parametrize("build", [tiny_gemma3, tiny_llama], ids=["gemma3", "llama"])
def test_every_layer_gives_the_models_last_hidden_state(build: Any) -> None:
    torch.manual_seed(0)
    model = build()
    ids, mask = right_padded_batch()
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).last_hidden_state
        wrapped = wrap_decoder(model)
        got = run_layers(wrapped.encoder.layer, wrapped.embeddings(input_ids=ids), mask)
    for row in range(len(ids)):
        n = int(mask[row].sum())
        assert torch.allclose(got[row, :n], expected[row, :n], atol=1e-5)


def test_a_cut_between_frozen_and_trained_layers_changes_nothing() -> None:
    torch.manual_seed(0)
    model = tiny_gemma3()
    ids, mask = right_padded_batch()
    wrapped = wrap_decoder(model)
    with torch.no_grad():
        states = run_layers(wrapped.encoder.layer[:2], wrapped.embeddings(input_ids=ids), mask)
        top = make_top(wrapped, 2)
        cut = top.embed(states, mask)
        whole = top.embed(wrapped.embeddings(input_ids=ids), mask)  # not what it is for
        full = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask[..., None].float()
    pooled = torch.nn.functional.normalize((full * m).sum(1) / m.sum(1), dim=1)
    assert torch.allclose(cut, pooled, atol=1e-5)
    assert not torch.allclose(whole, pooled, atol=1e-3)


def test_a_missing_gguf_file_is_a_clear_error(tmp_path: Any) -> None:
    with pytest.raises(InvalidInput, match=r"no such \.gguf file"):
        load_backbone(str(tmp_path / "absent.gguf"))


@pytest.mark.slow
def test_a_converted_model_is_kept_and_read_back_exactly(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Reading a GGUF file is slow (the packaged SmolLM2: ~27 s, gemma3: ~90 s); with a cache
    folder the next load reads the converted model: the same name, token ids and weights. A
    damaged conversion is converted again, not used."""
    from feedcraft.llm.embedded import resolve_gguf

    gguf = resolve_gguf("smollm2")
    texts = ["Scientists found 3 new species in 2024!", "這是一個測試標題", "héllo  wörld"]

    def weights(model: Any) -> dict[str, Any]:
        return {k: v.clone() for k, v in model.state_dict().items()}

    def states(tokenizer: Any, model: Any) -> Any:
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            embedded = model.embeddings(input_ids=batch["input_ids"])
            return run_layers(model.encoder.layer, embedded, batch["attention_mask"])

    name, tokenizer, model = load_decoder(gguf, tmp_path)
    assert "GGUF tensors" in capfd.readouterr().err  # transformers' conversion, shown
    ids = [tokenizer(t)["input_ids"] for t in texts]
    read = weights(model)
    hidden = states(tokenizer, model)
    entries = list((tmp_path / "decoders").iterdir())
    assert len(entries) == 1 and (entries[0] / "model.safetensors").is_file()
    config = json.loads((entries[0] / "config.json").read_text())
    assert "quantization_config" not in config  # float32 weights now, not GGUF's blocks

    def same_as_read(loaded: tuple[str, Any, Any]) -> None:
        again_name, again_tok, again = loaded
        assert again_name == name and again_tok.padding_side == "right"
        assert [again_tok(t)["input_ids"] for t in texts] == ids
        kept = again.state_dict()
        assert kept.keys() == read.keys()
        assert all(torch.equal(kept[k], read[k]) for k in read)
        assert torch.equal(states(again_tok, again), hidden)  # the same config, too

    same_as_read(load_decoder(gguf, tmp_path))
    assert "GGUF" not in capfd.readouterr().err  # not converted again

    weights_file = entries[0] / "model.safetensors"
    size = weights_file.stat().st_size
    with weights_file.open("r+b") as f:
        f.truncate(size // 2)  # a disk filled mid-write, a copy cut short
    same_as_read(load_decoder(gguf, tmp_path))
    assert "GGUF tensors" in capfd.readouterr().err
    assert weights_file.stat().st_size == size  # converted and kept again

"""The fine-tuning backbone cut in two: its lower states and its trained top must be exactly
what the whole encoder computes, for BERT layers (MiniLM) and MPNet's (relative-position
bias). MPNet runs here with random weights in a tiny configuration: what is checked is the
arithmetic of the cut, which weights do not change."""

from __future__ import annotations

from typing import Any

import pytest

from feedcraft.ctr.backbone import load_backbone, lower_states, make_top, pad
from feedcraft.ctr.models import DEFAULT_ENCODER

TEXTS = [
    "You Won't Believe What This Teacher Did",
    "A short one",
    "Why Nobody Talks About This: 3 Charts That Explain Everything About The Economy",
]


def _whole(tokenizer: Any, bert: Any, text: str) -> tuple[Any, Any]:
    """(hidden states after every layer, the sentence vector) of one unpadded text."""
    import torch

    enc = tokenizer([text], truncation=True, max_length=40, return_tensors="pt")
    with torch.no_grad():
        out = bert(**enc, output_hidden_states=True)
    last = out.hidden_states[-1][0]
    return out.hidden_states, torch.nn.functional.normalize(last.mean(0), dim=0)


def _check_cut(tokenizer: Any, bert: Any) -> None:
    import torch

    n = len(bert.encoder.layer)
    whole = [_whole(tokenizer, bert, t) for t in TEXTS]
    for frozen in sorted({0, 1, n // 2, n}):
        # batch size 2: padded batches, as in fitting and scoring
        states = lower_states(tokenizer, bert, TEXTS, frozen, 40, 2)
        for s, (hidden, _) in zip(states, whole, strict=True):
            torch.testing.assert_close(s, hidden[frozen][0], atol=2e-5, rtol=1e-4)
        batch, mask = pad(states)
        with torch.no_grad():
            vectors = make_top(bert, frozen).embed(batch, mask)
        for v, (_, sentence) in zip(vectors, whole, strict=True):
            torch.testing.assert_close(v, sentence, atol=2e-5, rtol=1e-4)


@pytest.mark.slow
def test_minilm_cut_anywhere_computes_what_the_whole_encoder_does() -> None:
    _, tokenizer, bert = load_backbone(DEFAULT_ENCODER)
    _check_cut(tokenizer, bert)


def test_an_mpnet_cut_anywhere_computes_what_the_whole_encoder_does() -> None:
    import torch
    from transformers import MPNetConfig, MPNetModel

    _, tokenizer, _ = load_backbone(DEFAULT_ENCODER)  # any WordPiece ids will do
    torch.manual_seed(0)
    config = MPNetConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=64,
    )
    bert = MPNetModel(config, add_pooling_layer=False).eval()
    assert getattr(bert.encoder, "relative_attention_bias", None) is not None
    _check_cut(tokenizer, bert)

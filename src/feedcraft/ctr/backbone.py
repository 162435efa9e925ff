"""A sentence-transformers backbone cut in two for fine-tuning on a CPU.

The lower layers stay frozen, so their token states are computed once per distinct text
(`lower_states`); only the top layers, mean pooling and a linear head (`make_top`) run
forward and backward. `FineTunedHeadlineModel` trains and scores through these; they know
nothing of click data. MiniLM (BERT layers) and MPNet backbones (layers that take the
encoder's relative-position bias) are supported, and decoder language models read from GGUF
files through `ctr.decoder`.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from feedcraft.errors import InvalidInput

__all__ = [
    "load_backbone",
    "lower_states",
    "make_top",
    "pad",
    "pool_mask",
    "run_layers",
    "score_states",
]


def load_backbone(spec: str, cache_dir: Path | None = None) -> tuple[str, Any, Any]:
    """(weights name, tokenizer, BERT module in eval mode) of a sentence-transformers model,
    from its package or folder only (never downloaded); a `.gguf` file or a packaged GGUF
    model's name ("gemma3", "smollm2": the ones `llm` runs) is read as a decoder language
    model (`ctr.decoder`, converted once per `cache_dir`). A packaged name is resolved on
    each load, so a model trained on one machine scores on another where the package lies
    elsewhere."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from feedcraft.llm.embedded import PACKAGED_GGUF, resolve_gguf

    if spec in PACKAGED_GGUF:
        spec = str(resolve_gguf(spec))
    if spec.endswith(".gguf"):
        from feedcraft.ctr.decoder import load_decoder

        return load_decoder(spec, cache_dir)
    from sentence_transformers import SentenceTransformer

    from feedcraft.embeddings.sentence_transformer import _quiet_transformers, resolve_model

    source = resolve_model(spec)
    with _quiet_transformers():
        st: Any = SentenceTransformer(str(source.path), device="cpu", local_files_only=True)
    pooling = st[1].get_config_dict() if len(st) > 1 else {}
    if pooling.get("pooling_mode", "mean") != "mean":
        raise InvalidInput(
            "only mean-pooled sentence models can be fine-tuned here", field="encoder"
        )
    bert = st[0].auto_model
    bert.eval()
    for p in bert.parameters():
        p.requires_grad_(False)
    return source.name, st.tokenizer, bert


def make_top(bert: Any, frozen: int) -> Any:
    """The trained part: the transformer layers of `bert` above the first `frozen`, mean
    pooling, unit length, standardising and a linear head; `forward(states, mask, pool)` gives
    one score per text. Attention reads every token of `mask`; the mean pools only the tokens
    of `pool` (default: the same), so a headline can read its story as context while its
    vector stays the headline's. Encoders whose layers take a relative-position bias computed
    once by the encoder (MPNet, e.g. all-mpnet-base-v2) get it from a copy of the encoder's
    bias table, which stays frozen as in the backbone."""
    import torch
    from torch import nn

    encoder = bert.encoder
    layers = list(encoder.layer[frozen:])
    dim = int(bert.config.hidden_size)
    relative = getattr(encoder, "relative_attention_bias", None)

    class Top(nn.Module):
        mean: torch.Tensor
        scale: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(copy.deepcopy(layers))
            self.head = nn.Linear(dim, 1, bias=False)
            nn.init.zeros_(self.head.weight)
            self.register_buffer("mean", torch.zeros(dim))
            self.register_buffer("scale", torch.ones(dim))
            if relative is not None:
                # the library's own bias computation, called on this module's copy of the table
                self.relative_attention_bias = copy.deepcopy(relative)
                self.relative_position_bucket = type(encoder).relative_position_bucket
                self._position_bias = type(encoder).compute_position_bias

        def embed(
            self, states: torch.Tensor, mask: torch.Tensor, pool: torch.Tensor | None = None
        ) -> torch.Tensor:
            bias = self._position_bias(self, states) if relative is not None else None
            h = run_layers(self.layers, states, mask, bias)
            m = (mask if pool is None else pool)[..., None].to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
            return nn.functional.normalize(pooled, dim=1)

        def forward(
            self, states: torch.Tensor, mask: torch.Tensor, pool: torch.Tensor | None = None
        ) -> torch.Tensor:
            z = (self.embed(states, mask, pool) - self.mean) / self.scale
            return self.head(z).squeeze(-1)

    top = Top()
    for p in top.parameters():
        p.requires_grad_(True)
    if relative is not None:
        top.relative_attention_bias.requires_grad_(False)
    return top


def run_layers(layers: Iterable[Any], states: Any, mask: Any, bias: Any = None) -> Any:
    """Token states through transformer `layers` as the encoder runs them: padding masked out
    of attention, and MPNet's relative-position `bias` (None for BERT layers) given to each."""
    import torch

    add = (1.0 - mask[:, None, None, :].to(states.dtype)) * torch.finfo(states.dtype).min
    h = states
    for layer in layers:
        out = layer(h, add) if bias is None else layer(h, add, position_bias=bias)
        h = out[0] if isinstance(out, tuple) else out
    return h


def pad(states: Sequence[Any]) -> tuple[Any, Any]:
    """Variable-length token states as one zero-padded batch and its mask, on the states'
    device."""
    import torch

    batch = torch.nn.utils.rnn.pad_sequence(list(states), batch_first=True)
    lengths = torch.tensor([s.shape[0] for s in states], device=batch.device)
    mask = (torch.arange(batch.shape[1], device=batch.device)[None, :] < lengths[:, None]).to(
        torch.long
    )
    return batch, mask


def pool_mask(mask: Any, lengths: Sequence[int] | None) -> Any:
    """The pooling mask of a padded batch whose texts pool only their first `lengths` tokens
    (None: pool every token, the attention mask itself)."""
    if lengths is None:
        return None
    import torch

    first = torch.as_tensor(np.asarray(lengths), device=mask.device)
    return mask * (torch.arange(mask.shape[1], device=mask.device)[None, :] < first[:, None])


def lower_states(
    tokenizer: Any, bert: Any, texts: Sequence[str], frozen: int, max_length: int, batch_size: int
) -> list[Any]:
    """Token states after the embeddings and the first `frozen` layers, one (length, dim)
    tensor per text on `bert`'s device, computed once (the frozen layers never change).

    Only those layers run: the layers above are the trained part's, and running the whole
    encoder here (as `output_hidden_states` would) doubled the cost of scoring a model whose
    every layer is trained."""
    import torch

    device = next(bert.parameters()).device
    encoder = bert.encoder
    relative = getattr(encoder, "relative_attention_bias", None)
    lengths = [
        len(tokenizer(t, truncation=True, max_length=max_length)["input_ids"]) for t in texts
    ]
    order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding
    out: list[Any] = [None] * len(texts)
    with torch.no_grad():
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            enc = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(device)
            # a single text's token types are all 0, the embeddings' default
            hidden = bert.embeddings(input_ids=enc["input_ids"])
            if frozen > 0:
                bias = None if relative is None else encoder.compute_position_bias(hidden)
                hidden = run_layers(encoder.layer[:frozen], hidden, enc["attention_mask"], bias)
            for row, i in enumerate(idx):
                out[i] = hidden[row, : int(enc["attention_mask"][row].sum())].clone()
    return out


def score_states(
    top: Any, states: Sequence[Any], batch_size: int, pool_lengths: Sequence[int] | None = None
) -> np.ndarray:
    """One score per text; `pool_lengths` as in `pool_mask`."""
    import torch

    order = np.argsort([s.shape[0] for s in states], kind="stable")
    scores = np.zeros(len(states), dtype=np.float64)
    top.eval()
    with torch.no_grad():
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            batch, mask = pad([states[i] for i in idx])
            pool = pool_mask(mask, None if pool_lengths is None else [pool_lengths[i] for i in idx])
            scores[idx] = top(batch, mask, pool).double().cpu().numpy()
    return scores


def sentence_vectors(
    top: Any, states: Sequence[Any], pool_lengths: Sequence[int] | None, batch_size: int
) -> np.ndarray:
    """Unit-length sentence vectors from the top layers, one per text (`score_states`' order
    and batches); the fine-tuned model's warm start reads them from the untrained layers."""
    import torch

    out = np.zeros((len(states), top.head.in_features), dtype=np.float32)
    order = np.argsort([s.shape[0] for s in states], kind="stable")
    top.eval()
    with torch.no_grad():
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            batch, mask = pad([states[i] for i in idx])
            lengths = None if pool_lengths is None else [pool_lengths[i] for i in idx]
            out[idx] = top.embed(batch, mask, pool_mask(mask, lengths)).float().cpu().numpy()
    return out

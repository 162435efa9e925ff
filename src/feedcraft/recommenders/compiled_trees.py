"""LightGBM boosters compiled to native code with lleaves (LLVM), for serving.

A feed scores a few hundred candidates per request, and LightGBM's own predictor spends most
of that on walking its trees one row at a time: 200 trees over 230 rows took 9.7 ms here,
the compiled forest 0.93 ms with the same numbers (largest difference 1e-15). Compiling
costs seconds (three 200-tree boosters: 3.2 s without inlining, 6.6-7.5 s with it, which
makes their predictions for 230 rows 1.02 instead of 1.41 ms), so serving compiles in the
background and keeps LightGBM's predictor until the compiled one is ready; the compiled code
lives in memory only, is never pickled, and is checked against LightGBM on a probe before it
replaces it.

With a `cache_dir` the machine code is also kept on disk (lleaves' object cache), under a hash
of the booster, the lleaves and llvmlite versions, the compile options and this CPU (the code
is built for it): a server that restarts, or a second process serving the same model, loads it
in milliseconds instead of compiling it again. A file is written under a temporary name and
renamed, so no process ever reads one half written, and beside it its SHA-256: a file that no
longer matches (LLVM would abort the process on a damaged one) is compiled again; the probe
check still runs on what was loaded, and a cached file that disagrees is deleted. The newest
`_KEEP` files stay.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from feedcraft.machine_cache import partial_name, prune, touch, writable

__all__ = ["Predict", "compile_boosters"]

#: Scores of a feature matrix (rows x features) -> one score per row.
Predict = Callable[[np.ndarray], np.ndarray]


#: Compiled files kept in a cache directory (a ranker is 3 of them, ~0.5 MB each).
_KEEP = 60
#: lleaves' compile options, fixed here and part of every cache key.
_OPTIONS = {"finline": True}


def compile_boosters(
    boosters: Sequence[Any], probe: np.ndarray, cache_dir: Path | None = None
) -> list[Predict] | None:
    """One compiled predictor per booster, or None when lleaves is unavailable or a
    compiled forest disagrees with LightGBM on `probe` (rows x features; include NaNs,
    since missing values take their own branch). `cache_dir` keeps the machine code on
    disk (module docstring)."""
    try:
        import lleaves
    except ImportError:  # an optional speed-up: LightGBM's predictor still serves
        return None
    out: list[Predict] = []
    # mkdtemp, not TemporaryDirectory: the latter's cleanup also runs at interpreter exit,
    # before the atexit hook that lets a background compile finish, and deleted its files
    # from under it.
    tmp = Path(tempfile.mkdtemp(prefix="feedcraft-trees-"))
    cache = writable(cache_dir)
    try:
        for i, booster in enumerate(boosters):
            path = tmp / f"booster{i}.txt"
            booster.save_model(str(path))
            model = lleaves.Model(model_file=str(path))
            cached = _compile(model, path, cache)
            expected = booster.predict(probe, num_threads=1)
            got = model.predict(probe, n_jobs=1)
            if not np.allclose(got, expected, rtol=1e-9, atol=1e-9):
                if cached is not None:  # not what this booster compiles to: never again
                    cached.unlink(missing_ok=True)
                return None
            out.append(_bound(model))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _compile(model: Any, model_file: Path, cache: Path | None) -> Path | None:
    """Compile `model` (an lleaves.Model of `model_file`), through `cache` where given:
    loaded when its file exists, else compiled into a temporary file renamed into place.
    The cached file used, or None."""
    if cache is None:
        model.compile(**_OPTIONS)
        return None
    final = cache / f"{_key(model_file)}.o"
    digest = final.with_suffix(".sha256")
    if final.exists():
        if _intact(final, digest):
            model.compile(cache=str(final), **_OPTIONS)
            touch(final)
            return final
        # Never handed to LLVM, which aborts the whole process on a cut-short object file.
        final.unlink(missing_ok=True)
    partial, partial_digest = partial_name(final), partial_name(digest)
    try:
        model.compile(cache=str(partial), **_OPTIONS)
        if not partial.exists():  # lleaves wrote no object file: compiled all the same
            return None
        partial_digest.write_text(hashlib.sha256(partial.read_bytes()).hexdigest())
        os.replace(partial_digest, digest)  # before the code: a file found has its digest
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
        partial_digest.unlink(missing_ok=True)
    for gone in prune(cache, "*.o", _KEEP):
        gone.with_suffix(".sha256").unlink(missing_ok=True)
    return final


def _intact(code: Path, digest: Path) -> bool:
    """Whether `code` is what was written (its digest matches): a disk that failed, a copy
    cut short or another program's write is compiled again instead of loaded."""
    try:
        return hashlib.sha256(code.read_bytes()).hexdigest() == digest.read_text().strip()
    except OSError:
        return False


def _key(model_file: Path) -> str:
    """What the machine code depends on: the booster, the compilers, the options, the CPU."""
    import llvmlite.binding as llvm

    parts = [
        model_file.read_bytes(),
        importlib.metadata.version("lleaves").encode(),
        importlib.metadata.version("llvmlite").encode(),
        repr(sorted(_OPTIONS.items())).encode(),
        llvm.get_host_cpu_name().encode(),
        llvm.get_host_cpu_features().flatten().encode(),
    ]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little") + part)
    return digest.hexdigest()[:32]


def _bound(model: Any) -> Predict:
    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(np.ascontiguousarray(x, np.float64), n_jobs=1))

    return predict

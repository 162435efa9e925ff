"""Fitted recommenders as versioned artifacts: save after training, load the newest to serve.

Artifacts are pickles read back by `model_pickle`, which builds model types only.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from feedcraft.errors import Conflict, NotFound, Unavailable
from feedcraft.recommenders.base import Recommender
from feedcraft.services import heap
from feedcraft.services.headlines import ARTIFACT as HEADLINE_ARTIFACT
from feedcraft.storage import ArtifactInfo, Store, model_pickle

PREFIX = "recommender:"
_log = logging.getLogger(__name__)


def artifact_name(model: str) -> str:
    return f"{PREFIX}{model}"


#: Versions kept per model: the served one and two to roll back to. Older ones are deleted,
#: since a model such as the hybrid weighs hundreds of MB.
KEEP_VERSIONS = 3


def save_model(
    store: Store, model: Recommender, metadata: Mapping[str, Any], *, keep: int = KEEP_VERSIONS
) -> int:
    """Save as the newest version (served from now on); prune all but the newest `keep`."""
    name = artifact_name(model.name)
    blob = model_pickle.dumps(model)
    version = store.artifacts.save(name, blob, dict(metadata))
    for old in store.artifacts.versions(name)[:-keep]:
        store.artifacts.delete(name, old.version)
    return version


def rollback(store: Store, name: str) -> ArtifactInfo:
    """Delete the newest version of a model so the previous one is served; returns it.

    `name` is a recommender ("hybrid") or the headline click model by its artifact name
    ("ctr:headlines"), whose newest version may be just as bad to serve."""
    artifact = name if name == HEADLINE_ARTIFACT else artifact_name(name)
    versions = store.artifacts.versions(artifact)
    if len(versions) < 2:
        raise Conflict(
            f"model '{name}' has {len(versions)} version(s); rolling back needs at least two"
        )
    store.artifacts.delete(artifact, versions[-1].version)
    return versions[-2]


def load_model(
    store: Store, name: str, version: int | None = None
) -> tuple[Recommender, ArtifactInfo]:
    try:
        blob, info = store.artifacts.load(artifact_name(name), version)
    except NotFound as exc:
        raise Unavailable(
            f"no trained '{name}' model in the store; run `feedcraft train` first"
        ) from exc
    try:
        model = model_pickle.loads(blob)
    except model_pickle.UntrustedPickle as exc:
        raise Unavailable(f"artifact {info.name} v{info.version} is refused: {exc}") from None
    if not isinstance(model, Recommender):
        raise Unavailable(f"artifact {info.name} v{info.version} is not a recommender")
    return model, info


#: Every cache's preparing threads, joined when the interpreter exits (the reason is in
#: `ModelCache.close`): a program that never closes its cache must not die of it either.
_preparing: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


@atexit.register
def _finish_preparing() -> None:
    for thread in list(_preparing):
        if thread.is_alive():
            thread.join()


class ModelCache:
    """Serve the newest version of each model, reloading when a newer one is saved.

    settle_heap: after a model is loaded and prepared, collect the garbage that left and
    freeze the rest (`heap.settle`), so no request pays for a full collector pass over the
    models; for long-running servers (one pause per model load, ~0.1 s, off the request path).
    cache_dir: where preparing may keep what the next process can reuse (settings `cache_dir`).
    """

    def __init__(
        self, store: Store, *, settle_heap: bool = False, cache_dir: Path | None = None
    ) -> None:
        self._store = store
        self._settle_heap = settle_heap
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._models: dict[str, tuple[Recommender, ArtifactInfo]] = {}
        #: Artifact name -> the thread preparing its newest loaded version (see `_prepare`).
        self.preparing: dict[str, threading.Thread] = {}

    def get(self, name: str) -> tuple[Recommender, ArtifactInfo]:
        versions = self._store.artifacts.versions(artifact_name(name))
        if not versions:
            raise Unavailable(
                f"no trained '{name}' model in the store; run `feedcraft train` first"
            )
        newest = versions[-1].version
        with self._lock:
            held = self._models.get(name)
            if held is None or held[1].version != newest:
                held = load_model(self._store, name, newest)
                self._models[name] = held
                self._prepare(held)
            return held

    def clear(self) -> None:
        """Drop the loaded models: the next request loads the newest version of each. After
        an erasure, no copy that still names the erased readers stays in this process."""
        with self._lock:
            self._models.clear()

    def _prepare(self, held: tuple[Recommender, ArtifactInfo]) -> None:
        """The model's one-off serving work (`Recommender.prepare_serving`), in a daemon
        thread: the first requests are served at once by the model as loaded."""
        model, info = held

        def work() -> None:
            try:
                model.prepare_serving(self._cache_dir)
            except Exception:  # a speed-up failing must never take serving down
                _log.warning(
                    "preparing %s v%s for serving failed", info.name, info.version, exc_info=True
                )
            if self._settle_heap:
                pause = heap.settle()
                _log.debug("heap settled after loading %s: %.0f ms", info.name, pause)

        thread = threading.Thread(target=work, name=f"prepare-{info.name}", daemon=True)
        self.preparing[info.name] = thread
        _preparing.add(thread)
        thread.start()

    def close(self) -> None:
        """Wait for the preparing threads. Compiling a ranker runs inside LLVM; a process that
        exits under it has LLVM's global context destroyed mid-compile and dies of a
        segmentation fault, so a server stopping must first let the compile end (seconds)."""
        with self._lock:
            threads = [t for t in self.preparing.values() if t.is_alive()]
        for thread in threads:
            _log.info("waiting for %s to finish before closing", thread.name)
            thread.join()

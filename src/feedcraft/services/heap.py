"""Keep the garbage collector's full passes off the request path of a long-running server.

CPython's cyclic collector now and then walks every tracked object (a full, generation-2
pass). A server holding trained models tracks hundreds of thousands of objects, and
compiling the ranker's boosters (lleaves builds LLVM IR as Python objects) leaves ~72,000
objects of cyclic garbage behind: the first full pass after that took 80-160 ms here, and it
landed on whichever request happened to trigger it (a 175 ms feed in `benchmarks/latency.py`).
`settle` runs that pass at once, right after a model is loaded and prepared, and then freezes
the survivors (`gc.freeze`), so later full passes skip the models and only walk what requests
created since. It unfreezes first, so a replaced model's cycles are still collected.
"""

from __future__ import annotations

import gc
import threading
import time

__all__ = ["settle"]

_lock = threading.Lock()


def settle() -> float:
    """Collect all cyclic garbage now and freeze what survives; returns the pause in ms."""
    with _lock:
        start = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return (time.perf_counter() - start) * 1000

"""`held`: a model run admitted in another thread, for as long as a block lasts (a plain
module, like `gatedgenerator`, so that tests in any folder can import it by name)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from feedcraft.llm.admission import Admission


@contextmanager
def held(admission: Admission) -> Iterator[None]:
    """One of `admission`'s pending runs taken by another thread (a thread's own nested runs
    share its slot, so the test's thread cannot hold one for itself)."""
    entered, done = threading.Event(), threading.Event()

    def hold() -> None:
        with admission.enter() as admitted:
            assert admitted
            entered.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(10)
    try:
        yield
    finally:
        done.set()
        holder.join(10)

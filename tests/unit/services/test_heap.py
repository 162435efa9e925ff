"""services.heap: a model load leaves no cyclic garbage for a request to collect."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from feedcraft.services import heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # other tests run with the collector as they found it


@pytest.mark.usefixtures("thawed")
def test_settle_collects_cycles_and_freezes_the_survivors() -> None:
    gc.disable()  # only settle may collect here
    try:
        garbage = _cycle()
        kept = _Node()
        kept.other = kept
        assert garbage() is not None  # a cycle: reference counting alone cannot free it
        heap.settle()
        assert garbage() is None
        assert gc.get_freeze_count() > 0
        assert all(o is not kept for o in gc.get_objects())  # frozen: no pass walks it
        # a second settle thaws first: garbage made of once-frozen objects is still found
        probe = weakref.ref(kept)
        kept.other = kept
        del kept
        heap.settle()
        assert probe() is None
    finally:
        gc.enable()

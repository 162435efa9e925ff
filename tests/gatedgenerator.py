"""`GatedGenerator`: the real generator, held at each run until the test lets it go (a plain
module, like `countingencoder`, so that tests in any folder can import it by name)."""

from __future__ import annotations

import threading
from typing import Any

from feedcraft.llm import GenerationResult, Generator
from feedcraft.llm.tasks import PreparedTask


class GatedGenerator(Generator):
    """The real generator, counting its runs; each run sets `entered`, then waits until
    `release` is set (set it first for runs that should pass at once)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runs = 0
        self.entered = threading.Event()
        self.release = threading.Event()

    def run(self, task: PreparedTask) -> GenerationResult:
        self.runs += 1
        self.entered.set()
        assert self.release.wait(30), "never released"
        return super().run(task)

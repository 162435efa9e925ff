"""Processes sharing a store run the model once for a text they all miss (`[llm] claim_s`).

Each "process" here is a GenerationService over its own Store object on the same SQLite file
(its own connections and its own in-process single flight), or a real second Python process;
the generator is the real extractive one, counting its runs, the first of which waits until
the test lets it go.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import pytest

from feedcraft.config import Settings
from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import GenerationResult, OpenAICompatibleBackend
from feedcraft.llm.tasks import PreparedTask
from feedcraft.services.claimed import ClaimOwner
from feedcraft.services.generated import GeneratedText
from feedcraft.services.generation import GenerationService
from feedcraft.storage import Store, open_store
from gatedgenerator import GatedGenerator
from ports import free_port

ITEM = "wikinews-001"


def _service(store: Store, settings: Settings) -> tuple[GenerationService, GatedGenerator]:
    encoder = HashingEncoder(256)
    generator = GatedGenerator(None, encoder)
    return GenerationService(store, settings, encoder, generator=generator), generator


@pytest.fixture
def other(llm_settings: Settings, loaded: Store) -> Iterator[Store]:
    """A second Store on the same file, as another server process opens it."""
    with closing(open_store(llm_settings.store)) as s:
        yield s


def _claim_attempts(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The answers `store`'s cache gives to claims (a spy: the real claim answers)."""
    answers: list[bool] = []
    claim = store.text_cache.claim

    def spy(key: str, owner: str, seconds: float) -> bool:
        answers.append(claim(key, owner, seconds))
        return answers[-1]

    monkeypatch.setattr(store.text_cache, "claim", spy)
    return answers


def _in_background(fn: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    return thread, out


def test_a_second_process_waits_for_the_first_ones_text(
    loaded: Store, other: Store, llm_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, first_model = _service(loaded, llm_settings)
    second, second_model = _service(other, llm_settings)
    second_model.release.set()  # were it to run, it would not be held
    answers = _claim_attempts(other, monkeypatch)
    t1, out1 = _in_background(lambda: first.summary(ITEM))
    assert first_model.entered.wait(30)  # the first holds the claim and is writing
    t2, out2 = _in_background(lambda: second.summary(ITEM))
    deadline = time.monotonic() + 30
    while answers.count(False) < 2:  # the second was refused twice: it is waiting
        assert time.monotonic() < deadline and t2.is_alive()
        time.sleep(0.01)
    first_model.release.set()
    t1.join(30)
    t2.join(30)
    [one], [two] = out1, out2
    assert isinstance(one, GeneratedText) and isinstance(two, GeneratedText)
    assert first_model.runs == 1 and second_model.runs == 0
    assert not one.cache_hit and two.cache_hit
    assert two.outputs == one.outputs


def test_a_claim_left_by_a_dead_process_delays_the_next_writer_only_until_it_lapses(
    loaded: Store, llm_settings: Settings
) -> None:
    settings = llm_settings.model_copy(
        update={"llm": llm_settings.llm.model_copy(update={"claim_s": 1.0})}
    )
    service, model = _service(loaded, settings)
    model.release.set()
    key = service.summary(ITEM).cache_key
    assert loaded.text_cache.delete([key]) == 1
    assert loaded.text_cache.claim(key, "gone/123/dead", 1.0)  # as a process that then died
    start = time.monotonic()
    served = service.summary(ITEM)
    assert 0.9 <= time.monotonic() - start < 20
    assert model.runs == 2 and not served.cache_hit
    assert loaded.text_cache.release(key, "gone/123/dead") is False  # taken over, then freed
    assert loaded.text_cache.claim(key, "next", 60)  # the writer released its claim


def test_a_writer_that_fails_frees_the_text_for_the_next(
    loaded: Store, other: Store, llm_settings: Settings
) -> None:
    """The claim goes with the writer's exception; the next request runs the model itself."""
    first, first_model = _service(loaded, llm_settings)
    first_model.release.set()
    second, second_model = _service(other, llm_settings)
    second_model.release.set()

    def broken(task: PreparedTask) -> GenerationResult:
        raise RuntimeError("the model crashed")

    first_model.run = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="crashed"):
        first.summary(ITEM)
    start = time.monotonic()
    served = second.summary(ITEM)
    assert time.monotonic() - start < 5  # not held by a claim of the failed writer
    assert second_model.runs == 1 and not served.cache_hit


def _with_claim_s(settings: Settings, seconds: float) -> Settings:
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"claim_s": seconds})})


def test_a_writer_slower_than_its_claim_keeps_it_by_renewing(
    loaded: Store, other: Store, llm_settings: Settings
) -> None:
    """A claim lasts claim_s unless renewed; a model that takes longer still writes alone."""
    settings = _with_claim_s(llm_settings, 1.0)
    first, first_model = _service(loaded, settings)
    second, second_model = _service(other, settings)
    second_model.release.set()
    t1, out1 = _in_background(lambda: first.summary(ITEM))
    assert first_model.entered.wait(30)
    t2, out2 = _in_background(lambda: second.summary(ITEM))
    time.sleep(2.5)  # two and a half claims long
    assert second_model.runs == 0 and t2.is_alive()
    first_model.release.set()
    t1.join(30)
    t2.join(30)
    assert first_model.runs == 1 and second_model.runs == 0
    assert out2[0].cache_hit and out2[0].outputs == out1[0].outputs


def test_when_the_writer_leaves_no_text_the_waiters_run_side_by_side(
    loaded: Store, llm_settings: Settings
) -> None:
    """An outage's fallback is not cached: the processes that waited for it then run at once,
    each trying the model, rather than each waiting out the next one's timeout in turn."""
    down = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=0, backoff=0)
    encoder = HashingEncoder(256)
    writer_model = GatedGenerator(down, encoder)
    writer = GenerationService(loaded, llm_settings, encoder, generator=writer_model)
    waiters = []
    with ExitStack() as stack:
        for _ in range(2):
            store = stack.enter_context(closing(open_store(llm_settings.store)))
            model = GatedGenerator(down, encoder)
            waiters.append(
                (GenerationService(store, llm_settings, encoder, generator=model), model)
            )
        t0, out0 = _in_background(lambda: writer.summary(ITEM))
        assert writer_model.entered.wait(30)
        threads = [_in_background(lambda s=s: s.summary(ITEM)) for s, _ in waiters]
        time.sleep(0.5)  # both are waiting on the writer's claim
        assert not any(model.entered.is_set() for _, model in waiters)
        writer_model.release.set()
        t0.join(30)
        assert "backend" in out0[0].failed_checks and out0[0].fallback  # nothing cached
        for _, model in waiters:  # both running at once: neither holds the other up
            assert model.entered.wait(30)
        for _, model in waiters:
            model.release.set()
        for thread, _ in threads:
            thread.join(30)
        for (_, out), (_, model) in zip(threads, waiters, strict=True):
            assert model.runs == 1 and out[0].fallback and not out[0].cache_hit


def test_a_process_forked_after_the_service_was_built_claims_under_its_own_pid() -> None:
    owner = ClaimOwner()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write, str(owner).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 1000).decode()
    os.waitpid(pid, 0)
    assert str(owner).split("/")[1] == str(os.getpid())
    assert child.split("/")[1] == str(pid)
    assert child.split("/")[2] == str(owner).split("/")[2]  # the same service's token


# ------------------------------------------------------------------ real processes

_CHILD = r"""
import json, sys, time
from pathlib import Path
from feedcraft.config import load_settings
from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Generator
from feedcraft.services.generation import GenerationService
from feedcraft.storage import open_store

url, signals, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

class Gated(Generator):
    runs = 0
    def run(self, task):
        Gated.runs += 1
        (signals / f"{name}.entered").touch()
        deadline = time.monotonic() + 60
        while not (signals / "release").exists():
            assert time.monotonic() < deadline, "never released"
            time.sleep(0.02)
        return super().run(task)

settings = load_settings(
    store=url, embedding={"model": "hashing"}, progress=False, llm={"backend": "extractive"}
)
store = open_store(url)
encoder = HashingEncoder(256)
service = GenerationService(store, settings, encoder, generator=Gated(None, encoder))
(signals / f"{name}.asking").touch()
out = service.summary("wikinews-001")
print(json.dumps({"runs": Gated.runs, "hit": out.cache_hit, "outputs": out.outputs}))
"""


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


@pytest.mark.slow
def test_two_server_processes_run_the_model_once(
    loaded: Store, llm_settings: Settings, tmp_path: Path
) -> None:
    signals = tmp_path / "signals"
    signals.mkdir()

    def start(name: str) -> subprocess.Popen[str]:
        args = [sys.executable, "-c", _CHILD, llm_settings.store, str(signals), name]
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = start("first")
    try:
        _wait_for(signals / "first.entered", first)
        second = start("second")
        try:
            _wait_for(signals / "second.asking", second)
            time.sleep(1.5)  # time to miss the cache and reach the model, had it no claim
            (signals / "release").touch()
            out1, err1 = first.communicate(timeout=60)
            out2, err2 = second.communicate(timeout=60)
        finally:
            second.kill()
    finally:
        first.kill()
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    one, two = json.loads(out1), json.loads(out2)
    assert (one["runs"], one["hit"]) == (1, False)
    assert (two["runs"], two["hit"]) == (0, True)
    assert two["outputs"] == one["outputs"]

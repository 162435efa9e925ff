"""A claim whose writer is gone before its text: a writer killed holding it, or its item deleted.

A writer killed while it holds a claim (SIGKILL, the OOM killer) held every waiter for
`[llm] claim_s` (30 s), the claim's lapse. A waiter on the same kernel and in the same pid
namespace can tell at once that the owner's process is gone, and takes the claim over, one
waiter only (compare-and-swap); owners elsewhere (another host, another container's pids) and
live ones keep their claims. Deleting an item drops its claims with its texts: the waiters
then polling must not run the model for the item, and no text of it may stay in the cache.

Each "process" is a GenerationService over its own Store on the same SQLite file, or a real
second Python process; the generators are the real extractive one.
"""

from __future__ import annotations

import functools
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import pytest

from feedcraft.config import Settings
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import NotFound
from feedcraft.services.claimed import ClaimOwner
from feedcraft.services.generated import GeneratedText
from feedcraft.services.generation import GenerationService
from feedcraft.services.items import delete_items
from feedcraft.services.text_keys import item_key_prefix
from feedcraft.storage import Store, open_store
from gatedgenerator import GatedGenerator

ITEM = "wikinews-001"


def _service(store: Store, settings: Settings) -> tuple[GenerationService, GatedGenerator]:
    encoder = HashingEncoder(256)
    generator = GatedGenerator(None, encoder)
    return GenerationService(store, settings, encoder, generator=generator), generator


def _with_claim_s(settings: Settings, seconds: float) -> Settings:
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"claim_s": seconds})})


def _in_background(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """`fn` in a thread; its answer, or the exception it raised, lands in the list."""
    out: list[Any] = []

    def work() -> None:
        try:
            out.append(fn())
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    return thread, out


@pytest.fixture
def stores(llm_settings: Settings, loaded: Store) -> Iterator[Callable[[], Store]]:
    """Opens more Stores on the same file, as other server processes do; closed at the end."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(closing(open_store(llm_settings.store)))


def _key_of_summary(store: Store, settings: Settings) -> str:
    """The cache key of ITEM's summary, left uncached."""
    service, model = _service(store, settings)
    model.release.set()
    key = service.summary(ITEM).cache_key
    assert store.text_cache.delete([key]) == 1
    return key


# ------------------------------------------------------------------ owners of other processes

_OWNER = (
    "import sys, time\n"
    "from feedcraft.services.claimed import ClaimOwner\n"
    "print(ClaimOwner(), flush=True)\n"
    "time.sleep(float(sys.argv[1]))\n"
)


@pytest.fixture
def live_owner() -> Iterator[str]:
    """The claimant name of a live process of this host."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _OWNER, "120"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def dead_owner() -> str:
    """The claimant name of a process of this host that has exited (and been reaped)."""
    done = subprocess.run(
        [sys.executable, "-c", _OWNER, "0"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_owners_name_their_kernel_and_pid_namespace(dead_owner: str) -> None:
    """Host/pid/token, then where the pid means that process: this boot of this kernel and
    this pid namespace (containers on one host may share a hostname, not their pids)."""
    mine = str(ClaimOwner()).split("/")
    theirs = dead_owner.split("/")
    assert len(mine) == len(theirs) == 4
    assert theirs[0] == mine[0] and theirs[1] != mine[1]  # same host, another pid
    assert theirs[3] == mine[3]  # the same kernel boot and pid namespace


# ------------------------------------------------------------------ a writer killed


_WRITER = r"""
import sys, time
from pathlib import Path
from feedcraft.config import load_settings
from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Generator
from feedcraft.services.generation import GenerationService
from feedcraft.storage import open_store

url, signals = sys.argv[1], Path(sys.argv[2])

class Stuck(Generator):
    def run(self, task):
        (signals / "entered").touch()
        time.sleep(600)  # killed here, holding the claim

settings = load_settings(
    store=url, embedding={"model": "hashing"}, progress=False, llm={"backend": "extractive"}
)
encoder = HashingEncoder(256)
service = GenerationService(open_store(url), settings, encoder, generator=Stuck(None, encoder))
service.summary("wikinews-001")
"""


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("reaped", [True, False], ids=["reaped", "zombie"])
def test_a_writer_killed_holding_the_claim_is_taken_over_at_once(
    loaded: Store,
    stores: Callable[[], Store],
    llm_settings: Settings,
    tmp_path: Path,
    reaped: bool,
) -> None:
    """A real writer process, SIGKILLed in the model run; unreaped, it is a zombie (its parent
    has not waited for it yet), as dead as a reaped one."""
    assert llm_settings.llm.claim_s == 30  # the default: the lapse a waiter used to sit out
    signals = tmp_path / "signals"
    signals.mkdir()
    args = [sys.executable, "-c", _WRITER, llm_settings.store, str(signals)]
    writer = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(signals / "entered", writer)
        service, model = _service(stores(), llm_settings)
        model.release.set()
        service.warm()  # a cold first run loads the guardrails' lists: seconds, not the wait
        thread, out = _in_background(lambda: service.summary(ITEM))
        time.sleep(1.0)  # it missed the cache and is waiting on the writer's claim
        assert thread.is_alive() and model.runs == 0
        writer.send_signal(signal.SIGKILL)
        if reaped:
            writer.wait()
        killed = time.monotonic()
        thread.join(10)
        waited = time.monotonic() - killed
        thread.join(60)  # before the take-over: the claim's lapse, 30 s
    finally:
        writer.kill()
        writer.wait()
    assert waited < 5
    [served] = out
    assert isinstance(served, GeneratedText) and served.outputs and not served.cache_hit
    assert model.runs == 1
    assert loaded.text_cache.get(served.cache_key) is not None
    assert loaded.text_cache.holder(served.cache_key) is None  # the taker released it


def test_waiters_of_a_dead_owner_take_its_claim_over_one_only(
    loaded: Store, stores: Callable[[], Store], llm_settings: Settings, dead_owner: str
) -> None:
    """Several processes find the dead owner's claim at once: one takes it over and writes,
    the others wait for its text (they do not all run the model)."""
    key = _key_of_summary(loaded, llm_settings)
    assert loaded.text_cache.claim(key, dead_owner, 30)
    waiters = [_service(stores(), llm_settings) for _ in range(4)]
    start = threading.Barrier(len(waiters))

    def ask(service: GenerationService) -> GeneratedText:
        start.wait()
        return service.summary(ITEM)

    threads = [_in_background(functools.partial(ask, s)) for s, _ in waiters]
    deadline = time.monotonic() + 10
    while not any(model.entered.is_set() for _, model in waiters):
        assert time.monotonic() < deadline, "nobody took the dead owner's claim over"
        time.sleep(0.01)
    time.sleep(0.5)  # the others have looked again meanwhile
    assert sum(model.entered.is_set() for _, model in waiters) == 1
    for _, model in waiters:
        model.release.set()
    for thread, _ in threads:
        thread.join(30)
    served = [out[0] for _, out in threads]
    assert all(isinstance(s, GeneratedText) for s in served)
    assert sum(model.runs for _, model in waiters) == 1
    assert sorted(s.cache_hit for s in served) == [False, True, True, True]
    assert len({s.outputs for s in served}) == 1


def _other_place(owner: str, part: int) -> str:
    """`owner` moved to another kernel boot (part 0) or pid namespace (part 1)."""
    host, pid, token, place = owner.split("/")
    pieces = place.split(".")
    pieces[part] = "f" * len(pieces[part]) if part == 0 else str(int(pieces[part]) + 1)
    return f"{host}/{pid}/{token}/{'.'.join(pieces)}"


@pytest.mark.parametrize(
    "where",
    [
        "another kernel (host)",
        "another pid namespace (container)",
        "another hostname (a cloned machine)",
        "no place (older owner)",
    ],
)
def test_a_dead_pid_elsewhere_is_not_taken_over(
    loaded: Store, llm_settings: Settings, dead_owner: str, where: str
) -> None:
    """Its pid means another process, or none known: the claim holds until it lapses."""
    if where.startswith("another kernel"):
        owner = _other_place(dead_owner, 0)
    elif where.startswith("another pid"):
        owner = _other_place(dead_owner, 1)
    elif where.startswith("another hostname"):
        owner = "clone-of-" + dead_owner
    else:
        owner = dead_owner.rsplit("/", 1)[0]
    settings = _with_claim_s(llm_settings, 1.0)
    key = _key_of_summary(loaded, settings)
    assert loaded.text_cache.claim(key, owner, 1.0)
    service, model = _service(loaded, settings)
    model.release.set()
    begun = time.monotonic()
    served = service.summary(ITEM)
    assert time.monotonic() - begun >= 0.9  # waited out the lapse
    assert model.runs == 1 and not served.cache_hit


@pytest.mark.parametrize("whose", ["another process", "this process, another service"])
def test_a_live_owner_on_this_host_keeps_its_claim(
    loaded: Store, llm_settings: Settings, live_owner: str, whose: str
) -> None:
    owner = live_owner if whose == "another process" else str(ClaimOwner())
    settings = _with_claim_s(llm_settings, 1.0)
    key = _key_of_summary(loaded, settings)
    assert loaded.text_cache.claim(key, owner, 1.0)
    service, model = _service(loaded, settings)
    model.release.set()
    begun = time.monotonic()
    served = service.summary(ITEM)
    assert time.monotonic() - begun >= 0.9
    assert model.runs == 1 and not served.cache_hit


# ------------------------------------------------------------------ the item deleted


def test_waiters_freed_by_a_deletion_do_not_run_the_model_for_the_deleted_item(
    loaded: Store, stores: Callable[[], Store], llm_settings: Settings
) -> None:
    """`delete_items` drops the item's claims with its texts while the writer runs: a waiter
    then finds the claim free and nothing cached, as after a writer that failed. It must not
    run the model for an item that is gone (it is answered as a request arriving after the
    deletion is: not found), and the writer's text must not stay in the cache."""
    writer, writer_model = _service(stores(), llm_settings)
    waiter, waiter_model = _service(stores(), llm_settings)
    waiter_model.release.set()  # were it to run, it would not be held
    t1, out1 = _in_background(lambda: writer.summary(ITEM))
    assert writer_model.entered.wait(30)
    t2, out2 = _in_background(lambda: waiter.summary(ITEM))
    time.sleep(1.0)  # the waiter missed the cache and polls the writer's claim
    assert t2.is_alive()
    delete_items(stores(), [ITEM])  # `feedcraft delete-items`, from another process
    t2.join(10)
    assert not t2.is_alive()
    writer_model.release.set()
    t1.join(30)
    [written], [waited] = out1, out2
    assert isinstance(written, GeneratedText)  # its request came before the deletion
    assert isinstance(waited, NotFound)
    assert waiter_model.runs == 0
    assert loaded.text_cache.count(item_key_prefix(ITEM)) == 0
    assert loaded.text_cache.holder(written.cache_key) is None

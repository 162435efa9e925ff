"""One writer per cache entry across processes: a claim in the store, the others wait.

`SingleFlight` shares a model run between the threads of one process. Server processes that
share a store (several API workers, a batch job beside the API) each have their own model, and
readers of a new article reach all of them at once: without a claim, each process missing the
entry ran the model for it, on the same cores. Here a process takes the entry's claim before
running, and a process that finds it taken polls the cache until the text is there.

A claim lasts `seconds` and its writer renews it every third of that while it runs, so a
writer that dies (killed, or its host down) holds the others up for `seconds` at most, while
a long run keeps its claim. A waiter where the writer's pid means the writer's process (the
same kernel boot and pid namespace, both named in the claimant name) does not wait that long
when the process is gone (SIGKILL, the OOM killer): it takes the claim over at once, by a
compare-and-swap on the dead owner's name, and writes as the first writer would have, the
others still waiting. When the claim comes free and the cache still holds nothing, the
writer failed or served an outage's fallback (not cached), or the entry was erased (its item
deleted): the callers that waited check that it is still wanted, then run at once, side by
side, rather than each waiting out the next one's failure in turn.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from feedcraft.storage.protocols import TextCache

__all__ = ["ClaimOwner", "run_claimed"]

T = TypeVar("T")

#: First wait between two looks at the cache, and the longest (the wait grows by half each
#: time): a short text is seen soon, and a long run is not polled a thousand times.
_FIRST_POLL_S = 0.05
_LONGEST_POLL_S = 0.5


class ClaimOwner:
    """The claimant name of one service: host and process (readable in the store by whoever
    looks at a stuck claim), a token of its own, and where its pid means it (`_place`;
    left out where that is unknown). Read at each claim, so a process forked after the
    service was built claims under its own pid, not its parent's."""

    def __init__(self) -> None:
        self._token = uuid.uuid4().hex[:12]

    def __str__(self) -> str:
        name = f"{socket.gethostname()}/{os.getpid()}/{self._token}"
        place = _place()
        return name if place is None else f"{name}/{place}"


@functools.cache
def _place() -> str | None:
    """Where a pid names one process: this boot of this kernel and this process's pid
    namespace, as `<boot id>.<namespace inode>`; None where /proc does not say (not Linux).
    The hostname is not enough: containers on one host may share it (and a volume) while each
    numbers its processes apart, and two hosts may be named alike. Both parts are fixed for a
    process's life (a new namespace is its children's): read once, and again after a fork."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except (OSError, ValueError):
        return None
    inode = namespace.removeprefix("pid:[").removesuffix("]")
    if not boot or "/" in boot or "." in boot or not (inode.isascii() and inode.isdigit()):
        return None
    return f"{boot}.{inode}"


os.register_at_fork(after_in_child=_place.cache_clear)


def _is_gone(owner: str) -> bool:
    """Whether `owner` names a process of this host, kernel boot and pid namespace that no
    longer runs: none has its pid, or it is a zombie (killed, its parent not yet told). A
    reused pid makes a dead owner look alive, which only leaves its claim to lapse; an owner
    of another place, or one whose name says no place, is never judged. (The hostname too:
    a cloned virtual machine keeps its boot id, and two clones may share a store.)"""
    parts = owner.rsplit("/", 3)
    if len(parts) != 4 or parts[3] != _place() or parts[0] != socket.gethostname():
        return False
    pid = parts[1]
    if not (pid.isascii() and pid.isdigit()) or not 0 < int(pid) < 2**31:  # 0: a group
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # not ours to signal (another user's): it exists
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    """A process that has exited, not yet reaped. Read from /proc only where /proc is this
    pid namespace's (its `self` is this process), else the pid could name another process."""
    try:
        if os.readlink("/proc/self") != str(os.getpid()):
            return False
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()  # the name, in parentheses, may hold anything
    return bool(fields) and fields[0] in ("Z", "X")


def _took_over(cache: TextCache, key: str, owner: str, seconds: float) -> bool:
    """Take `key`'s claim from its holder when that holder's process is gone; False when
    it lives, is elsewhere, or another waiter took the claim first."""
    holder = cache.holder(key)
    return (
        holder is not None
        and holder != owner
        and _is_gone(holder)
        and cache.take_over(key, holder, owner, seconds)
    )


def run_claimed(
    cache: TextCache,
    key: str,
    *,
    owner: str,
    seconds: float,
    cached: Callable[[], T | None],
    run: Callable[[], T],
    wanted: Callable[[], object] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, bool]:
    """`run()` under the claim of `key`, or what `cached()` finds once another claimant has
    written it; the flag says whether it came from the cache.

    While the claim is another's, the cache is read again after each wait, and a holder whose
    process is gone is taken over. `cached()` is asked once more after the claim is taken: the
    writer may have finished between the last look and the claim. `wanted()` is called before
    a run that follows a wait and raises when the entry is no longer to be written: the claim
    also comes free when the entry is erased (its item deleted while the writer ran).
    """
    waited = taken_over = False
    wait = _FIRST_POLL_S
    while not cache.claim(key, owner, seconds):
        if taken_over := _took_over(cache, key, owner, seconds):
            break
        waited = True
        sleep(wait)
        wait = min(wait * 1.5, _LONGEST_POLL_S)
        if (found := cached()) is not None:
            return found, True
    renewing = _Renewal(cache, key, owner, seconds)
    try:
        if (found := cached()) is not None:
            return found, True
        if waited or taken_over:
            wanted()
        if waited and not taken_over:  # the writer left nothing: let the next run now too
            cache.release(key, owner)
            return run(), False
        renewing.start()  # the first writer, or the dead one's heir: the others wait for it
        return run(), False
    finally:
        renewing.stop()
        cache.release(key, owner)


class _Renewal:
    """Renews a claim every third of its seconds from a daemon thread until stopped; gives
    up when the claim was lost (it lapsed, and another took it: that one runs too)."""

    def __init__(self, cache: TextCache, key: str, owner: str, seconds: float) -> None:
        self._args = (cache, key, owner, seconds)
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._renew, name="claim-renewal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _renew(self) -> None:
        cache, key, owner, seconds = self._args
        while not self._done.wait(seconds / 3):
            try:
                if not cache.claim(key, owner, seconds):
                    return
            except Exception:  # the store closing under a run: the run reports it, if at all
                return

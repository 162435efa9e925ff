"""atomic_writer: the file written has the mode a plain write would give (or the old file's),
a symlink keeps pointing at the new content, and SIGTERM mid-write leaves the old file and no
temporary behind, without taking over a handler the application installed."""

from __future__ import annotations

import os
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from feedcraft.services.output_files import SIGTERM_EXIT, atomic_write, atomic_writer

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and signals")


@pytest.fixture
def umask() -> Iterator[None]:
    """Each test sets its own umask (pytest runs tests in one thread); restored after."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)], ids=oct
)
def test_a_new_file_gets_the_mode_the_umask_gives(
    tmp_path: Path, umask: None, mask: int, expected: int
) -> None:
    os.umask(mask)
    out = tmp_path / "model.pkl"
    atomic_write(out, b"data")
    assert out.read_bytes() == b"data" and _mode(out) == expected


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664], ids=oct)
def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask: None, mode: int) -> None:
    os.umask(0o077)  # the old file's mode wins over the umask, as when it is written in place
    out = tmp_path / "scored.csv"
    out.write_bytes(b"old")
    out.chmod(mode)
    atomic_write(out, b"new")
    assert out.read_bytes() == b"new" and _mode(out) == mode
    assert not _leftovers(tmp_path)


def _acl(*entries: tuple[int, int, int]) -> bytes:
    """A POSIX access ACL as Linux stores it in `system.posix_acl_access`: version 2, then
    (tag, permissions, id) per entry."""
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


_ANY = 0xFFFFFFFF  # the id of entries that name no user or group
# owner rw, user 4321 rw, owning group r, mask rw, others none: 4321 may write what others
# may not read
_SHARED_WITH_4321 = _acl((0x01, 6, _ANY), (0x02, 6, 4321), (0x04, 4, _ANY), (0x10, 6, _ANY),
                         (0x20, 0, _ANY))  # fmt: skip


@pytest.mark.skipif(not hasattr(os, "setxattr"), reason="extended attributes are Linux's")
def test_a_replaced_file_keeps_its_acl_and_extended_attributes(tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    out.write_bytes(b"old")
    try:
        os.setxattr(out, "user.origin", b"newsroom export")
        os.setxattr(out, "system.posix_acl_access", _SHARED_WITH_4321)
    except OSError as exc:
        pytest.skip(f"this file system keeps no ACLs or user attributes: {exc}")
    mode = _mode(out)
    atomic_write(out, b"new")
    assert out.read_bytes() == b"new"
    assert os.getxattr(out, "user.origin") == b"newsroom export"
    assert os.getxattr(out, "system.posix_acl_access") == _SHARED_WITH_4321
    assert _mode(out) == mode and not _leftovers(tmp_path)


@pytest.mark.skipif(os.name == "posix" and os.geteuid() != 0, reason="chown needs root")
def test_a_replaced_file_keeps_its_owner_and_group(tmp_path: Path) -> None:
    out = tmp_path / "shared.csv"
    out.write_bytes(b"old")
    os.chown(out, 4321, 8765)  # another user's file in a shared folder, written as root
    out.chmod(0o4755)  # set-id bits survive too: chown clears them, the mode comes after
    atomic_write(out, b"new")
    info = out.stat()
    assert (info.st_uid, info.st_gid, _mode(out)) == (4321, 8765, 0o4755)


def test_a_symlink_keeps_pointing_at_the_new_content(tmp_path: Path, umask: None) -> None:
    real = tmp_path / "data" / "scored.csv"
    real.parent.mkdir()
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(Path("data") / "scored.csv")  # relative, as links usually are
    atomic_write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "scored.csv")
    assert real.read_bytes() == b"new" and _mode(real) == 0o640
    assert not _leftovers(tmp_path) and not _leftovers(real.parent)


def test_a_dangling_symlink_creates_its_target(tmp_path: Path, umask: None) -> None:
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "made.csv")
    atomic_write(link, b"new")
    assert link.is_symlink() and (tmp_path / "made.csv").read_bytes() == b"new"


def test_an_error_keeps_the_old_file_and_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    out.write_bytes(b"old")
    out.chmod(0o644)
    with pytest.raises(RuntimeError), atomic_writer(out) as f:
        f.write(b"partial")
        raise RuntimeError
    assert out.read_bytes() == b"old" and _mode(out) == 0o644 and not _leftovers(tmp_path)


_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from feedcraft.services.output_files import atomic_writer

    with atomic_writer(Path(sys.argv[1])) as f:
        f.write(b"partial")
        f.flush()
        print("writing", flush=True)
        time.sleep(60)
    """
)


def test_sigterm_mid_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    out.write_bytes(b"old")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
        assert len(_leftovers(tmp_path)) == 1  # the temporary, mid-write
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == SIGTERM_EXIT  # as a shell reports a SIGTERM'd job
    finally:
        proc.kill()
        proc.wait()
    assert out.read_bytes() == b"old" and not _leftovers(tmp_path)


def test_sigterm_handling_is_restored_after_the_write(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with atomic_writer(tmp_path / "a.csv") as f:
        f.write(b"x")
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(RuntimeError), atomic_writer(tmp_path / "b.csv"):
        raise RuntimeError
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_application_sigterm_handler_is_left_alone(tmp_path: Path) -> None:
    def graceful(signum: int, frame: FrameType | None) -> None:
        pass

    old = signal.signal(signal.SIGTERM, graceful)
    try:
        with atomic_writer(tmp_path / "a.csv") as f:
            assert signal.getsignal(signal.SIGTERM) is graceful
            f.write(b"x")
        assert signal.getsignal(signal.SIGTERM) is graceful
    finally:
        signal.signal(signal.SIGTERM, old)


def test_a_write_from_another_thread_works(tmp_path: Path) -> None:
    """signal.signal raises ValueError outside the main thread: not tried there."""
    errors: list[BaseException] = []

    def write() -> None:
        try:
            atomic_write(tmp_path / "t.csv", b"from a thread")
        except BaseException as exc:  # reported to the test's thread
            errors.append(exc)

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    assert not errors and (tmp_path / "t.csv").read_bytes() == b"from a thread"

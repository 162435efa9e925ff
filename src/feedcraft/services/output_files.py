"""Files a command writes for the user (a scored CSV, a model file): whole or not at all, and
a path that cannot be written is refused before the work, not after it."""

from __future__ import annotations

import errno
import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO

from feedcraft.errors import InvalidInput

__all__ = ["atomic_write", "atomic_writer", "check_writable"]

#: Exit status of a process ended by SIGTERM's default action, as shells report it.
SIGTERM_EXIT = 128 + signal.SIGTERM


def _target(path: Path) -> Path:
    """The file a write to `path` should replace: a symlink's target (so the link keeps
    pointing at the new content, and the file it named is the one that changes)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_writable(path: Path) -> None:
    """Refuse an output path that cannot be written, naming it: a folder, or a file under
    one that cannot be created or written."""
    if path.is_dir():
        raise InvalidInput("is a folder; give the path of the file to write", source=str(path))
    folder = _target(path).parent
    while not folder.exists() and folder != folder.parent:  # `atomic_writer` creates the rest
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"cannot write a file under {folder}", source=str(path))


def _cannot_write(path: Path, exc: OSError) -> InvalidInput:
    return InvalidInput(f"cannot write: {exc.strerror or exc}", source=str(path))


def _create_temporary(target: Path) -> tuple[int, str]:
    """A new file beside `target` with the mode the final file should have: the existing
    target's, else what a plain `open(target, "w")` would give.

    Not `tempfile.mkstemp`, whose 0600 would stick to the result (a 0644 CSV written in place
    became 0600). The umask is never read: `os.umask` can only be read by setting it, which
    races with files other threads create meanwhile. The kernel applies it instead, to the
    mode given to `os.open` (0o666, or the target's own mode, so the temporary is never more
    open than the file it replaces); `fchmod` then restores a kept mode exactly, before any
    byte is written."""
    try:
        old = os.stat(target)
        keep: int | None = stat.S_IMODE(old.st_mode)
    except FileNotFoundError:
        keep = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, flags, 0o666 if keep is None else keep & 0o777)
        except FileExistsError:
            continue
        if keep is not None:
            try:
                _keep_owner(fd, old)
                os.fchmod(fd, keep)  # after chown, which may clear set-id bits
                _keep_attributes(fd, target)  # after fchmod: an ACL sets the group bits
            except OSError:
                os.close(fd)
                os.unlink(tmp)
                raise
        return fd, tmp
    raise FileExistsError(f"no free temporary name beside {target}")


def _keep_owner(fd: int, old: os.stat_result) -> None:
    """Give the new file the replaced one's owner and group, as far as we may: the owner
    only as root, the group when we belong to it (a shared folder's group stays); else the
    new file is ours, as any file we write is."""
    for uid in (old.st_uid, -1):
        try:
            os.fchown(fd, uid, old.st_gid)
            return
        except (PermissionError, AttributeError):  # not root / not a member / no fchown
            continue


def _keep_attributes(fd: int, target: Path) -> None:
    """Give the new file the replaced one's extended attributes, POSIX ACLs among them
    (`system.posix_acl_access`): a CSV a colleague's account may read must stay readable to
    it after it is rewritten. What we may not set (`security.*`, `trusted.*` unless root)
    or a file system without them is skipped: the file is still written, as plain `cp` does."""
    if not hasattr(os, "listxattr"):  # not Linux
        return
    try:
        names = os.listxattr(target)
    except OSError:
        return
    for name in names:
        try:
            os.setxattr(fd, name, os.getxattr(target, name))
        except OSError as exc:
            if exc.errno not in _SKIPPED_XATTR_ERRORS:
                raise


_SKIPPED_XATTR_ERRORS = {errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENODATA}


class _Terminated(SystemExit):
    """SIGTERM, raised where the main thread is, so the temporary file is removed."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(SIGTERM_EXIT)


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises SystemExit(143) in the main thread instead of
    ending the process at once, so cleanup (`finally`, `except`) runs as it does on Ctrl-C.

    Only where Python can install a handler (the main thread) and only over SIGTERM's
    default action: a handler the application installed (a server's graceful shutdown) is
    its own business and is left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (AttributeError, ValueError):  # no SIGTERM on this platform
        yield
        return
    if previous is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is _raise_terminated:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that becomes `path` when the block ends cleanly; on any error, Ctrl-C
    or SIGTERM the file at `path` is left as it was (a temporary file beside it takes the
    writes, so `path` may also be the file being read). The new file keeps the old one's
    mode, and a symlink at `path` keeps pointing at it. A failure to write names the path
    (the disk filled, or the folder went, after `check_writable` passed)."""
    target = _target(path)
    with _sigterm_raises():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _create_temporary(target)
        except OSError as exc:
            raise _cannot_write(path, exc) from exc
        try:
            with os.fdopen(fd, "wb") as f:
                yield f
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            if exc.filename not in (None, tmp):  # another file's error (the caller's input)
                raise
            raise _cannot_write(path, exc) from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (see `atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(data)

"""Files a command writes for the user (a scored CSV, a model file): whole or not at all, and
a path that cannot be written is refused before the work, not after it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from feedcraft.errors import InvalidInput

__all__ = ["atomic_write", "atomic_writer", "check_writable"]


def check_writable(path: Path) -> None:
    """Refuse an output path that cannot be written, naming it: a folder, or a file under
    one that cannot be created or written."""
    if path.is_dir():
        raise InvalidInput("is a folder; give the path of the file to write", source=str(path))
    folder = path.parent
    while not folder.exists() and folder != folder.parent:  # `atomic_writer` creates the rest
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"cannot write a file under {folder}", source=str(path))


def _cannot_write(path: Path, exc: OSError) -> InvalidInput:
    return InvalidInput(f"cannot write: {exc.strerror or exc}", source=str(path))


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that becomes `path` when the block ends cleanly; on any error the file
    at `path` is left as it was (a temporary file beside it takes the writes, so `path` may
    also be the file being read). A failure to write names the path (the disk filled, or the
    folder went, after `check_writable` passed)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, path)
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

"""What this machine keeps between processes (settings `cache_dir`): the folder rules that the
compiled ranker (`recommenders.compiled_trees`) and the converted decoder models
(`ctr.decoder`) share.

A cache is never needed: every entry can be built again, so a folder that cannot be written
costs only the time it would have saved. Code is loaded from it, so a folder created here is
its user's alone (0o700). Entries are written under a temporary name and renamed, so no
process ever reads one half written; the least recently used ones beyond a count are removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

__all__ = ["partial_name", "prune", "touch", "writable"]


def writable(folder: Path | None) -> Path | None:
    """`folder`, created, or None when there is none or it cannot be written."""
    if folder is None:
        return None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK | os.X_OK) else None


def partial_name(final: Path) -> Path:
    """A name beside `final` for writing it: unique to this process and thread, hidden, and
    never matched by an entry's pattern."""
    return final.with_name(f".{final.name}.{os.getpid()}.{threading.get_ident()}.part")


def touch(entry: Path) -> None:
    """Mark `entry` as just used (kept by `prune`); gone meanwhile is fine."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def prune(folder: Path, pattern: str, keep: int) -> list[Path]:
    """Remove all but the `keep` most recently used entries matching `pattern` (files, or
    folders with their files); the ones removed."""
    entries = []
    for path in folder.glob(pattern):
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:  # removed by another process meanwhile
            continue
    entries.sort(reverse=True)
    removed = []
    for _, path in entries[keep:]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed

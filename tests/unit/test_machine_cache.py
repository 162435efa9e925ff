"""machine_cache: the folder rules shared by the compiled ranker and the converted decoders."""

from __future__ import annotations

import os
from pathlib import Path

from feedcraft.machine_cache import partial_name, prune, touch, writable


def test_a_created_folder_is_the_users_alone_and_a_blocked_one_is_none(tmp_path: Path) -> None:
    folder = writable(tmp_path / "a" / "b")
    assert folder == tmp_path / "a" / "b" and folder.is_dir()
    assert folder.stat().st_mode & 0o077 == 0
    assert writable(None) is None
    (tmp_path / "file").write_text("x")
    assert writable(tmp_path / "file" / "cache") is None
    assert (tmp_path / "file").read_text() == "x"


def test_prune_keeps_the_most_recently_used_files_and_folders(tmp_path: Path) -> None:
    for i, name in enumerate(["a.o", "b.o", "c.o", "d"]):
        path = tmp_path / name
        if name == "d":
            path.mkdir()
            (path / "model.safetensors").write_bytes(b"w")
        else:
            path.write_bytes(b"x")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "other.txt").write_text("not an entry")
    touch(tmp_path / "a.o")  # used just now: newest
    assert sorted(p.name for p in prune(tmp_path, "*.o", 2)) == ["b.o"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.o", "c.o", "d", "other.txt"]
    assert [p.name for p in prune(tmp_path, "d", 0)] == ["d"] and not (tmp_path / "d").exists()
    touch(tmp_path / "gone")  # removed meanwhile: nothing to mark, no error


def test_a_partial_name_is_hidden_beside_its_entry_and_matches_no_entry(tmp_path: Path) -> None:
    final = tmp_path / "0123abcd.o"
    partial = partial_name(final)
    assert partial.parent == tmp_path and partial.name.startswith(".")
    assert partial.name.endswith(".part") and partial != partial_name(tmp_path / "other.o")
    partial.write_bytes(b"half")
    assert list(tmp_path.glob("*.o")) == [] and list(tmp_path.glob("[0-9a-f]*")) == []

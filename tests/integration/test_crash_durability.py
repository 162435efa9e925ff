"""kill -9 a writer mid-stream: every acknowledged append survives, no batch is half-stored,
the file passes SQLite's integrity check, and a re-run completes without duplicates."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from feedcraft.storage import open_store

WRITER = Path(__file__).with_name("crash_writer.py")
SRC = Path(__file__).resolve().parents[2] / "src"
TOTAL, BATCH = 80_000, 500


def _writer(url: str, *args: str, stdout: int | None = subprocess.PIPE) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stored_ids(url: str) -> list[str]:
    store = open_store(url)
    try:
        return [event.id for event in store.events.iter_events()]
    finally:
        store.close()


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _kill_mid_stream(url: str, stored_before: int, rng: random.Random) -> int:
    """Run the writer (it replays from the start), kill it a few batches past what was stored,
    at a random moment inside or between appends; returns the last acknowledged total."""
    proc = _writer(url, str(TOTAL), str(BATCH))
    assert proc.stdout is not None and proc.stderr is not None
    target = stored_before + rng.randint(2, 6) * BATCH
    acks = [0]
    deadline = time.monotonic() + 30
    while acks[-1] < target:
        line = proc.stdout.readline()
        assert line, f"writer ended early: {proc.stderr.read()}"
        acks.append(int(line))
        assert time.monotonic() < deadline, "writer too slow to acknowledge"
    time.sleep(rng.uniform(0, 0.03))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # Acknowledgements still in the pipe were printed before the kill: they count too.
    acks.extend(int(line) for line in proc.stdout.read().split())
    assert acks[-1] < TOTAL, "the writer finished before it was killed; raise TOTAL"
    return acks[-1]


def test_sigkill_mid_stream_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = tmp_path / "crash" / "events.db"
    url = f"sqlite:///{db}"
    rng = random.Random(20240304)
    stored = 0
    for _ in range(3):
        acked = _kill_mid_stream(url, stored, rng)
        ids = _stored_ids(url)
        assert len(ids) >= acked
        assert len(ids) % BATCH == 0, "a batch was stored in part"
        assert len(ids) <= acked + BATCH  # at most the one batch in flight, unacknowledged
        assert set(ids) >= {f"crash-{i:07d}" for i in range(acked)}
        assert _integrity(db) == "ok"
        stored = len(ids)

    rerun = _writer(url, str(TOTAL), str(BATCH), stdout=subprocess.DEVNULL)
    _, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    ids = _stored_ids(url)
    assert len(ids) == TOTAL == len(set(ids))
    assert _integrity(db) == "ok"


def test_several_processes_create_and_append_to_one_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    # None has created the file yet: all race to create it, switch it to WAL and migrate it.
    writers = [_writer(url, "10000", "250", prefix, stdout=subprocess.DEVNULL) for prefix in "abc"]
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    ids = _stored_ids(url)
    assert len(ids) == 30_000 == len(set(ids))
    assert _integrity(tmp_path / "shared.db") == "ok"

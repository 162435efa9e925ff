"""`feedcraft_serve`: a real `feedcraft serve` process on loopback, configured only through the
environment, as a deployment configures it (a plain module: tests in any folder import it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ports import free_port

FEEDCRAFT = Path(sys.executable).parent / "feedcraft"


@contextmanager
def feedcraft_serve(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """A server on a new store in `tmp_path` (hashing encoder) with `env` added, once /health
    answers: its base URL and the file its output goes to. Stopped on exit."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full = {k: v for k, v in os.environ.items() if not k.startswith("FEEDCRAFT_")}
    full["FEEDCRAFT_CACHE_DIR"] = os.environ["FEEDCRAFT_CACHE_DIR"]  # the run's (conftest)
    full |= {
        "FEEDCRAFT_STORE": f"sqlite:///{tmp_path / 'served.db'}",
        "FEEDCRAFT_EMBEDDING__MODEL": "hashing",
    } | env
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(FEEDCRAFT), "serve", "--port", str(port)], env=full, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as r:
                    assert r.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield base, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)

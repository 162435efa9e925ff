"""Helpers shared by the LLM tests (a plain module: `conftest` is not a unique import name).

`ScriptedServer` (from `scriptedserver`) is a real OpenAI-compatible HTTP server on loopback
that answers from a list of scripted replies; it stands in for a remote model server.
"""

from __future__ import annotations

import os
import subprocess
import sys

from ports import free_port as free_port  # re-exported: the LLM tests import it from here
from scriptedserver import Reply as Reply
from scriptedserver import ScriptedServer as ScriptedServer
from scriptedserver import scripted_server as scripted_server

# One llama.cpp thread: on a shared machine two threads, which meet at a barrier for every
# token, decode slower than one (see feedcraft.llm.embedded).
THREADS = int(os.environ.get("FEEDCRAFT_TEST_LLM_THREADS", "1"))


def unquote_tsv(field: str) -> str:
    """xMIND fields read with QUOTE_NONE keep CSV quoting ("..."" ...""..."): undo it."""
    if len(field) >= 2 and field.startswith('"') and field.endswith('"'):
        field = field[1:-1]
    return field.replace('""', '"')


def start_server(port: int) -> subprocess.Popen[str]:
    """`python -m feedcraft.llm.local_server` on `port`; prints "listening URL" when ready."""
    cmd = [sys.executable, "-m", "feedcraft.llm.local_server", "--port", str(port)]
    cmd += ["--threads", str(THREADS), "--ctx", "2048"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

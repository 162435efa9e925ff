"""LLM-test fixtures: real articles, a real llama.cpp server process, a scripted HTTP server.

The real server (`python -m feedcraft.llm.local_server`, SmolLM2 through llama.cpp) is what
the HTTP backend is tested against. Model output cannot be scripted, so retry, timeout and
guardrail-retry paths also run against `llmtesting.ScriptedServer`, a real HTTP server on
loopback answering from a script.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llmtesting import ScriptedServer, free_port, start_server, stop_server, unquote_tsv
from llmtesting import scripted_server as _scripted_server

from feedcraft.embeddings import HashingEncoder

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"
CORPUS = Path(__file__).with_name("injection_corpus.jsonl")


@pytest.fixture(scope="session")
def articles() -> list[dict[str, Any]]:
    """The 101 Wikinews articles shipped with feedcraft (title, body, ...)."""
    with SAMPLE.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def chinese_items(xmind_rows: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(title, abstract) of xMIND news with an abstract of at least 60 characters."""
    out = [(unquote_tsv(t), unquote_tsv(a)) for _, t, a in xmind_rows if len(a) >= 60]
    return out[:50]


@pytest.fixture(scope="session")
def injection_corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def hashing() -> HashingEncoder:
    return HashingEncoder(256)


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """URL of a real llama.cpp server process serving SmolLM2 on loopback."""
    pytest.importorskip("xllamacpp")
    proc = start_server(free_port())
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the model is loaded and the port open
    if not line.startswith("listening "):
        stop_server(proc)
        pytest.fail(f"local_server did not start: {line!r}")
    try:
        yield line.split()[1]
    finally:
        stop_server(proc)


@pytest.fixture
def start_llama_server() -> Iterator[Any]:
    """Starts a server process on demand (for tests that must connect before it is up)."""
    procs: list[subprocess.Popen[str]] = []

    def start(port: int) -> subprocess.Popen[str]:
        procs.append(start_server(port))
        return procs[-1]

    yield start
    for proc in procs:
        stop_server(proc)


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    with _scripted_server() as server:
        yield server

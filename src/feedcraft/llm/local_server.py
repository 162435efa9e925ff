"""Serve a GGUF model as an OpenAI-compatible HTTP server on loopback, in its own process.

    python -m feedcraft.llm.local_server [--model smollm2|PATH.gguf] [--port 0] [--threads 2]

It prints one line, `listening <url>`, once the model is loaded and the port is open, then
serves until SIGTERM or SIGINT. This is llama.cpp's own server engine (through xllamacpp), so
the HTTP backend is tested and benchmarked against a real server process, and a user without
Ollama or vLLM can still put the model in a separate process (or on another port) this way.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from feedcraft.errors import FeedcraftError
from feedcraft.llm.embedded import (
    DEFAULT_MODEL,
    MAX_CONTEXT,
    MAX_THREADS,
    MIN_CONTEXT,
    resolve_gguf,
)

__all__ = ["main"]


def _ranged(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], else a usage error naming the range
    (llama.cpp aborts the process on 0 threads)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}-{high}, got {value}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="packaged name or .gguf path")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_ranged(0, 65535), default=0, help="0: a free port")
    parser.add_argument("--threads", type=_ranged(1, MAX_THREADS), default=2)
    parser.add_argument("--ctx", type=_ranged(MIN_CONTEXT, MAX_CONTEXT), default=4096)
    parser.add_argument(
        "--parallel", type=_ranged(1, 64), default=1, help="requests decoded at once"
    )
    args = parser.parse_args(argv)

    import xllamacpp

    try:
        model = resolve_gguf(args.model)
    except FeedcraftError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.ctx * args.parallel  # llama.cpp splits the context between slots
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.verbosity = -1
    server = xllamacpp.Server(params)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"listening {server.listening_address}", flush=True)
    while not stop.wait(0.5):
        pass
    del server  # joins llama.cpp's loop and closes the port
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
from types import FrameType

from feedcraft.llm.embedded import DEFAULT_MODEL, resolve_gguf

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="packaged name or .gguf path")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--parallel", type=int, default=1, help="requests decoded at once")
    args = parser.parse_args(argv)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(resolve_gguf(args.model))
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

"""`scripted_server`: a real OpenAI-compatible HTTP server on loopback that answers from a list
of scripted replies (status, delay, text). It stands in for a remote model server, not for any
feedcraft code: the backend under test is the real one. (A plain module, like `heldruns`, so
that tests in any folder can import it by name.)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: HTTP status, a delay before answering, the assistant's text.

    `body` replaces the whole answer with raw bytes (a malformed server, or server-sent events
    as written: the request's `stream` picks the content type, unless `content_type` is
    given); `trickle` sends it 4 bytes at a time with that many seconds between them, a
    server whose every read is quick but whose answer never ends in time. `headers` are added
    to the answer (Retry-After, Location, Content-Encoding).
    """

    text: str = "ok"
    status: int = 200
    delay: float = 0.0
    body: bytes | None = None
    trickle: float = 0.0
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptedServer:
    url: str
    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # with the query string
    headers: list[dict[str, str]] = field(default_factory=list)


def _completion(text: str, *, chat: bool = True) -> dict[str, Any]:
    """A chat.completion answer, or a (legacy) text_completion one for /v1/completions."""
    if chat:
        choice: dict[str, Any] = {"message": {"role": "assistant", "content": text}}
    else:
        choice = {"text": text}
    return {
        "object": "chat.completion" if chat else "text_completion",
        "choices": [{"index": 0, "finish_reason": "stop", **choice}],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split())},
    }


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """An OpenAI-compatible server on loopback answering from `replies`, in order."""
    state = ScriptedServer(url="", replies=[])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, payload: dict[str, Any], reply: Reply) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _raw(self, reply: Reply, *, stream: bool) -> None:
            self.send_response(reply.status)
            kind = "text/event-stream" if stream else "application/json"
            self.send_header("Content-Type", reply.content_type or kind)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()  # no Content-Length: the answer ends when the connection does
            assert reply.body is not None
            step = 4 if reply.trickle else len(reply.body)
            try:
                for i in range(0, len(reply.body), step or 1):
                    self.wfile.write(reply.body[i : i + step])
                    self.wfile.flush()
                    time.sleep(reply.trickle)
            except OSError:
                pass  # the client gave up

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                state.requests.append(body)
                state.paths.append(self.path)
                state.headers.append(dict(self.headers))
                reply = state.replies.pop(0) if state.replies else Reply()
            time.sleep(reply.delay)
            if reply.body is not None:
                self._raw(reply, stream=bool(body.get("stream")))
            elif reply.status != 200:
                self._json(reply.status, {"error": {"message": f"scripted {reply.status}"}}, reply)
            elif body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(b": ping\n\n")
                for word in reply.text.split(" "):
                    chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
            else:
                self._json(200, _completion(reply.text, chat="/chat/" in self.path), reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

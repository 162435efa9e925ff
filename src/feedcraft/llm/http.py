"""Any OpenAI-compatible chat server by URL: llama.cpp's server, Ollama, vLLM, LM Studio, ...

This is how a user with a stronger model plugs it in. Servers restart and overload, so
connection errors, timeouts, 429 and 5xx answers are retried with exponential backoff; other
4xx answers are our request's fault and are raised at once. A stream is retried only until
its first byte: once text has been handed to the caller a retry would duplicate it.

The timeout bounds a whole try, answer and stream included: httpx's timeouts bound each read,
so a server sending a few bytes now and then would hold a call for ever. `_Deadline` shuts
the try's socket down when its time is up; it finds the socket when the connection opens,
so connections are not kept alive between requests (a reused one would not be seen; a new
connection costs milliseconds, an answer seconds).

Secrets stay out of `name` (it is shown in every answer and cache entry) and out of errors:
`user:password@` in the URL is sent as HTTP basic auth and the query string (gateways take
keys there) only in requests; both are cut from the URL that is shown.

A 429 or 503 with `Retry-After` is retried no sooner than the server asks (and not at all
when it asks for more than a try's timeout). `total_timeout` bounds a call, its tries and the
waits between them together: each try gets what is left, and no try starts that could not.
A redirect is an error naming its target (a POST must not be replayed elsewhere), and an
answer over `max_answer_bytes` is cut off (a proxy streaming garbage must not exhaust memory).

httpx is imported on first use so that the rest of the package works without it.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from feedcraft.errors import InvalidInput, Unavailable
from feedcraft.llm.base import (
    PROMPT_STYLES,
    ChatBackend,
    Completion,
    Message,
    SamplingParams,
    check_messages,
    completion_body,
    delta_text,
    parse_completion,
    request_body,
)
from feedcraft.llm.sse import StreamTooLong, json_events, sse_events

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenAICompatibleBackend", "display_url"]

_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# httpx `trace` events (after "connection.", "proxy." or "socks.") whose return value is the
# try's network stream: TCP first, then TLS over it.
_CONNECTED = (".connect_tcp.complete", ".connect_unix_socket.complete", ".start_tls.complete")
# Secret values shorter than this are not masked in messages: masking "1" would garble them.
_MIN_SECRET = 4
_MAX_ANSWER_BYTES = 16 * 1024 * 1024  # a completion of our tasks is a few kB


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - installed with the dev extra
        raise Unavailable("the HTTP LLM backend needs httpx: pip install httpx") from exc
    return httpx


class _Deadline:
    """Ends one try after `seconds`, however the server paces its bytes.

    A timer shuts the try's socket down, which wakes a blocked read with end-of-file; the
    reader then checks `expired`, because a body that ends with the connection looks whole.
    `finish` must come before the response is closed, so the socket shut down is still ours.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._finished = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpx's `trace` extension: keeps the socket of the connection the try opens."""
        if not event.endswith(_CONNECTED) or info.get("return_value") is None:
            return
        sock = info["return_value"].get_extra_info("socket")
        with self._lock:
            self._socket = sock
            if self.expired:  # the time ran out while connecting
                self._shut()

    def finish(self) -> None:
        with self._lock:
            self._finished = True
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            if not self._finished:
                self.expired = True
                self._shut()

    def _shut(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):  # already closed by the peer
                self._socket.shutdown(socket.SHUT_RDWR)


class OpenAICompatibleBackend(ChatBackend):
    """Chat completions from `base_url` (e.g. "http://127.0.0.1:8080", with or without /v1).

    The URL may carry `user:password@` (sent as HTTP basic auth, so not with `api_key`, which
    is a bearer token in the same header) and a query string (kept on every request).
    `model` is sent with each request (servers hosting one model ignore it) and is part of
    `name`. `timeout` bounds each try in all, streaming included, and connecting to at most
    `connect_timeout`; `max_retries` counts retries after the first try, waiting
    `backoff * 2**i` seconds (capped at `max_backoff`) before retry i. `total_timeout`
    (None: no bound but the tries') bounds a whole call, tries and waits included.
    `prompt_style="completion"` sends tasks' few-shot prompts to /v1/completions (for a base
    model); the default sends chat messages to /v1/chat/completions. An answer (a stream in
    all) longer than `max_answer_bytes` is refused.
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "default",
        api_key: str | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        total_timeout: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        prompt_style: str = "chat",
        max_answer_bytes: int = _MAX_ANSWER_BYTES,
    ) -> None:
        url = _Url(base_url)
        if url.auth is not None and api_key:
            raise InvalidInput(
                "give user:password in the URL or an api_key, not both (both are the "
                "Authorization header)",
                field="api_key",
            )
        if not (0 < timeout < math.inf and 0 < connect_timeout < math.inf):
            raise InvalidInput("timeouts must be positive and finite", field="timeout")
        if total_timeout is not None and not 0 < total_timeout < math.inf:
            raise InvalidInput(
                f"must be positive and finite, got {total_timeout}", field="total_timeout"
            )
        if max_answer_bytes < 1:
            raise InvalidInput(f"must be >= 1, got {max_answer_bytes}", field="max_answer_bytes")
        if max_retries < 0:
            raise InvalidInput(f"must be >= 0, got {max_retries}", field="max_retries")
        if backoff < 0 or max_backoff < 0:
            raise InvalidInput("backoff must be >= 0", field="backoff")
        if not model:
            raise InvalidInput("empty model name", field="model")
        if prompt_style not in PROMPT_STYLES:
            raise InvalidInput(
                f"must be one of {', '.join(PROMPT_STYLES)}, got {prompt_style!r}",
                field="prompt_style",
            )
        self.prompt_style = prompt_style
        self.base_url = url.shown  # without credentials or query: safe to show
        self._url = url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.total_timeout = total_timeout
        self.extra_body = dict(extra_body or {})
        self.max_answer_bytes = max_answer_bytes
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()  # threads share the backend and its client
        self._secrets = tuple(s for s in (*url.secrets, api_key or "") if len(s) >= _MIN_SECRET)

    @property
    def name(self) -> str:
        """`openai:<model>@<url>`: the same alias on two servers may be different weights.
        The URL is `base_url`, without credentials or query string."""
        style = "/completion" if self.prompt_style == "completion" else ""
        return f"openai:{self.model}@{self.base_url}{style}"

    @property
    def endpoint(self) -> str:
        """The chat URL requested, query string included (so not for messages)."""
        return self._url.request("/chat/completions")

    def _redact(self, text: str) -> str:
        """`text` with the URL's password and query values and the API key masked: servers
        and httpx may echo them in what becomes our error message."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                httpx = _httpx()
                headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
                connect = min(self.connect_timeout, self.timeout)
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=connect),
                    headers=headers,
                    auth=self._url.auth,
                    limits=httpx.Limits(max_keepalive_connections=0),  # see _Deadline
                )
            return self._client

    def close(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> OpenAICompatibleBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _body(self, messages: Sequence[Message], params: SamplingParams | None) -> dict[str, Any]:
        body = request_body(check_messages(messages), params or SamplingParams())
        body["model"] = self.model
        body.update(self.extra_body)
        return body

    def _pause(self, attempt: int, at_least: float = 0.0) -> float:
        """Seconds to wait before retry `attempt + 1`."""
        return max(at_least, min(self.max_backoff, self.backoff * 2**attempt))

    def _timed_out(self, seconds: float) -> str:
        return f"Timeout: no complete answer within {round(seconds, 2):g} s"

    def _send(
        self, body: dict[str, Any], path: str, *, stream: bool
    ) -> tuple[httpx.Response, _Deadline, bytes]:
        """POST to `path` with retries. Without `stream` the body has been read and is
        returned; with it (b"" then) the caller reads it, then calls `finish` on the deadline
        and closes the response."""
        httpx = _httpx()
        client = self._http()
        shown = self._url.shown_at(path)
        last: str = ""
        asked = 0.0  # the last answer's Retry-After, in seconds
        ends = math.inf if self.total_timeout is None else time.monotonic() + self.total_timeout
        tries = 0
        for attempt in range(self.max_retries + 1):
            if attempt:
                pause = self._pause(attempt - 1, asked)
                if time.monotonic() + pause >= ends:
                    last += f" (no time left for another try within {self.total_timeout:g} s)"
                    break
                time.sleep(pause)
            budget = min(self.timeout, ends - time.monotonic())
            if budget <= 0:
                break
            tries += 1
            deadline = _Deadline(budget)
            request = client.build_request(
                "POST",
                self._url.request(path),
                json=body,
                timeout=httpx.Timeout(budget, connect=min(self.connect_timeout, budget)),
                extensions={"trace": deadline.trace},
            )
            deadline.start()
            try:
                response = client.send(request, stream=True)
            except BaseException as exc:
                deadline.finish()
                if not isinstance(exc, httpx.RequestError):  # timeouts, resets, bad gzip
                    raise
                last = self._timed_out(deadline.seconds) if deadline.expired else _failure(exc)
                continue
            status = response.status_code
            if status < 300 and stream:
                return response, deadline, b""
            try:
                if status < 300:
                    content = self._read_capped(response, shown)
                    if not deadline.expired:  # a body ended by the timeout looks whole
                        return response, deadline, content
                    last = self._timed_out(deadline.seconds)
                    continue
                detail = _error_detail(response)
            except httpx.RequestError as exc:
                last = self._timed_out(deadline.seconds) if deadline.expired else _failure(exc)
                continue
            finally:
                deadline.finish()
                response.close()
            if status < 400:  # a redirect: a POST is not replayed at another address
                target = response.headers.get("location", "nowhere")
                raise InvalidInput(
                    self._redact(
                        f"server redirected (HTTP {status}) to {target}: point the backend URL "
                        "at the final address"
                    ),
                    field="url",
                    source=shown,
                )
            if status in _RETRY_STATUS:
                last = f"HTTP {status}: {detail}"
                asked = _retry_after(response.headers.get("retry-after"))
                if asked > self.timeout:
                    last += f" (the server asks to wait {asked:g} s, more than the timeout)"
                    break
                continue
            raise InvalidInput(
                self._redact(f"server refused the request (HTTP {response.status_code}): {detail}"),
                field="request",
                source=shown,
            )
        raise Unavailable(self._redact(f"LLM server {shown} failed after {tries} tries: {last}"))

    def _read_capped(self, response: httpx.Response, shown: str) -> bytes:
        """The (decoded) body, refused past `max_answer_bytes`."""
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_answer_bytes:
                raise Unavailable(
                    f"LLM server {shown} sent over {self.max_answer_bytes:,} bytes: refused"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def chat(self, messages: Sequence[Message], params: SamplingParams | None = None) -> Completion:
        return self._call(self._body(messages, params), "/chat/completions")

    def complete(self, prompt: str, params: SamplingParams | None = None) -> Completion:
        """Continue `prompt` as raw text through /v1/completions (no chat template)."""
        body = completion_body(prompt, params or SamplingParams())
        body["model"] = self.model
        body.update(self.extra_body)
        return self._call(body, "/completions")

    def load(self) -> None:
        """Ask the server for one token of this model, the way tasks will ask.

        Nothing is loaded here, but a server that warms at start-up should say `ready` only when
        the configured server answers for the configured model and key (unreachable, wrong
        model and refused key all fail here, not in the first reader's request), and servers
        that load weights on first use (Ollama) do so now. Retries as any request does.
        """
        params = SamplingParams(max_tokens=1, temperature=0.0)
        if self.prompt_style == "completion":
            self.complete("Hello", params)
        else:
            self.chat([Message("user", "Hello")], params)

    def _call(self, body: dict[str, Any], path: str) -> Completion:
        start = time.perf_counter()
        response, _, content = self._send(body, path, stream=False)
        seconds = time.perf_counter() - start
        return self._parse(response, content, path, seconds)

    def _parse(
        self, response: httpx.Response, content: bytes, path: str, seconds: float
    ) -> Completion:
        shown = self._url.shown_at(path)
        try:
            payload = json.loads(content)
        except ValueError as exc:
            glimpse = _glimpse(response, content)
            raise Unavailable(
                self._redact(f"LLM server {shown} sent invalid JSON: {glimpse}")
            ) from exc
        try:
            return parse_completion(payload, self.name, seconds)
        except ValueError as exc:
            raise Unavailable(
                self._redact(f"LLM server {shown} sent a malformed answer: {exc}")
            ) from exc

    def stream(
        self, messages: Sequence[Message], params: SamplingParams | None = None
    ) -> Iterator[str]:
        """Text pieces from the server-sent events (`data: {...}` lines up to `data: [DONE]`).

        The timeout runs on while the caller handles a piece: it bounds the whole answer. A
        stream that ends with neither `[DONE]` nor a finish reason was cut (a server or proxy
        gone mid-answer), so it raises `Unavailable` after its pieces, not a silent half text.
        """
        body = self._body(messages, params)
        body["stream"] = True
        httpx = _httpx()
        path = "/chat/completions"
        shown = self._url.shown_at(path)
        started = time.perf_counter()
        response, deadline, _ = self._send(body, path, stream=True)
        finished = False
        try:
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "application/json":  # a gateway that ignores `stream`: one whole answer
                content = self._read_capped(response, shown)
                if deadline.expired:
                    raise Unavailable(
                        f"LLM stream from {shown} broke: {self._timed_out(deadline.seconds)}"
                    )
                text = self._parse(response, content, path, time.perf_counter() - started).text
                if text:
                    yield text
                return
            if kind in ("text/html", "application/xhtml+xml"):  # a portal's or proxy's page
                glimpse = _glimpse(response, self._read_capped(response, shown))
                raise Unavailable(
                    self._redact(f"LLM server {shown} sent a web page, no event stream: {glimpse}")
                )
            for field, data in sse_events(response.iter_bytes(), self.max_answer_bytes):
                if deadline.expired:  # the event may be cut short
                    break
                if field == "error":  # llama.cpp's server reports a failure mid-stream so
                    raise Unavailable(self._redact(f"LLM server {shown} failed mid-stream: {data}"))
                if data == "[DONE]":
                    return
                done = data.endswith("\n[DONE]")  # events separated by single newlines
                for event in json_events(data):
                    if event is None:
                        raise Unavailable(
                            self._redact(f"LLM server {shown} sent a bad event: {data[:200]!r}")
                        )
                    if isinstance(event, Mapping) and event.get("error"):
                        raise Unavailable(
                            self._redact(f"LLM server {shown} error mid-stream: {event['error']}")
                        )
                    try:
                        piece = delta_text(event)
                    except ValueError as exc:
                        raise Unavailable(
                            self._redact(f"LLM server {shown} sent a malformed event: {exc}")
                        ) from exc
                    finished = finished or _finished(event)
                    if piece:
                        yield piece
                if done:
                    return
            if deadline.expired:
                raise Unavailable(
                    f"LLM stream from {shown} broke: {self._timed_out(deadline.seconds)}"
                )
            if not finished:
                raise Unavailable(f"LLM stream from {shown} ended before [DONE]: cut short")
        except StreamTooLong as exc:
            raise Unavailable(
                f"LLM server {shown} sent over {self.max_answer_bytes:,} bytes: refused"
            ) from exc
        except httpx.RequestError as exc:  # timeouts included
            why = self._timed_out(deadline.seconds) if deadline.expired else _failure(exc)
            raise Unavailable(self._redact(f"LLM stream from {shown} broke: {why}")) from exc
        finally:
            deadline.finish()
            response.close()


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _finished(event: Mapping[str, Any]) -> bool:
    """Whether a (well-formed) chunk ends its choice: a finish reason marks the last one."""
    choices = event.get("choices") or ()
    return any(isinstance(c, Mapping) and c.get("finish_reason") for c in choices)


class _Url:
    """A server URL split into what is requested, what is shown, and the credentials."""

    def __init__(self, base_url: str) -> None:
        text = (base_url or "").strip()
        try:
            parts = urllib.parse.urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:  # its message quotes only the port or the IPv6 host
            raise InvalidInput(f"not a valid URL: {exc}", field="url") from None
        host = parts.netloc.rpartition("@")[2]  # the case and form the user wrote
        self.root = parts.path.rstrip("/")
        self.shown = f"{parts.scheme}://{host}{self.root}"
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            got = self.shown if parts.netloc else text.partition("?")[0].rpartition("@")[2]
            raise InvalidInput(f"must be http(s)://host[:port][/path], got {got!r}", field="url")
        if not self.root.endswith("/v1"):
            self.root += "/v1"
        self.origin = f"{parts.scheme}://{host}"
        self.query = parts.query
        user, password = parts.username, parts.password
        self.auth: tuple[str, str] | None = None
        if user is not None or password is not None:
            unquote = urllib.parse.unquote
            self.auth = (unquote(user or ""), unquote(password or ""))
        values = [v for _, v in urllib.parse.parse_qsl(self.query, keep_blank_values=True)]
        self.secrets = (self.query, *values, *(self.auth or ()), password or "")

    def request(self, path: str) -> str:
        """The URL to POST to for `path` ("/chat/completions"): no credentials, with query."""
        return f"{self.origin}{self.root}{path}" + (f"?{self.query}" if self.query else "")

    def shown_at(self, path: str) -> str:
        return f"{self.origin}{self.root}{path}"


def _retry_after(value: str | None) -> float:
    """Seconds a `Retry-After` header asks for (delta seconds or an HTTP date); 0 if none."""
    if not value:
        return 0.0
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else 0.0


def _glimpse(response: httpx.Response, content: bytes) -> str:
    """Status, content type and the first bytes of an answer we cannot read, for errors."""
    kind = response.headers.get("content-type", "no content type")
    head = content[:100].decode("utf-8", errors="replace")
    return f"HTTP {response.status_code}, {kind}, begins {head!r}"


def display_url(spec: str) -> str:
    """`spec` fit to print: a URL (any scheme) loses its `user:password@` and query string
    (a key may be in either); anything else is returned as given."""
    text = (spec or "").strip()
    if "://" not in text:
        return text
    scheme, _, rest = text.partition("://")
    rest = rest.split("#", 1)[0].split("?", 1)[0]
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{path}"


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.read()
        payload = json.loads(body)
        error = payload.get("error", payload) if isinstance(payload, Mapping) else payload
        if isinstance(error, Mapping):
            return str(error.get("message", error))[:300]
        return str(error)[:300]
    except Exception:
        return response.reason_phrase or ""

"""Any OpenAI-compatible chat server by URL: llama.cpp's server, Ollama, vLLM, LM Studio, ...

This is how a user with a stronger model plugs it in. Servers restart and overload, so
connection errors, timeouts, 429 and 5xx answers are retried with exponential backoff; other
4xx answers are our request's fault and are raised at once. A stream is retried only until
its first byte: once text has been handed to the caller a retry would duplicate it.

httpx is imported on first use so that the rest of the package works without it.
"""

from __future__ import annotations

import json
import time
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
    parse_completion,
    request_body,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenAICompatibleBackend"]

_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - installed with the dev extra
        raise Unavailable("the HTTP LLM backend needs httpx: pip install httpx") from exc
    return httpx


class OpenAICompatibleBackend(ChatBackend):
    """Chat completions from `base_url` (e.g. "http://127.0.0.1:8080", with or without /v1).

    `model` is sent with each request (servers hosting one model ignore it) and is part of
    `name`. `timeout` bounds connecting and each read; `max_retries` counts retries after the
    first try, waiting `backoff * 2**i` seconds (capped at `max_backoff`) before retry i.
    `prompt_style="completion"` sends tasks' few-shot prompts to /v1/completions (for a base
    model); the default sends chat messages to /v1/chat/completions.
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
        extra_body: Mapping[str, Any] | None = None,
        prompt_style: str = "chat",
    ) -> None:
        url = (base_url or "").strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(
                f"must start with http:// or https://, got {base_url!r}", field="url"
            )
        if timeout <= 0 or connect_timeout <= 0:
            raise InvalidInput("timeouts must be positive", field="timeout")
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
        self.base_url = url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.extra_body = dict(extra_body or {})
        self._client: httpx.Client | None = None

    @property
    def name(self) -> str:
        """`openai:<model>@<url>`: the same alias on two servers may be different weights."""
        style = "/completion" if self.prompt_style == "completion" else ""
        return f"openai:{self.model}@{self.base_url}{style}"

    @property
    def endpoint(self) -> str:
        return f"{self._root}/chat/completions"

    @property
    def _root(self) -> str:
        return self.base_url if self.base_url.endswith("/v1") else f"{self.base_url}/v1"

    def _http(self) -> httpx.Client:
        if self._client is None:
            httpx = _httpx()
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                headers=headers,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> OpenAICompatibleBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _body(self, messages: Sequence[Message], params: SamplingParams | None) -> dict[str, Any]:
        body = request_body(check_messages(messages), params or SamplingParams())
        body["model"] = self.model
        body.update(self.extra_body)
        return body

    def _wait(self, attempt: int) -> None:
        time.sleep(min(self.max_backoff, self.backoff * 2**attempt))

    def _send(
        self, body: dict[str, Any], *, stream: bool, endpoint: str | None = None
    ) -> httpx.Response:
        """POST with retries; the caller owns (and must close) the returned response."""
        httpx = _httpx()
        client = self._http()
        endpoint = endpoint or self.endpoint
        last: str = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._wait(attempt - 1)
            try:
                request = client.build_request("POST", endpoint, json=body)
                response = client.send(request, stream=stream)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code < 400:
                return response
            detail = _error_detail(response)
            response.close()
            if response.status_code in _RETRY_STATUS:
                last = f"HTTP {response.status_code}: {detail}"
                continue
            raise InvalidInput(
                f"server refused the request (HTTP {response.status_code}): {detail}",
                field="request",
                source=endpoint,
            )
        raise Unavailable(
            f"LLM server {endpoint} failed after {self.max_retries + 1} tries: {last}"
        )

    def chat(self, messages: Sequence[Message], params: SamplingParams | None = None) -> Completion:
        return self._call(self._body(messages, params), self.endpoint)

    def complete(self, prompt: str, params: SamplingParams | None = None) -> Completion:
        """Continue `prompt` as raw text through /v1/completions (no chat template)."""
        body = completion_body(prompt, params or SamplingParams())
        body["model"] = self.model
        body.update(self.extra_body)
        return self._call(body, f"{self._root}/completions")

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

    def _call(self, body: dict[str, Any], endpoint: str) -> Completion:
        start = time.perf_counter()
        response = self._send(body, stream=False, endpoint=endpoint)  # body read inside
        try:
            payload = json.loads(response.content)
        except ValueError as exc:
            raise Unavailable(f"LLM server {endpoint} sent invalid JSON") from exc
        finally:
            response.close()
        seconds = time.perf_counter() - start
        try:
            return parse_completion(payload, self.name, seconds)
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise Unavailable(f"LLM server {endpoint} sent no choices: {payload!r:.200}") from exc

    def stream(
        self, messages: Sequence[Message], params: SamplingParams | None = None
    ) -> Iterator[str]:
        """Text pieces from the server-sent events (`data: {...}` lines up to `data: [DONE]`)."""
        body = self._body(messages, params)
        body["stream"] = True
        httpx = _httpx()
        response = self._send(body, stream=True)
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # comments (": ping"), event names, blank separators
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    event = json.loads(data)
                except ValueError as exc:
                    raise Unavailable(f"LLM server sent a bad event: {data[:200]!r}") from exc
                if isinstance(event, Mapping) and event.get("error"):
                    raise Unavailable(f"LLM server error mid-stream: {event['error']}")
                for choice in event.get("choices") or ():
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise Unavailable(f"LLM stream from {self.endpoint} broke: {exc}") from exc
        finally:
            response.close()


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

"""The language-model backend contract: chat in, text out, with the knobs every server shares.

Every backend (the embedded llama.cpp runtime, any OpenAI-compatible HTTP server) takes the same
OpenAI-style messages and the same four sampling controls, so tasks and guardrails never know
which one runs. `name` identifies the model and its weights: generated text is cached under it,
so two backends with the same name must produce the same text for the same request and seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from feedcraft.errors import InvalidInput

__all__ = [
    "Backend",
    "ChatBackend",
    "Completion",
    "CompletionBackend",
    "Loadable",
    "Message",
    "PromptStyle",
    "Role",
    "SamplingParams",
    "check_messages",
    "completion_body",
    "delta_text",
    "message_text",
    "parse_completion",
    "prompt_style",
]

Role = Literal["system", "user", "assistant"]
# How tasks talk to a model: chat messages through its chat template, or a plain few-shot
# document to continue (base models, and tiny instruction models that follow examples better
# than instructions; see `fewshot`).
PromptStyle = Literal["chat", "completion"]
PROMPT_STYLES: tuple[str, ...] = ("chat", "completion")
_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class Message:
    """One chat turn. Content is plain text; the backend applies the model's chat template."""

    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class SamplingParams:
    """The generation controls shared by every backend (OpenAI names and meanings).

    `seed=None` lets the backend pick; a fixed seed with the same model, prompt and
    temperature repeats the output on the embedded backend (servers may not promise it).
    """

    max_tokens: int = 256
    temperature: float = 0.2
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise InvalidInput(
                f"must be a positive integer, got {self.max_tokens!r}", field="max_tokens"
            )
        if not math.isfinite(self.temperature) or not 0.0 <= self.temperature <= 2.0:
            raise InvalidInput(f"must be in [0, 2], got {self.temperature!r}", field="temperature")
        if self.seed is not None and not 0 <= self.seed < 2**31:
            raise InvalidInput(f"must be in [0, 2**31), got {self.seed!r}", field="seed")
        if isinstance(self.stop, str) or any(not isinstance(s, str) or not s for s in self.stop):
            raise InvalidInput("must be a sequence of non-empty strings", field="stop")
        if len(self.stop) > 4:
            raise InvalidInput("at most 4 stop strings (the OpenAI limit)", field="stop")


@dataclass(frozen=True)
class Completion:
    """What a backend returned, with the counts needed for tokens/s and cost reporting."""

    text: str
    backend: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    seconds: float = 0.0
    # Prompt tokens the server took from its cache rather than evaluating (OpenAI's
    # usage.prompt_tokens_details.cached_tokens); None when the server does not say.
    cached_tokens: int | None = None

    @property
    def tokens_per_second(self) -> float | None:
        if not self.completion_tokens or self.seconds <= 0:
            return None
        return self.completion_tokens / self.seconds


@runtime_checkable
class Backend(Protocol):
    """A chat model. `chat` returns the whole answer; `stream` yields it piece by piece."""

    @property
    def name(self) -> str: ...

    def chat(
        self, messages: Sequence[Message], params: SamplingParams | None = None
    ) -> Completion: ...

    def stream(
        self, messages: Sequence[Message], params: SamplingParams | None = None
    ) -> Iterator[str]: ...

    def generate(
        self, prompt: str, params: SamplingParams | None = None, *, system: str | None = None
    ) -> Completion: ...


@runtime_checkable
class CompletionBackend(Backend, Protocol):
    """A backend that also continues raw text; `prompt_style` says which way tasks use it."""

    @property
    def prompt_style(self) -> str: ...

    def complete(self, prompt: str, params: SamplingParams | None = None) -> Completion: ...


@runtime_checkable
class Loadable(Protocol):
    """A backend with a first-use cost: `load` pays it now (the embedded model's weights; an
    HTTP server's first answer, which also proves it reachable), so that a server can do it at
    start-up instead of in its first reader's request."""

    def load(self) -> None: ...


def prompt_style(backend: object) -> str:
    """ "completion" when `backend` wants few-shot completion prompts, else "chat" (also for
    backends that only implement `Backend`)."""
    if isinstance(backend, CompletionBackend) and backend.prompt_style == "completion":
        return "completion"
    return "chat"


def check_messages(messages: Sequence[Message]) -> list[Message]:
    """`messages` as a list, refusing what every chat template rejects (empty, unknown roles)."""
    if isinstance(messages, str | bytes):
        raise InvalidInput("expected a sequence of Message, got a string", field="messages")
    out = list(messages)
    if not out:
        raise InvalidInput("at least one message is needed", field="messages")
    for i, m in enumerate(out):
        if not isinstance(m, Message):
            raise InvalidInput(f"element {i} is {type(m).__name__}, not Message", field="messages")
        if m.role not in _ROLES:
            raise InvalidInput(f"element {i} has unknown role {m.role!r}", field="messages")
        if not isinstance(m.content, str):
            raise InvalidInput(f"element {i} content is not a string", field="messages")
    if out[-1].role != "user":
        raise InvalidInput("the last message must come from the user", field="messages")
    return out


class ChatBackend:
    """Shared plumbing: `generate` is a one-turn `chat`; subclasses implement `chat`/`stream`
    and, when the model continues raw text, `complete`."""

    prompt_style: str = "chat"

    @property
    def name(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def chat(self, messages: Sequence[Message], params: SamplingParams | None = None) -> Completion:
        raise NotImplementedError  # pragma: no cover

    def stream(
        self, messages: Sequence[Message], params: SamplingParams | None = None
    ) -> Iterator[str]:
        raise NotImplementedError  # pragma: no cover

    def generate(
        self, prompt: str, params: SamplingParams | None = None, *, system: str | None = None
    ) -> Completion:
        """Answer a single prompt, optionally under a system message."""
        messages = [Message("system", system)] if system else []
        messages.append(Message("user", prompt))
        return self.chat(messages, params)


def request_body(messages: Sequence[Message], params: SamplingParams) -> dict[str, object]:
    """The OpenAI chat-completions body shared by the embedded and HTTP backends."""
    body: dict[str, object] = {
        "messages": [m.as_dict() for m in messages],
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
    }
    if params.seed is not None:
        body["seed"] = params.seed
    if params.stop:
        body["stop"] = list(params.stop)
    return body


def completion_body(prompt: str, params: SamplingParams) -> dict[str, object]:
    """The OpenAI (legacy) completions body: raw text to continue, no chat template."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidInput("must be a non-empty string", field="prompt")
    body = request_body([Message("user", "")], params)
    del body["messages"]
    body["prompt"] = prompt
    return body


def message_text(content: object, where: str = "content") -> str:
    """The text of a message's (or a stream delta's) `content`: a string, null (no text), or
    OpenAI's list of content parts, whose text parts are joined. Anything else (a refusal or
    image part, a number) raises ValueError naming it: servers are not trusted to be right.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ValueError(f"{where} is {type(content).__name__}, not a string or a list of parts")
    pieces = []
    for i, part in enumerate(content):
        text = part.get("text") if isinstance(part, Mapping) else None
        if not isinstance(part, Mapping) or part.get("type") != "text" or not isinstance(text, str):
            raise ValueError(f"{where} part {i} is not a text part: {part!r:.100}")
        pieces.append(text)
    return "".join(pieces)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} is {type(value).__name__}, not an object")
    return value


def _count(value: object) -> int | None:
    """A token count, or None for a missing or malformed one (counts are only reported)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_completion(payload: object, backend: str, seconds: float) -> Completion:
    """A `Completion` from an OpenAI chat or completions answer (`choices[0]` and `usage`).

    Raises ValueError naming what is malformed in the text's path (the caller names the
    server in its own error); a malformed finish reason or token count becomes None instead.
    """
    payload = _mapping(payload, "the answer")
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError(f"choices is {choices!r:.100}, not a non-empty list")
    choice = _mapping(choices[0], "choices[0]")
    if choice.get("message") is not None:
        message = _mapping(choice["message"], "choices[0].message")
        text = message_text(message.get("content"))
    else:
        raw = choice.get("text")
        if raw is not None and not isinstance(raw, str):
            raise ValueError(f"choices[0].text is {type(raw).__name__}, not a string")
        text = raw or ""
    usage = payload.get("usage")
    usage = usage if isinstance(usage, Mapping) else {}
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, Mapping) else {}
    finish = choice.get("finish_reason")
    return Completion(
        text=text,
        backend=backend,
        finish_reason=finish if isinstance(finish, str) else None,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        seconds=seconds,
        cached_tokens=_count(details.get("cached_tokens")),
    )


def delta_text(event: object) -> str:
    """The text one streamed chunk adds (its choices' `delta.content`); ValueError, naming
    what is wrong, on a chunk that is not in the OpenAI shape."""
    choices = _mapping(event, "the event").get("choices") or []
    if not isinstance(choices, list):
        raise ValueError(f"choices is {type(choices).__name__}, not a list")
    pieces = []
    for i, choice in enumerate(choices):
        delta = _mapping(choice, f"choices[{i}]").get("delta")
        if delta is not None:
            content = _mapping(delta, f"choices[{i}].delta").get("content")
            pieces.append(message_text(content, f"choices[{i}].delta.content"))
    return "".join(pieces)

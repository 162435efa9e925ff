"""Server-sent events as OpenAI-compatible servers stream them, read to the letter.

Lines end at "\n", "\r\n" or "\r" only, as the SSE format says: a server's JSON may hold
U+2028, U+2029 or U+0085 unescaped (llama.cpp and vLLM do), at which `str.splitlines`, and
so httpx's `iter_lines`, would cut an event in two. An event's data lines are joined by "\n"
(the format allows JSON spread over several), and servers that separate events by single
newlines are still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["StreamTooLong", "json_events", "sse_events"]


class StreamTooLong(Exception):
    """The stream passed its byte limit."""


def _lines(chunks: Iterable[bytes], limit: int) -> Iterator[str]:
    """Decoded lines, split at "\n", "\r\n" and "\r" only; bytes are decoded per line, so a
    character split between chunks is whole again. The last line may lack its newline."""
    buffer = b""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise StreamTooLong(f"over {limit:,} bytes")
        buffer += chunk
        held = b"\r" if buffer.endswith(b"\r") else b""  # its "\n" may be in the next chunk
        body = buffer[: len(buffer) - len(held)]
        *lines, rest = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        buffer = rest + held
        for line in lines:
            yield line.decode("utf-8", errors="replace")
    if buffer:  # a last line without its newline (or ended by a held "\r")
        yield buffer.rstrip(b"\r").decode("utf-8", errors="replace")


def sse_events(chunks: Iterable[bytes], limit: int) -> Iterator[tuple[str, str]]:
    """(field, data) per event of a byte stream: "data" (its data lines joined by "\n") or
    "error" (llama.cpp's server writes `error: {...}` when it fails mid-answer). Comments
    and other fields are skipped; an event not ended by a blank line still counts at the
    end. StreamTooLong past `limit` bytes."""
    data: list[str] = []
    for line in _lines(chunks, limit):
        if not line:  # the blank line that ends an event
            if data:
                yield "data", "\n".join(data)
                data = []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "error":
            yield "error", value.strip()
    if data:
        yield "data", "\n".join(data)


def json_events(data: str) -> list[Any]:
    """The JSON values in one event's data: normally one; a server that separates events
    by single newlines (no blank line) gives one per line. None stands for bad JSON."""
    try:
        return [json.loads(data)]
    except ValueError:
        lines = [line for line in data.split("\n") if line.strip()]
        if len(lines) < 2:
            return [None]
        events: list[Any] = []
        for line in lines:
            if line.strip() == "[DONE]":
                break
            try:
                events.append(json.loads(line))
            except ValueError:
                return [None]
        return events

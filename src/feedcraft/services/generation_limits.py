"""Bounds on what one generation request may cost, applied where a request enters the service.

A model reads at most about 1,200 words of an article (`MAX_SOURCE_UNITS` in llm/tasks), but
sanitising, language detection, the extractive fallback and the guardrails read all of the
text they are given: a 3.5 MB body took 18 s for a summary and 50 s for ad copy. So the
tasks get the body clipped (`clip_body`), and a length budget is capped (`check_max_length`).
"""

from __future__ import annotations

from feedcraft.errors import InvalidInput
from feedcraft.llm.sentences import clip_chars

__all__ = ["MAX_BODY_CHARS", "MAX_LENGTH", "check_max_length", "clip_body"]

#: The most characters of an item's body a task reads. Generous: about 16,000 English words,
#: thirteen times what the model is shown, so that the extractive fallback still picks from a
#: long feature's whole text; what lies beyond is a dump (a transcript, a data file) whose
#: reading would cost seconds per request for nothing the model sees.
MAX_BODY_CHARS = 100_000

#: The largest length budget (words; characters for Chinese and Japanese) a request may ask
#: for: half the longest source a model reads (1,200 words), enough for any summary, ad or
#: description of it. Its answer (2 tokens per unit, see `_max_tokens` in llm/tasks) and that
#: source still fit the default 4,096-token context; 2,000 would not.
MAX_LENGTH = 600


def clip_body(body: str, limit: int = MAX_BODY_CHARS) -> str:
    """At most `limit` characters of `body`, cut at a sentence's end or a space near the
    limit (`sentences.clip_chars`)."""
    return clip_chars(body, limit)


def check_max_length(max_length: int | None) -> None:
    """Refuse a length budget above `MAX_LENGTH` by name (the tasks check the lower bound)."""
    if max_length is not None and max_length > MAX_LENGTH:
        raise InvalidInput(f"must be at most {MAX_LENGTH}, got {max_length}", field="max_length")

"""Bounds on what one generation request may cost, applied where a request enters the service.

A model reads at most about 1,200 words of an article (`MAX_SOURCE_UNITS` in llm/tasks), but
sanitising, language detection, the extractive fallback and the guardrails read all of the
text they are given: a 3.5 MB body took 18 s for a summary and 50 s for ad copy. So the
tasks get the body clipped (`clip_body`), and a length budget is capped (`check_max_length`).
An item with no words for a task is refused by id (`missing_text`), an unknown task by name
(`task_name`).
"""

from __future__ import annotations

from typing import Literal

from feedcraft.domain import Item
from feedcraft.errors import InvalidInput
from feedcraft.llm.sentences import clip_chars

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_LENGTH",
    "TASKS",
    "Task",
    "check_max_length",
    "clip_body",
    "missing_text",
    "task_name",
]

Task = Literal["summary", "headlines", "ad_copy", "product_description"]
TASKS: tuple[Task, ...] = ("summary", "headlines", "ad_copy", "product_description")
# The CLI's subcommand names, accepted wherever a task is named.
_TASK_ALIASES = {"ad-copy": "ad_copy", "description": "product_description"}

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


def task_name(task: str) -> str:
    """The task's name ("ad_copy" for the CLI's "ad-copy"); an unknown one is refused."""
    name = _TASK_ALIASES.get(task, task)
    if name not in TASKS:
        raise InvalidInput(f"unknown task {task!r}: use one of {', '.join(TASKS)}", field="task")
    return name


def _has_words(text: str) -> bool:
    """Whether `text` holds a letter or digit: what the tasks count as words (`count_units`);
    emoji, symbols and punctuation alone give a model and the fallback nothing to write."""
    return any(ch.isalnum() for ch in text)


def missing_text(task: str, item: Item) -> str | None:
    """Why `task` ("ad_copy", not the CLI's "ad-copy") cannot run on `item` (it has no words
    to work from), or None if it can. Summaries and headlines read the title or the body; ad
    copy and descriptions name the product by its title. Refused here, by item, for every
    task alike: the tasks would name a field of their own ("body"), or serve the emoji back
    as ad copy."""
    needs_title = task in ("ad_copy", "product_description")
    body_words = _has_words(clip_body(item.body))
    if _has_words(item.title) or (not needs_title and body_words):
        return None
    if item.title.strip() or (not needs_title and item.body.strip()):
        where = " in its title" if needs_title and body_words else ""
        return f"item {item.id!r} has no words{where} to write from"
    what = "no title" if needs_title else "no title or body"
    stub = " (a stub: only events name it so far)" if item.stub else ""
    return f"item {item.id!r} has {what} to write from{stub}"

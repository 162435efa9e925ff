"""Cleaning a model's answer: what models put around it, never its content.

Models wrap answers in preambles ("Here's a headline:"), labels ("Headline 2:", "标题1："),
list numbering ("1.", "1、", "一、", "（1）"), quotes and Markdown emphasis, and stop
mid-sentence when they run out of tokens. Each rule takes off only what surrounds the
answer: a quote pair only when it wraps the whole line (a headline that opens with a quote,
'"We will rebuild," mayor says', keeps it), a number only when list punctuation marks it as
one ("3 candidates register" and "2024年…" keep theirs). Content is never repaired: a wrong
answer must fail the guardrails, not be hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from feedcraft.llm.safety import join_sentences
from feedcraft.llm.sentences import count_units, split_sentences

__all__ = ["postprocess_headline", "postprocess_prose", "strip_answer", "unwrap_quotes"]

_ZH_DIGITS = "一二三四五六七八九十"
# Labels models put before an answer ("Summary:", "**Headline 2:**", "标题1：", "标题一：").
# A bare "ad" label is matched in its usual spellings only, so that "AD 79:" stays a date.
_LABEL = re.compile(
    r"^\s*(?:[#>*_\-•]+\s*)?(?:\**\s*)?(?:(?:new\s+|alternative\s+)?(?:headline|title|summary"
    r"|ad\s*copy|(?-i:[Aa]d)|product\s+description|description|answer|option|variant)"
    r"|标题|標題|摘要|总结|總結|广告文案|廣告文案|广告|廣告|产品介绍|產品介紹|回答)"
    rf"(?:\s*#?\s*(?:\d{{1,2}}|[{_ZH_DIGITS}]{{1,3}}))?\s*\**\s*[:：]\s*",
    re.I,
)
_INTRO = re.compile(
    r"^\s*(?:sure|certainly|of course|okay|ok)?[,!.]?\s*(?:here(?:'s| is| are)\b[^\n:]{0,60}"
    r"|以下是[^\n：:]{0,20})[:：]\s*",
    re.I,
)
# List numbering: bullets and "#" before a space; "1." "2)" "(3)" "１．" unless a digit
# follows (the decimal in "1.5亿", "5.1假期"); "1、" "一、" unless another number follows ("一、
# 二月份" is January and February); "（二）".
_ENUM = re.compile(
    r"^\s*(?:[-*•]+\s+|#{1,6}\s+"
    r"|[(（]?[0-9０-９]{1,2}[.．)）](?![0-9０-９])\s*"
    rf"|(?:[0-9０-９]{{1,2}}|[{_ZH_DIGITS}]{{1,3}})、(?![0-9０-９{_ZH_DIGITS}])\s*"
    rf"|[(（](?:[0-9０-９]{{1,2}}|[{_ZH_DIGITS}]{{1,3}})[)）]\s*)"
)
# Quote marks and the mark that closes each; "*" and "`" count by runs ("**bold**").
_PAIRS = {'"': '"', "'": "'", "`": "`", "*": "*", "“": "”", "‘": "’", "「": "」", "『": "』"}
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}
_MARK = re.compile(r"\*+|`+|[\"'“”‘’「」『』]")
# Marks a lone one of may be dropped from an end; "'" and "’" are too often apostrophes
# ("'90s", "the Joneses'").
_LONE = set('"“”「」『』‘*`')
# The end of a sentence, as the guardrails' "ends mid-sentence" check reads it.
_TERMINAL = tuple("。！？.!?…\"'”’」』)）")
# A final dotted initialism ("the U.S."): its last dot is part of the word.
_INITIALISM = re.compile(r"(?:^|[^\w.])(?:[A-Za-z]\.){2,}$")


def _marks(text: str) -> list[re.Match[str]]:
    """Quote marks of `text`, without apostrophes (a "'" or "’" between letters or digits)."""
    return [
        m
        for m in _MARK.finditer(text)
        if not (
            m[0] in "'’"
            and text[m.start() - 1 : m.start()].isalnum()
            and text[m.end() : m.end() + 1].isalnum()
        )
    ]


def _family(mark: str) -> str:
    """The opening form of `mark`, naming its pair ("”" -> "“"); runs keep their length."""
    return _CLOSERS.get(mark, mark) if len(mark) == 1 else mark


def _balanced(text: str) -> bool:
    """True when every quote in `text` is closed: an even count of each symmetric mark, and
    no closing curly or corner quote without an opening one before it."""
    depth: dict[str, int] = {}
    for m in _marks(text):
        mark, family = m[0], _family(m[0])
        if _PAIRS.get(family, family) == family or len(mark) > 1:  # symmetric: ", ', *, `
            depth[family] = depth.get(family, 0) ^ 1
        elif mark == family:
            depth[family] = depth.get(family, 0) + 1
        elif depth.get(family, 0) == 0:
            return False
        else:
            depth[family] -= 1
    return not any(depth.values())


def _wraps(text: str) -> int:
    """Length of the quote mark that opens `text` when its pair closes `text`, else 0."""
    marks = _marks(text)
    if len(marks) < 2 or marks[0].start() != 0 or marks[-1].end() != len(text):
        return 0
    first, last = marks[0][0], marks[-1][0]
    closer = first if len(first) > 1 else _PAIRS.get(first)
    if closer is None or last != closer:
        return 0
    depth = 0
    for i, m in enumerate(marks):
        if closer == first and i > 0 and m[0] == first:
            depth = 0  # a symmetric mark closes at its next occurrence
        elif m[0] == first:
            depth += 1
        elif m[0] == closer:
            depth -= 1
        if depth == 0:
            return len(first) if i == len(marks) - 1 else 0
    return 0


def unwrap_quotes(text: str) -> str:
    """`text` without the quotes or emphasis that wrap all of it, and without a lone quote
    mark at one end when dropping it is what balances the rest (a reply cut off at either
    end); quotes that open or close only part of the text stay."""
    text = text.strip()
    while text:
        n = _wraps(text)
        if n:
            text = text[n:-n].strip()
            continue
        if _balanced(text):
            return text
        head = text.lstrip(text[0]) if text[0] in "*`" else text[1:]
        tail = text.rstrip(text[-1]) if text[-1] in "*`" else text[:-1]
        if text[0] in _LONE and _balanced(head):
            text = head.strip()
        elif text[-1] in _LONE and _balanced(tail):
            text = tail.strip()
        else:
            return text
    return text


def strip_answer(line: str) -> str:
    """One line of a reply without the preamble, label, numbering and wrapping quotes."""
    line = _INTRO.sub("", line, count=1)
    line = _LABEL.sub("", line, count=1)
    line = _ENUM.sub("", line, count=1)
    line = _LABEL.sub("", line, count=1)
    return unwrap_quotes(line)


def _ends_sentence(text: str) -> bool:
    return text.endswith(_TERMINAL)


def postprocess_prose(max_length: int) -> Callable[[str], list[str]]:
    """Cleaning for one-paragraph answers: whole sentences within `max_length` units, less
    the unfinished ones a token limit cut off at the end."""

    def run(raw: str) -> list[str]:
        lines = [strip_answer(x) for x in raw.strip().splitlines()]
        text = join_sentences([x for x in lines if x])
        sentences = split_sentences(text)
        # cut by max_tokens: a Chinese answer may stop after "；" (a clause, split as a
        # sentence) with the unfinished clause after it, so drop until one really ends
        while len(sentences) > 1 and not _ends_sentence(sentences[-1]):
            sentences.pop()
        kept: list[str] = []
        used = 0
        for sentence in sentences:
            n = count_units(sentence)
            if kept and used + n > max_length:
                break
            kept.append(sentence)
            used += n
        out = join_sentences(kept)
        return [out] if out else []

    return run


def _drop_final_stop(text: str) -> str:
    """`text` without a final full stop, which headlines do not take; an initialism ("the
    U.S.") keeps its dot."""
    return text if _INITIALISM.search(text) else text.rstrip(".。")


def postprocess_headline(raw: str) -> list[str]:
    """The first non-empty line of a reply as a headline, without a final full stop."""
    for line in raw.strip().splitlines():
        clean = strip_answer(line)
        previous = None
        while clean != previous:  # '“Storm hits coast.”' and '“中央图书馆将关闭”。' alike
            previous = clean
            clean = unwrap_quotes(_drop_final_stop(clean))
        if clean:
            return [clean]
    return []

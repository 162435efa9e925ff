"""Normalise raw text (HTML, MediaWiki markup, URLs) into plain text that models can read.

Models and keyword statistics should see what a reader sees, not markup: `{{w|Target|Label}}`
must become "Label", `[[File:...]]` must vanish. Everything here is a pure function of its input.
Real wikitext (e.g. Wikinews dumps) is often damaged (unclosed templates, stray braces), so the
rules are tolerant: whatever markup is left after the structured rules is removed, never echoed.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = [
    "clean_text",
    "looks_like_wikitext",
    "normalize_whitespace",
    "remove_urls",
    "strip_html",
    "strip_wikitext",
]

# Templates whose last positional argument is the visible text ({{w|Target|Label}} -> Label).
_LINK_TEMPLATES = frozenset({"w", "wikipedia", "wp", "nowrap", "lang", "nobr", "small", "sic"})
# Link namespaces whose target is not text (images, categories, other-language copies).
_DROP_NAMESPACES = frozenset({"file", "image", "media", "category"})
# Interwiki prefixes that point at the same page name on another wiki: keep the text.
_KEEP_PREFIXES = frozenset({"w", "wikipedia", "wp", "wikt", "wiktionary", "n", "wikinews"})

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_DROP_BLOCKS = re.compile(
    r"<(script|style|ref|gallery|math|noinclude)\b[^>]*?(?<!/)>.*?(?:</\1\s*>|$)", re.S | re.I
)
_SELF_CLOSING_REF = re.compile(r"<ref\b[^>]*/>", re.I)
_BREAK_TAGS = re.compile(
    r"<\s*(?:br|p|div|li|tr|h[1-6])\b[^>]*>|</\s*(?:p|div|li|tr|h[1-6])\s*>", re.I
)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"'\]\[{}|]+", re.I)
_EXT_LINK = re.compile(r"\[(?:https?|ftp)://[^\s\]]+(?:\s+([^\]]*))?\]", re.I)
_INNER_TEMPLATE = re.compile(r"\{\{([^{}]*)\}\}")
_INNER_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_TABLE_OPEN = re.compile(r"\{\|([^\n]*)")
_TABLE_ROW = re.compile(r"^[ \t]*\|-.*$", re.M)
_TABLE_CELL = re.compile(r"^[ \t]*[|!](?!\})|\|\||!!", re.M)
_HEADING = re.compile(r"^\s*(=+)\s*(.*?)\s*\1\s*$", re.M)
_LIST_MARK = re.compile(r"^[ \t]*[*#:;]+[ \t]*", re.M)
_QUOTES = re.compile(r"'{2,}")
_MAGIC = re.compile(r"__[A-Z]+__")
# Leftovers of damaged markup: an unclosed "{{name|arg" (or "{name|arg"), then any remaining
# brace, pipe or double bracket.
_BROKEN_TEMPLATE = re.compile(r"\{+[^\s{}\[\]|]*(?:\|[^\s{}\[\]|]*)*")
_HALF_LINK = re.compile(r"(?<!\[)\[(?!\[)([^\[\]\n]*)\]\](?!\])")
_DAMAGED_COMMENT = re.compile(r"(?<!<)!--.*?(?:-->|$)", re.S)
_STRAY = re.compile(r"[{}|]|\[\[|\]\]")
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_WS = re.compile(r"\s+")


def strip_html(text: str) -> str:
    """Remove comments, script/style/ref blocks and tags, then unescape entities.

    Tags go before entities so that an escaped `&lt;b&gt;` stays visible text instead of
    being removed as markup. Block tags become line breaks so words do not run together.
    """
    text = _COMMENT.sub(" ", text)
    text = _DROP_BLOCKS.sub(" ", text)
    text = _SELF_CLOSING_REF.sub(" ", text)
    text = _BREAK_TAGS.sub("\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text)


def remove_urls(text: str) -> str:
    """Drop bare URLs: they carry no words a reader would read and pollute token statistics."""
    return _URL.sub(" ", text)


def _template(match: re.Match[str]) -> str:
    parts = [p.strip() for p in match.group(1).split("|")]
    name = parts[0].lower()
    args = [p for p in parts[1:] if "=" not in p]
    if name in _LINK_TEMPLATES:
        return args[-1] if args else ""
    return ""  # {{date|...}}, infoboxes, navigation and maintenance templates carry no prose


def _link(match: re.Match[str]) -> str:
    parts = match.group(1).split("|")
    target = parts[0].strip()
    prefix, sep, rest = target.partition(":")
    prefix_l = prefix.strip().lower()
    if sep:
        if prefix_l in _DROP_NAMESPACES:
            return ""
        if prefix_l in _KEEP_PREFIXES:
            target = rest.strip()
        elif len(prefix_l) in (2, 3) and prefix_l.isalpha() and len(parts) == 1:
            return ""  # [[de:Seite]]: a link to the same article in another language
        else:
            target = rest.strip()
    label = parts[-1].strip() if len(parts) > 1 else ""
    if not label:  # [[Page]] or the "pipe trick" [[Page|]]
        label = target.split("#")[0] if not target.startswith("#") else target[1:]
    return label


def _resolve_nested(text: str) -> str:
    for _ in range(20):  # innermost first: a File caption may hold links, a template links
        new = _INNER_LINK.sub(_link, _INNER_TEMPLATE.sub(_template, text))
        if new == text:
            break
        text = new
    return text


def _table_open(match: re.Match[str]) -> str:
    rest = match.group(1).split()
    # A real "{|" line holds only attributes; a long one is prose glued on by damaged markup,
    # whose first word is the attribute fused with the next word ("{| ruleshe report ...").
    return " " + " ".join(rest[1:]) if len(rest) >= 6 else " "


def strip_wikitext(text: str) -> str:
    """Reduce MediaWiki markup to its visible text.

    `{{w|Target|Label}}` -> Label, `[[Page|Label]]` -> Label, `[[Page]]` -> Page,
    `[http://x label]` -> label; other templates, files, categories, refs, tables and
    bold/italic quotes are removed. Nested markup is resolved innermost first.
    """
    text = _COMMENT.sub(" ", text)
    text = _DROP_BLOCKS.sub(" ", text)
    text = _SELF_CLOSING_REF.sub(" ", text)
    text = _DAMAGED_COMMENT.sub(" ", text)
    text = _resolve_nested(text)
    text = _TABLE_OPEN.sub(_table_open, text)
    # What is left of "{{" is an unclosed template fused with the next text, as in the damaged
    # Wikinews "{{byline|date[w:Page|Label]]": drop the head, repair the link, resolve again.
    text = _BROKEN_TEMPLATE.sub(" ", text)
    text = _resolve_nested(_HALF_LINK.sub(r"[[\1]]", text))
    text = _EXT_LINK.sub(lambda m: m.group(1) or "", text)
    text = _TABLE_ROW.sub(" ", text)
    text = _TABLE_CELL.sub(" ", text)
    text = _HEADING.sub(lambda m: m.group(2), text)
    text = _LIST_MARK.sub("", text)
    text = _QUOTES.sub("", text)
    text = _MAGIC.sub(" ", text)
    return _STRAY.sub(" ", text)


def looks_like_wikitext(text: str) -> bool:
    """True when `text` carries MediaWiki markup (templates, wiki links or bold quotes)."""
    return any(mark in text for mark in ("{{", "[[", "'''", "{|", "[http://", "[https://"))


def normalize_whitespace(text: str, *, keep_paragraphs: bool = False) -> str:
    """Collapse runs of whitespace to one space (or keep single newlines between paragraphs)."""
    if keep_paragraphs:
        text = _SPACES.sub(" ", text)
        return _NEWLINES.sub("\n", text).strip()
    return _WS.sub(" ", text).strip()


def clean_text(
    text: str | None,
    *,
    wikitext: bool | None = None,
    keep_urls: bool = False,
    keep_paragraphs: bool = False,
) -> str:
    """Plain, NFKC-normalised text from HTML and/or MediaWiki input.

    `wikitext=None` detects markup; NFKC folds full-width forms and compatibility characters
    (e.g. `&nbsp;`, full-width digits in Chinese text) so that equal words compare equal.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if wikitext or (wikitext is None and looks_like_wikitext(text)):
        text = strip_wikitext(text)
    text = strip_html(text)
    if not keep_urls:
        text = remove_urls(text)
    text = unicodedata.normalize("NFKC", text)  # entities may have produced new compat chars
    return normalize_whitespace(text, keep_paragraphs=keep_paragraphs)

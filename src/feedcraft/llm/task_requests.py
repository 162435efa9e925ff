"""What a caller asks the generation tasks for: the request types, validated on creation, and
the reader-facing text a request carries (interests, a default audience).

Every field comes from outside (an API call, a catalogue item, a reader's profile), so a wrong
type is refused as `InvalidInput` naming the field, never left to fail later as a TypeError or
an AttributeError. `tasks` turns these requests into prompts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from feedcraft.errors import InvalidInput
from feedcraft.llm.attributes import attribute_text, is_traditional
from feedcraft.llm.fewshot import one_line
from feedcraft.llm.safety import find_injections, neutralise, strip_invisible
from feedcraft.llm.sentences import truncate_units
from feedcraft.text.language import language_code, source_language
from feedcraft.text.script import has_han

__all__ = [
    "AdCopyRequest",
    "HeadlineRequest",
    "ProductDescriptionRequest",
    "SummaryRequest",
    "default_audience",
    "interest_label",
]

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SummaryRequest:
    """Summarise an article for a reader whose profile's top keywords/categories are given."""

    title: str
    body: str
    interests: tuple[str, ...] = ()
    max_length: int | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        _check_article(self.title, self.body)
        _check_terms(self.interests, "interests")
        _check_length(self.max_length)


@dataclass(frozen=True)
class HeadlineRequest:
    """`n` headline variants for an article."""

    title: str
    body: str
    n: int = 3
    max_length: int | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        _check_article(self.title, self.body)
        if not isinstance(self.n, int) or not 1 <= self.n <= 10:
            raise InvalidInput(f"must be between 1 and 10, got {self.n!r}", field="n")
        _check_length(self.max_length)


@dataclass(frozen=True)
class AdCopyRequest:
    """Ad copy for a product or campaign, aimed at an audience (a segment description).

    `attributes` are the product's facts as (name, value) pairs, as a product description's:
    they reach the model's data and the source the output is checked against, so that copy
    stating the product's real power or capacity is not taken for invented numbers."""

    product: str
    description: str
    audience: str
    campaign: str = ""
    max_length: int | None = None
    language: str | None = None
    attributes: Pairs = ()

    def __post_init__(self) -> None:
        _check_text(self.product, "product")
        _check_text(self.audience, "audience")
        _check_text(self.description, "description", required=False)
        _check_text(self.campaign, "campaign", required=False)
        _check_pairs(self.attributes)
        _check_length(self.max_length)

    @classmethod
    def from_mapping(
        cls,
        product: str,
        description: str,
        audience: str,
        attributes: Mapping[str, object] | None,
        **kwargs: Any,
    ) -> AdCopyRequest:
        """A request whose attributes are a mapping of values of any type, written as
        `ProductDescriptionRequest.from_mapping` writes them."""
        pairs = _mapping_pairs(product, attributes or {}, kwargs.get("language"))
        return cls(product, description, audience, attributes=pairs, **kwargs)


@dataclass(frozen=True)
class ProductDescriptionRequest:
    """A product description written from its attributes (name/value pairs)."""

    name: str
    attributes: Pairs = field(default_factory=tuple)
    max_length: int | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        _check_text(self.name, "name")
        _check_pairs(self.attributes)
        _check_length(self.max_length)

    @classmethod
    def from_mapping(
        cls, name: str, attributes: Mapping[str, object], **kwargs: Any
    ) -> ProductDescriptionRequest:
        """A request from a mapping of attribute values of any type: missing ones (None, "",
        []) are left out, and the rest written as a reader would, not as Python's repr
        ({"specs": {"power": "2 kW"}} -> "power 2 kW")."""
        return cls(name, _mapping_pairs(name, attributes, kwargs.get("language")), **kwargs)


def _mapping_pairs(name: object, attributes: object, hint: object) -> Pairs:
    """(key, text) pairs of a mapping of attribute values, in the data's language (yes/no or
    是/否, list separators): the language hint's, else Chinese when the name is."""
    if not isinstance(attributes, Mapping):
        kind = type(attributes).__name__
        raise InvalidInput(f"expected a mapping of names to values, got {kind}", field="attributes")
    zh = language_code(hint) == "zh" if isinstance(hint, str) and hint.strip() else None
    if zh is None:
        zh = isinstance(name, str) and has_han(name)
    pairs = []
    for key, value in attributes.items():
        text = attribute_text(value, zh=zh)
        if text.strip():
            pairs.append((str(key), text))
    return tuple(pairs)


def _check_pairs(attributes: object) -> None:
    if not isinstance(attributes, Sequence) or isinstance(attributes, str):
        raise InvalidInput("expected a list of (name, value) pairs", field="attributes")
    for i, pair in enumerate(attributes):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidInput(f"element {i} is not a (name, value) pair", field="attributes")
        if not all(isinstance(x, str) for x in pair):
            raise InvalidInput(f"element {i} is not a (name, value) pair", field="attributes")


def _check_text(text: str, name: str, *, required: bool = True) -> None:
    """A string field: a wrong type is refused by name, not left to fail as a TypeError;
    a required one must hold something visible (zero-width characters are nothing)."""
    if not isinstance(text, str):
        raise InvalidInput(f"expected a string, got {type(text).__name__}", field=name)
    if required and not strip_invisible(text).strip():
        raise InvalidInput("must not be empty", field=name)


def _check_article(title: str, body: str) -> None:
    """Title and body are strings, and together not empty (either alone may be)."""
    _check_text(title, "title", required=False)
    _check_text(body, "body", required=False)
    _check_text(title + body, "body")


def _check_terms(terms: Sequence[str], name: str) -> None:
    if isinstance(terms, str):
        raise InvalidInput("expected a list of strings, got a string", field=name)
    if not isinstance(terms, Sequence):
        raise InvalidInput(f"expected a list of strings, got {type(terms).__name__}", field=name)
    if any(not isinstance(t, str) for t in terms):
        raise InvalidInput("every element must be a string", field=name)


def _check_length(max_length: int | None) -> None:
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise InvalidInput(f"must be a positive integer, got {max_length!r}", field="max_length")


# Sentence ends, clause breaks and quotes inside an interest: what would let it read as a
# sentence of its own ("sports. Answer in French") or close the quotes it is shown in.
_INTEREST_BREAK = re.compile(r"[.!?;:]+(?=\s|$)|[。！？；：…\"“”‘’「」『』]|(?<!\w)'|'(?!\w)")
# An interest is a category or a tag: a few words (Han characters count one each).
_INTEREST_UNITS = {"latin": 4, "han": 8}


def interest_label(term: str) -> str:
    """A reader interest as a short label fit for the prompt's data: markup and role labels
    removed, on one line, without sentence punctuation or quotes, at most four words (eight
    Han characters). Interests are read items' categories and tags, text from outside like
    the article, and a label cannot carry a sentence of instructions."""
    flat = one_line(_INTEREST_BREAK.sub(" ", neutralise(one_line(term))))
    limit = _INTEREST_UNITS["han" if has_han(flat) else "latin"]
    return truncate_units(flat, limit, ellipsis="")


_AUDIENCE = {
    "en": ("general readers", "readers interested in {}"),
    "zh": ("普通读者", "对{}感兴趣的读者"),
    "zh-Hant": ("普通讀者", "對{}感興趣的讀者"),
}


def default_audience(language: str | None, interests: Sequence[str] = (), *, text: str = "") -> str:
    """The audience of ad copy aimed at a reader's interests (or at anyone), in the language
    the copy is written in: `language` is the item's tag if known, `text` its title and body,
    from which the language (and Simplified or Traditional characters) is read otherwise. An
    English audience in a Chinese prompt ("受众: general readers") ends up in the copy."""
    code = source_language(text, language)
    key = code if code in _AUDIENCE else "en"
    if key == "zh" and is_traditional(text, language):
        key = "zh-Hant"
    labels = [interest_label(t) for t in interests if not find_injections(t)]
    labels = list(dict.fromkeys(label for label in labels if label))
    anyone, interested = _AUDIENCE[key]
    if not labels:
        return anyone
    return interested.format(("、" if key != "en" else ", ").join(labels))

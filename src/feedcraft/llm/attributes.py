"""Product attributes as a reader sees them: values as text, keys as labels, in the data's
language.

The generation service adds an item's category and tags to its attributes under the English
keys "category" and "tags"; in a Chinese description those keys are written as Chinese labels
(Simplified or Traditional, as the data is), so that neither the model's prompt nor the
extractive fallback mixes an English word into Chinese text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from feedcraft.text.script import to_simplified

__all__ = ["attribute_text", "is_traditional", "key_label", "localised_key"]

# The keys the service names in English, as Chinese labels: (Simplified, Traditional).
_ZH_KEYS = {"category": ("类别", "類別"), "tags": ("标签", "標籤")}
# Language subtags that name a script or region: Traditional or Simplified characters.
_HANT = frozenset({"hant", "tw", "hk", "mo"})
_HANS = frozenset({"hans", "cn", "sg"})


def attribute_text(value: object, *, zh: bool) -> str:
    """An attribute value as text: yes/no for a flag (是/否 in Chinese), a list's items
    joined, a mapping's entries as "name value" ({"capacity_l": 1.7} -> "capacity l 1.7"),
    nothing for a missing value. Never Python's repr, which the model would copy to the
    reader ("{'power': '2 kW'}")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    if isinstance(value, Mapping):
        entries = [(k, attribute_text(v, zh=zh)) for k, v in value.items()]
        texts = [f"{_entry_name(k)} {t}" for k, t in entries if t.strip()]
        return ("、" if zh else ", ").join(texts)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        texts = [t for t in (attribute_text(v, zh=zh) for v in items) if t.strip()]
        # a list of mappings: their entries are joined by commas already
        nested = any(isinstance(v, Mapping) for v in items)
        if nested:
            return ("；" if zh else "; ").join(texts)
        return ("、" if zh else ", ").join(texts)
    return str(value)


def _entry_name(key: object) -> str:
    """A nested entry's name as words: "capacity_l" -> "capacity l"."""
    return " ".join(str(key).replace("_", " ").split())


def is_traditional(text: str, hint: str | None = None) -> bool:
    """Whether Chinese `text` is in Traditional characters: as its language tag says
    ("zh-Hant", "zh-TW"), else as its script shows (OpenCC's conversion changes it; without
    OpenCC, Simplified is assumed)."""
    subtags = set(re.split(r"[-_]", hint.strip().lower())[1:]) if hint else set()
    if subtags & _HANT:
        return True
    if subtags & _HANS:
        return False
    return to_simplified(text) != text


def localised_key(key: str, lang: str, *, traditional: bool = False) -> str:
    """`key` as the data's language labels it: "category" and "tags" in Chinese data become
    类别 and 标签 (類別 and 標籤 in Traditional); any other key is the caller's, as given."""
    names = _ZH_KEYS.get(key.strip().casefold()) if lang == "zh" else None
    if names is None:
        return key
    return names[1] if traditional else names[0]


def key_label(key: str) -> str:
    """An attribute key as a label: "capacity_ml" -> "Capacity ml", "iPhone support" as it
    is; only the first letter is raised, so "RAM" and "USB ports" keep their capitals. The
    unit stays after the key, away from the number, so that the numbers check reads the
    value as bare: the source's `capacity_ml: 750` licenses it."""
    label = " ".join(key.replace("_", " ").split())
    if label[:1].islower() and not label[1:2].isupper():
        label = label[0].upper() + label[1:]
    return label

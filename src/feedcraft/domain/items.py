"""Content items (articles, videos, products, ad creatives) and users."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from feedcraft.domain.time import ensure_utc


class ItemKind(StrEnum):
    ARTICLE = "article"
    VIDEO = "video"
    PRODUCT = "product"
    CREATIVE = "creative"


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of content. `stub` marks an item created only because an event named it."""

    id: str
    title: str
    kind: ItemKind = ItemKind.ARTICLE
    body: str = ""
    category: str = ""
    subcategory: str = ""
    tags: tuple[str, ...] = ()
    language: str | None = None
    image_url: str | None = None
    published_at: datetime | None = None
    provider: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    stub: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("Item.id must be a non-empty string")
        object.__setattr__(self, "kind", ItemKind(self.kind))
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "attributes", _frozen_mapping(self.attributes))
        if self.published_at is not None:
            object.__setattr__(self, "published_at", ensure_utc(self.published_at))

    @property
    def text(self) -> str:
        """The text a content model reads: title, then body."""
        return f"{self.title}. {self.body}".strip() if self.body else self.title

    def content_hash(self) -> str:
        """Stable hash of everything a content model sees; changes when the content changes."""
        payload = json.dumps(
            [
                self.title,
                self.body,
                self.category,
                self.subcategory,
                list(self.tags),
                self.language,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def __hash__(self) -> int:
        return hash((self.id, self.content_hash()))


@dataclass(frozen=True, slots=True)
class User:
    """A user known by a pseudonymous string id."""

    id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("User.id must be a non-empty string")
        object.__setattr__(self, "attributes", _frozen_mapping(self.attributes))

    def __hash__(self) -> int:
        return hash(self.id)

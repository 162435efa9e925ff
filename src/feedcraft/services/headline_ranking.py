"""Headline variants ranked by the store's headline click model when they are served.

The model is loaded once per artifact version, under a lock: concurrent first requests after
a new version would otherwise each unpickle it (and a fine-tuned one's backbone), a GB each.
A version that cannot be loaded gives way to the newest one before it that can; when none
can, or the model fails to score, the request still succeeds: the variants are served
unranked, as when no model exists, and the reason goes to the log.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from feedcraft.ctr import encoder_for
from feedcraft.domain import Item
from feedcraft.embeddings.base import Encoder
from feedcraft.errors import FeedcraftError
from feedcraft.services.generated import GeneratedText
from feedcraft.services.headlines import ARTIFACT, HeadlineModel, lead_of, load_headline_model
from feedcraft.storage import Store
from feedcraft.text.script import mostly_latin

__all__ = ["HeadlineRanker"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Held:
    """One artifact version as loaded: its model and description, or None if it failed."""

    version: int
    model: HeadlineModel | None
    name: str


class HeadlineRanker:
    """The store's newest headline click model, loaded once per version, and the ranking of
    served variants by it."""

    def __init__(self, store: Store, encoder: Encoder, cache_dir: Path | None = None) -> None:
        self.store = store
        self.encoder = encoder
        self.cache_dir = cache_dir  # settings' machine cache, for a GGUF backbone's conversion
        self._held: _Held | None = None
        self._lock = threading.Lock()

    def model(self) -> tuple[HeadlineModel, str] | None:
        """The newest version's model and description; None when there is none or it cannot
        be loaded (logged once per version)."""
        versions = self.store.artifacts.versions(ARTIFACT)
        if not versions:
            return None
        newest = versions[-1].version
        held = self._held  # read once: another thread may replace it meanwhile
        if held is None or held.version != newest:
            with self._lock:
                held = self._held
                if held is None or held.version != newest:
                    held = self._load(newest, [v.version for v in versions])
                    self._held = held
        return None if held.model is None else (held.model, held.name)

    def _load(self, newest: int, versions: list[int]) -> _Held:
        """The newest version that loads, held for `newest`: a damaged or unfitted upload
        falls back to the version before it (as `rollback` would), not to no ranking at all
        while a good model is in the store. Each failure is logged once, when it is met."""
        for version in sorted(versions, reverse=True):
            try:
                model, name = load_headline_model(
                    self.store, version=version, cache_dir=self.cache_dir
                )
            except FeedcraftError as exc:  # damaged, unfitted or deleted since listed
                _log.warning("headline model %s v%s cannot be served: %s", ARTIFACT, version, exc)
                continue
            if version != newest:
                _log.warning("headlines ranked by %s v%s, the newest that loads", ARTIFACT, version)
            return _Held(newest, model, name)
        _log.warning("headlines served unranked: no version of %s loads", ARTIFACT)
        return _Held(newest, None, "")

    def rank(self, served: GeneratedText, item: Item) -> GeneratedText:
        """Variants ordered by p_click, best first, then the unscored ones in generated order.

        Only English output is scored, each variant on its own script: the model learnt
        English headlines (Upworthy), and its score of other languages would be noise shown as
        a number (None in `p_click`). Nothing scored: `served` as it is (`p_click` empty)."""
        if not served.outputs or not served.language.startswith("en"):
            return served
        start = time.perf_counter()
        outputs = list(served.outputs)
        scorable = [i for i, text in enumerate(outputs) if mostly_latin(text)]
        found = self.model() if scorable else None
        if found is None:
            return served
        model, name = found
        ledes = [lead_of(item.body)] * len(scorable)  # what the model reads as the story
        try:
            p = model.predict_proba(
                [outputs[i] for i in scorable],
                None,
                ledes,
                encoder=encoder_for(model, self.encoder),
            )
        except Exception:  # an encoder moved away, a backbone that fails to load: log, serve
            _log.warning("headlines served unranked: %s could not score", name, exc_info=True)
            return served
        score = {i: float(p[k]) for k, i in enumerate(scorable)}
        order = sorted(scorable, key=lambda i: -score[i])
        order += [i for i in range(len(outputs)) if i not in score]
        return replace(
            served,
            outputs=tuple(outputs[i] for i in order),
            produced_by=tuple(served.produced_by[i] for i in order),
            p_click=tuple(score.get(i) for i in order),
            ranked_by=name,
            seconds=served.seconds + time.perf_counter() - start,  # serving includes ranking
        )

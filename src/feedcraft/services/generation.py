"""Generated text for stored items, served from the store's text cache when it can be.

A model call costs seconds; the same summary serves every reader with the same interests. So
each result is cached under (task, item version, profile bucket, model, task parameters):

- the item version is the hash of what the model reads (title, body, category, tags,
  language): editing an article makes a new key, and the old entry is never served again;
- the profile bucket is the reader's top categories over their recent history, sorted, never
  the user id: many readers share one bucket, and so one cached summary. No cache entry is
  per user, so erasing a user's events leaves nothing of theirs in the cache;
- the model is the backend's name (weights included) and the guardrail settings, so
  switching models or checks never serves the other's text.

Requests that miss one key together share one model run: the threads of a process by
`single_flight`, processes sharing the store by a claim on the key (`claimed`). Each item
keeps at most `[llm] cache_entries_per_item` entries per task.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from tqdm.auto import tqdm

from feedcraft.config import Settings
from feedcraft.ctr import encoder_for
from feedcraft.domain import Item, Purpose
from feedcraft.embeddings.base import Encoder
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.llm import (
    GENERATION_REVISION,
    AdCopyRequest,
    GenerationResult,
    Generator,
    HeadlineRequest,
    ProductDescriptionRequest,
    SummaryRequest,
    generator_from_settings,
)
from feedcraft.llm.tasks import default_audience
from feedcraft.services.claimed import ClaimOwner, run_claimed
from feedcraft.services.consent import ConsentPolicy
from feedcraft.services.generated import BatchReport, GeneratedText, PruneReport
from feedcraft.services.generation_batch import STOP_AFTER_BACKEND_FAILURES, BatchTally
from feedcraft.services.generation_limits import (
    TASKS,
    Task,
    check_max_length,
    clip_body,
    missing_text,
)
from feedcraft.services.generation_limits import task_name as _task_name
from feedcraft.services.headline_ranking import HeadlineRanker
from feedcraft.services.reader_interests import NO_PROFILE, profile_bucket, reader_interests
from feedcraft.services.single_flight import SingleFlight
from feedcraft.services.text_keys import (
    digest,
    forget_item_texts,
    item_key_prefix,
    item_version,
    key_parts,
)
from feedcraft.services.text_prune import prune_texts
from feedcraft.storage import Store

__all__ = [
    "TASKS",
    "BatchReport",
    "GeneratedText",
    "GenerationService",
    "PruneReport",
    "Task",
]


class GenerationService:
    """Summaries, headline variants, ad copy and product descriptions for stored items.

    `generator` replaces the one built from `settings.llm` (a different backend, a wrapped
    one); `interests` is how many top categories make a profile bucket, `history` how many
    recent items of a reader are read to find them.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        encoder: Encoder,
        *,
        generator: Generator | None = None,
        interests: int = 2,
        history: int = 50,
    ) -> None:
        if interests < 1:
            raise InvalidInput(f"must be at least 1, got {interests}", field="interests")
        if history < 1:
            raise InvalidInput(f"must be at least 1, got {history}", field="history")
        self.store = store
        self.settings = settings
        self.encoder = encoder
        self.generator = (
            generator
            if generator is not None
            else generator_from_settings(settings.llm, encoder, seed=settings.seed % 2**30)
        )
        self.interests = interests
        self.history = history
        self.consent = ConsentPolicy(store, settings.privacy)
        self._ranking = HeadlineRanker(store, encoder, settings.machine_cache())
        self._flights: SingleFlight[GeneratedText] = SingleFlight()
        self._owner = ClaimOwner()

    # ------------------------------------------------------------------ identity

    @property
    def model_name(self) -> str:
        """The backend's name, or the extractive summariser's when there is no model."""
        backend = self.generator.backend
        return backend.name if backend is not None else self.generator.extractive.name

    def _model_key(self) -> str:
        """The model plus everything else that changes which text is accepted."""
        g = self.generator
        rails = g.guardrails
        multilingual = getattr(rails, "multilingual", None)
        knobs = {
            "revision": GENERATION_REVISION,
            "attempts": g.max_attempts,
            "seed": g.seed,
            "encoder": self.encoder.name,
            "rails": {k: v for k, v in vars(rails).items() if isinstance(v, int | float | str)},
            "banned": sorted(str(t) for t in getattr(rails, "banned_terms", ()) or ()),
            "multilingual": (
                [multilingual.encoder.name, multilingual.min_similarity] if multilingual else None
            ),
            # request fields the backend adds to every call (sampling, penalties): other text
            "extra_body": getattr(g.backend, "extra_body", None) or None,
        }
        if self.settings.llm.model_revision:  # absent when unset: existing keys still match
            knobs["model_revision"] = self.settings.llm.model_revision
        return f"{quote(self.model_name, safe='')}:{digest(knobs)}"

    def item_prefix(self, item_id: str) -> str:
        """The key prefix of every cached entry of an item (for `forget_item`)."""
        return item_key_prefix(item_id)

    def cache_key(self, task: str, item: Item, bucket: str, params: dict[str, Any]) -> str:
        return self._key(task, item, bucket, self._key_tail(params))

    def _key_tail(self, params: dict[str, Any]) -> str:
        """The part of a key that does not depend on the item: computed once for a feed."""
        return f"{self._model_key()}/{digest(params)}"

    def _key(self, task: str, item: Item, bucket: str, tail: str) -> str:
        return (
            f"{self.item_prefix(item.id)}{task}/{item_version(item)}/{quote(bucket, safe='')}/"
            f"{tail}"
        )

    def _settle(self, task: str, item_id: str) -> None:
        """After a write, keep only what the catalogue's item as it is now can serve. Read
        after the put, not before: a delete that commits before this read is seen here (every
        entry of the item goes), one after it drops the entry itself (`delete_items` clears
        the texts after the catalogue); an edit seen here makes the entry just written stale."""
        try:
            current = self.store.catalogue.get(item_id)
        except NotFound:  # deleted while the model ran: erasing it must leave no text
            forget_item_texts(self.store, item_id)
            return
        self._trim(task, current)

    def _trim(self, task: str, item: Item) -> None:
        """Entries of versions other than `item`'s (the catalogue's current one, never the one
        a request read when it began: an edit may have landed since) can never be served
        again, and beyond `[llm] cache_entries_per_item` of the current one the oldest
        written go."""
        cache = self.store.text_cache
        current = item_version(item)
        keys = list(cache.keys(f"{self.item_prefix(item.id)}{task}/"))
        stale = [k for k in keys if key_parts(k)[3] != current]
        kept = [k for k in keys if key_parts(k)[3] == current]
        excess = len(kept) - self.settings.llm.cache_entries_per_item
        if excess > 0:
            written = {k: e.created_at for k in kept if (e := cache.get(k)) is not None}
            stale += sorted(written, key=lambda k: (written[k], k))[:excess]
        if stale:
            cache.delete(stale)

    def prune_cache(self, *, other_models: bool = False) -> PruneReport:
        """Drop cached texts that can never be served: of items deleted or edited since
        (always), and with `other_models` also those written by another model, other
        guardrail settings or an older feedcraft (`GENERATION_REVISION`)."""
        return prune_texts(self.store, self._model_key(), other_models=other_models)

    def forget_item(self, item_id: str) -> int:
        """Drop every cached generation of an item (e.g. when it is deleted)."""
        return forget_item_texts(self.store, item_id)

    # ------------------------------------------------------------------ profiles

    def profile_terms(
        self, user_id: str | None, purpose: Purpose = Purpose.PERSONALISATION
    ) -> tuple[str, ...]:
        """The reader's top categories (`reader_interests`): their profile bucket's terms;
        none when the reader did not consent to `purpose` (`services.consent`)."""
        if not self.consent.allows(user_id, purpose):
            return ()
        return reader_interests(self.store, user_id, interests=self.interests, history=self.history)

    bucket_of = staticmethod(profile_bucket)

    # ------------------------------------------------------------------ tasks

    def summary(
        self,
        item_id: str,
        user_id: str | None = None,
        *,
        max_length: int | None = None,
        stand_in: bool = True,
    ) -> GeneratedText:
        """A summary of the item for the reader's interests (or for anyone: no user). When the
        model gives none (busy, or down) the one for anyone stands in, if cached, unless
        `stand_in` is False (the feed's writer: it wants the reader's own, or the fallback)."""
        item = self._item("summary", item_id, max_length)
        terms = self.profile_terms(user_id)
        request = SummaryRequest(
            item.title,
            clip_body(item.body),
            interests=terms,
            max_length=max_length,
            language=item.language,
        )
        params = {"max_length": max_length}
        general = (lambda: params) if stand_in else None
        return self._serve("summary", item, terms, params, self.generator.summary, request, general)

    def cached_summaries(
        self,
        item_ids: Sequence[str],
        user_id: str | None = None,
        *,
        max_length: int | None = None,
        recall: Callable[[str], GeneratedText | None] | None = None,
    ) -> dict[str, GeneratedText | None]:
        """What `summary` would serve for each stored item, None where the cache does not hold
        it yet; items the catalogue lacks, and items with no text to summarise, are left out.
        Never runs a model, and reads the reader's profile and the items once for all (a feed
        asks for many), and the cache in one batched read. `recall` is asked, by cache key,
        where the cache holds nothing (a feed's memory of an outage's fallbacks, which are not
        cached)."""
        start = time.perf_counter()
        check_max_length(max_length)
        items = self.store.catalogue.get_many(list(item_ids))
        terms = self.profile_terms(user_id)
        bucket = self.bucket_of(terms)
        tail = self._key_tail({"max_length": max_length})
        keys = {
            i: self._key("summary", item, bucket, tail)
            for i, item in items.items()
            if missing_text("summary", item) is None
        }
        found = self.store.text_cache.get_many(list(keys.values()))
        out: dict[str, GeneratedText | None] = {}
        for i, key in keys.items():
            entry = found.get(key)
            if entry is not None:
                value = json.loads(entry.value)
                out[i] = GeneratedText.stored(
                    "summary", items[i].id, terms, bucket, key, value, hit=True, start=start
                )
            else:
                out[i] = recall(key) if recall is not None else None
        return out

    def headlines(
        self, item_id: str, n: int = 3, *, max_length: int | None = None
    ) -> GeneratedText:
        """`n` headline variants (not personalised: every reader shares them), best first by
        the store's headline click model when there is one (`HeadlineRanker.rank`: when
        served, not cached, so a newly trained model reorders cached variants at once)."""
        item = self._item("headlines", item_id, max_length)
        request = HeadlineRequest(
            item.title, clip_body(item.body), n=n, max_length=max_length, language=item.language
        )
        params = {"n": n, "max_length": max_length}
        served = self._serve("headlines", item, (), params, self.generator.headlines, request)
        return self._ranking.rank(served, item)

    def ad_copy(
        self,
        item_id: str,
        *,
        audience: str | None = None,
        user_id: str | None = None,
        campaign: str = "",
        max_length: int | None = None,
    ) -> GeneratedText:
        """Ad copy for the item as a product (its title, body and attributes), aimed at
        `audience`, or at the reader's bucket."""
        item = self._item("ad_copy", item_id, max_length)
        terms: tuple[str, ...] = ()
        body = clip_body(item.body)
        text = f"{item.title}\n{body}"
        if audience is None:  # in the item's language: an English one ends up in Chinese copy
            terms = self.profile_terms(user_id, Purpose.ADS)
            audience = default_audience(item.language, terms, text=text)
        request = AdCopyRequest.from_mapping(
            item.title,
            body,
            audience,
            item.attributes,  # the product's facts: a true "2 kW" was rejected without them
            campaign=campaign,
            max_length=max_length,
            language=item.language,
        )
        params = {"audience": audience, "campaign": campaign, "max_length": max_length}

        def anyone() -> dict[str, Any]:  # when it stands in (an untagged body's language: 0.1 s)
            return params | {"audience": default_audience(item.language, (), text=text)}

        general = anyone if terms else None  # the copy was aimed at the reader's interests
        return self._serve("ad_copy", item, terms, params, self.generator.ad_copy, request, general)

    def product_description(self, item_id: str, *, max_length: int | None = None) -> GeneratedText:
        """A description written from the item's attributes (category and tags included)."""
        item = self._item("product_description", item_id, max_length)
        attributes: dict[str, object] = {}
        if item.category:
            attributes["category"] = item.category
        if item.tags:  # a list: joined in the item's language (", " or "、")
            attributes["tags"] = list(item.tags)
        attributes.update(item.attributes)
        request = ProductDescriptionRequest.from_mapping(
            item.title, attributes, max_length=max_length, language=item.language
        )
        return self._serve(
            "product_description",
            item,
            (),
            {"max_length": max_length},
            self.generator.product_description,
            request,
        )

    def _item(self, task: str, item_id: str, max_length: int | None) -> Item:
        """The stored item, refused by id (not by an internal request field) when the task
        has no text of it to write from; a length budget above `MAX_LENGTH` is refused."""
        check_max_length(max_length)
        item = self.store.catalogue.get(item_id)
        why = missing_text(task, item)
        if why is not None:
            raise InvalidInput(why, field="item_id")
        return item

    def generate(self, task: str, item_id: str, user_id: str | None = None) -> GeneratedText:
        """Run `task` with default parameters (the batch job's entry point)."""
        task = _task_name(task)
        if task == "summary":
            return self.summary(item_id, user_id)
        if task == "headlines":
            return self.headlines(item_id)
        if task == "ad_copy":
            return self.ad_copy(item_id, user_id=user_id)
        if task == "product_description":
            return self.product_description(item_id)
        raise InvalidInput(f"unknown task {task!r}: use one of {', '.join(TASKS)}", field="task")

    def generate_batch(
        self,
        task: str,
        item_ids: Sequence[str] | None = None,
        *,
        limit: int | None = None,
        progress: bool | None = None,
        stop_after: int = STOP_AFTER_BACKEND_FAILURES,
    ) -> BatchReport:
        """Fill the cache for `task` over `item_ids` (default: every full item, in id order).

        Items already cached cost a lookup only, so an interrupted batch resumes where it
        stopped. Summaries are generated for the no-profile bucket. Items deleted while it
        runs are counted as skipped; items the backend failed on (not cached) as
        `backend_failed`, with the first error. After `stop_after` such failures in a row
        (0: never) the batch stops; the rest are `not_attempted`.
        """
        task = _task_name(task)
        if limit is not None and limit < 0:
            raise InvalidInput(f"must not be negative, got {limit}", field="limit")
        ids = (
            list(item_ids)
            if item_ids is not None
            else self.store.catalogue.ids(include_stubs=False)
        )
        if limit is not None:
            ids = ids[:limit]
        show = self.settings.progress if progress is None else progress
        start = time.perf_counter()
        if stop_after < 0:
            raise InvalidInput(f"must not be negative, got {stop_after}", field="stop_after")
        tally = BatchTally(stop_after)
        with self.patient():  # one item at a time: it waits for the model, never turned away
            for item_id in tqdm(ids, desc=f"generate {task}", unit="item", disable=not show):
                if tally.stalled:
                    break
                self._batch_item(task, item_id, tally)
        return tally.report(task, len(ids), time.perf_counter() - start)

    def _batch_item(self, task: str, item_id: str, tally: BatchTally) -> None:
        """One item of `generate_batch`, tallied."""
        try:
            item = self.store.catalogue.get(item_id)
            if missing_text(task, item) is not None:  # legal (a title may be empty)
                tally.skip()
                return
            out = self.generate(task, item_id)
        except NotFound:  # deleted (a tombstone) since listed: counted; a typo is not
            if not self.store.catalogue.deleted([item_id]):
                raise
            tally.skip()
            return
        tally.add(out)

    def patient(self) -> AbstractContextManager[None]:
        """Within this block the calling thread's model runs wait their turn however many are
        pending (`llm/admission`): for background writers, one thread each."""
        return self.generator.admission.patient()

    def warm(self) -> dict[str, float]:
        """Load everything a first request would otherwise load (the model, the guardrails'
        encoders, the headline click model and its encoders); seconds per part."""
        seconds = self.generator.warm()
        start = time.perf_counter()
        found = self._ranking.model()  # the newest click model, loaded once per version
        if found is not None:
            model, _ = found
            model.predict_proba(["warm"], None, [""], encoder=encoder_for(model, self.encoder))
            seconds["click_model"] = time.perf_counter() - start
        return seconds

    # ------------------------------------------------------------------ cache

    def _serve(
        self,
        task: str,
        item: Item,
        terms: tuple[str, ...],
        params: dict[str, Any],
        run: Callable[[Any], GenerationResult],
        request: object,
        general: Callable[[], dict[str, Any]] | None = None,
    ) -> GeneratedText:
        """The cached text, or the one written now; `general` gives the parameters of the text
        for anyone, standing in when the model gives none (busy or down: `_stand_in`)."""
        start = time.perf_counter()
        bucket = self.bucket_of(terms)
        key = self.cache_key(task, item, bucket, params)  # hashes the content: once
        cached = self._read(task, item, terms, bucket, key, start)
        if cached is not None:
            return cached

        def write() -> GeneratedText:
            # Admitted (`llm/admission`) before the claim: a request turned away writes
            # nothing to the store, so a burst does not queue on its write lock either.
            if self.generator.backend is None:  # no model to wait for: the fallback is it
                return claimed_write()
            personal = general if bucket != NO_PROFILE else None
            with self.generator.admission.enter() as admitted:
                if not admitted:  # the model is busy: unclaimed and uncached
                    stand_in = self._stand_in(task, item, personal, start, error=None)
                    return stand_in or self._write(
                        task, item, terms, bucket, key, run, request, start
                    )
                down = self.generator.breaker.refusal()  # known down: no fallback to discard
                if down and (stand_in := self._stand_in(task, item, personal, start, error=down)):
                    return stand_in
                served = claimed_write()
                if served.backend_error is None:
                    return served
                error = served.backend_error  # down: the text for anyone beats the fallback
                return self._stand_in(task, item, personal, start, error=error) or served

        def claimed_write() -> GeneratedText:
            # a request that led the same key may have finished since this one missed, here
            # or in another process (which this one waits for while it holds the claim)
            served, _ = run_claimed(
                self.store.text_cache,
                key,
                owner=str(self._owner),
                seconds=self.settings.llm.claim_s,
                cached=lambda: self._read(task, item, terms, bucket, key, start),
                run=lambda: self._write(task, item, terms, bucket, key, run, request, start),
                wanted=lambda: self.store.catalogue.get(item.id),  # NotFound once deleted
            )
            return served

        served, shared = self._flights.run(key, write)
        if not shared:
            return served
        # Another request wrote this text while this one waited: read back from the cache
        # (a hit), or, for an outage's fallback (not cached), served as that request got it.
        again = self._read(task, item, terms, bucket, key, start)
        if again is None and served.profile_bucket != bucket:  # a busy answer's stand-in
            return replace(served, seconds=time.perf_counter() - start)
        return replace(again or served, interests=terms, seconds=time.perf_counter() - start)

    def _stand_in(
        self,
        task: str,
        item: Item,
        params: Callable[[], dict[str, Any]] | None,
        start: float,
        *,
        error: str | None,
    ) -> GeneratedText | None:
        """The next best answer to a personalised request (a summary, or ad copy aimed at the
        reader's interests) when the model gives none, busy (`error` None) or failing
        (`error`): the cached text for no particular reader (a batch writes them), the
        model's own, in milliseconds, where the extractive fallback takes seconds of CPU the
        model is using. None when the cache lacks it or `params` is None (no such text: not
        personalised, or ad copy for an audience the request names, an advertiser's brief)."""
        if params is None:
            return None
        key = self.cache_key(task, item, NO_PROFILE, params())
        general = self._read(task, item, (), NO_PROFILE, key, start)
        if general is None:
            return None
        what = "the summary" if task == "summary" else "the ad copy"
        served = f"{what} for no particular reader"
        busy = self.generator.admission.busy_message
        why = busy(served) if error is None else f"{error}; served {served}"
        return replace(general, backend_error=why)

    def _write(
        self,
        task: str,
        item: Item,
        terms: tuple[str, ...],
        bucket: str,
        key: str,
        run: Callable[[Any], GenerationResult],
        request: object,
        start: float,
    ) -> GeneratedText:
        """Run the model (or the fallback) and cache what it wrote."""
        result: GenerationResult = run(request)
        value = {
            "outputs": list(result.outputs),
            "produced_by": list(result.produced_by),
            "backend": result.backend,
            "fallback": result.fallback,
            "language": result.language,
            "failed_checks": list(result.failed_checks),
            "fallback_failed_checks": list(result.fallback_failed_checks),
            "generation_seconds": result.seconds,
            "unfilled": result.unfilled,
        }
        # An answer the backend could not give (server down, model failed to load) is served
        # from the fallback but not cached: the next request asks the model again, rather than
        # the outage's text being served until the item changes.
        if "backend" not in result.failed_checks:
            meta = {"task": task, "item_id": item.id, "bucket": bucket, "model": self.model_name}
            self.store.text_cache.put(key, json.dumps(value, ensure_ascii=False), meta)
            self._settle(task, item.id)
        else:
            value["backend_error"] = result.backend_error
        served = GeneratedText.stored
        return served(task, item.id, terms, bucket, key, value, hit=False, start=start)

    def _read(
        self, task: str, item: Item, terms: tuple[str, ...], bucket: str, key: str, start: float
    ) -> GeneratedText | None:
        """The cached text under `key`, or None; `start` is when serving it began."""
        cached = self.store.text_cache.get(key)
        if cached is None:
            return None
        value = json.loads(cached.value)
        return GeneratedText.stored(task, item.id, terms, bucket, key, value, hit=True, start=start)

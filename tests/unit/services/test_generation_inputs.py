"""What a generation request reads and what it may ask for, on a real SQLite store holding the
bundled Wikinews articles (extractive generator): the reader's profile, the item's text, the
length budget, and what the service reports when it could not write every output."""

from __future__ import annotations

import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedcraft.config import Settings
from feedcraft.domain import Event, EventType, Item
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput
from feedcraft.llm import GenerationResult, Generator
from feedcraft.llm.tasks import PreparedTask
from feedcraft.services.generation import GenerationService
from feedcraft.services.generation_limits import MAX_BODY_CHARS, MAX_LENGTH, clip_body
from feedcraft.services.ingestion import import_jsonl
from feedcraft.storage import Store

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
RAIN = (
    "Heavy rain flooded several streets of the city centre overnight. Police closed two "
    "bridges and asked drivers to stay at home. Schools in three districts stayed shut. "
)
NFC, NFD = unicodedata.normalize("NFC", "Économie"), unicodedata.normalize("NFD", "Économie")


class RecordingGenerator(Generator):
    """The real generator, keeping the source text of every task it ran."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.sources: list[str] = []

    def run(self, task: PreparedTask) -> GenerationResult:
        self.sources.append(task.source)
        return super().run(task)


@pytest.fixture
def service(store: Store, wikinews_dir: Path, llm_settings: Settings) -> GenerationService:
    import_jsonl(store, wikinews_dir, progress=False)
    encoder = HashingEncoder(256)
    return GenerationService(
        store, llm_settings, encoder, generator=RecordingGenerator(None, encoder)
    )


def sources(service: GenerationService) -> list[str]:
    assert isinstance(service.generator, RecordingGenerator)
    return service.generator.sources


def events(store: Store, user: str, kind: EventType, items: list[str], start: int = 0) -> None:
    store.events.append(
        Event(user, item, kind, T0 + timedelta(minutes=start + i)) for i, item in enumerate(items)
    )


def items_in(store: Store, category: str) -> list[str]:
    return [i.id for i in store.catalogue.iter_items(include_stubs=False) if i.category == category]


# ---------------------------------------------------------------------------- profiles


def test_items_only_shown_to_a_reader_are_not_their_interests(service: GenerationService) -> None:
    store = service.store
    europe, us = items_in(store, "Europe"), items_in(store, "United States")
    politics = items_in(store, "Politics and conflicts")
    events(store, "u1", EventType.CLICK, europe[:3])
    events(store, "u1", EventType.IMPRESSION, us[:6], start=10)
    events(store, "u1", EventType.AD_IMPRESSION, politics[:6], start=30)
    out = service.summary(europe[4], "u1")
    assert out.interests == ("Europe",) and out.profile_bucket == "europe"
    ad = service.ad_copy(europe[4], user_id="u1")
    assert ad.interests == ("Europe",)
    events(store, "shown-only", EventType.IMPRESSION, us[:6])
    assert service.profile_terms("shown-only") == ()


def test_one_category_in_two_unicode_forms_is_one_interest(service: GenerationService) -> None:
    store = service.store
    store.catalogue.upsert(
        [
            Item(id=f"nfc-{k}", title=f"Markets rally, day {k}", body=RAIN, category=NFC)
            for k in "ab"
        ]
        + [
            Item(id=f"nfd-{k}", title=f"Markets fall, day {k}", body=RAIN, category=NFD)
            for k in "ab"
        ]
        + [Item(id="sport", title="The cup final", body=RAIN, category="Sport")]
    )
    events(store, "ann", EventType.CLICK, ["nfc-a", "nfc-b"])
    events(store, "bob", EventType.CLICK, ["nfd-a", "nfd-b"])
    ann = service.summary("wikinews-010", "ann")
    bob = service.summary("wikinews-010", "bob")
    assert ann.interests == bob.interests == (NFC,)
    assert bob.cache_hit and bob.cache_key == ann.cache_key
    assert service.store.text_cache.count() == 1
    # counted together: 2 of Économie (one of each form) outrank 1 of Sport
    events(store, "cat", EventType.CLICK, ["nfc-a", "nfd-a", "sport"])
    narrow = GenerationService(store, service.settings, service.encoder, interests=1)
    assert narrow.profile_terms("cat") == (NFC,)
    assert GenerationService.bucket_of([NFD]) == GenerationService.bucket_of([NFC.upper()])


# ---------------------------------------------------------------------------- bounds


def test_clip_body_cuts_at_a_sentence_a_space_or_the_limit() -> None:
    assert clip_body(RAIN) == RAIN
    clipped = clip_body(RAIN * 5_000)
    assert len(clipped) <= MAX_BODY_CHARS and clipped.endswith(".")
    assert len(clipped) > MAX_BODY_CHARS - 2_000
    words = clip_body("word " * 100, limit=33)
    assert words == ("word " * 6).rstrip()
    chinese = clip_body("北京地铁十九号线今天正式开通运营。" * 50, limit=100)
    assert chinese.endswith("。") and len(chinese) <= 100
    marks = clip_body("e\u0301" * 20, limit=9)  # never a letter without its accent
    assert marks == "e\u0301" * 4


def test_a_huge_body_is_clipped_before_the_task_reads_it(service: GenerationService) -> None:
    body = RAIN * 2_000  # 340,000 characters
    service.store.catalogue.upsert([Item(id="huge", title="Big report", body=body)])
    start = time.perf_counter()
    out = service.summary("huge")
    took = time.perf_counter() - start
    assert out.outputs
    (source,) = sources(service)
    assert MAX_BODY_CHARS - 2_000 < len(source) <= MAX_BODY_CHARS + len("Title: Big report\n")
    assert source.endswith(".")  # a whole sentence
    assert took < 60  # the whole body took minutes (42 s for 3.6 MB over HTTP)


def test_a_length_budget_above_the_maximum_is_refused_by_name(
    service: GenerationService,
) -> None:
    calls = [
        lambda n: service.summary("wikinews-001", max_length=n),
        lambda n: service.headlines("wikinews-001", max_length=n),
        lambda n: service.ad_copy("wikinews-001", audience="runners", max_length=n),
        lambda n: service.product_description("wikinews-001", max_length=n),
        lambda n: service.cached_summaries(["wikinews-001"], max_length=n),
    ]
    for call in calls:
        with pytest.raises(InvalidInput, match=f"at most {MAX_LENGTH}") as err:
            call(MAX_LENGTH + 1)
        assert err.value.field == "max_length"
    assert service.summary("wikinews-001", max_length=MAX_LENGTH).outputs


@pytest.mark.parametrize(
    "item",
    [Item(id="emoji", title="🎉🎉🎉"), Item(id="emoji", title="🎉", body="🎉🎉 ✨ — !")],
)
def test_an_item_of_emoji_only_is_refused_by_id_for_every_task(
    service: GenerationService, item: Item
) -> None:
    service.store.catalogue.upsert([item])
    tasks = ("summary", "headlines", "ad_copy", "product_description")
    for task in tasks:
        with pytest.raises(InvalidInput) as err:
            service.generate(task, "emoji")
        assert err.value.field == "item_id"
        assert "item 'emoji' has no words to write from" in str(err.value)
    assert service.store.text_cache.count() == 0  # nothing served, nothing cached
    assert service.generate_batch("ad_copy", ["emoji", "wikinews-001"]).skipped == 1
    assert service.cached_summaries(["emoji", "wikinews-001"]) == {"wikinews-001": None}


def test_a_product_named_in_emoji_is_refused_though_its_body_has_words(
    service: GenerationService,
) -> None:
    service.store.catalogue.upsert([Item(id="party", title="🎉🎉", body=RAIN)])
    assert service.summary("party").outputs  # the body is an article to summarise
    for task in ("ad_copy", "product_description"):
        with pytest.raises(InvalidInput, match="'party' has no words in its title") as err:
            service.generate(task, "party")
        assert err.value.field == "item_id"


# ---------------------------------------------------------------------------- reports


def test_outputs_that_could_not_be_written_are_counted(service: GenerationService) -> None:
    service.store.catalogue.upsert([Item(id="short", title="Rain floods the city", body=RAIN)])
    out = service.headlines("short", n=10)
    assert 0 < len(out.outputs) < 10 and out.unfilled == 10 - len(out.outputs)
    again = service.headlines("short", n=10)
    assert again.cache_hit and again.unfilled == out.unfilled
    assert service.headlines("short", n=2).unfilled == 0


# ---------------------------------------------------------------------------- feeds


class KeyCountingService(GenerationService):
    """The real service, counting how often it builds the model part of a cache key."""

    model_keys = 0

    def _model_key(self) -> str:
        self.model_keys += 1
        return super()._model_key()


def test_cached_summaries_read_the_cache_once_for_a_feed(
    store: Store, wikinews_dir: Path, llm_settings: Settings
) -> None:
    import_jsonl(store, wikinews_dir, progress=False)
    service = KeyCountingService(store, llm_settings, HashingEncoder(256))
    ids = store.catalogue.ids(include_stubs=False)[:40]
    written = {i: service.summary(i).cache_key for i in ids[:10]}
    statements: list[str] = []
    store._db.connection().set_trace_callback(statements.append)  # type: ignore[attr-defined]
    service.model_keys = 0
    found = service.cached_summaries(ids)
    reads = [s for s in statements if "FROM text_cache" in s]
    assert len(reads) == 1, reads
    assert service.model_keys == 1
    assert {i for i, g in found.items() if g is not None} == set(written)
    assert all(found[i] is not None and found[i].cache_key == k for i, k in written.items())
    assert all(g is not None and g.cache_hit for g in found.values() if g is not None)

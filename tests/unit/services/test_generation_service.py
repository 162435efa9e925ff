"""GenerationService on a real SQLite store holding the bundled Wikinews articles.

The extractive backend (no model) keeps these fast; one slow test runs the embedded SmolLM2
model through a counting wrapper to show that a cache hit makes no model call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from feedcraft.config import Settings, load_settings
from feedcraft.ctr import HeadlineClickModel
from feedcraft.domain import Event, EventType, Item
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput, NotFound
from feedcraft.llm import (
    Backend,
    Completion,
    GenerationResult,
    Generator,
    Guardrails,
    Message,
    OpenAICompatibleBackend,
    SamplingParams,
)
from feedcraft.llm.guardrails import SimilarityRule
from feedcraft.llm.tasks import PreparedTask
from feedcraft.services.generation import GenerationService
from feedcraft.services.headlines import (
    UPWORTHY_FILE,
    lead_of,
    read_upworthy,
    save_headline_model,
)
from feedcraft.services.ingestion import import_jsonl
from feedcraft.storage import Store
from ports import free_port
from shareddata import shared_path

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
HAN = re.compile(r"[\u4e00-\u9fff]")
CHINESE = Item(
    id="zh-001",
    title="北京地铁新线路开通运营",
    body=(
        "北京地铁十九号线今天正式开通运营，全长二十二公里，共设十座车站。"
        "新线路连接城市北部和南部，预计每天客流量超过十万人次。"
        "市交通委员会表示，新线路将缓解现有线路的拥挤状况。"
        "乘客可以使用交通卡或手机扫码进站。"
    ),
    category="城市",
    language="zh",
)


class CountingGenerator(Generator):
    """The real generator, counting how many tasks it actually ran."""

    runs = 0

    def run(self, task: PreparedTask) -> GenerationResult:
        self.runs += 1
        return super().run(task)


@pytest.fixture
def loaded(store: Store, wikinews_dir: Path) -> Store:
    import_jsonl(store, wikinews_dir, progress=False)
    store.catalogue.upsert([CHINESE])
    return store


@pytest.fixture
def service(loaded: Store, llm_settings: Settings) -> GenerationService:
    encoder = HashingEncoder(256)
    return GenerationService(
        loaded, llm_settings, encoder, generator=CountingGenerator(None, encoder)
    )


def runs(service: GenerationService) -> int:
    assert isinstance(service.generator, CountingGenerator)
    return service.generator.runs


def read(store: Store, user: str, items: Sequence[str]) -> None:
    store.events.append(
        Event(user, item, EventType.CLICK, T0 + timedelta(minutes=i))
        for i, item in enumerate(items)
    )


def items_in(store: Store, category: str) -> list[str]:
    return [i.id for i in store.catalogue.iter_items(include_stubs=False) if i.category == category]


def test_second_call_is_a_cache_hit_without_running_the_generator(
    service: GenerationService,
) -> None:
    first = service.summary("wikinews-001")
    assert not first.cache_hit and runs(service) == 1
    assert first.outputs and first.outputs[0]
    assert first.fallback and first.backend.startswith("extractive")
    second = service.summary("wikinews-001")
    assert second.cache_hit and runs(service) == 1
    assert second.outputs == first.outputs and second.cache_key == first.cache_key
    assert second.generation_seconds == first.generation_seconds
    assert service.store.text_cache.count() == 1


def test_parameters_and_tasks_get_their_own_entries(service: GenerationService) -> None:
    two = service.headlines("wikinews-002", n=2)
    three = service.headlines("wikinews-002", n=3)
    assert len(two.outputs) == 2 and len(three.outputs) == 3
    assert not three.cache_hit and two.cache_key != three.cache_key
    summary = service.summary("wikinews-002")
    assert not summary.cache_hit
    assert service.headlines("wikinews-002", n=2).cache_hit
    assert runs(service) == 3


def test_editing_the_item_changes_the_key(service: GenerationService) -> None:
    store = service.store
    before = service.summary("wikinews-003")
    item = store.catalogue.get("wikinews-003")
    edited = "Correction: the meeting took place on Friday. " + item.body
    store.catalogue.upsert([replace(item, body=edited)])
    after = service.summary("wikinews-003")
    assert not after.cache_hit and after.cache_key != before.cache_key
    assert runs(service) == 2
    assert store.text_cache.get(before.cache_key) is None  # never servable again: dropped
    # a change the model does not read (the image) keeps the entry
    store.catalogue.upsert([replace(store.catalogue.get("wikinews-003"), image_url="http://x/y")])
    assert service.summary("wikinews-003").cache_hit
    assert service.forget_item("wikinews-003") == 1
    assert not service.summary("wikinews-003").cache_hit


def test_a_new_generation_revision_writes_the_text_again(
    service: GenerationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts cached by an older feedcraft (other prompts, another fallback) are not served."""
    import feedcraft.services.generation as generation

    before = service.headlines("wikinews-006", n=2)
    monkeypatch.setattr(generation, "GENERATION_REVISION", generation.GENERATION_REVISION + 1)
    after = service.headlines("wikinews-006", n=2)
    assert not after.cache_hit and after.cache_key != before.cache_key and runs(service) == 2
    assert service.headlines("wikinews-006", n=2).cache_hit


def test_prune_drops_what_can_never_be_served(
    service: GenerationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feedcraft.services.generation as generation

    store = service.store
    kept = service.summary("wikinews-007")
    edited = service.summary("wikinews-008")
    gone = service.headlines("wikinews-009", n=2)
    item = store.catalogue.get("wikinews-008")
    store.catalogue.upsert([replace(item, body="Correction first. " + item.body)])  # edited
    store.catalogue.delete(["wikinews-009"])  # gone, by a path that left its texts behind
    assert store.text_cache.count() == 3
    report = service.prune_cache()
    assert (report.examined, report.removed_stale, report.removed_other_models) == (3, 2, 0)
    assert store.text_cache.get(kept.cache_key) is not None
    assert store.text_cache.get(edited.cache_key) is None
    assert store.text_cache.get(gone.cache_key) is None
    # another revision (or model, or guardrail settings): kept unless asked
    monkeypatch.setattr(generation, "GENERATION_REVISION", generation.GENERATION_REVISION + 1)
    newer = service.summary("wikinews-007")
    assert service.prune_cache().removed_other_models == 0 and store.text_cache.count() == 2
    report = service.prune_cache(other_models=True)
    assert (report.examined, report.removed_other_models) == (2, 1)
    assert store.text_cache.get(newer.cache_key) is not None
    assert store.text_cache.get(kept.cache_key) is None


def test_readers_with_the_same_interests_share_a_bucket(service: GenerationService) -> None:
    store = service.store
    us = items_in(store, "United States")
    europe = items_in(store, "Europe")
    assert len(us) >= 6 and len(europe) >= 4
    read(store, "ann", us[:3] + europe[:2])
    read(store, "bob", us[3:6] + europe[2:4])  # other articles, same categories
    read(store, "cat", europe[:3])
    target = "wikinews-010"

    ann = service.summary(target, "ann")
    assert ann.interests == ("Europe", "United States")
    assert ann.profile_bucket == "europe|united states"
    bob = service.summary(target, "bob")
    assert bob.cache_hit and bob.cache_key == ann.cache_key and runs(service) == 1
    cat = service.summary(target, "cat")
    assert not cat.cache_hit and cat.interests == ("Europe",)
    anyone = service.summary(target)
    assert anyone.profile_bucket == "any" and not anyone.cache_hit
    assert service.summary(target, "nobody-with-history").cache_key == anyone.cache_key


def test_erasing_a_user_leaves_no_entry_of_theirs(service: GenerationService) -> None:
    store = service.store
    read(store, "user-to-erase", items_in(store, "United States")[:3])
    out = service.summary("wikinews-004", "user-to-erase")
    assert "user-to-erase" not in out.cache_key
    entry = store.text_cache.get(out.cache_key)
    assert entry is not None
    assert "user-to-erase" not in entry.value + str(dict(entry.metadata))
    store.events.delete_user("user-to-erase")
    # the bucket entry stays (shared by every reader of those interests), but the user's
    # profile is gone: they are now served the no-profile entry
    assert service.summary("wikinews-004", "user-to-erase").profile_bucket == "any"


def test_chinese_item_gives_chinese_output(service: GenerationService) -> None:
    out = service.summary("zh-001")
    assert out.language == "zh"
    assert all(HAN.search(text) for text in out.outputs)
    heads = service.headlines("zh-001", n=2)
    assert all(HAN.search(text) for text in heads.outputs)


def _click_model(alpha: float) -> HeadlineClickModel:
    """A headline click model of the store's encoder, on four real Upworthy weeks."""
    archive = read_upworthy(shared_path(UPWORTHY_FILE))
    tw = archive.test_weeks
    weeks = archive.subset((tw >= 201440) & (tw <= 201443))
    model = HeadlineClickModel(
        encoder="hashing-256", fields=("headline", "lede"), alpha=alpha, max_iter=50
    )
    return model.fit(weeks, encoder=HashingEncoder(256))


def test_headlines_are_served_best_first_by_the_stores_click_model(
    service: GenerationService,
) -> None:
    before = service.headlines("wikinews-004", n=3)
    assert len(before.outputs) >= 2
    assert before.p_click == () and before.ranked_by == ""  # no click model yet
    model = _click_model(0.1)
    version = save_headline_model(service.store, model, {})
    after = service.headlines("wikinews-004", n=3)
    assert after.cache_hit and runs(service) == 1  # the same text, ranked as it is served
    assert sorted(after.outputs) == sorted(before.outputs)
    by_text = dict(zip(before.outputs, before.produced_by, strict=True))
    assert after.produced_by == tuple(by_text[t] for t in after.outputs)
    assert list(after.p_click) == sorted(after.p_click, reverse=True)
    lede = lead_of(service.store.catalogue.get("wikinews-004").body)
    assert 0 < len(lede.split()) <= 60
    expected = model.predict_proba(list(after.outputs), None, [lede] * len(after.outputs))
    np.testing.assert_allclose(after.p_click, expected, rtol=1e-9)
    assert f"v{version}" in after.ranked_by
    # a newer model is used at once; Chinese output is never scored by the English model
    newer = save_headline_model(service.store, _click_model(10.0), {})
    assert f"v{newer}" in service.headlines("wikinews-004", n=3).ranked_by
    chinese = service.headlines("zh-001", n=2)
    assert chinese.outputs and chinese.p_click == () and chinese.ranked_by == ""


def test_ad_copy_and_product_description(service: GenerationService) -> None:
    ad = service.ad_copy("wikinews-005", audience="commuters")
    assert ad.outputs and service.ad_copy("wikinews-005", audience="commuters").cache_hit
    assert not service.ad_copy("wikinews-005", audience="students").cache_hit
    desc = service.product_description("wikinews-005")
    assert desc.task == "product_description" and desc.outputs


def test_batch_fills_the_cache_and_resumes(service: GenerationService) -> None:
    first = service.generate_batch("summary", limit=4, progress=False)
    assert (first.items, first.generated, first.cache_hits) == (4, 4, 0)
    again = service.generate_batch("summary", limit=6, progress=False)
    assert (again.items, again.generated, again.cache_hits) == (6, 2, 4)
    assert runs(service) == 6
    with pytest.raises(InvalidInput):
        service.generate_batch("poem")


def test_unknown_item_is_not_found(service: GenerationService) -> None:
    with pytest.raises(NotFound):
        service.summary("no-such-item")


class CountingBackend:
    """A real backend, counting its chat calls."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.calls = 0

    @property
    def name(self) -> str:
        return self.inner.name

    def chat(self, messages: Sequence[Message], params: SamplingParams | None = None) -> Completion:
        self.calls += 1
        return self.inner.chat(messages, params)

    def stream(
        self, messages: Sequence[Message], params: SamplingParams | None = None
    ) -> Iterator[str]:
        return self.inner.stream(messages, params)

    def generate(
        self, prompt: str, params: SamplingParams | None = None, *, system: str | None = None
    ) -> Completion:
        self.calls += 1
        return self.inner.generate(prompt, params, system=system)


@pytest.mark.slow
def test_smollm2_cache_hit_makes_no_model_call(loaded: Store, tmp_path: Path) -> None:
    pytest.importorskip("xllamacpp")
    from feedcraft.llm import LlamaCppBackend

    threads = int(os.environ.get("FEEDCRAFT_TEST_LLM_THREADS", "1"))
    backend = CountingBackend(LlamaCppBackend(n_threads=threads, n_ctx=2048))
    encoder = HashingEncoder(256)
    settings = load_settings(store=loaded.url, embedding={"model": "hashing"}, progress=False)
    service = GenerationService(
        loaded,
        settings,
        encoder,
        generator=Generator(backend, encoder, max_attempts=1),
    )
    first = service.summary("wikinews-001")
    assert not first.cache_hit and backend.calls >= 1 and first.outputs
    assert service.model_name.startswith("llamacpp:smollm2")
    calls = backend.calls
    second = service.summary("wikinews-001")
    assert second.cache_hit and backend.calls == calls
    assert second.outputs == first.outputs and second.produced_by == first.produced_by
    assert second.seconds < first.seconds


def test_profile_buckets_never_collide(service: GenerationService) -> None:
    """Terms are joined by "|", so a "|" (or "%") inside a term is escaped."""
    assert service.bucket_of(("a|b",)) != service.bucket_of(("a", "b"))
    assert service.bucket_of(("a%7Cb",)) != service.bucket_of(("a|b",))
    assert service.bucket_of(("Europe", "United States")) == "europe|united states"


def test_an_answer_the_backend_could_not_give_is_not_cached(
    loaded: Store, llm_settings: Settings
) -> None:
    """A server outage is answered by the fallback, but the next request asks the model
    again instead of serving the outage's text until the item changes."""
    encoder = HashingEncoder(256)
    down = OpenAICompatibleBackend(f"http://127.0.0.1:{free_port()}", max_retries=0, backoff=0)
    generator = CountingGenerator(down, encoder)
    service = GenerationService(loaded, llm_settings, encoder, generator=generator)
    first = service.summary("wikinews-001")
    assert first.fallback and "backend" in first.failed_checks and first.outputs
    assert loaded.text_cache.get(first.cache_key) is None
    second = service.summary("wikinews-001")
    assert not second.cache_hit and generator.runs == 2


def test_the_multilingual_similarity_rule_is_part_of_the_key(
    loaded: Store, llm_settings: Settings
) -> None:
    encoder = HashingEncoder(256)

    def key(rule: SimilarityRule | None) -> str:
        rails = Guardrails(encoder, multilingual=rule)
        generator = Generator(None, encoder, guardrails=rails)
        service = GenerationService(loaded, llm_settings, encoder, generator=generator)
        return service.cache_key("summary", CHINESE, "any", {})

    keys = {
        key(None),
        key(SimilarityRule(encoder, 0.1)),
        key(SimilarityRule(encoder, 0.2)),
        key(SimilarityRule(HashingEncoder(128), 0.1)),
    }
    assert len(keys) == 4


def test_the_backends_extra_request_fields_are_part_of_the_key(
    loaded: Store, llm_settings: Settings
) -> None:
    """`extra_body` (a repeat penalty, a temperature) changes what the model writes."""
    encoder = HashingEncoder(256)

    def key(extra: dict[str, object] | None) -> str:
        backend = OpenAICompatibleBackend("http://127.0.0.1:9/v1", extra_body=extra)
        generator = Generator(backend, encoder)
        service = GenerationService(loaded, llm_settings, encoder, generator=generator)
        return service.cache_key("summary", CHINESE, "any", {})

    assert key(None) == key({})
    assert len({key(None), key({"repeat_penalty": 1.1}), key({"repeat_penalty": 1.3})}) == 3


def test_a_model_revision_keeps_texts_of_swapped_weights_from_being_served(
    loaded: Store, llm_settings: Settings
) -> None:
    """An HTTP server may swap the weights behind one model name; `[llm] model_revision`
    says so, and texts cached before are not served (nor kept by prune --other-models)."""
    encoder = HashingEncoder(256)

    def service(revision: str) -> GenerationService:
        llm = llm_settings.llm.model_copy(update={"model_revision": revision})
        settings = llm_settings.model_copy(update={"llm": llm})
        return GenerationService(loaded, settings, encoder, generator=Generator(None, encoder))

    unset, old = service(""), service("weights-2026-11")
    assert unset.cache_key("summary", CHINESE, "any", {}) == GenerationService(
        loaded, llm_settings, encoder, generator=Generator(None, encoder)
    ).cache_key("summary", CHINESE, "any", {})  # unset: the keys written before still match
    assert not old.summary("wikinews-002").cache_hit
    assert old.summary("wikinews-002").cache_hit
    new = service("weights-2026-12")
    assert not new.summary("wikinews-002").cache_hit
    assert new.prune_cache(other_models=True).removed_other_models == 1
    assert not old.summary("wikinews-002").cache_hit


def test_fallback_failures_are_served_with_the_text(loaded: Store, llm_settings: Settings) -> None:
    encoder = HashingEncoder(256)
    rails = Guardrails(encoder, min_similarity=0.99)  # no extract is that close to the source
    service = GenerationService(
        loaded, llm_settings, encoder, generator=Generator(None, encoder, guardrails=rails)
    )
    out = service.summary("wikinews-002")
    assert out.fallback and "similarity" in out.fallback_failed_checks
    assert service.summary("wikinews-002").fallback_failed_checks == out.fallback_failed_checks


def test_an_item_without_text_is_refused_by_id_and_skipped_by_a_batch(
    service: GenerationService,
) -> None:
    """A title may be empty (the JSONL format says so): the error names the item, not an
    internal request field, and a batch counts such items instead of stopping at them."""
    store = service.store
    store.catalogue.upsert(
        [Item(id="aaa-empty", title="", body=" "), Item(id="aab-body", title="", body="x")]
    )
    with pytest.raises(InvalidInput, match="'aaa-empty' has no title or body") as err:
        service.summary("aaa-empty")
    assert err.value.field == "item_id"
    with pytest.raises(InvalidInput, match="'aab-body' has no title"):
        service.ad_copy("aab-body", audience="runners")
    report = service.generate_batch("summary", ["aaa-empty", "aab-body", "wikinews-001"])
    assert (report.items, report.generated, report.skipped) == (3, 2, 1)
    assert "1 skipped" in report.summary()
    described = service.generate_batch("description", ["aab-body", "wikinews-001"])
    assert described.task == "product_description" and described.skipped == 1
    assert service.generate("ad-copy", "wikinews-001").task == "ad_copy"


class RecordingGenerator(Generator):
    """The real generator, keeping the tasks it was given."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.tasks: list[PreparedTask] = []

    def run(self, task: PreparedTask) -> GenerationResult:
        self.tasks.append(task)
        return super().run(task)


def test_ad_copy_reads_the_products_attributes_and_speaks_its_language(
    loaded: Store, llm_settings: Settings
) -> None:
    """A Chinese prompt said "受众: general readers" (and mixed copy passed), and a product's
    attributes never reached the prompt or the source the guardrails check."""
    encoder = HashingEncoder(256)
    generator = RecordingGenerator(None, encoder)
    service = GenerationService(loaded, llm_settings, encoder, generator=generator)
    kettle = Item(
        id="kettle-zh",
        title="不锈钢电水壶",
        body="一款适合家庭厨房使用的电水壶。",
        language="zh",
        attributes={"power": "2 kW", "容量": "1.7升"},
    )
    loaded.catalogue.upsert([kettle])
    service.ad_copy("kettle-zh")
    data = generator.tasks[-1].messages[-1].content
    assert "受众: 普通读者" in data and "general readers" not in data
    assert "2 kW" in data and "1.7升" in data and "2 kW" in generator.tasks[-1].source
    service.ad_copy("wikinews-005")
    assert "Audience: general readers" in generator.tasks[-1].messages[-1].content

"""`generate_batch` tells an outage (the backend failed: nothing cached) from work done."""

from __future__ import annotations

import pytest

from feedcraft.config import Settings
from feedcraft.domain import Item
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput
from feedcraft.llm import Generator, OpenAICompatibleBackend
from feedcraft.services.generation import BatchReport, GenerationService
from feedcraft.storage import Store

IDS = ["aaa-empty", "wikinews-001", "wikinews-002", "wikinews-003"]
DEAD = "http://127.0.0.1:9/v1"  # the discard port: nothing listens


@pytest.fixture
def down(loaded: Store, llm_settings: Settings) -> GenerationService:
    """The service over a server that is down (no retries: the test stays fast)."""
    loaded.catalogue.upsert([Item(id="aaa-empty", title="", body=" ")])
    encoder = HashingEncoder(256)
    backend = OpenAICompatibleBackend(DEAD, max_retries=0, backoff=0)
    return GenerationService(loaded, llm_settings, encoder, generator=Generator(backend, encoder))


def test_a_batch_during_an_outage_reports_backend_failures_not_generated_texts(
    down: GenerationService,
) -> None:
    first = down.generate_batch("summary", IDS, progress=False)
    assert (first.items, first.generated, first.cache_hits, first.skipped) == (4, 0, 0, 1)
    assert (first.backend_failed, first.fallbacks) == (3, 0)
    assert first.backend_error is not None and "127.0.0.1:9" in first.backend_error
    assert first.outage
    assert "3 failed on the backend" in first.summary() and first.backend_error in first.summary()
    # nothing was cached, so a second run reports the same outage, not cache hits
    again = down.generate_batch("summary", IDS, progress=False)
    assert (again.generated, again.cache_hits, again.backend_failed) == (0, 0, 3)
    assert not list(down.store.text_cache.keys())


def test_a_batch_stops_after_backend_failures_in_a_row(down: GenerationService) -> None:
    """A dead server costs a timeout and retries per item: after `stop_after` failures in a
    row the batch stops, the rest not attempted, and the report still says outage."""
    more = [f"wikinews-{i:03d}" for i in range(1, 11)]
    report = down.generate_batch("summary", more, progress=False, stop_after=2)
    assert (report.backend_failed, report.not_attempted, report.generated) == (2, 8, 0)
    assert report.outage and "8 not attempted" in report.summary()
    never = down.generate_batch("summary", more[:4], progress=False, stop_after=0)
    assert (never.backend_failed, never.not_attempted) == (4, 0)
    with pytest.raises(InvalidInput, match="stop_after"):
        down.generate_batch("summary", more, progress=False, stop_after=-1)


def test_guardrail_fallbacks_are_generated_and_cached_not_backend_failures(
    loaded: Store, llm_settings: Settings
) -> None:
    encoder = HashingEncoder(256)
    service = GenerationService(loaded, llm_settings, encoder, generator=Generator(None, encoder))
    first = service.generate_batch("summary", IDS[1:], progress=False)
    assert (first.generated, first.fallbacks, first.backend_failed) == (3, 3, 0)
    assert first.backend_error is None and not first.outage
    assert "backend" not in first.summary()
    again = service.generate_batch("summary", IDS[1:], progress=False)
    assert (again.generated, again.cache_hits, again.backend_failed) == (0, 3, 0)
    assert not again.outage  # nothing asked of the model: no outage to tell


@pytest.mark.parametrize(
    ("generated", "cache_hits", "skipped", "backend_failed", "outage"),
    [
        (0, 0, 1, 3, True),
        (1, 0, 0, 3, False),  # a partial outage: the CLI warns, but the batch did fill some
        (0, 2, 0, 2, True),
        (0, 4, 0, 0, False),
        (0, 0, 4, 0, False),
    ],
)
def test_an_outage_is_every_item_asked_of_the_model_failing(
    generated: int, cache_hits: int, skipped: int, backend_failed: int, outage: bool
) -> None:
    report = BatchReport(
        task="summary",
        items=4,
        generated=generated,
        cache_hits=cache_hits,
        fallbacks=0,
        seconds=0.0,
        skipped=skipped,
        backend_failed=backend_failed,
    )
    assert report.outage is outage

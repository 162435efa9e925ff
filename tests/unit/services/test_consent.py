"""Readers' consent obeyed by feeds and generation, on a real store with real data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from movielens_ratings import write_ratings

from feedcraft.config import Settings
from feedcraft.domain import Event, EventType, Purpose
from feedcraft.embeddings.hashing import HashingEncoder
from feedcraft.errors import InvalidInput
from feedcraft.services.consent import ConsentPolicy
from feedcraft.services.erasure import erase_users
from feedcraft.services.generation import GenerationService
from feedcraft.services.recommend import FeedService
from feedcraft.services.training import train
from feedcraft.storage import Store

READER, NEVER = "1", "never-seen"


def _opt_in(settings: Settings) -> Settings:
    privacy = settings.privacy.model_copy(update={"default_consent": "refused"})
    return settings.model_copy(update={"privacy": privacy})


@pytest.fixture
def trained(store: Store, settings: Settings, shared_path: Callable[[str], Path]) -> Store:
    write_ratings(store, shared_path("movielens-latest-small"), 2000)
    train(store, settings, models=["itemknn"], progress=False)
    return store


def _ids(feeds: FeedService, user: str) -> list[str]:
    return [e.item_id for e in feeds.feed(user, 10, "itemknn").entries]


def test_a_reader_who_objects_gets_the_feed_of_a_reader_never_seen(
    trained: Store, settings: Settings
) -> None:
    feeds = FeedService(trained, settings, "hashing-256")
    mine = feeds.feed(READER, 10, "itemknn")
    assert mine.personalised and any("because you" in e.reason for e in mine.entries)
    assert _ids(feeds, READER) != _ids(feeds, NEVER)

    state = feeds.consent.record(READER, {"personalisation": False})

    assert state.effective == {Purpose.PERSONALISATION: False, Purpose.ADS: True}
    theirs = feeds.feed(READER, 10, "itemknn")
    assert not theirs.personalised and theirs.user_id == READER
    assert [e.item_id for e in theirs.entries] == _ids(feeds, NEVER)
    assert not any("because you" in e.reason for e in theirs.entries)
    # they change their mind: their history counts again, events kept meanwhile
    feeds.consent.record(READER, {"personalisation": True})
    assert [e.item_id for e in feeds.feed(READER, 10, "itemknn").entries] == [
        e.item_id for e in mine.entries
    ]


def test_opt_in_personalises_only_after_agreement(trained: Store, settings: Settings) -> None:
    feeds = FeedService(trained, _opt_in(settings), "hashing-256")
    assert not feeds.feed(READER, 10, "itemknn").personalised
    assert _ids(feeds, READER) == _ids(feeds, NEVER)
    feeds.consent.record(READER, {"personalisation": True})
    assert feeds.feed(READER, 10, "itemknn").personalised
    assert _ids(feeds, READER) != _ids(feeds, NEVER)
    assert feeds.consent.state("2").effective[Purpose.PERSONALISATION] is False


def test_generation_uses_interests_only_with_consent(loaded: Store, llm_settings: Settings) -> None:
    t = datetime(2026, 1, 5, tzinfo=UTC)
    loaded.events.append(
        Event(READER, f"wikinews-{i:03d}", EventType.CLICK, t) for i in range(1, 9)
    )
    service = GenerationService(loaded, llm_settings, HashingEncoder(256))
    interests = service.profile_terms(READER)
    assert interests and service.profile_terms(READER, Purpose.ADS) == interests
    assert service.summary("wikinews-010", READER).interests == interests

    service.consent.record(READER, {"personalisation": False})
    summary = service.summary("wikinews-010", READER)
    assert summary.interests == () and summary.profile_bucket == "any"
    assert service.profile_terms(READER, Purpose.ADS) == interests  # ads undecided: default

    service.consent.record(READER, {"ads": False})
    assert service.profile_terms(READER) == interests
    assert service.profile_terms(READER, Purpose.ADS) == ()


@pytest.mark.parametrize(
    ("choices", "field", "message"),
    [
        ({"tracking": True}, "choices.tracking", "choose from personalisation, ads"),
        ({"ads": "yes"}, "choices.ads", "must be true or false, got 'yes'"),
        ({"ads": 1}, "choices.ads", "must be true or false, got 1"),
    ],
)
def test_bad_choices_are_refused_and_the_record_kept(
    store: Store, settings: Settings, choices: dict[str, object], field: str, message: str
) -> None:
    policy = ConsentPolicy(store, settings.privacy)
    before = policy.record(READER, {"ads": False})
    with pytest.raises(InvalidInput, match=message) as excinfo:
        policy.record(READER, choices)
    assert excinfo.value.field == field
    assert store.consents.get(READER) == before.consent


def test_erasure_erases_the_consent_record(store: Store, settings: Settings) -> None:
    policy = ConsentPolicy(store, settings.privacy)
    policy.record(READER, {"personalisation": False})
    assert erase_users(store, [READER]).consents == 1
    assert store.consents.get(READER) is None
    assert policy.state(READER).effective[Purpose.PERSONALISATION] is True  # the default

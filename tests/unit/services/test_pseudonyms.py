"""Reader ids kept as keyed pseudonyms (`services.pseudonyms`), on a real store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from feedcraft.config import load_settings
from feedcraft.domain import Event, EventType
from feedcraft.errors import Conflict, InvalidInput
from feedcraft.services.pseudonyms import Pseudonyms
from feedcraft.storage import Store

KEY = SecretStr("k" * 24)
OTHER = SecretStr("o" * 24)
T = datetime(2026, 2, 1, tzinfo=UTC)


def test_a_reader_always_maps_to_one_pseudonym_under_one_key() -> None:
    readers = Pseudonyms(KEY)
    alice = readers.reader("alice@example.org")
    assert (
        alice == readers.reader("alice@example.org") == Pseudonyms(KEY).reader("alice@example.org")
    )
    assert alice.startswith("p-") and len(alice) == 34 and "alice" not in alice
    assert alice != readers.reader("bob@example.org")
    assert alice != Pseudonyms(OTHER).reader("alice@example.org")
    assert readers.readers(["a", "b"]) == [readers.reader("a"), readers.reader("b")]
    plain = Pseudonyms(None)
    assert not plain.active and plain.reader("alice@example.org") == "alice@example.org"


def test_events_keep_everything_but_their_reader_and_id() -> None:
    readers = Pseudonyms(KEY)
    event = Event("alice@example.org", "n-1", EventType.CLICK, T, value=3.0, position=2)
    mapped = readers.event(event)
    assert mapped.user_id == readers.reader("alice@example.org")
    assert mapped.id != event.id and len(mapped.id) == 32
    assert replace(mapped, user_id=event.user_id, id=event.id) == event
    assert readers.event(event) == mapped  # sent twice: the same idempotency key
    given = Event("alice@example.org", "n-1", EventType.CLICK, T, id="client-key-1")
    assert readers.event(given).id != readers.event(replace(given, id="client-key-2")).id
    assert Pseudonyms(None).event(event) is event


def test_a_store_is_bound_to_its_key(store: Store) -> None:
    Pseudonyms(KEY).check_store(store)  # an empty store: records the key's fingerprint
    Pseudonyms(KEY).check_store(store)  # the same key again
    store.events.append([Pseudonyms(KEY).event(Event("alice", "n-1", EventType.CLICK, T))])
    with pytest.raises(Conflict, match="another key"):
        Pseudonyms(OTHER).check_store(store)
    with pytest.raises(Conflict, match="set \\[privacy\\] pseudonym_key"):
        Pseudonyms(None).check_store(store)
    assert b"k" * 24 not in b"".join(
        store.artifacts.load(name)[0] for name in store.artifacts.names()
    )  # a fingerprint, never the key


def test_a_store_holding_plain_ids_cannot_start_pseudonymising(store: Store) -> None:
    store.events.append([Event("alice", "n-1", EventType.CLICK, T)])
    Pseudonyms(None).check_store(store)
    with pytest.raises(Conflict, match="split every reader in two"):
        Pseudonyms(KEY).check_store(store)
    assert store.artifacts.names() == []  # nothing recorded


def test_a_short_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidInput, match="at least 16 characters") as excinfo:
        load_settings(privacy={"pseudonym_key": "short-secret"})
    assert excinfo.value.field == "privacy.pseudonym_key"
    assert "short-secret" not in str(excinfo.value)

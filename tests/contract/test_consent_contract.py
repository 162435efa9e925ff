"""The consents role, on every backend (`store` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from feedcraft.domain import Consent, Purpose
from feedcraft.errors import InvalidInput
from feedcraft.storage import Consents, Store

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_is_the_protocol(store: Store) -> None:
    assert isinstance(store.consents, Consents)


def test_put_get_replace_delete(store: Store) -> None:
    consents = store.consents
    assert consents.get("r-1") is None and consents.count() == 0
    first = Consent("r-1", {Purpose.PERSONALISATION: False, Purpose.ADS: True}, T0)
    consents.put(first)
    assert consents.get("r-1") == first
    # replaced whole: a purpose left out is undecided again
    later = T0.astimezone(timezone(timedelta(hours=2))) + timedelta(days=1)
    consents.put(Consent("r-1", {Purpose.ADS: False}, later))
    got = consents.get("r-1")
    assert got is not None and got.choices == {Purpose.ADS: False}
    assert got.updated_at == T0 + timedelta(days=1) and got.updated_at.tzinfo is UTC
    consents.put(Consent("r-2", {}, T0))
    assert consents.count() == 2
    assert consents.delete("r-1") is True
    assert consents.get("r-1") is None and consents.delete("r-1") is False
    assert consents.get("r-2") == Consent("r-2", {}, T0)


def test_every_decision_is_kept_until_erasure(store: Store) -> None:
    consents = store.consents
    assert consents.history("r-1") == []
    decisions = [
        Consent("r-1", {Purpose.PERSONALISATION: True}, T0),
        Consent("r-1", {Purpose.PERSONALISATION: False, Purpose.ADS: False}, T0 + timedelta(1)),
        Consent("r-1", {}, T0 + timedelta(2)),
    ]
    for decision in decisions:
        consents.put(decision)
    consents.put(Consent("r-2", {Purpose.ADS: True}, T0))
    assert consents.history("r-1") == decisions
    assert consents.get("r-1") == decisions[-1]
    assert consents.delete("r-1") is True
    assert consents.history("r-1") == [] and consents.get("r-1") is None
    assert consents.history("r-2") == [Consent("r-2", {Purpose.ADS: True}, T0)]


@pytest.mark.parametrize(
    ("consent", "field"),
    [
        (Consent("", {Purpose.ADS: True}, T0), "user_id"),
        (Consent("r-1", {Purpose.ADS: True}), "updated_at"),
        ("r-1", "consent"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_stored(
    store: Store, consent: object, field: str
) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        store.consents.put(consent)  # type: ignore[arg-type]
    assert excinfo.value.field == field
    assert store.consents.count() == 0 and store.consents.history("r-1") == []


def test_allows_falls_back_to_the_default_only_where_undecided() -> None:
    consent = Consent("r-1", {"personalisation": False}, T0)  # type: ignore[dict-item]
    assert consent.choices == {Purpose.PERSONALISATION: False}
    assert consent.allows(Purpose.PERSONALISATION, True) is False
    assert consent.allows(Purpose.ADS, True) is True
    assert consent.allows(Purpose.ADS, False) is False
    with pytest.raises(ValueError, match="'tracking' is not a valid Purpose"):
        Consent("r-1", {"tracking": True})  # type: ignore[dict-item]

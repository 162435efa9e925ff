"""Readers' consent, recorded and obeyed: the one place that says whether a reader's data
may be used for a purpose (`Purpose`).

Without consent to personalisation a reader's feed is the one a reader never seen gets (their
events are not read, not even to leave out what they saw, and no reason names their history)
and their summaries are the ones for anyone; without consent to ads, ad copy aimed at them
is written for a general audience. Their events are still recorded (the publisher's analytics
may rest on another legal basis): if they agree later, their history counts from then on.
Every decision is kept, with its time, so a site can show when a reader agreed to what (GDPR
Art. 7(1)); erasing a reader erases their record and its history (`services.erasure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from feedcraft.config import PrivacySettings
from feedcraft.domain import Consent, Purpose, utcnow
from feedcraft.errors import InvalidInput
from feedcraft.storage import Store

__all__ = ["ConsentPolicy", "ConsentState"]


@dataclass(frozen=True)
class ConsentState:
    """A reader's record and what it means here: `effective` is every purpose's answer,
    their choice or the site's default."""

    consent: Consent
    effective: Mapping[Purpose, bool]
    default: str


class ConsentPolicy:
    """Answers "may this reader's data be used for this purpose?" (one lookup by id)."""

    def __init__(self, store: Store, settings: PrivacySettings) -> None:
        self._store = store
        self._default = settings.default_consent == "granted"
        self._default_name = settings.default_consent

    def allows(self, user_id: str | None, purpose: Purpose) -> bool:
        """False for no reader: there is nobody to personalise for."""
        if user_id is None:
            return False
        consent = self._store.consents.get(user_id)
        return self._default if consent is None else consent.allows(purpose, self._default)

    def state(self, user_id: str) -> ConsentState:
        consent = self._store.consents.get(user_id) or Consent(user_id)
        effective = {p: consent.allows(p, self._default) for p in Purpose}
        return ConsentState(consent, effective, self._default_name)

    def history(self, user_id: str) -> list[Consent]:
        """Every decision the reader made, oldest first: when they agreed to what."""
        return self._store.consents.history(user_id)

    def record(self, user_id: str, choices: Mapping[str, object]) -> ConsentState:
        """Store the reader's decisions, replacing the earlier ones whole (a purpose left out
        is undecided again: the default applies). Unknown purposes and values that are not
        true or false are refused, naming `choices.<purpose>`."""
        decided: dict[Purpose, bool] = {}
        for name, value in choices.items():
            try:
                purpose = Purpose(name)
            except ValueError:
                known = ", ".join(p.value for p in Purpose)
                raise InvalidInput(
                    f"unknown purpose; choose from {known}", field=f"choices.{name}"
                ) from None
            if not isinstance(value, bool):
                raise InvalidInput(f"must be true or false, got {value!r}", field=f"choices.{name}")
            decided[purpose] = value
        self._store.consents.put(Consent(user_id, decided, utcnow()))
        return self.state(user_id)

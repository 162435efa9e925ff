"""Reader ids kept as keyed pseudonyms: the store never holds the ids a site sends.

A site may know its readers by account numbers or e-mail addresses. With `[privacy]
pseudonym_key` set, every reader id that enters feedcraft (events posted or imported, feed,
summary, ad-copy, consent and erasure requests) is replaced at the entry point by
HMAC-SHA256(key, id): the same reader always maps to the same pseudonym, so feeds, consent and
erasure work as before, while the database, its models and its backups hold only pseudonyms
that cannot be turned back into ids without the key. Event ids are mapped the same way: one
derived from the fields hashed the raw reader id, which anyone holding a list of candidate
ids could test. Answers name the reader by the id the caller sent.

A store remembers the key it was filled under (a fingerprint, not the key), and refuses to be
opened with another key or without one: mixing would split every reader in two. A store
already holding events cannot start pseudonymising (its readers would be split the same way).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from pydantic import SecretStr

from feedcraft.domain import Event
from feedcraft.errors import Conflict, NotFound
from feedcraft.storage import Store

__all__ = ["Pseudonyms"]

#: The artifact that records which key a store's reader ids are pseudonyms under.
MARKER = "privacy:pseudonym-key"
PREFIX = "p-"
#: Reader ids whose pseudonyms are remembered (then forgotten all at once): memory stays bounded.
_KNOWN_LIMIT = 100_000


class Pseudonyms:
    """Maps reader ids to the ids the store keeps: their keyed pseudonym, or themselves when
    no key is set (`active` False)."""

    def __init__(self, key: SecretStr | None) -> None:
        self._key = None if key is None else key.get_secret_value().encode("utf-8")
        # keyed once, copied per message: the key schedule is most of a short message's cost
        self._mac = None if self._key is None else hmac.new(self._key, digestmod=hashlib.sha256)
        self._known: dict[str, str] = {}  # an import names each reader many times

    @property
    def active(self) -> bool:
        return self._key is not None

    def reader(self, user_id: str) -> str:
        """The id the store keeps for the reader the caller calls `user_id`."""
        if self._key is None:
            return user_id
        known = self._known.get(user_id)
        if known is None:
            known = PREFIX + self._digest(b"reader\x1f" + user_id.encode("utf-8"))
            if len(self._known) >= _KNOWN_LIMIT:
                self._known.clear()
            self._known[user_id] = known
        return known

    def readers(self, user_ids: list[str]) -> list[str]:
        return [self.reader(u) for u in user_ids]

    def event(self, event: Event) -> Event:
        """The event with its reader and its id mapped (the id stays an idempotency key: the
        same event sent twice maps to the same id)."""
        if self._key is None:
            return event
        return replace(
            event,
            user_id=self.reader(event.user_id),
            id=self._digest(b"event\x1f" + event.id.encode("utf-8")),
        )

    def check_store(self, store: Store) -> None:
        """Refuse a store filled under another key, or under none while a key is set (and the
        reverse); record this key's fingerprint in a store that holds no events yet."""
        try:
            marker: bytes | None = store.artifacts.load(MARKER)[0]
        except NotFound:
            marker = None
        if self._key is None:
            if marker is not None:
                raise Conflict(
                    "this store keeps reader ids as pseudonyms: set [privacy] pseudonym_key "
                    "(FEEDCRAFT_PRIVACY__PSEUDONYM_KEY) to the key it was filled with"
                )
            return
        fingerprint = self._digest(b"fingerprint").encode("ascii")
        if marker is None:
            if store.events.count():
                raise Conflict(
                    "this store holds readers' ids as they were sent; pseudonymising from now "
                    "on would split every reader in two: use a new store, or unset [privacy] "
                    "pseudonym_key"
                )
            store.artifacts.save(MARKER, fingerprint)
        elif not hmac.compare_digest(marker, fingerprint):
            raise Conflict(
                "this store's reader ids are pseudonyms under another key than [privacy] "
                "pseudonym_key; set the key it was filled with"
            )

    def _digest(self, message: bytes) -> str:
        assert self._mac is not None
        mac = self._mac.copy()
        mac.update(message)
        return mac.hexdigest()[:32]

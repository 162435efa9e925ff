"""Consent decisions on SQLite: the latest per reader, replaced whole, and every one as it was
made; both erased with the reader."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedcraft.domain import Consent, Purpose
from feedcraft.errors import InvalidInput
from feedcraft.storage.sqlite.codec import dump_json, from_micros, load_json, to_micros
from feedcraft.storage.sqlite.db import Database


def _check_user(user_id: object) -> str:
    if not isinstance(user_id, str) or not user_id:
        raise InvalidInput("must be a non-empty string", field="user_id")
    return user_id


def _consent(user_id: str, row: Sequence[Any]) -> Consent:
    choices = {Purpose(p): bool(v) for p, v in load_json(row[0]).items()}
    return Consent(user_id, choices, from_micros(row[1]))


class SqliteConsents:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, user_id: str) -> Consent | None:
        _check_user(user_id)
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT choices, updated_us FROM consents WHERE user_id = ?", (user_id,)
            ).fetchone()
        return None if row is None else _consent(user_id, row)

    def put(self, consent: Consent) -> None:
        if not isinstance(consent, Consent):
            raise InvalidInput(f"expected a Consent, got {type(consent).__name__}", field="consent")
        _check_user(consent.user_id)
        if consent.updated_at is None:
            raise InvalidInput("a stored decision needs its time", field="updated_at")
        choices = dump_json({p.value: v for p, v in consent.choices.items()}, field="choices")
        row = (consent.user_id, choices, to_micros(consent.updated_at))
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO consents (user_id, choices, updated_us) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET choices = excluded.choices, "
                "updated_us = excluded.updated_us",
                row,
            )
            conn.execute(
                "INSERT INTO consent_history (user_id, choices, updated_us) VALUES (?, ?, ?)",
                row,
            )

    def history(self, user_id: str) -> list[Consent]:
        _check_user(user_id)
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT choices, updated_us FROM consent_history WHERE user_id = ? ORDER BY seq",
                (user_id,),
            ).fetchall()
        return [_consent(user_id, row) for row in rows]

    def delete(self, user_id: str) -> bool:
        """Delete the record and its history, then checkpoint (as `EventLog.delete_user`)."""
        _check_user(user_id)
        with self._db.write() as conn:
            removed = conn.execute("DELETE FROM consents WHERE user_id = ?", (user_id,)).rowcount
            removed += conn.execute(
                "DELETE FROM consent_history WHERE user_id = ?", (user_id,)
            ).rowcount
        if removed:
            self._db.checkpoint()
        return bool(removed)

    def count(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM consents").fetchone()[0])

"""Reader ids kept as pseudonyms, end to end: a store filled under a key by the importer and by
POST /events, trained, served by id as the site knows its readers; the files hold none of them."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from feedcraft.api.app import create_app
from feedcraft.config import Settings, load_settings
from feedcraft.errors import Conflict
from feedcraft.services.ingestion import import_jsonl
from feedcraft.services.pseudonyms import Pseudonyms
from feedcraft.services.training import train
from feedcraft.storage import open_store

KEY = "a-pseudonym-key-for-tests-0001"
ALICE = "alice.reader@example.org"


def _settings(db: Path, key: str | None) -> Settings:
    privacy = {} if key is None else {"pseudonym_key": key}
    return load_settings(
        store=f"sqlite:///{db}", embedding={"model": "hashing"}, progress=False, privacy=privacy
    )


def _files(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_a_site_uses_its_own_ids_and_the_store_keeps_none(ml_subset: Any, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    settings = _settings(db, KEY)
    with closing(open_store(settings.store)) as store:
        readers = Pseudonyms(settings.privacy.pseudonym_key)
        readers.check_store(store)
        import_jsonl(store, ml_subset.directory, progress=False, readers=readers)
        assert "1" not in store.events.user_ids()
        train(store, settings, models=["itemknn"], progress=False)
    liked = sorted(ml_subset.seen["1"])[:6]
    stamp = datetime(2026, 3, 1, tzinfo=UTC).isoformat()
    events = [{"user_id": ALICE, "item_id": i, "type": "click", "timestamp": stamp} for i in liked]

    with TestClient(create_app(settings)) as client:
        posted = client.post("/events", json={"events": events})
        assert posted.json() == {"received": 6, "new": 6}
        assert client.post("/events", json={"events": events}).json()["new"] == 0  # idempotent
        never = client.get("/users/never-seen/feed", params={"model": "itemknn"}).json()
        for reader in ("1", ALICE):  # one trained on, one known by live events only
            feed = client.get(f"/users/{reader}/feed", params={"model": "itemknn"}).json()
            assert feed["user_id"] == reader and feed["personalised"] is True
            assert feed["items"] != never["items"]
            assert any("because you" in e["reason"] for e in feed["items"])
            assert not set(ml_subset.seen["1"] if reader == "1" else liked) & {
                e["item_id"] for e in feed["items"]
            }
        consent = client.put(f"/users/{ALICE}/consent", json={"ads": False}).json()
        assert consent["user_id"] == ALICE and consent["choices"] == {"ads": False}
        assert client.get(f"/users/{ALICE}/consent").json()["choices"] == {"ads": False}
        raw = _files(db)
        assert ALICE.encode() not in raw and KEY.encode() not in raw
        erased = client.delete(f"/users/{ALICE}").json()
        assert (erased["user_id"], erased["events"], erased["consents"]) == (ALICE, 6, 1)
        assert client.delete("/users/1").json()["models"] == {"itemknn": {"1": 2}}


def test_a_store_refuses_another_key_or_none(ml_subset: Any, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with closing(open_store(_settings(db, KEY).store)) as store:
        readers = Pseudonyms(_settings(db, KEY).privacy.pseudonym_key)
        readers.check_store(store)
        import_jsonl(store, ml_subset.directory, progress=False, readers=readers)
    for key, message in ((None, "set \\[privacy\\] pseudonym_key"), ("x" * 20, "another key")):
        with pytest.raises(Conflict, match=message), TestClient(create_app(_settings(db, key))):
            pass

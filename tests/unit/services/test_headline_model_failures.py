"""The headline click model where it goes wrong: a store that refuses it, a damaged or unfitted
newest version, concurrent first requests, variants in another script, and rolling back."""

from __future__ import annotations

import logging
import pickle
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feedcraft.config import Settings
from feedcraft.ctr import HeadlineClickModel
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import Unavailable
from feedcraft.services.generation import GenerationService
from feedcraft.services.headlines import (
    ARTIFACT,
    UPWORTHY_FILE,
    _unpickle,
    lead_of,
    load_headline_model,
    read_upworthy,
    save_headline_model,
    train_headline_model,
)
from feedcraft.services.models import rollback
from feedcraft.storage import Store
from shareddata import shared_path

ITEM = "wikinews-004"


@pytest.fixture(scope="module")
def fitted() -> HeadlineClickModel:
    """A small model of the service's encoder (hashing-256), on real Upworthy weeks."""
    archive = read_upworthy(shared_path(UPWORTHY_FILE))
    weeks = archive.subset(archive.test_weeks >= 201440)
    model = HeadlineClickModel(encoder="hashing-256", fields=("headline",), max_iter=50)
    return model.fit(weeks, encoder=HashingEncoder(256))


@pytest.fixture
def service(loaded: Store, llm_settings: Settings) -> GenerationService:
    return GenerationService(loaded, llm_settings, HashingEncoder(256))


def _slice(path: Path, rows: int = 300) -> Path:
    """The archive's first `rows` rows as a plain CSV."""
    import csv
    import gzip

    with (
        gzip.open(shared_path(UPWORTHY_FILE), "rt", encoding="utf-8", newline="") as f,
        path.open("w", newline="", encoding="utf-8") as g,
    ):
        writer = csv.writer(g)
        for _, row in zip(range(rows + 1), csv.reader(f), strict=False):
            writer.writerow(row)
    return path


def test_out_is_written_before_a_store_that_refuses_the_model(store: Store, tmp_path: Path) -> None:
    """A fine-tuned ensemble passes SQLite's 1 GB blob limit; the limit is lowered here so a
    small model passes it, on the store's own connection (the real code path otherwise)."""
    store.artifacts._db.connection().setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 5000)  # type: ignore[attr-defined]
    out = tmp_path / "kept.pkl"
    small = HeadlineClickModel(encoder="hashing", fields=("headline",), max_iter=20)
    with pytest.raises(Unavailable, match=f"kept in {out}"):
        train_headline_model(
            _slice(tmp_path / "s.csv"), store=store, out=out, progress=False, model=small
        )
    model, _ = load_headline_model(path=out)  # the training is not lost
    assert isinstance(model, HeadlineClickModel) and hasattr(model, "coef_")


def test_without_out_a_refused_model_is_rescued_to_a_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The training used to be lost when the store refused its model and no --out was given."""
    store.artifacts._db.connection().setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 5000)  # type: ignore[attr-defined]
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    small = HeadlineClickModel(encoder="hashing", fields=("headline",), max_iter=20)
    with pytest.raises(Unavailable, match=r"kept in .*headline-model-.*\.pkl") as refused:
        train_headline_model(_slice(tmp_path / "s.csv"), store=store, progress=False, model=small)
    kept = list(work.glob("headline-model-*.pkl"))
    assert len(kept) == 1 and str(kept[0]) in str(refused.value)
    model, _ = load_headline_model(path=kept[0])
    assert isinstance(model, HeadlineClickModel) and hasattr(model, "coef_")


def test_damaged_or_unfitted_blobs_are_clean_errors(fitted: HeadlineClickModel) -> None:
    blob = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
    huge = b"\x80\x05\x8e" + (2**62).to_bytes(8, "little")  # a length byte flipped: MemoryError
    unfitted = pickle.dumps(HeadlineClickModel(encoder="hashing"))
    for bad, says in ((blob[: len(blob) // 2], "not a headline model file"),
                      (huge, "not a headline model file"),
                      (unfitted, "never fitted"),
                      (pickle.dumps(_Planted()), "refused os.getenv")):  # fmt: skip
        with pytest.raises(Unavailable, match=says):
            _unpickle(bad, "x")


def test_an_unfitted_model_says_so_when_asked_for_p_click() -> None:
    from feedcraft.errors import NotFitted

    with pytest.raises(NotFitted):
        HeadlineClickModel(encoder="hashing").predict_proba(["A headline"])


def _damaged(fitted: HeadlineClickModel, damage: str) -> bytes:
    blob = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "truncated": blob[: len(blob) // 2],
        "memory": b"\x80\x05\x8e" + (2**62).to_bytes(8, "little"),
        "unfitted": pickle.dumps(HeadlineClickModel(encoder="hashing-256")),
        "untrusted": pickle.dumps(_Planted()),
    }[damage]


class _Planted:
    """An artifact someone else wrote into the store: unpickling it would call getenv."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.getenv, ("HOME",)


@pytest.mark.parametrize("damage", ["truncated", "memory", "unfitted", "untrusted"])
def test_a_bad_newest_version_gives_way_to_the_one_before(
    service: GenerationService,
    fitted: HeadlineClickModel,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    save_headline_model(service.store, fitted, {})
    assert "v1" in service.headlines(ITEM, n=3).ranked_by
    service.store.artifacts.save(ARTIFACT, _damaged(fitted, damage), {})
    with caplog.at_level(logging.WARNING):
        served = service.headlines(ITEM, n=3)
        again = service.headlines(ITEM, n=3)
    assert "v1" in served.ranked_by and len(served.p_click) == len(served.outputs)
    assert again.ranked_by == served.ranked_by
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "v2 cannot be served" in warnings[0]  # once per version
    assert service.warm() is not None  # the server still starts


@pytest.mark.parametrize("damage", ["truncated", "memory", "unfitted", "untrusted"])
def test_no_version_that_loads_serves_the_variants_unranked_with_a_warning(
    service: GenerationService,
    fitted: HeadlineClickModel,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    service.store.artifacts.save(ARTIFACT, _damaged(fitted, damage), {})
    with caplog.at_level(logging.WARNING):
        served = service.headlines(ITEM, n=3)
        again = service.headlines(ITEM, n=3)
    assert served.outputs and served.p_click == () and served.ranked_by == ""
    assert again.p_click == () and again.ranked_by == ""
    warnings = [r for r in caplog.records if "unranked" in r.getMessage()]
    assert len(warnings) == 1  # once per version
    assert service.warm() is not None  # the server still starts
    save_headline_model(service.store, fitted, {})  # a good upload ranks again at once
    assert "v2" in service.headlines(ITEM, n=3).ranked_by


def test_rollback_of_the_headline_model_needs_two_versions(
    store: Store, fitted: HeadlineClickModel
) -> None:
    from feedcraft.errors import Conflict

    save_headline_model(store, fitted, {})
    with pytest.raises(Conflict, match="1 version"):
        rollback(store, ARTIFACT)
    save_headline_model(store, fitted, {})
    assert rollback(store, ARTIFACT).version == 1
    assert [v.version for v in store.artifacts.versions(ARTIFACT)] == [1]


def test_concurrent_first_requests_load_a_new_version_once(
    service: GenerationService, fitted: HeadlineClickModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_headline_model(service.store, fitted, {})
    loads: list[int] = []
    where = "feedcraft.services.headline_ranking.load_headline_model"

    def slow(*args: Any, **kwargs: Any) -> Any:
        loads.append(1)
        time.sleep(0.2)  # unpickling a large model: the window the others arrive in
        return load_headline_model(*args, **kwargs)

    monkeypatch.setattr(where, slow)
    barrier = threading.Barrier(4)
    got: list[str] = []

    def request() -> None:
        barrier.wait()
        got.append(service.headlines(ITEM, n=3).ranked_by)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len(got) == 4 and all("v1" in name for name in got)


def test_concurrent_first_scores_build_the_encoder_once(
    fitted: HeadlineClickModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedcraft.ctr import models

    model = pickle.loads(pickle.dumps(fitted))  # as loaded: no encoder built yet
    built: list[int] = []

    def slow(spec: str) -> Any:
        built.append(1)
        time.sleep(0.2)
        return HashingEncoder(256)

    monkeypatch.setattr(models, "make_encoder", slow)
    barrier = threading.Barrier(4)

    def score() -> None:
        barrier.wait()
        model.predict_proba(["A headline"])

    threads = [threading.Thread(target=score) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1


def test_variants_in_another_script_are_served_unscored_after_the_scored(
    service: GenerationService, fitted: HeadlineClickModel
) -> None:
    """An English item can get a variant in Chinese (a model answering in the wrong
    language): it is not scored, and comes after the scored ones in generated order."""
    item = service.store.catalogue.get(ITEM)
    plain = service.headlines(ITEM, n=3)  # unranked: no model yet
    save_headline_model(service.store, fitted, {})
    outputs = ("北京地铁新线路开通", plain.outputs[0], "上海新线路开通", plain.outputs[1])
    served = replace(plain, outputs=outputs, produced_by=("a", "b", "c", "d"))
    ranked = service._ranking.rank(served, item)
    assert ranked.outputs[2:] == ("北京地铁新线路开通", "上海新线路开通")
    assert ranked.produced_by[2:] == ("a", "c") and ranked.p_click[2:] == (None, None)
    scored = [p for p in ranked.p_click[:2] if p is not None]
    expected = fitted.predict_proba(list(ranked.outputs[:2]), None, [lead_of(item.body)] * 2)
    np.testing.assert_allclose(scored, expected, rtol=1e-9)
    assert scored == sorted(scored, reverse=True) and ranked.ranked_by
    none_latin = replace(plain, outputs=outputs[::2], produced_by=("a", "c"))
    untouched = service._ranking.rank(none_latin, item)
    assert untouched.p_click == () and untouched.ranked_by == ""  # nothing ranked at all

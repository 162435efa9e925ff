"""The hybrid: its ends equal its parts, new items are reachable, missing vectors degrade."""

from __future__ import annotations

import numpy as np
import pytest

from feedcraft.domain import IdIndex, Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders import (
    ContentBasedRecommender,
    ItemKNNRecommender,
    make_recommender,
)
from feedcraft.recommenders.ease import EASERecommender
from feedcraft.recommenders.hybrid import HybridRecommender, normalise_rows

N = 10


@pytest.fixture(scope="module")
def vectors(genre_vectors: ItemVectors) -> ItemVectors:
    """Genre vectors with a little seeded noise, so cosines do not tie (multi-hot genres
    give many equal cosines, and ties may break differently in different item spaces)."""
    rng = np.random.default_rng(0)
    noise = 0.05 * rng.standard_normal(genre_vectors.matrix.shape).astype(np.float32)
    return ItemVectors(genre_vectors.ids, genre_vectors.matrix + noise)


def ranking(model: object, users: list[str]) -> list[tuple[str, ...]]:
    return [r.item_ids for r in model.recommend(users, N)]  # type: ignore[attr-defined]


def test_lambda_zero_is_the_cf_part(ml_small: Interactions, vectors: ItemVectors) -> None:
    users = list(ml_small.users.ids)
    hybrid = HybridRecommender(l2=50.0, recency_half_life=4.0, knn_weight=0.0, content_weight=0.0)
    ease = EASERecommender(l2=50.0, recency_half_life=4.0)
    assert ranking(hybrid.fit(ml_small, vectors), users) == ranking(ease.fit(ml_small), users)
    # all-kNN collaborative part
    hybrid = HybridRecommender(recency_half_life=4.0, knn_weight=1.0, content_weight=0.0)
    knn = ItemKNNRecommender(k=100, shrinkage=20.0, recency_half_life=4.0)
    assert ranking(hybrid.fit(ml_small, vectors), users) == ranking(knn.fit(ml_small), users)


def test_lambda_one_is_the_content_part(ml_small: Interactions, vectors: ItemVectors) -> None:
    users = list(ml_small.users.ids)
    hybrid = HybridRecommender(recency_half_life=3.0, content_weight=1.0).fit(ml_small, vectors)
    content = ContentBasedRecommender(recency_half_life=3.0).fit(ml_small, vectors)
    assert ranking(hybrid, users) == ranking(content, users)
    # cold users get popularity from both (equal counts may tie-break in another order,
    # since the two item spaces list items in different orders)
    (a,) = hybrid.recommend(["nobody"], N)
    (b,) = content.recommend(["nobody"], N)
    np.testing.assert_allclose(a.scores, b.scores)


def test_blend_differs_from_both_ends(ml_small: Interactions, vectors: ItemVectors) -> None:
    users = list(ml_small.users.ids)
    model = HybridRecommender(content_weight=0.5).fit(ml_small, vectors)
    blend = ranking(model, users)
    model.content_weight = 0.0  # weights are read when scoring
    cf = ranking(model, users)
    model.content_weight = 1.0
    cb = ranking(model, users)
    assert blend != cf and blend != cb


def test_new_items_are_reachable_through_content(
    ml_small: Interactions, vectors: ItemVectors
) -> None:
    model = HybridRecommender(content_weight=0.9).fit(ml_small, vectors)
    assert len(model.items_) == len(vectors.ids) > len(ml_small.items)
    trained = set(ml_small.items.ids)
    recs = model.recommend(list(ml_small.users.ids), N)
    assert any(set(r.item_ids) - trained for r in recs)
    # without content they never surface ahead of items with interactions
    model.content_weight = 0.0
    recs = model.recommend(list(ml_small.users.ids), N)
    assert not any(set(r.item_ids) - trained for r in recs)


def test_missing_vectors_get_no_content_score(ml_small: Interactions, vectors: ItemVectors) -> None:
    keep = list(ml_small.items.ids[::2])  # half the rated items have a vector
    partial = ItemVectors(IdIndex(keep), vectors.rows(keep))
    model = HybridRecommender(content_weight=0.3).fit(ml_small, partial)
    assert len(model.items_) == len(ml_small.items)
    assert model.has_vector_.sum() == len(keep)
    users = list(ml_small.users.ids)
    recs = model.recommend(users, N)
    assert all(len(r) == N and np.all(np.isfinite(r.scores)) for r in recs)
    # a history of vector-less items only still gets a (collaborative) list
    no_vector = [i for i in ml_small.items.ids if i not in set(keep)][:5]
    (rec,) = model.recommend(["s"], N, histories={"s": no_vector})
    assert len(rec) == N and not set(no_vector) & set(rec.item_ids)


def test_content_pivot_leans_short_histories_on_content(
    ml_small: Interactions, vectors: ItemVectors
) -> None:
    model = HybridRecommender(content_weight=0.1, content_pivot=5.0).fit(ml_small, vectors)
    hist, _ = model._histories(list(ml_small.users.ids), None)
    lam = model._content_lambda(hist)
    lengths = np.diff(hist.indptr)
    assert np.all(lam >= 0.1) and np.all(lam <= 1.0)
    assert lam[np.argmin(lengths)] > lam[np.argmax(lengths)]
    model.content_pivot = None
    np.testing.assert_array_equal(model._content_lambda(hist), 0.1)


def test_normalise_rows_maps_best_to_one_and_top_th_to_zero() -> None:
    s = np.array([[5.0, 3.0, 1.0, -np.inf, 100.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    candidates = np.array([[True, True, True, True, False], [True] * 5])
    out = normalise_rows(s, candidates, top=2)
    np.testing.assert_allclose(out[0, :3], [1.0, 0.0, -1.0])
    assert out[0, 3] == -10.0  # -inf is floored
    assert out[0, 4] > 1.0  # not a candidate: outside the statistics, kept in order
    assert np.all(np.isfinite(out[1]))


def test_registered_with_vectors_required() -> None:
    model = make_recommender("hybrid")
    assert isinstance(model, HybridRecommender) and model.needs_item_vectors


@pytest.mark.parametrize(
    "params",
    [
        {"content_weight": 1.5},
        {"knn_weight": -0.1},
        {"content_pivot": -1.0},
        {"l2": 0.0},
        {"normalise_top": 0},
        {"recency_half_life": 0.0},
    ],
)
def test_bad_parameters(
    ml_small: Interactions, vectors: ItemVectors, params: dict[str, float]
) -> None:
    with pytest.raises(InvalidInput):
        HybridRecommender(**params).fit(ml_small, vectors)  # type: ignore[arg-type]

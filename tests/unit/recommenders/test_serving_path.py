"""The per-request path must score exactly as the general one.

`MatrixRecommender._histories` builds the history rows of a batch whose users all bring a
history (the API's case) directly instead of through scipy's general operations, and the
hybrid selects its EASE columns directly. Both must give the general path's rows exactly, so
every model scores bit-identically (checked on real MovieLens data).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders._common import MatrixRecommender, top_n
from feedcraft.recommenders.hybrid import _select_columns

MODELS = [
    "popularity",
    "itemknn",
    "content",
    pytest.param("hybrid", marks=pytest.mark.slow),  # fits EASE: seconds
    pytest.param("ease", marks=pytest.mark.slow),
]


def histories(model: MatrixRecommender, ml_small: Interactions) -> dict[str, list[str]]:
    """Per user: the training history, one with repeats and unknown ids, one of other items."""
    rng = np.random.default_rng(0)
    items = list(model.items_.ids)
    out: dict[str, list[str]] = {}
    for user in list(ml_small.users.ids)[:12]:
        row = model.history_[ml_small.users.position(user)]
        own = model.items_.ids_at(row.indices[np.argsort(row.data)])
        out[user] = own
        out[f"{user}+noise"] = [*own[-30:], "no-such-item", *own[:5], *own[-3:]]
        out[f"{user}+other"] = [items[i] for i in rng.choice(len(items), 25)]
    out["cold"] = []
    return out


@pytest.mark.parametrize("name", MODELS)
def test_single_user_path_scores_exactly_as_the_general_path(
    name: str, ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    model = make_recommender(name).fit(ml_small, genre_vectors)
    assert isinstance(model, MatrixRecommender)
    for key, history in histories(model, ml_small).items():
        user = key.split("+")[0]
        given = {user: history}
        hist, seen = model._histories([user], given)
        upos = model.interactions_.users.positions([user])
        ghist, gseen = model._general_histories([user], given, upos)
        np.testing.assert_array_equal(hist.indptr, ghist.indptr)
        np.testing.assert_array_equal(hist.indices, ghist.indices)
        np.testing.assert_array_equal(hist.data, ghist.data)
        assert set(seen.indices) == set(gseen.nonzero()[1])
        # recommend() on the fast rows == the general rows scored, seen dropped, top 50
        scores = model._predict([user], ghist, None)
        scores[0, gseen.nonzero()[1]] = -np.inf
        scores[~np.isfinite(scores)] = -np.inf
        idx, vals = top_n(scores, 50)
        ok = idx[0] >= 0
        fast = model.recommend([user], 50, histories=given)[0]
        assert fast.item_ids == tuple(model.items_.ids_at(idx[0][ok])), key
        np.testing.assert_array_equal(fast.scores, vals[0][ok])
        items = list(model.items_.ids[:300])
        np.testing.assert_array_equal(
            model.score(user, items, history),
            model._predict([user], ghist, model.items_.positions(items))[0],
        )


def test_fast_path_excludes_training_and_given_items(
    ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    model = make_recommender("itemknn").fit(ml_small, genre_vectors)
    user = ml_small.users.id_at(0)
    trained = set(model.items_.ids_at(model.history_[0].indices))
    given = [i for i in model.items_.ids[:40] if i not in trained]
    rec = model.recommend([user], len(model.items_), histories={user: given})[0]
    assert not (trained | set(given)) & set(rec.item_ids)
    assert len(rec.item_ids) == len(model.items_) - len(trained | set(given))


def test_select_columns_matches_scipy_fancy_indexing() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        m = sp.random(7, 60, density=0.2, format="csr", random_state=rng)
        m.data += 1.0
        if rng.random() < 0.5:  # unsorted rows, as sparse products leave them
            for r in range(m.shape[0]):
                lo, hi = m.indptr[r], m.indptr[r + 1]
                order = rng.permutation(hi - lo)
                m.indices[lo:hi], m.data[lo:hi] = m.indices[lo:hi][order], m.data[lo:hi][order]
            m.has_sorted_indices = False
        columns = np.sort(rng.choice(60, rng.integers(1, 60), replace=False))
        position = np.full(60, -1)
        position[columns] = np.arange(len(columns))
        want = m[:, columns]
        got = _select_columns(m, columns, position)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.data, want.data)

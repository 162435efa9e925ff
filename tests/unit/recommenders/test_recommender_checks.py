"""One check suite, run on every registered recommender (like river's estimator checks).

Each check holds every model to the same contract (base.Recommender), on a small
deterministic slice of real data; model-specific behaviour lives in the per-model tests.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from feedcraft.domain import IdIndex, Interactions, ItemVectors, Recommendations
from feedcraft.errors import InvalidInput, NotFitted
from feedcraft.recommenders import Recommender, available, make_recommender
from feedcraft.storage import model_pickle

N = 10
NAMES = available()


#: Constructor arguments that keep a model's test-time fit small: the suite checks the
#: contract, not quality (nrms trains a network).
SMALL: dict[str, dict[str, object]] = {
    "nrms": {"dim": 16, "heads": 2, "max_history": 20, "epochs": 1, "max_samples": 1000},
    "ranker": {"label_windows": 1, "n_boosters": 1, "n_estimators": 50},
}


def new(name: str) -> Recommender:
    return make_recommender(name, **SMALL.get(name, {}))


def fit(name: str, data: Interactions, vectors: ItemVectors) -> Recommender:
    model = new(name)
    return model.fit(data, vectors if model.needs_item_vectors else None)


def training_items(data: Interactions, user: str) -> list[str]:
    """The user's items, oldest first (ties by data order), as a caller would pass them."""
    u = data.users.position(user)
    idx = np.flatnonzero(data.user_pos == u)
    idx = idx[np.argsort(data.timestamps[idx], kind="stable")]
    return data.items.ids_at(data.item_pos[idx])


def catalogue(model: Recommender, data: Interactions, vectors: ItemVectors) -> set[str]:
    return set((vectors.ids if model.needs_item_vectors else data.items).ids)


def check_list(rec: Recommendations, n: int, allowed: set[str]) -> None:
    assert len(rec) == n
    assert len(set(rec.item_ids)) == n, "duplicates"
    assert np.all(np.isfinite(rec.scores))
    assert np.all(np.diff(rec.scores) <= 0), "scores not sorted descending"
    assert set(rec.item_ids) <= allowed


def test_registry_covers_the_four_models() -> None:
    assert set(NAMES) >= {"random", "popularity", "itemknn", "content"}
    assert "ranker" in NAMES, "the learned ranker runs this suite too"


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = new(name)
    assert model.fit(ml_small, genre_vectors if model.needs_item_vectors else None) is model
    assert model.interactions_ is ml_small


@pytest.mark.parametrize("name", NAMES)
def test_get_params_round_trip(name: str) -> None:
    model = make_recommender(name)
    params = model.get_params()
    clone = type(model)(**params)
    assert clone.get_params() == params
    assert make_recommender(name, **params).get_params() == params
    assert repr(clone).startswith(type(model).__name__ + "(")


@pytest.mark.parametrize("name", NAMES)
def test_constructor_only_stores(name: str) -> None:
    model = make_recommender(name)
    assert not [k for k in vars(model) if k.endswith("_")], "fitted state before fit"


@pytest.mark.parametrize("name", NAMES)
def test_not_fitted(name: str) -> None:
    model = make_recommender(name)
    with pytest.raises(NotFitted):
        model.recommend(["1"], N)
    with pytest.raises(NotFitted):
        model.score("1", ["1"])


@pytest.mark.parametrize("name", NAMES)
def test_fit_rejects_empty_interactions(name: str, genre_vectors: ItemVectors) -> None:
    empty = Interactions.from_triples([], [], users=IdIndex(["u"]), items=IdIndex(["i"]))
    with pytest.raises(InvalidInput):
        new(name).fit(empty, genre_vectors)


@pytest.mark.parametrize("name", NAMES)
def test_item_vectors_requirement(name: str, ml_small: Interactions) -> None:
    model = new(name)
    if model.needs_item_vectors:
        with pytest.raises(InvalidInput, match="item vectors"):
            model.fit(ml_small)
    else:
        model.fit(ml_small)  # vectors are optional for the others


@pytest.mark.parametrize("name", NAMES)
def test_recommend_contract(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = fit(name, ml_small, genre_vectors)
    users = list(ml_small.users.ids)
    recs = model.recommend(users, N)
    assert [r.user_id for r in recs] == users
    allowed = catalogue(model, ml_small, genre_vectors)
    for rec in recs:
        check_list(rec, N, allowed)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    users = list(ml_small.users.ids)
    a = fit(name, ml_small, genre_vectors).recommend(users, N)
    b = fit(name, ml_small, genre_vectors).recommend(users, N)
    for x, y in zip(a, b, strict=True):
        assert x.item_ids == y.item_ids
        np.testing.assert_array_equal(x.scores, y.scores)


@pytest.mark.parametrize("name", NAMES)
def test_batch_independent(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = fit(name, ml_small, genre_vectors)
    users = list(ml_small.users.ids)
    together = model.recommend(users, N)
    alone = [model.recommend([u], N)[0] for u in reversed(users)][::-1]
    assert [r.item_ids for r in together] == [r.item_ids for r in alone]


@pytest.mark.parametrize("name", NAMES)
def test_excludes_seen(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = fit(name, ml_small, genre_vectors)
    for user in ml_small.users.ids:
        seen = set(training_items(ml_small, user))
        (rec,) = model.recommend([user], N)
        assert not seen & set(rec.item_ids)
    # without exclusion nothing is removed: the list is the same or better-scored
    user = ml_small.users.id_at(0)
    (kept,) = model.recommend([user], N, exclude_seen=False)
    (excluded,) = model.recommend([user], N)
    check_list(kept, N, catalogue(model, ml_small, genre_vectors))
    assert np.all(kept.scores >= excluded.scores)


@pytest.mark.parametrize("name", NAMES)
def test_n_edge_cases(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = fit(name, ml_small, genre_vectors)
    user = ml_small.users.id_at(0)
    assert len(model.recommend([user], 0)[0]) == 0
    assert model.recommend([], N) == []
    everything = model.recommend([user], 10**6)[0]
    n_left = len(catalogue(model, ml_small, genre_vectors) - set(training_items(ml_small, user)))
    assert len(everything) == n_left
    with pytest.raises(InvalidInput):
        model.recommend([user], -1)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_user(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = fit(name, ml_small, genre_vectors)
    (rec,) = model.recommend(["nobody-ever"], N)
    check_list(rec, N, catalogue(model, ml_small, genre_vectors))
    scores = model.score("nobody-ever", list(rec.item_ids))
    np.testing.assert_allclose(scores, rec.scores)


@pytest.mark.parametrize("name", NAMES)
def test_user_with_empty_history(
    name: str, ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    model = fit(name, ml_small, genre_vectors)
    (rec,) = model.recommend(["newcomer"], N, histories={"newcomer": []})
    check_list(rec, N, catalogue(model, ml_small, genre_vectors))
    # unknown item ids in a history are ignored, not an error
    (rec2,) = model.recommend(["newcomer"], N, histories={"newcomer": ["no-such-item"]})
    assert rec2.item_ids == rec.item_ids


@pytest.mark.parametrize("name", NAMES)
def test_histories_respected(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = fit(name, ml_small, genre_vectors)
    known = ml_small.users.id_at(3)
    history = training_items(ml_small, known)
    (rec,) = model.recommend(["stranger"], N, histories={"stranger": history})
    check_list(rec, N, catalogue(model, ml_small, genre_vectors))
    assert not set(history) & set(rec.item_ids)
    if name != "random":  # the others depend only on the history, not on the user id
        assert rec.item_ids == model.recommend([known], N)[0].item_ids
    # a given history replaces a known user's for scoring, and is excluded as well
    other = training_items(ml_small, ml_small.users.id_at(5))[:20]
    (mixed,) = model.recommend([known], N, histories={known: other})
    assert not (set(other) | set(history)) & set(mixed.item_ids)


@pytest.mark.parametrize("name", NAMES)
def test_score_agrees_with_recommend(
    name: str, ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    model = fit(name, ml_small, genre_vectors)
    for user in ml_small.users.ids[:5]:
        (rec,) = model.recommend([user], N)
        np.testing.assert_allclose(model.score(user, list(rec.item_ids)), rec.scores)


@pytest.mark.parametrize("name", NAMES)
def test_score_unknown_items(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = fit(name, ml_small, genre_vectors)
    user = ml_small.users.id_at(0)
    known = list(ml_small.items.ids[:50])
    scores = model.score(user, [*known, "unknown-1", "unknown-2"])
    assert scores.shape == (52,)
    assert np.all(np.isfinite(scores))
    if name != "random":  # random has no prior: unknown items are as random as the rest
        assert scores[-1] == scores[-2] <= scores[:-2].min()
    assert model.score(user, []).shape == (0,)


@pytest.mark.parametrize("name", NAMES)
def test_picklable(name: str, ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    model = fit(name, ml_small, genre_vectors)
    clone = model_pickle.loads(pickle.dumps(model))
    users = [*ml_small.users.ids[:5], "nobody-ever"]
    for a, b in zip(model.recommend(users, N), clone.recommend(users, N), strict=True):
        assert a.item_ids == b.item_ids
        np.testing.assert_array_equal(a.scores, b.scores)


def _renamed(data: Interactions) -> Interactions:
    """The same interactions with ids no other pickled value contains ("reader-12~")."""
    return Interactions(
        IdIndex(f"reader-{u}~" for u in data.users.ids),
        data.items,
        data.user_pos,
        data.item_pos,
        data.weights,
        data.timestamps,
    )


@pytest.mark.parametrize("name", NAMES)
def test_forget_users_leaves_no_id_in_the_pickle(
    name: str, ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    data = _renamed(ml_small)
    model = fit(name, data, genre_vectors)
    erased, other = list(data.users.ids[:2]), data.users.ids[5]
    kept = [u for u in data.users.ids if u not in erased]
    served = model.recommend(kept[:4], N)
    before = pickle.dumps(model)  # after serving: some models keep what serving computed
    assert all(u.encode() in before for u in [*erased, other])

    assert model.forget_users([*erased, "reader-never~"]) == 2
    after = pickle.dumps(model)
    assert len(after) <= len(before)  # what parts shared, they still share
    assert not [u for u in erased if u.encode() in after]
    assert other.encode() in after, "the search must find an id that is still there"
    for a, b in zip(served, model.recommend(kept[:4], N), strict=True):
        assert a.item_ids == b.item_ids  # the others are served as before
    if name != "random":  # random draws per user id
        cold = model.recommend(["reader-never~"], N)[0]
        assert model.recommend([erased[0]], N)[0].item_ids == cold.item_ids
    assert model.forget_users(erased) == 0
    clone = model_pickle.loads(after)
    assert isinstance(clone, Recommender)
    assert clone.recommend(kept[:2], N)[0].item_ids == served[0].item_ids

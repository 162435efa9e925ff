"""The learned ranker: its pool is the sources' merged pool, its labels are the user-temporal
split's, its features see categories and dates, and it learns something real.

Data: the MovieLens sample bundled with feedcraft (first ratings; genres as categories and,
with seeded noise, as vectors; release years as publication dates). The shared check suite
(test_recommender_checks.py) holds it to the common recommender contract.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sample_data import read_sample_ratings
from threadpoolctl import threadpool_limits

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.evaluation import topn_metrics, user_temporal_split
from feedcraft.evaluation.splits import latest_share_mask
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.candidates import merge
from feedcraft.recommenders.ranker import LearnedRanker
from feedcraft.recommenders.ranker_features import _ranks, global_ranks_at, ranks_at
from feedcraft.storage import model_pickle

pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def fitted(
    ratings: Interactions, vectors: ItemVectors, genres: dict[str, list[str]]
) -> LearnedRanker:
    with threadpool_limits(1, "blas"):
        return LearnedRanker(n_estimators=50).fit(ratings, vectors, item_categories=genres)


def test_registered() -> None:
    model = make_recommender("ranker", pool_ease=30)
    assert isinstance(model, LearnedRanker) and model.pool_ease == 30


def test_labels_are_the_user_temporal_split(ratings: Interactions) -> None:
    """Inside fit, labels are carved exactly as the evaluation protocol carves test sets."""
    mask = latest_share_mask(ratings, 0.2, 5)
    _, test = user_temporal_split(ratings, 0.2, 5, drop_seen=False)
    carved: dict[str, set[str]] = {}
    for u, i in zip(ratings.user_pos[mask], ratings.item_pos[mask], strict=True):
        carved.setdefault(ratings.users.id_at(u), set()).add(ratings.items.id_at(i))
    assert carved == test


def test_pool_is_the_merged_candidates(fitted: LearnedRanker, ratings: Interactions) -> None:
    """Candidates (score > 1) are exactly the de-duplicated union of the sources' top-k;
    every other item ranks below all of them."""
    stage = fitted.stage_
    users = list(ratings.users.ids[:6])
    lists = {
        name: source.generate(users, stage.pools_[name])
        for name, source in stage.sources_.items()
        if stage.pools_[name] > 0
    }
    everything = fitted.recommend(users, 10**6)
    for pool, rec in zip(merge(lists), everything, strict=True):
        above = {i for i, s in rec if s > 1.0}
        assert above == set(pool.item_ids)
        assert len(rec) - len(above) > 0 and rec.scores[len(above)] < 1.0


def test_ranks_of_candidates_match_full_ranking(
    fitted: LearnedRanker, ratings: Interactions
) -> None:
    """The one-request shortcut gives the ranks the batch path gives, ties included
    (popularity counts tie a lot; seen items tie at -inf)."""
    users = list(ratings.users.ids[:5])
    hist, _ = fitted._histories(users, None)
    pick = np.random.default_rng(0).random((len(users), len(fitted.items_))) < 0.05
    r, c = np.nonzero(pick)
    for source in fitted.stage_.sources_.values():
        s = source.score_matrix(users, hist)
        s[hist.nonzero()] = -np.inf
        np.testing.assert_array_equal(ranks_at(s, r, c), _ranks(s)[r, c])


def test_a_request_gets_the_features_of_a_batch(
    fitted: LearnedRanker, ratings: Interactions
) -> None:
    """One user (the request path: one sort per score row, dense pair lookups) gets exactly
    the candidates and features their row gets in a batch of 20 (partitions, scipy)."""
    users = list(ratings.users.ids[:20])
    hist, _ = fitted._histories(users, None)
    rows, cols, x, fallback = fitted.stage_.features(users, hist)
    for u in (0, 7, 19):
        r1, c1, x1, f1 = fitted.stage_.features([users[u]], hist[u])
        mine = rows == u
        assert len(r1) > 20
        np.testing.assert_array_equal(c1, cols[mine])
        np.testing.assert_array_equal(x1, x[mine])
        np.testing.assert_array_equal(f1[0], fallback[u])


def test_reweighted_copies_score_together_exactly(
    fitted: LearnedRanker, ratings: Interactions
) -> None:
    """EASE and kNN with their reweighted copies score in one stacked call: the numbers are
    those of scoring each copy on its own."""
    stage = fitted.stage_
    assert {n for v in stage.variants_.values() for n, _ in v} >= {"ease_binary", "knn_hl16"}
    users = list(ratings.users.ids[:7])
    hist, _ = fitted._histories(users, None)
    together = stage.score_matrices(users, hist)
    for name, source in stage.sources_.items():
        np.testing.assert_array_equal(together[name], source.score_matrix(users, hist))


def test_shared_rows_are_ranked_once(fitted: LearnedRanker, ratings: Interactions) -> None:
    """Popularity and trending rank their one shared row at fit; a user's rank is that less
    the seen items above it: the same as ranking the row with seen items at -inf."""
    stage = fitted.stage_
    assert set(stage.global_ranks_) == {"popularity", "trending"}
    users = list(ratings.users.ids[:6])
    hist, _ = fitted._histories(users, None)
    pick = np.ones((len(users), len(fitted.items_)), bool)  # every unseen item it scores
    pick[hist.nonzero()] = False
    for name, grank in stage.global_ranks_.items():
        s = stage.sources_[name].score_matrix(users, hist)
        s[hist.nonzero()] = -np.inf
        r, c = np.nonzero(pick & np.isfinite(s))
        assert len(r) > 30
        np.testing.assert_array_equal(global_ranks_at(grank, hist, r, c), _ranks(s)[r, c])


def test_other_items_keep_ease_order_below_candidates(
    fitted: LearnedRanker, ratings: Interactions
) -> None:
    user = ratings.users.ids[0]
    hist, _ = fitted._histories([user], None)
    scores = fitted._predict([user], hist, None)[0]
    ease = fitted.stage_.sources_["ease"].score_matrix([user], hist)[0]
    rest = (scores < 1.0) & np.isfinite(ease) & (hist.toarray()[0] == 0)
    order = np.argsort(-scores[rest], kind="stable")
    # EASE's order, squeezed into [0, 1); scores closer than float64 resolves at 0.5 may tie
    assert np.diff(ease[rest][order]).max() <= 1e-15
    assert np.mean(np.diff(ease[rest][order]) < 0) > 0.3  # and it is an order, not a tie
    assert scores[rest].min() >= 0.0 and scores[rest].max() < 1.0


def test_features(fitted: LearnedRanker, ratings: Interactions) -> None:
    names = fitted.feature_names_
    for required in (
        "ease_score",
        "ease_rank",
        "knn_score",
        "content_score",
        "popularity_score",
        "trending_score",
        "item_last_age",
        "category_affinity",
        "user_log_history",
    ):
        assert required in names
    assert fitted.n_training_groups_ > 5
    users = list(ratings.users.ids[:4])
    hist, _ = fitted._histories(users, None)
    rows, cols, x, _ = fitted.stage_.features(users, hist)
    assert x.shape == (len(rows), len(names))
    aff = x[:, names.index("category_affinity")]
    assert np.all((aff[np.isfinite(aff)] >= 0) & (aff[np.isfinite(aff)] <= 3))
    assert np.isfinite(aff).mean() > 0.9
    # category affinity is the user's share of history items in the candidate's genres
    user = 0
    seen = hist[user].indices
    cats = fitted.stage_.categories_
    share = np.asarray(cats[seen].sum(axis=0)).ravel() / len(seen)
    pick = np.flatnonzero(rows == user)[:20]
    want = np.asarray(cats[cols[pick]] @ share).ravel()
    np.testing.assert_allclose(aff[pick], want)


def test_without_categories_the_affinity_is_missing(
    ratings: Interactions, vectors: ItemVectors
) -> None:
    model = LearnedRanker(n_estimators=10).fit(ratings, vectors)
    users = list(ratings.users.ids[:2])
    hist, _ = model._histories(users, None)
    _, _, x, _ = model.stage_.features(users, hist)
    assert np.isnan(x[:, model.feature_names_.index("category_affinity")]).all()


def test_fresh_items_join_with_dates(
    ratings: Interactions,
    vectors: ItemVectors,
    genres: dict[str, list[str]],
    released: dict[str, float],
) -> None:
    model = LearnedRanker(n_estimators=20, pool_fresh=30).fit(
        ratings, vectors, item_categories=genres, published_at=released
    )
    assert "fresh" in model.stage_.sources_ and "fresh_score" in model.feature_names_
    user = ratings.users.ids[0]
    (rec,) = model.recommend([user], 10**6)
    newest = max(released, key=released.__getitem__)
    assert dict(rec)[newest] > 1.0, "the newest item is a candidate"
    clone = model_pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.recommend([user], 20)[0].scores, rec.scores[:20])
    # a user without history gets popularity: no training group had an empty history
    (cold,) = model.recommend(["nobody"], 20)
    counts = np.bincount(ratings.item_pos, minlength=len(ratings.items))
    expected = ratings.items.ids_at(np.argsort(-counts, kind="stable")[:20])
    assert list(cold.item_ids) == list(expected)


def test_bad_parameters(ratings: Interactions, vectors: ItemVectors) -> None:
    for params in (
        {"label_fraction": 1.0},
        {"min_label_interactions": 1},
        {"n_estimators": 0},
        {"als_factors": -1},
        {"pool_ease": -1},
        {"max_history": 0},
        {
            "pool_ease": 0,
            "pool_knn": 0,
            "pool_content": 0,
            "pool_popularity": 0,
            "pool_trending": 0,
            "pool_fresh": 0,
        },
    ):
        with pytest.raises(InvalidInput):
            LearnedRanker(**params).fit(ratings, vectors)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="item vectors"):
        LearnedRanker().fit(ratings)


@pytest.mark.slow
def test_learns_to_beat_its_first_source(
    vectors: ItemVectors, genres: dict[str, list[str]]
) -> None:
    """On 20,000 ratings split by time per user, the learned order beats the plain order of
    its strongest source (EASE with recency) on held-out NDCG@10 (0.131 against 0.121 when
    written; popularity 0.078)."""
    data = read_sample_ratings(20_000)
    train, test = user_temporal_split(data, 0.2, 5)
    users = sorted(test)

    def ndcg(model: object) -> float:
        recs = model.recommend(users, 10)  # type: ignore[attr-defined]
        return topn_metrics(recs, test, k=10, n_items=len(train.items))["ndcg@10"]

    ranker = LearnedRanker(n_estimators=100, num_leaves=15).fit(
        train, vectors, item_categories=genres
    )
    ease = make_recommender("ease", l2=800.0, recency_half_life=4.0).fit(train)
    popularity = make_recommender("popularity", half_life_days=None).fit(train)
    scores = {"ranker": ndcg(ranker), "ease": ndcg(ease), "popularity": ndcg(popularity)}
    assert scores["ranker"] > scores["ease"] > scores["popularity"], scores


@pytest.mark.slow
def test_compiled_boosters_serve_the_same_scores(
    fitted: LearnedRanker, ratings: Interactions
) -> None:
    model = model_pickle.loads(pickle.dumps(fitted))  # a copy: the module's fixture stays as fitted
    users = list(ratings.users.ids[:8])
    before = model.recommend(users, 30)
    model.prepare_serving()
    assert model._compiled is not None and len(model._compiled) == model.n_boosters
    after = model.recommend(users, 30)
    for b, a in zip(before, after, strict=True):
        assert a.item_ids == b.item_ids
        np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=1e-9)
    # machine code is never pickled: a reloaded model serves through LightGBM again
    again = model_pickle.loads(pickle.dumps(model))
    assert getattr(again, "_compiled", None) is None
    assert [r.item_ids for r in again.recommend(users, 30)] == [r.item_ids for r in before]


@pytest.mark.slow
def test_compiled_boosters_are_kept_on_disk_for_the_next_process(
    fitted: LearnedRanker, ratings: Interactions, tmp_path: Path
) -> None:
    """A restarted server compiled the same boosters again (seconds); with a cache folder the
    second copy loads the machine code, serves the same scores, and leaves the files as
    they were. A file cut short is compiled again (LLVM aborts the process on one). Another
    booster's code, intact, is deleted (the probe check catches it) and LightGBM serves."""
    cache = tmp_path / "cache"
    users = list(ratings.users.ids[:8])
    expected = [r.scores for r in fitted.recommend(users, 30)]

    def prepared() -> LearnedRanker:
        model = model_pickle.loads(pickle.dumps(fitted))
        model.prepare_serving(cache)
        for got, want in zip(model.recommend(users, 30), expected, strict=True):
            np.testing.assert_allclose(got.scores, want, rtol=0, atol=1e-9)
        return model

    first = prepared()
    code = sorted(cache.glob("*.o"))
    assert len(code) == first.n_boosters and len(list(cache.glob("*.sha256"))) == len(code)
    assert cache.stat().st_mode & 0o077 == 0  # code run from here: the user's folder alone
    written = {f: f.read_bytes() for f in cache.iterdir()}
    assert len(written) == 2 * len(code)
    second = prepared()
    assert second._compiled is not None and len(second._compiled) == second.n_boosters
    assert {f: f.read_bytes() for f in cache.iterdir()} == written

    with code[0].open("r+b") as f:  # a disk that failed, a copy cut short
        f.truncate(len(written[code[0]]) // 2)
    assert prepared()._compiled is not None
    assert {f: f.read_bytes() for f in cache.iterdir()} == written  # compiled and kept again

    # another booster's code under this booster's name, with its digest: intact, so it is
    # loaded, refused by the probe check, and removed
    for a, b in (
        (code[0], code[1]),
        (code[0].with_suffix(".sha256"), code[1].with_suffix(".sha256")),
    ):
        a.write_bytes(written[b])
        b.write_bytes(written[a])
    assert prepared()._compiled is None
    assert sum(f.exists() for f in code[:2]) == 1


@pytest.mark.slow
def test_a_cache_folder_that_cannot_be_written_only_costs_the_compile(
    fitted: LearnedRanker, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    model = model_pickle.loads(pickle.dumps(fitted))
    model.prepare_serving(blocked / "cache")
    assert model._compiled is not None and blocked.read_text() == "not a folder"


def test_explains_with_its_collaborative_sources(
    fitted: LearnedRanker, ratings: Interactions
) -> None:
    """EASE's strongest link first, kNN's for what EASE cannot place; always a history item."""
    user = ratings.users.ids[0]
    rows = np.flatnonzero(ratings.user_pos == 0)
    history = ratings.items.ids_at(ratings.item_pos[rows[np.argsort(ratings.timestamps[rows])]])
    rec = fitted.recommend([user], 20)[0]
    found = fitted.explain(history, rec.item_ids)
    ease = fitted.stage_.sources_["ease"].model_.explain(history, rec.item_ids)  # type: ignore[attr-defined]
    assert ease and {i: found[i] for i in ease} == ease
    assert len(found) >= len(ease) and set(found.values()) <= set(history)


def test_history_cap_scores_the_newest_items_only(
    fitted: LearnedRanker, ratings: Interactions
) -> None:
    """With `max_history` a long history is scored by its newest items, and every item it
    holds (old ones too) stays out of the feed."""
    heavy = max(ratings.users.ids, key=lambda u: len(fitted._histories([u], None)[0].indices))
    hist, seen = fitted._histories([heavy], None)
    assert hist.nnz > 5
    capped = model_pickle.loads(pickle.dumps(fitted))
    capped.stage_.params["max_history"] = 5
    _, cols, _, _ = capped.stage_.features([heavy], hist)
    assert not set(cols) & set(seen.indices)
    before = fitted.recommend([heavy], 10)[0].item_ids
    after = capped.recommend([heavy], 10)[0].item_ids
    assert before != after  # the cap changes what is scored
    assert not set(after) & {fitted.items_.ids[i] for i in seen.indices}

"""Candidate sources and `merge`, on the MovieLens sample bundled with feedcraft.

The first 5,000 ratings (32 users) train; movie genres give the categories and, with a little
seeded noise against ties, the item vectors; the year in each title is the publication date.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from feedcraft.domain import IdIndex, Interactions, ItemVectors, Recommendations
from feedcraft.errors import InvalidInput, NotFitted
from feedcraft.recommenders.candidates import (
    CandidateSource,
    CollaborativeSource,
    ContentSource,
    ExactSearch,
    FreshSource,
    PopularitySource,
    TrendingSource,
    merge,
)
from feedcraft.recommenders.ease import EASERecommender
from feedcraft.recommenders.itemknn import ItemKNNRecommender

K = 20


pytestmark = pytest.mark.usefixtures("one_blas_thread")


def history(data: Interactions, user: str) -> list[str]:
    """The user's items, oldest first (ties by data order)."""
    idx = np.flatnonzero(data.user_pos == data.users.position(user))
    idx = idx[np.argsort(data.timestamps[idx], kind="stable")]
    return data.items.ids_at(data.item_pos[idx])


def check_lists(recs: list[Recommendations], data: Interactions, k: int) -> None:
    for rec in recs:
        assert len(rec) <= k
        assert len(set(rec.item_ids)) == len(rec), "duplicates"
        assert np.all(np.diff(rec.scores) <= 0), "not best first"
        assert np.all(np.isfinite(rec.scores))
        if rec.user_id in data.users:
            assert not set(rec.item_ids) & set(history(data, rec.user_id)), "seen item"


def test_every_source_follows_the_protocol(
    ratings: Interactions,
    vectors: ItemVectors,
    genres: dict[str, list[str]],
    released: dict[str, float],
) -> None:
    sources = [
        CollaborativeSource(EASERecommender(l2=50.0)),
        CollaborativeSource(ItemKNNRecommender(), name="knn"),
        ContentSource(),
        PopularitySource(),
        TrendingSource(half_life_days=30.0),
        FreshSource(released, genres),
    ]
    users = list(ratings.users.ids)
    for source in sources:
        assert isinstance(source, CandidateSource)
        with pytest.raises(NotFitted):
            source.generate(users[:1], K)
        assert source.fit(ratings, vectors) is source
        recs = source.generate(users, K)
        assert [r.user_id for r in recs] == users
        check_lists(recs, ratings, K)
        assert source.generate(users[:1], 0)[0].item_ids == ()
        with pytest.raises(InvalidInput):
            source.generate(users[:1], -1)
    assert [s.name for s in sources] == [
        "ease",
        "knn",
        "content",
        "popularity",
        "trending",
        "fresh",
    ]


def test_collaborative_source_is_its_model(ratings: Interactions) -> None:
    users = list(ratings.users.ids)
    template = EASERecommender(l2=50.0, recency_half_life=4.0)
    source = CollaborativeSource(template).fit(ratings)
    assert not hasattr(template, "interactions_"), "the template itself is not fitted"
    expected = EASERecommender(l2=50.0, recency_half_life=4.0).fit(ratings).recommend(users, K)
    for got, want in zip(source.generate(users, K), expected, strict=True):
        assert got.item_ids == want.item_ids
        np.testing.assert_allclose(got.scores, want.scores)
    # a given history replaces the user's, exactly as for the model
    other = history(ratings, users[7])[:15]
    (got,) = source.generate(["stranger"], K, histories={"stranger": other})
    (want,) = source.model_.recommend(["stranger"], K, histories={"stranger": other})
    assert got.item_ids == want.item_ids


def test_collaborative_source_never_proposes_unseen_catalogue(
    ratings: Interactions, vectors: ItemVectors
) -> None:
    """On the whole catalogue, the CF model still learns only the interacted items."""
    catalogue = ratings.with_items(dict.fromkeys([*ratings.items.ids, *vectors.ids.ids[:3000]]))
    source = CollaborativeSource(ItemKNNRecommender()).fit(catalogue)
    assert len(source.model_.items_) == len(ratings.items)
    assert len(source.items_) > len(ratings.items)
    interacted = set(ratings.items.ids)
    for rec in source.generate(list(ratings.users.ids), 200):
        assert set(rec.item_ids) <= interacted


def test_content_source_profile_and_search(ratings: Interactions, vectors: ItemVectors) -> None:
    source = ContentSource(recency_half_life=2.0).fit(ratings, vectors)
    user = ratings.users.id_at(4)
    items = history(ratings, user)
    # by hand: newest item weight 1, halving every 2 items back (distinct items, last time)
    last = {item: i for i, item in enumerate(items)}
    order = sorted(last, key=last.__getitem__)
    w = np.exp2(-(len(order) - 1 - np.arange(len(order))) / 2.0)
    profile = (w[:, None] * vectors.rows(order)).sum(axis=0)
    profile /= np.linalg.norm(profile)
    cos = vectors.matrix @ profile
    cos[vectors.ids.positions(order)] = -np.inf
    want = [vectors.ids.id_at(int(i)) for i in np.argsort(-cos, kind="stable")[:K]]
    (rec,) = source.generate([user], K)
    assert list(rec.item_ids) == want
    np.testing.assert_allclose(rec.scores, np.sort(cos)[::-1][:K], rtol=1e-5)
    # the bulk path agrees with the search path
    hist, _ = source.rows([user], None)
    bulk = source.score_matrix([user], hist)[0]
    np.testing.assert_allclose(bulk[source.items_.positions(want)], rec.scores, rtol=1e-5)
    # items nobody rated are reachable: content is the cold-item source
    assert set(rec.item_ids) - set(ratings.items.ids)


def test_content_source_uses_the_given_search(
    ratings: Interactions, vectors: ItemVectors, genres: dict[str, list[str]]
) -> None:
    """A search over a smaller index (as an ANN store might hold) decides the proposals."""
    comedies = [i for i, gs in genres.items() if "Comedy" in gs]
    index = ExactSearch(IdIndex(comedies), vectors.rows(comedies))
    calls: list[int] = []

    def search(query: np.ndarray, k: int, exclude: Sequence[str]) -> list[tuple[str, float]]:
        calls.append(k)
        return index(query, k, exclude)

    source = ContentSource(search=search).fit(ratings, vectors)
    users = list(ratings.users.ids[:5])
    recs = source.generate(users, K)
    assert calls == [K] * len(users)
    check_lists(recs, ratings, K)
    for rec in recs:
        assert len(rec) == K and set(rec.item_ids) <= set(comedies)
    # a user with no usable history gets nothing from content (other sources cover them)
    assert source.generate(["nobody"], K)[0].item_ids == ()
    assert source.generate(["new"], K, histories={"new": ["no-such-item"]})[0].item_ids == ()
    with pytest.raises(InvalidInput, match="item vectors"):
        ContentSource().fit(ratings)


def test_popularity_counts_and_decay(ratings: Interactions) -> None:
    counts = np.bincount(ratings.item_pos, minlength=len(ratings.items))
    (rec,) = PopularitySource().fit(ratings).generate(["nobody"], K)
    np.testing.assert_array_equal(rec.scores, np.sort(counts)[::-1][:K])
    assert rec.item_ids[0] == ratings.items.id_at(int(np.argmax(counts)))
    # a short half-life favours what was rated lately
    newest = ratings.timestamps.max()
    recent = ratings.timestamps > newest - 365 * 86400
    (decayed,) = PopularitySource(half_life_days=30.0).fit(ratings).generate(["nobody"], K)
    recent_items = set(ratings.items.ids_at(np.unique(ratings.item_pos[recent])))
    assert set(decayed.item_ids) <= recent_items
    assert decayed.item_ids != rec.item_ids
    # seen items are excluded per user
    user = ratings.users.id_at(0)
    (mine,) = PopularitySource().fit(ratings).generate([user], K)
    assert not set(mine.item_ids) & set(history(ratings, user))


def test_trending_is_lift_over_the_long_run(ratings: Interactions) -> None:
    source = TrendingSource(half_life_days=90.0, baseline_half_life_days=None).fit(ratings)
    ts = ratings.timestamps
    recent = np.bincount(
        ratings.item_pos,
        weights=np.exp2(-(ts.max() - ts) / 86400.0 / 90.0),
        minlength=len(ratings.items),
    )
    base = np.bincount(ratings.item_pos, minlength=len(ratings.items)).astype(float)
    lift = recent - recent.sum() / base.sum() * base
    (rec,) = source.generate(["nobody"], K)
    want = np.argsort(-lift, kind="stable")[: len(rec)]
    assert list(rec.item_ids) == ratings.items.ids_at(want)
    np.testing.assert_allclose(rec.scores, lift[want])
    assert np.all(rec.scores > 0), "only rising items are proposed"


def test_fresh_items_newest_first_and_followed_categories(
    ratings: Interactions, genres: dict[str, list[str]], released: dict[str, float]
) -> None:
    plain = FreshSource(released).fit(ratings)
    (rec,) = plain.generate(["nobody"], K)
    newest = sorted(released.values(), reverse=True)[:K]
    np.testing.assert_allclose(rec.scores, np.array(newest) / 86400.0)
    # with categories, a user sees only the genres they follow (>= 20% of their history)
    source = FreshSource(released, genres, follow_share=0.2).fit(ratings)
    for user in ratings.users.ids[:10]:
        items = history(ratings, user)
        share = {
            g: sum(g in genres[i] for i in items) / len(items) for i in items for g in genres[i]
        }
        followed = {g for g, s in share.items() if s >= 0.2}
        assert followed, "every user here follows a genre"
        (rec,) = source.generate([user], K)
        assert len(rec) == K
        for item in rec.item_ids:
            assert followed & set(genres[item]), (user, item)
    # a user with no history sees the newest of all
    (cold,) = source.generate(["nobody"], K)
    assert cold.item_ids == plain.generate(["nobody"], K)[0].item_ids
    with pytest.raises(InvalidInput, match="follow_share"):
        FreshSource(released, genres, follow_share=0.0).fit(ratings)


def test_merge_keeps_every_source_and_provenance(
    ratings: Interactions, vectors: ItemVectors
) -> None:
    sources = {
        "ease": CollaborativeSource(EASERecommender(l2=50.0)).fit(ratings),
        "content": ContentSource().fit(ratings, vectors),
        "popularity": PopularitySource().fit(ratings),
    }
    users = list(ratings.users.ids)
    lists = {name: s.generate(users, K) for name, s in sources.items()}
    merged = merge(lists)
    assert [c.user_id for c in merged] == users
    for u, cands in enumerate(merged):
        assert cands.sources == ("ease", "content", "popularity")
        union = set().union(*(lists[n][u].item_ids for n in lists))
        assert set(cands.item_ids) == union and len(cands) == len(union), "de-duplicated"
        for s, name in enumerate(cands.sources):
            rec = lists[name][u]
            for rank, (item, score) in enumerate(rec):
                j = cands.item_ids.index(item)
                assert cands.ranks[j, s] == rank
                assert cands.scores[j, s] == score
                assert name in cands.proposed_by(j)
        # not proposed: rank -1, score NaN
        assert np.array_equal(cands.ranks < 0, np.isnan(cands.scores))
        best = np.where(cands.ranks < 0, 10**9, cands.ranks).min(axis=1)
        assert np.all(np.diff(best) >= 0), "best-ranked first"
    # items several sources agree on exist here (popular ones, for EASE and popularity)
    assert any(len(c.proposed_by(j)) > 1 for c in merged for j in range(len(c)))


def test_merge_rejects_misaligned_lists() -> None:
    a = [Recommendations("u1", ("x",), np.array([1.0]))]
    b = [Recommendations("u2", ("x",), np.array([1.0]))]
    with pytest.raises(InvalidInput, match="user order"):
        merge({"a": a, "b": b})
    with pytest.raises(InvalidInput, match="lists"):
        merge({"a": a, "b": [*b, *b]})
    assert merge({}) == []

"""ALS and BPR over `implicit`: determinism with a seed, the fold-in, the item space."""

from __future__ import annotations

import numpy as np
import pytest

from feedcraft.domain import Interactions
from feedcraft.errors import InvalidInput
from feedcraft.recommenders.factorization import ALSRecommender, BPRRecommender, fold_in

implicit = pytest.importorskip("implicit")


def test_als_is_deterministic_with_a_seed(ml_small: Interactions) -> None:
    a = ALSRecommender(factors=16, random_state=7).fit(ml_small)
    b = ALSRecommender(factors=16, random_state=7).fit(ml_small)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    other = ALSRecommender(factors=16, random_state=8).fit(ml_small)
    assert not np.array_equal(a.item_factors_, other.item_factors_)


def test_als_is_deterministic_with_two_threads(ml_small: Interactions) -> None:
    """Users, then items, are solved independently: threads cannot change the result."""
    one = ALSRecommender(factors=16, num_threads=1).fit(ml_small)
    two = ALSRecommender(factors=16, num_threads=2).fit(ml_small)
    np.testing.assert_array_equal(one.item_factors_, two.item_factors_)


def test_bpr_is_deterministic_with_one_thread(ml_small: Interactions) -> None:
    a = BPRRecommender(factors=16, iterations=20, random_state=3).fit(ml_small)
    b = BPRRecommender(factors=16, iterations=20, random_state=3).fit(ml_small)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    assert a.item_factors_.shape == (len(ml_small.items), 17)  # the last column is a bias


def test_fold_in_equals_implicit_recalculate_user(ml_small: Interactions) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    x = ml_small.matrix(binary=True).astype(np.float32).tocsr()
    model = AlternatingLeastSquares(
        factors=16, regularization=0.1, alpha=3.0, random_state=1, num_threads=1
    )
    model.fit(x, show_progress=False)
    users = np.arange(x.shape[0])
    expected = model.recalculate_user(users, x)
    got = fold_in(x, model.item_factors, 0.1, 3.0)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def test_scores_are_folded_user_times_item_factors(ml_small: Interactions) -> None:
    model = ALSRecommender(factors=16).fit(ml_small)
    user = ml_small.users.id_at(1)
    hist, _ = model._histories([user], None)
    u = fold_in(hist.sign(), model.item_factors_, model.regularization, model.alpha)[0]
    raw = model.item_factors_ @ u
    items = list(ml_small.items.ids[:40])
    got = model.score(user, items)
    # the score is a monotone squash of the raw dot product (plus a tiny popularity tie-break)
    np.testing.assert_allclose(got, raw[:40] / (1 + np.abs(raw[:40])), atol=1e-8)


def test_a_history_replaces_the_fitted_user(ml_small: Interactions) -> None:
    model = ALSRecommender(factors=16).fit(ml_small)
    known = ml_small.users.id_at(4)
    other = ml_small.users.id_at(9)
    history = list(
        ml_small.items.ids_at(
            ml_small.item_pos[ml_small.user_pos == ml_small.users.position(other)]
        )
    )
    (mine,) = model.recommend(["stranger"], 10, histories={"stranger": history})
    (theirs,) = model.recommend([other], 10)
    assert mine.item_ids == theirs.item_ids
    assert model.recommend([known], 10)[0].item_ids != theirs.item_ids


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (ALSRecommender, {"factors": 0}),
        (ALSRecommender, {"alpha": 0.0}),
        (ALSRecommender, {"regularization": -1.0}),
        (BPRRecommender, {"learning_rate": 0.0}),
        (BPRRecommender, {"fold_in_regularization": 0.0}),
        (BPRRecommender, {"num_threads": -1}),
    ],
)
def test_bad_parameters(
    ml_small: Interactions, cls: type[ALSRecommender | BPRRecommender], params: dict[str, float]
) -> None:
    with pytest.raises(InvalidInput):
        cls(**params).fit(ml_small)  # type: ignore[arg-type]

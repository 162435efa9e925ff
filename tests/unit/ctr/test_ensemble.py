"""HeadlineEnsemble on real Upworthy A/B tests (../shared/data), with hashing-encoder members
so that every test runs in seconds; the MiniLM ensemble is measured in
benchmarks/headline_ensemble.py."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from feedcraft.ctr import (
    FineTunedHeadlineModel,
    HeadlineClickModel,
    HeadlineEnsemble,
    HeadlineVariants,
)
from feedcraft.embeddings import Encoder, HashingEncoder
from feedcraft.errors import InvalidInput, NotFitted
from feedcraft.services.headlines import UPWORTHY_FILE, read_upworthy
from feedcraft.storage import model_pickle
from shareddata import shared_path


@pytest.fixture(scope="module")
def small() -> HeadlineVariants:
    archive = read_upworthy(shared_path(UPWORTHY_FILE))
    tw = archive.test_weeks
    return archive.subset((tw >= 201440) & (tw <= 201443))


def _linear(dim: int, alpha: float = 0.1) -> HeadlineClickModel:
    return HeadlineClickModel(
        encoder=f"hashing-{dim}", fields=("headline",), alpha=alpha, max_iter=50
    )


@pytest.fixture(scope="module")
def pair(small: HeadlineVariants) -> HeadlineEnsemble:
    return HeadlineEnsemble([_linear(64), _linear(128, alpha=10.0)], weights=[1, 3]).fit(small)


class _Constant:
    """A scorer a user might plug in that cannot rank: every headline scores the same."""

    encoder_name_ = None

    def fit(self, variants: HeadlineVariants, **_: object) -> _Constant:
        return self

    def score(
        self,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> np.ndarray:
        return np.zeros(len(headlines))


def test_the_lift_is_the_weighted_mean_of_standardised_member_lifts(
    pair: HeadlineEnsemble, small: HeadlineVariants
) -> None:
    heads = list(small.headlines[:200])
    f = [m.score(heads) for m in pair.members_]
    np.testing.assert_allclose(pair.weights_, [0.25, 0.75])
    assert pair.unit_ == pytest.approx(0.25 * pair.scales_[0] + 0.75 * pair.scales_[1])
    expected = pair.unit_ * (0.25 * f[0] / pair.scales_[0] + 0.75 * f[1] / pair.scales_[1])
    np.testing.assert_allclose(pair.score(heads), expected, rtol=1e-12)
    # the members' spreads differ ~20-fold (alpha 0.1 against 10): unstandardised, the wider
    # one would decide alone whatever the weights said
    assert pair.scales_[0] > 5 * pair.scales_[1]
    p = pair.predict_proba(heads)
    assert np.all((p > 0) & (p < 1)) and pair.base_ctr_ == small.typical_ctr
    order = np.argsort(pair.score(heads))
    assert np.all(np.diff(p[order]) >= 0)


def test_fit_trains_copies_and_prefit_takes_members_as_they_are(
    small: HeadlineVariants,
) -> None:
    a, b = _linear(64), _linear(128)
    fitted = HeadlineEnsemble([a, b]).fit(small)
    assert not hasattr(a, "coef_") and not hasattr(b, "coef_")  # the originals stay unfitted
    assert all(hasattr(m, "coef_") for m in fitted.members_)
    a.fit(small)
    coef = a.coef_.copy()
    joined = HeadlineEnsemble([a, fitted.members_[1]], prefit=True).fit(small)
    assert joined.members_[0] is a and np.array_equal(a.coef_, coef)  # not refitted
    heads = list(small.headlines[:100])
    np.testing.assert_allclose(joined.score(heads), fitted.score(heads), rtol=1e-9)


def test_a_member_with_weight_zero_leaves_the_other_alone(
    pair: HeadlineEnsemble, small: HeadlineVariants
) -> None:
    only = HeadlineEnsemble(pair.members_, weights=[0, 2], prefit=True).fit(small)
    heads = list(small.headlines[:100])
    # unit = the one member's spread, so its lifts come back unchanged, in its own units
    np.testing.assert_allclose(only.score(heads), pair.members_[1].score(heads), rtol=1e-9)


def test_pickles_nests_and_routes_an_encoder_to_its_own_members(
    pair: HeadlineEnsemble, small: HeadlineVariants
) -> None:
    heads = list(small.headlines[:100])
    again = model_pickle.loads(pickle.dumps(pair))
    np.testing.assert_allclose(again.score(heads), pair.score(heads))
    # hashing-64 goes to the member trained with it; the other builds its own hashing-128
    np.testing.assert_allclose(pair.score(heads, encoder=HashingEncoder(64)), pair.score(heads))
    nested = HeadlineEnsemble([pair, _linear(32)]).fit(small)
    assert nested.members_[0] is not pair  # fitted as a copy, members and all
    s = nested.score(heads, encoder=HashingEncoder(128))
    assert s.shape == (100,) and np.isfinite(s).all() and np.std(s) > 0


def test_refuses_misuse(pair: HeadlineEnsemble, small: HeadlineVariants) -> None:
    with pytest.raises(NotFitted):
        HeadlineEnsemble([_linear(64)]).score(["x"])
    for members, weights, field in (
        ([], None, "members"),
        ("hashing", None, "members"),
        ([object()], None, "members"),
        ([_linear(64)], [1, 1], "weights"),
        ([_linear(64), _linear(32)], [1, -1], "weights"),
        ([_linear(64), _linear(32)], [0, 0], "weights"),
        ([_linear(64), _linear(32)], [1, float("nan")], "weights"),
    ):
        with pytest.raises(InvalidInput) as err:
            HeadlineEnsemble(members, weights=weights).fit(small)  # type: ignore[arg-type]
        assert err.value.field == field, (members, weights)
    with pytest.raises(InvalidInput, match="member 1 is not fitted"):
        HeadlineEnsemble([pair.members_[0], _linear(32)], prefit=True).fit(small)
    with pytest.raises(InvalidInput, match="member 1 gives every sampled headline the same"):
        HeadlineEnsemble([_linear(64), _Constant()]).fit(small)
    with pytest.raises(InvalidInput, match="scale_sample"):
        HeadlineEnsemble([_linear(64)], scale_sample=1).fit(small)
    with pytest.raises(InvalidInput, match="excerpts"):
        pair.score(["x", "y"], excerpts=["only one"])


@pytest.mark.slow
def test_the_machine_cache_reaches_members_and_their_trained_copies_but_no_pickle(
    small: HeadlineVariants, tmp_path: Path
) -> None:
    """A fine-tuned member keeps its backbone's conversion in this machine's cache folder; the
    folder is a run-time setting: given to the copies `fit` trains, never pickled."""
    tuned = FineTunedHeadlineModel(epochs=0, trainable_layers=1)
    ensemble = HeadlineEnsemble([tuned, _linear(64)]).use_machine_cache(tmp_path)
    assert tuned._machine_cache == tmp_path
    fitted = ensemble.fit(small.subset(small.test_weeks == small.test_weeks.min()))
    assert fitted.members_[0] is not tuned and fitted.members_[0]._machine_cache == tmp_path
    blob = pickle.dumps(fitted)
    assert str(tmp_path).encode() not in blob
    again = model_pickle.loads(blob)
    assert not hasattr(again, "_machine_cache")
    assert not hasattr(again.members_[0], "_machine_cache")
    heads = list(small.headlines[:50])
    np.testing.assert_allclose(again.score(heads), fitted.score(heads), rtol=1e-6)

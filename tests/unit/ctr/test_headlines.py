"""The headline click model and its metric, on real Upworthy A/B tests (../shared/data)."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

import numpy as np
import pytest

from feedcraft.ctr import (
    LEXICAL_FEATURES,
    EmbeddingDiffLR,
    HeadlineClickModel,
    HeadlineVariants,
    LexicalPairwiseLR,
    PairAccuracy,
    lexical_features,
    pairwise_accuracy,
    winner_pairs,
)
from feedcraft.embeddings import Encoder, HashingEncoder
from feedcraft.errors import InvalidInput, NotFitted
from feedcraft.services.headlines import UPWORTHY_FILE, read_upworthy
from feedcraft.storage import model_pickle
from shareddata import shared_path


@pytest.fixture(scope="module")
def archive() -> HeadlineVariants:
    return read_upworthy(shared_path(UPWORTHY_FILE))


@pytest.fixture(scope="module")
def small(archive: HeadlineVariants) -> HeadlineVariants:
    """Tests of late 2014 (weeks 201440-201443): ~1,800 variants, small enough for every run."""
    tw = archive.test_weeks
    return archive.subset((tw >= 201440) & (tw <= 201443))


def _tiny() -> HeadlineVariants:
    return HeadlineVariants.create(
        ["a", "a", "a", "b", "b", "c"],
        ["Big news", "Big news!", "Big news", "One", "Two", "Alone"],
        [100, 100, 200, 50, 50, 10],
        [10, 5, 20, 1, 1, 3],
        image_ids=["x", "y", "x", "", "", ""],
        weeks=[201401, 201401, 201402, 201405, 201405, 201406],
    )


def test_winner_pairs_keep_only_different_headlines_with_different_ctrs() -> None:
    v = _tiny()
    pairs = winner_pairs(v)
    # test a: (0,1) differ in headline and CTR; (0,2) same headline; (1,2) 5% vs 10%.
    # test b: equal CTRs (1/50 each) -> no pair; test c has one variant.
    assert list(zip(pairs.first.tolist(), pairs.second.tolist(), strict=True)) == [(0, 1), (1, 2)]
    assert pairs.first_wins.tolist() == [True, False]
    assert pairs.groups.tolist() == [0, 0]


def test_pairwise_accuracy_counts_ties_as_half_and_resamples_tests() -> None:
    v = _tiny()
    pairs = winner_pairs(v)
    right = pairwise_accuracy(v.ctr, pairs, n_boot=50)
    wrong = pairwise_accuracy(-v.ctr, pairs, n_boot=50)
    tied = pairwise_accuracy(np.zeros(len(v)), pairs, n_boot=50)
    assert (right.accuracy, wrong.accuracy, tied.accuracy) == (1.0, 0.0, 0.5)
    assert right.tests == 1 and right.pairs == 2
    with pytest.raises(InvalidInput, match="scores"):
        pairwise_accuracy(np.zeros(2), pairs)


def test_variants_validate_counts_and_split_by_test_week() -> None:
    with pytest.raises(InvalidInput, match="clicks"):
        HeadlineVariants.create(["a"], ["h"], [1], [2])
    with pytest.raises(InvalidInput, match="headlines"):
        HeadlineVariants.create(["a", "a"], ["h"], [1, 1], [0, 0])
    v = HeadlineVariants.create(
        ["a", "a", "b"], ["x", "y", "z"], [10, 10, 10], [1, 2, 3], weeks=[201401, 201402, 201402]
    )
    early, late = v.split_by_week(201402)
    # test "a" started in 201401: both its variants stay together, even the one of 201402
    assert early.test_ids == ("a", "a") and late.test_ids == ("b",)


def test_lexical_features_see_the_cues_they_name() -> None:
    f = lexical_features(["Why You NEED This: 7 Facts?!", "a calm statement"])
    names = dict(zip(LEXICAL_FEATURES, f[0], strict=True))
    assert names["question_mark"] == names["exclamation"] == names["digit"] == 1.0
    assert names["second_person"] == names["question_word"] == names["colon"] == 1.0
    assert names["all_caps_words"] == 1.0
    assert f[1, 3:].sum() == 0.0  # none of the cues in a plain lower-case phrase


def test_click_model_fits_pickles_and_gives_probabilities(small: HeadlineVariants) -> None:
    enc = HashingEncoder(128)
    model = HeadlineClickModel(
        encoder="hashing-128", fields=("headline", "lede"), image_effects=True, max_iter=100
    )
    assert model.fit(small, encoder=enc) is model
    scores = model.score(small.headlines, small.excerpts, small.ledes, encoder=enc)
    p = model.predict_proba(small.headlines, small.excerpts, small.ledes, encoder=enc)
    assert np.all((p > 0) & (p < 1))
    order = np.argsort(scores)
    assert np.all(np.diff(p[order]) >= 0)  # p_click is monotone in the score
    # the median training package sits at base_ctr_; an average headline gets about that
    assert 0.005 < model.base_ctr_ < 0.05
    assert abs(np.median(p) - model.base_ctr_) < 0.5 * model.base_ctr_
    # images that differ inside a test got an effect; others did not
    assert model.image_effects_ and set(model.image_effects_) <= set(small.image_ids)
    again = model_pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.score(small.headlines[:50]), model.score(small.headlines[:50]))


def test_lexical_cues_are_clipped_to_the_training_range(small: HeadlineVariants) -> None:
    """Length enters linearly: a headline 45 times the archive's longest scored p_click 0.74
    (the base rate is ~0.014) by extrapolation; it now scores as the longest seen."""
    model = HeadlineClickModel(encoder="hashing-64", fields=(), max_iter=50).fit(small)
    longest = max(small.headlines, key=len)
    p = model.predict_proba([longest, " ".join([longest] * 50), " ".join([longest] * 1_000)])
    assert p[1] == pytest.approx(p[2])  # beyond the range, more length changes nothing
    chars = LEXICAL_FEATURES.index("chars")
    assert model.lexical_high_[chars] == max(len(h) for h in small.headlines)
    seen = model.predict_proba(small.headlines)
    assert p[2] <= 2 * seen.max()
    legacy = model_pickle.loads(pickle.dumps(model))
    del legacy.lexical_low_, legacy.lexical_high_  # saved before the range was kept
    assert legacy.predict_proba([longest])[0] == pytest.approx(p[0], rel=1e-3)


def test_click_model_refuses_misuse(small: HeadlineVariants) -> None:
    with pytest.raises(NotFitted):
        HeadlineClickModel(encoder="hashing").score(["x"])
    with pytest.raises(InvalidInput, match="fields"):
        HeadlineClickModel(fields=("title",)).fit(small)
    with pytest.raises(InvalidInput, match="alpha"):
        HeadlineClickModel(alpha=-1.0).fit(small)
    model = HeadlineClickModel(encoder="hashing-64", fields=("headline",), max_iter=20).fit(small)
    with pytest.raises(InvalidInput, match="encoder"):
        model.score(["x"], encoder=HashingEncoder(32))  # other vectors than in training
    with pytest.raises(InvalidInput, match="excerpts"):
        model.score(["x", "y"], excerpts=["only one"])
    no_pairs = HeadlineVariants.create(["a", "b"], ["x", "y"], [10, 10], [1, 1])
    with pytest.raises(InvalidInput, match="nothing to learn"):
        HeadlineClickModel(encoder="hashing").fit(no_pairs)
    with pytest.raises(InvalidInput, match="nothing to learn"):
        LexicalPairwiseLR().fit(no_pairs)


class _Memo:
    """Encodes each text once across the two models of a test (same name: same vectors)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.seen: dict[str, np.ndarray] = {}

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if todo:
            self.seen.update(zip(todo, self.inner.encode(todo), strict=True))
        return np.stack([self.seen[t] for t in texts])


def _held_out_accuracy(
    model: HeadlineClickModel | EmbeddingDiffLR,
    train: HeadlineVariants,
    test: HeadlineVariants,
    enc: Encoder,
) -> PairAccuracy:
    model.fit(train, encoder=enc)
    scores = model.score(test.headlines, test.excerpts, test.ledes, encoder=enc)
    return pairwise_accuracy(scores, winner_pairs(test), n_boot=500, seed=0)


@pytest.mark.slow
def test_minilm_click_model_beats_chance_on_later_weeks(archive: HeadlineVariants) -> None:
    """Trained on 2014 weeks 25-39, scored on weeks 40-45 it never saw (whole tests)."""
    from feedcraft.embeddings import SentenceTransformerEncoder

    tw = archive.test_weeks
    train = archive.subset((tw >= 201425) & (tw < 201440))
    test = archive.subset((tw >= 201440) & (tw <= 201445))
    enc = _Memo(SentenceTransformerEncoder(num_threads=2))
    model = HeadlineClickModel(fields=("headline",), alpha=0.1)
    acc = _held_out_accuracy(model, train, test, enc)
    assert acc.pairs > 1000
    assert acc.low > 0.5, acc  # the whole 95% interval above a coin flip
    baseline = _held_out_accuracy(EmbeddingDiffLR(C=0.1), train, test, enc)
    assert baseline.accuracy > 0.5

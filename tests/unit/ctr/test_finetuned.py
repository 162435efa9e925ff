"""The fine-tuned MiniLM headline model, on a few real Upworthy A/B tests (../shared/data).

Every test here loads MiniLM and trains or scores with it on one thread: a few seconds each.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from feedcraft.ctr import FineTunedHeadlineModel, HeadlineClickModel, HeadlineScorer
from feedcraft.ctr.data import HeadlineVariants
from feedcraft.ctr.objectives import nll_per_click
from feedcraft.embeddings import HashingEncoder, SentenceTransformerEncoder
from feedcraft.errors import InvalidInput, NotFitted
from feedcraft.services.headlines import (
    ARTIFACT,
    UPWORTHY_FILE,
    load_headline_model,
    read_upworthy,
    save_headline_model,
)
from feedcraft.storage import model_pickle, open_store
from shareddata import shared_path

pytestmark = pytest.mark.slow


def _nll(model: FineTunedHeadlineModel, v: HeadlineVariants) -> float:
    return nll_per_click(model.score(v.headlines), v)


@pytest.fixture(scope="module")
def archive() -> HeadlineVariants:
    return read_upworthy(shared_path(UPWORTHY_FILE))


@pytest.fixture(scope="module")
def train(archive: HeadlineVariants) -> HeadlineVariants:
    """The first 40 tests of week 201420 with at least one click (~190 variants)."""
    week = archive.subset(archive.test_weeks == 201420)
    keep = sorted(set(week.test_ids), key=week.test_ids.index)[:40]
    return week.subset(np.isin(np.array(week.test_ids), keep))


@pytest.fixture(scope="module")
def valid(archive: HeadlineVariants) -> HeadlineVariants:
    week = archive.subset(archive.test_weeks == 201436)
    keep = sorted(set(week.test_ids), key=week.test_ids.index)[:30]
    return week.subset(np.isin(np.array(week.test_ids), keep))


@pytest.fixture(scope="module")
def fitted(train: HeadlineVariants, valid: HeadlineVariants) -> FineTunedHeadlineModel:
    model = FineTunedHeadlineModel(
        trainable_layers=1, epochs=4, lr=3e-4, tests_per_batch=8, num_threads=1
    )
    return model.fit(train, validation=valid)


def test_epoch_zero_is_the_frozen_conditional_logit(train: HeadlineVariants) -> None:
    """Without training, the scores are those of HeadlineClickModel on MiniLM headline vectors
    (up to the near-constant dimensions left out of the head): pooling, scaling and head all
    reproduce the linear model the fine-tuning starts from."""
    zero = FineTunedHeadlineModel(trainable_layers=1, epochs=0, num_threads=1).fit(train)
    linear = HeadlineClickModel(fields=("headline",), lexical=False, alpha=0.1).fit(
        train, encoder=SentenceTransformerEncoder(num_threads=1)
    )
    a, b = zero.score(train.headlines), linear.score(train.headlines)
    assert np.corrcoef(a, b)[0, 1] > 0.999
    assert zero.best_epoch_ == 0 and len(zero.history_) == 1


def _you_rule(v: HeadlineVariants) -> tuple[HeadlineVariants, np.ndarray]:
    """The same real headlines with synthetic outcomes: a headline addressing the reader
    ("you", "your") draws twice the clicks, with counts large enough to leave no doubt."""
    you = np.array([bool(re.search(r"\byou", h, re.IGNORECASE)) for h in v.headlines])
    shown = np.full(len(v), 20_000.0)
    clicks = np.round(shown * 0.01 * np.where(you, 2.0, 1.0))
    return HeadlineVariants.create(v.test_ids, v.headlines, shown, clicks, weeks=v.weeks), you


def test_fine_tuning_learns_what_the_frozen_model_cannot(
    train: HeadlineVariants, valid: HeadlineVariants
) -> None:
    """With the head held near zero by a large penalty, the frozen model barely separates the
    rule; only a trained encoder layer can, and what it learns carries to unseen tests."""
    seen, _ = _you_rule(train)
    unseen, you = _you_rule(valid)
    kwargs = {"trainable_layers": 1, "alpha": 100.0, "tests_per_batch": 8, "num_threads": 1}
    frozen = FineTunedHeadlineModel(epochs=0, **kwargs).fit(seen)
    tuned = FineTunedHeadlineModel(epochs=4, lr=3e-4, **kwargs).fit(seen)
    assert tuned.best_epoch_ == 4
    assert _nll(tuned, seen) < tuned.history_[0]["train_nll"] - 0.002

    def gap(model: FineTunedHeadlineModel) -> float:
        s = model.score(unseen.headlines)
        return float(s[you].mean() - s[~you].mean())

    assert gap(tuned) > max(3 * gap(frozen), 0.02)
    assert _nll(tuned, unseen) < _nll(frozen, unseen)


def test_a_seed_reproduces_its_fit_and_another_seed_differs(train: HeadlineVariants) -> None:
    """What the seed ensemble of benchmarks/headline_finetune.py (--seeds) rests on: rerunning
    a seed gives the same model, and another seed is another draw of the training noise
    (dropout, batch order) from the same warm start."""
    kwargs = {"trainable_layers": 1, "epochs": 1, "lr": 3e-4, "tests_per_batch": 8}
    a, b, c = (
        FineTunedHeadlineModel(seed=seed, num_threads=1, **kwargs).fit(train) for seed in (0, 0, 1)
    )
    sa, sb, sc = (m.score(train.headlines) for m in (a, b, c))
    np.testing.assert_array_equal(sa, sb)
    assert a.history_[0] == c.history_[0]  # epoch 0: the same frozen warm start
    assert np.abs(sa - sc).max() > 1e-4


def test_the_between_test_loss_pulls_scores_towards_week_centred_ctr(
    archive: HeadlineVariants,
) -> None:
    """between_weight adds variation between tests as a second signal: the scores of the
    training variants move towards their log CTR against their week's mean, which the
    within-test likelihood alone never sees (a test's level cancels in its softmax)."""
    from feedcraft.ctr.objectives import week_centred_log_ctr

    weeks = archive.subset((archive.test_weeks >= 201420) & (archive.test_weeks < 201422))
    keep = sorted(set(weeks.test_ids), key=weeks.test_ids.index)[:60]
    part = weeks.subset(np.isin(np.array(weeks.test_ids), keep))
    target = week_centred_log_ctr(part)
    for w in np.unique(part.test_weeks):
        assert abs(target[part.test_weeks == w].mean()) < 1e-9
    row = 3
    raw = np.log((part.clicks[row] + 0.5) / (part.impressions[row] + 1.0))
    same = part.test_weeks == part.test_weeks[row]
    mean = np.log((part.clicks[same] + 0.5) / (part.impressions[same] + 1.0)).mean()
    assert target[row] == pytest.approx(raw - mean)

    kwargs = {"trainable_layers": 1, "epochs": 3, "lr": 3e-4, "tests_per_batch": 8}
    within = FineTunedHeadlineModel(num_threads=1, **kwargs).fit(part)
    both = FineTunedHeadlineModel(num_threads=1, between_weight=1.0, **kwargs).fit(part)

    def corr(m: FineTunedHeadlineModel) -> float:
        return float(np.corrcoef(m.score(part.headlines), target)[0, 1])

    assert corr(both) > corr(within) + 0.1


def test_validation_keeps_the_best_epoch(fitted: FineTunedHeadlineModel) -> None:
    assert isinstance(fitted, HeadlineScorer)
    assert [h["epoch"] for h in fitted.history_] == [0, 1, 2, 3, 4]
    accs = [h["val_accuracy"] for h in fitted.history_]
    assert fitted.best_epoch_ == int(np.argmax(accs))
    assert all(np.isfinite(h["val_nll"]) for h in fitted.history_)


def test_scores_probabilities_and_pickling(
    fitted: FineTunedHeadlineModel, valid: HeadlineVariants, tmp_path: Path
) -> None:
    heads = list(valid.headlines[:20])
    s = fitted.score(heads, valid.excerpts[:20], valid.ledes[:20])
    assert s.shape == (20,) and np.all(np.isfinite(s))
    # a headline's score does not depend on the others scored with it
    assert fitted.score(heads[:1])[0] == pytest.approx(s[0], abs=1e-5)
    p = fitted.predict_proba(heads)
    assert np.all((p > 0) & (p < 1))
    blob = pickle.dumps(fitted)
    assert len(blob) < 20_000_000  # one trained layer and the head, not the whole encoder
    again = model_pickle.loads(blob)
    assert not hasattr(again, "_runtime") or again._runtime is None
    np.testing.assert_allclose(again.score(heads), s, atol=1e-5)
    # the store's artifact path (services/headlines.py) stores it as it stores the default
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    version = save_headline_model(store, fitted, {"kind": "fine-tuned"})
    blob2, _ = store.artifacts.load(ARTIFACT, version)
    np.testing.assert_allclose(model_pickle.loads(blob2).score(heads), s, atol=1e-5)
    # and serving loads it back as the newest headline model (score-headlines, generation)
    loaded, name = load_headline_model(store)
    assert isinstance(loaded, FineTunedHeadlineModel) and f"v{version}" in name
    np.testing.assert_allclose(loaded.predict_proba(heads), fitted.predict_proba(heads), atol=1e-7)


def test_refuses_misuse(train: HeadlineVariants, fitted: FineTunedHeadlineModel) -> None:
    with pytest.raises(NotFitted):
        FineTunedHeadlineModel().score(["a headline"])
    for bad in ({"trainable_layers": 0}, {"trainable_layers": 7}, {"lr": -1.0}, {"epochs": -1}):
        with pytest.raises(InvalidInput):
            FineTunedHeadlineModel(num_threads=1, **bad).fit(train)
    for weight in (-0.1, float("nan")):
        with pytest.raises(InvalidInput) as err:
            FineTunedHeadlineModel(num_threads=1, between_weight=weight).fit(train)
        assert err.value.field == "between_weight"
    for precision in ("float16", "bf16", "FLOAT32"):
        with pytest.raises(InvalidInput) as err:
            FineTunedHeadlineModel(num_threads=1, precision=precision).fit(train)
        assert err.value.field == "precision"
    with pytest.raises(InvalidInput) as err:
        fitted.score(["a", "b"], excerpts=["only one"])
    assert err.value.field == "excerpts"
    with pytest.raises(InvalidInput) as err:
        fitted.score(["a"], encoder=HashingEncoder())
    assert err.value.field == "encoder"
    with pytest.raises(InvalidInput):
        fitted.score("a single string")


def test_bfloat16_fits_the_same_model_more_coarsely(train: HeadlineVariants) -> None:
    """precision="bfloat16" (autocast) changes the arithmetic of fit, not the model: the same
    seed gives nearly the same scores, scoring runs in float32 and the weights stay float32."""
    kwargs = {"trainable_layers": 1, "epochs": 1, "lr": 3e-4, "tests_per_batch": 8}
    full, half = (
        FineTunedHeadlineModel(precision=p, num_threads=1, **kwargs).fit(train)
        for p in ("float32", "bfloat16")
    )
    a, b = full.score(train.headlines), half.score(train.headlines)
    assert b.dtype == np.float64
    assert np.corrcoef(a, b)[0, 1] > 0.99
    assert 0 < np.abs(a - b).max() < 0.15 * a.std()  # 0.026 against sd 0.45 here
    assert half.history_[1]["train_nll"] < half.history_[0]["train_nll"] + 1e-3
    import io

    import torch

    state = torch.load(io.BytesIO(half.weights_), weights_only=True)
    assert {t.dtype for t in state.values() if t.is_floating_point()} == {torch.float32}


def test_refuses_devices_this_machine_lacks(train: HeadlineVariants) -> None:
    import torch

    bad = ["tpu", "not a device", "cuda:99"] + ([] if torch.cuda.is_available() else ["cuda"])
    for device in bad:
        with pytest.raises(InvalidInput) as err:
            FineTunedHeadlineModel(num_threads=1, epochs=0, device=device).fit(train)
        assert err.value.field == "device"


@pytest.mark.skipif(
    not __import__("torch").cuda.is_available(), reason="needs a CUDA device (run on a GPU box)"
)
def test_a_model_fitted_on_a_gpu_scores_the_same_on_the_cpu(
    train: HeadlineVariants, valid: HeadlineVariants
) -> None:
    gpu = FineTunedHeadlineModel(
        trainable_layers=1, epochs=2, lr=3e-4, tests_per_batch=8, device="cuda"
    ).fit(train, validation=valid)
    assert gpu.history_[-1]["train_nll"] < gpu.history_[0]["train_nll"]
    on_gpu = gpu.score(valid.headlines)
    moved = model_pickle.loads(pickle.dumps(gpu))
    moved.device = "cpu"
    np.testing.assert_allclose(moved.score(valid.headlines), on_gpu, atol=1e-4)


def test_a_model_saved_for_a_gpu_scores_on_a_machine_without_one(
    fitted: FineTunedHeadlineModel, valid: HeadlineVariants
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the fallback is for machines without one")
    moved = model_pickle.loads(pickle.dumps(fitted))
    moved.device = "cuda"  # as a model fitted on a GPU box arrives
    np.testing.assert_allclose(
        moved.score(valid.headlines), fitted.score(valid.headlines), atol=1e-9
    )
    moved.device = "tpu"  # not a device this model supports: an error, not a fallback
    with pytest.raises(InvalidInput) as err:
        moved.score(valid.headlines)
    assert err.value.field == "device"


def test_pooling_only_the_first_tokens_averages_exactly_those() -> None:
    """The mean of `make_top` with a pool mask, checked with no trained layer (the vector is
    then the lower states themselves): over a padded batch of "headline SEP lede" texts, each
    pools its headline's tokens alone, and without a mask every token."""
    import torch

    from feedcraft.ctr.backbone import load_backbone, lower_states, make_top, pad, pool_mask
    from feedcraft.ctr.models import DEFAULT_ENCODER

    _, tokenizer, bert = load_backbone(DEFAULT_ENCODER)
    n = len(bert.encoder.layer)
    heads = ["You won't believe this", "A short one"]
    texts = [f"{heads[0]} [SEP] a long lede about the story, read as context only", heads[1]]
    states = lower_states(tokenizer, bert, texts, n, 64, 8)
    lengths = [len(tokenizer(h)["input_ids"]) for h in heads]
    assert lengths[0] < states[0].shape[0] and lengths[1] == states[1].shape[0]
    top = make_top(bert, n)  # all layers frozen: no transformer layer in the trained part
    batch, mask = pad(states)
    with torch.no_grad():
        pooled = top.embed(batch, mask, pool_mask(mask, lengths))
        every = top.embed(batch, mask)
    for row, (s, k) in enumerate(zip(states, lengths, strict=True)):
        expect = torch.nn.functional.normalize(s[:k].mean(0), dim=0)
        torch.testing.assert_close(pooled[row], expect)
        torch.testing.assert_close(every[row], torch.nn.functional.normalize(s.mean(0), dim=0))
    assert not torch.allclose(pooled[0], every[0])


def test_a_lede_model_reads_the_lede_and_needs_it(
    train: HeadlineVariants, valid: HeadlineVariants
) -> None:
    """context="lede": the trained layer attends to the lede (another lede, another score), an
    empty lede reads the headline alone, and scoring without ledes is refused, not guessed."""
    model = FineTunedHeadlineModel(
        trainable_layers=1, epochs=1, lr=3e-4, tests_per_batch=8, num_threads=1, context="lede"
    ).fit(train, validation=valid)
    assert [row["epoch"] for row in model.history_] == [0, 1]
    h = train.headlines[0]
    one, other, empty = (
        model.score([h], ledes=[lede])[0] for lede in ("A dog saves a child.", "Taxes rose.", "")
    )
    assert abs(one - other) > 1e-4 and abs(one - empty) > 1e-4
    assert model.score([h, h], ledes=["", ""])[0] == pytest.approx(empty, abs=1e-6)
    np.testing.assert_allclose(
        model.score(train.headlines, ledes=train.ledes),
        model_pickle.loads(pickle.dumps(model)).score(train.headlines, ledes=train.ledes),
        atol=1e-6,
    )
    with pytest.raises(InvalidInput) as err:
        model.score([h])
    assert err.value.field == "ledes"
    with pytest.raises(InvalidInput) as err:
        FineTunedHeadlineModel(num_threads=1, context="body").fit(train)
    assert err.value.field == "context"

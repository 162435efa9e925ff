"""The NRMS-style user encoder on real data: it learns from impressions and from plain
interactions, keeps its fitted state free of torch objects, and stays reproducible.

The shared check suite (test_recommender_checks.py) covers the estimator contract; these
tests cover what is specific to a model trained by gradient descent on clicks.
"""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from feedcraft.config import Settings
from feedcraft.domain import IdIndex, Impression, Interactions, ItemVectors
from feedcraft.embeddings import HashingEncoder
from feedcraft.errors import InvalidInput
from feedcraft.evaluation.impressions import per_impression_metrics
from feedcraft.evaluation.splits import impression_user_split
from feedcraft.formats.mind import read_impressions, read_news
from feedcraft.recommenders.nrms import NRMSRecommender
from feedcraft.services.embedding import item_document
from feedcraft.services.evaluation import _fit_with_impressions, _impression_interactions
from feedcraft.storage import model_pickle

MIND = "mind-small/MINDsmall_train_sample"
#: Small and quick: the tests check learning, not the best accuracy.
SMALL = {"dim": 16, "heads": 2, "max_history": 20, "epochs": 4, "patience": 2}


class MindSlice:
    """The first `n` impressions of the MIND sample, users split 80/20 (seed 42) as
    `feedcraft evaluate` splits them, with hashing vectors of every article that has text."""

    def __init__(self, folder: Path, n: int) -> None:
        imps = list(itertools.islice(read_impressions(folder / "behaviors.tsv.gz"), n))
        self.train_imps, self.test_imps = impression_user_split(imps, 0.2, seed=42)
        items = list(read_news(folder / "news.tsv.gz"))
        self.vectors = ItemVectors(
            IdIndex(it.id for it in items),
            HashingEncoder(64).encode([item_document(it) for it in items]),
        )
        # the training users' items only, so that what the model saw can be told apart
        named = (i for m in self.train_imps for i in (*m.item_ids, *m.history))
        self.train = _impression_interactions(
            self.train_imps, IdIndex(sorted({*self.vectors.ids.ids, *named}))
        )

    def test_auc(self, model: NRMSRecommender) -> float:
        """Mean AUC over the held-out users' impressions, scored from their history."""
        labels, scores = [], []
        for imp in self.test_imps:
            labels.append(np.asarray(imp.clicked, np.int64))
            scores.append(model.score(imp.user_id, list(imp.item_ids), list(imp.history)))
        return float(per_impression_metrics(labels, scores)["auc"].mean())


@pytest.fixture(scope="module")
def mind(shared_path: Callable[[str], Path]) -> MindSlice:
    return MindSlice(shared_path(MIND), 1500)


@pytest.mark.slow
def test_learns_from_impressions_of_other_users(mind: MindSlice) -> None:
    """Trained on the training users' slates, it ranks held-out users' clicks well above
    random (0.5), and the run is reproducible."""
    model = NRMSRecommender(**SMALL).fit(mind.train, mind.vectors, impressions=mind.train_imps)
    auc = mind.test_auc(model)
    assert auc > 0.56, auc
    assert model.best_validation_auc_ > 0.5
    stages = [row["stage"] for row in model.training_log_]
    assert stages[0] == "prior" and "full" in stages
    # non-clicked candidates of training slates are part of the model's item space
    shown = {i for imp in mind.train_imps for i in imp.item_ids}
    assert shown <= set(model.items_.ids)
    again = NRMSRecommender(**SMALL).fit(mind.train, mind.vectors, impressions=mind.train_imps)
    imp = mind.test_imps[0]
    np.testing.assert_array_equal(
        model.score(imp.user_id, imp.item_ids, imp.history),
        again.score(imp.user_id, imp.item_ids, imp.history),
    )


def held_out_auc(model: NRMSRecommender, last: dict[str, str]) -> float:
    """Mean over users of the AUC of their held-out item against every item they never saw."""
    aucs = []
    for user, item in last.items():
        (rec,) = model.recommend([user], 10**6)
        rank = rec.item_ids.index(item)
        aucs.append(1.0 - rank / max(len(rec) - 1, 1))
    return float(np.mean(aucs))


def test_learns_from_interactions_without_impressions(
    ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    """Without impressions (MovieLens), sampled negatives: each user's last rating, held
    out, ranks far above a random item of the catalogue."""
    order = np.lexsort((np.arange(len(ml_small)), ml_small.timestamps, ml_small.user_pos))
    last_of_user = np.zeros(len(ml_small), bool)
    ends = np.flatnonzero(np.diff(ml_small.user_pos[order], append=-1) != 0)
    last_of_user[order[ends]] = True
    train = ml_small.subset(~last_of_user)
    last = {
        ml_small.users.id_at(int(u)): ml_small.items.id_at(int(i))
        for u, i in zip(
            ml_small.user_pos[last_of_user], ml_small.item_pos[last_of_user], strict=True
        )
    }
    seen = {(u, i) for u, i in zip(train.user_pos, train.item_pos, strict=True)}
    last = {
        u: i
        for u, i in last.items()
        if (train.users.position(u), train.items.position(i)) not in seen
    }
    model = NRMSRecommender(**SMALL).fit(train, genre_vectors)
    assert held_out_auc(model, last) > 0.7
    assert next(row["stage"] for row in model.training_log_) == "prior"


def test_prior_only_ignores_the_history(ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    """`user_encoder=False` (the ablation) scores items by their learned prior alone."""
    model = NRMSRecommender(**{**SMALL, "user_encoder": False}).fit(ml_small, genre_vectors)
    items = list(ml_small.items.ids[:30])
    a = model.score("x", items, list(ml_small.items.ids[30:40]))
    b = model.score("x", items, list(ml_small.items.ids[40:60]))
    np.testing.assert_allclose(a, b)
    assert {row["stage"] for row in model.training_log_} == {"prior"}


def test_fitted_state_holds_no_torch(ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    """Artifacts are pickles: numpy only, so loading one does not need torch's pickle."""
    model = NRMSRecommender(**{**SMALL, "epochs": 1}).fit(ml_small, genre_vectors)
    blob = pickle.dumps(model)
    assert b"torch" not in blob
    clone = model_pickle.loads(blob)
    items = list(ml_small.items.ids[:20])
    np.testing.assert_array_equal(clone.score("1", items), model.score("1", items))


def test_seed_changes_the_model(ml_small: Interactions, genre_vectors: ItemVectors) -> None:
    params = {**SMALL, "epochs": 1}
    a = NRMSRecommender(**params, random_state=1).fit(ml_small, genre_vectors)
    b = NRMSRecommender(**params, random_state=2).fit(ml_small, genre_vectors)
    items = list(ml_small.items.ids[:50])
    assert not np.array_equal(a.score("1", items), b.score("1", items))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dim": 0}, "dim"),
        ({"dim": 10, "heads": 4}, "heads"),
        ({"dropout": 1.0}, "dropout"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"max_samples": 0}, "max_samples"),
        ({"patience": 0}, "patience"),
    ],
)
def test_bad_parameters(
    params: dict[str, float], field: str, ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    with pytest.raises(InvalidInput) as err:
        NRMSRecommender(**params).fit(ml_small, genre_vectors)  # type: ignore[arg-type]
    assert err.value.field == field


def test_unlabelled_impressions_teach_nothing(
    ml_small: Interactions, genre_vectors: ItemVectors
) -> None:
    """A MIND test file has no labels: such slates are skipped, and with nothing else to
    learn from the fit says so."""
    user = ml_small.users.id_at(0)
    item = ml_small.items.id_at(0)
    unlabelled = [Impression("1", user, datetime(2020, 1, 1, tzinfo=UTC), (item,))]
    with pytest.raises(InvalidInput, match="no clicks"):
        NRMSRecommender(**SMALL).fit(ml_small, genre_vectors, impressions=unlabelled)


@pytest.mark.slow
def test_evaluation_gives_training_impressions_to_models_that_take_them(mind: MindSlice) -> None:
    """`feedcraft evaluate --dataset mind` fits nrms on the training users' impressions (and
    the other models as before); the held-out users' slates are never passed."""
    fitted = _fit_with_impressions(
        ["popularity", "nrms"],
        Settings(),
        mind.train,
        mind.vectors,
        mind.train_imps,
        progress=False,
    )
    assert list(fitted) == ["popularity", "nrms"]
    model = fitted["nrms"][0]
    assert isinstance(model, NRMSRecommender)
    shown_to_train = {i for imp in mind.train_imps for i in imp.item_ids}
    only_in_test = {i for imp in mind.test_imps for i in imp.item_ids} - shown_to_train
    only_in_test -= {*mind.vectors.ids.ids, *mind.train.items.ids}
    assert shown_to_train <= set(model.items_.ids)
    assert only_in_test and not only_in_test & set(model.items_.ids)

"""Offline evaluation as a product feature: split the user's own data, train, score, report.

Two protocols:
- user-temporal (top-N): each user's interactions sorted by time, the last fraction held out;
  models rank every item the user has not interacted with in training.
- impressions (MIND layout): users are split (seeded, default 80/20); models train on the
  training users only and rank the candidates of the test users' impressions, given each test
  user's click history. Scored impressions are never trained on.

Impression metrics are computed from the ranks the prediction file holds (ties in score broken
by candidate position, as the file breaks them), not from the raw scores, so the reported
numbers are exactly those MIND's scorer computes from `prediction.txt`. MRR and nDCG are the
same either way; AUC differs where a model ties scores (raw scores give a tie half credit).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from feedcraft.config import Settings
from feedcraft.domain import IdIndex, Impression, Interactions, ItemVectors
from feedcraft.embeddings import encoder_from_settings
from feedcraft.errors import InvalidInput
from feedcraft.evaluation.impressions import impression_metrics
from feedcraft.evaluation.prediction_file import ranks_from_scores, write_predictions
from feedcraft.evaluation.splits import impression_user_split, user_temporal_split
from feedcraft.evaluation.topn import popularity_shares, topn_metrics
from feedcraft.recommenders import RECOMMENDERS, available
from feedcraft.recommenders.base import Recommender
from feedcraft.services.embedding import embed_catalogue, load_item_vectors
from feedcraft.services.impressions import load_impressions
from feedcraft.services.interactions import (
    ItemMetadata,
    interactions_from_events,
    load_interactions,
    load_item_metadata,
)
from feedcraft.services.training import MODEL_NAMES, build_model, fit_models, metadata_arguments
from feedcraft.storage import Store


@dataclass(frozen=True)
class EvaluationResult:
    title: str
    protocol: str
    default_model: str
    per_model: dict[str, dict[str, float]]
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Default model's metrics at the top level (scripts rely on it), all models beside."""
        top = dict(self.per_model.get(self.default_model, {}))
        return {
            **top,
            "default_model": self.default_model,
            "protocol": self.protocol,
            "models": self.per_model,
            **self.details,
        }


def _vectors(store: Store, settings: Settings, progress: bool):  # type: ignore[no-untyped-def]
    encoder = encoder_from_settings(settings.embedding)
    embed_catalogue(store, encoder, progress=progress)
    return load_item_vectors(store, encoder.name)


def _default(models: Sequence[str], settings: Settings) -> str:
    wanted = settings.recommend.default_model
    return wanted if wanted in models else models[0]


def _check_models(models: Sequence[str]) -> list[str]:
    unknown = [m for m in models if m not in available()]
    if unknown or not models:
        raise InvalidInput(
            f"unknown model(s) {unknown}; choose from {', '.join(available())}", field="models"
        )
    return list(models)


def evaluate_user_temporal(
    store: Store,
    settings: Settings,
    *,
    models: Sequence[str] = MODEL_NAMES,
    test_fraction: float = 0.2,
    k: int = 10,
    min_interactions: int = 5,
    progress: bool = True,
) -> EvaluationResult:
    models = _check_models(models)
    interactions = load_interactions(store)
    train, test = user_temporal_split(
        interactions, test_fraction=test_fraction, min_interactions=min_interactions
    )
    if not test:
        raise InvalidInput(
            f"no user has at least {min_interactions} interactions; nothing to evaluate"
        )
    needs_vectors = any(RECOMMENDERS[m].needs_item_vectors for m in models)
    vectors = _vectors(store, settings, progress) if needs_vectors else None
    popularity = popularity_shares(train)
    users = sorted(test)
    per_model: dict[str, dict[str, float]] = {}
    metadata = load_item_metadata(store)  # item attributes, not behaviour: nothing of the test
    fitted = fit_models(models, settings, train, vectors, metadata=metadata, progress=progress)
    for name, (model, seconds) in fitted.items():
        start = time.perf_counter()
        recs = model.recommend(users, k)
        elapsed = time.perf_counter() - start
        metrics = topn_metrics(
            recs,
            test,
            k=k,
            n_items=len(train.items),
            item_vectors=vectors,
            item_popularity=popularity,
        )
        metrics["train_seconds"] = seconds
        metrics["ms_per_user"] = 1000 * elapsed / len(users)
        per_model[name] = metrics
    return EvaluationResult(
        title=f"user-temporal split, last {test_fraction:.0%} per user, top-{k}",
        protocol="user-temporal",
        default_model=_default(list(per_model), settings),
        per_model=per_model,
        details={"users": len(users), "items": len(train.items), "k": k},
    )


def evaluate_impressions(
    store: Store,
    settings: Settings,
    *,
    models: Sequence[str] = MODEL_NAMES,
    test_fraction: float = 0.2,
    predictions: Path | None = None,
    progress: bool = True,
) -> EvaluationResult:
    models = _check_models(models)
    impressions = load_impressions(store)
    if not impressions:
        raise InvalidInput("the store holds no impressions; import a MIND-layout data set first")
    train_imps, test_imps = impression_user_split(
        impressions, test_fraction=test_fraction, seed=settings.seed
    )
    test_users = {imp.user_id for imp in test_imps}
    train = _impression_interactions(train_imps, IdIndex(sorted(store.catalogue.ids())))
    needs_vectors = any(RECOMMENDERS[m].needs_item_vectors for m in models)
    vectors = _vectors(store, settings, progress) if needs_vectors else None
    metadata = load_item_metadata(store)
    fitted = _fit_with_impressions(
        models, settings, train, vectors, train_imps, progress, metadata=metadata
    )
    default = _default(list(fitted), settings)
    per_model: dict[str, dict[str, float]] = {}
    for name, (model, seconds) in fitted.items():
        scores = _score_impressions(model, test_imps, desc=f"scoring {name}", progress=progress)
        labels = [np.asarray(imp.clicked, dtype=np.int64) for imp in test_imps]
        # the ranks of the prediction file, so that the reported numbers can be reproduced from it
        metrics = impression_metrics(labels, [-ranks_from_scores(s) for s in scores])
        metrics["train_seconds"] = seconds
        per_model[name] = metrics
        if name == default and predictions is not None:
            write_predictions(predictions, [imp.id for imp in test_imps], scores)
    return EvaluationResult(
        title=(
            f"impression ranking, {len(test_imps)} impressions of {len(test_users)} held-out users"
        ),
        protocol="impressions",
        default_model=default,
        per_model=per_model,
        details={
            "test_users": len(test_users),
            "test_impressions": len(test_imps),
            "train_impressions": len(train_imps),
            "seed": settings.seed,
        },
    )


def _fit_with_impressions(
    models: Sequence[str],
    settings: Settings,
    train: Interactions,
    vectors: ItemVectors | None,
    train_imps: Sequence[Impression],
    progress: bool,
    metadata: ItemMetadata | None = None,
) -> dict[str, tuple[Recommender, float]]:
    """`fit_models`, except that models whose `fit` takes `impressions` (e.g. nrms) also get
    the training users' impressions: what was shown and not clicked. Never the scored ones."""
    takes = [
        m for m in models if "impressions" in inspect.signature(RECOMMENDERS[m].fit).parameters
    ]
    rest = [m for m in models if m not in takes]
    fitted = fit_models(rest, settings, train, vectors, metadata=metadata, progress=progress)
    for name in takes:
        model = build_model(name, settings)
        if model.needs_item_vectors and vectors is None:
            continue
        start = time.perf_counter()
        fit: Any = model.fit
        fit(train, vectors, impressions=train_imps, **metadata_arguments(model, metadata))
        fitted[name] = (model, time.perf_counter() - start)
    return {m: fitted[m] for m in models if m in fitted}


def _score_impressions(
    model: Recommender, impressions: Sequence[Impression], *, desc: str, progress: bool
) -> list[np.ndarray]:
    """Scores per impression, computed once per (user, history) over all their candidates:
    a user's impressions share the history, and per-call overhead dominates otherwise."""
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for i, imp in enumerate(impressions):
        groups.setdefault((imp.user_id, imp.history), []).append(i)
    out: list[np.ndarray] = [np.zeros(0)] * len(impressions)
    for (user, history), members in tqdm(groups.items(), desc=desc, disable=not progress):
        union = list(dict.fromkeys(item for i in members for item in impressions[i].item_ids))
        where = {item: p for p, item in enumerate(union)}
        user_scores = np.asarray(model.score(user, union, history), dtype=np.float64)
        for i in members:
            out[i] = user_scores[[where[item] for item in impressions[i].item_ids]]
    return out


def _impression_interactions(impressions: Sequence[Impression], items: IdIndex) -> Interactions:
    """Training users' clicks: their history plus the candidates they clicked."""
    from feedcraft.domain import Event, EventType

    def events():  # type: ignore[no-untyped-def]
        seen_history: set[tuple[str, str]] = set()
        for imp in impressions:
            for item in imp.history:
                if (imp.user_id, item) not in seen_history:
                    seen_history.add((imp.user_id, item))
                    yield Event(imp.user_id, item, EventType.CLICK, imp.timestamp)
            for item, clicked in zip(imp.item_ids, imp.clicked, strict=True):
                if clicked:
                    yield Event(imp.user_id, item, EventType.CLICK, imp.timestamp)

    return interactions_from_events(events(), items)

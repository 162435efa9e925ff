"""The training job: embed the catalogue, fit every recommender, save versioned artifacts."""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tqdm import tqdm

from feedcraft.config import Settings
from feedcraft.domain import Interactions, ItemVectors, utcnow
from feedcraft.embeddings import Encoder, encoder_from_settings
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.base import Recommender
from feedcraft.recommenders.ranker import TIME_FEATURES
from feedcraft.services.embedding import embed_catalogue, load_item_vectors
from feedcraft.services.interactions import ItemMetadata, load_interactions, load_item_metadata
from feedcraft.services.models import save_model
from feedcraft.storage import Store

#: Trained by default: the default model (the learned ranker), the hybrid it re-ranks the
#: candidates of, and the baselines they are compared with.
MODEL_NAMES: tuple[str, ...] = ("ranker", "hybrid", "itemknn", "popularity", "content", "random")


@dataclass(frozen=True, slots=True)
class TrainReport:
    model: str
    version: int
    seconds: float
    users: int
    items: int
    interactions: int


def model_params(name: str, settings: Settings) -> dict[str, object]:
    """Constructor arguments for a named model from the settings."""
    rec = settings.recommend
    if name == "popularity":
        return {"half_life_days": rec.popularity_half_life_days}
    if name == "itemknn":
        return {"k": rec.knn_neighbours}
    if name == "random":
        return {"random_state": settings.seed}
    if name == "ranker":
        drop = () if rec.ranker_time_features else TIME_FEATURES
        return {"drop_features": drop, "random_state": settings.seed, "progress": settings.progress}
    return {}


def build_model(name: str, settings: Settings) -> Recommender:
    return make_recommender(name, **model_params(name, settings))


def metadata_arguments(model: Recommender, metadata: ItemMetadata | None) -> dict[str, object]:
    """The keyword arguments of `model.fit` that item metadata can fill (e.g. the ranker's
    `item_categories` and `published_at`); models that take none get none."""
    if metadata is None:
        return {}
    takes = inspect.signature(model.fit).parameters
    given = {"item_categories": metadata.categories, "published_at": metadata.published_at}
    return {k: v for k, v in given.items() if k in takes}


def fit_models(
    names: Sequence[str],
    settings: Settings,
    interactions: Interactions,
    item_vectors: ItemVectors | None,
    *,
    metadata: ItemMetadata | None = None,
    progress: bool = True,
) -> dict[str, tuple[Recommender, float]]:
    """Fit each named model; models that need vectors are skipped when there are none."""
    fitted: dict[str, tuple[Recommender, float]] = {}
    for name in tqdm(names, desc="training", unit="model", disable=not progress):
        model = build_model(name, settings)
        if model.needs_item_vectors and item_vectors is None:
            continue
        start = time.perf_counter()
        model.fit(interactions, item_vectors, **metadata_arguments(model, metadata))
        fitted[name] = (model, time.perf_counter() - start)
    return fitted


def train(
    store: Store,
    settings: Settings,
    *,
    models: Sequence[str] = MODEL_NAMES,
    encoder: Encoder | None = None,
    embed: bool = True,
    progress: bool = True,
) -> list[TrainReport]:
    """Embed (cached), fit and save every model; returns one report per saved model."""
    encoder = encoder or encoder_from_settings(settings.embedding)
    if embed:
        embed_catalogue(store, encoder, progress=progress)
    vectors = load_item_vectors(store, encoder.name)
    interactions = load_interactions(store)
    reports = []
    metadata = load_item_metadata(store)
    fitted = fit_models(
        models, settings, interactions, vectors, metadata=metadata, progress=progress
    )
    # once, after every fit: an erasure during the saves finds the versions saved (it looks
    # again until it finds no new one)
    erased = _erased_since_read(store, interactions)
    for name, (model, seconds) in fitted.items():
        if erased:
            model.forget_users(erased)
        version = save_model(
            store,
            model,
            {
                "trained_at": utcnow().isoformat(),
                "params": {k: repr(v) for k, v in model.get_params().items()},
                "encoder": encoder.name if model.needs_item_vectors else None,
                "users": len(interactions.users),
                "items": len(interactions.items),
                "interactions": len(interactions),
                "seconds": seconds,
            },
        )
        reports.append(
            TrainReport(
                name,
                version,
                seconds,
                len(interactions.users),
                len(interactions.items),
                len(interactions),
            )
        )
    return reports


def _erased_since_read(store: Store, interactions: Interactions) -> list[str]:
    """Readers the models were fitted on who have no event left: erased while they fitted
    (only an erasure removes events). They are taken out before saving, so a training run
    that read the events before an erasure does not bring the readers back
    (services/erasure)."""
    now = set(store.events.user_ids())
    return [u for u in interactions.users.ids if u not in now]

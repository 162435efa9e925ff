"""The content-fused factorisation: content reaches items nobody has interacted with."""

from __future__ import annotations

import numpy as np
import pytest

from feedcraft.domain import Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders import make_recommender


def genre_items(vectors: ItemVectors, genre_col: int, among: set[str]) -> list[str]:
    rows = np.flatnonzero(vectors.matrix[:, genre_col] > 0)
    return [i for i in vectors.ids.ids_at(rows) if i in among]


@pytest.fixture(scope="module")
def cold(ml_small: Interactions, genre_vectors: ItemVectors) -> set[str]:
    return set(genre_vectors.ids.ids) - set(ml_small.items.ids)


def test_without_the_content_prior_cold_items_have_no_factor(
    ml_small: Interactions, genre_vectors: ItemVectors, cold: set[str]
) -> None:
    model = make_recommender("ials-content", content_regularization=0.0, iterations=3)
    model.fit(ml_small, genre_vectors)
    pos = model.items_.positions(sorted(cold))
    assert np.abs(model.item_factors_[pos]).max() == 0.0


def test_the_content_prior_gives_cold_items_their_genre_s_factor(
    ml_small: Interactions, genre_vectors: ItemVectors, cold: set[str]
) -> None:
    model = make_recommender("ials-content", content_regularization=10.0, iterations=5)
    model.fit(ml_small, genre_vectors)
    cold_ids = sorted(cold)
    factors = model.item_factors_[model.items_.positions(cold_ids)]
    assert np.abs(factors).max() > 0.0
    # two cold items with identical genres get identical factors: content alone places them
    rows = genre_vectors.rows(cold_ids)
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    twin = np.flatnonzero(np.bincount(inverse.ravel()) > 1)[0]
    members = np.flatnonzero(inverse.ravel() == twin)
    np.testing.assert_allclose(factors[members[0]], factors[members[1]], atol=1e-9)
    assert first is not None


@pytest.mark.slow
def test_a_horror_fan_gets_new_horror_above_other_new_films(
    ml_full: Interactions, genre_vectors: ItemVectors
) -> None:
    """On all 610 users: new (never rated) films are ranked by what their genres share with
    the history, which only the content prior can know."""
    col = {g: j for j, g in enumerate(_genre_names())}["Horror"]
    data = ml_full.subset(ml_full.item_pos % 5 != 0)  # every fifth film made new
    rated = set(data.items.ids_at(np.unique(data.item_pos)))
    new = set(genre_vectors.ids.ids) - rated
    horror = genre_items(genre_vectors, col, rated)
    model = make_recommender("ials-content", iterations=5).fit(data, genre_vectors)
    new_horror = genre_items(genre_vectors, col, new)
    other = sorted(new - set(new_horror))
    assert len(new_horror) >= 5 and len(other) >= 5
    scores_h = model.score("stranger", new_horror, history=horror[:15])
    scores_o = model.score("stranger", other, history=horror[:15])
    assert scores_h.mean() > 2 * scores_o.mean()


@pytest.mark.parametrize(
    ("field", "value"),
    [("factors", 0), ("regularization", 0.0), ("alpha", 0.5), ("content_regularization", -1.0)],
)
def test_bad_parameters_name_their_field(
    ml_small: Interactions, genre_vectors: ItemVectors, field: str, value: float
) -> None:
    with pytest.raises(InvalidInput) as err:
        make_recommender("ials-content", **{field: value}).fit(ml_small, genre_vectors)
    assert err.value.field == field


def _genre_names() -> list[str]:
    import csv
    import gzip

    from shareddata import shared_path

    with gzip.open(shared_path("movielens-latest-small/movies.csv.gz"), "rt") as f:
        return sorted({g for r in csv.DictReader(f) for g in r["genres"].split("|")})

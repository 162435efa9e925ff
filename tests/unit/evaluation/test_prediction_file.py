"""MIND prediction files: exact format, round trip, validation, independent recomputation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from feedcraft.errors import InvalidInput
from feedcraft.evaluation import (
    impression_metrics,
    metrics_from_predictions,
    ranks_from_scores,
    read_predictions,
    write_predictions,
)


def test_ranks_are_one_based_and_stable_on_ties() -> None:
    np.testing.assert_array_equal(ranks_from_scores([0.1, 0.9, 0.5]), [3, 1, 2])
    np.testing.assert_array_equal(ranks_from_scores([0.5, 0.9, 0.5, 0.5]), [2, 1, 3, 4])
    assert len(ranks_from_scores([])) == 0
    with pytest.raises(InvalidInput):
        ranks_from_scores([0.1, np.inf])


def test_exact_line_format(tmp_path: Path) -> None:
    path = tmp_path / "prediction.txt"
    write_predictions(path, ["1", "2"], [np.array([0.1, 0.9, 0.5]), np.array([2.0])])
    assert path.read_text() == "1 [3,1,2]\n2 [1]\n"


@pytest.mark.parametrize("name", ["prediction.txt", "prediction.zip"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    rng = np.random.default_rng(0)
    scores = [rng.random(int(n)) for n in rng.integers(1, 30, 50)]
    ids = [str(i) for i in range(100, 150)]
    write_predictions(tmp_path / name, ids, scores)
    back = read_predictions(tmp_path / name)
    assert list(back) == ids
    for i, s in zip(ids, scores, strict=True):
        np.testing.assert_array_equal(back[i], ranks_from_scores(s))


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("1 [1,2]\n2 [2, 1]\n", 2, "two fields"),
        ("1 [1,2]\n2 1,2\n", 2, "bracketed"),
        ("1 [1,x]\n", 1, "integers"),
        ("1 [1,3]\n", 1, "permutation"),
        ("1 [1]\n1 [1]\n", 2, "duplicate"),
        ("1 []\n", 1, "no ranks"),
        ("1 [1]\n\n2 [1]\n", 2, "two fields"),
    ],
)
def test_reader_names_the_bad_line(tmp_path: Path, text: str, line: int, match: str) -> None:
    path = tmp_path / "prediction.txt"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=match) as err:
        read_predictions(path)
    assert err.value.line == line
    assert f"prediction.txt:{line}:" in str(err.value)


def test_trailing_blank_lines_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "prediction.txt"
    path.write_text("1 [2,1]\n\n\n")
    assert list(read_predictions(path)) == ["1"]


def test_writer_validates(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        write_predictions(tmp_path / "p.txt", ["1"], [])
    with pytest.raises(InvalidInput, match="impression id"):
        write_predictions(tmp_path / "p.txt", ["a b"], [np.array([1.0])])


def test_recomputed_metrics_equal_raw_scores(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = rng.integers(2, 40, 400)
    labels = [(rng.random(k) < 0.2).astype(np.int64) for k in n]
    scores = [rng.normal(size=k) for k in n]  # no ties, so ranks carry all the order
    ids = [f"imp{i}" for i in range(len(n))]
    path = tmp_path / "prediction.txt"
    write_predictions(path, ids, scores)
    recomputed = metrics_from_predictions(path, dict(zip(ids, labels, strict=True)))
    direct = impression_metrics(labels, scores)
    assert recomputed.keys() == direct.keys()
    for key, value in direct.items():
        assert recomputed[key] == pytest.approx(value, abs=1e-12), key


def test_recomputation_checks_coverage(tmp_path: Path) -> None:
    path = tmp_path / "prediction.txt"
    write_predictions(path, ["1"], [np.array([0.3, 0.1])])
    with pytest.raises(InvalidInput, match="no prediction for 1 impressions"):
        metrics_from_predictions(path, {"1": [1, 0], "2": [0, 1]})
    with pytest.raises(InvalidInput, match="2 ranks but 3 labels"):
        metrics_from_predictions(path, {"1": [1, 0, 0]})

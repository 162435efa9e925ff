"""A fine-tuning fit stopped part-way resumes from its checkpoint and ends as the fit that was
never stopped: on a few real Upworthy tests (../shared/data), with MiniLM on one thread."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from feedcraft.ctr import FineTunedHeadlineModel
from feedcraft.ctr.checkpoint import FitCheckpoint
from feedcraft.ctr.data import HeadlineVariants
from feedcraft.errors import InvalidInput
from feedcraft.services.headlines import UPWORTHY_FILE, read_upworthy
from shareddata import shared_path

pytestmark = pytest.mark.slow

SETTINGS = {"trainable_layers": 1, "epochs": 3, "lr": 3e-4, "tests_per_batch": 8}


@pytest.fixture(scope="module")
def tests_of_two_weeks() -> tuple[HeadlineVariants, HeadlineVariants]:
    archive = read_upworthy(shared_path(UPWORTHY_FILE))

    def first(week: int, n: int) -> HeadlineVariants:
        v = archive.subset(archive.test_weeks == week)
        keep = sorted(set(v.test_ids), key=v.test_ids.index)[:n]
        return v.subset(np.isin(np.array(v.test_ids), keep))

    return first(201420, 40), first(201436, 20)


_CHILD = """
import pickle, sys
from feedcraft.ctr import FineTunedHeadlineModel
train, valid, settings, path = pickle.load(open(sys.argv[1], "rb"))
FineTunedHeadlineModel(num_threads=1, checkpoint=path, checkpoint_seconds=0, **settings).fit(
    train, validation=valid
)
"""


def _stopped_fit(
    train: HeadlineVariants, valid: HeadlineVariants, settings: dict[str, float], tmp: Path
) -> Path:
    """Runs a fit in a child process and kills it (SIGKILL: no chance to tidy up) once its
    first checkpoint is on disk, part-way through the first epoch; returns the checkpoint."""
    path, args = tmp / "fit.ckpt", tmp / "args.pkl"
    args.write_bytes(pickle.dumps((train, valid, settings, str(path))))
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(args)])
    deadline = time.monotonic() + 300
    while not path.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    child.kill()
    child.wait()
    assert path.exists(), "the fit ended (or never wrote) before it could be stopped"
    return path


def test_a_killed_fit_resumes_to_the_same_model(
    tests_of_two_weeks: tuple[HeadlineVariants, HeadlineVariants], tmp_path: Path
) -> None:
    """The rerun resumes where the killed fit was, and its weights, history and chosen epoch
    are those of a fit that ran straight through."""
    train, valid = tests_of_two_weeks
    path = _stopped_fit(train, valid, SETTINGS, tmp_path)
    import torch

    earlier = torch.load(path, weights_only=True)["seconds"]
    resumed = FineTunedHeadlineModel(num_threads=1, checkpoint=path, **SETTINGS).fit(
        train, validation=valid
    )
    straight = FineTunedHeadlineModel(num_threads=1, **SETTINGS).fit(train, validation=valid)
    assert resumed.resumed_at_ is not None  # (1, k) unless the machine stalled the parent
    assert straight.resumed_at_ is None
    assert resumed.fit_seconds_ > earlier > 0  # the stopped run's time is counted in
    assert not path.exists()  # a finished fit leaves no checkpoint behind
    assert resumed.history_ == straight.history_
    assert resumed.best_epoch_ == straight.best_epoch_
    np.testing.assert_array_equal(resumed.score(valid.headlines), straight.score(valid.headlines))


def test_a_checkpoint_resumes_only_its_own_fit(
    tests_of_two_weeks: tuple[HeadlineVariants, HeadlineVariants], tmp_path: Path
) -> None:
    """Other settings or other data are refused, naming the file; so are a damaged file, a
    folder and a negative interval. The refused checkpoint is left as it was."""
    train, valid = tests_of_two_weeks
    path = _stopped_fit(train, valid, SETTINGS, tmp_path)
    before = path.read_bytes()
    other_data = train.subset(np.arange(len(train)) > 0)
    for settings, data in (({**SETTINGS, "lr": 1e-4}, train), (SETTINGS, other_data)):
        with pytest.raises(InvalidInput) as err:
            FineTunedHeadlineModel(num_threads=1, checkpoint=path, **settings).fit(
                data, validation=valid
            )
        assert err.value.field == "checkpoint" and "another fit" in str(err.value)
    assert path.read_bytes() == before
    damaged = tmp_path / "damaged.ckpt"
    damaged.write_bytes(before[: len(before) // 2])
    with pytest.raises(InvalidInput) as err:
        FineTunedHeadlineModel(num_threads=1, checkpoint=damaged, **SETTINGS).fit(train)
    assert err.value.field == "checkpoint" and "delete it" in str(err.value)
    for bad in ({"checkpoint": tmp_path}, {"checkpoint": tmp_path / "no" / "f.ckpt"}):
        with pytest.raises(InvalidInput) as err:
            FineTunedHeadlineModel(num_threads=1, **bad, **SETTINGS).fit(train)
        assert err.value.field == "checkpoint"
    with pytest.raises(InvalidInput) as err:
        FineTunedHeadlineModel(num_threads=1, checkpoint_seconds=-1, **SETTINGS).fit(train)
    assert err.value.field == "checkpoint_seconds"


def test_each_checkpoint_carries_the_time_spent_before_it(tmp_path: Path) -> None:
    """A run resumed from a checkpoint starts from the time the stopped runs had spent up to
    it, and its own checkpoints add to that: the fit's `fit_seconds_` is the whole time."""
    import torch

    path = tmp_path / "fit.ckpt"
    first = FitCheckpoint(path, "k", every_seconds=0)
    assert first.load() is None and first.earlier_seconds == 0
    first.save({"step": 1})
    spent = torch.load(path, weights_only=True)["seconds"]
    assert spent > 0
    second = FitCheckpoint(path, "k", every_seconds=0)
    assert second.load() == {"step": 1, "key": "k", "seconds": spent}
    assert second.earlier_seconds == spent
    second.save({"step": 2})
    assert torch.load(path, weights_only=True)["seconds"] > spent

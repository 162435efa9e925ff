"""The model unpickler builds model types and refuses every other global before it runs."""

from __future__ import annotations

import os
import pickle
import pickletools
import re
import subprocess
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import scipy.sparse as sp

from feedcraft.domain.ids import IdIndex
from feedcraft.storage import model_pickle
from feedcraft.storage.model_pickle import UntrustedPickle


class _Runs:
    """What an attacker pickles: unpickling it calls `call(*args)`."""

    def __init__(self, call: object, *args: object) -> None:
        self.call, self.args = call, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.call, self.args


@pytest.mark.parametrize(
    ("call", "args", "named"),
    [
        (os.system, lambda m: (f"touch {m}",), "system"),
        (subprocess.Popen, lambda m: (["touch", m],), "subprocess.Popen"),
        (eval, lambda m: (f"open({m!r}, 'w')",), "builtins.eval"),
        (exec, lambda m: (f"open({m!r}, 'w')",), "builtins.exec"),
        (open, lambda m: (m, "w"), "io.open"),
        (np.memmap, lambda m: (m,), "numpy.memmap"),  # a numpy class that writes a file
        (np.save, lambda m: (m, 1), "save"),
        (Path.touch, lambda m: (Path(m),), "pathlib.Path.touch"),
    ],
)
def test_a_pickle_that_runs_code_is_refused_before_it_runs(
    tmp_path: Path, call: object, args: Callable[[str], tuple[object, ...]], named: str
) -> None:
    marker = tmp_path / "ran"
    blob = pickle.dumps(_Runs(call, *args(str(marker))))
    with pytest.raises(UntrustedPickle, match=rf"refused \S*{re.escape(named)}"):
        model_pickle.loads(blob)
    assert not marker.exists()


def test_a_pickle_nested_inside_a_model_is_refused_too() -> None:
    index = IdIndex(["a", "b"])
    blob = pickle.dumps({"index": index, "hook": _Runs(os.getenv, "HOME")})
    with pytest.raises(UntrustedPickle, match="refused"):
        model_pickle.loads(blob)


def test_an_attribute_walk_in_a_global_name_is_refused() -> None:
    """Protocol 4 resolves dotted names by getattr: "ndarray.__init__.__globals__" would reach a
    module's globals from an allowed name."""
    name = b"ndarray.__init__"
    walked = b"\x80\x04\x8c\x05numpy\x8c" + bytes([len(name)]) + name + b"\x93."
    assert callable(pickle.loads(walked))  # a plain reader walks to the attribute
    with pytest.raises(UntrustedPickle, match=r"refused numpy\.ndarray\.__init__"):
        model_pickle.loads(walked)


def test_a_function_in_a_model_package_is_refused() -> None:
    """Only classes of the model packages: their functions can do anything."""
    from sklearn.datasets import load_iris

    with pytest.raises(UntrustedPickle, match=r"refused sklearn\.datasets.*load_iris"):
        model_pickle.loads(pickle.dumps(_Runs(load_iris)))


@pytest.mark.parametrize(
    "blob",
    [b"", b"not a pickle at all", pickle.dumps([1, 2, 3])[:-3], b"\x80\x05\x95garbage"],
)
def test_bytes_that_are_no_pickle_are_refused_by_name(blob: bytes) -> None:
    with pytest.raises(UntrustedPickle, match="not a model pickle"):
        model_pickle.loads(blob)


def test_model_state_round_trips() -> None:
    rng = np.random.default_rng(0)
    matrix = sp.random(20, 30, density=0.1, format="csr", random_state=0)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 4},
        lgb.Dataset(rng.normal(size=(200, 3)), label=rng.integers(0, 2, 200)),
        num_boost_round=3,
    )
    state = {
        "dense": rng.normal(size=(4, 5)).astype(np.float32),
        "fortran": np.asfortranarray(rng.normal(size=(3, 2))),
        "scalar": np.float64(2.5),
        "sparse": matrix,
        "booster": booster,
        "counts": Counter("abracadabra"),
        "lists": defaultdict(list, {"x": [1, 2]}),
        "index": IdIndex(["u1", "u2"]),
        "rng": rng,
        "set": frozenset({1, 2}),
        "path": Path("models/x"),
    }
    for protocol in (4, 5):  # feedcraft writes 5; 4 is what Python 3.4-3.7 wrote
        blob = pickle.dumps(state, protocol=protocol)
        again = model_pickle.loads(blob)
        assert isinstance(again, dict)
        for key in ("dense", "fortran"):
            np.testing.assert_array_equal(again[key], state[key])
        assert again["scalar"] == 2.5
        assert (again["sparse"] != matrix).nnz == 0
        probe = rng.normal(size=(5, 3))
        np.testing.assert_allclose(again["booster"].predict(probe), booster.predict(probe))
        assert again["counts"] == state["counts"]
        assert again["lists"]["x"] == [1, 2] and again["lists"]["new"] == []
        assert list(again["index"].ids) == ["u1", "u2"]
        assert again["set"] == state["set"] and again["path"] == state["path"]
    assert model_pickle.loads(model_pickle.dumps(state))["scalar"] == 2.5


def test_dumps_writes_the_newest_protocol() -> None:
    proto = next(pickletools.genops(model_pickle.dumps([1])))
    assert proto[0].name == "PROTO" and proto[1] == pickle.HIGHEST_PROTOCOL

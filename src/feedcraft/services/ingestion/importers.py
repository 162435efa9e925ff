"""Import MIND, MovieLens and JSON Lines directories into a store: items first, then events.

Each import streams its files in batches (one store transaction per batch), so memory stays
constant and an interrupted import keeps what it acknowledged. Re-running an import adds
nothing: events are keyed by `Event.id` and identical items are not rewritten. Events naming
items the catalogue lacks create stub items (which never overwrite full ones). With `readers`
(`Pseudonyms`), events are stored under their readers' pseudonyms.
"""

from __future__ import annotations

from pathlib import Path

from feedcraft.errors import InvalidInput, NotFound
from feedcraft.formats import find_file, jsonl, mind, movielens, require_file
from feedcraft.services.ingestion.report import ImportReport
from feedcraft.services.ingestion.writer import BatchWriter, OnBatch
from feedcraft.services.pseudonyms import Pseudonyms
from feedcraft.storage import Store

DEFAULT_BATCH_SIZE = 5000
FORMATS = ("mind", "movielens", "jsonl")


def import_mind(
    store: Store,
    directory: str | Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    on_batch: OnBatch | None = None,
    provider: str = "MIND",
    readers: Pseudonyms | None = None,
) -> ImportReport:
    """news.tsv[.gz] (optional) then behaviors.tsv[.gz]; NeMig works the same way."""
    directory = _directory(directory)
    behaviors = require_file(directory, "behaviors.tsv")
    news = find_file(directory, "news.tsv")
    writer = _writer(store, "mind", directory, batch_size, progress, on_batch, readers)
    if news is not None:
        writer.write_items(news, mind.numbered_news(news, provider=provider))
    lines = mind.numbered_impressions(behaviors)
    writer.write_events(behaviors, ((n, mind.impression_events(imp)) for n, imp in lines))
    return writer.report()


def import_movielens(
    store: Store,
    directory: str | Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    on_batch: OnBatch | None = None,
    provider: str = "MovieLens",
    readers: Pseudonyms | None = None,
) -> ImportReport:
    """movies.csv (with tags.csv and links.csv joined on, all optional) then ratings.csv."""
    directory = _directory(directory)
    ratings = require_file(directory, "ratings.csv")
    movies = find_file(directory, "movies.csv")
    writer = _writer(store, "movielens", directory, batch_size, progress, on_batch, readers)
    if movies is not None:
        items = movielens.numbered_movies(
            movies,
            tags_path=find_file(directory, "tags.csv"),
            links_path=find_file(directory, "links.csv"),
            provider=provider,
        )
        writer.write_items(movies, items)
    events = ((n, (event,)) for n, event in movielens.numbered_ratings(ratings))
    writer.write_events(ratings, events)
    return writer.report()


def import_jsonl(
    store: Store,
    directory: str | Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    on_batch: OnBatch | None = None,
    readers: Pseudonyms | None = None,
) -> ImportReport:
    """items.jsonl[.gz] and/or events.jsonl[.gz] (see feedcraft.formats.jsonl)."""
    directory = _directory(directory)
    items = find_file(directory, jsonl.ITEMS_FILE)
    events = find_file(directory, jsonl.EVENTS_FILE)
    if items is None and events is None:
        raise NotFound(
            f"{directory}: expected {jsonl.ITEMS_FILE} and/or {jsonl.EVENTS_FILE} (optionally .gz)"
        )
    writer = _writer(store, "jsonl", directory, batch_size, progress, on_batch, readers)
    if items is not None:
        writer.write_items(items, jsonl.numbered_items(items))
    if events is not None:
        writer.write_events(events, ((n, (e,)) for n, e in jsonl.numbered_events(events)))
    return writer.report()


def detect_format(directory: str | Path) -> str:
    """ "mind", "movielens" or "jsonl", from the files the directory holds."""
    directory = _directory(directory)
    if find_file(directory, "behaviors.tsv") is not None:
        return "mind"
    if find_file(directory, "ratings.csv") is not None:
        return "movielens"
    if find_file(directory, jsonl.ITEMS_FILE) or find_file(directory, jsonl.EVENTS_FILE):
        return "jsonl"
    raise InvalidInput(
        "not a known data set: expected behaviors.tsv (MIND), ratings.csv (MovieLens) or "
        "items.jsonl/events.jsonl (JSON Lines), each optionally .gz",
        source=str(directory),
    )


def import_directory(
    store: Store,
    directory: str | Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    on_batch: OnBatch | None = None,
    readers: Pseudonyms | None = None,
) -> ImportReport:
    """Detect the format, then import it."""
    importer = {"mind": import_mind, "movielens": import_movielens, "jsonl": import_jsonl}
    run = importer[detect_format(directory)]
    return run(
        store,
        directory,
        batch_size=batch_size,
        progress=progress,
        on_batch=on_batch,
        readers=readers,
    )


def _directory(directory: str | Path) -> Path:
    path = Path(directory)
    if not path.is_dir():
        raise NotFound(f"{path}: not a directory")
    return path


def _writer(
    store: Store,
    fmt: str,
    directory: Path,
    batch_size: int,
    progress: bool,
    on_batch: OnBatch | None,
    readers: Pseudonyms | None,
) -> BatchWriter:
    return BatchWriter(
        store,
        fmt=fmt,
        source=directory,
        batch_size=batch_size,
        progress=progress,
        on_batch=on_batch,
        readers=readers,
    )

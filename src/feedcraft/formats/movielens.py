"""MovieLens CSV files (ml-latest, ml-25m, ...), plain or gzipped, with a header row.

- `ratings.csv` userId,movieId,rating,timestamp -> `rating` Event (value = stars, 0-5).
- `movies.csv` movieId,title,genres -> video `Item`: the full title as written ("Heat (1995)");
  category = first genre; tags = all genres ("(no genres listed)" gives none);
  published_at = 1 January of the year in the title's trailing "(YYYY)" or "(YYYY-YYYY)",
  also kept as attributes["year"].
- `links.csv` movieId,imdbId,tmdbId (optional) -> attributes "imdbId"/"tmdbId" (strings: imdb
  ids keep their leading zeros; empty ones are left out).
- `tags.csv` userId,movieId,tag,timestamp (optional) -> attributes["user_tags"]: the movie's
  distinct free-text tags (case-insensitive, first spelling kept), most applied first. They are
  not genres, so they stay out of `Item.tags` (which content models read), and they are not
  events: there is no tag event type, so who tagged what is dropped.

Ratings stream in constant memory. Joining tags and links onto movies holds those two small
files in memory, keyed by movie (size of the catalogue, not of the behaviour log).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from feedcraft.domain import Event, EventType, Item, ItemKind
from feedcraft.errors import InvalidInput
from feedcraft.formats._common import csv_rows, parse_float, parse_int, require_id, unix_time

RATINGS_COLUMNS = ("userId", "movieId", "rating", "timestamp")
MOVIES_COLUMNS = ("movieId", "title", "genres")
TAGS_COLUMNS = ("userId", "movieId", "tag", "timestamp")
LINKS_COLUMNS = ("movieId", "imdbId", "tmdbId")
NO_GENRES = "(no genres listed)"
MAX_STARS = 5.0
_YEAR = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{4})?\)\s*$")


class TagApplication(NamedTuple):
    user_id: str
    item_id: str
    tag: str
    timestamp: datetime


def read_ratings(path: str | Path) -> Iterator[Event]:
    """Rating events, streamed."""
    for _line, event in numbered_ratings(path):
        yield event


def numbered_ratings(path: str | Path) -> Iterator[tuple[int, Event]]:
    path = Path(path)
    for line, (user, movie, rating, ts) in csv_rows(path, RATINGS_COLUMNS):
        value = parse_float(rating, field="rating", source=path, line=line)
        if not 0.0 <= value <= MAX_STARS:
            raise InvalidInput(
                f"rating {value} outside 0-{MAX_STARS:g}",
                field="rating",
                source=str(path),
                line=line,
            )
        seconds = parse_int(ts, field="timestamp", source=path, line=line)
        yield (
            line,
            Event(
                user_id=require_id(user, field="userId", source=path, line=line),
                item_id=require_id(movie, field="movieId", source=path, line=line),
                type=EventType.RATING,
                timestamp=unix_time(seconds, field="timestamp", source=path, line=line),
                value=value,
            ),
        )


def read_movies(
    path: str | Path,
    *,
    tags_path: str | Path | None = None,
    links_path: str | Path | None = None,
    provider: str = "MovieLens",
) -> Iterator[Item]:
    """Movies as video items, with links and user tags joined on when their files are given."""
    for _line, item in numbered_movies(
        path, tags_path=tags_path, links_path=links_path, provider=provider
    ):
        yield item


def numbered_movies(
    path: str | Path,
    *,
    tags_path: str | Path | None = None,
    links_path: str | Path | None = None,
    provider: str = "MovieLens",
) -> Iterator[tuple[int, Item]]:
    path = Path(path)
    user_tags = collect_user_tags(tags_path) if tags_path is not None else {}
    links = dict(read_links(links_path)) if links_path is not None else {}
    for line, (movie, title, genres) in csv_rows(path, MOVIES_COLUMNS):
        movie_id = require_id(movie, field="movieId", source=path, line=line)
        title = title.strip()
        genre_list = [] if genres.strip() == NO_GENRES else [g.strip() for g in genres.split("|")]
        genre_list = [g for g in genre_list if g]
        attributes: dict[str, object] = {}
        published_at = None
        match = _YEAR.search(title)
        if match and int(match.group(1)) >= 1:
            year = int(match.group(1))
            attributes["year"] = year
            published_at = datetime(year, 1, 1, tzinfo=UTC)
        attributes.update(links.get(movie_id, {}))
        if movie_id in user_tags:
            attributes["user_tags"] = user_tags[movie_id]
        yield (
            line,
            Item(
                id=movie_id,
                title=title,
                kind=ItemKind.VIDEO,
                category=genre_list[0] if genre_list else "",
                tags=tuple(genre_list),
                published_at=published_at,
                provider=provider,
                attributes=attributes,
            ),
        )


def read_tags(path: str | Path) -> Iterator[TagApplication]:
    """Every tag application, streamed."""
    path = Path(path)
    for line, (user, movie, tag, ts) in csv_rows(path, TAGS_COLUMNS):
        seconds = parse_int(ts, field="timestamp", source=path, line=line)
        yield TagApplication(
            user_id=require_id(user, field="userId", source=path, line=line),
            item_id=require_id(movie, field="movieId", source=path, line=line),
            tag=tag.strip(),
            timestamp=unix_time(seconds, field="timestamp", source=path, line=line),
        )


def collect_user_tags(path: str | Path) -> dict[str, list[str]]:
    """movieId -> distinct tags, most applied first (ties: first seen first)."""
    counts: dict[str, Counter[str]] = {}
    spelling: dict[tuple[str, str], str] = {}
    for application in read_tags(path):
        if not application.tag:
            continue
        key = application.tag.casefold()
        counts.setdefault(application.item_id, Counter())[key] += 1
        spelling.setdefault((application.item_id, key), application.tag)
    # Counter.most_common keeps insertion order among equal counts.
    return {
        movie: [spelling[(movie, key)] for key, _n in counter.most_common()]
        for movie, counter in counts.items()
    }


def read_links(path: str | Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(movieId, {"imdbId": ..., "tmdbId": ...}) with empty ids left out."""
    path = Path(path)
    for line, (movie, imdb, tmdb) in csv_rows(path, LINKS_COLUMNS):
        movie_id = require_id(movie, field="movieId", source=path, line=line)
        ids = {"imdbId": imdb.strip(), "tmdbId": tmdb.strip()}
        yield movie_id, {k: v for k, v in ids.items() if v}

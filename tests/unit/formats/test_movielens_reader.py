"""MovieLens readers on the real ml-latest-small files, and their errors on malformed ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedcraft.domain import EventType, ItemKind
from feedcraft.errors import InvalidInput
from feedcraft.formats import movielens

ML = "movielens-latest-small"
SharedPath = Callable[[str], Path]
Writer = Callable[[str, str], Path]


def test_ratings_counts_and_first_row(shared_path: SharedPath) -> None:
    events = list(movielens.read_ratings(shared_path(f"{ML}/ratings.csv.gz")))
    assert len(events) == 100_836
    assert len({e.id for e in events}) == 100_836
    assert len({e.user_id for e in events}) == 610
    first = events[0]
    assert (first.user_id, first.item_id, first.type, first.value) == (
        "1",
        "1",
        EventType.RATING,
        4.0,
    )
    assert first.timestamp == datetime.fromtimestamp(964982703, UTC)
    assert {e.value for e in events} <= {x / 2 for x in range(1, 11)}


def test_movies_with_tags_and_links(shared_path: SharedPath) -> None:
    items = {
        item.id: item
        for item in movielens.read_movies(
            shared_path(f"{ML}/movies.csv.gz"),
            tags_path=shared_path(f"{ML}/tags.csv.gz"),
            links_path=shared_path(f"{ML}/links.csv.gz"),
        )
    }
    assert len(items) == 9_742
    toy = items["1"]
    assert toy.title == "Toy Story (1995)" and toy.kind is ItemKind.VIDEO
    assert toy.category == "Adventure"
    assert toy.tags == ("Adventure", "Animation", "Children", "Comedy", "Fantasy")
    assert toy.published_at == datetime(1995, 1, 1, tzinfo=UTC)
    assert toy.attributes == {
        "year": 1995,
        "imdbId": "0114709",
        "tmdbId": "862",
        "user_tags": ["pixar", "fun"],
    }
    assert items["11"].title == "American President, The (1995)"  # quoted comma
    assert items["11"].tags == ("Comedy", "Drama", "Romance")
    cravate = items["114335"]
    assert cravate.tags == () and cravate.category == ""
    no_year = items["40697"]
    assert no_year.title == "Babylon 5" and no_year.published_at is None
    assert "year" not in no_year.attributes
    assert items["791"].attributes["imdbId"] == "0113610"
    assert "tmdbId" not in items["791"].attributes  # empty in links.csv
    step = items["60756"].attributes["user_tags"]
    assert step[:2] == ["funny", "will ferrell"]  # three users each, most applied first
    assert set(step) == {"funny", "will ferrell", "Highly quotable", "comedy"}
    assert not any(i.title.endswith("\r") or any("\r" in t for t in i.tags) for i in items.values())


def test_year_range_in_title(write: Writer) -> None:
    path = write(
        "movies.csv", 'movieId,title,genres\r\n1,"Death Note: Desu nôto (2006–2007)",Drama\r\n'
    )
    item = next(movielens.read_movies(path))
    assert item.attributes == {"year": 2006}
    assert item.published_at == datetime(2006, 1, 1, tzinfo=UTC)


def test_tags_and_links_counts(shared_path: SharedPath) -> None:
    assert sum(1 for _ in movielens.read_tags(shared_path(f"{ML}/tags.csv.gz"))) == 3_683
    links = dict(movielens.read_links(shared_path(f"{ML}/links.csv.gz")))
    assert len(links) == 9_742 and links["1"] == {"imdbId": "0114709", "tmdbId": "862"}


def test_columns_found_by_header_name(write: Writer) -> None:
    path = write("ratings.csv", "timestamp,rating,movieId,userId,extra\n10,3.5,7,u9,x\n")
    event = next(movielens.read_ratings(path))
    assert (event.user_id, event.item_id, event.value) == ("u9", "7", 3.5)


HEADER = "userId,movieId,rating,timestamp\r\n"
BAD_RATINGS = [
    ("1,2,4.0\r\n", None, "expected 4 comma-separated columns, got 3"),
    ("1,2,abc,964982703\r\n", "rating", "not a finite number: 'abc'"),
    ("1,2,7,964982703\r\n", "rating", "outside 0-5"),
    ("1,2,4.0,yesterday\r\n", "timestamp", "not an integer: 'yesterday'"),
    ("1,2,4.0,99999999999999999999\r\n", "timestamp", "out of range"),
    (",2,4.0,964982703\r\n", "userId", "empty id"),
]


@pytest.mark.parametrize(("bad", "field", "message"), BAD_RATINGS)
def test_bad_rating_line_names_file_and_line(
    write: Writer, bad: str, field: str | None, message: str
) -> None:
    good = "1,1,4.0,964982703\r\n"
    path = write("ratings.csv.gz", HEADER + good + good + bad + good)
    with pytest.raises(InvalidInput) as info:
        list(movielens.read_ratings(path))
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), 4, field)
    assert str(err).startswith(f"{path}:4: ") and message in str(err)


def test_missing_header_column(write: Writer) -> None:
    path = write("ratings.csv", "userId,movieId,stars,timestamp\n1,1,4,5\n")
    with pytest.raises(InvalidInput, match=r"ratings\.csv:1: header lacks rating"):
        list(movielens.read_ratings(path))


def test_empty_file(write: Writer) -> None:
    with pytest.raises(InvalidInput, match="empty file"):
        list(movielens.read_movies(write("movies.csv", "")))


def test_bad_tags_file_names_its_line(write: Writer) -> None:
    movies = write("movies.csv", "movieId,title,genres\n1,A (2000),Drama\n")
    tags = write("tags.csv", "userId,movieId,tag,timestamp\n1,1,ok,5\n1,1,bad,soon\n")
    with pytest.raises(InvalidInput, match=r"tags\.csv:3: field 'timestamp'"):
        list(movielens.read_movies(movies, tags_path=tags))

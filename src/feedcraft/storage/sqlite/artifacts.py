"""Artifact store on SQLite: versioned blobs; version numbers are never reused."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from feedcraft.domain.time import utcnow
from feedcraft.errors import InvalidInput, NotFound, Unavailable
from feedcraft.storage.protocols import ArtifactInfo
from feedcraft.storage.sqlite.codec import dump_json, from_micros, load_json, to_micros
from feedcraft.storage.sqlite.db import Database

_INFO = "SELECT name, version, created_us, size, metadata, sha256 FROM artifacts"


_WITH_DATA = _INFO.replace(" FROM", ", data FROM")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _info(row: Sequence[Any]) -> ArtifactInfo:
    return ArtifactInfo(
        name=row[0],
        version=int(row[1]),
        created_at=from_micros(row[2]),
        size=int(row[3]),
        metadata=load_json(row[4]),
        sha256=row[5],
    )


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidInput("must be a non-empty string", field="name")


class SqliteArtifacts:
    """Versioned model blobs: each save makes version n+1; the newest is served by default.

    n is the highest version ever saved under the name, so a deleted version's number never
    comes back for different bytes (anything cached by (name, version) stays correct).
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, name: str, data: bytes, metadata: Mapping[str, Any] | None = None) -> int:
        _check_name(name)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInput(f"must be bytes, not {type(data).__name__}", field="data")
        blob = bytes(data)
        meta = dump_json(dict(metadata or {}), field="metadata", source=f"artifact {name!r}")
        with self._db.write() as conn:
            limit = conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
            if len(blob) > limit:
                raise InvalidInput(
                    f"artifact {name!r} is {len(blob)} bytes; SQLite stores at most {limit}",
                    field="data",
                )
            conn.execute(
                """
                INSERT INTO artifact_names (name, last_version) VALUES (?, 1)
                ON CONFLICT (name) DO UPDATE SET last_version = last_version + 1
                """,
                (name,),
            )
            version = int(
                conn.execute(
                    "SELECT last_version FROM artifact_names WHERE name = ?", (name,)
                ).fetchone()[0]
            )
            conn.execute(
                "INSERT INTO artifacts (name, version, created_us, size, metadata, data, sha256) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, version, to_micros(utcnow()), len(blob), meta, blob, _digest(blob)),
            )
        return version

    def load(self, name: str, version: int | None = None) -> tuple[bytes, ArtifactInfo]:
        _check_name(name)
        with self._db.read() as conn:
            if version is None:
                row = conn.execute(
                    f"{_WITH_DATA} WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
                ).fetchone()
            else:
                row = conn.execute(
                    f"{_WITH_DATA} WHERE name = ? AND version = ?", (name, version)
                ).fetchone()
            if row is None:
                raise NotFound(self._missing(conn, name, version))
        data, info = bytes(row[6]), _info(row)
        if _digest(data) != info.sha256:
            raise Unavailable(
                f"artifact {name!r} v{info.version} is damaged: its {len(data):,} bytes no "
                f"longer match the sha256 saved with them ({info.sha256[:12]}...); roll back to "
                "an earlier version or train again"
            )
        return data, info

    def versions(self, name: str) -> list[ArtifactInfo]:
        """Oldest first; an unknown name has no versions."""
        _check_name(name)
        with self._db.read() as conn:
            rows = conn.execute(f"{_INFO} WHERE name = ? ORDER BY version", (name,)).fetchall()
        return [_info(row) for row in rows]

    def names(self, prefix: str = "") -> list[str]:
        if not isinstance(prefix, str):
            raise InvalidInput("must be a string", field="prefix")
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT name FROM artifacts WHERE substr(name, 1, ?) = ? ORDER BY name",
                (len(prefix), prefix),
            ).fetchall()
        return [row[0] for row in rows]

    def delete(self, name: str, version: int) -> None:
        """Delete, then checkpoint, as `EventLog.delete_user`: secure_delete zeroes the blob's
        pages and the truncating checkpoint drops the WAL frames that still held them (a
        model replaced by one without erased readers must not linger in the files)."""
        _check_name(name)
        with self._db.write() as conn:
            removed = conn.execute(
                "DELETE FROM artifacts WHERE name = ? AND version = ?", (name, version)
            ).rowcount
            if not removed:
                raise NotFound(self._missing(conn, name, version))
        self._db.checkpoint()

    @staticmethod
    def _missing(conn: sqlite3.Connection, name: str, version: int | None) -> str:
        kept = [
            row[0]
            for row in conn.execute(
                "SELECT version FROM artifacts WHERE name = ? ORDER BY version", (name,)
            )
        ]
        if not kept:
            return f"no artifact named {name!r}"
        what = "any version" if version is None else f"version {version}"
        return f"artifact {name!r} has no {what}; stored versions: {kept}"

"""Vector store on SQLite: float32 blobs per (namespace, id); exact cosine k-NN in numpy.

Search keeps each namespace's normalised matrix in memory. A per-namespace write counter,
bumped in the same transaction as every write, tells this process (and any other process
sharing the file) when its cached matrix is stale, at the cost of one indexed lookup.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from feedcraft.errors import InvalidInput
from feedcraft.storage.protocols import Neighbour
from feedcraft.storage.sqlite.codec import chunked, placeholders
from feedcraft.storage.sqlite.db import Database

_BLOB = np.dtype("<f4")
_UPSERT = """
    INSERT INTO vectors (namespace, id, vec) VALUES (?, ?, ?)
    ON CONFLICT (namespace, id) DO UPDATE SET vec = excluded.vec
"""


@dataclass(frozen=True, slots=True)
class _Matrix:
    """A namespace's unit-normalised vectors at one write counter value."""

    version: int
    ids: list[str]
    normed: np.ndarray
    index: dict[str, int] = field(default_factory=dict)


def _check_namespace(namespace: str) -> None:
    if not isinstance(namespace, str) or not namespace:
        raise InvalidInput("must be a non-empty string", field="namespace")


def _as_matrix(namespace: str, ids: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1 and len(ids) == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[0] != len(ids):
        raise InvalidInput(
            f"namespace {namespace!r}: expected a ({len(ids)}, dim) matrix for {len(ids)} ids, "
            f"got shape {matrix.shape}",
            field="vectors",
        )
    if matrix.shape[1] == 0:
        raise InvalidInput(f"namespace {namespace!r}: vectors have dimension 0", field="vectors")
    if not np.isfinite(matrix).all():
        raise InvalidInput(f"namespace {namespace!r}: vectors contain NaN or inf", field="vectors")
    for item_id in ids:
        if not isinstance(item_id, str) or not item_id:
            raise InvalidInput(
                f"namespace {namespace!r}: ids must be non-empty strings", field="ids"
            )
    return matrix


def _decode(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    # A bytearray join is writable, so numpy can use it in place instead of copying it again.
    flat = np.frombuffer(bytearray().join(blobs), dtype=_BLOB)
    return flat.astype(np.float32, copy=False).reshape(len(blobs), dim)


class SqliteVectors:
    """Dense vectors by (namespace, id); cosine k-nearest-neighbour search."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, _Matrix] = {}
        self._cache_lock = threading.Lock()

    def upsert(self, namespace: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        _check_namespace(namespace)
        ids = list(ids)
        if not ids and np.asarray(vectors).size == 0:
            return
        matrix = _as_matrix(namespace, ids, vectors)
        dim = int(matrix.shape[1])
        rows = [
            (namespace, item_id, row.tobytes())
            for item_id, row in zip(ids, matrix.astype(_BLOB, copy=False), strict=True)
        ]
        with self._db.write() as conn:
            found = conn.execute(
                "SELECT dim FROM vector_namespaces WHERE namespace = ?", (namespace,)
            ).fetchone()
            if found is not None and found[0] is not None and found[0] != dim:
                raise InvalidInput(
                    f"namespace {namespace!r} holds {found[0]}-dimensional vectors; "
                    f"got {dim}-dimensional ones",
                    field="vectors",
                )
            conn.execute(
                """
                INSERT INTO vector_namespaces (namespace, dim, version) VALUES (?, ?, 1)
                ON CONFLICT (namespace) DO UPDATE SET dim = excluded.dim, version = version + 1
                """,
                (namespace, dim),
            )
            conn.executemany(_UPSERT, rows)

    def get(self, namespace: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        _check_namespace(namespace)
        wanted = list(dict.fromkeys(ids))
        found: dict[str, np.ndarray] = {}
        with self._db.read() as conn:
            for part in chunked(wanted):
                sql = (
                    "SELECT id, vec FROM vectors "
                    f"WHERE namespace = ? AND id IN ({placeholders(len(part))})"
                )
                for item_id, blob in conn.execute(sql, (namespace, *part)):
                    found[item_id] = np.frombuffer(blob, dtype=_BLOB).astype(np.float32)
        return {item_id: found[item_id] for item_id in wanted if item_id in found}

    def all(self, namespace: str) -> tuple[list[str], np.ndarray]:
        _check_namespace(namespace)
        with self._db.read() as conn:
            ids, matrix, _version = self._load(conn, namespace)
        return ids, matrix

    def search(
        self,
        namespace: str,
        query: np.ndarray,
        k: int,
        *,
        exclude: Sequence[str] = (),
    ) -> list[Neighbour]:
        """Exact: one matrix-vector product over the cached normalised matrix, then a partial
        sort. Ties are broken by id so results are deterministic."""
        _check_namespace(namespace)
        if k < 0:
            raise InvalidInput(f"k must be >= 0, got {k}", field="k")
        cached = self._matrix(namespace)
        if cached is None or k == 0:
            return []
        q = np.asarray(query, dtype=np.float32)
        if q.ndim == 2 and q.shape[0] == 1:
            q = q[0]
        dim = cached.normed.shape[1]
        if q.shape != (dim,):
            raise InvalidInput(
                f"namespace {namespace!r} holds {dim}-dimensional vectors; "
                f"the query has shape {q.shape}",
                field="query",
            )
        norm = float(np.linalg.norm(q))
        if not np.isfinite(norm) or norm == 0.0:
            raise InvalidInput("the query vector must be finite and non-zero", field="query")
        scores = cached.normed @ (q / norm)
        dropped = {cached.index[i] for i in exclude if i in cached.index}
        if dropped:
            scores[list(dropped)] = -np.inf
        k = min(k, len(cached.ids) - len(dropped))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        order = top[np.lexsort((top, -scores[top]))]
        return [Neighbour(cached.ids[i], float(scores[i])) for i in order]

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        _check_namespace(namespace)
        wanted = list(dict.fromkeys(ids))
        removed = 0
        with self._db.write() as conn:
            for part in chunked(wanted):
                marks = placeholders(len(part))
                sql = f"DELETE FROM vectors WHERE namespace = ? AND id IN ({marks})"
                removed += conn.execute(sql, (namespace, *part)).rowcount
            if removed:
                # An emptied namespace forgets its dimension, so it can take another model.
                conn.execute(
                    """
                    UPDATE vector_namespaces SET version = version + 1,
                        dim = CASE WHEN EXISTS (SELECT 1 FROM vectors WHERE namespace = ?)
                              THEN dim ELSE NULL END
                    WHERE namespace = ?
                    """,
                    (namespace, namespace),
                )
        return removed

    def count(self, namespace: str) -> int:
        _check_namespace(namespace)
        with self._db.read() as conn:
            sql = "SELECT COUNT(*) FROM vectors WHERE namespace = ?"
            return int(conn.execute(sql, (namespace,)).fetchone()[0])

    def _load(self, conn: sqlite3.Connection, namespace: str) -> tuple[list[str], np.ndarray, int]:
        meta = conn.execute(
            "SELECT dim, version FROM vector_namespaces WHERE namespace = ?", (namespace,)
        ).fetchone()
        if meta is None or meta[0] is None:
            return [], np.zeros((0, 0), dtype=np.float32), 0 if meta is None else int(meta[1])
        rows = conn.execute(
            "SELECT id, vec FROM vectors WHERE namespace = ? ORDER BY id", (namespace,)
        ).fetchall()
        ids = [row[0] for row in rows]
        return ids, _decode([row[1] for row in rows], int(meta[0])), int(meta[1])

    def _matrix(self, namespace: str) -> _Matrix | None:
        """The cached normalised matrix, reloaded when the namespace's counter moved."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT version FROM vector_namespaces WHERE namespace = ?", (namespace,)
            ).fetchone()
            version = None if row is None else int(row[0])
            with self._cache_lock:
                cached = self._cache.get(namespace)
            if cached is not None and cached.version == version:
                return cached if cached.ids else None
            if version is None:
                return None
            ids, matrix, version = self._load(conn, namespace)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True) if ids else np.ones((0, 1))
        normed = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
        fresh = _Matrix(version, ids, normed, {item_id: i for i, item_id in enumerate(ids)})
        with self._cache_lock:
            current = self._cache.get(namespace)
            if current is None or current.version <= version:
                self._cache[namespace] = fresh
        return fresh if ids else None

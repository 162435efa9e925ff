"""Vector store on SQLite: float32 blobs per (namespace, id); cosine k-NN in memory.

Search keeps each namespace's normalised matrix in memory. A per-namespace write counter,
bumped in the same transaction as every write, tells this process (and any other process
sharing the file) when its cached matrix is stale, at the cost of one indexed lookup.

Small namespaces are searched exactly (one matrix-vector product). From `exact_below` vectors
on, a faiss HNSW graph (see `ann`) answers instead, built lazily per namespace on a background
thread; until it is ready, and whenever the graph cannot give k answers (heavy exclusion),
search stays exact, so a query never waits for a build. Small changes seen through the write
counter are patched into the graph (new slots, dead old ones); large ones rebuild it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from feedcraft.errors import InvalidInput
from feedcraft.storage.protocols import Neighbour
from feedcraft.storage.sqlite.ann import HnswIndex, HnswParams
from feedcraft.storage.sqlite.codec import chunked, placeholders
from feedcraft.storage.sqlite.db import Database

_BLOB = np.dtype("<f4")
_UPSERT = """
    INSERT INTO vectors (namespace, id, vec) VALUES (?, ?, ?)
    ON CONFLICT (namespace, id) DO UPDATE SET vec = excluded.vec
"""

#: Namespaces with fewer vectors are searched exactly: below this, one matrix-vector product
#: costs well under a millisecond (benchmarks/ann.py), not worth a graph build.
EXACT_BELOW = 5_000
#: At most this many changed or removed ids are patched into a built graph by the search that
#: sees them (each insert is a graph walk); more start a background rebuild.
PATCH_LIMIT = 256
#: A graph with more dead slots than this share of all slots is rebuilt rather than patched.
MAX_DEAD_FRACTION = 0.25
#: Queries asking for more than this share of a namespace are answered exactly.
ANN_MAX_K_FRACTION = 0.1


@dataclass(frozen=True, slots=True)
class _Matrix:
    """A namespace's unit-normalised vectors at one write counter value."""

    version: int
    ids: list[str]
    normed: np.ndarray
    index: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Graph:
    """A namespace's HNSW graph and the matrix snapshot it reflects, guarded by `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    index: HnswIndex | None = None
    matrix: _Matrix | None = None
    building: int | None = None  # the version a background build is working on


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

    def __init__(
        self,
        db: Database,
        *,
        exact_below: int = EXACT_BELOW,
        hnsw: HnswParams | None = None,
        background: bool = True,
    ) -> None:
        """`background=False` builds graphs inside the search that needs them (tests,
        benchmarks); the default never makes a query wait for a build."""
        self._db = db
        self._cache: dict[str, _Matrix] = {}
        self._cache_lock = threading.Lock()
        self._exact_below = exact_below
        self._hnsw = hnsw or HnswParams()
        self._background = background
        self._graphs: dict[str, _Graph] = {}

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
        """Exact below `exact_below` vectors (one matrix-vector product over the cached
        normalised matrix, then a partial sort), HNSW above once its graph is built. Ties are
        broken by id; a graph is built on one thread, so results are deterministic."""
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
        unit = q / norm
        dropped = {cached.index[i] for i in exclude if i in cached.index}
        n = len(cached.ids)
        k = min(k, n - len(dropped))
        if k <= 0:
            return []
        if n >= self._exact_below and k <= ANN_MAX_K_FRACTION * n:
            found = self._graph_search(namespace, cached, unit, k, exclude)
            if found is not None:
                found.sort(key=lambda hit: (-hit[1], hit[0]))
                return [Neighbour(item_id, score) for item_id, score in found]
        scores = cached.normed @ unit
        if dropped:
            scores[list(dropped)] = -np.inf
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

    def version(self, namespace: str) -> int:
        _check_namespace(namespace)
        with self._db.read() as conn:
            sql = "SELECT version FROM vector_namespaces WHERE namespace = ?"
            row = conn.execute(sql, (namespace,)).fetchone()
        return 0 if row is None else int(row[0])

    def namespaces(self) -> list[str]:
        """From the namespace table, not a scan of every vector: a namespace's dimension is
        NULL exactly when it holds none (set by the first upsert, cleared when emptied)."""
        with self._db.read() as conn:
            sql = "SELECT namespace FROM vector_namespaces WHERE dim IS NOT NULL ORDER BY namespace"
            return [row[0] for row in conn.execute(sql)]

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

    # -- the graph ---------------------------------------------------------------------------
    def _graph_search(
        self,
        namespace: str,
        snapshot: _Matrix,
        unit: np.ndarray,
        k: int,
        exclude: Sequence[str],
    ) -> list[tuple[str, float]] | None:
        """The graph's answer for this snapshot, or None (not built yet, or too few hits)."""
        with self._cache_lock:
            graph = self._graphs.setdefault(namespace, _Graph())
        with graph.lock:
            current = graph.matrix
            fresh = current is not None and current.version == snapshot.version
            if not fresh and not self._catch_up(namespace, graph, snapshot):
                return None
            assert graph.index is not None
            return graph.index.search(unit, k, exclude=exclude)

    def _catch_up(self, namespace: str, graph: _Graph, snapshot: _Matrix) -> bool:
        """Bring the graph to `snapshot` (caller holds graph.lock): patch small changes in
        place, otherwise rebuild, in the background by default. True when it now matches."""
        old = graph.matrix
        if old is not None and old.version > snapshot.version:
            return False  # this search read an older snapshot than the graph's: answer exactly
        if graph.index is not None and old is not None:
            patch = _changes(old, snapshot)
            if patch is not None:
                changed, removed = patch
                dead = graph.index.slots - graph.index.live + len(changed) + len(removed)
                if len(changed) + len(removed) <= PATCH_LIMIT and dead <= MAX_DEAD_FRACTION * (
                    graph.index.slots + len(changed)
                ):
                    graph.index.remove(removed)
                    graph.index.add([snapshot.ids[i] for i in changed], snapshot.normed[changed])
                    graph.matrix = snapshot
                    return True
        if not self._background:
            graph.index = HnswIndex.build(snapshot.ids, snapshot.normed, self._hnsw)
            graph.matrix = snapshot
            return True
        if graph.building is None or graph.building < snapshot.version:
            graph.building = snapshot.version
            threading.Thread(
                target=self._build,
                args=(graph, snapshot),
                name=f"feedcraft-hnsw-{namespace}",
                daemon=True,
            ).start()
        return False

    def _build(self, graph: _Graph, snapshot: _Matrix) -> None:
        """Background build; installed unless a newer snapshot got there first."""
        index: HnswIndex | None = None
        try:
            index = HnswIndex.build(snapshot.ids, snapshot.normed, self._hnsw)
        finally:
            with graph.lock:
                current = graph.matrix
                if index is not None and (current is None or current.version < snapshot.version):
                    graph.index, graph.matrix = index, snapshot
                if graph.building == snapshot.version:
                    graph.building = None


def _changes(old: _Matrix, new: _Matrix) -> tuple[np.ndarray, list[str]] | None:
    """(rows of `new` that are new or changed since `old`, ids `old` had and `new` lacks);
    None when the dimension changed, so the graph must be rebuilt."""
    if old.normed.shape[1] != new.normed.shape[1]:
        return None
    pos = np.fromiter((old.index.get(i, -1) for i in new.ids), np.int64, len(new.ids))
    known = np.flatnonzero(pos >= 0)
    same = np.zeros(len(new.ids), bool)
    same[known] = (old.normed[pos[known]] == new.normed[known]).all(axis=1)
    removed = [i for i in old.ids if i not in new.index]
    return np.flatnonzero(~same), removed

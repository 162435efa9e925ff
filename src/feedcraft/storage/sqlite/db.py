"""Connections, pragmas and transactions for one SQLite database.

A file database gets one connection per thread (the API server calls the store from a thread
pool, and SQLite connections must not be shared mid-statement); WAL lets those connections
and other processes read while one writes. An in-memory database exists only inside its one
connection, so there every call shares that connection under a lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any

from feedcraft.errors import InvalidInput, Unavailable
from feedcraft.storage.sqlite.url import SqliteTarget

BUSY_TIMEOUT_S = 30.0

# Applied to every new connection. synchronous=FULL fsyncs the WAL at each commit, so a
# write that returned survives power loss; secure_delete overwrites erased rows with zeros.
_PRAGMAS = (
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -32768",  # 32 MiB, grown on demand: fewer spills in bulk imports
)


class _Holder:
    """Owns one connection; weak-referenced so a finished thread's connection is freed."""

    __slots__ = ("__weakref__", "conn", "pid")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.pid = os.getpid()


# Connections inherited through fork(): SQLite forbids using (even closing) them in the child,
# so the child keeps them alive, untouched, and opens its own.
_INHERITED: list[_Holder] = []


class Database:
    """Hands out the right connection for the calling thread and wraps transactions."""

    def __init__(self, target: SqliteTarget) -> None:
        self.target = target
        self._closed = False
        self._local = threading.local()
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._registry_lock = threading.Lock()
        self._shared: sqlite3.Connection | None = None
        self._lock: threading.RLock | None = None
        if target.memory:
            self._lock = threading.RLock()
            self._shared = self._connect()
        else:
            self.connection()  # fail at open, not at first use, when the file is unusable

    def _connect(self) -> sqlite3.Connection:
        database = ":memory:" if self.target.path is None else str(self.target.path)
        try:
            conn = sqlite3.connect(
                database,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # close() may run on another thread
            )
        except sqlite3.Error as exc:
            raise Unavailable(f"cannot open SQLite database {database}: {exc}") from exc
        try:
            if self.target.path is not None:
                conn.execute("PRAGMA journal_mode = WAL").fetchone()
            for pragma in _PRAGMAS:
                conn.execute(pragma)
        except sqlite3.Error as exc:
            conn.close()
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
                raise InvalidInput(f"{database} is not a SQLite database", field="store") from exc
            raise Unavailable(f"cannot configure SQLite database {database}: {exc}") from exc
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (file) or the shared one (memory)."""
        if self._closed:
            raise Unavailable("the store is closed")
        if self._shared is not None:
            return self._shared
        holder: _Holder | None = getattr(self._local, "holder", None)
        if holder is not None and holder.pid != os.getpid():
            _INHERITED.append(holder)
            holder = None
        if holder is None:
            holder = _Holder(self._connect())
            self._local.holder = holder
            with self._registry_lock:
                self._holders.add(holder)
        return holder.conn

    def _guard(self) -> AbstractContextManager[Any]:
        return self._lock if self._lock is not None else nullcontext()

    def read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read transaction: every statement inside sees one consistent snapshot."""
        return self._transaction("BEGIN", "read")

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction: committed (and synced) on success, rolled back on any error.

        BEGIN IMMEDIATE takes the write lock up front, so two writers queue on the busy
        timeout instead of failing with a deadlock when both try to upgrade a read lock.
        """
        return self._transaction("BEGIN IMMEDIATE", "write")

    @contextmanager
    def _transaction(self, begin: str, kind: str) -> Iterator[sqlite3.Connection]:
        """`begin` ... COMMIT; any error rolls back, and a failure of the database itself (not
        of the SQL) surfaces as Unavailable."""
        with self._guard():
            conn = self.connection()
            try:
                conn.execute(begin)
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                _rollback(conn)
                if _unavailable(exc):
                    raise Unavailable(f"SQLite {kind} failed: {exc}") from exc
                raise

    def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it (best effort; readers may block it).

        Called after an erasure so the erased rows' old pages do not linger in the WAL file.
        """
        if self.target.memory:
            return
        with self._guard(), suppress(sqlite3.OperationalError):
            self.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def pragma(self, name: str) -> Any:
        with self._guard():
            row = self.connection().execute(f"PRAGMA {name}").fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        """Close every connection this database opened, on any thread."""
        with self._guard():
            self._closed = True
            if self._shared is not None:
                self._shared.close()
                self._shared = None
            with self._registry_lock:
                holders = list(self._holders)
                self._holders.clear()
            for holder in holders:
                if holder.pid == os.getpid():
                    holder.conn.close()
            self._local = threading.local()


def _unavailable(exc: BaseException) -> bool:
    """Failures of the database or its file (locked past the timeout, disk full, I/O error,
    corruption) rather than of the SQL: callers see them as the store being unavailable."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, sqlite3.IntegrityError | sqlite3.ProgrammingError
    )


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")

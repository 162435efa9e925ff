"""Ordered schema migrations, tracked in PRAGMA user_version.

Migration n (1-based) takes a database from version n-1 to n. Never edit a released migration;
append a new one. All pending migrations run in one transaction at open, so a crash mid-upgrade
leaves the old schema intact, and two processes opening at once upgrade only once.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable

from feedcraft.errors import Conflict
from feedcraft.storage.sqlite.db import Database

Migration = Callable[[sqlite3.Connection], None]


def _script(*statements: str) -> Migration:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


_V1_CORE = _script(
    """
    CREATE TABLE items (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        category TEXT NOT NULL,
        subcategory TEXT NOT NULL,
        tags TEXT NOT NULL,
        language TEXT,
        image_url TEXT,
        published_us INTEGER,
        provider TEXT,
        attributes TEXT NOT NULL,
        stub INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        type TEXT NOT NULL,
        ts_us INTEGER NOT NULL,
        value REAL,
        impression_id TEXT,
        position INTEGER,
        propensity REAL
    )
    """,
    "CREATE INDEX events_user_ts ON events (user_id, ts_us)",
    "CREATE INDEX events_ts ON events (ts_us)",
    """
    CREATE TABLE vectors (
        rid INTEGER PRIMARY KEY,
        namespace TEXT NOT NULL,
        id TEXT NOT NULL,
        vec BLOB NOT NULL,
        UNIQUE (namespace, id)
    )
    """,
    "CREATE TABLE artifact_names (name TEXT PRIMARY KEY, last_version INTEGER NOT NULL)",
    """
    CREATE TABLE artifacts (
        name TEXT NOT NULL REFERENCES artifact_names (name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        size INTEGER NOT NULL,
        metadata TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (name, version)
    )
    """,
)


def _v2_vector_namespaces(conn: sqlite3.Connection) -> None:
    """Per-namespace dimension and write counter: the counter lets every process tell
    whether its cached search matrix is stale; backfilled from vectors stored by v1."""
    conn.execute(
        """
        CREATE TABLE vector_namespaces (
            namespace TEXT PRIMARY KEY,
            dim INTEGER,
            version INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    conn.execute(
        """
        INSERT INTO vector_namespaces (namespace, dim, version)
        SELECT namespace, MIN(length(vec)) / 4, 1 FROM vectors GROUP BY namespace
        """
    )


_V3_TEXT_CACHE = _script(
    """
    CREATE TABLE text_cache (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        metadata TEXT NOT NULL
    )
    """,
)


#: A user's history (item ids in time order, optionally of some types) is read on every feed
#: request: with type and item id in the index the read never touches the table (half the
#: time for the heaviest MovieLens users), and seq in the key keeps (ts_us, seq) order
#: without a sort. It replaces events_user_ts, whose every use it covers.
_V4_HISTORY_INDEX = _script(
    "CREATE INDEX events_user_history ON events (user_id, ts_us, seq, type, item_id)",
    "DROP INDEX events_user_ts",
)


#: Tombstones of deleted items: events keep naming an item after it is taken down, and without a
#: record of the deletion the next such event would bring it back as a stub. A row lives from
#: the deletion until a full item with that id is stored again.
_V5_DELETED_ITEMS = _script(
    "CREATE TABLE deleted_items (id TEXT PRIMARY KEY, deleted_us INTEGER NOT NULL) WITHOUT ROWID",
)


def _v6_artifact_checksums(conn: sqlite3.Connection) -> None:
    """The sha256 of each artifact's bytes, checked at every load: a damaged model blob (most
    single-byte changes to a pickle still load) is refused instead of served. Artifacts saved
    before get the digest of their bytes as they are now."""
    conn.execute("ALTER TABLE artifacts ADD COLUMN sha256 TEXT NOT NULL DEFAULT ''")
    rows = conn.execute("SELECT name, version, data FROM artifacts").fetchall()
    for name, version, data in rows:
        conn.execute(
            "UPDATE artifacts SET sha256 = ? WHERE name = ? AND version = ?",
            (hashlib.sha256(data).hexdigest(), name, version),
        )


#: Who is writing which cache entry, until when: processes sharing the store wait for the writer
#: instead of running the model for the same entry too (`TextCache.claim`).
_V7_TEXT_CACHE_CLAIMS = _script(
    """
    CREATE TABLE text_cache_claims (
        key TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        claimed_us INTEGER NOT NULL,
        expires_us INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
)

#: Each reader's consent decisions (`Consents`), the latest only.
_V8_CONSENTS = _script(
    """
    CREATE TABLE consents (
        user_id TEXT PRIMARY KEY,
        choices TEXT NOT NULL,
        updated_us INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
)

#: Every consent decision as it was made, so a site can show when a reader agreed to what
#: (GDPR Art. 7(1)); erased with the reader.
_V9_CONSENT_HISTORY = _script(
    """
    CREATE TABLE consent_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL,
        choices TEXT NOT NULL,
        updated_us INTEGER NOT NULL
    )
    """,
    "CREATE INDEX consent_history_user ON consent_history (user_id, seq)",
    # decisions stored before the history existed start it
    "INSERT INTO consent_history (user_id, choices, updated_us) "
    "SELECT user_id, choices, updated_us FROM consents ORDER BY updated_us",
)


MIGRATIONS: tuple[Migration, ...] = (
    _V1_CORE,
    _v2_vector_namespaces,
    _V3_TEXT_CACHE,
    _V4_HISTORY_INDEX,
    _V5_DELETED_ITEMS,
    _v6_artifact_checksums,
    _V7_TEXT_CACHE_CLAIMS,
    _V8_CONSENTS,
    _V9_CONSENT_HISTORY,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: Database) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it was at before."""
    with db.write() as conn:
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if found > SCHEMA_VERSION:
            where = db.target.path or ":memory:"
            raise Conflict(
                f"the database {where} has schema version {found}, newer than this feedcraft "
                f"understands ({SCHEMA_VERSION}); upgrade feedcraft to open it"
            )
        for migration in MIGRATIONS[found:]:
            migration(conn)
        if found != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return found

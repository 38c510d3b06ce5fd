"""Per-connection key-value state (tokens, files already seen, notifications sent).

One SQLite file holds the state of many connections, each in its own
namespace, so several processes working on the same store share it (WAL
mode, short transactions). Values are JSON. The sync engine later adds its
own tables (records, checkpoints, journal) to the same file, each component's
schema versioned and migrated forward by :meth:`StateStore.migrate`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tramo.errors import ConfigurationError

__all__ = ["ConnectionState", "StateStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
);
CREATE TABLE IF NOT EXISTS schema_versions (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL
)
"""


class StateStore:
    """A SQLite file (or memory) holding the state of every connection.

    ``path`` None keeps the state in memory for this process only; give a
    path for anything that must survive a restart (tokens, seen files).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(
            str(self.path) if self.path else ":memory:",
            check_same_thread=False, isolation_level=None, timeout=30.0,
        )
        self._setup()

    def _setup(self, attempts: int = 100) -> None:
        """WAL mode and the schema. Switching to WAL takes a lock that SQLite's busy
        timeout does not wait for, so processes opening a new file together retry."""
        for attempt in range(attempts):
            try:
                if self.path is not None:
                    self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.01 + 0.01 * attempt)

    def __repr__(self) -> str:
        return f"StateStore({str(self.path) if self.path else ':memory:'})"

    def for_connection(self, namespace: str) -> ConnectionState:
        """The state of one connection."""
        return ConnectionState(self, namespace)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction across processes (``BEGIN IMMEDIATE``): read-modify-write safely.

        Nested calls (in the same thread) join the outer transaction, so a helper
        that is atomic on its own can be part of a larger commit.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """:meth:`atomic`, handing over the database: for a component's own tables (the sync
        ledger, the reference ERP) when statements need more than :meth:`execute` gives."""
        with self.atomic():
            yield self._db

    def version(self, component: str) -> int:
        """The schema version of ``component``'s tables in this file (0: none yet)."""
        rows = self.execute("SELECT version FROM schema_versions WHERE component = ?", (component,))
        return int(rows[0][0]) if rows else 0

    def migrate(self, component: str, migrations: Sequence[str]) -> int:
        """Bring ``component``'s tables to the last of ``migrations``; return its version.

        Migration *n* (counting from 1) is SQL that turns version *n-1* into *n*;
        those not yet applied run in order in one transaction, so a crash leaves
        the old version whole. A file newer than this code is refused, not damaged.
        """
        with self.transaction() as db:
            current = self.version(component)
            if current > len(migrations):
                raise ConfigurationError(
                    f"{self}: the {component} schema is version {current}, newer than this "
                    f"tramo knows ({len(migrations)}); upgrade tramo")
            for script in migrations[current:]:
                # one statement at a time: executescript() would commit mid-transaction
                for statement in (part for part in script.split(";") if part.strip()):
                    db.execute(statement)
            db.execute("INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                       "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                       (component, len(migrations)))
        return len(migrations)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement on the file, its rows fetched (thread safe)."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()


class ConnectionState:
    """The key-value state of one connection. Values are anything JSON can hold."""

    def __init__(self, store: StateStore, namespace: str) -> None:
        self._store = store
        self.namespace = namespace

    def __repr__(self) -> str:
        return f"ConnectionState({self.namespace!r})"

    @property
    def store(self) -> StateStore:
        """The store (file) this state lives in; processes on one file share it."""
        return self._store

    def get(self, key: str, default: Any = None) -> Any:
        rows = self._store.execute(
            "SELECT value FROM kv WHERE namespace = ? AND key = ?", (self.namespace, key))
        return json.loads(rows[0][0]) if rows else default

    def set(self, key: str, value: Any) -> None:
        self._store.execute(
            "INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
            (self.namespace, key, json.dumps(value)))

    def add(self, key: str, value: Any) -> bool:
        """Set ``key`` only if absent; True when this call set it (a once-only marker)."""
        rows = self._store.execute(
            "INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (namespace, key) DO NOTHING RETURNING key",
            (self.namespace, key, json.dumps(value)))
        return bool(rows)

    def delete(self, key: str) -> None:
        self._store.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (self.namespace, key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._store.execute(
            "SELECT key FROM kv WHERE namespace = ? AND key LIKE ? ESCAPE '\\' ORDER BY key",
            (self.namespace, pattern))
        return iter([row[0] for row in rows])

    def atomic(self) -> contextlib.AbstractContextManager[None]:
        """A transaction on the whole store (see :meth:`StateStore.atomic`)."""
        return self._store.atomic()

    def __contains__(self, key: str) -> bool:
        return bool(self._store.execute(
            "SELECT 1 FROM kv WHERE namespace = ? AND key = ?", (self.namespace, key)))

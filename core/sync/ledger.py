"""What the sync engine remembers per connection, in the state store's SQLite file.

- **records**: ERP id <-> platform id per resource, with the digest of what
  was last sent or imported, so an unchanged record is never sent again and a
  changed one is sent once;
- **checkpoints** per stream, moved only in the transaction that commits what
  they cover;
- a **journal** of writes: an entry is opened (``pending``) before a write and
  closed in the same transaction that records its result, so an entry still
  pending at the next run is a write whose fate is unknown (a crash, a kill)
  and is replayed with the same idempotency key;
- **locks** per connection and stream, with an expiry, so two runs on one
  connection cannot import the same order twice and a dead run's lock lapses;
  a lock whose process is gone from this machine (killed) is taken over at once;
- **held** records with the typed error that stopped them, retried each run;
- **events**: the last errors and run summaries, for ``tramo status``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import attrs

from tramo.errors import TramoError
from tramo.model.convert import to_dict
from tramo.redaction import mask_personal
from tramo.state import StateStore

__all__ = ["Busy", "HeldRecord", "Ledger", "Record", "digest"]

_MIGRATIONS = [
    """
    CREATE TABLE sync_records (
        connection TEXT NOT NULL, resource TEXT NOT NULL, local_id TEXT NOT NULL,
        remote_id TEXT, digest TEXT NOT NULL, synced_at REAL NOT NULL,
        PRIMARY KEY (connection, resource, local_id));
    CREATE INDEX sync_records_remote ON sync_records (connection, resource, remote_id);
    CREATE TABLE sync_checkpoints (
        connection TEXT NOT NULL, stream TEXT NOT NULL, value TEXT NOT NULL, at REAL NOT NULL,
        PRIMARY KEY (connection, stream));
    CREATE TABLE sync_journal (
        key TEXT PRIMARY KEY, connection TEXT NOT NULL, flow TEXT NOT NULL,
        resource TEXT NOT NULL, item_id TEXT NOT NULL, state TEXT NOT NULL,
        opened_at REAL NOT NULL, closed_at REAL);
    CREATE INDEX sync_journal_open ON sync_journal (connection, state);
    CREATE TABLE sync_locks (
        connection TEXT NOT NULL, stream TEXT NOT NULL, owner TEXT NOT NULL,
        expires_at REAL NOT NULL, PRIMARY KEY (connection, stream));
    CREATE TABLE sync_held (
        connection TEXT NOT NULL, flow TEXT NOT NULL, item_id TEXT NOT NULL,
        error TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT,
        first_at REAL NOT NULL, last_at REAL NOT NULL, attempts INTEGER NOT NULL,
        PRIMARY KEY (connection, flow, item_id));
    CREATE TABLE sync_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, connection TEXT NOT NULL, flow TEXT NOT NULL,
        level TEXT NOT NULL, message TEXT NOT NULL, at REAL NOT NULL)
    """,
]


def digest(value: Any) -> str:
    """A short stable fingerprint of a model object (or plain JSON data)."""
    data = to_dict(value) if attrs.has(type(value)) else value
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_HOST = socket.gethostname()


def _owner_is_gone(owner: str) -> bool:
    """True when a lock's owner was a process on this machine that no longer runs.

    Owners on other machines (a shared state file) and owners written before
    owners named their process are never judged: their locks lapse by expiry.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


class Busy(TramoError):
    """Another run holds this connection's stream."""

    def __init__(self, connection: str, stream: str, seconds_left: float) -> None:
        super().__init__(f"connection {connection!r}: another run is syncing {stream!r} "
                         f"(its lock lapses in {seconds_left:.0f} s unless renewed)")
        self.connection = connection
        self.stream = stream


@attrs.frozen
class Record:
    """One bound record: the ERP's id, the platform's id, what was last synced."""

    resource: str
    local_id: str
    remote_id: str | None
    digest: str


@attrs.frozen
class HeldRecord:
    """A record a flow could not take, with the typed error's name and the reason."""

    connection: str
    flow: str
    item_id: str
    error: str
    reason: str
    attempts: int
    first_at: float
    last_at: float


class Ledger:
    """The sync engine's memory, beside the connections' state in one SQLite file."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        store.migrate("sync", _MIGRATIONS)

    def __repr__(self) -> str:
        return f"Ledger({self.store!r})"

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.store.execute(sql, args)

    def atomic(self) -> contextlib.AbstractContextManager[None]:
        return self.store.atomic()

    # -- records ------------------------------------------------------------------------

    def record(self, connection: str, resource: str, local_id: str) -> Record | None:
        rows = self._rows("SELECT remote_id, digest FROM sync_records WHERE connection = ? "
                          "AND resource = ? AND local_id = ?", (connection, resource, local_id))
        return Record(resource, local_id, rows[0][0], rows[0][1]) if rows else None

    def records(self, resource: str, connection: str | None = None) -> list[tuple[str, Record]]:
        """(connection, record) pairs of ``resource``, on one connection or all."""
        sql = "SELECT connection, local_id, remote_id, digest FROM sync_records WHERE resource = ?"
        args: tuple[Any, ...] = (resource,)
        if connection is not None:
            sql, args = sql + " AND connection = ?", (resource, connection)
        return [(c, Record(resource, lid, rid, d))
                for c, lid, rid, d in self._rows(sql + " ORDER BY connection, local_id", args)]

    def by_remote(self, connection: str, resource: str, remote_id: str) -> Record | None:
        rows = self._rows("SELECT local_id, digest FROM sync_records WHERE connection = ? "
                          "AND resource = ? AND remote_id = ?", (connection, resource, remote_id))
        return Record(resource, rows[0][0], remote_id, rows[0][1]) if rows else None

    def remember(self, connection: str, resource: str, local_id: str, remote_id: str | None,
                 fingerprint: str) -> None:
        """Keep what was synced (a missing ``remote_id`` keeps the one already known)."""
        self._rows(
            "INSERT INTO sync_records (connection, resource, local_id, remote_id, digest, synced_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (connection, resource, local_id) DO UPDATE SET "
            "remote_id = COALESCE(excluded.remote_id, remote_id), digest = excluded.digest, "
            "synced_at = excluded.synced_at",
            (connection, resource, local_id, remote_id, fingerprint, time.time()))

    def forget(self, connection: str, resource: str, local_id: str) -> None:
        self._rows("DELETE FROM sync_records WHERE connection = ? AND resource = ? AND local_id = ?",
                   (connection, resource, local_id))

    # -- checkpoints --------------------------------------------------------------------

    def checkpoint(self, connection: str, stream: str) -> str | None:
        rows = self._rows("SELECT value FROM sync_checkpoints WHERE connection = ? AND stream = ?",
                          (connection, stream))
        return rows[0][0] if rows else None

    def advance(self, connection: str, stream: str, value: str) -> None:
        """Move the checkpoint (call inside the transaction that commits what it covers)."""
        self._rows("INSERT INTO sync_checkpoints (connection, stream, value, at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (connection, stream) DO UPDATE SET value = excluded.value, at = excluded.at",
                   (connection, stream, value, time.time()))

    def checkpoints(self, connection: str) -> dict[str, str]:
        return dict(self._rows("SELECT stream, value FROM sync_checkpoints WHERE connection = ? "
                               "ORDER BY stream", (connection,)))

    # -- journal ------------------------------------------------------------------------

    def open_entry(self, key: str, connection: str, flow: str, resource: str, item_id: str) -> None:
        """Say a write is about to happen (an entry already open stays as it is)."""
        self._rows("INSERT INTO sync_journal (key, connection, flow, resource, item_id, state, opened_at) "
                   "VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (key) DO UPDATE SET "
                   "state = 'pending', closed_at = NULL",
                   (key, connection, flow, resource, item_id, time.time()))

    def close_entry(self, key: str, outcome: str = "done") -> None:
        self._rows("UPDATE sync_journal SET state = ?, closed_at = ? WHERE key = ?",
                   (outcome, time.time(), key))

    def settle_item(self, connection: str, flow: str, resource: str, item_id: str,
                    outcome: str = "superseded") -> None:
        """Close every entry still open for this item: a later write of it settled them all
        (an entry opened for an older version of the item would otherwise stay in doubt)."""
        self._rows("UPDATE sync_journal SET state = ?, closed_at = ? WHERE connection = ? AND flow = ? "
                   "AND resource = ? AND item_id = ? AND state = 'pending'",
                   (outcome, time.time(), connection, flow, resource, item_id))

    def in_doubt(self, connection: str, flow: str | None = None) -> list[tuple[str, str, str]]:
        """(key, resource, item id) of writes opened and never closed: a run died mid-write."""
        sql = "SELECT key, resource, item_id FROM sync_journal WHERE connection = ? AND state = 'pending'"
        args: tuple[Any, ...] = (connection,)
        if flow is not None:
            sql, args = sql + " AND flow = ?", (connection, flow)
        return [(k, r, i) for k, r, i in self._rows(sql + " ORDER BY opened_at, key", args)]

    # -- locks --------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, connection: str, stream: str = "sync", *, ttl: float = 900.0) -> Iterator[str]:
        """Hold ``stream`` of ``connection`` for this run; :class:`Busy` when another holds it."""
        owner = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex}"
        now = time.time()
        with self.atomic():
            rows = self._rows("SELECT owner, expires_at FROM sync_locks WHERE connection = ? "
                              "AND stream = ?", (connection, stream))
            if rows and rows[0][1] > now and not _owner_is_gone(rows[0][0]):
                raise Busy(connection, stream, rows[0][1] - now)
            self._rows("INSERT INTO sync_locks (connection, stream, owner, expires_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (connection, stream) DO UPDATE SET owner = excluded.owner, "
                       "expires_at = excluded.expires_at", (connection, stream, owner, now + ttl))
        try:
            yield owner
        finally:
            self._rows("DELETE FROM sync_locks WHERE connection = ? AND stream = ? AND owner = ?",
                       (connection, stream, owner))

    # -- held records -------------------------------------------------------------------

    def hold(self, connection: str, flow: str, item_id: str, error: BaseException,
             raw: Any = None) -> None:
        """Keep a record a flow could not take (again: one more attempt)."""
        now = time.time()
        reason = mask_personal(str(error))
        kept = None if raw is None else json.dumps(raw, default=str)
        self._rows(
            "INSERT INTO sync_held (connection, flow, item_id, error, reason, raw, first_at, last_at, "
            "attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (connection, flow, item_id) DO "
            "UPDATE SET error = excluded.error, reason = excluded.reason, raw = excluded.raw, "
            "last_at = excluded.last_at, attempts = attempts + 1",
            (connection, flow, item_id, type(error).__name__, reason, kept, now, now))

    def release(self, connection: str, flow: str, item_id: str) -> None:
        """The record went through: it is no longer held."""
        self._rows("DELETE FROM sync_held WHERE connection = ? AND flow = ? AND item_id = ?",
                   (connection, flow, item_id))

    def held(self, connection: str | None = None, flow: str | None = None) -> list[HeldRecord]:
        sql = ("SELECT connection, flow, item_id, error, reason, attempts, first_at, last_at "
               "FROM sync_held WHERE 1 = 1")
        args: list[Any] = []
        if connection is not None:
            sql += " AND connection = ?"
            args.append(connection)
        if flow is not None:
            sql += " AND flow = ?"
            args.append(flow)
        return [HeldRecord(*row) for row in self._rows(sql + " ORDER BY connection, flow, item_id",
                                                        tuple(args))]

    # -- events -------------------------------------------------------------------------

    def note(self, connection: str, flow: str, level: str, message: str) -> None:
        """Keep an error or a summary line for ``tramo status`` (personal data masked)."""
        self._rows("INSERT INTO sync_events (connection, flow, level, message, at) VALUES (?, ?, ?, ?, ?)",
                   (connection, flow, level, mask_personal(message), time.time()))

    def events(self, connection: str, *, level: str | None = None, limit: int = 10
               ) -> list[tuple[float, str, str, str]]:
        """The newest (at, flow, level, message) of a connection, newest first."""
        sql = "SELECT at, flow, level, message FROM sync_events WHERE connection = ?"
        args: tuple[Any, ...] = (connection,)
        if level is not None:
            sql, args = sql + " AND level = ?", (connection, level)
        return [(a, f, lv, m) for a, f, lv, m in
                self._rows(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))]

    # -- personal data --------------------------------------------------------------------

    def purge(self, before: float) -> int:
        """Drop what may hold personal data and is older than ``before`` (epoch seconds):
        held records' raw payloads, old events and closed journal entries. Returns rows touched."""
        touched = 0
        with self.store.transaction() as db:
            for sql in ("UPDATE sync_held SET raw = NULL WHERE raw IS NOT NULL AND last_at < ?",
                        "DELETE FROM sync_events WHERE at < ?",
                        "DELETE FROM sync_journal WHERE state != 'pending' AND closed_at < ?"):
                touched += db.execute(sql, (before,)).rowcount
        return touched

"""The files the other side leaves in a folder: each imported once, none lost, bad ones set aside.

A file-exchange plugin reads records (orders, say) from files that the
platform's side drops in an incoming folder. :class:`Inbox` keeps a ledger in
the connection's state, so that

- a file is known by its name *and* its content's SHA-256: the same name with
  new content is a new file; the same file seen again is not imported again;
- a file leaves the incoming folder (for the processed folder) only after
  every record in it has been acknowledged, that is, committed by the host.
  The acknowledgement is written to the ledger *before* the move, so a crash
  between the two loses nothing and imports nothing twice: the next look
  finishes the move and yields nothing from that file;
- a file that cannot be read is moved to the quarantine folder, with a report
  beside it (``<name>.errors.txt``) saying what is wrong, line and field, and
  the other files go on;
- a file is streamed to a local spool file while it is hashed, so a large file
  never sits in memory, and the plugin parses it from disk (twice if it
  likes: once to check every record, once to yield them).

Remote names are only ever used as remote names (checked by
:func:`tramo.remote.check_name`); the spool file's name is tramo's own.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import posixpath
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from tramo.errors import PlatformError, TramoError
from tramo.exchange import Exchange
from tramo.remote import CHUNK, RemoteFile, RemoteFolder
from tramo.state import ConnectionState

__all__ = ["REPORT_SUFFIX", "Arrival", "Inbox"]

#: the report that goes beside a quarantined file
REPORT_SUFFIX = ".errors.txt"


@attrs.frozen
class Arrival:
    """A file waiting in the incoming folder, downloaded to ``path`` (valid until the next one).

    :param name: its name in the incoming folder.
    :param digest: the SHA-256 of its content, in hex.
    :param size: its size in bytes.
    :param path: the local copy.
    :param acknowledged: the keys of its records the host has already acknowledged
        (a file read before, in part committed).
    """

    name: str
    digest: str
    size: int
    path: Path
    acknowledged: frozenset[str] = frozenset()


class Inbox:
    """The incoming folder of one connection, with its ledger.

    :param exchange: the server.
    :param state: where the ledger lives (the connection's state).
    :param incoming: the folder the other side writes to.
    :param processed: where imported files go.
    :param quarantine: where unreadable files go, with their reports.
    :param suffixes: the file name endings that are files to import
        (others are left alone); names starting with ``.`` (uploads in
        progress) are always left alone.
    """

    def __init__(self, exchange: Exchange, state: ConnectionState, *, incoming: str,
                 processed: str, quarantine: str, suffixes: Sequence[str] = (".xml",),
                 log: logging.Logger | logging.LoggerAdapter[Any] | None = None) -> None:
        self.exchange = exchange
        self.state = state
        self.incoming = incoming
        self.processed = processed
        self.quarantine_folder = quarantine
        self.suffixes = tuple(s.lower() for s in suffixes)
        self.log = log or logging.getLogger("tramo.inbox")
        self._prefix = f"inbox:{incoming}:"
        #: names in the incoming folder at the last look that could leave it (``..``, ``\\``):
        #: never opened, moved or trusted, only reported
        self.refused: list[tuple[str, PlatformError]] = []

    # -- the ledger ------------------------------------------------------------------

    def _file_key(self, name: str) -> str:
        return f"{self._prefix}file:{name}"

    def _record_key(self, key: str) -> str:
        return f"{self._prefix}key:{key}"

    def _entry(self, name: str) -> dict[str, Any] | None:
        entry = self.state.get(self._file_key(name))
        return entry if isinstance(entry, dict) else None

    # -- reading ---------------------------------------------------------------------

    def waiting(self) -> list[RemoteFile]:
        """The files in the incoming folder to import, by name (refused names in :attr:`refused`)."""
        refused: list[tuple[str, PlatformError]] = []

        def listing(folder: RemoteFolder) -> list[RemoteFile]:
            refused.clear()
            return folder.list(self.incoming, refused=lambda name, exc: refused.append((name, exc)))

        files = self.exchange.run(f"list {self.incoming!r}", listing)
        self.refused = refused
        for name, _ in refused:
            self.log.warning("file name %r in %s is refused unread: it could reach outside its "
                             "folder", name, self.incoming)
        return [f for f in files
                if not f.name.startswith(".") and f.name.lower().endswith(self.suffixes)]

    def arrivals(self) -> Iterator[Arrival]:
        """Each file waiting, downloaded and hashed, oldest name first.

        A file the ledger has as finished (every record acknowledged, the move
        to processed interrupted) is moved now and not yielded. The local copy
        of each file is deleted when the next is asked for.
        """
        for remote in self.waiting():
            with self._spooled(remote) as (path, digest, size):
                entry = self._entry(remote.name)
                if entry is not None and entry.get("digest") == digest and entry.get("done"):
                    self._finish(remote.name, entry)
                    continue
                acked = frozenset(entry.get("acked", ())) if (
                    entry is not None and entry.get("digest") == digest) else frozenset()
                yield Arrival(remote.name, digest, size, path, acked)

    @contextlib.contextmanager
    def _spooled(self, remote: RemoteFile) -> Iterator[tuple[Path, str, int]]:
        handle, name = tempfile.mkstemp(prefix="tramo-inbox-", suffix=".part")
        os.close(handle)
        path = Path(name)
        source = posixpath.join(self.incoming, remote.name)

        def download(folder: RemoteFolder) -> tuple[str, int]:
            digest, size = hashlib.sha256(), 0
            with folder.open_read(source) as stream, path.open("wb") as local:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    local.write(chunk)
                    size += len(chunk)
            return digest.hexdigest(), size

        try:
            digest, size = self.exchange.run(f"download {source!r}", download)
            yield path, digest, size
        finally:
            path.unlink(missing_ok=True)

    def expect(self, arrival: Arrival, keys: Iterable[str]) -> None:
        """Note that ``arrival`` holds the records ``keys`` (before any is yielded to the host)."""
        keys = list(dict.fromkeys(keys))
        with self.state.atomic():
            old = self._entry(arrival.name)
            if old is not None and old.get("digest") != arrival.digest:
                self._unindex(arrival.name, old.get("keys", ()))
            self.state.set(self._file_key(arrival.name), {
                "digest": arrival.digest, "keys": keys, "acked": sorted(arrival.acknowledged),
                "done": False,
                # a name seen before with other content keeps its processed copy apart
                "renamed": bool(old is not None and old.get("digest") != arrival.digest)
                or bool(old and old.get("renamed"))})
            for key in keys:
                names = self.state.get(self._record_key(key), [])
                if arrival.name not in names:
                    self.state.set(self._record_key(key), [*names, arrival.name])

    def _unindex(self, name: str, keys: Iterable[str]) -> None:
        for key in keys:
            names = [n for n in self.state.get(self._record_key(key), []) if n != name]
            if names:
                self.state.set(self._record_key(key), names)
            else:
                self.state.delete(self._record_key(key))

    # -- acknowledging ---------------------------------------------------------------

    def acknowledge(self, keys: Sequence[str]) -> dict[str, TramoError | None]:
        """Commit ``keys``; files whose records are all committed go to the processed folder.

        :returns: per key, None when acknowledged and its file (if finished)
            moved; the error when the key is in no file read here, or when
            the move failed (the acknowledgement stands: the next look at the
            folder finishes the move, and nothing in the file comes again).
        """
        outcome: dict[str, TramoError | None] = {}
        finished: list[str] = []
        with self.state.atomic():
            for key in keys:
                names = self.state.get(self._record_key(key), [])
                if not names:
                    outcome[key] = PlatformError(
                        f"record {key!r} is in no file read from {self.incoming!r} by this "
                        f"connection", code="not_found")
                    continue
                outcome[key] = None
                for name in names:
                    entry = self._entry(name)
                    if entry is None or entry.get("done"):
                        continue  # acknowledged before: nothing more to do
                    acked = set(entry.get("acked", ())) | {key}
                    entry["acked"] = sorted(acked)
                    if set(entry.get("keys", ())) <= acked:
                        entry["done"] = True
                        finished.append(name)
                    self.state.set(self._file_key(name), entry)
        for name in finished:
            entry = self._entry(name)
            assert entry is not None
            try:
                self._finish(name, entry)
            except TramoError as exc:
                for key in entry.get("keys", ()):
                    if key in outcome:
                        outcome[key] = exc
        return outcome

    def _finish(self, name: str, entry: Mapping[str, Any]) -> None:
        """Move a finished file to the processed folder (already gone: fine)."""
        target = name
        if entry.get("renamed"):
            stem, dot, extension = name.rpartition(".")
            short = str(entry.get("digest", ""))[:12]
            target = f"{stem}.{short}.{extension}" if dot else f"{name}.{short}"
        source = posixpath.join(self.incoming, name)

        def move(folder: RemoteFolder) -> None:
            folder.ensure_folder(self.processed)
            try:
                folder.move(source, self.processed, target)
            except PlatformError as exc:
                if exc.code != "not_found":  # gone: an earlier try moved it
                    raise

        try:
            self.exchange.run(f"move {source!r} to {self.processed!r}", move)
        except TramoError as exc:
            self.log.warning("file %s is imported but could not be moved to %s yet: %s",
                             name, self.processed, exc)
            raise

    # -- setting aside ---------------------------------------------------------------

    def set_aside(self, arrival: Arrival, problems: Sequence[str]) -> None:
        """Move ``arrival`` to the quarantine folder, its report (one problem a line) beside it.

        The report goes first, so a file is never in quarantine without one.
        """
        source = posixpath.join(self.incoming, arrival.name)
        report = (f"{arrival.name} (sha256 {arrival.digest}, {arrival.size} bytes) was not "
                  f"imported:\n" + "".join(f"{problem}\n" for problem in problems))

        def quarantine(folder: RemoteFolder) -> None:
            folder.ensure_folder(self.quarantine_folder)
            folder.upload_atomic(self.quarantine_folder, arrival.name + REPORT_SUFFIX,
                                 [report.encode("utf-8")])
            try:
                folder.move(source, self.quarantine_folder)
            except PlatformError as exc:
                if exc.code != "not_found":
                    raise

        self.exchange.run(f"quarantine {source!r}", quarantine)
        self.log.warning("file %s set aside in %s: %s", arrival.name, self.quarantine_folder,
                         problems[0] if problems else "unreadable")

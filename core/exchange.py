"""A file exchange with a platform's server: one session at a time, reopened when lost, every operation retried.

A file-exchange plugin lists folders, reads files and uploads batches on a
server reached by SFTP, FTPS or (when allowed) plain FTP. :class:`Exchange`
opens the session the settings ask for, hands the plugin a
:class:`~tramo.remote.RemoteFolder`, and tries each operation again after a
lost connection or a server's transient failure, on a new session and after
a full-jitter backoff (the connection's :class:`~tramo.http.RetryPolicy`), so
no plugin writes that loop. What retrying cannot mend (refused credentials,
an untrusted host key, a missing file, a refused name) goes up at once.

Every operation given to :meth:`Exchange.run` must be safe to repeat: the
remote-folder operations are (an atomic upload writes a new temporary file
each time), except that a repeated ``move`` or ``remove`` may find its file
already gone, which the caller that cares checks (see :mod:`tramo.inbox`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tramo.errors import ConfigurationError, PlatformError, RetriesExhaustedError, TransientError
from tramo.ftp import FtpSession, open_ftp_from_settings
from tramo.http import RetryPolicy
from tramo.remote import RemoteFolder, remote_folder
from tramo.sftp import SftpSession, open_sftp_from_settings

__all__ = ["TRANSPORTS", "Exchange", "open_session"]

_T = TypeVar("_T")

#: the transports a file exchange may use, the default first
TRANSPORTS = ("sftp", "ftps", "ftp")
#: PlatformError codes that a server gives for a failure of its own, worth another try:
#: SFTP's generic failure (a full disk, a busy file) and FTP's 4xx replies (which
#: tramo.ftp already raises as TransientError)
_RETRIED_CODES = frozenset({"failure"})


def open_session(settings: Mapping[str, Any], *, timeout: float = 15.0) -> SftpSession | FtpSession:
    """An SFTP or FTP(S) session as ``settings["transport"]`` says (default ``sftp``).

    The settings are named as :func:`tramo.sftp.open_sftp_from_settings` and
    :func:`tramo.ftp.open_ftp_from_settings` read them; plain ``ftp`` still
    needs ``allow_plain_ftp``.
    """
    transport = str(settings.get("transport") or TRANSPORTS[0]).lower()
    if transport == "sftp":
        return open_sftp_from_settings(settings, timeout=timeout)
    if transport in ("ftps", "ftp"):
        return open_ftp_from_settings({**settings, "transport": transport}, timeout=timeout)
    raise ConfigurationError(f"transport {transport!r} is not one of {', '.join(TRANSPORTS)}")


def _worth_retrying(exc: Exception) -> bool:
    return isinstance(exc, TransientError) or (
        isinstance(exc, PlatformError) and exc.code in _RETRIED_CODES)


class Exchange:
    """One server, one session at a time, operations retried (not thread-safe: one per connection).

    :param settings: what :func:`open_session` reads.
    :param root: the folder every path starts from (default: the login folder).
    :param timeout: seconds for the connect and for each answer.
    :param retry: how often and how patiently an operation is tried.
    :param on_wait: told (seconds, reason) before each backoff.
    """

    def __init__(self, settings: Mapping[str, Any], *, root: str = "", timeout: float = 15.0,
                 retry: RetryPolicy | None = None,
                 on_wait: Callable[[float, str], Any] | None = None,
                 opener: Callable[..., SftpSession | FtpSession] = open_session) -> None:
        self._settings = settings
        self._root = root
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._on_wait = on_wait or (lambda seconds, reason: None)
        self._opener = opener
        self._session: SftpSession | FtpSession | None = None
        self._folder: RemoteFolder | None = None
        self._random = random.Random()
        #: sessions opened so far (a reconnect opens another)
        self.sessions = 0

    def __repr__(self) -> str:
        transport = self._settings.get("transport") or TRANSPORTS[0]
        return f"Exchange({transport} {self._settings.get('host')}, root={self._root!r})"

    def folder(self) -> RemoteFolder:
        """The remote folder over the current session, opening one if needed (no retry)."""
        if self._folder is None or self._session is None or not self._session.connected:
            self._drop()
            self._session = self._opener(self._settings, timeout=self._timeout)
            self.sessions += 1
            self._folder = remote_folder(self._session, root=self._root)
        return self._folder

    def run(self, doing: str, operation: Callable[[RemoteFolder], _T]) -> _T:
        """``operation(folder)``, tried again on a new session after a transient failure.

        :param doing: what the operation does, in words, for the error and the wait notice.
        :raises RetriesExhaustedError: every try failed transiently (the last error chained).
        """
        attempts = self._retry.attempts
        for attempt in range(attempts):
            try:
                return operation(self.folder())
            except (TransientError, PlatformError) as exc:
                if not _worth_retrying(exc):
                    raise
                self._drop()  # a failed server may have left the session in any state
                if attempt == attempts - 1:
                    raise RetriesExhaustedError(f"could not {doing}: {exc}", attempts) from exc
                wait = self._retry.backoff_for(attempt, self._random)
                self._on_wait(wait, f"retrying to {doing} in {wait:.2f} s after: {exc}")
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop(self) -> None:
        session, self._session, self._folder = self._session, None, None
        if session is not None:
            session.close()

    def close(self) -> None:
        """Close the session, if one is open."""
        self._drop()

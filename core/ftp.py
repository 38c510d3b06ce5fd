"""FTP and FTPS sessions for plugins that exchange files, with TLS verified by default.

The standard library's :mod:`ftplib` does the protocol; this module makes the
choices that are easy to get wrong with it, once, for every file-exchange plugin:

- **Explicit FTPS by default.** ``AUTH TLS`` is sent before the user name, the
  server's certificate is verified against the system's authorities (or the
  ``ca_file`` given) and its name checked; then ``PROT P`` encrypts the data
  channels too. A certificate that does not verify is a
  :class:`ConfigurationError` raised before any credential is sent.
- **Plain FTP only when asked twice**: ``tls=False`` *and* ``allow_plain=True``.
  Such a session logs one WARNING (logger ``tramo.ftp``): the password crosses
  the network in clear.
- **Passive mode and timeouts** on the control connection and every data connection.
- **Errors are tramo's**: :class:`AuthenticationError` for a refused login
  (``530``), :class:`TransientError` for a refused, dropped or silent
  connection, :class:`ConfigurationError` for what only the settings can fix.
  Messages are built from host, port, user and the server's reply code, and a
  server's reply is scrubbed of the password before it is quoted.
"""

from __future__ import annotations

import ftplib
import logging
import socket
import ssl
from collections.abc import Mapping
from typing import Any, Self

from tramo.errors import (
    AuthenticationError,
    ConfigurationError,
    PlatformError,
    TramoError,
    TransientError,
)
from tramo.secrets import MASK, Secret, reveal

__all__ = ["FtpSession", "open_ftp", "open_ftp_from_settings"]

logger = logging.getLogger("tramo.ftp")

#: the transports open_ftp_from_settings knows
TRANSPORTS = ("ftps", "ftp")
#: errors that mean the connection itself failed (ftplib raises these as they come)
_LOST = (OSError, EOFError)


class FtpSession:
    """An open, logged-in FTP or FTPS session; ``ftp`` is the :class:`ftplib.FTP` behind it.

    Use it as a context manager: leaving the block closes the session, and a
    connection lost inside it (dropped, timed out) comes out as
    :class:`TransientError`. After a TransientError, open a new session.

    :ivar tls: whether the control and data channels are encrypted.
    :ivar features: the keywords the server's ``FEAT`` listed (``MLST``, ``UTF8``, ...).
    :ivar home: the directory the login started in (``PWD``), ``/`` if the server will not say.
    """

    def __init__(self, ftp: ftplib.FTP, host: str, port: int, username: str, *, tls: bool,
                 timeout: float, features: frozenset[str], home: str) -> None:
        self._ftp = ftp
        self.host = host
        self.port = port
        self.username = username
        self.tls = tls
        self.timeout = timeout
        self.features = features
        self.home = home
        self._closed = False
        self._broken = False

    @property
    def ftp(self) -> ftplib.FTP:
        if self._closed:
            raise RuntimeError(f"the FTP session to {self.host}:{self.port} is closed; open a new one")
        return self._ftp

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def connected(self) -> bool:
        """Whether the control connection is still believed usable."""
        return not self._closed and not self._broken and self._ftp.sock is not None

    def close(self) -> None:
        """Say QUIT if the connection is healthy, then close it (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self._broken and self._ftp.sock is not None:
                self._ftp.sock.settimeout(min(self.timeout, 2.0))  # a dead server must not stall a close
                self._ftp.quit()
        except (ftplib.Error, *_LOST):
            pass  # the connection is already gone: nothing left to close politely
        finally:
            self._ftp.close()

    def failure(self, exc: BaseException, doing: str) -> TramoError | None:
        """The tramo error an exception raised while ``doing`` something means (None: not FTP's).

        A lost connection also marks the session broken, so :attr:`connected`
        turns False. A ``550`` comes back as :class:`PlatformError` with the
        reply code (550) as its code; callers that know it means "no such
        file" say so themselves.
        """
        where = f"{self.host}:{self.port}"
        if isinstance(exc, TramoError):
            return None
        if isinstance(exc, ftplib.error_temp):
            reply = _reply(exc)
            if reply.startswith("421"):
                self._broken = True
                return TransientError(f"FTP server {where} closed the session while {doing} ({reply})")
            return TransientError(f"FTP server {where} could not finish {doing} for now ({reply})")
        if isinstance(exc, ftplib.error_perm):
            reply = _reply(exc)
            if reply.startswith("530"):
                return AuthenticationError(f"FTP server {where} refused {doing}: not logged in ({reply})")
            return PlatformError(f"FTP server {where} refused {doing}", code=_code(reply),
                                 causes=[reply])
        if isinstance(exc, ftplib.Error):  # error_reply, error_proto: a reply out of protocol
            return PlatformError(f"FTP server {where} answered {doing} out of protocol",
                                 code="protocol", causes=[_reply(exc)])
        if isinstance(exc, _LOST):
            self._broken = True
            return TransientError(f"the FTP connection to {where} was lost while {doing} "
                                  f"({_reason(exc, self.timeout, 'dropped')})")
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        lost = exc is not None and not isinstance(exc, TramoError) and isinstance(exc, _LOST)
        if lost:
            self._broken = True
        self.close()
        if lost:
            assert exc is not None
            raise TransientError(
                f"the FTP connection to {self.host}:{self.port} was lost "
                f"({_reason(exc, self.timeout, 'dropped')})") from exc

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        kind = "FTPS" if self.tls else "FTP"
        return f"FtpSession({kind} {self.username}@{self.host}:{self.port}, {state})"


def _reply(exc: BaseException) -> str:
    """The server's reply an ftplib error carries, on one line and bounded."""
    text = str(exc.args[0]) if exc.args else ""
    return " ".join(text.split())[:200]


def _code(reply: str) -> int | str:
    head = reply[:3]
    return int(head) if head.isdigit() else "protocol"


def _reason(exc: BaseException, timeout: float, otherwise: str = "failed") -> str:
    """Why a connection failed, in words that carry nothing from the credentials."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, EOFError):
        return "the server closed the connection"
    return f"{otherwise}: {type(exc).__name__}"


def _scrub(text: str, password: str) -> str:
    """``text`` with the password masked, for quoting a server's reply to a login."""
    return text.replace(password, MASK) if password else text


# -- opening -----------------------------------------------------------------------


def open_ftp(host: str, port: int, username: str, password: Secret | str | None, *,
             tls: bool = True, allow_plain: bool = False, ca_file: str | None = None,
             timeout: float = 15.0, passive: bool = True) -> FtpSession:
    """Connect, secure the connection (unless plain FTP was allowed), log in.

    :param password: the password (a :class:`Secret` or text).
    :param tls: explicit FTPS (``AUTH TLS`` on the usual port, then ``PROT P``).
    :param allow_plain: must be True as well for ``tls=False``: plain FTP sends
        the password in clear, so it is never chosen by accident.
    :param ca_file: a PEM file of the authorities that may sign the server's
        certificate (a private CA); default: the system's.
    :param timeout: seconds for the connect, each reply and each data connection.
    :param passive: passive mode (the client opens data connections); active
        mode only works where the server can reach the client.
    :raises ConfigurationError: plain FTP not allowed, a certificate that does
        not verify, a server without TLS, an unreadable ``ca_file``, a host that
        does not resolve, a login the server refuses for a reason other than
        the credentials.
    :raises AuthenticationError: the server refused the credentials (``530``).
    :raises TransientError: refused, timed out or dropped; may work later.
    """
    where = f"{host}:{port}"
    if not tls and not allow_plain:
        raise ConfigurationError(
            f"plain FTP to {where} would send the password and every file in clear, so it is "
            f"refused; use FTPS (transport 'ftps'), or allow plain FTP explicitly with "
            f"allow_plain_ftp=true (allow_plain=True)")
    if password is None:
        raise ConfigurationError(f"FTP to {where} needs a password")
    secret = reveal(password)
    ftp: ftplib.FTP
    if tls:
        ftp = ftplib.FTP_TLS(context=_tls_context(ca_file), timeout=timeout)
    else:
        ftp = ftplib.FTP(timeout=timeout)
    ftp.set_pasv(passive)
    stage = "connect"
    try:
        ftp.connect(host, port, timeout=timeout)
        if isinstance(ftp, ftplib.FTP_TLS):
            stage = "tls"
            ftp.auth()  # the handshake verifies the certificate before USER is sent
        else:
            logger.warning("plain FTP to %s: the password of user %r and every file travel "
                           "unencrypted", where, username)
        stage = "login"
        ftp.login(username, secret)
        stage = "setup"
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        features = _features(ftp)
        if "UTF8" in features:
            try:
                ftp.sendcmd("OPTS UTF8 ON")  # names with accents travel as UTF-8
            except ftplib.error_perm:
                pass  # servers that list UTF8 but refuse the option are UTF-8 already
        ftp.voidcmd("TYPE I")
        home = _home(ftp)
        return FtpSession(ftp, host, port, username, tls=tls, timeout=timeout,
                          features=features, home=home)
    except BaseException as exc:
        ftp.close()
        error = _connect_error(exc, stage, host, port, username, secret, timeout)
        if error is None:
            raise
        # from the login on, ftplib's frames hold the password: keep them out of the chain
        raise error from (None if stage in ("login", "setup") else exc)


class _DataSocket(ssl.SSLSocket):
    """A TLS socket whose polite goodbye may fail without failing the transfer.

    ftplib ends each TLS data connection with ``unwrap()`` (close_notify both
    ways). When the server closes first, which it does after an empty listing
    or file, often before TLS 1.3 has settled, that goodbye fails
    (``SHUTDOWN_WHILE_IN_INIT``, a reset); whether the transfer succeeded is
    the server's reply on the control connection, which is still read.
    """

    def unwrap(self) -> socket.socket:
        try:
            return super().unwrap()
        except OSError:  # ssl.SSLError included
            return self


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context: the system's authorities, or only those in ``ca_file``."""
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"the ca_file {ca_file!r} cannot be read as PEM certificates ({type(exc).__name__})") from None
    context.sslsocket_class = _DataSocket
    return context


def _features(ftp: ftplib.FTP) -> frozenset[str]:
    """The keywords of the server's FEAT reply (empty when it has no FEAT)."""
    try:
        reply = ftp.sendcmd("FEAT")
    except ftplib.error_perm:
        return frozenset()
    words = (line.split()[0].upper() for line in reply.splitlines()[1:-1] if line.strip())
    return frozenset(words)


def _home(ftp: ftplib.FTP) -> str:
    try:
        return ftp.pwd() or "/"
    except ftplib.error_perm:
        return "/"


def _connect_error(exc: BaseException, stage: str, host: str, port: int, username: str,
                   password: str, timeout: float) -> TramoError | None:
    """The tramo error a failure to open a session means, or None to let it through."""
    where = f"{host}:{port}"
    if isinstance(exc, TramoError):
        return None
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ConfigurationError(
            f"the FTPS server {where} presented a certificate that does not verify "
            f"({exc.verify_message or exc.reason}); nothing was sent to it. If the server's "
            f"certificate comes from a private certificate authority, set ca_file to that "
            f"authority's certificate (PEM); check the host name matches the certificate")
    if isinstance(exc, socket.gaierror) and exc.errno in (socket.EAI_NONAME,
                                                          getattr(socket, "EAI_NODATA", None)):
        return ConfigurationError(f"the FTP host {host!r} does not resolve")
    if isinstance(exc, ftplib.error_temp):
        return TransientError(f"FTP server {where} is not accepting sessions now "
                              f"({_scrub(_reply(exc), password)})")
    if isinstance(exc, ftplib.error_perm):
        reply = _scrub(_reply(exc), password)
        if stage == "tls":
            return ConfigurationError(
                f"FTP server {where} does not offer explicit TLS (AUTH TLS: {reply}); if it "
                f"offers only plain FTP and that is acceptable, set transport 'ftp' and "
                f"allow_plain_ftp")
        if stage == "login" and reply.startswith("530"):
            return AuthenticationError(f"FTP server {where} refused the credentials of user "
                                       f"{username!r}")
        if stage == "login":
            return ConfigurationError(f"FTP server {where} refused the login of user "
                                      f"{username!r} ({reply})")
        return ConfigurationError(f"FTP server {where} refused to set the session up ({reply})")
    if isinstance(exc, ftplib.Error):
        return TransientError(f"FTP server {where} answered out of protocol "
                              f"({_scrub(_reply(exc), password)})")
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return TransientError(f"FTPS server {where} closed the connection during the TLS handshake")
    if isinstance(exc, ssl.SSLError):
        return ConfigurationError(f"the TLS handshake with FTPS server {where} failed "
                                  f"({exc.reason or type(exc).__name__})")
    if isinstance(exc, _LOST):
        return TransientError(f"could not reach FTP server {where} ({_reason(exc, timeout)})")
    return None


def open_ftp_from_settings(settings: Mapping[str, Any], *, timeout: float = 15.0) -> FtpSession:
    """:func:`open_ftp` from settings; others are ignored.

    ``host``, ``username`` and ``password`` are needed; ``port`` defaults to 21;
    ``transport`` is ``"ftps"`` (default) or ``"ftp"``; ``allow_plain_ftp``
    (a boolean, or ``"true"``/``"false"`` as environment variables give it)
    must be true for ``"ftp"``; ``ca_file`` names a private CA's PEM. An
    :class:`~tramo.sandbox.FtpSandbox`'s ``settings`` have this shape.
    """
    transport = str(settings.get("transport") or "ftps").lower()
    if transport not in TRANSPORTS:
        raise ConfigurationError(f"FTP transport {transport!r} is not one of {', '.join(TRANSPORTS)}")
    return open_ftp(
        settings["host"], int(settings.get("port") or 21), settings["username"],
        settings.get("password"),
        tls=transport == "ftps",
        allow_plain=_flag("allow_plain_ftp", settings.get("allow_plain_ftp", False)),
        ca_file=settings.get("ca_file") or None,
        timeout=timeout,
    )


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")

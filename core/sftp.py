"""SFTP sessions for plugins that exchange files, with the server's host key always verified.

Every file-exchange plugin (Tray FTP first) opens its sessions here, so the
mistakes that are easy to make with paramiko and hard to see are made nowhere:

- **Host keys are verified, always.** A key is trusted when the ``known_hosts``
  file given lists it for the host, or, for a host that file does not list,
  when it matches the fingerprint pinned in the settings. Anything else is
  refused with :class:`HostKeyError` *before* a password or key is sent. There
  is no trust-on-first-use: paramiko's ``AutoAddPolicy`` and ``WarningPolicy``
  are never used, and neither is ``~/.ssh/known_hosts`` (a connection must
  behave the same on a laptop and on the server that runs it; the error tells
  the operator which fingerprint to pin).
- **Only the credentials given are used**: no SSH agent, no ``~/.ssh/id_*``.
- **Errors are tramo's**: :class:`HostKeyError` (a :class:`ConfigurationError`),
  :class:`AuthenticationError`, and :class:`TransientError` for a refused or
  dropped connection or a timeout. Their messages are built here from the host,
  port, user and key fingerprints, never from credentials.

Fingerprints are accepted as ``ssh-keygen -lf`` prints them
(``SHA256:<base64 without padding>``) and in the legacy MD5 form
(``MD5:aa:bb:...`` or bare ``aa:bb:...``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import re
import socket
from collections.abc import Mapping
from typing import Any, Self

import paramiko

from tramo.errors import AuthenticationError, ConfigurationError, TramoError, TransientError
from tramo.secrets import Secret, reveal

__all__ = [
    "HostKeyError",
    "SftpSession",
    "fingerprint",
    "fingerprint_matches",
    "known_hosts_line",
    "load_private_key",
    "md5_fingerprint",
    "normalize_fingerprint",
    "open_sftp",
    "open_sftp_from_settings",
]

_SHA256_BODY = re.compile(r"[A-Za-z0-9+/]{43}=?")
_MD5_BODY = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){15}|[0-9A-Fa-f]{32}")


class HostKeyError(ConfigurationError):
    """The SFTP server's host key is not one the settings trust; nothing was sent to it.

    :ivar host: the host connected to.
    :ivar port: its port.
    :ivar key_type: the type of key the server offered (``ssh-ed25519``, ...).
    :ivar fingerprint: the offered key's fingerprint, ``SHA256:...``.
    """

    def __init__(self, host: str, port: int, key: paramiko.PKey, problem: str) -> None:
        self.host = host
        self.port = port
        self.key_type = key.get_name()
        self.fingerprint = fingerprint(key)
        super().__init__(
            f"SFTP server {host}:{port} offered the {self.key_type} host key {self.fingerprint}, "
            f"which {problem}. If this is the server's key (check with its administrator: "
            f"'ssh-keygen -lf' on the server prints it), trust it by setting "
            f"host_key_fingerprint to {self.fingerprint} or by adding it to the known_hosts file; "
            f"if the key should not have changed, someone may be intercepting the connection")


# -- fingerprints ----------------------------------------------------------------


def fingerprint(key: paramiko.PKey) -> str:
    """The key's SHA256 fingerprint as OpenSSH prints it: ``SHA256:`` and unpadded base64."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def md5_fingerprint(key: paramiko.PKey) -> str:
    """The key's legacy MD5 fingerprint, ``MD5:aa:bb:...`` (older servers' panels show this)."""
    return "MD5:" + hashlib.md5(key.asbytes(), usedforsecurity=False).digest().hex(":")


def _parse_fingerprint(text: str) -> tuple[str, bytes]:
    """(hash name, digest) of a fingerprint in any accepted spelling; ValueError if none."""
    value = text.strip()
    head, colon, body = value.partition(":")
    name = head.upper() if colon else ""
    if name == "SHA256":
        return "sha256", _sha256_digest(body)
    if name == "MD5":
        return "md5", _md5_digest(body)
    if _MD5_BODY.fullmatch(value):
        return "md5", _md5_digest(value)
    return "sha256", _sha256_digest(value)


def _sha256_digest(body: str) -> bytes:
    if not _SHA256_BODY.fullmatch(body):
        raise ValueError("not 43 base64 characters")
    digits = body.rstrip("=")
    digest = base64.b64decode(digits + "=", validate=True)
    # 43 characters carry 258 bits: the last one's low 2 bits must be zero, or
    # two spellings would name one digest and a typo could still match
    if base64.b64encode(digest).decode("ascii").rstrip("=") != digits:
        raise ValueError("not a canonical base64 encoding")
    return digest


def _md5_digest(body: str) -> bytes:
    if not _MD5_BODY.fullmatch(body):
        raise ValueError("not 16 hexadecimal bytes")
    return bytes.fromhex(body.replace(":", ""))


def _pin(text: str) -> tuple[str, bytes]:
    try:
        return _parse_fingerprint(text)
    except ValueError:
        raise ConfigurationError(
            f"host_key_fingerprint {text!r} is not a host key fingerprint; give it as "
            f"'ssh-keygen -lf' prints it (SHA256:...) or in the MD5 form (MD5:aa:bb:...)") from None


def normalize_fingerprint(text: str) -> str:
    """The canonical spelling of a fingerprint (``SHA256:...`` unpadded, ``MD5:`` lower hex).

    Raises :class:`ConfigurationError` for text that is not a fingerprint, so a
    plugin can check its setting before connecting.
    """
    name, digest = _pin(text)
    if name == "md5":
        return "MD5:" + digest.hex(":")
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _matches(key: paramiko.PKey, pin: tuple[str, bytes]) -> bool:
    name, expected = pin
    # MD5 only identifies here (FIPS builds refuse it "for security")
    actual = hashlib.new(name, key.asbytes(), usedforsecurity=name != "md5").digest()
    return hmac.compare_digest(actual, expected)


def fingerprint_matches(key: paramiko.PKey, pinned: str) -> bool:
    """Whether ``key`` has the fingerprint ``pinned`` (any accepted spelling); constant time."""
    return _matches(key, _pin(pinned))


def known_hosts_line(host: str, port: int, key: paramiko.PKey) -> str:
    """A ``known_hosts`` line for the key (``[host]:port`` when the port is not 22)."""
    name = host if port == 22 else f"[{host}]:{port}"
    return f"{name} {key.get_name()} {key.get_base64()}"


def load_private_key(text: Secret | str, passphrase: Secret | str | None = None) -> paramiko.PKey:
    """A private key (RSA, ECDSA or Ed25519) from its PEM or OpenSSH text; never from a file.

    Settings often carry the key with its newlines escaped (``\\n``), as
    environment variables and JSON give it; those are restored. Errors never
    quote the key.
    """
    value = reveal(text)
    if "\n" not in value and "\\n" in value:
        value = value.replace("\\n", "\n")
    secret = reveal(passphrase)
    encrypted = False
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(value), password=secret)
        except paramiko.PasswordRequiredException:
            encrypted = True
        except (paramiko.SSHException, ValueError, TypeError, IndexError):
            continue
    if encrypted:
        raise ConfigurationError("the SFTP private key is encrypted; set its passphrase")
    raise ConfigurationError(
        "the SFTP private key is not an RSA, ECDSA or Ed25519 private key in PEM or OpenSSH "
        "form (or its passphrase is wrong)")


# -- trust -----------------------------------------------------------------------


class _PinnedKeyPolicy(paramiko.RejectPolicy):
    """Decides on a host the known_hosts file does not list: only the pinned key passes.

    A RejectPolicy at heart: with no pin, or a key that does not match it, the
    connection is refused before authentication. An accepted key is not saved
    anywhere.
    """

    def __init__(self, host: str, port: int, pinned: str | None) -> None:
        self.host = host
        self.port = port
        self.pinned = pinned
        self.pin = _pin(pinned) if pinned else None

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        if self.pin is not None and _matches(key, self.pin):
            return
        if self.pin is None:
            problem = ("is not trusted: neither a known_hosts entry nor a pinned fingerprint "
                       "vouches for it")
        else:
            problem = f"does not match the pinned fingerprint {self.pinned}"
        raise HostKeyError(self.host, self.port, key, problem)


# -- sessions --------------------------------------------------------------------


class SftpSession:
    """An open, verified SFTP session; ``sftp`` is paramiko's :class:`paramiko.SFTPClient`.

    Use it as a context manager: leaving the block closes the session, and a
    connection lost inside it (dropped, timed out) comes out as
    :class:`TransientError`. File errors (``FileNotFoundError``,
    ``PermissionError``, ``OSError`` for the server's generic failure) pass
    through as they are: only the plugin knows whether a missing file matters.
    After a TransientError, open a new session.

    :ivar host_key_fingerprint: the verified server key's ``SHA256:`` fingerprint.
    """

    def __init__(self, client: paramiko.SSHClient, sftp: paramiko.SFTPClient, host: str,
                 port: int, username: str, host_key: paramiko.PKey, timeout: float) -> None:
        self._client = client
        self._sftp = sftp
        self.host = host
        self.port = port
        self.username = username
        self.host_key_fingerprint = fingerprint(host_key)
        self.timeout = timeout
        self._closed = False

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._closed:
            raise RuntimeError(f"the SFTP session to {self.host}:{self.port} is closed; open a new one")
        return self._sftp

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def connected(self) -> bool:
        """Whether the SSH transport is still up (False once the server dropped it)."""
        transport = self._client.get_transport()
        return not self._closed and transport is not None and transport.is_active()

    def close(self) -> None:
        """End the session (idempotent)."""
        if not self._closed:
            self._closed = True
            try:
                self._sftp.close()
            except (OSError, EOFError, paramiko.SSHException):
                pass  # the connection is already gone: nothing left to close politely
            finally:
                self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        lost = exc is not None and self._lost(exc)
        self.close()
        if lost:
            assert exc is not None
            raise TransientError(
                f"the SFTP connection to {self.host}:{self.port} was lost "
                f"({_reason(exc, self.timeout, 'dropped')})") from exc

    def _lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` means the connection failed rather than a file operation."""
        if isinstance(exc, TramoError):
            return False
        if isinstance(exc, (TimeoutError, paramiko.SSHException, EOFError)):
            return True
        return isinstance(exc, OSError) and not self.connected

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"SftpSession({self.username}@{self.host}:{self.port}, {state})"


def _reason(exc: BaseException, timeout: float, otherwise: str = "failed") -> str:
    """Why a connection failed, in words that carry nothing from the server or the credentials."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError | paramiko.ssh_exception.NoValidConnectionsError):
        return "connection refused"
    return f"{otherwise}: {type(exc).__name__}"


def open_sftp(host: str, port: int, username: str, *,
              password: Secret | str | None = None,
              private_key: Secret | str | None = None,
              key_passphrase: Secret | str | None = None,
              known_hosts: str | os.PathLike[str] | None = None,
              host_key_fingerprint: str | None = None,
              timeout: float = 15.0) -> SftpSession:
    """Connect, verify the host key, log in and open SFTP.

    :param password: the password (a :class:`Secret` or text); with a key, tried after it.
    :param private_key: the private key's PEM or OpenSSH text (not a path).
    :param key_passphrase: the private key's passphrase, when it is encrypted.
    :param known_hosts: a known_hosts file whose entry for the host must match.
    :param host_key_fingerprint: the pinned key, for a host the file does not list.
    :param timeout: seconds for the TCP connect, each handshake step and each
        SFTP answer.
    :raises HostKeyError: the server's key is not trusted (unknown or changed).
    :raises AuthenticationError: the server refused the credentials.
    :raises TransientError: refused, timed out or dropped; may work later.
    :raises ConfigurationError: no credentials, an unreadable key or known_hosts
        file, a malformed fingerprint, an unknown host name.
    """
    if password is None and private_key is None:
        raise ConfigurationError(f"SFTP to {host}:{port} needs a password or a private key")
    policy = _PinnedKeyPolicy(host, port, host_key_fingerprint)  # a malformed pin fails here
    pkey = load_private_key(private_key, key_passphrase) if private_key is not None else None

    client = paramiko.SSHClient()
    if known_hosts is not None:
        path = os.path.expanduser(os.fspath(known_hosts))
        try:
            # into the client's own keys, not load_host_keys(): nothing is ever saved back
            client.get_host_keys().load(path)
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise ConfigurationError(
                f"the known_hosts file {path!r} cannot be read ({type(exc).__name__})") from None
    client.set_missing_host_key_policy(policy)
    try:
        client.connect(host, port=port, username=username, password=reveal(password), pkey=pkey,
                       timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                       channel_timeout=timeout, allow_agent=False, look_for_keys=False)
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(timeout)  # type: ignore[union-attr]
        transport = client.get_transport()
        assert transport is not None
        return SftpSession(client, sftp, host, port, username,
                           transport.get_remote_server_key(), timeout)
    except BaseException as exc:
        client.close()
        error = _connect_error(exc, host, port, username, timeout)
        if error is None:
            raise
        # authentication failures drop paramiko's context: its frames hold the credentials
        raise error from (None if isinstance(error, AuthenticationError) else exc)


def _connect_error(exc: BaseException, host: str, port: int, username: str,
                   timeout: float) -> TramoError | None:
    """The tramo error a connection failure means, or None to let it through as it is."""
    if isinstance(exc, TramoError):
        return None
    if isinstance(exc, paramiko.BadHostKeyException):
        expected = exc.expected_key
        return HostKeyError(host, port, exc.key,
                            f"does not match the {expected.get_name()} key {fingerprint(expected)} "
                            f"the known_hosts file lists for it")
    if isinstance(exc, paramiko.BadAuthenticationType):
        return AuthenticationError(
            f"SFTP server {host}:{port} does not accept the credentials given for user "
            f"{username!r}; it accepts: {', '.join(exc.allowed_types) or 'nothing'}")
    if isinstance(exc, paramiko.AuthenticationException):
        return AuthenticationError(
            f"SFTP server {host}:{port} refused the credentials of user {username!r}")
    if isinstance(exc, paramiko.IncompatiblePeer):
        return ConfigurationError(f"SFTP server {host}:{port} shares no SSH algorithm with paramiko")
    if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_NONAME:
        return ConfigurationError(f"the SFTP host {host!r} does not resolve")
    if isinstance(exc, (OSError, paramiko.SSHException, EOFError)):
        return TransientError(f"could not reach SFTP server {host}:{port} ({_reason(exc, timeout)})")
    return None


def open_sftp_from_settings(settings: Mapping[str, Any], *, timeout: float = 15.0) -> SftpSession:
    """:func:`open_sftp` with the settings named like its parameters; others are ignored.

    ``host``, ``username`` and one of ``password`` / ``private_key`` are needed;
    ``port`` defaults to 22; ``key_passphrase``, ``known_hosts`` and
    ``host_key_fingerprint`` are read when present. An
    :class:`~tramo.sandbox.SftpSandbox`'s ``settings`` have this shape, so a
    plugin that names its settings so opens sessions with one call.
    """
    return open_sftp(
        settings["host"], int(settings.get("port") or 22), settings["username"],
        password=settings.get("password") or None,
        private_key=settings.get("private_key") or None,
        key_passphrase=settings.get("key_passphrase") or None,
        known_hosts=settings.get("known_hosts") or None,
        host_key_fingerprint=settings.get("host_key_fingerprint") or None,
        timeout=timeout,
    )

"""SFTP sandboxes: a real paramiko SSH/SFTP server on a loopback port, backed by a directory.

A file-exchange plugin is tested against a real server, with a real host key
to verify and real credentials to refuse, so what passes here passes against
a platform's server; what the platform holds is a directory the test reads::

    with SftpSandbox() as sftp_server:
        with open_sftp_from_settings(sftp_server.settings) as session:
            session.sftp.open("/pedidos/1.xml", "w").write(b"<pedido/>")
        (sftp_server.data / "pedidos" / "1.xml").read_bytes()

``data`` is the root of a fresh temporary directory; :meth:`reset` swaps in a
new one (constant time) and :meth:`stop` deletes them all. Every SFTP
operation passes through the knobs and is recorded in ``calls`` as
``Call(op, path, query, status, fault)``: ``op`` is ``open``, ``read``,
``write``, ``stat``, ``lstat``, ``setstat``, ``list``, ``remove``, ``rename``,
``posix_rename``, ``mkdir`` or ``rmdir``; ``path`` the server path
(``/a/b.txt``); ``query`` the open mode (``r``, ``w``, ``a``, ``rw``, ``+x`` for
exclusive create) or a rename's target (``to=/c.txt``), else empty; ``status``
the SFTP status answered (0 OK, 1 EOF, 2 no such file, 3 permission denied,
4 failure), None when the connection was dropped. Login attempts are recorded
too, as ``auth`` calls (path: the user, query: the method, status 0 or 3),
outside the knobs.

Faults mean, over SFTP: DROPPED closes the connection without an answer;
TIMEOUT hangs ``knobs.hang`` seconds, then handles the request (or drops the
connection if the sandbox stops meanwhile); SERVER_ERROR and RATE_LIMITED (SFTP
has no 429) answer the generic failure without doing anything. MALFORMED and
DUPLICATE_PAGE have no SFTP meaning and are recorded but do nothing.
"""

from __future__ import annotations

import hmac
import logging
import os
import posixpath
import secrets
import shutil
import socket
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import paramiko
from paramiko.sftp import (
    SFTP_EOF,
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_PERMISSION_DENIED,
)

from tramo.sandbox.base import Fault, Knobs, Sandbox
from tramo.sftp import fingerprint, known_hosts_line

__all__ = ["SftpSandbox"]

_T = TypeVar("_T")
#: the logger of the sandbox's server-side transports, quiet below CRITICAL
_SERVER_LOG = "tramo.sandbox.sftp.server"
logging.getLogger(_SERVER_LOG).setLevel(logging.CRITICAL)
_BINARY = getattr(os, "O_BINARY", 0)


class SftpSandbox(Sandbox):
    """An SFTP server on loopback whose files live in ``data`` (a directory).

    :param host: the address to listen on.
    :param port: the port; 0 picks a free one.
    :param username: the one account.
    :param password: its password (default: generated); ``allow_password=False``
        refuses password logins.
    :param authorized_keys: public keys that may log in (publickey auth).
    :param host_key: the server's key (default: a new ECDSA key, which is
        generated in microseconds where RSA takes a second).
    """

    def __init__(self, knobs: Knobs | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 username: str = "tramo", password: str | None = None, allow_password: bool = True,
                 authorized_keys: Iterable[paramiko.PKey] = (),
                 host_key: paramiko.PKey | None = None) -> None:
        # fresh_data() runs inside Sandbox.__init__ and needs the list of trees
        self._trees: list[Path] = []
        self._cleanup = weakref.finalize(self, _remove_trees, self._trees)
        super().__init__(knobs)
        self.data: Path
        self.host = host
        self.port = port
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(18)
        self.allow_password = allow_password
        self.authorized_keys = list(authorized_keys)
        self.host_key = host_key if host_key is not None else paramiko.ECDSAKey.generate()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._transports: set[paramiko.Transport] = set()
        self._transports_lock = threading.Lock()
        self._closing = threading.Event()

    # -- lifecycle -------------------------------------------------------------

    def _start(self) -> None:
        if not self.data.is_dir():  # a stopped sandbox removed its trees
            self.data = self.fresh_data()
        listener = socket.create_server((self.host, self.port))
        listener.settimeout(0.05)  # how often the accept loop looks at _closing
        self._closing.clear()
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,),
                                        name=f"sandbox-{self.plugin or 'sftp'}", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        assert self._listener is not None and self._thread is not None
        self._closing.set()
        self._thread.join(timeout=5)
        self._listener.close()
        self._listener = None
        with self._transports_lock:
            transports, self._transports = list(self._transports), set()
        for transport in transports:
            transport.close()
        with self.lock:
            _remove_trees(self._trees)

    def _accept(self, listener: socket.socket) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        """Hand a client to its own paramiko Transport (a daemon thread per client)."""
        transport = paramiko.Transport(conn)
        # the server side's own log: a client hanging up is "Socket exception: Connection reset"
        # at ERROR on paramiko's logger, which is noise for whoever runs the client
        transport.set_log_channel(_SERVER_LOG)
        transport.add_server_key(self.host_key)
        server = _Server(self, transport)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _SandboxSftp, self)
        with self._transports_lock:
            self._transports = {t for t in self._transports if t.is_active()}
            self._transports.add(transport)
        try:
            # with an event, negotiation runs in the transport's thread, not this one
            transport.start_server(event=threading.Event(), server=server)
        except (paramiko.SSHException, OSError):
            transport.close()
            conn.close()

    @property
    def bound_port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager")
        return int(self._listener.getsockname()[1])

    @property
    def settings(self) -> dict[str, Any]:
        """host, port, username, password and host_key_fingerprint (the ``SHA256:`` form)."""
        return {
            "host": self.host,
            "port": self.bound_port,
            "username": self.username,
            "password": self.password,
            "host_key_fingerprint": fingerprint(self.host_key),
        }

    def known_hosts_line(self) -> str:
        """This server's line for a known_hosts file (``[127.0.0.1]:port ecdsa-sha2-... AAAA...``)."""
        return known_hosts_line(self.host, self.bound_port, self.host_key)

    # -- data ------------------------------------------------------------------

    def fresh_data(self) -> Path:
        """A new, empty root directory; earlier ones stay until :meth:`stop`."""
        root = Path(tempfile.mkdtemp(prefix="tramo-sftp-")).resolve()
        self._trees.append(root)
        return root

    def resolve(self, path: str) -> tuple[str, Path] | None:
        """(server path, real path) for a client's path; None when it leaves the root.

        Relative paths start at the root. ``..`` that climbs above the root, a
        backslash or NUL in a name, or a symbolic link leading out are refused.
        """
        parts: list[str] = []
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if "\\" in part or "\0" in part:
                return None
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            else:
                parts.append(part)
        root = self.data
        real = Path(os.path.realpath(root.joinpath(*parts)))
        if real != root and root not in real.parents:
            return None
        return "/" + "/".join(parts), root.joinpath(*parts)


class _Server(paramiko.ServerInterface):
    """Logins and channels: the sandbox's one account, sessions only (no shell, no exec)."""

    def __init__(self, sandbox: SftpSandbox, transport: paramiko.Transport) -> None:
        self.sandbox = sandbox
        self.transport = transport

    def get_allowed_auths(self, username: str) -> str:
        methods = []
        if self.sandbox.allow_password:
            methods.append("password")
        if self.sandbox.authorized_keys:
            methods.append("publickey")
        return ",".join(methods)

    def check_auth_password(self, username: str, password: str) -> int:
        ok = (self.sandbox.allow_password and _same(username, self.sandbox.username)
              and _same(password, self.sandbox.password))
        return self._answer(username, "password", ok)

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = _same(username, self.sandbox.username) and any(key == k for k in self.sandbox.authorized_keys)
        return self._answer(username, "publickey", ok)

    def _answer(self, username: str, method: str, ok: bool) -> int:
        self.sandbox.record("auth", username, method, SFTP_OK if ok else SFTP_PERMISSION_DENIED, None)
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class _SandboxSftp(paramiko.SFTPServerInterface):
    """The SFTP operations, on the sandbox's current root, each through the knobs."""

    def __init__(self, server: _Server, sandbox: SftpSandbox) -> None:
        super().__init__(server)
        self.sandbox = sandbox
        self.transport = server.transport

    def run(self, op: str, path: str, action: Callable[[Path], _T], query: str = "") -> _T | int:
        """Knobs first (latency, fault), then the action on the real path, then the record."""
        with self.sandbox.handling():
            return self._run(op, path, action, query)

    def _run(self, op: str, path: str, action: Callable[[Path], _T], query: str) -> _T | int:
        resolved = self.sandbox.resolve(path)
        shown = resolved[0] if resolved is not None else path
        fault, _ = self.sandbox.admit(op, shown)
        if fault is Fault.DROPPED or (fault is Fault.TIMEOUT and not self.sandbox.hang()):
            self.sandbox.record(op, shown, query, None, fault)
            self.transport.close()
            return SFTP_FAILURE  # never reaches the client
        if fault in (Fault.SERVER_ERROR, Fault.RATE_LIMITED):
            self.sandbox.record(op, shown, query, SFTP_FAILURE, fault)
            return SFTP_FAILURE
        result: _T | int
        if resolved is None:
            result = SFTP_PERMISSION_DENIED
        else:
            try:
                result = action(resolved[1])
            except OSError as exc:
                result = paramiko.SFTPServer.convert_errno(exc.errno)
        status = result if isinstance(result, int) else SFTP_OK
        if isinstance(result, bytes) and not result:
            status = SFTP_EOF
        self.sandbox.record(op, shown, query, status, fault)
        return result

    def canonicalize(self, path: str) -> str:
        # REALPATH cannot answer an error in paramiko's server: clamp at the root
        return posixpath.normpath(posixpath.join("/", path)).replace("//", "/")

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> Any:
        def action(real: Path) -> _Handle:
            mode = getattr(attr, "st_mode", None) or 0o666
            fd = os.open(real, flags | _BINARY, mode & 0o777)
            if flags & os.O_WRONLY:
                kind = "ab" if flags & os.O_APPEND else "wb"
            elif flags & os.O_RDWR:
                kind = "a+b" if flags & os.O_APPEND else "r+b"
            else:
                kind = "rb"
            handle = _Handle(self, path, flags)
            handle.filename = str(real)
            handle.readfile = handle.writefile = os.fdopen(fd, kind)
            return handle
        return self.run("open", path, action, _mode(flags))

    def list_folder(self, path: str) -> Any:
        def action(real: Path) -> list[paramiko.SFTPAttributes]:
            with os.scandir(real) as entries:
                found = [paramiko.SFTPAttributes.from_stat(e.stat(follow_symlinks=False), e.name)
                         for e in entries]
            return sorted(found, key=lambda a: a.filename)
        return self.run("list", path, action)

    def stat(self, path: str) -> Any:
        return self.run("stat", path, lambda real: paramiko.SFTPAttributes.from_stat(os.stat(real)))

    def lstat(self, path: str) -> Any:
        return self.run("lstat", path, lambda real: paramiko.SFTPAttributes.from_stat(os.lstat(real)))

    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        return self.run("setstat", path, lambda real: paramiko.SFTPServer.set_file_attr(str(real), attr)
                        or SFTP_OK)

    def remove(self, path: str) -> int:
        return self.run("remove", path, lambda real: _not_root(self.sandbox, real) or _ok(os.remove, real))

    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        mode = getattr(attr, "st_mode", None) or 0o777
        return self.run("mkdir", path, lambda real: _ok(os.mkdir, real, mode & 0o777))

    def rmdir(self, path: str) -> int:
        return self.run("rmdir", path, lambda real: _not_root(self.sandbox, real) or _ok(os.rmdir, real))

    def rename(self, oldpath: str, newpath: str) -> int:
        """SFTP v3 rename: fails when the target exists (servers differ; OpenSSH's does this)."""
        return self._rename("rename", oldpath, newpath, replace=False)

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        """The posix-rename@openssh.com extension: replaces the target."""
        return self._rename("posix_rename", oldpath, newpath, replace=True)

    def _rename(self, op: str, oldpath: str, newpath: str, *, replace: bool) -> int:
        target = self.sandbox.resolve(newpath)

        def action(real: Path) -> int:
            if target is None:
                return SFTP_PERMISSION_DENIED
            if _not_root(self.sandbox, real) or _not_root(self.sandbox, target[1]):
                return SFTP_PERMISSION_DENIED
            if not os.path.lexists(real):
                return SFTP_NO_SUCH_FILE
            if not replace and os.path.lexists(target[1]):
                return SFTP_FAILURE
            os.replace(real, target[1])
            return SFTP_OK
        shown = target[0] if target is not None else newpath
        return self.run(op, oldpath, action, f"to={shown}")


class _Handle(paramiko.SFTPHandle):
    """An open file; its reads, writes, stats and attribute changes go through the knobs too."""

    readfile: Any
    writefile: Any
    filename: str

    def __init__(self, sftp: _SandboxSftp, path: str, flags: int) -> None:
        super().__init__(flags)
        self.sftp = sftp
        self.path = path

    def read(self, offset: int, length: int) -> Any:
        return self.sftp.run("read", self.path, lambda _: super(_Handle, self).read(offset, length))

    def write(self, offset: int, data: bytes) -> Any:
        return self.sftp.run("write", self.path, lambda _: super(_Handle, self).write(offset, data))

    def stat(self) -> Any:
        return self.sftp.run("stat", self.path,
                             lambda _: paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno())))

    def chattr(self, attr: paramiko.SFTPAttributes) -> Any:
        return self.sftp.run("setstat", self.path,
                             lambda _: paramiko.SFTPServer.set_file_attr(self.filename, attr) or SFTP_OK)


def _mode(flags: int) -> str:
    """The open mode as the calls record shows it: r, w, a, rw (+x for exclusive create)."""
    if flags & os.O_RDWR:
        mode = "rw"
    elif flags & os.O_WRONLY:
        mode = "a" if flags & os.O_APPEND else "w"
    else:
        mode = "r"
    return mode + ("+x" if flags & os.O_EXCL else "")


def _ok(function: Callable[..., Any], *args: Any) -> int:
    function(*args)
    return SFTP_OK


def _not_root(sandbox: SftpSandbox, real: Path) -> int:
    """PERMISSION_DENIED for the root itself (removing or renaming it would end the sandbox)."""
    return SFTP_PERMISSION_DENIED if real == sandbox.data else 0


def _remove_trees(trees: list[Path]) -> None:
    while trees:
        shutil.rmtree(trees.pop(), ignore_errors=True)

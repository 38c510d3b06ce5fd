"""FTP and FTPS sandboxes: a real pyftpdlib server on a loopback port, backed by a directory.

A file-exchange plugin is tested against a real server, with a real
certificate to verify and a real password to refuse, so what passes here
passes against a platform's server; what the platform holds is a directory
the test reads::

    with FtpSandbox("ftps") as ftp_server:
        with open_ftp_from_settings(ftp_server.settings) as session:
            ...
        (ftp_server.data / "pedidos" / "1.xml").read_bytes()

Modes: ``"ftps"`` is explicit TLS that the server insists on (``AUTH TLS``
before the login, ``PROT P`` before any transfer), with a certificate for
``127.0.0.1`` and ``localhost`` signed by a throwaway certificate authority
made for this sandbox (its PEM is :attr:`FtpSandbox.ca_file`); ``"ftp"`` is
plain FTP. ``mlsd=False`` makes a server of the older kind that has no
``MLSD``/``MLST`` (clients fall back to ``NLST``, ``SIZE`` and ``MDTM``).

``data`` is the root of a fresh temporary directory; :meth:`reset` swaps in a
new one (constant time) and :meth:`stop` deletes them all. Every FTP command
passes through the knobs and is recorded in ``calls`` as
``Call(command, path, "", status, fault)``: ``command`` is the FTP verb
(``STOR``, ``RNFR``, ``MLSD``, ...); ``path`` its argument, as a server path
(``/a/b.txt``) for the commands that name a file or folder once logged in,
and the user name for ``USER`` and ``PASS`` (never the password); ``status``
the first reply code (``150`` for a transfer that started, ``226`` comes
later), None when the connection was dropped.

Faults mean, over FTP: DROPPED closes the control connection without a reply;
TIMEOUT hangs ``knobs.hang`` seconds, then handles the command (or closes the
connection if a reset or stop cuts the hang short); SERVER_ERROR and
RATE_LIMITED (FTP has no 429) reply ``451`` without doing anything.
MALFORMED and DUPLICATE_PAGE have no FTP meaning and are recorded but do nothing.
"""

from __future__ import annotations

import hmac
import logging
import shutil
import tempfile
import threading
import warnings
import weakref
from pathlib import Path
from typing import Any

import trustme

with warnings.catch_warnings():
    # on Python 3.11 pyftpdlib runs on the standard library's asyncore and asynchat, which
    # warn on import; the warning is pyftpdlib's to act on, not every importer's to read
    warnings.filterwarnings("ignore", r"The (asyncore|asynchat) module is deprecated",
                            DeprecationWarning)
    from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import ThreadedFTPServer

from tramo.sandbox.base import Fault, Knobs, Sandbox

__all__ = ["PASSWORD", "USERNAME", "FtpSandbox"]

#: the one account of every FTP sandbox
USERNAME = "tramo"
PASSWORD = "sandbox-ftp-secret"
#: every permission pyftpdlib knows: list, read, write, append, delete, rename, mkdir, chmod, mtime
_PERMISSIONS = "elradfmwMT"
#: what the serving threads look at to notice a stop (seconds)
_POLL = 0.05


class FtpSandbox(Sandbox):
    """An FTP or FTPS server on loopback whose files live in ``data`` (a directory).

    :param mode: ``"ftps"`` (explicit TLS, required) or ``"ftp"`` (plain).
    :param host: the address to listen on.
    :param port: the port; 0 picks a free one. Passive data ports are picked
        by the system, on the same address.
    :param username: the one account.
    :param password: its password.
    :param mlsd: offer ``MLSD``/``MLST``; False stands in for older servers.
    """

    def __init__(self, mode: str = "ftps", knobs: Knobs | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, username: str = USERNAME, password: str = PASSWORD,
                 mlsd: bool = True) -> None:
        if mode not in ("ftps", "ftp"):
            raise ValueError(f"FtpSandbox mode must be 'ftps' or 'ftp', not {mode!r}")
        # fresh_data() runs inside Sandbox.__init__ and needs the list of trees
        self._trees: list[Path] = []
        self._cleanup = weakref.finalize(self, _remove_trees, self._trees)
        super().__init__(knobs)
        self.data: Path
        self.mode = mode
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.mlsd = mlsd
        self.ca: trustme.CA | None = trustme.CA() if mode == "ftps" else None
        self._certificate = (self.ca.issue_cert("127.0.0.1", "localhost")
                             if self.ca is not None else None)
        self._ca_file: Path | None = None
        self._server: ThreadedFTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    # -- lifecycle -------------------------------------------------------------

    def _start(self) -> None:
        if not self.data.is_dir():  # a stopped sandbox removed its trees
            self.data = self.fresh_data()
        _quiet_pyftpdlib()
        handler = self._handler_class()
        server = _Server((self.host, self.port), handler, ioloop=IOLoop())
        self._closing.clear()
        self._server = server
        self._thread = threading.Thread(target=self._serve, args=(server,),
                                        name=f"sandbox-{self.plugin or self.mode}", daemon=True)
        self._thread.start()

    def _serve(self, server: ThreadedFTPServer) -> None:
        """Accept clients until told to stop, then close everything from this same thread."""
        try:
            while not self._closing.is_set():
                server.serve_forever(timeout=_POLL, blocking=False, handle_exit=False)
        finally:
            server.close_all()  # joins every client's thread and closes their sockets

    def _stop(self) -> None:
        assert self._thread is not None
        self._closing.set()
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        with self.lock:
            _remove_trees(self._trees)
        self._ca_file = None

    def _handler_class(self) -> type[FTPHandler]:
        """A handler class of this sandbox's own: pyftpdlib configures handlers through class attributes."""
        base: type[FTPHandler] = TLS_FTPHandler if self.mode == "ftps" else FTPHandler
        options: dict[str, Any] = {
            "sandbox": self,
            "authorizer": _Authorizer(self),
            "abstracted_fs": _RootFollowingFS,
            "banner": "tramo FTP sandbox ready",
            "auth_failed_timeout": 0,  # pyftpdlib waits 3 s before a 530; tests need not
            "passive_ports": None,
        }
        if not self.mlsd:
            options["proto_cmds"] = {name: spec for name, spec in base.proto_cmds.items()
                                     if name not in ("MLSD", "MLST")}
        if self.mode == "ftps":
            assert self._certificate is not None and self.ca is not None
            files = Path(tempfile.mkdtemp(prefix="tramo-ftps-")).resolve()
            self._trees.append(files)
            pem = files / "server.pem"
            self._certificate.private_key_and_cert_chain_pem.write_to_path(str(pem))
            self._ca_file = files / "ca.pem"
            self.ca.cert_pem.write_to_path(str(self._ca_file))
            options.update(certfile=str(pem), keyfile=None, ssl_context=None,
                           tls_control_required=True, tls_data_required=True)
        return type("SandboxFtpHandler", (_SandboxCommands, base), options)

    @property
    def bound_port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager")
        return int(self._server.address[1])

    @property
    def ca_file(self) -> str | None:
        """The PEM of the authority that signed the FTPS certificate (None for plain FTP)."""
        if self.mode == "ftp":
            return None
        if self._ca_file is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager")
        return str(self._ca_file)

    @property
    def settings(self) -> dict[str, Any]:
        """What :func:`tramo.ftp.open_ftp_from_settings` reads to reach this server."""
        return {
            "host": self.host,
            "port": self.bound_port,
            "username": self.username,
            "password": self.password,
            "transport": self.mode,
            "allow_plain_ftp": self.mode == "ftp",
            "ca_file": self.ca_file,
        }

    # -- data ------------------------------------------------------------------

    def fresh_data(self) -> Path:
        """A new, empty root directory; earlier ones stay until :meth:`stop`."""
        root = Path(tempfile.mkdtemp(prefix="tramo-ftp-")).resolve()
        self._trees.append(root)
        return root


class _Server(ThreadedFTPServer):  # type: ignore[misc]
    """pyftpdlib's threaded server with its stop signal per server, not per class.

    ThreadedFTPServer keeps ``_exit`` and ``_lock`` on the class, so stopping
    one sandbox would stop the client threads of every other one running.
    """

    poll_timeout = _POLL

    def __init__(self, address: tuple[str, int], handler: type[FTPHandler], ioloop: IOLoop) -> None:
        self._exit = threading.Event()
        self._lock = threading.Lock()
        super().__init__(address, handler, ioloop=ioloop)


class _Authorizer(DummyAuthorizer):  # type: ignore[misc]
    """The sandbox's one account, with its home wherever ``sandbox.data`` is now."""

    def __init__(self, sandbox: FtpSandbox) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.add_user(sandbox.username, "", str(sandbox.data), perm=_PERMISSIONS)

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        if not (_same(username, self.sandbox.username) and _same(password, self.sandbox.password)):
            raise AuthenticationFailed("Authentication failed.")

    def get_home_dir(self, username: str) -> str:
        return str(self.sandbox.data)


class _RootFollowingFS(AbstractedFS):  # type: ignore[misc]
    """A session's root is the sandbox's current ``data``, so a reset moves open sessions too."""

    cmd_channel: Any

    @property
    def root(self) -> str:
        return str(self.cmd_channel.sandbox.data)

    @root.setter
    def root(self, path: str) -> None:
        pass  # set once at login to what the property gives anyway


class _SandboxCommands:
    """Every command through the knobs (latency, faults), then handled, then recorded."""

    sandbox: FtpSandbox
    authenticated: bool
    username: str
    fs: AbstractedFS | None
    _unrecorded: tuple[str, str, Fault | None] | None = None

    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        with self.sandbox.handling():
            self._knobbed(line, cmd, arg)

    def _knobbed(self, line: str, cmd: str, arg: str) -> None:
        sandbox = self.sandbox
        path = self._shown(cmd, arg)
        fault, _ = sandbox.admit(cmd, path)
        if fault is Fault.DROPPED or (fault is Fault.TIMEOUT and not sandbox.hang()):
            sandbox.record(cmd, path, "", None, fault)
            self.close()  # type: ignore[attr-defined]
            return
        if fault in (Fault.SERVER_ERROR, Fault.RATE_LIMITED):
            sandbox.record(cmd, path, "", 451, fault)
            self.respond("451 Requested action aborted: local error in processing.")
            return
        # recorded as its first reply goes out (see respond), so a client that has an
        # answer always finds the call in ``calls``
        self._unrecorded = (cmd, path, fault)
        super().pre_process_command(line, cmd, arg)  # type: ignore[misc]
        if self._unrecorded is not None:  # no reply yet: pyftpdlib answers a refused PASS later
            self._unrecorded = None
            status = None if cmd != "PASS" else 230 if self.authenticated else 530
            sandbox.record(cmd, path, "", status, fault)

    def respond(self, resp: str, *args: Any, **kwargs: Any) -> None:
        pending = getattr(self, "_unrecorded", None)
        if pending is not None:
            self._unrecorded = None
            cmd, path, fault = pending
            self.sandbox.record(cmd, path, "", int(resp[:3]) if resp[:3].isdigit() else None, fault)
        super().respond(resp, *args, **kwargs)  # type: ignore[misc]

    def _shown(self, cmd: str, arg: str) -> str:
        """What ``calls`` shows as the command's path: never a password."""
        if cmd in ("USER", "PASS"):
            return arg if cmd == "USER" else (self.username or "")
        spec = type(self).proto_cmds.get(cmd)  # type: ignore[attr-defined]
        if self.authenticated and self.fs is not None and spec is not None and spec["perm"]:
            try:
                return str(self.fs.ftpnorm(arg or self.fs.cwd))
            except (ValueError, TypeError):
                return arg
        return arg


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


def _quiet_pyftpdlib() -> None:
    """Keep pyftpdlib from configuring logging itself (it adds a stderr handler when none is set)."""
    log = logging.getLogger("pyftpdlib")
    if not log.handlers:
        log.addHandler(logging.NullHandler())


def _remove_trees(trees: list[Path]) -> None:
    while trees:
        shutil.rmtree(trees.pop(), ignore_errors=True)


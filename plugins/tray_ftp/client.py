"""The file exchange of one tray_ftp connection: the server, its folders, batches out, orders in.

The core brings the mechanics: the session (SFTP with the host key verified,
FTPS with the certificate verified, plain FTP only when allowed), reconnects
and retries (:mod:`tramo.exchange`), atomic uploads (:mod:`tramo.remote`), and
the ledger of incoming files (:mod:`tramo.inbox`). This module adds what is
the layout's own: which folder holds what, the names of the files sent, what
was already sent (so a batch carries only changes), and the store's lists.
"""

from __future__ import annotations

import hashlib
import posixpath
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lxml import etree

import tramo
from tramo.exchange import Exchange
from tramo.inbox import Inbox
from tramo.remote import CHUNK

from tramo_tray_ftp import wire

__all__ = ["LISTS_MAX_BYTES", "TrayFiles", "api", "session_settings"]

#: the store's lists file is small; anything larger is not one
LISTS_MAX_BYTES = 1024 * 1024
#: the folder each kind of file goes to, by its setting
_FOLDERS = {"products": "products_folder", "status_updates": "status_folder",
            "invoices": "invoices_folder"}


def _folder(value: Any) -> str:
    return str(value or "").strip().strip("/") or "."


def session_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The plugin's settings as :func:`tramo.exchange.open_session` reads them.

    The private key is read from its file here, so the session gets the key's
    text (never a path it might log) wrapped as a secret.
    """
    opened: dict[str, Any] = {
        "transport": settings.get("transport") or "sftp",
        "host": settings["host"],
        "port": settings.get("port"),
        "username": settings["username"],
        "password": settings.get("password"),
        "known_hosts": settings.get("known_hosts_path"),
        "host_key_fingerprint": settings.get("host_key_fingerprint"),
        "allow_plain_ftp": bool(settings.get("allow_plain_ftp")),
        "ca_file": settings.get("ca_file"),
        "key_passphrase": settings.get("private_key_passphrase"),
    }
    key_path = settings.get("private_key_path")
    if key_path:
        try:
            text = Path(str(key_path)).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise tramo.ConfigurationError(
                f"the private key file {key_path!r} cannot be read ({type(exc).__name__})") from None
        opened["private_key"] = tramo.Secret(text)
    return opened


def digest(element: etree._Element) -> str:
    """What a record's element says, as a hash: equal hashes, equal records in the file."""
    return hashlib.sha256(etree.tostring(element, method="c14n")).hexdigest()


class TrayFiles:
    """One connection's server: batches out, the orders inbox, the store's lists."""

    def __init__(self, connection: tramo.Connection) -> None:
        settings = connection.settings
        self.state = connection.state
        self.encoding = str(settings["file_encoding"])
        self.exchange = Exchange(session_settings(settings),
                                 timeout=float(settings["timeout_seconds"]),
                                 retry=connection.http_options.retry, on_wait=connection.on_wait)
        orders = _folder(settings["orders_folder"])
        self.orders_folder = orders
        self.folders = {kind: _folder(settings[name]) for kind, name in _FOLDERS.items()}
        self.lists_file = str(settings["lists_file"]).strip("/")
        self.inbox = Inbox(
            self.exchange, connection.state, incoming=orders,
            processed=_folder(settings.get("processed_folder") or posixpath.join(orders, "processados")),
            quarantine=_folder(settings.get("quarantine_folder")
                               or posixpath.join(orders, "quarentena")),
            log=connection.log)

    def __repr__(self) -> str:
        return f"TrayFiles({self.exchange!r})"

    def close(self) -> None:
        self.exchange.close()

    # -- out ---------------------------------------------------------------------------

    def upload(self, kind_name: str, elements: Sequence[etree._Element]) -> str:
        """One file of ``elements`` in the kind's folder, whole or not at all; returns its name."""
        kind = wire.KINDS[kind_name]
        folder = self.folders[kind_name]
        name = wire.file_name(kind, datetime.now(timezone.utc), secrets.token_hex(3))

        def upload(remote: Any) -> None:
            remote.ensure_folder(folder)
            remote.upload_atomic(folder, name, wire.file_chunks(kind, list(elements), self.encoding))

        self.exchange.run(f"upload {posixpath.join(folder, name)!r}", upload)
        return name

    def sent(self, kind_name: str, key: str) -> str | None:
        """The hash of what was last sent for ``key`` (a product code, an order's status)."""
        value = self.state.get(f"sent:{kind_name}:{key}")
        return value if isinstance(value, str) else None

    def remember(self, kind_name: str, key: str, value: str) -> None:
        self.state.set(f"sent:{kind_name}:{key}", value)

    # -- the store's lists -------------------------------------------------------------

    def lists(self) -> dict[str, list[tramo.PlatformOption]]:
        """The store's lists file, read now (it is small)."""
        path = self.lists_file

        def read(remote: Any) -> bytes:
            content = bytearray()
            with remote.open_read(path) as stream:
                while chunk := stream.read(CHUNK):
                    content += chunk
                    if len(content) > LISTS_MAX_BYTES:
                        raise wire.FileProblem(wire.Problem(
                            f"the lists file is over {LISTS_MAX_BYTES} bytes; it is not one"))
            return bytes(content)

        try:
            content = self.exchange.run(f"read {path!r}", read)
        except tramo.PlatformError as exc:
            if exc.code == "not_found":
                raise tramo.PlatformError(
                    f"the store publishes no lists file at {path!r} (setting lists_file); "
                    f"its statuses, shipping methods and sales channels cannot be listed",
                    code="not_found") from None
            raise
        try:
            return wire.read_lists(content)
        except wire.FileProblem as exc:
            raise tramo.PlatformError(f"the store's lists file {path!r} cannot be read: "
                                      f"{exc.problem}", code="bad_file") from None


def api(connection: tramo.Connection) -> TrayFiles:
    """The connection's :class:`TrayFiles`, made once and closed with the connection."""
    return connection.resource("tray_ftp", lambda: TrayFiles(connection))

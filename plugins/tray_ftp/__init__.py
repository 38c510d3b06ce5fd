"""Tray Commerce file exchange over SFTP, FTPS or FTP: platform ``tray``, modality ``ftp``.

- this module: the hooks, the capabilities of seed 000's FTP column and no more
  (no stock, tracking or reservations: the core names the modalities that have them);
- :mod:`tramo_tray_ftp.wire`: the file layout, version 1 (pure);
- :mod:`tramo_tray_ftp.client`: the server, its folders, what was sent;
- :mod:`tramo_tray_ftp.sandbox`: a Tray store exchanging files on loopback servers.

A write is one file per batch, uploaded whole or not at all, carrying only
what changed since the last batch; it is done when the server has the file
(the store imports it on its own schedule). Orders come from files the store
leaves: each file is imported once, moved to the processed folder only after
the host acknowledges every order in it, or set aside in quarantine with a
report that names line and field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

import tramo
from tramo.sandbox import Sandbox
from tramo.writes import write_together

from tramo_tray_ftp import wire
from tramo_tray_ftp.client import api, digest

# Imported before the ``sandbox`` hook below is defined, so that the package's
# ``sandbox`` attribute is the hook (pluggy reads it) and not the submodule.
from tramo_tray_ftp.sandbox import tray_ftp_sandbox

__version__ = "0.2.0"

#: an order file up to this size is parsed once, its orders kept from the check to be
#: yielded; a larger one is parsed twice (checked, then read again as it is yielded),
#: so that what one file holds in memory stays bounded
KEEP_ORDERS_MAX_BYTES = 4 * 1024 * 1024

_SETTINGS: tuple[tramo.Setting, ...] = (
    tramo.Setting(name="host", description="Address of the store's file server."),
    tramo.Setting(name="transport", required=False, default="sftp", choices=("sftp", "ftps", "ftp"),
                  description="File transfer protocol; plain ftp sends the password in clear "
                              "and needs allow_plain_ftp."),
    tramo.Setting(name="port", kind="int", required=False,
                  description="Server port; when unset, 22 for sftp and 21 for ftps and ftp."),
    tramo.Setting(name="username", description="File server user, agreed with the store's developer."),
    tramo.Setting(name="password", required=False, secret=True,
                  description="File server password (sftp may use a private key instead)."),
    tramo.Setting(name="private_key_path", required=False,
                  description="Path to the SSH private key for sftp."),
    tramo.Setting(name="private_key_passphrase", required=False, secret=True,
                  description="Passphrase of the SSH private key, when it has one."),
    tramo.Setting(name="known_hosts_path", required=False,
                  description="known_hosts file that holds the sftp server's host key."),
    tramo.Setting(name="host_key_fingerprint", required=False,
                  description="Expected sftp host key fingerprint (SHA256:...), instead of a "
                              "known_hosts file."),
    tramo.Setting(name="allow_plain_ftp", kind="bool", required=False, default=False,
                  description="Allow transport ftp, which sends the password and files in clear."),
    tramo.Setting(name="ca_file", required=False,
                  description="PEM file of the authority that signed the FTPS server's "
                              "certificate, when it is a private one."),
    tramo.Setting(name="orders_folder", description="Folder on the server that holds the order files."),
    tramo.Setting(name="processed_folder", required=False,
                  description="Where imported order files go (default: processados in the orders "
                              "folder)."),
    tramo.Setting(name="quarantine_folder", required=False,
                  description="Where unreadable order files go, with a report (default: "
                              "quarentena in the orders folder)."),
    tramo.Setting(name="products_folder", required=False, default="produtos",
                  description="Folder the product files are written to."),
    tramo.Setting(name="status_folder", required=False, default="situacoes",
                  description="Folder the order status files are written to."),
    tramo.Setting(name="invoices_folder", required=False, default="notas",
                  description="Folder the NF-e files are written to."),
    tramo.Setting(name="lists_file", required=False, default="tabelas/listas.xml",
                  description="The store's file of order statuses, shipping and payment methods "
                              "and sales channels."),
    tramo.Setting(name="file_encoding", required=False, default="UTF-8", choices=wire.ENCODINGS,
                  description="Encoding of the files written; characters it lacks travel as XML "
                              "character references."),
    tramo.Setting(name="timeout_seconds", kind="int", required=False, default=30,
                  description="Seconds to connect, and to wait for each answer of the server."),
)


@tramo.hookimpl
def plugin_info() -> tramo.PluginInfo:
    return tramo.PluginInfo(
        name="tray_ftp", platform="tray", modality="ftp", version=__version__,
        description="Tray Commerce stores through files on an SFTP, FTPS or FTP server.",
        settings=_SETTINGS,
        features={"receive_orders": {"incremental": False, "queue": True},
                  "send_products": {"variants": True, "batch": "one file"},
                  "file_layout": {"format": "xml", "version": wire.VERSION}},
    )


@tramo.hookimpl
def sandbox() -> Sandbox:
    return tray_ftp_sandbox("sftp")


@tramo.hookimpl
def check_connection(connection: tramo.Connection) -> tramo.ConnectionReport:
    # Logging in proves the host key (or certificate) and the credentials; then each folder.
    files = api(connection)
    problems: list[str] = []
    waiting = files.exchange.run("list the orders folder", lambda remote: remote.list(files.orders_folder))
    for kind, folder in files.folders.items():
        try:
            files.exchange.run(f"list {folder!r}", lambda remote, f=folder: remote.list(f))
        except tramo.PlatformError as exc:
            problems.append(f"the {kind} folder {folder!r} cannot be listed (it is made on the "
                            f"first upload): {exc}")
    try:
        files.lists()
    except tramo.PlatformError as exc:
        problems.append(str(exc))
    return tramo.ConnectionReport(problems=tuple(problems), details={
        "transport": str(connection.settings["transport"]),
        "orders waiting": str(len([f for f in waiting if not f.name.startswith(".")]))})


# -- out: one file per batch ------------------------------------------------------------


def _send_changed(connection: tramo.Connection, kind_name: str, items: Sequence[Any],
                  local_id: Callable[[Any], str], key: Callable[[Any], str] | None = None,
                  fingerprint: Callable[[Any, Any], str] = lambda item, element: digest(element),
                  ) -> list[tramo.WriteResult]:
    """One file of what differs from what was last sent for its key; the rest is UNCHANGED.

    :param key: what identifies the item's last sending (default: ``local_id``).
    :param fingerprint: ``(item, element)`` to what must differ (default: the whole record).
    """
    files = api(connection)
    kind = wire.KINDS[kind_name]
    key = key or local_id

    def send(pairs: list[tuple[Any, Any]]) -> list[tramo.WriteResult]:
        results: list[tramo.WriteResult] = []
        fresh: list[tuple[str, str]] = []
        for item, element in pairs:
            ident, hashed = key(item), fingerprint(item, element)
            before = files.sent(kind_name, ident)
            outcome = (tramo.Outcome.UNCHANGED if before == hashed else
                       tramo.Outcome.CREATED if before is None else tramo.Outcome.UPDATED)
            results.append(tramo.WriteResult(local_id(item), outcome))
            if outcome is not tramo.Outcome.UNCHANGED:
                fresh.append((ident, hashed))
        changed = [element for (_, element), r in zip(pairs, results)
                   if r.outcome is not tramo.Outcome.UNCHANGED]
        if changed:
            files.upload(kind_name, changed)  # a failure fails the whole batch (write_together)
            for ident, hashed in fresh:
                files.remember(kind_name, ident, hashed)
        return results

    return write_together(items, local_id, lambda item: wire.record_element(kind, item), send)


@tramo.hookimpl
def send_products(connection: tramo.Connection,
                  products: Sequence[tramo.Product]) -> list[tramo.WriteResult]:
    return _send_changed(connection, "products", products, lambda p: p.code)


@tramo.hookimpl
def sync_status(connection: tramo.Connection,
                updates: Sequence[tramo.StatusUpdate]) -> list[tramo.WriteResult]:
    # Only a status the store is not known to have goes out: the order files it leaves
    # say which status it had (see receive_orders).
    return _send_changed(connection, "status_updates", updates, lambda u: u.order_id,
                         fingerprint=lambda u, _: str(u.platform_status))


@tramo.hookimpl
def send_invoice(connection: tramo.Connection,
                 invoices: Sequence[tramo.Invoice]) -> list[tramo.WriteResult]:
    # The store cannot be asked which invoices it has, so an invoice sent is never sent again.
    return _send_changed(connection, "invoices", invoices, lambda i: i.access_key,
                         key=lambda i: f"{i.order_id}:{i.access_key}",
                         fingerprint=lambda i, _: "sent")


# -- in: the orders the store leaves ---------------------------------------------------------


def _held(problem: wire.Problem, file: str) -> tramo.Held:
    error: tramo.TramoError
    if problem.field and problem.record is not None:
        error = tramo.ValidationError(f"Order.{problem.field}", problem.value,
                                      f"{problem.reason} (file {file}, line {problem.line})")
    else:
        error = wire.FileProblem(problem, file)
    return tramo.Held("order", error, remote_id=problem.record,
                      raw={"file": file, "line": problem.line, "problem": str(problem)})


@attrs.frozen
class _Checked:
    """One order file read whole: its order ids, its problems, and its orders when kept.

    :param orders: the file's orders in file order, or ``None`` when the file was
        too large to keep them (then they are read again as they are yielded).
    """

    keys: list[str]
    problems: list[wire.Problem]
    orders: list[tramo.Order] | None


def _check(path: Path, keep_orders: bool) -> _Checked:
    """Read the file whole before any of it is trusted (a file is taken whole or set aside).

    :param keep_orders: keep the orders read, so a file is parsed once; without it
        only the ids are kept and the file must be parsed again to yield them.
    """
    keys: list[str] = []
    problems: list[wire.Problem] = []
    orders: list[tramo.Order] = []
    seen: set[str] = set()
    try:
        for parsed in wire.parse(wire.KINDS["orders"], path):
            if parsed.problem is not None:
                problems.append(parsed.problem)
            elif parsed.key in seen:
                problems.append(wire.Problem("the order appears twice in the file",
                                             line=parsed.line, record=parsed.key, field="id"))
            else:
                seen.add(parsed.key)
                keys.append(parsed.key)
                if keep_orders and not problems:
                    orders.append(parsed.record)
            if len(problems) >= wire.MAX_PROBLEMS:
                break
    except wire.FileProblem as exc:
        problems.append(exc.problem)
    if problems:
        return _Checked(keys, problems, None)
    return _Checked(keys, problems, orders if keep_orders else None)


def _orders_of(path: Path, checked: _Checked) -> Iterable[tramo.Order]:
    """A checked file's orders: those kept by the check, or the file read again."""
    if checked.orders is not None:
        return checked.orders
    return (parsed.record for parsed in wire.parse(wire.KINDS["orders"], path))


@tramo.hookimpl
def receive_orders(connection: tramo.Connection, since: Any) -> Iterator[tramo.Order | tramo.Held]:
    # The orders folder is a queue: a file's orders come until the host acknowledges them,
    # so ``since`` has nothing to add.
    files = api(connection)
    for arrival in files.inbox.arrivals():
        checked = _check(arrival.path, keep_orders=arrival.size <= KEEP_ORDERS_MAX_BYTES)
        if checked.problems:
            files.inbox.set_aside(arrival, [str(p) for p in checked.problems])
            for problem in checked.problems:
                yield _held(problem, arrival.name)
            continue
        files.inbox.expect(arrival, checked.keys)
        for order in _orders_of(arrival.path, checked):
            if order.id in arrival.acknowledged:
                continue
            # the store's status as it says it, so sync_status sends only a change
            files.remember("status_updates", order.id, order.platform_status)
            yield order
    for name, error in files.inbox.refused:
        yield tramo.Held("order", error, raw={"file": name})


@tramo.hookimpl
def acknowledge_orders(connection: tramo.Connection,
                       orders: Sequence[str]) -> list[tramo.WriteResult]:
    # Committed in the ledger first, then the finished files moved: a crash in between
    # loses nothing, and the next read finishes the move.
    outcome = api(connection).inbox.acknowledge(orders)
    return [tramo.WriteResult(ident, tramo.Outcome.UPDATED) if outcome[ident] is None
            else tramo.WriteResult.failed(ident, outcome[ident])  # type: ignore[arg-type]
            for ident in orders]


# -- look-ups -------------------------------------------------------------------------------


@tramo.hookimpl
def list_order_statuses(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return api(connection).lists()["order_statuses"]


@tramo.hookimpl
def list_shipping_methods(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return api(connection).lists()["shipping_methods"]


@tramo.hookimpl
def list_payment_methods(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return api(connection).lists()["payment_methods"]


@tramo.hookimpl
def list_sales_channels(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return api(connection).lists()["sales_channels"]

"""Tray FTP: importing N orders from the files the store leaves, over SFTP and FTPS.

What a call is here. The plugin talks to a file server over one session; a
call is one operation of it, as the sandbox's server counts them (each pays
the latency knob in ``admit``): SFTP requests (``list``, ``open``, ``stat``,
``read``, ``posix_rename``) and FTP commands (``TYPE``, ``PASV``, ``MLSD``,
``RETR``, ``RNFR``, ...; the bytes on the data connection are not calls).
The server admits 20 calls in any second. A session's calls go one at a
time, so they form a chain: the bound is the issue's
``max(calls / rate, 3 x latency)`` at 50 ms or, when larger, the chain
(every call's latency and the server's own work on it, see
:func:`bench.orders_common.chain`). A call here moves a whole file (up to
100 orders), so an import is a handful of calls and the client's reading of
every order in them (about 0.3 ms an order, one parse per file).

``tray_ftp.import_orders.<transport>``: ``receive_orders`` of N orders the
store left in files of up to 100 (one file at the quick size, two at the
full); target within 1.2 of the bound, every order once, one listing of the
orders folder and one download of each file. The acknowledgement that then
moves the files to the processed folder is timed too and printed with it
(``ack_s``, ``ack_calls``), and every file must have moved.

``tray_ftp.import_orders.<transport>.speedup``: seed 001's four calls an
order one after another, measured in the same run at the same latency with
a bare session listing the orders folder ``k`` times (one SFTP request, or
three FTP commands, each), over the import's time. A session's calls never
overlap, so what gives the speed-up here is a file carrying many orders
(``4N / calls``, less the client's reading), whatever the latency.

``tray_ftp.import_orders.<transport>.vs_floor`` and
``tray_ftp.send_products.<transport>`` (no latency, more orders): the plugin
against the transport's floor measured in the same run on the same server.
For an import, downloading each file and parsing it with the layout's parser
(the plugin adds the content hash, the spool file, the ledger, the
acknowledgement and the move to the processed folder); for sending products, building the same file and one bare atomic
upload of it on an open session (the plugin also hashes each record and
keeps what it sent). Target within 3.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import tramo
from tramo.exchange import open_session
from tramo.registry import discover
from tramo.remote import CHUNK, remote_folder
from tramo_tray_ftp import wire
from tramo_tray_ftp.sandbox import MAPPINGS, tray_ftp_sandbox

from bench import orders_common as oc

FLOOR_TARGET = 3.0
PER_FILE = 100
PLACED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TRANSPORTS = ("sftp", "ftps")
#: what lists a folder and what opens a file for reading, in each protocol's words
LISTING = frozenset({"list", "MLSD", "LIST", "NLST"})
DOWNLOAD = frozenset({"open", "RETR"})


def _order(n: int) -> tramo.Order:
    customer = tramo.Customer(name=f"Cliente {n}", email=f"cliente{n}@example.com.br")
    address = tramo.Address(street="Rua Augusta", number=str(n), city="São Paulo", state="SP",
                            postal_code="01305-000")
    return tramo.Order(
        id="x", placed_at=PLACED, customer=customer,
        total=Decimal("103.80"), platform_status="1", delivery_address=address,
        items=[tramo.OrderItem(sku=f"SKU-{n % 7}", name="Caneca", quantity=2,
                               unit_price=Decimal("39.90"))],
        shipping=tramo.Shipping(platform_method="2", freight=Decimal("24.00")))


def _place(store: Any, count: int) -> int:
    """``count`` orders in files of up to ``PER_FILE``; the number of files."""
    for start in range(0, count, PER_FILE):
        store.place_orders([_order(n) for n in range(start, min(count, start + PER_FILE))])
    return math.ceil(count / PER_FILE)


def _moved(store: Any) -> int:
    return len(list((Path(store.data) / "pedidos" / "processados").iterdir()))


@attrs.frozen
class _Import:
    """A timed import, the baseline measured before it, and the acknowledgement after it."""

    run: oc.Run
    baseline: oc.Sequential
    listings: int
    downloads: int
    ack_s: float
    ack_calls: int
    acked: bool
    moved: int


def _import(mode: str, transport: str, latency: float) -> _Import:
    registry = discover(allow=["tray_ftp"])
    with tray_ftp_sandbox(transport, oc.knobs()) as store:
        _place(store, oc.SIZES[mode])
        with registry.connect("tray_ftp", store.settings, mappings=MAPPINGS,
                              on_wait=oc.quiet) as connection, \
                open_session(store.settings) as bare:
            connection.check()  # logs in and looks at the folders: not part of the import
            folder = remote_folder(bare)
            oc.ready(store, latency)
            baseline = oc.sequential(store, lambda _: folder.list("pedidos"),
                                     oc.BASELINE_CALLS[mode], calls_per_step=None)
            before = len(store.calls)
            run = oc.timed_import(store, lambda: connection.call("receive_orders", since=None),
                                  latency)
            made = list(store.calls)[before:]
            started = time.perf_counter()
            acked = connection.call("acknowledge_orders", orders=list(run.order_ids))
            ack_s = time.perf_counter() - started
            ack_calls = len(store.calls) - before - run.calls
            moved = _moved(store)
    return _Import(run=run, baseline=baseline, listings=sum(c.method in LISTING for c in made),
                   downloads=sum(c.method in DOWNLOAD for c in made), ack_s=ack_s,
                   ack_calls=ack_calls, acked=all(r.ok for r in acked), moved=moved)


def import_orders(mode: str, transport: str) -> Iterator[dict[str, Any]]:
    orders = oc.SIZES[mode]
    files = math.ceil(orders / PER_FILE)
    done = _import(mode, transport, oc.LATENCY)
    name = f"tray_ftp.import_orders.{transport}"
    yield oc.bound_line(
        name, done.run, orders=orders, expected_calls=None, chained=True,
        calls_ok=(done.listings == 1 and done.downloads == files and done.moved == files
                  and done.acked),
        files=files, listings=done.listings, downloads=done.downloads,
        ack_s=round(done.ack_s, 3), ack_calls=done.ack_calls, files_moved=done.moved)
    yield oc.speedup_line(f"{name}.speedup", done.run, done.baseline, orders=orders,
                          expected_calls=None)


def _floor(settings: dict[str, Any]) -> float:
    """Download every order file and parse it: what any import must do."""
    started = time.perf_counter()
    with open_session(settings) as session:
        folder = remote_folder(session)
        with tempfile.TemporaryDirectory() as spool:
            for remote in folder.list("pedidos"):
                local = Path(spool) / "f.xml"
                with folder.open_read(f"pedidos/{remote.name}") as stream, local.open("wb") as out:
                    while chunk := stream.read(CHUNK):
                        out.write(chunk)
                for _ in wire.parse(wire.KINDS["orders"], local):
                    pass
    return time.perf_counter() - started


def _upload_floor(settings: dict[str, Any], products: list[tramo.Product]) -> float:
    """Build the file and upload it atomically on a session already open, as the plugin's is."""
    kind = wire.KINDS["products"]
    with open_session(settings) as session:
        folder = remote_folder(session)
        started = time.perf_counter()
        elements = [wire.record_element(kind, p) for p in products]
        folder.upload_atomic("produtos", "floor.xml", wire.file_chunks(kind, elements))
        return time.perf_counter() - started


def against_floor(mode: str, transport: str) -> Iterator[dict[str, Any]]:
    count = {"smoke": 100, "quick": 1000, "full": 3000}[mode]
    registry = discover(allow=["tray_ftp"])
    with tray_ftp_sandbox(transport) as store:
        _place(store, count)
        floor = _floor(store.settings)
        with registry.connect("tray_ftp", store.settings, mappings=MAPPINGS,
                              on_wait=oc.quiet) as connection:
            started = time.perf_counter()
            ids = [o.id for o in connection.call("receive_orders")]
            results = connection.call("acknowledge_orders", orders=ids)
            took = time.perf_counter() - started
            moved = _moved(store)
            yield {"name": f"tray_ftp.import_orders.{transport}.vs_floor", "value": round(took, 3),
                   "unit": "s", "baseline": f"download and parse {round(floor, 3)} s",
                   "ratio": round(took / floor, 2), "target": FLOOR_TARGET, "orders": len(ids),
                   "ms_per_order": round(1000 * took / max(1, len(ids)), 2),
                   "files_moved": moved,
                   "ok": (took / floor <= FLOOR_TARGET and len(ids) == count
                          and all(r.ok for r in results))}
            products = [tramo.Product(code=f"P{n}", name=f"Produto {n}",
                                      price=Decimal("19.90")) for n in range(count)]
            upload_floor = _upload_floor(store.settings, products)
            started = time.perf_counter()
            sent = connection.call("send_products", products=products)
            took = time.perf_counter() - started
            yield {"name": f"tray_ftp.send_products.{transport}", "value": round(took, 3),
                   "unit": "s", "baseline": f"one bare atomic upload {round(upload_floor, 3)} s",
                   "ratio": round(took / upload_floor, 2), "target": FLOOR_TARGET,
                   "products": count, "ok": took / upload_floor <= FLOOR_TARGET
                   and all(r.ok for r in sent)}


def run(mode: str) -> Iterator[dict[str, Any]]:
    for transport in TRANSPORTS:
        yield from import_orders(mode, transport)
    for transport in TRANSPORTS:
        yield from against_floor(mode, transport)

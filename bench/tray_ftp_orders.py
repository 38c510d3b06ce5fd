"""Tray FTP: importing N orders from files, and sending N products as one file, against the transport's floor.

Seed 001 reports 28 s per imported order. Over files, an import is bounded
by the transport: download each file and parse it. The baseline, measured in
the same run on the same server, is exactly that (a bare remote folder and
the layout's parser); the plugin adds the content hash, the spool file, the
ledger, the acknowledgement and the move to the processed folder. The ratio
is the plugin's time to the floor's (target: within 3; the plugin parses each
file twice, once to check it whole, once to yield), for SFTP and FTPS; sending
products is compared with building the same file and one bare atomic upload
of it on an open session (the plugin also hashes each record and keeps what it sent).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import tramo
from tramo.exchange import open_session
from tramo.registry import discover
from tramo.remote import CHUNK, remote_folder

from tramo_tray_ftp import wire
from tramo_tray_ftp.sandbox import MAPPINGS, tray_ftp_sandbox

TARGET = 3.0
PER_FILE = 100
PLACED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


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


def run(mode: str) -> Iterator[dict[str, Any]]:
    count = {"smoke": 100, "quick": 1000, "full": 3000}[mode]
    registry = discover(allow=["tray_ftp"])
    for transport in ("sftp", "ftps"):
        with tray_ftp_sandbox(transport) as store:
            for start in range(0, count, PER_FILE):
                store.place_orders([_order(n) for n in range(start, min(count, start + PER_FILE))])
            floor = _floor(store.settings)
            with registry.connect("tray_ftp", store.settings, mappings=MAPPINGS,
                                  on_wait=lambda seconds, why: None) as connection:
                started = time.perf_counter()
                ids = [o.id for o in connection.call("receive_orders")]
                results = connection.call("acknowledge_orders", orders=ids)
                took = time.perf_counter() - started
                moved = len(list((Path(store.data) / "pedidos" / "processados").iterdir()))
                yield {"name": f"tray_ftp.import_orders.{transport}", "value": round(took, 3),
                       "unit": "s", "baseline": f"download and parse {round(floor, 3)} s",
                       "ratio": round(took / floor, 2), "target": TARGET, "orders": len(ids),
                       "ms_per_order": round(1000 * took / max(1, len(ids)), 2),
                       "files_moved": moved,
                       "ok": (took / floor <= TARGET and len(ids) == count
                              and all(r.ok for r in results))}
                products = [tramo.Product(code=f"P{n}", name=f"Produto {n}",
                                          price=Decimal("19.90")) for n in range(count)]
                upload_floor = _upload_floor(store.settings, products)
                started = time.perf_counter()
                sent = connection.call("send_products", products=products)
                took = time.perf_counter() - started
                yield {"name": f"tray_ftp.send_products.{transport}", "value": round(took, 3),
                       "unit": "s", "baseline": f"one bare atomic upload {round(upload_floor, 3)} s",
                       "ratio": round(took / upload_floor, 2), "target": TARGET,
                       "products": count, "ok": took / upload_floor <= TARGET
                       and all(r.ok for r in sent)}

"""Importing N orders over Tray's SOAP webservice: four calls an order, none waiting for another.

Seed 001: the webservice takes up to 7 s a call and an order needs four
(order, items, customer, address): 28 s an order when they go one after
another, ``4 x N x L`` for N orders at latency L. tramo makes an order's four
calls at once and overlaps orders (and the ToDo list's pages) within the rate
budget, so an import should take ``max(4N / rate, 3 x L)``; the ratio to that
bound is the figure (target: within 1.2), and the speed-up over the
sequential ``4 x N x L`` is printed with it.

Two runs: rate-bound (many orders, the store's limit decides) and
latency-bound (a few orders, no limit: the list, then every call at once).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

from tramo.budget import Window
from tramo.registry import discover
from tramo.sandbox import Knobs

from tramo_tray_soap.sandbox import MAPPINGS, TraySoapSandbox

LATENCY = 0.05
RATE = 100  # calls a second, enforced by the sandbox in every one-second span
TARGET = 1.2
PAGE = 50


def _import(orders: int, rate: int | None, concurrency: int) -> dict[str, Any]:
    limits = (Window(rate, 1),) if rate else ()
    knobs = Knobs(latency=LATENCY, time_scale=1.0, rate_limits=limits)
    with TraySoapSandbox(knobs) as store:
        store.seed(products=8, orders=orders)
        registry = discover(allow=["tray_soap"])
        settings = {**store.settings, "requests_per_second": rate or 0,
                    "requests_per_minute": (rate or 1000) * 60, "concurrency": concurrency}
        with registry.connect("tray_soap", settings, mappings=MAPPINGS,
                              on_wait=lambda seconds, why: None) as connection:
            connection.supports("receive_orders")  # reads the WSDL: not part of the import
            before = len(store.calls)
            start = time.perf_counter()
            imported = list(connection.call("receive_orders", since=None))
            elapsed = time.perf_counter() - start
            calls = len(store.calls) - before
    pages = orders // PAGE + 1  # the last page is the short one (maybe empty)
    expected = 4 * orders + pages
    bound = max(4 * orders / rate, 3 * LATENCY) if rate else 3 * LATENCY
    sequential = 4 * orders * LATENCY
    return {"value": round(elapsed, 3), "unit": "s", "bound": round(bound, 3),
            "ratio": round(elapsed / bound, 3), "target": TARGET, "orders": len(imported),
            "calls": calls, "expected_calls": expected,
            "sequential_s": round(sequential, 3), "speedup": round(sequential / elapsed, 1),
            "ok": elapsed / bound <= TARGET and calls == expected and len(imported) == orders}


def run(mode: str) -> Iterator[dict[str, Any]]:
    orders = {"smoke": 12, "quick": 150, "full": 400}[mode]
    yield {"name": "tray_soap.import_orders.rate_bound", **_import(orders, RATE, concurrency=8)}
    yield {"name": "tray_soap.import_orders.latency_bound", **_import(4, None, concurrency=8)}

"""Importing N Tray orders: N + ceil(N/50) calls, list pages and order fetches overlapping.

Seed 001 reports 7 s per call and 28 s per imported order: integrations that
walk each order with four or more sequential calls. tramo lists changed orders
(50 a page) and fetches each ``/orders/:id/complete`` once, concurrently, while
the budget keeps it under the store's rate limit. With the sandbox's latency at
50 ms and its limit at 20 calls in any second, no import can finish
before ``max(calls / rate, 3 x latency)``; the ratio to that bound is the figure
(target: within 1.2), and the number of calls must be exactly N + ceil(N/50).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

from tramo.budget import Window
from tramo.registry import discover
from tramo.sandbox import Knobs

from tramo_tray_rest.sandbox import MAPPINGS, TraySandbox

LATENCY = 0.05
RATE = 20  # calls a second, enforced by the sandbox in every one-second span
TARGET = 1.2


def run(mode: str) -> Iterator[dict[str, Any]]:
    orders = {"smoke": 12, "quick": 150, "full": 400}[mode]
    knobs = Knobs(latency=LATENCY, time_scale=1.0,
                  rate_limits=(Window(RATE, 1), Window(180 * 60, 60), Window(100_000, 86_400)))
    with TraySandbox(knobs) as store:
        store.seed(products=8, orders=orders)
        registry = discover(allow=["tray_rest"])
        settings = {**store.settings, "requests_per_second": RATE}
        with registry.connect("tray_rest", settings, mappings=MAPPINGS,
                              on_wait=lambda seconds, why: None) as connection:
            connection.check()  # authorizes: not part of the import
            before = len(store.calls)
            start = time.perf_counter()
            imported = list(connection.call("receive_orders", since=None))
            elapsed = time.perf_counter() - start
            calls = len(store.calls) - before
    expected = orders + math.ceil(orders / 50)
    bound = max(expected / RATE, 3 * LATENCY)
    ratio = elapsed / bound
    yield {
        "name": "tray_rest.import_orders", "value": round(elapsed, 3), "unit": "s",
        "bound": round(bound, 3), "ratio": round(ratio, 3), "target": TARGET,
        "orders": len(imported), "calls": calls, "expected_calls": expected,
        "seconds_per_order": round(elapsed / max(1, len(imported)), 4),
        "ok": ratio <= TARGET and calls == expected and len(imported) == orders,
    }

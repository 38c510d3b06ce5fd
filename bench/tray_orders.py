"""Tray REST: importing N orders in N + ceil(N/50) calls, list pages and order fetches overlapping.

tramo lists changed orders (50 a page; the first page says how many, the
rest come concurrently) and fetches each ``/orders/:id/complete`` once,
while the listing still pages, the budget keeping it under the store's
limit. The plugin is given the store's limits (``requests_per_second`` 20,
``requests_per_minute`` 1200) and the requests in flight a host would allow
at the latency (``concurrency`` and the HTTP pool's connections). Seed
001's sequential baseline is timed with the plugin's own single read,
``get_orders`` of one id (one ``/orders/:id/complete``). See
:mod:`bench.orders_common` for the bound, the baseline and the two runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from tramo_tray_rest.sandbox import MAPPINGS, TraySandbox

from bench import orders_common as oc

PAGE = 50


def _fill(store: TraySandbox, orders: int) -> list[str]:
    store.seed(products=8, orders=orders)
    return sorted(store.data["orders"], key=int)


TRAY_REST = oc.Plugin(
    name="tray_rest", sandbox=lambda: TraySandbox(oc.knobs()), fill=_fill,
    settings=lambda store, in_flight: {**store.settings, **oc.paced(in_flight)},
    mappings=MAPPINGS)


def run(mode: str) -> Iterator[dict[str, Any]]:
    orders = oc.SIZES[mode]
    yield from oc.lines(TRAY_REST, mode, expected_calls=orders + math.ceil(orders / PAGE))

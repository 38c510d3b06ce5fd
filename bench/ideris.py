"""Ideris: importing N orders in 2 x ceil(N/50) calls, and creating M products in one protocol wait.

``ideris.import_orders`` and ``ideris.import_orders.speedup`` (the issue's
bound and seed 001's speed-up: see :mod:`bench.orders_common`). tramo lists
changed orders (``GET /ListaPedido``, 50 a page; the first says the total,
the rest come concurrently) and fetches each page's orders whole in one
``GET /Pedido?ids=`` call, so N orders cost exactly ``2 x ceil(N/50)``
calls once logged in (the login is made by a first read of one order,
outside the timing). The plugin is given the sandbox's limits
(``requests_per_second`` 20, ``requests_per_minute`` 1200) and the requests
in flight a host would allow at the latency. With Ideris' 50 orders a call
the rate never decides at these sizes: the bound is three latencies up to
150 orders (a list page, then its orders: two calls in a chain, and the
conversion of the orders), ``calls / 20`` beyond. Seed 001's sequential
baseline is timed with the plugin's own single read, ``get_orders`` of one
id (one ``GET /Pedido?ids=``).

``ideris.send_products``. ``POST /Produto`` answers a ``Protocolo``; Ideris
creates the product later (here after D = 50 platform seconds, 0.5 s at the
sandbox's default time scale of 100). Following each creation before
submitting the next would take at least ``M x D`` (the sequential baseline,
printed with its ratio). The plugin submits every new product (a SKU look-up
then the POST: two calls one after another), then follows all the protocols
together (one look at the pending list per round, then a protocol look-up and
a product look-up for each finished one: two calls). Writes are plain
functions, one call at a time, so with ``c`` the cost of one call measured on
the same connection in the same run (20 ``GET /Marketplace``, through the
plugin's ``list_sales_channels``), no run of this call pattern can beat
``max(4 x M x c, 2 x M x c + D + 2 x c)``: all the calls in a row, or the
last submission, its protocol's wait and its two confirmations. That is the
bound; the round looks and the poll's backoff (50 ms doubling to 5 s) are
what the ratio shows on top. Target: within 1.5, every product CREATED, one
POST each. At the smoke size (5 products) the submissions are short and the
backoff's overshoot past the 0.5 s protocol (its looks fall 0.35 s and 0.75 s
after the follow starts) is about 0.4 s of a 0.65 s bound: a ratio near 1.6
there, which smoke mode does not judge. The latency is 10 ms so the calls
cost what a platform's would rather than what loopback's noise does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import tramo
from tramo.registry import discover
from tramo.sandbox import Knobs
from tramo_ideris.sandbox import IDERIS_LIMITS, MAPPINGS, IderisSandbox

from bench import orders_common as oc

PAGE = 50

PRODUCT_LATENCY = 0.01
PROTOCOL_DELAY = 50.0  # platform seconds: 0.5 s at the sandbox's time scale of 100
TIME_SCALE = 100.0
CALIBRATION_CALLS = 20
PRODUCTS_TARGET = 1.5


def _fill(store: IderisSandbox, orders: int) -> list[str]:
    store.seed(products=8, orders=orders)
    return sorted(str(ident) for ident in store.data["orders"])


IDERIS = oc.Plugin(
    name="ideris", sandbox=lambda: IderisSandbox(oc.knobs()), fill=_fill,
    settings=lambda store, in_flight: {**store.settings, **oc.paced(in_flight)},
    mappings=MAPPINGS, repeats=3)


def _product(index: int) -> tramo.Product:
    return tramo.Product(code=f"BENCH-{index:04d}", name=f"Panela {index}", price=Decimal("89.90"),
                         weight_kg=Decimal("1.2"), images=[f"https://img.example.com/{index}.jpg"])


def send_products(count: int) -> dict[str, Any]:
    knobs = Knobs(latency=PRODUCT_LATENCY, time_scale=TIME_SCALE, rate_limits=IDERIS_LIMITS)
    with IderisSandbox(knobs) as store:
        store.configure_protocols(delay=PROTOCOL_DELAY)
        registry = discover(allow=["ideris"])
        with registry.connect("ideris", store.settings, mappings=MAPPINGS,
                              on_wait=oc.quiet) as connection:
            connection.check()  # logs in: not part of the send
            start = time.perf_counter()
            for _ in range(CALIBRATION_CALLS):
                connection.call("list_sales_channels")
            per_call = (time.perf_counter() - start) / CALIBRATION_CALLS
            before = len(store.calls)
            products = [_product(i) for i in range(count)]
            start = time.perf_counter()
            results = connection.call("send_products", products=products)
            elapsed = time.perf_counter() - start
            made = list(store.calls)[before:]
            held = {p.code for p in store.held_products()}
    protocol = store.duration(PROTOCOL_DELAY)
    bound = max(4 * count * per_call, 2 * count * per_call + protocol + 2 * per_call)
    sequential = count * protocol
    ratio = elapsed / bound
    created = sum(r.outcome is tramo.Outcome.CREATED for r in results)
    posts = sum(c.method == "POST" and c.path.lower() == "/produto" for c in made)
    rounds = sum(c.method == "GET" and c.path.lower() == "/protocolo" and "codigo" not in c.query
                 for c in made)
    return {
        "name": "ideris.send_products", "value": round(elapsed, 3), "unit": "s",
        "bound": round(bound, 3), "ratio": round(ratio, 3), "target": PRODUCTS_TARGET,
        "products": count, "created": created, "posts": posts, "calls": len(made),
        "follow_rounds": rounds, "per_call_s": round(per_call, 4),
        "protocol_s": round(protocol, 3), "sequential_s": round(sequential, 3),
        "ratio_to_sequential": round(elapsed / sequential, 3),
        "ok": (ratio <= PRODUCTS_TARGET and created == count and posts == count
               and held >= {p.code for p in products}),
    }


def run(mode: str) -> Iterator[dict[str, Any]]:
    yield from oc.lines(IDERIS, mode, expected_calls=2 * math.ceil(oc.SIZES[mode] / PAGE))
    yield send_products({"smoke": 5, "quick": 40, "full": 100}[mode])

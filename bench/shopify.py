"""Shopify: a catalogue sent at the pace of the shop's cost bucket, never throttled.

``shopify.send_products``. Shopify's GraphQL limit is a leaky bucket of cost
points: a query is charged its requested cost up front (the unused part comes
back when it ends) and refused as THROTTLED when the bucket holds less. The
sandbox here has a small bucket (``SIZE`` points) that refills at a restore
rate of ``RATES[mode]`` points a second, so the bucket, not the CPU, limits
the run: each ``productSet`` (two variants) costs 10 points, so 40 a second
at 400 points.

No schedule of calls can beat the bucket: with ``T`` the points every call of
the run was charged (the sandbox counts them), the last call cannot start
before ``(T - SIZE) / rate`` seconds after the first, since the bucket starts
full and only refills. That is the bound. The plugin is told the bucket's
shape (as a host would set ``bucket_size`` and ``restore_rate``, or learn it
from the first answer), draws each operation's requested cost from its
budget before sending, gives back the refund, and believes the level each
answer reports; so it waits before the bucket runs dry, and the run should
see no THROTTLED answer at all. Target: within 1.2 of the bound, every
product CREATED and held by the shop, zero throttled answers.

That the bucket sets the pace is checked in the same run: ``PROBE`` more
products then go to the same shop, its bucket made bottomless, and the points
a second the machine reaches there (``cpu_points_per_second``) are reported
beside the rate (``cpu_share``: under 1 while the bucket is the limit). The
probe comes last because the sandbox's ``productSet`` slows as the shop grows
(it scans every product for the unique ERP code, see ``unique_holder`` in
``tramo_shopify.sandbox_catalogue``): on the 2-core VM the machine pays about
900 points a second into an empty shop but about 200 into one of 5,000
products. Hence the full run's rate of 100 points a second, Shopify's own
Standard-plan figure (500 s for 5,000 products); quick and smoke use 400.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs

import tramo
from tramo.registry import discover

from tramo_shopify.sandbox import ShopifySandbox

SIZE = 100
#: the bucket's restore rate, points a second (see the docstring for the full run's)
RATES = {"smoke": 400, "quick": 400, "full": 100}
TARGET = 1.2
SIZES = {"smoke": 10, "quick": 500, "full": 5000}
#: products sent after the run, to the same shop with a bucket that never runs dry
PROBE = 100
UNBOUNDED = 10_000_000


@attrs.frozen
class Sent:
    """One catalogue sent to the shop."""

    seconds: float
    charged: int
    created: int


def _quiet(seconds: float, why: str) -> None:
    return None


def _product(index: int) -> tramo.Product:
    sizes = [tramo.Variant(sku=f"BENCH-{index:04d}-{s}",
                           attributes=[tramo.Attribute(name="Tamanho", value=s)])
             for s in ("P", "M")]
    return tramo.Product(code=f"BENCH-{index:04d}", name=f"Camiseta {index}",
                         price=Decimal("59.90"), images=[f"https://img.example.com/{index}.jpg"],
                         variants=sizes)


def _send(shop: ShopifySandbox, products: list[tramo.Product], size: int, rate: int) -> Sent:
    """``products`` to the shop, the plugin told the bucket holds ``size`` and restores ``rate``."""
    settings = {**shop.settings, "bucket_size": size, "restore_rate": rate}
    with discover(allow=["shopify"]).connect("shopify", settings, on_wait=_quiet) as connection:
        before = shop.charged
        start = time.perf_counter()
        results = connection.call("send_products", products=products)
        seconds = time.perf_counter() - start
    return Sent(seconds=seconds, charged=shop.charged - before,
                created=sum(r.outcome is tramo.Outcome.CREATED for r in results))


def send_products(count: int, rate: int) -> dict[str, Any]:
    products = [_product(i) for i in range(count)]
    with ShopifySandbox(bucket_size=SIZE, restore_rate=rate) as shop:
        run = _send(shop, products, SIZE, rate)
        throttled = shop.throttled
        all_held = {p.code for p in shop.held_products()} >= {p.code for p in products}
        shop.configure_bucket(size=UNBOUNDED, restore_rate=UNBOUNDED)
        probe = _send(shop, [_product(count + i) for i in range(min(count, PROBE))],
                      UNBOUNDED, UNBOUNDED)
    bound = max(0.0, (run.charged - SIZE) / rate)
    ratio = run.seconds / bound if bound > 0 else 0.0
    pace = probe.charged / probe.seconds if probe.seconds > 0 else 0.0
    return {
        "name": "shopify.send_products", "value": round(run.seconds, 3), "unit": "s",
        "bound": round(bound, 3), "ratio": round(ratio, 3), "target": TARGET,
        "products": count, "created": run.created, "points_charged": run.charged,
        "throttled": throttled, "bucket": SIZE, "restore_rate": rate,
        "cpu_points_per_second": round(pace),
        "cpu_share": round(rate / pace, 3) if pace else None,
        "ok": ratio <= TARGET and run.created == count and throttled == 0 and all_held,
    }


def run(mode: str) -> Iterator[dict[str, Any]]:
    yield send_products(SIZES[mode], RATES[mode])

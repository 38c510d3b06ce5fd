"""Shopify: a catalogue sent at the pace of the shop's cost bucket, never throttled.

``shopify.send_products``. Shopify's GraphQL limit is a leaky bucket of cost
points: a query is charged its requested cost up front (the unused part comes
back when it ends) and refused as THROTTLED when the bucket holds less. The
sandbox here has a small bucket (``SIZE`` points) that refills at ``RATE``
points a second, so the bucket, not the CPU, limits the run: each
``productSet`` costs 10 points, 20 of them a second at most.

No schedule of calls can beat the bucket: with ``T`` the points every call of
the run was charged (the sandbox counts them), the last call cannot start
before ``(T - SIZE) / RATE`` seconds after the first, since the bucket starts
full and only refills. That is the bound. The plugin is told the bucket's
shape (as a host would set ``bucket_size`` and ``restore_rate``, or learn it
from the first answer), draws each operation's requested cost from its
budget before sending, gives back the refund, and believes the level each
answer reports; so it waits before the bucket runs dry, and the run should
see no THROTTLED answer at all. Target: within 1.2 of the bound, every
product CREATED, zero throttled answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import tramo
from tramo.registry import discover

from tramo_shopify.sandbox import ShopifySandbox

SIZE = 100
RATE = 200
TARGET = 1.2


def _quiet(seconds: float, why: str) -> None:
    return None


def _product(index: int) -> tramo.Product:
    sizes = [tramo.Variant(sku=f"BENCH-{index:04d}-{s}", attributes=[tramo.Attribute(name="Tamanho", value=s)])
             for s in ("P", "M")]
    return tramo.Product(code=f"BENCH-{index:04d}", name=f"Camiseta {index}", price=Decimal("59.90"),
                         images=[f"https://img.example.com/{index}.jpg"], variants=sizes)


def send_products(count: int) -> dict[str, Any]:
    with ShopifySandbox(bucket_size=SIZE, restore_rate=RATE) as shop:
        registry = discover(allow=["shopify"])
        settings = {**shop.settings, "bucket_size": SIZE, "restore_rate": RATE}
        with registry.connect("shopify", settings, on_wait=_quiet) as connection:
            products = [_product(i) for i in range(count)]
            before = shop.charged
            start = time.perf_counter()
            results = connection.call("send_products", products=products)
            elapsed = time.perf_counter() - start
            charged = shop.charged - before
            throttled = shop.throttled
            held = {p.code for p in shop.held_products()}
    bound = max(0.0, (charged - SIZE) / RATE)
    created = sum(r.outcome is tramo.Outcome.CREATED for r in results)
    ratio = elapsed / bound if bound > 0 else 0.0
    return {
        "name": "shopify.send_products", "value": round(elapsed, 3), "unit": "s",
        "bound": round(bound, 3), "ratio": round(ratio, 3), "target": TARGET,
        "products": count, "created": created, "points_charged": charged, "throttled": throttled,
        "bucket": SIZE, "restore_rate": RATE,
        "ok": ratio <= TARGET and created == count and throttled == 0
              and held >= {p.code for p in products},
    }


def run(mode: str) -> Iterator[dict[str, Any]]:
    yield send_products({"smoke": 10, "quick": 100, "full": 300}[mode])

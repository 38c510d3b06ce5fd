"""Shopify: importing N orders changed since a checkpoint in ceil(N/8) GraphQL calls, cursor by cursor.

A sync's every import after the first reads the orders changed since its
checkpoint: ``orders(query: "updated_at:>...")``, 8 orders a page (a page's
requested cost stays under 1000 points), each page asked with the cursor
the last one returned, so the pages form a chain and nothing can overlap
them. The bound is the issue's ``max(calls / rate, 3 x latency)`` or, when
larger, the chain: every page's latency plus the sandbox's own work on it
(costing and executing the query over its shop, measured on the same calls,
see :func:`bench.orders_common.chain`; the figures are in ``bench/README.md``). At 50 ms
and 20 calls a second the issue's bound is the latency alone, which a chain
whose platform works on this same machine cannot reach (``issue_ratio`` is
printed with the line); the ratio to the chain is the
plugin's own share. The shop's cost bucket
is made generous (``BUCKET`` points, ``RESTORE`` a second) so latency and
rate decide, not the bucket, which ``bench.shopify`` measures on its own;
no THROTTLED answer is allowed. The first import of a shop (no checkpoint)
goes through a bulk operation instead and is not timed here.

Seed 001's sequential baseline is timed with the plugin's own single read,
``get_orders`` of one id (one ``nodes`` query), one after another before
the import, at the import's latency; see :mod:`bench.orders_common`. With 8
orders a call and every call in one chain, the speed-up cannot pass 32x
(``4 x 8``) at any latency.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import tramo
from tramo_shopify.orders import ORDER_PAGE_MAX
from tramo_shopify.sandbox import MAPPINGS, ShopifySandbox

from bench import orders_common as oc

#: the judged import's latency (the issue's 50 ms)
CHAIN_LATENCY = 0.05
BUCKET = 1_000_000
RESTORE = 100_000
SINCE = datetime(2000, 1, 1, tzinfo=UTC)  # a checkpoint before every order
SEEDED = 5  # orders the demo shop comes with


def _order(index: int, sku: str) -> tramo.Order:
    customer = tramo.Customer(name=f"Cliente {index}", email=f"cliente{index}@example.com.br")
    address = tramo.Address(street="Rua Augusta", number=str(100 + index), city="São Paulo",
                            state="SP", postal_code="01305-000", recipient=customer.name)
    item = tramo.OrderItem(sku=sku, name="Camiseta", quantity=1 + index % 3,
                           unit_price=Decimal("49.90"))
    freight = Decimal("18.50")
    total = item.total + freight
    return tramo.Order(id=f"BENCH-{index}", placed_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
                       customer=customer, items=(item,), total=total, platform_status="PAID",
                       delivery_address=address, billing_address=address,
                       shipping=tramo.Shipping(platform_method="PAC", freight=freight),
                       payments=(tramo.Payment(value=total, platform_method="mercado_pago"),))


def _fill(shop: ShopifySandbox, orders: int) -> list[str]:
    """The demo shop (its catalogue and five orders) and more orders up to ``orders``; their ids."""
    shop.seed()
    skus = sorted(v.sku for p in shop.held_products() for v in p.variants if v.sku)
    placed = [shop.place_order(_order(n, skus[n % len(skus)])) for n in range(orders - SEEDED)]
    return [gid.rsplit("/", 1)[-1] for gid in placed]


SHOPIFY = oc.Plugin(
    name="shopify", fill=_fill, mappings=MAPPINGS, since=SINCE,
    sandbox=lambda: ShopifySandbox(oc.knobs(), bucket_size=BUCKET, restore_rate=RESTORE),
    settings=lambda shop, in_flight: shop.settings, refusals=lambda shop: shop.throttled,
    repeats=3, latency=CHAIN_LATENCY)


def run(mode: str) -> Iterator[dict[str, Any]]:
    yield from oc.lines(SHOPIFY, mode, chained=True,
                        expected_calls=math.ceil(oc.SIZES[mode] / ORDER_PAGE_MAX))

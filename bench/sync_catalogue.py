"""The sync engine's catalogue deltas: N products sent, then again unchanged, then 1% changed.

``sync.catalogue.*`` runs the engine's ``products`` flow against the Tray REST
sandbox (no latency, no rate limit: this measures what the engine decides to
write, not the platform's speed). Write calls are the sandbox's non-GET calls.

- ``first``: N products without variants; the platform's write calls per product
  (Tray: one POST each) is the baseline for the next two.
- ``unchanged``: the same catalogue again; target zero write calls, and the time
  the engine spends deciding so (digests of N products against the ledger) is
  reported against the first run's.
- ``changed``: 1% of the products renamed; target write calls within 1% + 1 of
  the changed count times the first run's calls per product.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import attrs

from tramo.erp.reference import ReferenceErp
from tramo.http import HttpOptions
from tramo.model import Product
from tramo.registry import discover
from tramo.sync import Tramo
from tramo_tray_rest.sandbox import TraySandbox

SIZES = {"smoke": 20, "quick": 500, "full": 5000}


def _writes(sandbox: TraySandbox, since: int) -> int:
    return sum(1 for call in list(sandbox.calls)[since:] if call.method != "GET")


def _products(count: int) -> list[Product]:
    return [Product(code=f"B-{i:05d}", name=f"Produto de bancada {i}", price=Decimal("19.90"),
                    weight_kg=Decimal("0.250")) for i in range(count)]


def run(mode: str) -> list[dict[str, Any]]:
    count = SIZES[mode]
    products = _products(count)
    erp = ReferenceErp()
    for product in products:
        erp.put_product(product)
    with TraySandbox() as sandbox:
        engine = Tramo(erp, registry=discover(allow=["tray_rest"]))
        engine.connect("bench", "tray_rest", sandbox.settings, http=HttpOptions(),
                       on_wait=lambda seconds, why: None)
        try:
            engine.connection("bench").check()  # the token, outside the timing

            def timed() -> tuple[float, int]:
                before = len(sandbox.calls)
                started = time.perf_counter()
                report = engine.sync("bench", ["products"])
                if report.troubled:
                    raise RuntimeError(f"the bench catalogue was not taken: {report.to_json()}")
                return time.perf_counter() - started, _writes(sandbox, before)

            first_s, first_writes = timed()
            again_s, again_writes = timed()
            changed = max(1, count // 100)
            for product in products[:changed]:
                erp.put_product(attrs.evolve(product, name=product.name + " (novo)"))
            changed_s, changed_writes = timed()
        finally:
            engine.close()
    per_product = first_writes / count
    allowed = changed * per_product * 1.01 + 1
    return [
        {"name": "sync.catalogue.first", "value": first_writes, "unit": "write calls",
         "baseline": f"{count} products", "ratio": round(per_product, 3), "target": "recorded",
         "seconds": round(first_s, 3), "ok": True},
        {"name": "sync.catalogue.unchanged", "value": again_writes, "unit": "write calls",
         "baseline": f"first run {first_writes} calls in {first_s:.3f} s",
         "ratio": round(again_s / first_s, 3) if first_s else None, "target": "0 write calls",
         "seconds": round(again_s, 3), "ok": again_writes == 0},
        {"name": "sync.catalogue.changed_1pct", "value": changed_writes, "unit": "write calls",
         "bound": round(allowed, 2), "ratio": round(changed_writes / allowed, 3),
         "target": "<= 1% + 1 over the changed count", "changed": changed,
         "seconds": round(changed_s, 3), "ok": changed_writes <= allowed},
    ]

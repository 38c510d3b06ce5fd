"""``tramo demo``: every installed plugin's sandbox, one reference ERP, every flow, no network.

The demo is the whole job on loopback: each plugin's sandbox starts and is
seeded with a store's catalogue and orders; the reference ERP is seeded with
its own catalogue; then

1. a full sync per connection exports the ERP's catalogue (categories,
   products, prices, stock) and imports the stores' orders, creating their
   customers and any product the ERP lacks;
2. a buyer places an order for ERP products on each store, and a second sync
   imports it and reserves its units on the other stores;
3. the ERP works its orders (invoices, ships, cancels, delivers), and a third
   sync sends the NF-e, tracking codes, statuses, cancellations and deliveries,
   and releases the reservations; the catalogue, unchanged, is not sent again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from tramo.erp.demo_catalogue import demo_catalogue
from tramo.erp.reference import ReferenceErp
from tramo.errors import TramoError, describe
from tramo.http import HttpOptions
from tramo.model import Customer, Order, OrderItem, OrderStatus
from tramo.registry import Registry, discover
from tramo.sandbox import Sandbox
from tramo.sync.engine import Tramo
from tramo.sync.report import RunReport

__all__ = ["DemoResult", "run_demo"]


@attrs.define
class DemoResult:
    """The demo's runs, the plugins that could not take part, and the files it used."""

    report: RunReport
    plugins: list[str]
    unavailable: dict[str, str]
    folder: Path

    def to_json(self) -> dict[str, Any]:
        data = self.report.to_json()
        data["plugins"] = self.plugins
        data["unavailable"] = self.unavailable
        return data


def run_demo(*, registry: Registry | None = None, plugins: Sequence[str] | None = None,
             folder: Path | None = None, tell: Callable[[str], Any] = lambda line: None,
             progress: Any = None) -> DemoResult:
    """Run the demo; ``tell`` hears each step, ``progress`` each flow's progress."""
    registry = registry if registry is not None else discover()
    folder = folder or Path(tempfile.mkdtemp(prefix="tramo-demo-"))
    erp = ReferenceErp(folder / "erp.sqlite3")
    demo_catalogue(erp)
    engine = Tramo(erp, state=folder / "tramo-state.sqlite3", registry=registry, progress=progress)
    sandboxes: dict[str, Sandbox] = {}
    unavailable: dict[str, str] = {}
    names = [r.name for r in registry.plugins if r.ok and (plugins is None or r.name in plugins)]
    report = RunReport()
    try:
        for name in names:
            try:
                sandboxes[name] = _start(registry, name, tell)
                sandbox = sandboxes[name]
                engine.connect(name, name, sandbox.settings, mappings=dict(sandbox.profile.mappings),
                               http=HttpOptions(), on_wait=lambda seconds, why: None)
            except (TramoError, OSError) as exc:
                unavailable[name] = describe(exc)
        live = [n for n in names if n in engine.names]
        tell("1. export the catalogue, import the stores' orders")
        for name in live:
            report.extend(engine.sync(name))
        tell("2. a buyer orders ERP products on each store; import it, reserve its units elsewhere")
        for name in live:
            _place_erp_order(sandboxes[name], erp, name, unavailable)
        for name in live:
            report.extend(engine.sync(name, ["orders"]))
        for name in live:
            report.extend(engine.sync(name, ["reservations"]))
        tell("3. the ERP invoices, ships, cancels and delivers; send it all back, release reservations")
        _work_orders(erp)
        for name in live:
            report.extend(engine.sync(name))
    finally:
        engine.close()
        for sandbox in sandboxes.values():
            sandbox.stop()
    return DemoResult(report, [n for n in names if n not in unavailable], unavailable, folder)


def _start(registry: Registry, name: str, tell: Callable[[str], Any]) -> Sandbox:
    impl = registry.implementation(name, "sandbox")
    if impl is None:
        raise TramoError(f"plugin {name!r} has no sandbox")
    sandbox = impl.function()
    sandbox.start()
    seed = getattr(sandbox, "seed", None)
    if callable(seed):
        seed()
    tell(f"   {name}: sandbox on loopback, seeded")
    return sandbox


def _place_erp_order(sandbox: Sandbox, erp: ReferenceErp, name: str,
                     unavailable: dict[str, str]) -> None:
    """A buyer orders two of the ERP's products on this store."""
    place = getattr(sandbox, "place_order", None)
    if not callable(place):
        return
    skus = [level.sku for level in erp.stock() if level.quantity >= 2][:2]
    prices = {p.sku: p.list_price for p in erp.prices()}
    items = tuple(OrderItem(sku=sku, name=f"Produto {sku}", quantity=1,
                            unit_price=prices.get(sku, Decimal("10.00"))) for sku in skus)
    order = Order(id="demo", placed_at=_now(), platform_status="new",
                  customer=Customer(name="Maria da Silva", cpf="52998224725",
                                    email="maria@example.com.br"),
                  items=items, total=sum((i.unit_price for i in items), Decimal(0)))
    try:
        place(order)
    except Exception as exc:  # noqa: BLE001 - a sandbox refusing is reported, the demo goes on
        unavailable[f"{name} (buyer's order)"] = describe(exc)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _work_orders(erp: ReferenceErp) -> None:
    """The ERP's user at work, in turn: invoice; invoice and ship; cancel; invoice, ship, deliver."""
    for index, order in enumerate(erp.orders()):
        if order.status in (OrderStatus.CANCELLED, OrderStatus.DELIVERED):
            continue
        step = index % 4
        if step in (0, 1, 3):
            erp.issue_invoice(order.id)
        if step in (1, 3):
            erp.ship(order.id, code=f"BR{index:09d}BR")
        if step == 3:
            erp.deliver(order.id)
        if step == 2:
            erp.cancel(order.id, "cliente desistiu")

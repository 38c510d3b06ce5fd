"""The sync engine (:class:`tramo.sync.Tramo`) end to end: a reference ERP, the Tray sandboxes.

One ``TraySandbox`` and one ``TraySoapSandbox`` serve the module (a new store
per test, ``reset``); each test gets a fresh :class:`ReferenceErp` with the
demo catalogue (4 products) and a ``Tramo`` on a state file of its own, with
the connection ``loja`` to the Tray REST store. Everything runs on loopback;
no assertion depends on timing, and every loop is bounded.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

import tramo
from tramo.erp.demo_catalogue import demo_catalogue
from tramo.erp.reference import ReferenceErp
from tramo.model import (
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    StatusUpdate,
    StockLevel,
)
from tramo.sync import Busy
from tramo.sync.engine import FLOW_NAMES, Tramo
from tramo.sync.report import FlowReport, RunReport
from tramo.testing.kit import KIT_HTTP, connect_to
from tramo_tray_rest.sandbox import TraySandbox
from tramo_tray_rest.sandbox_records import parse_moment
from tramo_tray_soap.sandbox import TraySoapSandbox

PLUGINS = ["tray_rest", "tray_soap"]
NAME = "loja"
CPF = "52998224725"


class Crash(BaseException):
    """A process killed mid-run (like KeyboardInterrupt: no ``except Exception`` stops it)."""


# -- the stores, the ERP, the engines ----------------------------------------------------------


@pytest.fixture(scope="module")
def rest_store() -> Iterator[TraySandbox]:
    with TraySandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def soap_store() -> Iterator[TraySoapSandbox]:
    with TraySoapSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def rest(rest_store: TraySandbox) -> Iterator[TraySandbox]:
    rest_store.reset()
    yield rest_store
    assert rest_store.errors == []


@pytest.fixture
def soap(soap_store: TraySoapSandbox) -> Iterator[TraySoapSandbox]:
    soap_store.reset()
    yield soap_store
    assert soap_store.errors == []


@pytest.fixture
def erp() -> Iterator[ReferenceErp]:
    found = ReferenceErp()
    demo_catalogue(found, products=4)
    yield found
    found.close()


Make = Callable[..., Tramo]


@pytest.fixture
def make(erp: ReferenceErp, rest: TraySandbox, tmp_path: Path) -> Iterator[Make]:
    """``make()``: a new Tramo on the test's state file, ``loja`` connected to the REST store.

    Several engines made in one test share the state file, as two processes would.
    """
    made: list[Tramo] = []

    def make_engine(*, mappings: Mapping[str, Any] | None = None,
                    flows: Sequence[str] | None = None, on: ReferenceErp | None = None) -> Tramo:
        engine = Tramo(on if on is not None else erp, state=tmp_path / "state.sqlite3",
                       registry=tramo.discover(allow=PLUGINS))
        made.append(engine)
        engine.connect(NAME, "tray_rest", rest.settings,
                       mappings=dict(rest.profile.mappings if mappings is None else mappings),
                       flows=flows, http=KIT_HTTP, on_wait=lambda s, w: None)
        return engine

    yield make_engine
    for engine in made:  # not engine.close(): that closes the ERP, which the test's fixture owns
        for name in engine.names:
            engine.connection(name).close()
        engine.state.close()


@pytest.fixture
def engine(make: Make) -> Tramo:
    return make()


def connect_soap(engine: Tramo, soap: TraySoapSandbox, name: str = "soap", **options: Any) -> None:
    engine.connect(name, "tray_soap", soap.settings, mappings=dict(soap.profile.mappings),
                   http=KIT_HTTP, on_wait=lambda s, w: None, **options)


# -- small helpers -------------------------------------------------------------------------------


def flow(report: RunReport, name: str, connection: str = NAME) -> FlowReport:
    return report.of(connection, name)


def codes(products: Sequence[Any]) -> set[str]:
    return {p.code for p in products}


def erp_stock(erp: ReferenceErp) -> dict[str, int]:
    return {level.sku: level.quantity for level in erp.stock()}


def erp_id(engine: Tramo, remote: str, connection: str = NAME) -> str:
    record = engine.ledger.by_remote(connection, "order", remote)
    assert record is not None, f"platform order {remote} was not imported"
    return record.local_id


def buyer_order(erp: ReferenceErp, sku: str, quantity: int = 1) -> Order:
    """A buyer's order for one of the ERP's SKUs, as a store takes it."""
    price = {p.sku: p.list_price for p in erp.prices()}[sku]
    item = OrderItem(sku=sku, name=f"Produto {sku}", quantity=quantity, unit_price=price)
    return Order(id="novo", placed_at=datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc),
                 platform_status="1",
                 customer=Customer(name="Maria da Silva", cpf=CPF, email="maria@example.com.br"),
                 items=(item,), total=price * quantity)


def no_writes(sandbox: TraySandbox) -> list[Any]:
    """The calls that could have changed the store (the token exchange aside)."""
    return [c for c in sandbox.calls
            if c.method in ("PUT", "DELETE", "PATCH") or (c.method == "POST" and not c.path.endswith("/auth"))]


def fail_once(ledger: Any, resource: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make ``ledger.remember`` die (``Crash``) the first time it records ``resource``."""
    original = ledger.remember
    crashed: list[str] = []

    def remember(connection: str, kind: str, local_id: str, *args: Any, **kwargs: Any) -> None:
        if kind == resource and not crashed:
            crashed.append(local_id)
            raise Crash(f"killed while recording {kind} {local_id}")
        original(connection, kind, local_id, *args, **kwargs)

    monkeypatch.setattr(ledger, "remember", remember)
    return crashed


# -- 1. the catalogue ---------------------------------------------------------------------------


def test_full_sync_exports_the_catalogue_once_and_then_only_what_changed(
        engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    first = engine.sync(NAME)

    assert not first.troubled, first.to_json()
    assert set(flow(first, "categories").sent) == {c.id for c in erp.categories()}
    assert set(flow(first, "products").sent) == codes(erp.products())
    assert set(flow(first, "prices").sent) == {p.sku for p in erp.prices()}
    assert set(flow(first, "stock").sent) == set(erp_stock(erp))
    assert codes(rest.held_products()) == codes(erp.products())
    assert rest.held_stock() == erp_stock(erp)
    held_prices = rest.held_prices()
    assert {sku: p.list_price for sku, p in held_prices.items()} == \
        {p.sku: p.list_price for p in erp.prices()}
    assert sorted(c["name"] for c in rest.data["categories"].values()) == \
        sorted(c.name for c in erp.categories())

    second = engine.sync(NAME)
    assert second.totals(NAME)["sent"] == 0, second.to_json()
    assert second.totals(NAME)["unchanged"] > 0
    assert not second.troubled

    sku, quantity = sorted(erp_stock(erp).items())[0]
    erp.put_stock(StockLevel(sku=sku, quantity=quantity + 5))
    third = engine.sync(NAME)
    assert third.totals(NAME)["sent"] == 1, third.to_json()
    assert flow(third, "stock").sent == [sku]
    assert rest.held_stock()[sku] == quantity + 5
    assert rest.held_stock() == erp_stock(erp)


# -- 2. orders in ------------------------------------------------------------------------------


def test_store_orders_are_imported_once_with_their_customers(
        engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    rest.seed(products=3, orders=3)
    platform_ids = sorted(rest.data["orders"], key=int)
    newest = max(parse_moment(o["modified"]) for o in rest.data["orders"].values())

    first = engine.sync(NAME)

    assert sorted(flow(first, "orders").received, key=int) == platform_ids
    orders = erp.orders()
    assert len(orders) == len(platform_ids)
    assert {erp_id(engine, p) for p in platform_ids} == {o.id for o in orders}
    customers = erp.customers()
    assert customers
    for order in orders:
        assert order.customer.name in {c.name for c in customers}
    checkpoint = engine.ledger.checkpoint(NAME, "orders")
    assert checkpoint is not None and datetime.fromisoformat(checkpoint) == newest

    second = engine.sync(NAME)
    assert flow(second, "orders").received == []
    assert flow(second, "orders").unchanged == len(platform_ids)
    assert len(erp.orders()) == len(platform_ids)

    changed = platform_ids[0]
    before = engine.ledger.by_remote(NAME, "order", changed)
    rest.change_order(changed)
    moved = parse_moment(rest.data["orders"][changed]["modified"])
    third = engine.sync(NAME)
    after = engine.ledger.by_remote(NAME, "order", changed)
    assert before is not None and after is not None
    assert after.local_id == before.local_id
    assert after.digest != before.digest  # read again at its new change time
    assert changed not in flow(third, "orders").received  # its status did not move
    assert len(erp.orders()) == len(platform_ids)
    assert len(erp.customers()) == len(customers)
    assert datetime.fromisoformat(engine.ledger.checkpoint(NAME, "orders") or "") == moved


# -- 3. overlap and dedupe ----------------------------------------------------------------------


def test_a_checkpoint_set_back_reads_again_and_imports_nothing_new(
        engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    rest.seed(products=3, orders=3)
    engine.sync(NAME)
    newest = engine.ledger.checkpoint(NAME, "orders")
    assert newest is not None
    count = len(erp.orders())

    old = (datetime.fromisoformat(newest) - timedelta(days=1)).isoformat()
    engine.ledger.advance(NAME, "orders", old)
    report = engine.sync(NAME, ["orders"])

    orders = flow(report, "orders")
    assert orders.received == []
    assert orders.unchanged == count  # every order read again, each recognised
    assert len(erp.orders()) == count
    assert engine.ledger.checkpoint(NAME, "orders") == newest


def test_the_orders_checkpoint_moves_by_time_whatever_its_offset(
        engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    rest.seed(products=3, orders=3)
    engine.sync(NAME)
    newest = engine.ledger.checkpoint(NAME, "orders")
    assert newest is not None

    # an hour earlier, written in UTC: "...T11:00:24+00:00" is before "...T09:00:24-03:00"
    old = (datetime.fromisoformat(newest) - timedelta(hours=1)).astimezone(timezone.utc)
    engine.ledger.advance(NAME, "orders", old.isoformat())
    engine.sync(NAME, ["orders"])

    moved = engine.ledger.checkpoint(NAME, "orders")
    assert moved is not None
    assert datetime.fromisoformat(moved) == datetime.fromisoformat(newest)


# -- 4. invoices out ------------------------------------------------------------------------


def test_an_issued_invoice_is_sent_once(engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    rest.seed(products=3, orders=3)
    engine.sync(NAME)
    remote = sorted(rest.data["orders"], key=int)[1]
    invoice = erp.issue_invoice(erp_id(engine, remote))

    first = engine.sync(NAME)
    assert flow(first, "invoices").sent == [invoice.access_key]
    assert rest.held_invoices()[remote] == [invoice.access_key]

    second = engine.sync(NAME)
    assert flow(second, "invoices").sent == []
    assert flow(second, "invoices").unchanged == 1
    assert rest.held_invoices()[remote] == [invoice.access_key]


# -- 5. trackings need "shipped" mapped ---------------------------------------------------------


def test_a_tracking_is_held_until_shipped_is_mapped_then_sent(
        make: Make, erp: ReferenceErp, rest: TraySandbox) -> None:
    full = dict(rest.profile.mappings)
    lacking = {**full, "status": {k: v for k, v in full["status"].items() if v != "shipped"}}
    engine = make(mappings=lacking)
    rest.seed(products=3, orders=3)
    engine.sync(NAME)
    remote = sorted(rest.data["orders"], key=int)[1]
    order_id = erp_id(engine, remote)
    tracking = erp.ship(order_id, code="BR123456789BR")
    item = f"{order_id}:{tracking.code}"

    held = engine.sync(NAME)
    trackings = flow(held, "trackings")
    assert trackings.sent == []
    assert [i for i, _ in trackings.held] == [item]
    assert "MappingError" in trackings.held[0][1] and "shipped" in trackings.held[0][1]
    assert held.troubled
    status = {h["item_id"]: h for h in engine.status()[0]["held"] if h["flow"] == "trackings"}
    assert status[item]["error"] == "MappingError"
    assert "shipped" in status[item]["reason"]
    assert remote not in rest.held_trackings()

    again = make(mappings=full)  # the host adds the mapping and restarts
    sent = again.sync(NAME)
    assert flow(sent, "trackings").sent == [item]
    assert rest.held_trackings()[remote] == [tracking.code]
    assert [h for h in again.ledger.held(NAME) if h.flow == "trackings"] == []
    assert flow(again.sync(NAME), "trackings").sent == []


# -- 6. and 7. crashes ----------------------------------------------------------------------


def test_a_crash_after_the_platform_write_is_recovered_without_a_second_invoice(
        make: Make, erp: ReferenceErp, rest: TraySandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make()
    rest.seed(products=3, orders=3)
    engine.sync(NAME)
    remote = sorted(rest.data["orders"], key=int)[1]
    invoice = erp.issue_invoice(erp_id(engine, remote))
    crashed = fail_once(engine.ledger, "invoice", monkeypatch)

    with pytest.raises(Crash):
        engine.sync(NAME)
    assert crashed == [invoice.access_key]
    assert rest.held_invoices()[remote] == [invoice.access_key]  # the platform has it already

    restarted = make()
    report = restarted.sync(NAME)
    invoices = flow(report, "invoices")
    assert invoices.recovered == [invoice.access_key]
    assert invoices.failed == [] and invoices.held == []
    assert rest.held_invoices()[remote] == [invoice.access_key]  # exactly once
    assert restarted.ledger.in_doubt(NAME) == []
    assert flow(restarted.sync(NAME), "invoices").recovered == []


def test_a_crash_after_the_erp_saved_an_order_leaves_one_erp_order_per_store_order(
        make: Make, erp: ReferenceErp, rest: TraySandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make()
    rest.seed(products=3, orders=3)
    platform_ids = sorted(rest.data["orders"], key=int)
    crashed = fail_once(engine.ledger, "order", monkeypatch)

    with pytest.raises(Crash):
        engine.sync(NAME)
    assert len(crashed) == 1
    assert len(erp.orders()) == 1  # the ERP saved it; tramo never recorded it

    restarted = make()
    report = restarted.sync(NAME)
    assert sorted(flow(report, "orders").received, key=int) == platform_ids
    orders = erp.orders()
    assert len(orders) == len(platform_ids)
    assert sorted(erp_id(restarted, p) for p in platform_ids) == sorted(o.id for o in orders)
    assert restarted.ledger.in_doubt(NAME) == []
    assert flow(restarted.sync(NAME), "orders").received == []
    assert len(erp.orders()) == len(platform_ids)


def test_a_write_in_doubt_is_settled_even_when_the_item_changed_before_the_retry(
        make: Make, erp: ReferenceErp, rest: TraySandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make()
    engine.sync(NAME)
    sku, quantity = sorted(erp_stock(erp).items())[0]
    erp.put_stock(StockLevel(sku=sku, quantity=quantity + 1))
    fail_once(engine.ledger, "stock", monkeypatch)
    with pytest.raises(Crash):
        engine.sync(NAME, ["stock"])
    erp.put_stock(StockLevel(sku=sku, quantity=quantity + 2))  # changed again before the restart

    restarted = make()
    retried = restarted.sync(NAME, ["stock"])
    assert flow(retried, "stock").recovered == [sku]
    assert flow(retried, "stock").sent == [sku]
    assert rest.held_stock()[sku] == quantity + 2

    later = restarted.sync(NAME, ["stock"])
    assert flow(later, "stock").recovered == []
    assert restarted.status()[0]["pending"] == []


# -- 8. the lock ----------------------------------------------------------------------------


def test_a_run_holding_the_lock_makes_another_skip_every_flow(
        make: Make, rest: TraySandbox) -> None:
    engine = make()
    other = make()  # another process on the same state file
    lock = engine.ledger.lock(NAME)
    lock.__enter__()
    try:
        report = other.sync(NAME)
        assert [f.flow for f in report] == list(FLOW_NAMES)
        for flow_report in report:
            assert flow_report.status == "skipped"
            assert flow_report.reason is not None and "another run" in flow_report.reason
        assert rest.held_products() == []
        assert no_writes(rest) == []
    finally:
        lock.__exit__(None, None, None)

    after = other.sync(NAME)
    assert {f.status for f in after} == {"ran"}
    assert codes(rest.held_products())


def test_a_lock_left_by_a_process_that_is_gone_is_taken_over_at_once(make: Make) -> None:
    engine = make()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    owner = f"{socket.gethostname()}:{dead.pid}:left-by-a-killed-run"
    engine.ledger.store.execute(
        "INSERT INTO sync_locks (connection, stream, owner, expires_at) VALUES (?, ?, ?, ?)",
        (NAME, "sync", owner, time.time() + 900))
    with engine.ledger.lock(NAME) as taken:
        assert taken != owner


def test_a_lock_of_a_live_process_or_another_machine_waits_for_its_expiry(make: Make) -> None:
    engine = make()
    for owner in (f"{socket.gethostname()}:{os.getppid()}:alive", "other-host:1:elsewhere",
                  "written-before-owners-named-their-process"):
        engine.ledger.store.execute(
            "INSERT INTO sync_locks (connection, stream, owner, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (connection, stream) DO UPDATE SET owner = excluded.owner",
            (NAME, "sync", owner, time.time() + 900))
        with pytest.raises(Busy):
            with engine.ledger.lock(NAME):
                pass


# -- 9. capabilities and configured flows -------------------------------------------------------


def test_flows_the_connection_cannot_run_or_was_not_given_are_skipped_with_the_reason(
        make: Make, erp: ReferenceErp, rest: TraySandbox, soap: TraySoapSandbox) -> None:
    engine = make(flows=["categories", "products"])
    connect_soap(engine, soap)

    report = engine.sync("soap")
    plan = dict(engine.plan("soap"))
    for name, capability in (("categories", "map_categories"), ("prices", "send_prices")):
        skipped = flow(report, name, "soap")
        assert skipped.status == "skipped"
        assert skipped.reason is not None and capability in skipped.reason
        assert plan[name] == skipped.reason
    assert flow(report, "products", "soap").status == "ran"
    assert plan["products"] is None
    assert codes(soap.held_products()) == codes(erp.products())

    limited = engine.sync(NAME)
    plan = dict(engine.plan(NAME))
    for flow_report in limited:
        if flow_report.flow in ("categories", "products"):
            assert flow_report.status == "ran"
            assert plan[flow_report.flow] is None
        else:
            assert flow_report.status == "skipped", flow_report
            assert flow_report.reason is not None and "not among the flows" in flow_report.reason
            assert plan[flow_report.flow] == flow_report.reason
    assert codes(rest.held_products()) == codes(erp.products())
    assert rest.held_stock() == {sku: 0 for sku in erp_stock(erp)}  # stock was not sent


# -- 10. dry run ------------------------------------------------------------------------------


def test_a_dry_run_plans_everything_and_writes_nothing(
        engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    placed = rest.place_order(buyer_order(erp, sorted(erp_stock(erp))[0]))

    dry = engine.sync(NAME, dry_run=True)

    assert dry.dry_run
    assert set(flow(dry, "categories").planned) == {c.id for c in erp.categories()}
    assert set(flow(dry, "products").planned) == codes(erp.products())
    assert set(flow(dry, "prices").planned) == {p.sku for p in erp.prices()}
    assert set(flow(dry, "stock").planned) == set(erp_stock(erp))
    assert flow(dry, "orders").planned == [placed]
    assert dry.totals(NAME)["sent"] == 0 and dry.totals(NAME)["received"] == 0
    # the platform
    assert rest.held_products() == []
    assert rest.held_stock() == {}
    assert rest.data["categories"] == {}
    assert no_writes(rest) == []
    # the ledger and the ERP
    ledger = engine.ledger
    for resource in ("category", "product", "price", "stock", "order", "status"):
        assert ledger.records(resource) == [], resource
    assert ledger.checkpoints(NAME) == {}
    assert ledger.in_doubt(NAME) == []
    assert ledger.held(NAME) == []
    assert ledger.events(NAME) == []
    assert erp.orders() == []

    real = engine.sync(NAME)
    for name in ("categories", "products", "prices", "stock"):
        assert sorted(flow(real, name).sent) == sorted(flow(dry, name).planned), name
    assert flow(real, "orders").received == [placed]
    assert codes(rest.held_products()) == codes(erp.products())


# -- 11. reservations across connections ---------------------------------------------------------


def _reserved_on(store: TraySandbox | TraySoapSandbox) -> dict[str, int]:
    """Reservation id to quantity where the store keeps them (Tray REST keeps none: the
    plugin does, and lowers the store's stock; see StockReservation in its Profile)."""
    view = getattr(store, "held_reservations", None)
    return view() if callable(view) else {}


@pytest.mark.parametrize("origin", ["soap", NAME], ids=["soap-to-rest", "rest-to-soap"])
def test_an_order_from_one_store_reserves_its_units_on_the_other_until_the_erp_moves_it(
        origin: str, engine: Tramo, erp: ReferenceErp, rest: TraySandbox,
        soap: TraySoapSandbox) -> None:
    connect_soap(engine, soap)
    stores: dict[str, TraySandbox | TraySoapSandbox] = {NAME: rest, "soap": soap}
    target = "soap" if origin == NAME else NAME
    for name in (NAME, "soap"):
        assert not engine.sync(name).troubled
    full = stores[target].held_stock()
    skus = [sku for sku, quantity in sorted(erp_stock(erp).items()) if quantity >= 3][:2]
    assert len(skus) == 2
    placed = [stores[origin].place_order(buyer_order(erp, sku, quantity=2)) for sku in skus]

    imported = engine.sync(origin, ["orders"])
    assert sorted(flow(imported, "orders", origin).received) == sorted(placed)
    order_ids = [erp_id(engine, p, origin) for p in placed]
    idents = [f"{order_id}-1" for order_id in order_ids]

    reserved = engine.sync(target, ["reservations"])
    assert sorted(flow(reserved, "reservations", target).sent) == sorted(idents)
    stock = stores[target].held_stock()
    for sku in skus:
        assert stock[sku] == full[sku] - 2
    if target == "soap":
        assert _reserved_on(soap) == {ident: 2 for ident in idents}
    assert {r.local_id for _, r in engine.ledger.records("reservation", target)} == set(idents)
    assert flow(engine.sync(target, ["reservations"]), "reservations", target).sent == []

    erp.issue_invoice(order_ids[0])
    erp.cancel(order_ids[1], "cliente desistiu")
    released = engine.sync(target, ["reservations"])
    assert sorted(flow(released, "reservations", target).sent) == sorted(f"release {i}" for i in idents)
    assert stores[target].held_stock() == full
    assert _reserved_on(stores[target]) == {}
    assert engine.ledger.records("reservation", target) == []


def test_connections_of_one_store_do_not_reserve_each_others_orders(
        erp: ReferenceErp, rest: TraySandbox, soap: TraySoapSandbox, tmp_path: Any) -> None:
    # two modalities of one store (store key "loja"): its own order already holds the stock
    engine = Tramo(erp, state=tmp_path / "one-store.sqlite3",
                   registry=tramo.discover(allow=["tray_rest", "tray_soap"]))
    try:
        engine.connect(NAME, "tray_rest", rest.settings, mappings=dict(rest.profile.mappings),
                       http=KIT_HTTP, on_wait=lambda s, w: None, store_key="loja")
        connect_soap(engine, soap, store_key="loja")
        for name in (NAME, "soap"):
            assert not engine.sync(name).troubled
        sku = [s for s, q in sorted(erp_stock(erp).items()) if q >= 3][0]
        soap.place_order(buyer_order(erp, sku, quantity=2))
        assert engine.sync("soap", ["orders"]).of("soap", "orders").received
        reserved = engine.sync(NAME, ["reservations"])
        assert reserved.of(NAME, "reservations").sent == []
        assert engine.ledger.records("reservation", NAME) == []
    finally:
        engine.close()


# -- 12. statuses both ways ------------------------------------------------------------------


def test_statuses_go_both_ways_without_echo(
        engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    rest.seed(products=3, orders=3)
    engine.sync(NAME)
    first, second = sorted(rest.data["orders"], key=int)[1:3]

    # the store moves an order (the seller, through the API: another connection)
    seller = connect_to(rest, engine.registry, "tray_rest")
    try:
        [result] = seller.call("sync_status", updates=[
            StatusUpdate(order_id=first, status=OrderStatus.READY_TO_SHIP)])
    finally:
        seller.close()
    assert result.ok
    inbound = engine.sync(NAME)
    assert first in flow(inbound, "orders").received
    assert erp.order(erp_id(engine, first)).status is OrderStatus.READY_TO_SHIP
    assert flow(inbound, "statuses").sent == []  # not sent back to the store
    quiet = engine.sync(NAME)
    assert quiet.totals(NAME)["sent"] == 0 and quiet.totals(NAME)["received"] == 0

    # the ERP moves an order
    order_id = erp_id(engine, second)
    erp.set_status(order_id, OrderStatus.SHIPPED)
    outbound = engine.sync(NAME)
    assert flow(outbound, "statuses").sent == [order_id]
    assert rest.held_status(second) == _platform_status(rest, OrderStatus.SHIPPED)
    echo = engine.sync(NAME)
    assert echo.totals(NAME)["sent"] == 0 and echo.totals(NAME)["received"] == 0
    assert erp.order(order_id).status is OrderStatus.SHIPPED
    assert erp.order(erp_id(engine, first)).status is OrderStatus.READY_TO_SHIP


def _platform_status(store: TraySandbox, status: OrderStatus) -> str:
    [found] = [k for k, v in store.profile.mappings["status"].items() if v == status.value]
    return found


# -- 13. bad ERP data --------------------------------------------------------------------------


def test_a_product_the_store_refuses_is_held_with_its_field_and_the_rest_goes_on(
        engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    bad = erp.products()[0]
    too_long = "Camiseta " + "G" * 200  # Tray takes names of up to 200 characters
    erp.put_product(attrs.evolve(bad, name=too_long))
    others = codes(erp.products()) - {bad.code}

    report = engine.sync(NAME)

    products = flow(report, "products")
    assert set(products.sent) == others
    assert [i for i, _ in products.held] == [bad.code]
    reason = products.held[0][1]
    assert reason.startswith("ValidationError")
    assert "Product.name" in reason and too_long[:20] in reason
    assert report.troubled
    [kept] = [h for h in engine.status()[0]["held"] if h["flow"] == "products"]
    assert (kept["item_id"], kept["error"]) == (bad.code, "ValidationError")
    assert "Product.name" in kept["reason"]
    assert codes(rest.held_products()) == others
    # its SKUs' price and stock wait for it, naming it; the others' are sent
    bad_skus = set(bad.skus)
    for name in ("prices", "stock"):
        assert {i for i, _ in flow(report, name).held} == bad_skus
        assert all(bad.code in r for _, r in flow(report, name).held)
        assert set(flow(report, name).sent) == set(erp_stock(erp)) - bad_skus
    assert rest.held_stock() == {k: v for k, v in erp_stock(erp).items() if k not in bad_skus}


# -- 14. an async ERP -----------------------------------------------------------------------


class AsyncErp(ReferenceErp):
    """The reference ERP with ``orders`` and ``save_order`` as coroutines (an asyncio host's)."""

    def __init__(self) -> None:
        super().__init__()
        self.awaited: list[str] = []

    async def orders(self) -> list[Order]:  # type: ignore[override]
        await asyncio.sleep(0)
        self.awaited.append("orders")
        return super().orders()

    async def save_order(self, order: Order, *, customer_id: str, key: str) -> str:  # type: ignore[override]
        await asyncio.sleep(0)
        self.awaited.append("save_order")
        return super().save_order(order, customer_id=customer_id, key=key)


def test_async_sync_runs_an_erp_with_async_methods(make: Make, rest: TraySandbox) -> None:
    erp = AsyncErp()
    try:
        demo_catalogue(erp, products=4)
        engine = make(on=erp)
        rest.seed(products=3, orders=3)
        platform_ids = sorted(rest.data["orders"], key=int)

        report = asyncio.run(engine.async_sync(NAME))

        assert not report.troubled, report.to_json()
        assert sorted(flow(report, "orders").received, key=int) == platform_ids
        assert erp.awaited.count("save_order") == len(platform_ids)
        assert "orders" in erp.awaited
        assert len(ReferenceErp.orders(erp)) == len(platform_ids)
        again = asyncio.run(engine.async_sync(NAME))
        assert again.totals(NAME)["sent"] == 0 and again.totals(NAME)["received"] == 0
    finally:
        erp.close()


# -- 15. webhook and polling share dedupe -----------------------------------------------------------


def test_an_import_by_id_and_polling_never_import_one_order_twice(
        engine: Tramo, erp: ReferenceErp, rest: TraySandbox) -> None:
    rest.seed(products=3, orders=3)
    engine.sync(NAME)
    count = len(erp.orders())

    known = sorted(rest.data["orders"], key=int)[0]
    by_id = engine.import_orders(NAME, [known])
    assert flow(by_id, "orders").received == []
    assert flow(by_id, "orders").unchanged == 1
    assert len(erp.orders()) == count

    # the other way round: a notification first, then the poll
    placed = rest.place_order(buyer_order(erp, sorted(erp_stock(erp))[0]))
    notified = engine.import_orders(NAME, [placed])
    assert flow(notified, "orders").received == [placed]
    polled = engine.sync(NAME, ["orders"])
    assert flow(polled, "orders").received == []
    assert len(erp.orders()) == count + 1

"""The conformance properties every tramo plugin is held to, against its own sandbox.

Run them with ``tramo conformance NAME`` (or ``pytest --tramo-conformance NAME
--pyargs tramo.testing.suite``). Each property runs when the plugin declares
the capabilities it needs; the ones it does not declare must be refused by
the core, which :func:`test_undeclared_capabilities_are_refused_by_the_core`
checks. A property the platform cannot have is opted out in the sandbox's
``Profile.opt_out`` with a written reason, printed in the report.
"""

from __future__ import annotations

import contextlib
import logging
from decimal import Decimal
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tramo.errors import CapabilityNotSupported, MappingError, TramoError, ValidationError
from tramo.model import (
    Category,
    Held,
    Order,
    OrderStatus,
    Outcome,
    Product,
    StatusUpdate,
    StockLevel,
    StockReservation,
    WriteResult,
)
from tramo.sandbox import Fault
from tramo.testing import strategies as s
from tramo.testing.kit import Kit, ok, project, skus_of

FAR_FUTURE = datetime(2999, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def the_sandbox_handled_every_request(kit: Kit) -> Iterator[None]:
    """A request the sandbox crashed on looks like a 5xx to the plugin: that is a sandbox bug."""
    yield
    errors = list(getattr(kit.sandbox, "errors", ()))
    assert not errors, f"the sandbox failed while handling a request: {errors[0]!r}"


def needs(kit: Kit, prop: str, *capabilities: str) -> None:
    """Skip, saying why, when the plugin opted out or lacks a capability the property needs."""
    reason = kit.opted_out(prop)
    if reason:
        pytest.skip(f"opted out: {reason}")
    missing = [c for c in capabilities if not kit.has(c)]
    if missing:
        pytest.skip(f"not declared: {', '.join(missing)}")


def _names(product: Product) -> set[str]:
    """The codes a product takes on a platform: its code and every SKU it is sold under."""
    return {product.code, *skus_of(product)}


def products_for_sale(max_size: int = 3) -> st.SearchStrategy[list[Product]]:
    """Products whose codes and SKUs are all distinct across the list.

    Many platforms keep product codes and SKUs in one namespace (Tray's
    ``reference``), so no product's code is another's SKU.
    """
    return st.lists(s.products(), min_size=1, max_size=max_size, unique_by=lambda p: p.code).filter(
        lambda ps: len(set().union(*(_names(p) for p in ps))) == sum(len(_names(p)) for p in ps))


def map_their_categories(kit: Kit, connection: Any, products: Sequence[Product]) -> None:
    """Map the products' categories first where the plugin maps categories.

    A product's categories are ERP ids; a plugin that maps categories may
    refuse a product whose categories it has not mapped yet.
    """
    ids = sorted({c for p in products for c in p.categories})
    if ids and kit.has("map_categories"):
        results = connection.call("map_categories",
                                  categories=[Category(id=i, name=f"Categoria {i}") for i in ids])
        assert all(ok(r) for r in results), results


def seed(kit: Kit, products: Sequence[Product]) -> list[Product]:
    """Put ``products`` on the platform; the ones it took come back."""
    with kit.connect() as connection:
        map_their_categories(kit, connection, products)
        results = connection.call("send_products", products=list(products))
    return [p for p, r in zip(products, results) if ok(r)]


def read_all(connection: Any, since: Any = None) -> list[Order]:
    found = list(connection.call("receive_orders", since=since))
    held = [h for h in found if isinstance(h, Held)]
    assert not held, f"orders held while reading the sandbox's own orders: {held}"
    return found


def only_validation_failures(results: Sequence[WriteResult]) -> None:
    for result in results:
        assert ok(result) or isinstance(result.error, ValidationError), (
            f"{result.local_id}: {result.outcome} {result.error!r}")


# -- what is not declared --------------------------------------------------------

EMPTY_ARGUMENTS: dict[str, Any] = {"since": None, "headers": {}, "body": b"", "ids": []}


def test_undeclared_capabilities_are_refused_by_the_core(kit: Kit) -> None:
    with kit.connect() as connection:
        for capability in kit.undeclared():
            arguments = {name: EMPTY_ARGUMENTS.get(name, [])
                         for name in kit.registry.hook_argnames(capability) if name != "connection"}
            with pytest.raises(CapabilityNotSupported) as caught:
                connection.call(capability, **arguments)
            assert caught.value.capability == capability
        for capability in kit.capabilities:
            assert connection.supports(capability)


# -- catalogue ------------------------------------------------------------------------

@given(products=products_for_sale())
def test_what_send_products_sends_the_platform_holds(kit: Kit, products: list[Product]) -> None:
    needs(kit, "products_round_trip", "send_products")
    kit.reset()
    with kit.connect() as connection:
        map_their_categories(kit, connection, products)
        results = connection.call("send_products", products=products)
        only_validation_failures(results)
        taken = [p for p, r in zip(products, results) if ok(r)]
        if kit.has("receive_products"):
            held = {p.code: p for p in connection.call("receive_products") if isinstance(p, Product)}
        else:
            held = {p.code: p for p in kit.platform.held_products()}
    kept = kit.profile.kept
    for product in taken:
        assert product.code in held, f"product {product.code!r} reported done but not held"
        assert project(held[product.code], kept) == project(product, kept)


@given(products=products_for_sale())
def test_sending_products_twice_changes_nothing(kit: Kit, products: list[Product]) -> None:
    needs(kit, "products_idempotent", "send_products")
    kit.reset()
    with kit.connect() as connection:
        map_their_categories(kit, connection, products)
        first = connection.call("send_products", products=products)
        before = sorted(project(kit.platform.held_products(), {}), key=repr)
        second = connection.call("send_products", products=products)
    after = sorted(project(kit.platform.held_products(), {}), key=repr)
    assert after == before
    codes = [p.code for p in kit.platform.held_products()]
    assert len(codes) == len(set(codes)), f"duplicates: {codes}"
    for one, two in zip(first, second):
        assert ok(one) == ok(two)
        assert two.outcome is not Outcome.CREATED or not ok(one), f"{two.local_id} created twice"


@given(categories=st.lists(s.categories(), min_size=1, max_size=5, unique_by=lambda c: c.id))
def test_map_categories_is_total_and_stable(kit: Kit, categories: list[Category]) -> None:
    needs(kit, "categories_total_and_stable", "map_categories")
    kit.reset()
    known = {c.id for c in categories}
    categories = [attrs.evolve(c, parent_id=None) if c.parent_id not in known else c
                  for c in categories]
    with kit.connect() as connection:
        first = connection.call("map_categories", categories=categories)
        second = connection.call("map_categories", categories=categories)
    assert [r.local_id for r in first] == [c.id for c in categories]
    assert all(ok(r) and r.remote_id for r in first), first
    assert [r.remote_id for r in second] == [r.remote_id for r in first]


# -- stock and prices -----------------------------------------------------------------

@given(products=products_for_sale(2), data=st.data())
def test_stock_sent_is_the_stock_held_and_sending_it_again_changes_nothing(
        kit: Kit, products: list[Product], data: st.DataObject) -> None:
    needs(kit, "stock_round_trip", "send_stock", "send_products")
    kit.reset()
    skus = [sku for p in seed(kit, products) for sku in skus_of(p)]
    if not skus:
        return
    levels = [StockLevel(sku=sku, quantity=data.draw(st.integers(0, 500), label=sku)) for sku in skus]
    with kit.connect() as connection:
        first = connection.call("send_stock", levels=levels)
        assert all(ok(r) for r in first), first
        held = kit.platform.held_stock()
        assert {sku: held.get(sku) for sku in skus} == {lv.sku: lv.quantity for lv in levels}
        second = connection.call("send_stock", levels=levels)
    assert all(r.outcome in (Outcome.UNCHANGED, Outcome.UPDATED) for r in second), second
    assert kit.platform.held_stock() == held


@given(products=products_for_sale(2), data=st.data())
def test_prices_sent_are_the_prices_held_and_sending_them_again_changes_nothing(
        kit: Kit, products: list[Product], data: st.DataObject) -> None:
    needs(kit, "prices_round_trip", "send_prices", "send_products")
    kit.reset()
    skus = [sku for p in seed(kit, products) for sku in skus_of(p)]
    if not skus:
        return
    prices = [attrs.evolve(data.draw(s.prices(), label=sku), sku=sku) for sku in skus]
    with kit.connect() as connection:
        only_validation_failures(first := connection.call("send_prices", prices=prices))
        held = kit.platform.held_prices()
        for price, result in zip(prices, first):
            if ok(result):
                assert project(held[price.sku], kit.profile.kept) == project(price, kit.profile.kept)
        connection.call("send_prices", prices=prices)
    assert project(kit.platform.held_prices(), {}) == project(held, {})


class ReservationMachine(RuleBasedStateMachine):
    """reserve / release / send_stock / an order placed, against a model of available stock."""

    kit: Kit

    def __init__(self) -> None:
        super().__init__()
        self.kit.reset()
        self.connection = self.kit.connect()
        product = Product(code="KIT-SKU", name="Reserved thing")  # sold under its code
        assert all(ok(r) for r in self.connection.call("send_products", products=[product]))
        self.sku = "KIT-SKU"
        self.on_hand = 0
        self.reserved: dict[str, int] = {}
        self.counter = 0
        self._send(0)

    def _send(self, quantity: int) -> None:
        [result] = self.connection.call("send_stock", levels=[StockLevel(sku=self.sku, quantity=quantity)])
        assert ok(result), result
        self.on_hand = quantity

    def available(self) -> int:
        return max(0, self.on_hand - sum(self.reserved.values()))

    @rule(quantity=st.integers(0, 20))
    def send_stock(self, quantity: int) -> None:
        self._send(quantity)

    @rule(quantity=st.integers(1, 10))
    def reserve(self, quantity: int) -> None:
        self.counter += 1
        ident = f"R{self.counter}"
        reservation = StockReservation(id=ident, sku=self.sku, quantity=quantity)
        [result] = self.connection.call("reserve_stock", reservations=[reservation])
        if quantity <= self.available():
            assert ok(result), result
            self.reserved[ident] = quantity
        else:
            assert not ok(result) and isinstance(result.error, TramoError), (
                f"over-reservation of {quantity} with {self.available()} available: {result}")

    @precondition(lambda self: bool(self.reserved))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        ident = data.draw(st.sampled_from(sorted(self.reserved)))
        quantity = self.reserved.pop(ident)
        reservation = StockReservation(id=ident, sku=self.sku, quantity=quantity)
        [result] = self.connection.call("release_stock", reservations=[reservation])
        assert ok(result), result

    @precondition(lambda self: self.available() > 0)
    @rule(data=st.data())
    def order_placed(self, data: st.DataObject) -> None:
        quantity = data.draw(st.integers(1, self.available()))
        order = data.draw(s.orders())
        item = attrs.evolve(order.items[0], sku=self.sku, quantity=quantity, discount=Decimal(0))
        self.kit.platform.place_order(attrs.evolve(order, items=(item,)))
        self.on_hand -= quantity

    @invariant()
    def the_platform_agrees_and_nothing_is_negative(self) -> None:
        held = self.kit.platform.held_stock().get(self.sku, 0)
        assert held >= 0
        assert held == self.available(), f"platform {held}, model {self.available()}"
        if self.kit.profile.kept.get("StockReservation", True):  # an empty set: not kept there
            assert self.kit.platform.held_reservations() == self.reserved

    def teardown(self) -> None:
        self.connection.close()


def test_stock_reservations_never_go_negative_or_over_reserve(kit: Kit) -> None:
    needs(kit, "reservations", "reserve_stock", "release_stock", "send_stock", "send_products")
    machine = type("KitReservations", (ReservationMachine,), {"kit": kit})
    runner = machine.TestCase
    runner.settings = settings(max_examples=10, stateful_step_count=12, deadline=None)
    runner("runTest").runTest()


# -- orders ---------------------------------------------------------------------------

def place(kit: Kit, orders: Sequence[Order]) -> list[str]:
    return [kit.platform.place_order(order) for order in orders]


ORDERS = st.lists(s.orders(), min_size=1, max_size=4)


@given(orders=ORDERS, data=st.data())
def test_incremental_reads_yield_exactly_what_changed_after_the_checkpoint(
        kit: Kit, orders: list[Order], data: st.DataObject) -> None:
    needs(kit, "incremental_reads", "receive_orders")
    if kit.profile.orders != "incremental":
        pytest.skip("orders are a queue here (see the queue property)")
    kit.reset()
    ids = place(kit, orders)
    with kit.connect() as connection:
        everything = read_all(connection)
        assert sorted(o.id for o in everything) == sorted(ids)
        assert read_all(connection) == everything, "two sequential reads disagree"
        checkpoint = max(o.updated_at or o.placed_at for o in everything)
        changed = data.draw(st.lists(st.sampled_from(ids), unique=True), label="changed")
        for ident in changed:
            kit.platform.change_order(ident)
        since = read_all(connection, checkpoint)
        assert sorted(o.id for o in since) == sorted(changed)
        assert read_all(connection, FAR_FUTURE) == []


@given(orders=st.lists(s.orders(), min_size=1, max_size=7), page_size=st.integers(1, 4))
def test_any_page_size_reads_the_same_orders_once(kit: Kit, orders: list[Order], page_size: int) -> None:
    needs(kit, "page_sizes", "receive_orders")
    if kit.profile.page_size_setting is None:
        pytest.skip("the plugin has no page-size setting (Profile.page_size_setting)")
    kit.reset()
    ids = place(kit, orders)
    with kit.connect(**{kit.profile.page_size_setting: page_size}) as connection:
        read = [o.id for o in read_all(connection)]
    assert len(read) == len(set(read)), f"an order twice with pages of {page_size}: {read}"
    assert sorted(read) == sorted(ids)


@given(orders=ORDERS, data=st.data())
def test_a_queued_order_comes_until_acknowledged_and_never_after(
        kit: Kit, orders: list[Order], data: st.DataObject) -> None:
    needs(kit, "queue_reads", "receive_orders", "acknowledge_orders")
    if kit.profile.orders != "queue":
        pytest.skip("orders are read incrementally here (see the incremental property)")
    kit.reset()
    ids = place(kit, orders)
    with kit.connect() as connection:
        first = read_all(connection)
        assert sorted(o.id for o in first) == sorted(ids)
        assert sorted(o.id for o in read_all(connection)) == sorted(ids)
        done = data.draw(st.lists(st.sampled_from(first), unique_by=lambda o: o.id), label="acked")
        results = connection.call("acknowledge_orders", orders=[o.id for o in done])
        assert all(ok(r) for r in results), results
        rest = sorted(o.id for o in read_all(connection))
    assert rest == sorted(set(ids) - {o.id for o in done})


@given(order=s.orders())
def test_every_canonical_status_reaches_the_platform_or_fails_clearly(kit: Kit, order: Order) -> None:
    needs(kit, "status_sync", "sync_status")
    kit.reset()
    ident = kit.platform.place_order(order)
    with kit.connect() as connection:
        for status in OrderStatus:
            [result] = connection.call("sync_status", updates=[StatusUpdate(order_id=ident, status=status)])
            if ok(result):
                wanted = connection.mappings.status_to_platform(status)
                assert kit.platform.held_status(ident) == wanted, f"{status}: reported done, not held"
            else:
                assert isinstance(result.error, (MappingError, TramoError)), result
                if result.outcome is Outcome.HELD:
                    assert isinstance(result.error, MappingError), result


@given(order=s.orders(), tracking=s.trackings())
def test_sending_a_tracking_twice_holds_it_once(kit: Kit, order: Order, tracking: Any) -> None:
    needs(kit, "tracking_idempotent", "send_tracking")
    kit.reset()
    ident = kit.platform.place_order(order)
    tracking = attrs.evolve(tracking, order_id=ident)
    with kit.connect() as connection:
        first = connection.call("send_tracking", trackings=[tracking])
        only_validation_failures(first)
        connection.call("send_tracking", trackings=[tracking])
    codes = list(kit.platform.held_trackings().get(ident, []))
    assert codes.count(tracking.code) == (1 if ok(first[0]) else 0), codes


@given(order=s.orders(), data=st.data())
def test_sending_an_invoice_twice_holds_it_once(kit: Kit, order: Order, data: st.DataObject) -> None:
    needs(kit, "invoice_idempotent", "send_invoice")
    kit.reset()
    ident = kit.platform.place_order(order)
    invoice = attrs.evolve(data.draw(s.invoices()), order_id=ident)
    with kit.connect() as connection:
        first = connection.call("send_invoice", invoices=[invoice])
        only_validation_failures(first)
        connection.call("send_invoice", invoices=[invoice])
    keys = list(kit.platform.held_invoices().get(ident, []))
    assert keys.count(invoice.access_key) == (1 if ok(first[0]) else 0), keys


# -- bad input, faults, secrets ---------------------------------------------------

ITEMS = {"send_products": ("products", s.products), "send_prices": ("prices", s.prices),
         "send_stock": ("levels", s.stock_levels), "send_tracking": ("trackings", s.trackings),
         "send_invoice": ("invoices", s.invoices), "sync_status": ("updates", s.status_updates),
         "map_categories": ("categories", s.categories),
         "reserve_stock": ("reservations", s.stock_reservations),
         "release_stock": ("reservations", s.stock_reservations),
         "send_cancellation": ("cancellations", s.cancellations),
         "mark_delivered": ("orders", s.deliveries)}


@given(data=st.data())
def test_what_the_platform_refuses_is_refused_before_any_call(kit: Kit, data: st.DataObject) -> None:
    needs(kit, "bad_input")
    if not kit.profile.invalid:
        pytest.skip("the sandbox declares no refusals (Profile.invalid)")
    kit.reset()
    with kit.connect() as connection:
        for capability, spoilers in kit.profile.invalid.items():
            argument, strategy = ITEMS[capability]
            for what, spoil in spoilers:
                item = spoil(data.draw(strategy(), label=f"{capability}: {what}"))
                before = len(kit.sandbox.calls)
                [result] = connection.call(capability, **{argument: [item]})
                assert not ok(result) and isinstance(result.error, ValidationError), (
                    f"{capability} with {what}: {result}")
                assert len(kit.sandbox.calls) == before, f"{capability} with {what} reached the platform"


WRITE_FAULTS = st.lists(st.sampled_from([Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.TIMEOUT,
                                         Fault.DROPPED]), min_size=1, max_size=3)


@settings(max_examples=10)
@given(products=products_for_sale(2), faults=WRITE_FAULTS)
def test_under_faults_a_write_reported_done_is_held(kit: Kit, products: list[Product],
                                                    faults: list[Fault]) -> None:
    needs(kit, "faults", "send_products")
    kit.reset()
    kit.sandbox.configure(retry_after=0.01)
    with kit.connect() as connection:
        map_their_categories(kit, connection, products)
        for fault in faults:
            kit.sandbox.inject(fault)
        results = connection.call("send_products", products=products)
    kit.sandbox.settle()
    held = {p.code: p for p in kit.platform.held_products()}
    for product, result in zip(products, results):
        if ok(result):
            assert product.code in held, f"{product.code} reported done under {faults}, not held"
            assert project(held[product.code], kit.profile.kept) == project(product, kit.profile.kept)
        else:
            assert isinstance(result.error, TramoError), result


@settings(max_examples=10)
@given(orders=ORDERS, faults=WRITE_FAULTS, slow=st.sampled_from([0.0, 0.02]))
def test_under_faults_a_read_is_whole_or_fails_with_a_typed_error(
        kit: Kit, orders: list[Order], faults: list[Fault], slow: float) -> None:
    needs(kit, "read_faults", "receive_orders")
    kit.reset()
    ids = place(kit, orders)
    kit.sandbox.configure(retry_after=0.01, latency=slow)  # slow responses too
    for fault in faults:
        kit.sandbox.inject(fault)
    with kit.connect() as connection:
        try:
            read = [o.id for o in read_all(connection)]
        except TramoError:
            return
    assert sorted(read) == sorted(ids)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@contextlib.contextmanager
def capturing_logs() -> Iterator[_Capture]:
    """Every record of every logger, at DEBUG, as the text a handler would write."""
    handler = _Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


@settings(max_examples=3, report_multiple_bugs=False,  # a leak is a leak: no shrinking needed
          phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(data=st.data())
def test_no_secret_reaches_logs_reprs_or_errors(kit: Kit, data: st.DataObject) -> None:
    needs(kit, "secrets")
    secrets = kit.secrets()
    if not secrets:
        pytest.skip("the plugin declares no secret setting")
    kit.reset()
    texts: list[str] = []
    with capturing_logs() as captured, kit.connect() as connection:
        texts += [repr(connection), repr(dict(connection.settings)), str(connection.check())]
        for capability in sorted(kit.capabilities & set(ITEMS)):
            argument, strategy = ITEMS[capability]
            kit.sandbox.inject(Fault.SERVER_ERROR, times=10)
            try:
                item = data.draw(strategy(), label=capability)
                results = connection.call(capability, **{argument: [item]})
                texts += [repr(r) for r in results] + [str(r.error) for r in results if r.error]
            except Exception as exc:  # noqa: BLE001 - any error's text is inspected
                texts += [str(exc), repr(exc)]
        if kit.has("receive_orders"):
            kit.sandbox.inject(Fault.SERVER_ERROR, times=10)
            try:
                list(connection.call("receive_orders"))
            except Exception as exc:  # noqa: BLE001
                texts += [str(exc), repr(exc)]
        with kit.connect(**{name: "not-the-secret" for name in _secret_names(kit)}) as wrong:
            texts.append(str(wrong.check()))
    texts += captured.texts
    for secret in secrets:
        leaks = [t for t in texts if secret in t]
        assert not leaks, f"a secret setting's value appeared in: {leaks[0][:200]!r}"


def _secret_names(kit: Kit) -> list[str]:
    info = kit.record.info
    return [s.name for s in info.settings if s.secret] if info else []


def test_the_sandbox_resets_to_a_new_account(kit: Kit) -> None:
    """What a test wrote and the calls it made are gone after a reset (shared sandboxes rely on it)."""
    kit.reset()
    with kit.connect() as connection:
        connection.check()
        if kit.has("send_products"):
            product = Product(code="KIT-RESET", name="Left behind")
            assert all(ok(r) for r in connection.call("send_products", products=[product]))
            assert [p.code for p in kit.platform.held_products()] == ["KIT-RESET"]
    assert kit.sandbox.calls, "the sandbox recorded no call"
    before = kit.sandbox.data
    kit.reset()
    assert not kit.sandbox.calls and kit.sandbox.data is not before
    if kit.has("send_products"):
        assert kit.platform.held_products() == []


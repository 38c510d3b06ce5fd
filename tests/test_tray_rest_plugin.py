"""The tray_rest plugin against its sandbox: tokens, budget, every capability, the call counts."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tramo
from tramo.registry import Registry, discover
from tramo.sandbox import Fault
from tramo.model.identifiers import cpf_check_digits, nfe_key_check_digit
from tramo.testing.kit import KIT_HTTP, connect_to
from tramo_tray_rest.sandbox import MAPPINGS, STORE_ID, TraySandbox

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tramo.testing import strategies as s

CPF = "529982247" + cpf_check_digits("529982247")
WHEN = datetime(2026, 3, 2, 10, 0).astimezone()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return discover(allow=["tray_rest"])


@pytest.fixture(scope="module")
def running() -> Iterator[TraySandbox]:
    with TraySandbox() as sandbox:
        yield sandbox


@pytest.fixture
def store(running: TraySandbox) -> TraySandbox:
    running.reset()
    return running


def connect(registry: Registry, store: TraySandbox, state: tramo.StateStore | None = None,
            **settings: Any) -> tramo.Connection:
    store.configure(hang=0.8)  # past KIT_HTTP's read timeout: a TIMEOUT is a lost answer
    return connect_to(store, registry, state=state, **settings)


def auth_calls(store: TraySandbox) -> list[str]:
    return [c.method for c in store.calls if c.path.endswith("/auth")]


def an_order(**changes: Any) -> tramo.Order:
    """An order a buyer places: one item, a person with a CPF, delivered by PAC."""
    customer = tramo.Customer(name="Ana Souza", cpf=CPF, email="ana@example.com.br",
                              phones=["+55 11 91234-5678"])
    address = tramo.Address(street="Rua Augusta", number="100", city="São Paulo", state="SP",
                            postal_code="01305-000")
    fields: dict[str, Any] = dict(
        id="x", placed_at=WHEN, customer=customer, total=Decimal("103.80"), platform_status="1",
        items=[tramo.OrderItem(sku="CANECA", name="Caneca", quantity=2, unit_price=Decimal("39.90"))],
        delivery_address=address,
        shipping=tramo.Shipping(platform_method="Correios PAC", freight=Decimal("24.00")))
    return tramo.Order(**{**fields, **changes})


def an_invoice(order_id: str) -> tramo.Invoice:
    base = "35260311222333000181" + "55" + "001" + "000001234" + "1" + "00001234"
    return tramo.Invoice(order_id=order_id, number="1234", series="1",
                         access_key=base + nfe_key_check_digit(base), issued_at=WHEN,
                         value=Decimal("103.80"))


def a_product(code: str = "CANECA", **changes: Any) -> tramo.Product:
    fields: dict[str, Any] = dict(code=code, name="Caneca esmaltada", price=Decimal("39.90"),
                                  brand=tramo.Brand(id="B1", name="Tramontina"),
                                  weight_kg=Decimal("0.35"), images=["https://img.example.com/1.jpg"])
    return tramo.Product(**{**fields, **changes})


# -- tokens ---------------------------------------------------------------------------------


def test_the_code_is_exchanged_once_and_the_token_survives_a_restart(
        registry: Registry, store: TraySandbox, tmp_path: Path) -> None:
    with connect(registry, store, tramo.StateStore(tmp_path / "state.db")) as connection:
        connection.check()
        connection.call("list_order_statuses")
    with connect(registry, store, tramo.StateStore(tmp_path / "state.db")) as again:
        again.call("list_order_statuses")
    assert auth_calls(store) == ["POST"]


def test_an_expired_token_is_refreshed_and_the_call_goes_through(
        registry: Registry, store: TraySandbox) -> None:
    with connect(registry, store) as connection:
        connection.call("list_order_statuses")
        store.expire_access_tokens()  # Tray answers 401 error_code 1000 from now on
        assert connection.call("list_order_statuses")
    assert auth_calls(store) == ["POST", "GET"]  # code exchanged, then refreshed once


def test_the_access_token_never_reaches_a_log(registry: Registry, store: TraySandbox,
                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), connect(registry, store) as connection:
        connection.call("send_products", products=[a_product()])
        list(connection.call("receive_products", since=None))
        token = connection.state.get("token")["access"]
    texts = [r.getMessage() for r in caplog.records]
    assert any("access_token" in t for t in texts), "httpx logs its URLs"
    assert not [t for t in texts if token in t]


def test_wrong_credentials_are_an_authentication_error(registry: Registry, store: TraySandbox) -> None:
    with connect(registry, store, code="f" * 64) as connection:
        report = connection.check()
        assert not report.ok and "Tray refused the access" in report.problems[0]
        with pytest.raises(tramo.AuthenticationError):
            connection.call("list_order_statuses")


# -- catalogue -------------------------------------------------------------------------------


def test_a_product_with_variants_is_created_then_updated_in_place(
        registry: Registry, store: TraySandbox) -> None:
    blue = tramo.Variant(sku="CANECA-AZ", attributes=[tramo.Attribute(name="Cor", value="Azul")],
                         price=Decimal("42"))
    red = tramo.Variant(sku="CANECA-VM", attributes=[tramo.Attribute(name="Cor", value="Vermelha")])
    with connect(registry, store) as connection:
        [first] = connection.call("send_products", products=[a_product(variants=[blue, red])])
        [again] = connection.call("send_products", products=[a_product(variants=[blue, red])])
        [renamed] = connection.call("send_products", products=[a_product(name="Caneca", variants=[blue])])
        [read] = list(connection.call("receive_products", since=None))
    assert (first.outcome, again.outcome, renamed.outcome) == (
        tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED, tramo.Outcome.UPDATED)
    assert first.remote_id == again.remote_id == renamed.remote_id
    assert read.name == "Caneca" and [v.sku for v in read.variants] == ["CANECA-AZ"]
    assert [p.code for p in store.held_products()] == ["CANECA"]


def test_an_unchanged_product_costs_no_write(registry: Registry, store: TraySandbox) -> None:
    with connect(registry, store) as connection:
        connection.call("send_products", products=[a_product()])
        before = len(store.calls)
        connection.call("send_products", products=[a_product()])
    assert [c.method for c in list(store.calls)[before:]] == ["GET"]  # the bound product, read


def test_a_product_created_elsewhere_is_found_by_its_reference(registry: Registry,
                                                               store: TraySandbox) -> None:
    with connect(registry, store) as first:
        first.call("send_products", products=[a_product()])
    with connect(registry, store) as fresh:  # no bindings: a new state
        [result] = fresh.call("send_products", products=[a_product(name="Caneca nova")])
    assert result.outcome is tramo.Outcome.UPDATED and len(store.held_products()) == 1


def test_categories_are_created_in_the_tree_and_products_placed_in_them(
        registry: Registry, store: TraySandbox) -> None:
    tree = [tramo.Category(id="COZ", name="Cozinha"),
            tramo.Category(id="CAN", name="Canecas", parent_id="COZ")]
    with connect(registry, store) as connection:
        created = connection.call("map_categories", categories=list(reversed(tree)))
        again = connection.call("map_categories", categories=tree)
        connection.call("send_products", products=[a_product(categories=["CAN", "COZ"])])
        [read] = list(connection.call("receive_products", since=None))
    assert [r.outcome for r in created] == [tramo.Outcome.CREATED, tramo.Outcome.CREATED]
    assert {r.remote_id for r in again} == {r.remote_id for r in created}
    assert read.categories == ("CAN", "COZ")
    with connect(registry, store) as fresh:  # found by name under its parent, not created again
        found = fresh.call("map_categories", categories=tree)
    assert [r.outcome for r in found] == [tramo.Outcome.UNCHANGED] * 2


def test_a_product_in_an_unmapped_category_is_held_without_a_call(registry: Registry,
                                                                  store: TraySandbox) -> None:
    with connect(registry, store) as connection:
        [result] = connection.call("send_products", products=[a_product(categories=["NOPE"])])
    assert result.outcome is tramo.Outcome.HELD and "map_categories" in str(result.error)
    assert not [c for c in store.calls if "/products" in c.path]


def test_products_changed_after_a_checkpoint_are_read(registry: Registry, store: TraySandbox) -> None:
    with connect(registry, store) as connection:
        connection.call("send_products", products=[a_product("A"), a_product("B")])
        checkpoint = max(p.updated_at for p in connection.call("receive_products", since=None))
        connection.call("send_products", products=[a_product("B", name="Outra")])
        changed = list(connection.call("receive_products", since=checkpoint))
    assert [p.code for p in changed] == ["B"]


# -- stock, prices, reservations ----------------------------------------------------------------


def test_stock_and_prices_reach_the_sku_where_it_lives(registry: Registry, store: TraySandbox) -> None:
    variant = tramo.Variant(sku="V-1", attributes=[tramo.Attribute(name="Tamanho", value="M")])
    with connect(registry, store) as connection:
        connection.call("send_products", products=[a_product(), a_product("CAMISA", variants=[variant])])
    with connect(registry, store) as fresh:  # SKUs found without bindings
        stock = fresh.call("send_stock", levels=[tramo.StockLevel(sku="CANECA", quantity=7),
                                                  tramo.StockLevel(sku="V-1", quantity=3)])
        prices = fresh.call("send_prices", prices=[tramo.Price(
            sku="V-1", list_price=Decimal("59.90"), promotional_price=Decimal("49.90"))])
        [missing] = fresh.call("send_stock", levels=[tramo.StockLevel(sku="GHOST", quantity=1)])
    assert all(r.ok for r in stock + prices)
    assert store.held_stock() == {"CANECA": 7, "V-1": 3}
    assert store.held_prices()["V-1"].promotional_price == Decimal("49.90")
    assert missing.outcome is tramo.Outcome.FAILED and "GHOST" in str(missing.error)


def test_a_reservation_lowers_the_store_stock_once_and_stock_updates_keep_it(
        registry: Registry, store: TraySandbox) -> None:
    hold = tramo.StockReservation(id="R1", sku="CANECA", quantity=4)
    with connect(registry, store) as connection:
        connection.call("send_products", products=[a_product()])
        connection.call("send_stock", levels=[tramo.StockLevel(sku="CANECA", quantity=10)])
        assert [r.outcome for r in connection.call("reserve_stock", reservations=[hold, hold])] == [
            tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED]
        assert store.held_stock()["CANECA"] == 6
        connection.call("send_stock", levels=[tramo.StockLevel(sku="CANECA", quantity=12)])
        assert store.held_stock()["CANECA"] == 8  # the ERP's 12, less the 4 still held
        [over] = connection.call("reserve_stock", reservations=[
            tramo.StockReservation(id="R2", sku="CANECA", quantity=9)])
        assert over.outcome is tramo.Outcome.FAILED
        connection.call("release_stock", reservations=[hold, hold])
    assert store.held_stock()["CANECA"] == 12


# -- orders --------------------------------------------------------------------------------------


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(s.orders(), min_size=1, max_size=3))
def test_importing_orders_costs_one_call_per_order_plus_one_per_page(
        registry: Registry, running: TraySandbox, orders: list[tramo.Order]) -> None:
    running.reset()
    for order in orders:
        running.place_order(order)
    with connect(registry, running, page_size=2) as connection:
        connection.check()
        before = len(running.calls)
        read = list(connection.call("receive_orders", since=None))
        calls = len(running.calls) - before
    assert all(isinstance(o, tramo.Order) for o in read), read
    assert len({o.id for o in read}) == len(read) == len(orders)
    assert calls == len(orders) + math.ceil(len(orders) / 2)


def test_a_marketplace_order_arrives_with_its_channel_freight_and_customer(
        registry: Registry, store: TraySandbox) -> None:
    order = an_order(
        platform_status="2",
        shipping=tramo.Shipping(platform_method="Correios Sedex", freight=Decimal("23.50")),
        payments=[tramo.Payment(value=Decimal("103.80"), platform_method="81")],
        sales_channel=tramo.SalesChannel(platform_channel="Mercado Livre",
                                         marketplace_order_id="ML-123"))
    ident = store.place_order(order)
    with connect(registry, store) as connection:
        [read] = list(connection.call("get_orders", ids=[ident, "999999"]))
    assert read.id == ident and read.status is tramo.OrderStatus.APPROVED
    assert read.sales_channel is not None and read.sales_channel.channel == "MERCADO_LIVRE"
    assert read.sales_channel.marketplace_order_id == "ML-123"
    assert read.shipping is not None and read.shipping.freight == Decimal("23.50")
    assert read.shipping.method == "CORREIOS_SEDEX" and read.payments[0].method == "PIX"
    assert read.customer.name == order.customer.name
    assert read.customer.cpf == CPF and read.delivery_address is not None
    assert read.delivery_address.postal_code == "01305000"


def test_status_tracking_invoice_delivery_and_cancellation_reach_the_order(
        registry: Registry, store: TraySandbox) -> None:
    ident = store.place_order(an_order())
    invoice = an_invoice(ident)
    tracking = tramo.Tracking(order_id=ident, code="QB123456789BR",
                              url="https://rastreamento.correios.com.br/QB123456789BR")
    with connect(registry, store) as connection:
        [moved] = connection.call("sync_status", updates=[
            tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.SHIPPED)])
        assert moved.ok and store.held_status(ident) == "6"
        assert [r.outcome for r in connection.call("send_tracking", trackings=[tracking, tracking])] == [
            tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED]
        assert [r.outcome for r in connection.call("send_invoice", invoices=[invoice, invoice])] == [
            tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED]
        [delivered] = connection.call("mark_delivered", orders=[tramo.Delivery(order_id=ident)])
        assert delivered.ok and store.held_status(ident) == "8"
        cancel = tramo.Cancellation(order_id=ident, reason="desistência")
        assert [r.outcome for r in connection.call("send_cancellation", cancellations=[cancel])] == [
            tramo.Outcome.UPDATED]
        assert connection.call("send_cancellation", cancellations=[cancel])[0].outcome is (
            tramo.Outcome.UNCHANGED)
    assert store.held_trackings() == {ident: ["QB123456789BR"]}
    assert store.held_invoices() == {ident: [invoice.access_key]}
    assert store.held_status(ident) == "10"


def test_mark_delivered_needs_a_delivered_status(registry: Registry, store: TraySandbox) -> None:
    without = {k: v for k, v in MAPPINGS.items() if k != "status"}
    with registry.connect("tray_rest", store.settings, mappings=without) as connection:
        assert not connection.supports("mark_delivered")
        assert "delivered_status" in connection.restrictions()["mark_delivered"]
    with registry.connect("tray_rest", {**store.settings, "delivered_status": "8"},
                          mappings=without) as connection:
        assert connection.supports("mark_delivered")


def test_a_lost_answer_to_an_invoice_is_failed_and_the_next_send_does_not_duplicate_it(
        registry: Registry, store: TraySandbox) -> None:
    ident = store.place_order(an_order())
    invoice = an_invoice(ident)
    store.inject(Fault.TIMEOUT, where=lambda method, path: path.endswith("/invoices") and method == "POST")
    with connect(registry, store) as connection:
        [lost] = connection.call("send_invoice", invoices=[invoice])
        store.settle()
        [again] = connection.call("send_invoice", invoices=[invoice])
    assert lost.outcome is tramo.Outcome.FAILED
    assert isinstance(lost.error, tramo.errors.OutcomeUnknownError)
    assert again.outcome is tramo.Outcome.UNCHANGED
    assert store.held_invoices() == {ident: [invoice.access_key]}


# -- rate limits, webhooks, look-ups ---------------------------------------------------------------


def test_a_429_is_honoured_and_the_budget_says_what_is_left(registry: Registry,
                                                            store: TraySandbox) -> None:
    store.configure(retry_after=0.01)
    with connect(registry, store) as connection:
        connection.check()
        store.inject(Fault.RATE_LIMITED, times=2)
        assert connection.call("list_payment_methods")
        remaining = connection.budget("api", ()).remaining()
    assert [c.status for c in store.calls].count(429) == 2
    minute, day = remaining  # what is left of the minute's and the day's windows
    assert 0 <= minute < store.settings["requests_per_minute"]
    assert 0 <= day < store.settings["requests_per_day"]


def test_a_notification_becomes_an_event_to_fetch(registry: Registry, store: TraySandbox) -> None:
    body = f"seller_id={STORE_ID}&scope_id=15&scope_name=order&act=update&app_code=718".encode()
    with connect(registry, store) as connection:
        [event] = connection.call("parse_webhook", headers={
            "Content-Type": "application/x-www-form-urlencoded"}, body=body)
        assert (event.resource, event.remote_id, event.action) == ("order", "15", "update")
        with pytest.raises(tramo.AuthenticationError):
            connection.call("parse_webhook", headers={}, body=body.replace(STORE_ID.encode(), b"1"))


def test_look_ups_list_what_the_store_has(registry: Registry, store: TraySandbox) -> None:
    with connect(registry, store, page_size=3) as connection:
        statuses = connection.call("list_order_statuses")
        shipping = connection.call("list_shipping_methods")
    assert [o.id for o in statuses] == [str(n) for n in range(1, 11)]
    assert "Correios Sedex" in [o.id for o in shipping]


def test_an_order_with_a_bad_record_is_held_and_the_others_arrive(registry: Registry,
                                                                  store: TraySandbox) -> None:
    good = store.place_order(an_order())
    bad = store.place_order(an_order(customer=tramo.Customer(name="Bia", cpf=None)))
    with store.lock:  # the store kept a CPF that fails its check digits (Tray does not check)
        customer = store.data["orders"][bad]["customer_id"]
        store.data["customers"][customer]["cpf"] = "12345678900"
    with connect(registry, store) as connection:
        read = list(connection.call("receive_orders", since=None))
    orders = [o for o in read if isinstance(o, tramo.Order)]
    held = [h for h in read if isinstance(h, tramo.Held)]
    assert [o.id for o in orders] == [good]
    assert [h.remote_id for h in held] == [bad] and "cpf" in str(held[0].error)

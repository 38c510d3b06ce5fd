"""The tray_soap plugin against its sandbox: the WSDL decides, hostile XML refused, every capability."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

import tramo
from tramo.model.identifiers import cpf_check_digits, nfe_key_check_digit
from tramo.registry import Registry, discover
from tramo.sandbox import Fault
from tramo.soap import WSDL_CACHE, UnsafeXmlError
from tramo.testing.kit import KIT_HTTP, connect_to
from tramo_tray_soap.sandbox import MAPPINGS, PASSWORD, PATH, SERVICE, TraySoapSandbox

CPF = "529982247" + cpf_check_digits("529982247")
WHEN = datetime(2026, 3, 2, 10, 0).astimezone()


class HostileStore(TraySoapSandbox):
    """A store (or a man in the middle) that answers with whatever ``data["hostile"]`` holds."""

    def dispatch(self, request: Request) -> Response:
        hostile = self.data.get("hostile")
        if hostile is not None and request.method == "POST":
            return Response(hostile, 200, content_type="text/xml; charset=utf-8")
        return super().dispatch(request)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return discover(allow=["tray_soap"])


@pytest.fixture(scope="module")
def running() -> Iterator[HostileStore]:
    with HostileStore() as sandbox:
        yield sandbox


@pytest.fixture
def store(running: HostileStore) -> Iterator[HostileStore]:
    running.reset()
    running.service = SERVICE
    WSDL_CACHE.clear()  # tests change the WSDL served at the same address
    yield running
    WSDL_CACHE.clear()


def connect(registry: Registry, store: TraySoapSandbox, **settings: Any) -> tramo.Connection:
    store.configure(hang=0.8)  # past KIT_HTTP's read timeout: a TIMEOUT is a lost answer
    return connect_to(store, registry, **settings)


def an_order(**changes: Any) -> tramo.Order:
    customer = tramo.Customer(name="Ana Souza", cpf=CPF, email="ana@example.com.br",
                              phones=["+55 11 91234-5678"])
    address = tramo.Address(street="Rua Augusta", number="100", city="São Paulo", state="SP",
                            postal_code="01305-000")
    fields: dict[str, Any] = dict(
        id="x", placed_at=WHEN, customer=customer, total=Decimal("103.80"), platform_status="1",
        items=[tramo.OrderItem(sku="CANECA", name="Caneca", quantity=2, unit_price=Decimal("39.90"))],
        billing_address=address, delivery_address=address,
        shipping=tramo.Shipping(carrier="Correios PAC", freight=Decimal("24.00")))
    return tramo.Order(**{**fields, **changes})


def an_invoice(order_id: str) -> tramo.Invoice:
    base = "35260311222333000181" + "55" + "001" + "000001234" + "1" + "00001234"
    return tramo.Invoice(order_id=order_id, number="1234", series="1",
                         access_key=base + nfe_key_check_digit(base), issued_at=WHEN,
                         value=Decimal("103.80"))


def posts(store: TraySoapSandbox) -> int:
    return len(store.calls_to(PATH, "POST"))


# -- the WSDL decides ----------------------------------------------------------------------------

def test_a_store_whose_wsdl_lacks_an_operation_shows_that_capability_unavailable_with_the_reason(
        registry: Registry, store: HostileStore) -> None:
    store.service = SERVICE.without("fWSReservaEstoque", "fWSAtualizaRastreioPedido")
    with connect(registry, store) as connection:
        assert not connection.supports("reserve_stock") and not connection.supports("send_tracking")
        assert connection.supports("release_stock") and connection.supports("receive_orders")
        assert "fWSReservaEstoque" in connection.restrictions()["reserve_stock"]
        with pytest.raises(tramo.CapabilityNotSupported) as caught:
            connection.call("send_tracking", trackings=[
                tramo.Tracking(order_id="1", code="BR123456789BR")])
        assert "fWSAtualizaRastreioPedido" in str(caught.value)
        report = connection.check()
    assert any("reserve_stock unavailable" in p for p in report.problems)
    assert posts(store) == 1  # the check's one call: nothing was sent for the refused capability


def test_a_local_copy_of_the_wsdl_is_read_instead_and_calls_go_to_the_store(
        registry: Registry, store: HostileStore, tmp_path: Path) -> None:
    from tramo.sandbox.soap import wsdl

    copy = tmp_path / "ws_servidor.wsdl"
    copy.write_bytes(wsdl(SERVICE, "https://elsewhere.example.com/ws"))
    store.place_order(an_order())
    with connect(registry, store, wsdl_file=str(copy)) as connection:
        [order] = connection.call("receive_orders", since=None)
    assert order.customer.name == "Ana Souza"
    assert store.calls_to(PATH, "GET") == []  # the WSDL never fetched


# -- hostile XML ------------------------------------------------------------------------------------

BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";" if i > 1 else "&lol;") * 10}">'
                  for i in range(1, 10))
        + ']><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
          "<SOAP-ENV:Body><x>&lol9;</x></SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
            "<SOAP-ENV:Body><x>&xxe;</x></SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


@pytest.mark.parametrize("payload", [BOMB, EXTERNAL], ids=["xml-bomb", "external-entity"])
def test_an_xml_bomb_or_an_external_entity_in_an_answer_is_refused_with_a_clear_error(
        registry: Registry, store: HostileStore, payload: bytes) -> None:
    with connect(registry, store) as connection:
        connection.supports("list_payment_methods")  # the honest WSDL first
        store.data["hostile"] = payload
        with pytest.raises(UnsafeXmlError) as caught:
            connection.call("list_payment_methods")
    message = str(caught.value)
    assert "refused unsafe XML" in message and "fWSFormasPagamentosDisponiveis" in message
    assert "a DTD" in message  # refused before a single entity was expanded or file read
    assert "lollol" not in message and "root:x" not in message and "passwd" not in message


def test_a_wsdl_with_an_external_entity_is_refused_at_connect(
        registry: Registry, store: HostileStore, tmp_path: Path) -> None:
    copy = tmp_path / "hostile.wsdl"
    copy.write_bytes(EXTERNAL)
    with connect(registry, store, wsdl_file=str(copy)) as connection:
        with pytest.raises(UnsafeXmlError, match="DTD"):
            connection.supports("receive_orders")


# -- orders -------------------------------------------------------------------------------------------

def test_an_import_makes_four_calls_an_order_and_the_todo_list_empties_as_orders_are_acknowledged(
        registry: Registry, store: HostileStore) -> None:
    store.seed(products=6, orders=7)
    with connect(registry, store, page_size=3) as connection:
        connection.supports("receive_orders")
        before = posts(store)
        orders = list(connection.call("receive_orders", since=None))
        assert posts(store) - before == 4 * 7 + 3  # pages of 3: 3, 3, 1
        assert all(isinstance(o, tramo.Order) for o in orders) and len({o.id for o in orders}) == 7
        assert all(o.customer.name and o.items and o.shipping for o in orders)
        done = [o.id for o in orders[:4]]
        assert all(r.outcome is tramo.Outcome.UPDATED
                   for r in connection.call("acknowledge_orders", orders=done))
        rest = sorted(o.id for o in connection.call("receive_orders", since=None))
        store.change_order(done[0])  # a change on the store puts it back on the list
        back = sorted(o.id for o in connection.call("receive_orders", since=None))
    assert rest == sorted(o.id for o in orders[4:])
    assert back == sorted([*rest, done[0]])


def test_reads_are_retried_after_a_5xx_or_a_dropped_connection(
        registry: Registry, store: HostileStore) -> None:
    ids = [store.place_order(an_order()) for _ in range(3)]
    for fault in (Fault.SERVER_ERROR, Fault.DROPPED):
        store.inject(fault, where=lambda method, path: method == "POST")
    with connect(registry, store) as connection:
        got = sorted(o.id for o in connection.call("get_orders", ids=ids))
    assert got == sorted(ids)


def test_a_status_change_emails_the_customer_only_for_the_statuses_chosen(
        registry: Registry, store: HostileStore) -> None:
    first, second = store.place_order(an_order()), store.place_order(an_order())
    updates = [tramo.StatusUpdate(order_id=first, status=tramo.OrderStatus.APPROVED),
               tramo.StatusUpdate(order_id=second, status=tramo.OrderStatus.SHIPPED)]
    with connect(registry, store, notify_customer_on="6") as connection:
        results = connection.call("sync_status", updates=updates)
        again = connection.call("sync_status", updates=updates)
    assert [r.outcome for r in results] == [tramo.Outcome.UPDATED] * 2
    assert [r.outcome for r in again] == [tramo.Outcome.UNCHANGED] * 2
    assert (store.held_status(first), store.held_status(second)) == ("2", "6")
    assert store.held_emails() == [(second, "6")]


def test_trackings_and_invoices_are_held_once_whatever_is_sent_twice(
        registry: Registry, store: HostileStore) -> None:
    ident = store.place_order(an_order())
    tracking = tramo.Tracking(order_id=ident, code="BR123456789BR")
    with connect(registry, store) as connection:
        outcomes = [connection.call("send_tracking", trackings=[tracking])[0].outcome,
                    connection.call("send_tracking", trackings=[tracking])[0].outcome,
                    connection.call("send_invoice", invoices=[an_invoice(ident)])[0].outcome,
                    connection.call("send_invoice", invoices=[an_invoice(ident)])[0].outcome]
    assert outcomes == [tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED,
                        tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED]
    assert store.held_trackings() == {ident: ["BR123456789BR"]}
    assert store.held_invoices() == {ident: [an_invoice(ident).access_key]}


# -- catalogue and stock ---------------------------------------------------------------------------

def test_latin1_text_round_trips_and_text_beyond_it_is_held_without_a_call(
        registry: Registry, store: HostileStore) -> None:
    good = tramo.Product(code="PAO-01", name="Pão de Açúcar", description="Orgânico, 500 g",
                         price=Decimal("12.90"))
    bad = tramo.Product(code="PAO-02", name="Pão ★", price=Decimal("12.90"))
    with connect(registry, store) as connection:
        connection.supports("send_products")
        before = posts(store)
        results = connection.call("send_products", products=[bad, good])
    assert results[0].outcome is tramo.Outcome.HELD and results[0].error.field == "Product.name"
    assert results[1].outcome is tramo.Outcome.CREATED
    assert posts(store) - before == 2  # look-up and create for the good one only
    [held] = store.held_products()
    assert (held.name, held.description) == ("Pão de Açúcar", "Orgânico, 500 g")


def test_a_product_update_sends_only_when_something_changed_and_variants_follow(
        registry: Registry, store: HostileStore) -> None:
    variants = (tramo.Variant(sku="CAM-P", attributes=[tramo.Attribute(name="Tamanho", value="P")]),
                tramo.Variant(sku="CAM-M", attributes=[tramo.Attribute(name="Tamanho", value="M")]))
    product = tramo.Product(code="CAM", name="Camiseta", price=Decimal("59.90"), variants=variants)
    with connect(registry, store) as connection:
        created = connection.call("send_products", products=[product])[0].outcome
        same = connection.call("send_products", products=[product])[0].outcome
        fewer = tramo.Product(code="CAM", name="Camiseta lisa", price=Decimal("59.90"),
                              variants=variants[:1])
        changed = connection.call("send_products", products=[fewer])[0].outcome
        stock = connection.call("send_stock", levels=[tramo.StockLevel(sku="CAM-P", quantity=5)])
    assert (created, same, changed) == (tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED,
                                        tramo.Outcome.UPDATED)
    [held] = store.held_products()
    assert held.name == "Camiseta lisa" and [v.sku for v in held.variants] == ["CAM-P"]
    assert stock[0].outcome is tramo.Outcome.UPDATED and store.held_stock() == {"CAM-P": 5}


def test_reservations_are_kept_by_the_store_and_refused_beyond_its_stock(
        registry: Registry, store: HostileStore) -> None:
    product = tramo.Product(code="CANECA", name="Caneca", price=Decimal("39.90"))
    with connect(registry, store) as connection:
        connection.call("send_products", products=[product])
        connection.call("send_stock", levels=[tramo.StockLevel(sku="CANECA", quantity=5)])
        ok = tramo.StockReservation(id="R1", sku="CANECA", quantity=3)
        too_many = tramo.StockReservation(id="R2", sku="CANECA", quantity=3)
        results = connection.call("reserve_stock", reservations=[ok, ok, too_many])
        held = store.held_reservations(), store.held_stock()
        released = connection.call("release_stock", reservations=[ok])
    assert [r.outcome for r in results[:2]] == [tramo.Outcome.CREATED] * 2
    assert results[2].outcome is tramo.Outcome.FAILED and "estoque" in str(results[2].error)
    assert held == ({"R1": 3}, {"CANECA": 2})
    assert released[0].outcome is tramo.Outcome.UPDATED and store.held_stock() == {"CANECA": 5}


# -- credentials ----------------------------------------------------------------------------------

def test_a_refused_password_is_an_authentication_error_that_never_shows_the_password(
        registry: Registry, store: HostileStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "não-é-" + PASSWORD
    with connect(registry, store, password=wrong) as connection:
        report = connection.check()
        results = connection.call("acknowledge_orders", orders=["1", "2"])
    assert not report.ok and "check store_id, login and password" in report.problems[0]
    assert [r.outcome for r in results] == [tramo.Outcome.FAILED] * 2
    assert all(isinstance(r.error, tramo.AuthenticationError) for r in results)
    assert posts(store) == 2  # the check, then one call: the batch stopped after the refusal
    for text in (*report.problems, caplog.text, *map(repr, results), *(str(r.error) for r in results)):
        assert wrong not in text and PASSWORD not in text

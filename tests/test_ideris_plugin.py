"""The ideris plugin against its sandbox: login, plans, every capability, the calls it makes."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

import tramo
from tramo.model.identifiers import cpf_check_digits, nfe_key_check_digit
from tramo.paging import PagingError
from tramo.registry import Registry, discover
from tramo.sandbox import Fault
from tramo.testing.kit import KIT_HTTP, connect_to
from tramo_ideris.sandbox import LOGIN_TOKEN, MAPPINGS, IderisSandbox

CPF = "529982247" + cpf_check_digits("529982247")
WHEN = datetime(2026, 3, 2, 10, 0).astimezone()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return discover(allow=["ideris"])


@pytest.fixture(scope="module")
def running() -> Iterator[IderisSandbox]:
    with IderisSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def store(running: IderisSandbox) -> Iterator[IderisSandbox]:
    running.reset()
    running.configure(hang=0.8)  # past KIT_HTTP's read timeout: a TIMEOUT is a lost answer
    yield running
    assert running.errors == [], running.errors


def connect(registry: Registry, store: IderisSandbox, state: tramo.StateStore | None = None,
            **settings: Any) -> tramo.Connection:
    return connect_to(store, registry, state=state, **settings)


def calls(store: IderisSandbox, method: str, path: str) -> int:
    return len(store.calls_to(path, method))


def an_order(**changes: Any) -> tramo.Order:
    customer = tramo.Customer(name="Ana Souza", cpf=CPF, email="ana@example.com.br")
    address = tramo.Address(street="Rua Augusta", number="100", city="São Paulo", state="SP",
                            postal_code="01305000")
    fields: dict[str, Any] = dict(
        id="x", placed_at=WHEN, customer=customer, total=Decimal("103.80"), platform_status="Aprovado",
        items=[tramo.OrderItem(sku="CANECA", name="Caneca", quantity=2, unit_price=Decimal("39.90"))],
        delivery_address=address, shipping=tramo.Shipping(platform_method="Mercado Envios",
                                                          freight=Decimal("24.00")),
        sales_channel=tramo.SalesChannel(platform_channel="Mercado Livre"))
    return tramo.Order(**{**fields, **changes})


def a_product(code: str = "CANECA", **changes: Any) -> tramo.Product:
    fields: dict[str, Any] = dict(code=code, name="Caneca esmaltada", price=Decimal("39.90"),
                                  brand=tramo.Brand(id="B1", name="Tramontina"),
                                  weight_kg=Decimal("0.35"), images=["https://img.example.com/1.jpg"])
    return tramo.Product(**{**fields, **changes})


def with_sizes(code: str = "CAMISETA") -> tramo.Product:
    sizes = [tramo.Variant(sku=f"{code}-{s}", attributes=[tramo.Attribute(name="Tamanho", value=s)])
             for s in ("P", "M", "G")]
    return a_product(code, name="Camiseta", variants=sizes)


def an_invoice(order_id: str) -> tramo.Invoice:
    base = "35260311222333000181" + "55" + "001" + "000001234" + "1" + "00001234"
    return tramo.Invoice(order_id=order_id, number="1234", series="1",
                         access_key=base + nfe_key_check_digit(base), issued_at=WHEN,
                         value=Decimal("103.80"))


def outcomes(results: list[tramo.WriteResult]) -> list[tramo.Outcome]:
    return [r.outcome for r in results]


# -- login and the connection -----------------------------------------------------------------------


def test_the_check_logs_in_lists_the_marketplaces_and_finds_nothing_missing(
        registry: Registry, store: IderisSandbox) -> None:
    with connect(registry, store) as connection:
        report = connection.check()
    assert report.problems == ()
    assert "Mercado Livre" in report.details["marketplaces"] and store.logins() == 1


def test_a_refused_login_token_is_an_authentication_error_that_never_shows_the_token(
        registry: Registry, store: IderisSandbox, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "f" * 96
    with caplog.at_level(logging.DEBUG), connect(registry, store, login_token=wrong) as connection:
        with pytest.raises(tramo.AuthenticationError) as caught:
            connection.call("list_sales_channels")
    assert wrong not in str(caught.value) and wrong not in caplog.text and LOGIN_TOKEN not in caplog.text


def test_the_jwt_is_kept_across_a_restart_and_renewed_once_it_expires(
        registry: Registry, store: IderisSandbox, tmp_path: Path) -> None:
    with connect(registry, store, tramo.StateStore(tmp_path / "state.db")) as connection:
        connection.call("list_sales_channels")
    with connect(registry, store, tramo.StateStore(tmp_path / "state.db")) as again:
        again.call("list_sales_channels")
        assert store.logins() == 1
        store.expire_tokens()  # Ideris answers 401 from now on
        assert again.call("list_order_statuses")
    assert store.logins() == 2


def test_a_jwt_close_to_its_exp_is_renewed_before_it_is_used(registry: Registry,
                                                             store: IderisSandbox) -> None:
    # The 6-hour JWT lasts 2.4 s and is renewed in its last quarter (0.6 s): after 1.9 s
    # the next call renews first, leaving half a second of slack for a slow machine.
    store.configure(time_scale=9_000)
    with connect(registry, store) as connection:
        connection.call("list_sales_channels")
        time.sleep(1.9)
        connection.call("list_sales_channels")
    assert store.logins() == 2
    assert not [c for c in store.calls if c.status == 401]  # renewed ahead, never refused


# -- plans ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("plan", "extension", "allowed"), [
    ("iniciante", False, False), ("basico", False, False), ("iniciante", True, True),
    ("basico", True, True), ("essencial", False, True), ("grande", False, True), (None, False, False),
])
def test_stock_is_sent_only_where_the_plan_includes_it(registry: Registry, store: IderisSandbox,
                                                       plan: str | None, extension: bool,
                                                       allowed: bool) -> None:
    settings = {**store.settings, "plan": plan, "realtime_stock_extension": extension}
    if plan is None:
        del settings["plan"]
    with registry.connect("ideris", settings, mappings=MAPPINGS) as connection:
        assert connection.supports("send_stock") is allowed
        if not allowed:
            with pytest.raises(tramo.CapabilityNotSupported, match="plan"):
                connection.call("send_stock", levels=[tramo.StockLevel(sku="X", quantity=1)])
    assert calls(store, "PUT", "/Produto") == 0


def test_tracking_and_invoices_wait_for_their_notification_urls(registry: Registry,
                                                                store: IderisSandbox) -> None:
    settings = {k: v for k, v in store.settings.items() if not k.endswith("_notification_url")}
    with registry.connect("ideris", settings, mappings=MAPPINGS) as connection:
        reasons = connection.restrictions()
        assert "URL para envio de rastreio" in reasons["send_tracking"]
        assert "URL para envio da nota fiscal" in reasons["send_invoice"]


# -- orders -------------------------------------------------------------------------------------------


def test_orders_come_with_their_buyer_marketplace_and_mapped_values(registry: Registry,
                                                                    store: IderisSandbox) -> None:
    ml = store.place_order(an_order())
    amazon = store.place_order(an_order(sales_channel=tramo.SalesChannel(platform_channel="Amazon"),
                                        shipping=tramo.Shipping(platform_method="Correios",
                                                                freight=Decimal("10.00"))))
    with connect(registry, store) as connection:
        orders = {o.id: o for o in connection.call("receive_orders", since=None)}
    assert set(orders) == {ml, amazon}
    first = orders[ml]
    assert first.customer.name == "Ana Souza" and first.customer.cpf == CPF
    assert first.status is tramo.OrderStatus.APPROVED
    assert first.sales_channel is not None and first.sales_channel.channel == "MERCADO_LIVRE"
    assert orders[amazon].sales_channel.channel == "AMAZON"  # type: ignore[union-attr]
    assert orders[amazon].shipping.method == "CORREIOS"  # type: ignore[union-attr]
    assert first.items[0].sku == "CANECA" and first.total == Decimal("103.80")


def test_one_details_call_serves_a_whole_page_of_orders(registry: Registry, store: IderisSandbox) -> None:
    ids = [store.place_order(an_order()) for _ in range(7)]
    with connect(registry, store, page_size=3) as connection:
        read = [o.id for o in connection.call("receive_orders", since=None)]
    assert sorted(read) == sorted(ids)
    assert calls(store, "GET", "/ListaPedido") == 3 and calls(store, "GET", "/Pedido") == 3


def test_a_read_since_a_checkpoint_brings_only_what_changed_after_it(registry: Registry,
                                                                     store: IderisSandbox) -> None:
    old, moved = store.place_order(an_order()), store.place_order(an_order())
    with connect(registry, store) as connection:
        checkpoint = max(o.placed_at for o in connection.call("receive_orders", since=None))
        store.set_status(moved, "Em separação")
        since = list(connection.call("receive_orders", since=checkpoint))
    assert [o.id for o in since] == [moved] and since[0].status is tramo.OrderStatus.PREPARING_SHIPMENT
    assert old != moved


def test_an_order_without_a_sku_is_held_with_the_field_and_the_rest_come(
        registry: Registry, store: IderisSandbox) -> None:
    bad, good = store.place_order(an_order()), store.place_order(an_order())
    with store.lock:
        store.data["orders"][int(bad)]["Item"][0]["skuProdutoItem"] = None
    with connect(registry, store) as connection:
        found = list(connection.call("receive_orders", since=None))
    held = [f for f in found if isinstance(f, tramo.Held)]
    assert [o.id for o in found if isinstance(o, tramo.Order)] == [good]
    assert [h.remote_id for h in held] == [bad]
    assert held[0].error.field == "Pedido.Item[0].skuProdutoItem"  # type: ignore[attr-defined]


def test_a_repeated_page_stops_the_read_with_a_paging_error(registry: Registry,
                                                            store: IderisSandbox) -> None:
    for _ in range(4):
        store.place_order(an_order())
    store.inject(Fault.DUPLICATE_PAGE, where=lambda method, path: path == "/ListaPedido")
    with connect(registry, store, page_size=2, concurrency=1) as connection:
        connection.call("receive_orders", since=None)  # the first page primes the repeat
        store.inject(Fault.DUPLICATE_PAGE, where=lambda method, path: path == "/ListaPedido")
        with pytest.raises(PagingError):
            list(connection.call("receive_orders", since=None))


def test_chosen_orders_are_fetched_by_id_in_the_order_asked(registry: Registry,
                                                            store: IderisSandbox) -> None:
    first, second = store.place_order(an_order()), store.place_order(an_order())
    with connect(registry, store) as connection:
        found = list(connection.call("get_orders", ids=[second, "999999", first, "abc"]))
    assert [o.id for o in found if isinstance(o, tramo.Order)] == [second, first]
    assert sorted(h.remote_id for h in found if isinstance(h, tramo.Held)) == ["999999", "abc"]


def test_the_lists_for_mappings_are_the_order_statuses_and_the_marketplaces(
        registry: Registry, store: IderisSandbox) -> None:
    with connect(registry, store) as connection:
        statuses = {o.id for o in connection.call("list_order_statuses")}
        channels = {o.id for o in connection.call("list_sales_channels")}
    assert set(MAPPINGS["status"]) <= statuses and "Emitida" not in statuses  # a Nota Fiscal status
    assert set(MAPPINGS["channel"]) == channels


def test_a_status_is_moved_once_and_moving_it_again_changes_nothing(registry: Registry,
                                                                    store: IderisSandbox) -> None:
    ident = store.place_order(an_order())
    update = tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.INVOICED)
    with connect(registry, store) as connection:
        assert outcomes(connection.call("sync_status", updates=[update])) == [tramo.Outcome.UPDATED]
        assert outcomes(connection.call("sync_status", updates=[update])) == [tramo.Outcome.UNCHANGED]
    assert store.held_status(ident) == "Faturado" and calls(store, "PUT", "/PedidoStatus") == 1


def test_a_status_the_account_lacks_fails_clearly_without_a_write(registry: Registry,
                                                                  store: IderisSandbox) -> None:
    ident = store.place_order(an_order())
    mappings = {**MAPPINGS, "status": {**MAPPINGS["status"], "Arquivado": "delivered"}}
    mappings["status"].pop("Entregue")
    with registry.connect("ideris", store.settings, mappings=mappings, http=KIT_HTTP) as connection:
        [result] = connection.call("sync_status", updates=[
            tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.DELIVERED)])
    assert result.outcome is tramo.Outcome.FAILED and "Arquivado" in str(result.error)
    assert calls(store, "PUT", "/PedidoStatus") == 0


# -- notifications --------------------------------------------------------------------------------------


def test_a_tracking_reaches_its_url_once_and_a_second_send_makes_no_call(
        registry: Registry, store: IderisSandbox) -> None:
    ident = store.place_order(an_order())
    tracking = tramo.Tracking(order_id=ident, code="BR123456789BR", carrier="Correios")
    with connect(registry, store) as connection:
        assert outcomes(connection.call("send_tracking", trackings=[tracking])) == [tramo.Outcome.CREATED]
        assert outcomes(connection.call("send_tracking", trackings=[tracking])) == [tramo.Outcome.UNCHANGED]
    assert store.held_trackings() == {ident: ["BR123456789BR"]}
    assert len(store.notifications("rastreio")) == 1


def test_an_invoice_whose_answer_was_lost_is_sent_again_and_held_once(registry: Registry,
                                                                      store: IderisSandbox) -> None:
    ident = store.place_order(an_order())
    store.inject(Fault.TIMEOUT, where=lambda method, path: "nota-fiscal" in path)
    with connect(registry, store) as connection:
        [result] = connection.call("send_invoice", invoices=[an_invoice(ident)])
    store.settle()
    assert result.outcome is tramo.Outcome.CREATED
    assert store.held_invoices() == {ident: [an_invoice(ident).access_key]}


def test_a_notification_refused_by_its_receiver_is_failed_and_names_no_url(
        registry: Registry, store: IderisSandbox) -> None:
    tracking = tramo.Tracking(order_id="424242", code="BR1")  # no such order on the account
    with connect(registry, store) as connection:
        [result] = connection.call("send_tracking", trackings=[tracking])
        url = connection.settings["tracking_notification_url"].reveal()
    assert result.outcome is tramo.Outcome.FAILED and isinstance(result.error, tramo.PlatformError)
    assert url not in str(result.error) and url.rsplit("/", 1)[1] not in str(result.error)


# -- products, stock and prices ---------------------------------------------------------------------------


def test_a_new_product_is_created_through_its_protocol_and_reported_once_ideris_holds_it(
        registry: Registry, store: IderisSandbox) -> None:
    with connect(registry, store) as connection:
        results = connection.call("send_products", products=[a_product(), with_sizes()])
    assert outcomes(results) == [tramo.Outcome.CREATED] * 2 and all(r.remote_id for r in results)
    held = {p.code: p for p in store.held_products()}
    assert held["CANECA"].brand == tramo.Brand(id=held["CANECA"].brand.id, name="Tramontina")  # type: ignore[union-attr]
    assert [v.sku for v in held["CAMISETA"].variants] == ["CAMISETA-P", "CAMISETA-M", "CAMISETA-G"]
    assert calls(store, "POST", "/Produto") == 2


def test_sending_a_product_again_changes_nothing_and_a_change_is_one_partial_put(
        registry: Registry, store: IderisSandbox) -> None:
    with connect(registry, store) as connection:
        connection.call("send_products", products=[a_product()])
        assert outcomes(connection.call("send_products", products=[a_product()])) == [tramo.Outcome.UNCHANGED]
        renamed = a_product(name="Caneca nova")
        assert outcomes(connection.call("send_products", products=[renamed])) == [tramo.Outcome.UPDATED]
    assert [p.name for p in store.held_products()] == ["Caneca nova"]
    assert calls(store, "POST", "/Produto") == 1 and calls(store, "PUT", "/Produto") == 1


def test_a_creation_ideris_refuses_is_failed_with_its_message(registry: Registry,
                                                              store: IderisSandbox) -> None:
    store.refuse_creation("CANECA", "Imagem inválida")
    with connect(registry, store) as connection:
        results = connection.call("send_products", products=[a_product(), a_product("PRATO")])
    assert outcomes(results) == [tramo.Outcome.FAILED, tramo.Outcome.CREATED]
    assert "Imagem inválida" in str(results[0].error)
    assert [p.code for p in store.held_products()] == ["PRATO"]


def test_a_creation_still_pending_is_followed_later_never_submitted_twice(
        registry: Registry, store: IderisSandbox) -> None:
    store.configure_protocols(delay=200.0)  # 2 s at the sandbox's time scale
    state = tramo.StateStore()
    with connect(registry, store, state, protocol_wait_seconds=0) as connection:
        [first] = connection.call("send_products", products=[a_product()])
    assert first.outcome is tramo.Outcome.FAILED and "still processing" in str(first.error)
    assert store.held_products() == []
    with connect(registry, store, state) as again:  # follows the protocol until it is done
        [second] = again.call("send_products", products=[a_product()])
    assert second.outcome is tramo.Outcome.CREATED
    assert calls(store, "POST", "/Produto") == 1


def test_new_products_wait_together_not_one_after_another(registry: Registry,
                                                          store: IderisSandbox) -> None:
    store.configure_protocols(delay=20.0)  # 0.2 s each at the sandbox's time scale
    products = [a_product(f"P{i}") for i in range(6)]
    with connect(registry, store) as connection:
        results = connection.call("send_products", products=products)
    assert outcomes(results) == [tramo.Outcome.CREATED] * 6
    looks = calls(store, "GET", "/Protocolo")
    assert looks < 6 * 3 + 6, looks  # rounds over all pending, plus one look per finished protocol


def test_stock_of_variations_goes_in_one_put_per_product(registry: Registry, store: IderisSandbox) -> None:
    levels = [tramo.StockLevel(sku=f"CAMISETA-{s}", quantity=q) for s, q in (("P", 3), ("M", 0), ("G", 7))]
    with connect(registry, store) as connection:
        connection.call("send_products", products=[with_sizes(), a_product()])
        puts = calls(store, "PUT", "/Produto")
        results = connection.call("send_stock", levels=[*levels, tramo.StockLevel(sku="CANECA", quantity=5)])
    assert outcomes(results) == [tramo.Outcome.UPDATED] * 4
    assert store.held_stock() == {"CAMISETA-P": 3, "CAMISETA-M": 0, "CAMISETA-G": 7, "CANECA": 5}
    assert calls(store, "PUT", "/Produto") - puts == 2


def test_stock_for_a_product_with_variations_or_an_unknown_sku_fails_and_the_rest_go(
        registry: Registry, store: IderisSandbox) -> None:
    with connect(registry, store) as connection:
        connection.call("send_products", products=[with_sizes()])
        results = connection.call("send_stock", levels=[
            tramo.StockLevel(sku="CAMISETA", quantity=1), tramo.StockLevel(sku="NOPE", quantity=1),
            tramo.StockLevel(sku="CAMISETA-P", quantity=2)])
    assert outcomes(results) == [tramo.Outcome.FAILED, tramo.Outcome.FAILED, tramo.Outcome.UPDATED]
    assert store.held_stock()["CAMISETA-P"] == 2


def test_a_price_goes_under_the_product_code_and_a_variation_sku_is_refused(
        registry: Registry, store: IderisSandbox) -> None:
    with connect(registry, store) as connection:
        connection.call("send_products", products=[with_sizes()])
        results = connection.call("send_prices", prices=[
            tramo.Price(sku="CAMISETA", list_price=Decimal("49.90")),
            tramo.Price(sku="CAMISETA-P", list_price=Decimal("45.00"))])
        again = connection.call("send_prices", prices=[tramo.Price(sku="CAMISETA", list_price=Decimal("49.90"))])
    assert outcomes(results) == [tramo.Outcome.UPDATED, tramo.Outcome.FAILED]
    assert isinstance(results[1].error, tramo.ValidationError) and "CAMISETA" in str(results[1].error)
    assert outcomes(again) == [tramo.Outcome.UNCHANGED]
    assert store.held_prices()["CAMISETA"].list_price == Decimal("49.90")


def test_the_catalogue_reads_back_what_was_sent(registry: Registry, store: IderisSandbox) -> None:
    sent = [a_product(), with_sizes()]
    with connect(registry, store, page_size=1) as connection:
        connection.call("send_products", products=sent)
        read = {p.code: p for p in connection.call("receive_products", since=None)}
    assert set(read) == {"CANECA", "CAMISETA"}
    assert read["CANECA"].price == Decimal("39.90") and read["CANECA"].weight_kg == Decimal("0.35")
    assert [v.attributes for v in read["CAMISETA"].variants] == [v.attributes for v in sent[1].variants]
    assert read["CAMISETA"].brand is not None and read["CAMISETA"].brand.name == "Tramontina"


def test_a_product_without_a_brand_takes_the_connection_s_brand_and_reads_back_without_one(
        registry: Registry, store: IderisSandbox) -> None:
    with connect(registry, store) as connection:
        [result] = connection.call("send_products", products=[a_product(brand=None)])
        [read] = connection.call("receive_products", since=None)
    assert result.outcome is tramo.Outcome.CREATED and read.brand is None


def test_creating_without_the_account_s_category_ids_is_failed_naming_the_setting(
        registry: Registry, store: IderisSandbox) -> None:
    settings = {k: v for k, v in store.settings.items() if k != "category_id"}
    with registry.connect("ideris", settings, mappings=MAPPINGS, http=KIT_HTTP) as connection:
        [result] = connection.call("send_products", products=[a_product()])
        report = connection.check()
    assert result.outcome is tramo.Outcome.FAILED and "category_id" in str(result.error)
    assert any("category_id" in p for p in report.problems)
    assert calls(store, "POST", "/Produto") == 0


def test_a_brand_is_found_by_name_before_one_is_created(registry: Registry, store: IderisSandbox) -> None:
    with connect(registry, store) as connection:
        connection.call("send_products", products=[a_product("A1")])
    with connect(registry, store) as fresh:  # no bindings: the brand is looked up by name
        fresh.call("send_products", products=[a_product("A2", brand=tramo.Brand(id="other", name="TRAMONTINA"))])
    assert calls(store, "POST", "/Marca") == 1
    assert {p.brand.name for p in store.held_products() if p.brand} == {"Tramontina"}


def test_a_variant_the_platform_cannot_keep_is_held_before_any_call(registry: Registry,
                                                                    store: IderisSandbox) -> None:
    spoiled = attrs.evolve(with_sizes(), variants=[tramo.Variant(sku="X-1")])
    with connect(registry, store) as connection:
        before = len(store.calls)
        [result] = connection.call("send_products", products=[spoiled])
    assert result.outcome is tramo.Outcome.HELD and len(store.calls) == before


def test_a_429_is_waited_out_and_the_read_goes_on(registry: Registry, store: IderisSandbox) -> None:
    ident = store.place_order(an_order())
    store.configure(retry_after=0.01)
    store.inject(Fault.RATE_LIMITED, times=2, where=lambda method, path: path == "/ListaPedido")
    with connect(registry, store) as connection:
        assert [o.id for o in connection.call("receive_orders", since=None)] == [ident]
    assert [c.status for c in store.calls_to("/ListaPedido")] == [429, 429, 200]

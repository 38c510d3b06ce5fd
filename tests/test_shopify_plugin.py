"""The shopify plugin against its sandbox: every capability, the cost bucket, bulk reads, webhooks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import graphql
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import tramo
from tramo.model.identifiers import cpf_check_digits, nfe_key_check_digit
from tramo.registry import Registry, discover
from tramo.testing.kit import connect_to
import tramo_shopify.client
import tramo_shopify.wire
import tramo.sandbox
from tramo_shopify import operations
from tramo_shopify.sandbox import WEBHOOK_SECRET, ShopifySandbox
from tramo_shopify.sandbox_profile import MAPPINGS
from tramo_shopify.sandbox_records import objects

CPF = "529982247" + cpf_check_digits("529982247")
WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return discover(allow=["shopify"])


@pytest.fixture(scope="module")
def running() -> Iterator[ShopifySandbox]:
    with ShopifySandbox() as sandbox:
        yield sandbox


@pytest.fixture
def shop(running: ShopifySandbox) -> Iterator[ShopifySandbox]:
    running.reset()
    yield running
    assert running.errors == [], running.errors


#: the sandbox's tables, plus the shipping and payment values the orders below carry
HOST_MAPPINGS = {**MAPPINGS, "shipping": {"SEDEX": "SEDEX"}, "payment": {"pix": "PIX"}}


def connect(registry: Registry, shop: ShopifySandbox, *, mappings: Any = None,
            **settings: Any) -> tramo.Connection:
    return connect_to(shop, registry, mappings=HOST_MAPPINGS if mappings is None else mappings, **settings)


def a_product(code: str = "CANECA", **changes: Any) -> tramo.Product:
    fields: dict[str, Any] = dict(code=code, name="Caneca esmaltada", price=Decimal("39.90"),
                                  brand=tramo.Brand(id="B1", name="Tramontina"), gtin=None,
                                  weight_kg=Decimal("0.35"), images=["https://img.example.com/1.jpg"])
    return tramo.Product(**{**fields, **changes})


def with_sizes(code: str = "CAMISETA") -> tramo.Product:
    sizes = [tramo.Variant(sku=f"{code}-{s}", attributes=[tramo.Attribute(name="Tamanho", value=s)],
                           price=Decimal("59.90")) for s in ("P", "M", "G")]
    return a_product(code, name="Camiseta", variants=sizes)


def an_order(sku: str = "CANECA", **changes: Any) -> tramo.Order:
    customer = tramo.Customer(name="Ana Souza", cpf=CPF, email="ana@example.com.br")
    address = tramo.Address(street="Rua Augusta", number="100", city="São Paulo", state="SP",
                            postal_code="01305000")
    fields: dict[str, Any] = dict(
        id="x", placed_at=WHEN, customer=customer, total=Decimal("103.80"), platform_status="PAID",
        items=[tramo.OrderItem(sku=sku, name="Caneca", quantity=2, unit_price=Decimal("39.90"))],
        delivery_address=address, shipping=tramo.Shipping(platform_method="SEDEX", freight=Decimal("24.00")),
        payments=[tramo.Payment(value=Decimal("103.80"), platform_method="pix")])
    return tramo.Order(**{**fields, **changes})


def invoice_for(order_id: str, number: int = 1234) -> tramo.Invoice:
    body = f"352601{'12345678000195'}55001{number:09d}1{'12345678'}"
    key = body + nfe_key_check_digit(body)
    return tramo.Invoice(order_id=order_id, number=str(int(key[25:34])), series=str(int(key[22:25])),
                         access_key=key, issued_at=WHEN, value=Decimal("103.80"))


# -- the operations and the schema --------------------------------------------------------------


def test_every_operation_the_plugin_sends_is_valid_against_the_schema() -> None:
    schema = graphql.build_schema(operations.SCHEMA_PATH.read_text())
    documents = dict(operations.OPERATIONS)
    documents["bulk products"] = operations.bulk_products("tramo", "erp_code", "updated_at:>'2026-01-01'")
    documents["bulk orders"] = operations.bulk_orders("nfe", "status:open")
    for name, document in documents.items():
        errors = graphql.validate(schema, graphql.parse(document))
        assert not errors, f"{name}: {[e.message for e in errors]}"


def test_a_field_missing_from_the_schema_fails_validation() -> None:
    schema = graphql.build_schema(operations.SCHEMA_PATH.read_text())
    assert graphql.validate(schema, graphql.parse("query { shop { nosuchfield } }"))


# -- connection --------------------------------------------------------------------------------


def test_check_connection_reports_the_shop_and_its_locations(registry: Registry, shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection:
        report = connection.check()
    assert report.ok, report.problems
    assert "Depósito SP" in report.details["locations"]


def test_a_wrong_token_is_an_authentication_error_and_never_shown(registry: Registry,
                                                                   shop: ShopifySandbox) -> None:
    with connect(registry, shop, access_token="shpat_wrong_token_123") as connection:
        report = connection.check()
        with pytest.raises(tramo.AuthenticationError) as caught:
            list(connection.call("receive_orders", since=WHEN))
        seen = " ".join(report.problems) + str(caught.value) + repr(connection)
    assert "AuthenticationError" in " ".join(report.problems)
    assert "shpat_wrong_token_123" not in seen


# -- catalogue ---------------------------------------------------------------------------------


def test_products_upsert_by_code_and_read_back(registry: Registry, shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection:
        [first, second] = connection.call("send_products", products=[a_product(), with_sizes()])
        assert first.outcome is tramo.Outcome.CREATED and second.outcome is tramo.Outcome.CREATED
        before = len(shop.calls)
        again = connection.call("send_products", products=[a_product(), with_sizes()])
        assert [r.outcome for r in again] == [tramo.Outcome.UNCHANGED] * 2
        assert len(shop.calls) == before  # the same input as last sent: no call at all
        renamed = connection.call("send_products", products=[a_product(name="Caneca grande")])
        assert renamed[0].outcome is tramo.Outcome.UPDATED and renamed[0].remote_id == first.remote_id
    held = {p.code: p for p in shop.held_products()}
    assert set(held) == {"CANECA", "CAMISETA"}
    assert held["CANECA"].name == "Caneca grande" and held["CANECA"].price == Decimal("39.90")
    assert [v.sku for v in held["CAMISETA"].variants] == ["CAMISETA-P", "CAMISETA-M", "CAMISETA-G"]


def test_a_lost_state_still_updates_the_product_with_the_same_code(registry: Registry,
                                                                    shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection:
        connection.call("send_products", products=[a_product()])
    with connect(registry, shop) as fresh:  # a new state: no binding, no definition marker
        [result] = fresh.call("send_products", products=[a_product(name="Outra")])
    assert result.ok
    assert [p.name for p in shop.held_products()] == ["Outra"]


def test_a_product_shopify_would_refuse_is_held_before_any_call(registry: Registry,
                                                                 shop: ShopifySandbox) -> None:
    bad = a_product(variants=[tramo.Variant(sku="A", attributes=[tramo.Attribute(name="Cor", value="Azul")]),
                              tramo.Variant(sku="B")])
    with connect(registry, shop) as connection:
        [result] = connection.call("send_products", products=[bad])
    assert result.outcome is tramo.Outcome.HELD and "variants[1].attributes" in str(result.error)
    assert not shop.calls


def test_categories_become_collections_once_and_products_join_them(registry: Registry,
                                                                    shop: ShopifySandbox) -> None:
    categories = [tramo.Category(id="10", name="Cozinha"), tramo.Category(id="11", name="Canecas", parent_id="10")]
    with connect(registry, shop) as connection:
        first = connection.call("map_categories", categories=categories)
        second = connection.call("map_categories", categories=categories)
        assert [r.outcome for r in first] == [tramo.Outcome.CREATED] * 2
        assert [r.remote_id for r in second] == [r.remote_id for r in first]
        [sent] = connection.call("send_products", products=[a_product(categories=["11"])])
        assert sent.ok
        [unmapped] = connection.call("send_products", products=[a_product("X", categories=["99"])])
        assert unmapped.outcome is tramo.Outcome.HELD
    with connect(registry, shop) as fresh:  # another host finds the same collections by handle
        again = fresh.call("map_categories", categories=categories)
    assert [r.remote_id for r in again] == [r.remote_id for r in first]


def test_stock_is_set_per_location_and_a_concurrent_sale_is_not_overwritten(registry: Registry,
                                                                            shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection:
        connection.call("send_products", products=[with_sizes()])
        levels = [tramo.StockLevel(sku="CAMISETA-P", quantity=5), tramo.StockLevel(sku="CAMISETA-M", quantity=7),
                  tramo.StockLevel(sku="CAMISETA-G", quantity=2, warehouse="Loja RJ")]
        results = connection.call("send_stock", levels=levels)
        assert [r.outcome for r in results] == [tramo.Outcome.UPDATED] * 3
        assert shop.held_stock()["CAMISETA-P"] == 5 and shop.held_stock()["CAMISETA-M"] == 7
        again = connection.call("send_stock", levels=levels)
        assert [r.outcome for r in again] == [tramo.Outcome.UNCHANGED] * 3
        unknown = connection.call("send_stock", levels=[tramo.StockLevel(sku="NOPE", quantity=1)])
        assert unknown[0].outcome is tramo.Outcome.FAILED and "NOPE" in str(unknown[0].error)
        elsewhere = connection.call("send_stock", levels=[tramo.StockLevel(sku="CAMISETA-P", quantity=1,
                                                                            warehouse="CD-2")])
        assert elsewhere[0].outcome is tramo.Outcome.HELD


def test_a_stock_write_races_a_sale_and_reports_it(registry: Registry, shop: ShopifySandbox,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tramo_shopify import catalog
    with connect(registry, shop) as connection:
        connection.call("send_products", products=[a_product()])
        connection.call("send_stock", levels=[tramo.StockLevel(sku="CANECA", quantity=10)])
        read = catalog._quantities

        def read_then_sell(*args: Any) -> Any:
            held = read(*args)
            shop.place_order(an_order())  # a buyer takes 2 units between the read and the write
            return held

        monkeypatch.setattr(catalog, "_quantities", read_then_sell)
        [result] = connection.call("send_stock", levels=[tramo.StockLevel(sku="CANECA", quantity=20)])
    assert result.outcome is tramo.Outcome.FAILED and "not overwritten" in str(result.error)
    assert shop.held_stock()["CANECA"] == 8


def test_base_prices_and_price_list_prices(registry: Registry, shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection:
        connection.call("send_products", products=[with_sizes()])
        prices = [tramo.Price(sku="CAMISETA-P", list_price=Decimal("69.90"), sale_price=Decimal("49.90")),
                  tramo.Price(sku="CAMISETA-M", list_price=Decimal("59.90"), price_list="Atacado"),
                  tramo.Price(sku="CAMISETA-G", list_price=Decimal("12.00"), currency="USD", price_list="USA")]
        results = connection.call("send_prices", prices=prices)
        assert [r.outcome for r in results] == [tramo.Outcome.UPDATED] * 3, results
        again = connection.call("send_prices", prices=prices)
        assert [r.outcome for r in again] == [tramo.Outcome.UNCHANGED] * 3
        wrong = connection.call("send_prices", prices=[
            tramo.Price(sku="CAMISETA-P", list_price=Decimal(1), price_list="Nenhuma"),
            tramo.Price(sku="CAMISETA-P", list_price=Decimal(1), currency="USD"),
            tramo.Price(sku="CAMISETA-P", list_price=Decimal(1), promotional_price=Decimal("0.5"))])
        assert [r.outcome for r in wrong] == [tramo.Outcome.FAILED, tramo.Outcome.HELD, tramo.Outcome.HELD]
    held = shop.held_prices()["CAMISETA-P"]
    assert (held.list_price, held.sale_price) == (Decimal("69.90"), Decimal("49.90"))
    assert shop.held_list_prices()[("Atacado", "CAMISETA-M")].list_price == Decimal("59.90")


def test_receive_products_reads_in_bulk_first_and_incrementally_after(registry: Registry,
                                                                     shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection:
        connection.call("send_products", products=[a_product(), with_sizes()])
        everything = list(connection.call("receive_products", since=None))
        assert any(c.path.startswith("/bulk/") for c in shop.calls)  # the first read went in bulk
        by_code = {p.code: p for p in everything}
        assert set(by_code) == {"CANECA", "CAMISETA"}
        assert [v.sku for v in by_code["CAMISETA"].variants] == ["CAMISETA-P", "CAMISETA-M", "CAMISETA-G"]
        assert by_code["CANECA"].sku == "CANECA" and by_code["CANECA"].images == ("https://img.example.com/1.jpg",)
        later = max(p.updated_at for p in everything)
        connection.call("send_products", products=[a_product(name="Nova caneca")])
        changed = list(connection.call("receive_products", since=later))
    assert [p.code for p in changed if p.updated_at > later] == ["CANECA"]


def at_graphql(method: str, path: str) -> bool:
    return path.endswith("/graphql.json")


@pytest.mark.parametrize("version", ["2025-10", "2026-10"])
def test_a_bulk_start_whose_answer_is_lost_is_sent_again_and_the_read_completes(
        registry: Registry, shop: ShopifySandbox, version: str) -> None:
    placed = [shop.place_order(an_order()) for _ in range(3)]
    shop.configure(hang=0.7)  # past the kit's read timeout, then the first start goes through
    shop.inject(tramo.sandbox.Fault.TIMEOUT, where=at_graphql)
    with connect(registry, shop, api_version=version) as connection:
        read = [o.id for o in connection.call("receive_orders", since=None)]
    assert shop.settle(timeout=5)
    assert sorted(read) == sorted(placed)
    [lost] = [c for c in shop.calls if c.fault is tramo.sandbox.Fault.TIMEOUT]
    assert lost.query == "mutation bulkOperationRunQuery"


def test_a_bulk_start_refused_while_the_same_read_runs_follows_that_run(
        registry: Registry, shop: ShopifySandbox) -> None:
    """Before 2026-01 one bulk query runs at a time: a start that arrived, whose answer was lost,
    makes the resend's OPERATION_IN_PROGRESS; the running read is the one to follow."""
    placed = [shop.place_order(an_order()) for _ in range(3)]
    with connect(registry, shop, api_version="2025-10") as connection:
        client = tramo_shopify.client.api(connection)
        shop.configure(time_scale=0.02)  # the earlier start waits 2.5 real seconds before it runs
        earlier = client.mutate("BULK_RUN", "bulkOperationRunQuery",
                                {"query": operations.bulk_orders("nfe", "status:open")})
        shop.configure(time_scale=1.0)
        read = [o.id for o in connection.call("receive_orders", since=None)]
    asked = [c.query for c in shop.calls if at_graphql(c.method, c.path)]
    assert asked.count("mutation bulkOperationRunQuery") == 2
    assert "query currentBulkOperation" in asked
    assert sorted(read) == sorted(placed)
    [only] = objects(shop.data, "BulkOperation")  # the resend started none of its own
    assert only["id"] == earlier["bulkOperation"]["id"] and only["status"] == "COMPLETED"


def test_a_bulk_start_refused_for_another_running_read_is_an_error(registry: Registry,
                                                                   shop: ShopifySandbox) -> None:
    shop.place_order(an_order())
    with connect(registry, shop, api_version="2025-10") as connection:
        shop.configure(time_scale=0.001)  # jobs wait: the other read stays in progress
        client = tramo_shopify.client.api(connection)
        client.mutate("BULK_RUN", "bulkOperationRunQuery", {"query": "{ products { nodes { id } } }"})
        with pytest.raises(tramo.PlatformError) as refused:
            list(connection.call("receive_orders", since=None))
    assert refused.value.code == "OPERATION_IN_PROGRESS"


# -- orders ------------------------------------------------------------------------------------


def test_orders_are_read_incrementally_with_edits(registry: Registry, shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection:
        connection.call("send_products", products=[a_product()])
        first = shop.place_order(an_order())
        [order] = [o for o in connection.call("receive_orders", since=None) if isinstance(o, tramo.Order)]
        assert order.id == first and order.customer.cpf == CPF and order.status is tramo.OrderStatus.APPROVED
        assert order.delivery_address.street == "Rua Augusta" and order.freight == Decimal("24.00")
        checkpoint = order.updated_at
        shop.edit_order(first, "CANECA", 1)
        second = shop.place_order(an_order())
        changed = [o for o in connection.call("receive_orders", since=checkpoint) if isinstance(o, tramo.Order)]
    by_id = {o.id: o for o in changed}
    assert set(by_id) >= {first, second}
    edited = by_id[first]
    assert edited.items[0].quantity == 1 and edited.edits[0].changes[0].previous_quantity == 2


def test_many_orders_page_through_cursors(registry: Registry, shop: ShopifySandbox) -> None:
    placed = [shop.place_order(an_order()) for _ in range(11)]
    with connect(registry, shop, page_size=3, bulk_import=False) as connection:
        read = [o.id for o in connection.call("receive_orders", since=None)]
        fetched = [o.id for o in connection.call("get_orders", ids=placed[:2])]
    assert sorted(read) == sorted(placed) and len(read) == len(set(read))
    assert fetched == placed[:2]


def test_each_answer_is_parsed_once(registry: Registry, shop: ShopifySandbox,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The throttle check, the cost report and the data read share one parse of the body."""
    for _ in range(5):
        shop.place_order(an_order())
    parsed: list[bytes] = []
    parse = tramo_shopify.wire.parse
    monkeypatch.setattr(tramo_shopify.wire, "parse", lambda content: parsed.append(content) or parse(content))
    with connect(registry, shop, page_size=2, bulk_import=False) as connection:
        read = list(connection.call("receive_orders", since=None))
    answers = [c for c in shop.calls if at_graphql(c.method, c.path)]
    assert len(read) == 5 and len(answers) >= 3
    assert len(parsed) == len(answers)


def test_a_fresh_client_on_a_drained_bucket_waits_for_what_the_query_costs(
        registry: Registry, shop: ShopifySandbox) -> None:
    """A client that never saw an operation guesses its cost; when Shopify throttles it, the
    answer says what it costs, and the resend waits for that many points, not the guess."""
    for _ in range(3):
        shop.place_order(an_order())
    shop.configure(time_scale=5)  # 500 points a real second: the wait stays short
    with connect(registry, shop, page_size=100, bulk_import=False) as connection:
        shop.bucket.take(shop.bucket.available() - 20)  # another app drained the shop's bucket
        read = list(connection.call("receive_orders", since=None))
    assert len(read) == 3
    assert shop.throttled >= 1  # the guess was refused at least once, and the read went on


def test_an_order_with_a_bad_document_is_held_and_the_rest_go_on(registry: Registry, shop: ShopifySandbox) -> None:
    good = shop.place_order(an_order())
    bad = shop.place_order(an_order(customer=tramo.Customer(name="Sem CPF")))
    shop.set_attribute(bad, "cpf_cnpj", "123")
    with connect(registry, shop, bulk_import=False) as connection:
        read = list(connection.call("receive_orders", since=None))
    orders = [r for r in read if isinstance(r, tramo.Order)]
    held = [r for r in read if isinstance(r, tramo.Held)]
    assert [o.id for o in orders] == [good]
    assert [h.remote_id for h in held] == [bad] and "cpf_cnpj" in str(held[0].error)


def test_tracking_invoice_delivery_and_paid(registry: Registry, shop: ShopifySandbox) -> None:
    ident = shop.place_order(an_order(payments=[]))
    with connect(registry, shop) as connection:
        [paid] = connection.call("sync_status", updates=[tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.APPROVED)])
        assert paid.outcome is tramo.Outcome.UPDATED and shop.held_status(ident) == "PAID"
        tracking = tramo.Tracking(order_id=ident, code="BR123456789BR", carrier="Correios")
        assert connection.call("send_tracking", trackings=[tracking])[0].outcome is tramo.Outcome.CREATED
        assert connection.call("send_tracking", trackings=[tracking])[0].outcome is tramo.Outcome.UNCHANGED
        invoice = invoice_for(ident)
        assert connection.call("send_invoice", invoices=[invoice])[0].outcome is tramo.Outcome.CREATED
        assert connection.call("send_invoice", invoices=[invoice])[0].outcome is tramo.Outcome.UNCHANGED
        delivered = connection.call("mark_delivered", orders=[tramo.Delivery(order_id=ident)])
        assert delivered[0].outcome is tramo.Outcome.UPDATED
        assert connection.call("mark_delivered", orders=[tramo.Delivery(order_id=ident)])[0].outcome \
            is tramo.Outcome.UNCHANGED
    assert shop.held_trackings()[ident] == ["BR123456789BR"]
    assert shop.held_invoices()[ident] == [invoice.access_key]
    assert shop.held_status(ident) == "DELIVERED"


def test_a_cancellation_follows_its_job_to_the_end(registry: Registry, shop: ShopifySandbox) -> None:
    ident = shop.place_order(an_order())
    with connect(registry, shop) as connection:
        [result] = connection.call("send_cancellation", cancellations=[
            tramo.Cancellation(order_id=ident, reason="customer", refund=True)])
        assert result.outcome is tramo.Outcome.UPDATED
        assert shop.held_status(ident) == "CANCELLED"  # reported done only once the job finished
        [again] = connection.call("send_cancellation", cancellations=[
            tramo.Cancellation(order_id=ident, reason="customer")])
    assert again.outcome is tramo.Outcome.UNCHANGED


def test_a_status_shopify_sets_itself_is_refused_clearly(registry: Registry, shop: ShopifySandbox) -> None:
    ident = shop.place_order(an_order())
    with connect(registry, shop, mappings={"status": {"PENDING": "open", "PAID": "approved"}}) as connection:
        [result] = connection.call("sync_status", updates=[tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.OPEN)])
    assert result.outcome is tramo.Outcome.FAILED and "Shopify sets PENDING itself" in str(result.error)


# -- cost bucket -------------------------------------------------------------------------------


def test_a_small_bucket_slows_the_run_down_but_never_throttles_it(registry: Registry, shop: ShopifySandbox) -> None:
    shop.configure_bucket(size=60, restore_rate=400)
    products = [a_product(f"P{i}") for i in range(12)]
    with connect(registry, shop, bucket_size=60, restore_rate=400) as connection:
        results = connection.call("send_products", products=products)
    assert all(r.ok for r in results)
    assert shop.throttled == 0


def test_a_throttled_answer_is_waited_out_and_sent_again(registry: Registry, shop: ShopifySandbox) -> None:
    # another app on the same shop empties the bucket between two of the plugin's calls: the
    # plugin's next call is THROTTLED, waited out and sent again
    shop.configure_bucket(size=100, restore_rate=500)
    with connect(registry, shop) as connection:
        assert connection.call("send_products", products=[a_product("P0")])[0].ok
        assert shop.bucket.take(shop.bucket.available())  # the other app
        results = connection.call("send_products", products=[a_product(f"P{i}") for i in range(1, 4)])
    assert all(r.ok for r in results), results
    assert shop.throttled >= 1


# -- webhooks ------------------------------------------------------------------------------------


class Receiver:
    """The host's webhook endpoint on loopback: hands each delivery to the connection."""

    def __init__(self, connection: tramo.Connection) -> None:
        self.connection = connection
        self.events: list[tramo.WebhookEvent] = []
        self.refused = 0
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/webhooks"

    def app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        try:
            self.events.extend(self.connection.call("parse_webhook", headers=dict(request.headers),
                                                    body=request.get_data()))
            response = Response("ok")
        except tramo.AuthenticationError:
            self.refused += 1
            response = Response("bad signature", 401)
        return response(environ, start_response)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


def test_webhooks_are_verified_deduplicated_and_fetched_like_polled_orders(registry: Registry,
                                                                           shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection, Receiver(connection) as receiver:
        from tramo_shopify.orders import subscribe
        subscribe(connection, receiver.url)
        ident = shop.place_order(an_order())
        shop.flush(5)
        [delivery] = [d for d in shop.deliveries if d.topic == "orders/create"]
        shop.redeliver(delivery.webhook_id)
        shop.flush(5)
        created = [e for e in receiver.events if e.action == "orders/create"]
        assert [e.remote_id for e in created] == [ident]  # the repeated delivery was dropped
        [by_webhook] = connection.call("get_orders", ids=[created[0].remote_id])
        [by_polling] = connection.call("receive_orders", since=WHEN)
    assert by_webhook == by_polling
    assert receiver.refused == 0


def test_a_forged_webhook_is_refused(registry: Registry, shop: ShopifySandbox) -> None:
    with connect(registry, shop) as connection:
        with pytest.raises(tramo.AuthenticationError):
            connection.call("parse_webhook", headers={"X-Shopify-Hmac-Sha256": "AAAA",
                                                      "X-Shopify-Topic": "orders/create"}, body=b'{"id": 1}')
    assert WEBHOOK_SECRET not in repr(connection)


def test_long_orders_and_products_are_read_whole_past_their_first_page(registry: Registry,
                                                                      shop: ShopifySandbox) -> None:
    lines = [tramo.OrderItem(sku=f"L{i:02d}", name=f"Item {i}", quantity=1, unit_price=Decimal("1.00"))
             for i in range(13)]
    ident = shop.place_order(an_order(items=lines, total=Decimal("37.00")))
    colours = [tramo.Variant(sku=f"V{i:02d}", attributes=[tramo.Attribute(name="Cor", value=f"C{i}")])
               for i in range(23)]
    with connect(registry, shop, bulk_import=False) as connection:
        [order] = connection.call("receive_orders", since=None)
        connection.call("send_products", products=[a_product(variants=colours)])
        [product] = connection.call("receive_products", since=WHEN)
    # a page of orders holds each order's first 10 lines
    assert order.id == ident and [i.sku for i in order.items] == [f"L{i:02d}" for i in range(13)]
    assert [v.sku for v in product.variants] == [f"V{i:02d}" for i in range(23)]  # a page holds 20


def test_a_product_s_first_category_names_its_product_type(registry: Registry, shop: ShopifySandbox) -> None:
    from tramo_shopify.sandbox_records import objects
    with connect(registry, shop) as connection:
        connection.call("map_categories", categories=[tramo.Category(id="11", name="Canecas")])
        connection.call("send_products", products=[a_product(categories=["11"])])
    [product] = objects(shop.data, "Product")
    assert product["productType"] == "Canecas"


def test_an_older_api_version_sets_stock_with_compare_quantity_and_no_directive(
        registry: Registry, shop: ShopifySandbox) -> None:
    with connect(registry, shop, api_version="2025-10") as connection:
        connection.call("send_products", products=[a_product()])
        [result] = connection.call("send_stock", levels=[tramo.StockLevel(sku="CANECA", quantity=4)])
    assert result.outcome is tramo.Outcome.UPDATED and shop.held_stock()["CANECA"] == 4
    assert all("/2025-10/" in c.path for c in shop.calls if "graphql" in c.path)

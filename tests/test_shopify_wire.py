"""Shopify JSON <-> the tramo model, and Shopify's answers as typed errors (no I/O)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

import tramo
from tramo.model import Attribute, Product, Variant
from tramo.testing import strategies as s
from tramo_shopify import bulk, wire

#: documented Shopify payloads (each with its .source.txt), copied from the shared reference
PAYLOADS = Path(__file__).parent / "fixtures" / "shopify"
UTC = timezone.utc


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "BRL"}}


def order_node(**changes: Any) -> dict[str, Any]:
    node = {
        "id": "gid://shopify/Order/1001", "name": "#1001", "createdAt": "2026-01-05T12:00:00Z",
        "processedAt": "2026-01-05T12:00:00Z", "updatedAt": "2026-01-05T12:00:05Z",
        "cancelledAt": None, "email": "ana@example.com", "phone": "+5511999990000",
        "currencyCode": "BRL", "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "UNFULFILLED",
        "edited": False, "sourceName": "web", "note": None,
        "customAttributes": [{"key": "cpf_cnpj", "value": "529.982.247-25"}],
        "totalPriceSet": money("115.00"), "currentTotalPriceSet": money("115.00"),
        "currentTotalDiscountsSet": money("5.00"),
        "customer": {"id": "gid://shopify/Customer/7", "displayName": "Ana Souza", "firstName": "Ana",
                     "lastName": "Souza", "email": "ana@example.com", "phone": None},
        "shippingAddress": {"name": "Ana Souza", "address1": "Rua das Flores, 123", "address2": "Apto 4",
                            "city": "São Paulo", "provinceCode": "SP", "zip": "01310-100",
                            "countryCodeV2": "BR", "phone": None},
        "billingAddress": None,
        "shippingLines": {"nodes": [{"title": "Sedex", "code": "SEDEX", "source": "correios",
                                     "carrierIdentifier": None, "originalPriceSet": money("20.00"),
                                     "discountedPriceSet": money("20.00")}]},
        "transactions": [{"kind": "SALE", "status": "SUCCESS", "gateway": "pix",
                          "processedAt": "2026-01-05T12:00:01Z", "amountSet": money("115.00")},
                         {"kind": "AUTHORIZATION", "status": "FAILURE", "gateway": "card",
                          "processedAt": None, "amountSet": money("115.00")}],
        "fulfillments": [],
        "lineItems": {"nodes": [
            {"id": "gid://shopify/LineItem/1", "name": "Camiseta - Azul", "sku": "CAM-AZ", "quantity": 2,
             "currentQuantity": 2, "originalUnitPriceSet": money("50.00"), "totalDiscountSet": money("5.00")}]},
    }
    node.update(changes)
    return node


# -- answers ----------------------------------------------------------------------------------


def test_the_cost_report_of_a_documented_answer_reads_back() -> None:
    report = wire.cost_of(payload("graphql_bulkOperationRunQuery_response.json"))
    assert report == wire.Cost(requested=10, actual=10, maximum=2000, available=1990, restore_rate=100)


def test_a_throttled_answer_is_a_refusal_and_a_rate_limited_error_once_retries_end() -> None:
    answer = payload("graphql_throttled_error_response.json")
    assert wire.is_throttled(answer)
    assert wire.cost_of(answer).actual is None
    with pytest.raises(tramo.RateLimitedError):
        wire.read_answer(200, json.dumps(answer).encode(), "Orders")


def test_refused_credentials_and_query_errors_are_typed() -> None:
    body = b'{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}'
    with pytest.raises(tramo.AuthenticationError, match="Invalid API key"):
        wire.read_answer(401, body, "Shop")
    with pytest.raises(tramo.ConfigurationError, match="api_version"):
        wire.read_answer(404, b'{"errors":"Not Found"}', "Shop")
    errors = {"errors": [{"message": "Field 'nope' doesn't exist on type 'Order'",
                          "extensions": {"code": "undefinedField"}}]}
    with pytest.raises(tramo.PlatformError, match="nope") as caught:
        wire.read_answer(200, json.dumps(errors).encode(), "Orders")
    assert caught.value.code == "undefinedField"
    assert wire.read_answer(200, b'{"data":{"shop":{"name":"x"}}}', "Shop") == {"shop": {"name": "x"}}


def test_user_errors_name_the_field_and_code() -> None:
    payload_ = {"userErrors": [{"field": ["input", "quantities", "0", "changeFromQuantity"],
                                "code": "CHANGE_FROM_QUANTITY_STALE", "message": "stale"}]}
    with pytest.raises(tramo.PlatformError, match=r"input\.quantities\.0\.changeFromQuantity") as caught:
        wire.raise_user_errors(payload_, "inventorySetQuantities")
    assert caught.value.code == "CHANGE_FROM_QUANTITY_STALE"
    wire.raise_user_errors({"userErrors": []}, "productSet")
    wire.raise_user_errors(None, "productSet")


def test_global_ids() -> None:
    assert wire.gid("Order", "12") == "gid://shopify/Order/12"
    assert wire.gid("Order", "gid://shopify/Order/12") == "gid://shopify/Order/12"
    assert wire.legacy_id("gid://shopify/Order/12") == "12"


# -- orders -----------------------------------------------------------------------------------


def test_an_order_converts_with_buyer_document_address_freight_and_payments() -> None:
    order = wire.order_from_wire(order_node(), UTC)
    assert order.id == "gid://shopify/Order/1001" and order.number == "#1001"
    assert order.customer.cpf == "52998224725" and order.customer.name == "Ana Souza"
    assert order.delivery_address.street == "Rua das Flores" and order.delivery_address.number == "123"
    assert order.delivery_address.postal_code == "01310100" and order.delivery_address.complement == "Apto 4"
    assert order.shipping.freight == Decimal("20.00") and order.shipping.platform_method == "SEDEX"
    assert [(p.value, p.platform_method) for p in order.payments] == [(Decimal("115.00"), "pix")]
    [item] = order.items
    assert (item.sku, item.quantity, item.unit_price, item.discount) == ("CAM-AZ", 2, Decimal("50.00"), Decimal("5.00"))
    assert order.total == Decimal("115.00") and order.platform_status == "PAID"
    assert order.sales_channel.platform_channel == "web" and order.edits == ()


def test_an_edited_order_is_read_as_it_stands_with_its_changes() -> None:
    lines = {"nodes": [
        {"id": "L1", "name": "A", "sku": "A", "quantity": 3, "currentQuantity": 1,
         "originalUnitPriceSet": money("10.00"), "totalDiscountSet": money("0.00")},
        {"id": "L2", "name": "B", "sku": "B", "quantity": 1, "currentQuantity": 0,
         "originalUnitPriceSet": money("10.00"), "totalDiscountSet": money("0.00")}]}
    order = wire.order_from_wire(order_node(edited=True, lineItems=lines, currentTotalPriceSet=money("30.00")), UTC)
    assert [(i.sku, i.quantity) for i in order.items] == [("A", 1)]
    [edit] = order.edits
    assert {(c.sku, c.previous_quantity, c.quantity) for c in edit.changes} == {("A", 3, 1), ("B", 1, 0)}
    assert edit.total == Decimal("30.00") and order.total == Decimal("30.00")


def test_a_company_buyer_and_a_bad_document_name_the_field() -> None:
    company = wire.order_from_wire(order_node(customAttributes=[{"key": "CPF_CNPJ", "value": "11.222.333/0001-81"}]), UTC)
    assert company.customer.cnpj == "11222333000181" and company.customer.kind is tramo.CustomerKind.COMPANY
    with pytest.raises(tramo.ValidationError, match="cpf_cnpj"):
        wire.order_from_wire(order_node(customAttributes=[{"key": "cpf_cnpj", "value": "123"}]), UTC)
    no_sku = {"nodes": [{"id": "L", "name": "Gift", "sku": None, "quantity": 1, "currentQuantity": 1,
                         "originalUnitPriceSet": money("1.00"), "totalDiscountSet": money("0.00")}]}
    with pytest.raises(tramo.ValidationError, match=r"lineItems\[0\]\.sku"):
        wire.order_from_wire(order_node(lineItems=no_sku), UTC)


def test_the_documented_orders_answer_converts_despite_its_gaps() -> None:
    node = payload("graphql_orders_details_response.json")["orders"]["edges"][0]["node"]
    order = wire.order_from_wire({**node, "lineItems": {"nodes": [
        e["node"] for e in node["lineItems"]["edges"]]}}, UTC)
    assert order.total == Decimal("2000.0") and order.currency == "CAD"
    assert order.customer.email == "bob@example.com" and order.delivery_address is None
    assert [(i.sku, i.quantity) for i in order.items] == [("draft-151", 10)]


@pytest.mark.parametrize(("changes", "status"), [
    ({}, "PAID"),
    ({"cancelledAt": "2026-01-06T00:00:00Z"}, "CANCELLED"),
    ({"displayFulfillmentStatus": "FULFILLED", "fulfillments": [{"status": "SUCCESS", "displayStatus": "FULFILLED"}]}, "FULFILLED"),
    ({"displayFulfillmentStatus": "FULFILLED", "fulfillments": [{"status": "SUCCESS", "displayStatus": "DELIVERED"}]}, "DELIVERED"),
    ({"displayFinancialStatus": None}, "PENDING"),
])
def test_an_order_has_one_status(changes: dict[str, Any], status: str) -> None:
    assert wire.order_status(order_node(**changes)) == status


def test_the_incremental_search_is_for_changes_after_the_checkpoint() -> None:
    since = datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=-3)))
    assert wire.orders_query(since) == "updated_at:>'2026-01-05T12:00:00Z'"
    assert wire.orders_query(None, "status:open") == "status:open"


# -- catalogue --------------------------------------------------------------------------------


def test_a_product_without_variants_is_one_default_variant_under_its_code() -> None:
    product = Product(code="P1", name="Caneca", price=Decimal("19.9"), gtin="7891234567895",
                      weight_kg=Decimal("0.35"), images=("https://img.example.com/a.jpg",))
    body, identifier = wire.product_set(product, ["gid://shopify/Collection/1"], "tramo", "erp_code")
    assert identifier == {"customId": {"namespace": "tramo", "key": "erp_code", "value": "P1"}}
    [variant] = body["variants"]
    assert variant["sku"] == "P1" and variant["barcode"] == "7891234567895" and variant["price"] == "19.90"
    assert variant["optionValues"] == [{"optionName": "Title", "name": "Default Title"}]
    assert variant["inventoryItem"]["measurement"]["weight"] == {"value": 0.35, "unit": "KILOGRAMS"}
    assert body["files"] == [{"originalSource": "https://img.example.com/a.jpg", "contentType": "IMAGE"}]
    assert body["collections"] == ["gid://shopify/Collection/1"]
    assert body["metafields"][0]["value"] == "P1" and body["status"] == "ACTIVE"


def test_variants_become_options_and_option_values() -> None:
    product = Product(code="C", name="Camiseta", price=Decimal(50), variants=(
        Variant(sku="C-AZ-P", attributes=(Attribute(name="Cor", value="Azul"), Attribute(name="Tamanho", value="P"))),
        Variant(sku="C-AZ-M", price=Decimal(55), attributes=(Attribute(name="Tamanho", value="M"), Attribute(name="Cor", value="Azul")),
                images=("https://img.example.com/m.jpg",))))
    body, _ = wire.product_set(product, [], "tramo", "erp_code")
    assert body["productOptions"] == [
        {"name": "Cor", "position": 1, "values": [{"name": "Azul"}]},
        {"name": "Tamanho", "position": 2, "values": [{"name": "P"}, {"name": "M"}]}]
    assert [v["price"] for v in body["variants"]] == ["50.00", "55.00"]
    assert body["variants"][1]["optionValues"] == [{"optionName": "Cor", "name": "Azul"},
                                                   {"optionName": "Tamanho", "name": "M"}]
    assert body["variants"][1]["file"]["originalSource"] == "https://img.example.com/m.jpg"


@pytest.mark.parametrize(("variants", "field"), [
    ((Variant(sku="A", attributes=tuple(Attribute(name=f"N{i}", value="x") for i in range(4))),), "attributes"),
    ((Variant(sku="A", attributes=(Attribute(name="Cor", value="Azul"),)), Variant(sku="B")), "variants[1].attributes"),
    ((Variant(sku="A", attributes=(Attribute(name="Cor", value="Azul"),)),
      Variant(sku="B", attributes=(Attribute(name="Cor", value="Azul"),))), "variants[1].attributes"),
    ((Variant(sku="A", attributes=(Attribute(name="Cor", value="Azul"),),
              images=("https://a.example.com/1.jpg", "https://a.example.com/2.jpg")),), "variants[0].images"),
])
def test_what_shopify_refuses_in_variants_is_a_validation_error_naming_the_field(
        variants: tuple[Variant, ...], field: str) -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        wire.product_set(Product(code="P", name="P", variants=variants), [], "tramo", "erp_code")
    assert field in caught.value.field


def _as_held(body: dict[str, Any], code: str) -> dict[str, Any]:
    """What Shopify holds after a productSet, in the shape a products query answers."""
    return {"id": "gid://shopify/Product/1", "title": body["title"], "descriptionHtml": body["descriptionHtml"],
            "vendor": body["vendor"], "status": body["status"], "code": {"value": code},
            "updatedAt": "2026-01-05T12:00:00Z",
            "media": {"nodes": [{"preview": {"image": {"url": url}}} for url in dict.fromkeys(
                [f["originalSource"] for f in body["files"]]
                + [v["file"]["originalSource"] for v in body["variants"] if v.get("file")])]},
            "variants": {"nodes": [
                {"id": f"V{i}", "sku": v["sku"], "barcode": v.get("barcode"), "price": v.get("price", "0.00"),
                 "position": i + 1, "selectedOptions": [{"name": o["optionName"], "value": o["name"]}
                                                        for o in v["optionValues"]],
                 "image": {"url": v["file"]["originalSource"]} if v.get("file") else None,
                 "inventoryItem": {"measurement": {"weight": (v["inventoryItem"].get("measurement") or {}).get("weight")}}}
                for i, v in enumerate(body["variants"])]}}


@given(product=s.products())
def test_a_product_sent_reads_back_with_its_variants_attributes_and_images(product: Product) -> None:
    try:
        body, _ = wire.product_set(product, [], "tramo", "erp_code")
    except tramo.ValidationError:
        return
    back = wire.product_from_wire(_as_held(body, product.code), UTC)
    assert (back.code, back.name, back.available) == (product.code, product.name, product.available)
    shown = {v.images[0] for v in product.variants if v.images}
    assert back.images == tuple(u for u in dict.fromkeys(product.images) if u not in shown)
    if product.variants:
        assert [v.sku for v in back.variants] == [v.sku for v in product.variants]
        for sent, held in zip(product.variants, back.variants):
            assert sorted(held.attributes, key=repr) == sorted(sent.attributes, key=repr)
            assert held.images == sent.images
            given_ = sent.price if sent.price is not None else product.price
            assert held.price == (given_ if given_ is not None else Decimal("0.00"))  # Shopify's default
    else:
        assert back.sku == (product.sku or product.code) and back.gtin == product.gtin
        assert back.price == (product.price if product.price is not None else Decimal("0.00"))
        assert back.weight_kg == product.weight_kg


# -- prices, stock, invoices, tracking ----------------------------------------------------------


def test_the_selling_price_strikes_out_only_a_higher_list_price() -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    assert wire.selling_price(tramo.Price(sku="A", list_price=Decimal(10)), now) == (Decimal(10), None)
    assert wire.selling_price(tramo.Price(sku="A", list_price=Decimal(10), sale_price=Decimal(8)), now) == (
        Decimal(8), Decimal(10))


def test_a_stock_input_carries_the_quantity_believed_there_now() -> None:
    body = wire.stock_input([("I1", "L1", 5, 2), ("I2", "L1", 0, None)], "L1", "tramo://x", "changeFromQuantity")
    assert body["name"] == "available" and body["reason"] == "correction"
    assert body["quantities"] == [
        {"inventoryItemId": "I1", "locationId": "L1", "quantity": 5, "changeFromQuantity": 2},
        {"inventoryItemId": "I2", "locationId": "L1", "quantity": 0, "changeFromQuantity": None}]


@given(invoice=s.invoices())
def test_an_invoice_becomes_typed_order_metafields_in_its_namespace(invoice: tramo.Invoice) -> None:
    fields = wire.invoice_metafields(invoice, "gid://shopify/Order/1", "nfe")
    by_key = {f["key"]: f for f in fields}
    assert by_key["access_key"]["value"] == invoice.access_key
    assert by_key["value"]["value"] == f"{invoice.value:.2f}"
    assert all(f["namespace"] == "nfe" and f["type"] == wire.INVOICE_KEYS[f["key"]] for f in fields)
    assert len(fields) <= 25


def test_a_tracking_carries_company_and_url_when_known() -> None:
    tracking = tramo.Tracking(order_id="1", code="BR123", carrier="Correios", url="https://rastreio.example.com/BR123")
    assert wire.tracking_input(tracking) == {"number": "BR123", "company": "Correios",
                                             "url": "https://rastreio.example.com/BR123"}


# -- bulk results -------------------------------------------------------------------------------


def test_bulk_lines_assemble_into_parents_with_their_children() -> None:
    path = PAYLOADS / "bulk_query_result_sample_partial.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    records = list(bulk.assemble(lines))
    assert [r["id"] for r in records] == [line["id"] for line in lines if "__parentId" not in line]
    assert [v["title"] for v in records[0]["variants"]["nodes"]] == ["70"]
    assert "__parentId" not in records[0]["variants"]["nodes"][0]


def test_a_bulk_child_away_from_its_parent_is_an_error() -> None:
    with pytest.raises(tramo.PlatformError, match="away from its parent"):
        list(bulk.assemble([{"id": "gid://shopify/Product/1"},
                            {"id": "gid://shopify/ProductVariant/2", "__parentId": "gid://shopify/Product/9"}]))

"""The Shopify sandbox: a store's Admin GraphQL API on loopback, checked over plain HTTP.

No plugin code takes part: requests are made with httpx as any client would
(the documents are the plugin's own, from ``operations``, since every one of
them must run here), and what the shop holds is read back through the
sandbox's ``held_*`` view. One sandbox serves the module; each test gets a
new shop (``reset``) and ends with the sandbox's ``errors`` empty.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import httpx
import pytest

import tramo
from tramo.model.identifiers import cpf_check_digits, nfe_key_check_digit
from tramo.sandbox import Fault
from tramo_shopify import operations as ops
from tramo_shopify.sandbox import (
    ACCESS_TOKEN,
    DEFAULT_LOCATION,
    MAPPINGS,
    SHOP_DOMAIN,
    VERSIONS,
    WEBHOOK_SECRET,
    ShopifySandbox,
)

CPF = "123456789" + cpf_check_digits("123456789")
KEY_BASE = "3526011122233300018155001000001234100001234"
ACCESS_KEY = KEY_BASE + nfe_key_check_digit(KEY_BASE)
CODE = {"namespace": "tramo", "key": "erp_code"}
WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


# -- the documents these tests send (the plugin's own are run in one test of their own) ------------

MONEY = "shopMoney { amount currencyCode }"
SHOP = "query Shop { shop { id name plan { displayName } } locations(first: 50) { nodes { id } } }"
PRODUCT_SET = """
mutation ProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id variants(first: 250) { nodes { id sku inventoryItem { id } } } }
    userErrors { field code message }
  }
}"""
PRODUCT_SET_ASYNC = PRODUCT_SET.replace("synchronous: true", "synchronous: false").replace(
    "userErrors {", "productSetOperation { id status } userErrors {")
VARIANTS_UPDATE = """
mutation VariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price compareAtPrice } userErrors { field code message } } }"""
INVENTORY_SET = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { reason changes { name delta } } userErrors { code field message } } }"""
VARIANTS_BY_SKU = """query VariantsBySku($query: String!) {
  productVariants(first: 5, query: $query) { nodes { id sku inventoryItem { id } } } }"""
PRICE_LIST_ADD = """
mutation PriceListAdd($priceListId: ID!, $prices: [PriceListPriceInput!]!) {
  priceListFixedPricesAdd(priceListId: $priceListId, prices: $prices) {
    prices { variant { id } } userErrors { field code message } } }"""
PRICE_LIST_PRICES = """query PriceListPrices($id: ID!, $query: String!) {
  priceList(id: $id) { prices(first: 250, query: $query) { nodes {
    variant { id } price { amount currencyCode } compareAtPrice { amount currencyCode } } } } }"""
COLLECTION_CREATE = """mutation CollectionCreate($input: CollectionInput!) {
  collectionCreate(input: $input) { collection { id handle title } userErrors { field message } } }"""
COLLECTION_BY_HANDLE = """query CollectionByHandle($handle: String!) {
  collectionByIdentifier(identifier: {handle: $handle}) { id handle title } }"""
CODE_DEFINITION = """query CodeDefinition($namespace: String!, $key: String!) {
  metafieldDefinitions(first: 1, ownerType: PRODUCT, namespace: $namespace, key: $key) {
    nodes { id capabilities { uniqueValues { enabled } } } } }"""
CODE_DEFINITION_CREATE = """mutation CodeDefinitionCreate($definition: MetafieldDefinitionInput!) {
  metafieldDefinitionCreate(definition: $definition) {
    createdDefinition { id } userErrors { field code message } } }"""
METAFIELDS_SET = """mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { key value } userErrors { field code elementIndex message } } }"""
ORDER = f"""query Order($id: ID!) {{ order(id: $id) {{
  id name sourceName displayFinancialStatus displayFulfillmentStatus fullyPaid cancelledAt
  customAttributes {{ key value }}
  customer {{ firstName lastName }} shippingAddress {{ address1 address2 }}
  totalPriceSet {{ {MONEY} }} currentTotalDiscountsSet {{ {MONEY} }}
  transactions(first: 10) {{ kind }}
  lineItems(first: 10) {{ nodes {{ id sku quantity currentQuantity variant {{ id }} }} }}
  fulfillmentOrders(first: 5) {{ nodes {{ id status lineItems(first: 10) {{ nodes {{ id remainingQuantity }} }} }} }}
  fulfillments(first: 10) {{ id status displayStatus deliveredAt trackingInfo(first: 5) {{ number }} }}
  invoice: metafields(first: 20, namespace: "nfe") {{ nodes {{ key value }} }}
}} }}"""
FULFILLMENT_CREATE = """mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 10) { company number url } }
    userErrors { field message } } }"""
TRACKING_UPDATE = """mutation TrackingUpdate($fulfillmentId: ID!, $tracking: FulfillmentTrackingInput!) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $tracking) {
    fulfillment { id trackingInfo(first: 10) { company number url } } userErrors { field message } } }"""
FULFILLMENT_EVENT = """mutation FulfillmentEvent($event: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $event) { fulfillmentEvent { id status }
    userErrors { field message } } }"""
ORDER_CANCEL = """mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!,
    $refundMethod: OrderCancelRefundMethodInput, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refundMethod: $refundMethod,
              staffNote: $staffNote) {
    job { id done } orderCancelUserErrors { field code message } userErrors { field message } } }"""
JOB = "query Job($id: ID!) { job(id: $id) { id done } }"
MARK_PAID = """mutation MarkPaid($input: OrderMarkAsPaidInput!) {
  orderMarkAsPaid(input: $input) { order { id displayFinancialStatus } userErrors { field message } } }"""
BULK_RUN = """mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field code message } } }"""
BULK_STATE = """query Jobs($ids: [ID!]!) {
  nodes(ids: $ids) { ... on BulkOperation { id status errorCode objectCount url } } }"""
COST_PRODUCTS = """query Products($first: Int!) { products(first: $first) {
  pageInfo { hasNextPage } nodes { id title code: metafield(namespace: "tramo", key: "erp_code") { value }
    variants(first: 100) { nodes { id sku selectedOptions { name value }
      inventoryItem { id measurement { weight { value unit } } } } }
    media(first: 20) { nodes { alt preview { image { url } } } } } } }"""
BULK_PRODUCTS = """{ products { edges { node { id title code: metafield(namespace: "tramo",
  key: "erp_code") { value }
  variants { edges { node { id sku selectedOptions { name value } } } }
  media { edges { node { id alt preview { image { url } } } } } } } } }"""
BULK_ORDERS = "{ orders { edges { node { id name lineItems { edges { node { id sku } } } } } } }"
WEBHOOK_CREATE = """mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri } userErrors { field message } } }"""


# -- the sandbox, a client, and records to work with -----------------------------------------------


@pytest.fixture(scope="module")
def running() -> Iterator[ShopifySandbox]:
    with ShopifySandbox(job_seconds=0.02) as sandbox:
        yield sandbox


@pytest.fixture
def shop(running: ShopifySandbox) -> Iterator[ShopifySandbox]:
    running.reset()
    yield running
    assert running.errors == [], running.errors


class Api:
    """GraphQL over plain HTTP, the token in ``X-Shopify-Access-Token``."""

    def __init__(self, sandbox: ShopifySandbox, version: str = VERSIONS[-1]) -> None:
        self.sandbox = sandbox
        self.client = httpx.Client(base_url=sandbox.url, timeout=5.0, trust_env=False)
        self.version = version

    def post(self, query: str, variables: dict[str, Any] | None = None, *,
             version: str | None = None, token: str | None = ACCESS_TOKEN) -> httpx.Response:
        headers = {"X-Shopify-Access-Token": token} if token is not None else {}
        return self.client.post(f"/admin/api/{version or self.version}/graphql.json",
                                json={"query": query, "variables": variables or {}},
                                headers=headers)

    def body(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        response = self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = self.body(query, variables, **kw)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def mutate(self, query: str, variables: dict[str, Any], **kw: Any) -> Any:
        """The mutation's payload, asserted free of userErrors."""
        [payload] = self.data(query, variables, **kw).values()
        errors = payload.get("userErrors") or payload.get("orderCancelUserErrors")
        assert not errors, errors
        return payload


@pytest.fixture
def api(shop: ShopifySandbox) -> Iterator[Api]:
    client = Api(shop)
    yield client
    client.client.close()


def until(check: Callable[[], Any], seconds: float = 5.0) -> Any:
    """Poll ``check`` until it returns something true (jobs run in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


def define_code(api: Api) -> None:
    api.mutate(CODE_DEFINITION_CREATE, {"definition": {
        "name": "ERP code", **CODE, "type": "single_line_text_field", "ownerType": "PRODUCT",
        "capabilities": {"uniqueValues": {"enabled": True}}}})


def shirt(code: str = "CAM-1", **changes: Any) -> dict[str, Any]:
    """A productSet input: a shirt in two colours, images, weight, prices."""
    product = {
        "title": "Camiseta Básica", "descriptionHtml": "<p>Algodão</p>", "vendor": "Hering",
        "status": "ACTIVE",
        "productOptions": [{"name": "Cor", "values": [{"name": "Azul"}, {"name": "Preto"}]}],
        "files": [{"originalSource": "https://img.example.com/cam-1.jpg", "alt": "Camiseta",
                   "contentType": "IMAGE"}],
        "variants": [
            {"optionValues": [{"optionName": "Cor", "name": "Azul"}], "sku": f"{code}-AZ",
             "price": "49.90", "barcode": "7891234567895",
             "inventoryItem": {"measurement": {"weight": {"value": 0.2, "unit": "KILOGRAMS"}}},
             "file": {"originalSource": "https://img.example.com/cam-1-azul.jpg"}},
            {"optionValues": [{"optionName": "Cor", "name": "Preto"}], "sku": f"{code}-PR",
             "price": 59.9, "compareAtPrice": "69.90"},
        ],
    }
    return {**product, **changes}


def put_product(api: Api, code: str = "CAM-1", **changes: Any) -> dict[str, Any]:
    payload = api.mutate(PRODUCT_SET, {
        "input": shirt(code, **changes), "identifier": {"customId": {**CODE, "value": code}}})
    return dict(payload["product"])


def an_order(*items: tuple[str, int], **changes: Any) -> tramo.Order:
    """A buyer's order of ``(sku, quantity)`` lines at R$ 10.50 each, paid by pix."""
    lines = tuple(tramo.OrderItem(sku=sku, name=f"Item {sku}", quantity=quantity,
                                  unit_price=Decimal("10.50"))
                  for sku, quantity in items or (("AVULSO", 1),))
    total = sum((line.total for line in lines), Decimal(0)) + Decimal("20.00")
    home = tramo.Address(street="Avenida Paulista", number="1000", district="Bela Vista",
                         city="São Paulo", state="SP", postal_code="01310-100",
                         complement="Apto 5", recipient="Ana Souza", phone="11999998888")
    order = tramo.Order(
        id="ORDER-1", placed_at=WHEN, items=lines, total=total, platform_status="PAID",
        customer=tramo.Customer(name="Ana de Souza", cpf=CPF, email="ana@example.com.br"),
        delivery_address=home,
        shipping=tramo.Shipping(platform_method="PAC", freight=Decimal("20.00")),
        payments=(tramo.Payment(value=total, platform_method="pix"),))
    return attrs.evolve(order, **changes)


# -- HTTP, auth, errors ---------------------------------------------------------------------------


def test_a_missing_or_wrong_token_is_401(api: Api) -> None:
    for token in (None, "shpat_wrong"):
        response = api.post(SHOP, token=token)
        assert response.status_code == 401
        assert response.json() == {"errors": "[API] Invalid API key or access token "
                                              "(unrecognized login or wrong password)"}


def test_an_unknown_version_or_path_is_404(api: Api) -> None:
    response = api.post(SHOP, version="2024-01")
    assert (response.status_code, response.json()) == (404, {"errors": "Not Found"})
    assert api.client.get("/admin/api/2026-10/products.json").status_code == 404
    assert api.client.get("/bulk/nothing.jsonl").status_code == 404


def test_a_body_without_a_query_is_400(api: Api) -> None:
    for body in (b"not json", b"{}", b'{"query": ""}'):
        response = api.client.post("/admin/api/2026-10/graphql.json", content=body,
                                   headers={"X-Shopify-Access-Token": ACCESS_TOKEN})
        assert response.status_code == 400
        assert response.json() == {"errors": {"query": "Required parameter missing or invalid"}}


def test_an_invalid_query_answers_200_with_errors_and_no_data(api: Api) -> None:
    body = api.body("query { shop { name nope } }")
    assert "data" not in body
    [error] = body["errors"]
    assert error["message"].startswith("Cannot query field 'nope' on type 'Shop'.")
    assert error["locations"] == [{"line": 1, "column": 21}]
    assert error["extensions"] == {"code": "undefinedField"}
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert api.body("query { shop { ")["errors"][0]["extensions"]["code"] == "syntaxError"


def test_first_over_250_is_refused(api: Api) -> None:
    body = api.body(SHOP.replace("first: 50", "first: 251"))
    assert "data" not in body
    assert body["errors"][0]["message"] == "The first argument cannot exceed 250."
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_faults_answer_with_shopify_bodies(shop: ShopifySandbox, api: Api) -> None:
    shop.inject(Fault.RATE_LIMITED)
    response = api.post(SHOP)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert response.json()["errors"].startswith("Exceeded 2 calls per second")
    shop.inject(Fault.SERVER_ERROR)
    response = api.post(SHOP)
    assert (response.status_code, response.json()) == (503, {"errors": "Service Unavailable"})
    assert [c.status for c in shop.calls] == [429, 503]


# -- every operation the plugin sends --------------------------------------------------------------


def _every_operation(api: Api, shop: ShopifySandbox) -> dict[str, dict[str, Any]]:
    """Variables for each operation, on a shop where each of them has something to work on."""
    define_code(api)
    product = put_product(api)
    variants = product["variants"]["nodes"]
    order_id = shop.place_order(an_order(("CAM-1-AZ", 2)))
    state = api.data(ORDER, {"id": order_id})["order"]
    fo = state["fulfillmentOrders"]["nodes"][0]["id"]
    other = shop.place_order(an_order(("CAM-1-PR", 1), payments=()))
    cancel = shop.place_order(an_order())
    items = [v["inventoryItem"]["id"] for v in variants]
    return {
        "SHOP": {}, "ORDERS": {"first": 5, "query": "updated_at:>='2026-01-01T00:00:00Z'",
                               "invoiceNamespace": "nfe"},
        "ORDERS_BY_ID": {"ids": [order_id, other], "invoiceNamespace": "nfe"},
        "ORDER_LINES": {"id": order_id, "first": 50}, "ORDER_STATE": {"id": order_id, "invoiceNamespace": "nfe"},
        "PRODUCTS": {"first": 5, "query": "status:active", **{"codeNamespace": "tramo",
                                                             "codeKey": "erp_code"}},
        "VARIANTS_BY_SKU": {"first": 5, "query": "sku:CAM-1-AZ OR sku:CAM-1-PR"},
        "PRODUCT_VARIANTS": {"id": product["id"], "first": 50, "after": None},
        "INVENTORY_LEVELS": {"ids": items, "locationId": DEFAULT_LOCATION},
        "PRICE_LISTS": {}, "VARIANT_PRICES": {"ids": [v["id"] for v in variants]},
        "PRICE_LIST_PRICES": {"id": "gid://shopify/PriceList/1",
                              "query": f"variant_id:{variants[0]['id'].rsplit('/', 1)[1]}"},
        "COLLECTION_BY_HANDLE": {"handle": "tramo-roupas"},
        "CODE_DEFINITION": {**CODE},
        "JOBS": {"ids": ["gid://shopify/BulkOperation/1"]},
        "CURRENT_BULK": {},
        "JOB": {"id": "gid://shopify/Job/00000000-0000-0000-0000-000000000000"},
        "PRODUCT_SET": {"input": shirt(title="Camiseta Nova"),
                        "identifier": {"customId": {**CODE, "value": "CAM-1"}}},
        "VARIANTS_BULK_UPDATE": {"productId": product["id"], "variants": [
            {"id": variants[0]["id"], "price": "45.00", "compareAtPrice": "49.90"}]},
        "INVENTORY_SET_PLAIN": {"input": {
            "name": "available", "reason": "correction", "ignoreCompareQuantity": True, "quantities": [
                {"inventoryItemId": items[0], "locationId": DEFAULT_LOCATION, "quantity": 6}]}},
        "INVENTORY_SET": {"idempotencyKey": "k-1", "input": {
            "name": "available", "reason": "correction", "quantities": [
                {"inventoryItemId": items[0], "locationId": DEFAULT_LOCATION, "quantity": 7,
                 "changeFromQuantity": None}]}},
        "PRICE_LIST_ADD": {"priceListId": "gid://shopify/PriceList/1", "prices": [
            {"variantId": variants[0]["id"], "price": {"amount": "40.00", "currencyCode": "BRL"}}]},
        "COLLECTION_CREATE": {"input": {"title": "Roupas", "handle": "tramo-roupas-2"}},
        "METAFIELDS_SET": {"metafields": [{"ownerId": order_id, "namespace": "nfe",
                                           "key": "access_key", "type": "single_line_text_field",
                                           "value": ACCESS_KEY}]},
        "CODE_DEFINITION_CREATE": {"definition": {
            "name": "Other", "namespace": "tramo", "key": "other",
            "type": "single_line_text_field", "ownerType": "PRODUCT"}},
        "FULFILLMENT_CREATE": {"fulfillment": {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}],
            "trackingInfo": {"number": "BR1", "company": "Correios"}}},
        "TRACKING_UPDATE": {"fulfillmentId": "<fulfillment>", "notify": False,
                            "tracking": {"number": "BR2", "company": "Correios"}},
        "FULFILLMENT_EVENT": {"event": {"fulfillmentId": "<fulfillment>", "status": "DELIVERED"}},
        "ORDER_CANCEL": {"orderId": cancel, "reason": "CUSTOMER", "restock": True,
                         "refundMethod": {"originalPaymentMethodsRefund": True},
                         "notifyCustomer": False, "staffNote": "ERP"},
        "MARK_PAID": {"input": {"id": other}},
        "BULK_RUN": {"query": ops.bulk_products("tramo", "erp_code")},
        "WEBHOOK_CREATE": {"topic": "ORDERS_CREATE", "uri": "http://127.0.0.1:9/hook"},
    }


def test_every_operation_the_plugin_sends_runs_without_errors(shop: ShopifySandbox,
                                                              api: Api) -> None:
    variables = _every_operation(api, shop)
    api.mutate(COLLECTION_CREATE, {"input": {"title": "Roupas", "handle": "tramo-roupas"}})
    assert set(variables) == set(ops.OPERATIONS), "an operation without variables here"
    fulfillment = None
    for name, document in ops.OPERATIONS.items():
        given = json.loads(json.dumps(variables[name]).replace('"<fulfillment>"',
                                                               json.dumps(fulfillment)))
        # the operation without @idempotent is the one for versions before 2026-01
        body = api.body(document, given, **({"version": "2025-10"} if name.endswith("_PLAIN") else {}))
        assert "errors" not in body, (name, body["errors"])
        for payload in body["data"].values():
            if isinstance(payload, dict):
                problems = payload.get("userErrors") or payload.get("orderCancelUserErrors")
                assert not problems, (name, problems)
        if name == "FULFILLMENT_CREATE":
            fulfillment = body["data"]["fulfillmentCreate"]["fulfillment"]["id"]
        cost = body["extensions"]["cost"]
        assert cost["actualQueryCost"] <= cost["requestedQueryCost"], name


# -- catalogue ------------------------------------------------------------------------------------


def test_product_set_by_custom_id_creates_then_updates(shop: ShopifySandbox, api: Api) -> None:
    refused = api.data(PRODUCT_SET, {"input": shirt(),
                                         "identifier": {"customId": {**CODE, "value": "CAM-1"}}})
    [error] = refused["productSet"]["userErrors"]
    assert (error["field"], error["code"]) == (["identifier", "customId"], "INVALID_INPUT")
    define_code(api)
    created = put_product(api)
    assert [v["sku"] for v in created["variants"]["nodes"]] == ["CAM-1-AZ", "CAM-1-PR"]
    updated = put_product(api, title="Camiseta Premium", variants=shirt()["variants"][:1],
                          productOptions=[{"name": "Cor", "values": [{"name": "Azul"}]}])
    assert updated["id"] == created["id"]
    assert updated["variants"]["nodes"] == created["variants"]["nodes"][:1]  # matched, kept
    gone = created["variants"]["nodes"][1]
    nodes = api.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                     {"ids": [gone["id"], gone["inventoryItem"]["id"], updated["id"]]})["nodes"]
    assert nodes == [None, None, {"id": updated["id"]}]  # a dropped variant takes its item
    [held] = shop.held_products()
    assert (held.code, held.name, held.brand, held.available) == (
        "CAM-1", "Camiseta Premium", tramo.Brand(id="Hering", name="Hering"), True)
    [variant] = held.variants
    assert (variant.sku, variant.gtin, variant.price, variant.weight_kg, variant.attributes,
            variant.images) == ("CAM-1-AZ", "7891234567895", Decimal("49.90"), Decimal("0.2"),
                                (tramo.Attribute(name="Cor", value="Azul"),),
                                ("https://img.example.com/cam-1-azul.jpg",))
    assert held.images == ("https://img.example.com/cam-1.jpg",)  # the variant's file is not
    assert shop.held_stock() == {"CAM-1-AZ": 0}


def test_an_unchanged_product_set_changes_nothing(shop: ShopifySandbox, api: Api) -> None:
    define_code(api)
    put_product(api)
    query = "query($q: String) { products(first: 5, query: $q) { nodes { id updatedAt " \
            "variants(first: 5) { nodes { id updatedAt } } media(first: 5) { nodes { id } } } } }"
    before = api.data(query)
    clock = shop.data["clock"]
    put_product(api)
    assert api.data(query) == before and shop.data["clock"] == clock
    put_product(api, vendor="Malwee")
    after = api.data(query)["products"]["nodes"][0]
    assert after["updatedAt"] > before["products"]["nodes"][0]["updatedAt"]
    assert after["variants"] == before["products"]["nodes"][0]["variants"]  # variants unchanged


def test_product_set_refuses_what_shopify_refuses(api: Api) -> None:
    def errors(product: dict[str, Any]) -> list[tuple[Any, Any]]:
        payload = api.data(PRODUCT_SET, {"input": product})["productSet"]
        assert payload["product"] is None
        return [(e["field"], e["code"]) for e in payload["userErrors"]]

    assert errors(shirt(title=" ")) == [(["input", "title"], "BLANK")]
    assert errors(shirt(variants=None)) == [(["input", "variants"], "VARIANTS_INPUT_MISSING")]
    four = [{"name": f"O{i}", "values": [{"name": "x"}]} for i in range(4)]
    assert ("OPTIONS_OVER_LIMIT" in [code for _, code in errors(shirt(productOptions=four))])
    twice = shirt()["variants"][:1] * 2
    assert errors(shirt(variants=[dict(v, sku=f"S{i}") for i, v in enumerate(twice)])) == [
        (["input", "variants", "1", "optionValues"], "DUPLICATE_VARIANT")]
    assert errors(shirt(collections=["gid://shopify/Collection/99"])) == [
        (["input", "collections"], "INVALID_INPUT")]


def test_product_set_without_variants_makes_the_default_one_and_runs_async(
        shop: ShopifySandbox, api: Api) -> None:
    define_code(api)
    plain = {"title": "Caneca", "vendor": "", "files": [{"originalSource": "https://i.example.com/c.jpg"}],
             "metafields": [{**CODE, "type": "single_line_text_field", "value": "CAN-1"}]}
    query = PRODUCT_SET.replace("synchronous: true", "synchronous: false").replace(
        "userErrors {", "productSetOperation { id status } userErrors {")
    payload = api.mutate(query, {"input": plain})
    operation = payload["productSetOperation"]
    assert payload["product"] is None and operation["status"] == "CREATED"
    status = "query($id: ID!) { node(id: $id) { ... on ProductSetOperation { status product { id } } } }"
    done = until(lambda: (n := api.data(status, {"id": operation["id"]})["node"])["status"]
                 == "COMPLETE" and n)
    assert done["product"]["id"]
    [held] = shop.held_products()
    assert (held.variants, held.sku, held.price, held.brand, held.images) == (
        (), None, None, None, ("https://i.example.com/c.jpg",))
    names = api.data("{ products(first: 1) { nodes { handle variants(first: 1) { nodes { title "
                     "selectedOptions { name value } } } } } }")["products"]["nodes"][0]
    assert names == {"handle": "caneca", "variants": {"nodes": [{
        "title": "Default Title", "selectedOptions": [{"name": "Title", "value": "Default Title"}]}]}}


def test_variant_prices_and_price_lists(shop: ShopifySandbox, api: Api) -> None:
    define_code(api)
    product = put_product(api)
    blue, black = (v["id"] for v in product["variants"]["nodes"])
    wrong = api.data(VARIANTS_UPDATE, {"productId": product["id"], "variants": [
        {"id": blue, "price": "1.00"}, {"id": "gid://shopify/ProductVariant/999"}]})
    assert wrong["productVariantsBulkUpdate"]["userErrors"][0]["field"] == ["variants", "1", "id"]
    api.mutate(VARIANTS_UPDATE, {"productId": product["id"], "variants": [
        {"id": blue, "price": "39.90", "compareAtPrice": "49.90"}]})
    assert shop.held_prices() == {
        "CAM-1-AZ": tramo.Price(sku="CAM-1-AZ", list_price=Decimal("49.90"),
                                sale_price=Decimal("39.90")),
        "CAM-1-PR": tramo.Price(sku="CAM-1-PR", list_price=Decimal("69.90"),
                                sale_price=Decimal("59.90"))}
    usd = api.data(PRICE_LIST_ADD, {"priceListId": "gid://shopify/PriceList/1", "prices": [
        {"variantId": blue, "price": {"amount": "30.00", "currencyCode": "USD"}}]})
    assert usd["priceListFixedPricesAdd"]["userErrors"][0]["code"] == \
        "PRICES_TO_ADD_CURRENCY_MISMATCH"
    for amount in ("30.00", "31.00"):
        api.mutate(PRICE_LIST_ADD, {"priceListId": "gid://shopify/PriceList/1", "prices": [
            {"variantId": blue, "price": {"amount": amount, "currencyCode": "BRL"}}]})
    prices = api.data(PRICE_LIST_PRICES, {"id": "gid://shopify/PriceList/1",
                                              "query": f"variant_id:{blue.rsplit('/', 1)[1]}"})
    assert prices["priceList"]["prices"]["nodes"] == [{"variant": {"id": blue}, "price": {
        "amount": "31.00", "currencyCode": "BRL"}, "compareAtPrice": None}]
    assert shop.held_list_prices() == {("Atacado", "CAM-1-AZ"): tramo.Price(
        sku="CAM-1-AZ", list_price=Decimal("31.00"), price_list="Atacado")}


def test_collections_and_the_code_definition(api: Api) -> None:
    created = api.mutate(COLLECTION_CREATE, {"input": {"title": "Roupas de Verão"}})
    assert created["collection"]["handle"] == "roupas-de-verao"
    taken = api.data(COLLECTION_CREATE, {"input": {"title": "X", "handle": "roupas-de-verao"}})
    assert taken["collectionCreate"]["userErrors"] == [
        {"field": ["input", "handle"], "message": "Handle has already been taken"}]
    found = api.data(COLLECTION_BY_HANDLE, {"handle": "roupas-de-verao"})
    assert found["collectionByIdentifier"] == created["collection"]
    assert api.data(CODE_DEFINITION, CODE)["metafieldDefinitions"]["nodes"] == []
    define_code(api)
    [definition] = api.data(CODE_DEFINITION, CODE)["metafieldDefinitions"]["nodes"]
    assert definition["capabilities"] == {"uniqueValues": {"enabled": True}}
    again = api.data(CODE_DEFINITION_CREATE, {"definition": {
        "name": "ERP code", **CODE, "type": "single_line_text_field", "ownerType": "PRODUCT"}})
    assert again["metafieldDefinitionCreate"]["userErrors"][0]["code"] == "TAKEN"


# -- stock ----------------------------------------------------------------------------------------


def _stock(api: Api, quantity: int, version: str | None = None, key: str | None = "k-1",
           **quantity_fields: Any) -> Any:
    item = api.data(VARIANTS_BY_SKU, {"first": 1, "query": "sku:CAM-1-AZ"})[
        "productVariants"]["nodes"][0]["inventoryItem"]["id"]
    document = INVENTORY_SET if key is not None else INVENTORY_SET.replace(
        " @idempotent(key: $idempotencyKey)", "").replace(", $idempotencyKey: String!", "")
    variables: dict[str, Any] = {"input": {"name": "available", "reason": "correction",
                                           "quantities": [{"inventoryItemId": item,
                                                           "locationId": DEFAULT_LOCATION,
                                                           "quantity": quantity,
                                                           **quantity_fields}]}}
    if key is not None:
        variables["idempotencyKey"] = key
    return api.body(document, variables, version=version)


def test_stock_is_set_once_per_idempotency_key(shop: ShopifySandbox, api: Api) -> None:
    define_code(api)
    put_product(api)
    first = _stock(api, 5, changeFromQuantity=0)["data"]["inventorySetQuantities"]
    assert first == {"inventoryAdjustmentGroup": {"reason": "Inventory correction", "changes": [
        {"name": "available", "delta": 5}, {"name": "on_hand", "delta": 5}]}, "userErrors": []}
    clock = shop.data["clock"]
    assert _stock(api, 5, changeFromQuantity=0)["data"]["inventorySetQuantities"] == first
    assert shop.held_stock()["CAM-1-AZ"] == 5 and shop.data["clock"] == clock
    mismatch = _stock(api, 6, changeFromQuantity=0)["data"]["inventorySetQuantities"]
    assert mismatch["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    stale = _stock(api, 9, key="k-2", changeFromQuantity=0)["data"]["inventorySetQuantities"]
    assert stale == {"inventoryAdjustmentGroup": None, "userErrors": [{
        "code": "CHANGE_FROM_QUANTITY_STALE",
        "field": ["input", "quantities", "0", "changeFromQuantity"],
        "message": "The quantity changed since changeFromQuantity was read (it is 5)."}]}
    missing = _stock(api, 9, key="k-3")["data"]["inventorySetQuantities"]
    assert missing["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_REQUIRED"
    assert shop.held_stock()["CAM-1-AZ"] == 5
    quantities = [{"inventoryItemId": "gid://shopify/InventoryItem/1", "quantity": 1,
                   "locationId": DEFAULT_LOCATION, "changeFromQuantity": None}] * 251
    refused = api.body(INVENTORY_SET, {"idempotencyKey": "k-5", "input": {
        "name": "available", "reason": "correction", "quantities": quantities}})
    assert refused["data"] == {"inventorySetQuantities": None}  # 251: refused as a whole
    assert refused["errors"][0]["extensions"] == {"code": "MAX_INPUT_SIZE_EXCEEDED"}


def test_the_idempotent_directive_is_required_from_2026_04(shop: ShopifySandbox,
                                                          api: Api) -> None:
    define_code(api)
    put_product(api)
    refused = _stock(api, 3, key=None, changeFromQuantity=0)
    assert refused["errors"] == [{"message": "The @idempotent directive is required for this "
                                             "mutation.", "extensions": {"code": "BAD_REQUEST"}}]
    assert "data" not in refused and shop.held_stock()["CAM-1-AZ"] == 0
    old = _stock(api, 3, version="2025-10", key=None, compareQuantity=0)
    assert old["data"]["inventorySetQuantities"]["userErrors"] == []
    stale = _stock(api, 4, version="2025-10", key=None, compareQuantity=0)
    assert stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == \
        "COMPARE_QUANTITY_STALE"
    ignored = _stock(api, 4, version="2026-01", key=None)
    assert ignored["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == \
        "COMPARE_QUANTITY_REQUIRED"
    assert shop.held_stock()["CAM-1-AZ"] == 3


# -- cost and throttling --------------------------------------------------------------------------


def test_costs_are_requested_then_refunded(shop: ShopifySandbox, api: Api) -> None:
    define_code(api)
    put_product(api)
    cost = api.body(COST_PRODUCTS, {"first": 3})["extensions"]["cost"]
    # a product: 1 + code 1 + variants (2 + 100 x (1 + selectedOptions 1 + inventoryItem 1
    # + measurement 1 + weight 1)) + media (2 + 20 x (1 + preview 1 + image 1)) = 566
    assert cost["requestedQueryCost"] == 2 + 3 * 566
    # the one product there is: 1 + 1 + (2 + 2 x 5) + (2 + 2 x 3) (its file and the variant's)
    assert cost["actualQueryCost"] == 2 + 22
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0
    shop.configure_bucket(restore_rate=0)
    shop.bucket.fill()
    first = api.body(SHOP)["extensions"]["cost"]
    assert (first["requestedQueryCost"], first["actualQueryCost"]) == (54, 6)
    assert first["throttleStatus"]["currentlyAvailable"] == 2000 - 6
    mutation = api.body(COLLECTION_CREATE, {"input": {"title": "X"}})["extensions"]["cost"]
    assert (mutation["requestedQueryCost"], mutation["actualQueryCost"]) == (10, 10)
    assert mutation["throttleStatus"]["currentlyAvailable"] == 2000 - 16
    assert shop.charged == 10 + 10 + 24 + 6 + 10  # what every answer's actualQueryCost said


def test_a_request_the_bucket_cannot_pay_is_throttled(shop: ShopifySandbox, api: Api) -> None:
    shop.configure_bucket(size=100, restore_rate=0)
    shop.bucket.fill()
    api.body(SHOP)  # 54 asked, 6 paid: 94 left
    shop.bucket.take(90)
    response = api.post(SHOP)
    assert response.status_code == 200
    assert response.json() == {
        "errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": 54, "actualQueryCost": None,
                                "throttleStatus": {"maximumAvailable": 100.0,
                                                   "currentlyAvailable": 4, "restoreRate": 0.0}}}}
    assert shop.throttled == 1
    big = api.body(COST_PRODUCTS, {"first": 3})
    assert big["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert shop.throttled == 1
    shop.reset()
    assert shop.throttled == 0 and shop.bucket.size == 2000.0
    assert shop.settings["restore_rate"] == 100 and shop.settings["bucket_size"] == 2000


# -- orders: reading ----------------------------------------------------------------------------------


def test_orders_page_by_cursor_and_filter_by_update_time(shop: ShopifySandbox, api: Api) -> None:
    ids = [shop.place_order(an_order()) for _ in range(5)]
    query = "query($after: String, $q: String) { orders(first: 2, after: $after, query: $q, " \
            "sortKey: UPDATED_AT) { edges { cursor node { id updatedAt } } " \
            "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    seen, after = [], None
    while True:
        page = api.data(query, {"after": after})["orders"]
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        cursor = json.loads(base64.b64decode(page["pageInfo"]["endCursor"]))
        assert cursor["last_id"] == int(page["edges"][-1]["node"]["id"].rsplit("/", 1)[1])
        assert cursor["last_value"] == page["edges"][-1]["node"]["updatedAt"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids
    checkpoint = api.data(query)["orders"]["edges"][1]["node"]["updatedAt"]
    shop.change_order(ids[0])
    since = api.data(query.replace("first: 2", "first: 10"),
                     {"q": f"updated_at:>'{checkpoint}'"})["orders"]["edges"]
    assert [e["node"]["id"] for e in since] == [ids[2], ids[3], ids[4], ids[0]]
    inclusive = api.data(query.replace("first: 2", "first: 10"),
                         {"q": f"updated_at:>={checkpoint} status:any"})["orders"]["edges"]
    assert [e["node"]["id"] for e in inclusive] == [ids[1], ids[2], ids[3], ids[4], ids[0]]
    broken = api.body(query, {"after": "not-a-cursor"})
    assert broken["errors"][0]["message"].startswith("Invalid cursor")


def test_a_placed_order_reads_back(shop: ShopifySandbox, api: Api) -> None:
    define_code(api)
    put_product(api)
    order = an_order(("CAM-1-AZ", 2), ("AVULSO", 1), discount=Decimal("1.50"),
                     total=Decimal("50.00"))
    ident = shop.place_order(order)
    read = api.data(ORDER, {"id": ident})["order"]
    assert (read["name"], read["sourceName"], read["displayFinancialStatus"]) == (
        "#1001", "web", "PAID")
    assert read["customAttributes"] == [{"key": "cpf_cnpj", "value": CPF}]
    assert read["customer"]["firstName"] == "Ana" and read["customer"]["lastName"] == "de Souza"
    assert read["shippingAddress"]["address1"] == "Avenida Paulista, 1000"
    assert read["shippingAddress"]["address2"] == "Apto 5 - Bela Vista"
    assert read["totalPriceSet"]["shopMoney"] == {"amount": "50.00", "currencyCode": "BRL"}
    assert read["currentTotalDiscountsSet"]["shopMoney"]["amount"] == "1.50"
    lines = read["lineItems"]["nodes"]
    assert [(x["sku"], x["quantity"], x["variant"] is not None) for x in lines] == [
        ("CAM-1-AZ", 2, True), ("AVULSO", 1, False)]
    assert shop.held_stock()["CAM-1-AZ"] == -2
    shop.edit_order(ident, "CAM-1-AZ", 1)
    edited = api.data(ORDER, {"id": ident})["order"]["lineItems"]["nodes"][0]
    assert (edited["quantity"], edited["currentQuantity"]) == (2, 1)
    assert shop.held_stock()["CAM-1-AZ"] == -1
    assert shop.held_status(ident) == "PAID"
    shop.set_attribute(ident, "cpf_cnpj", "123")
    assert api.data(ORDER, {"id": ident})["order"]["customAttributes"] == [
        {"key": "cpf_cnpj", "value": "123"}]
    unknown = shop.place_order(an_order(
        shipping=tramo.Shipping(platform_method="DRONE", freight=Decimal("20.00")),
        sales_channel=tramo.SalesChannel(platform_channel="tiktok"),
        payments=(tramo.Payment(value=Decimal("30.50"), platform_method="cheque"),)))
    state = api.data("query($id: ID!) { order(id: $id) { sourceName paymentGatewayNames "
                     "shippingLines(first: 1) { nodes { title code } } } }", {"id": unknown})
    assert state["order"] == {"sourceName": "web", "paymentGatewayNames": ["manual"],
                              "shippingLines": {"nodes": [{"title": "Frete", "code": "Frete"}]}}


# -- orders: fulfilment, cancellation, payment, invoices ------------------------------------------


def test_fulfilment_tracking_and_delivery(shop: ShopifySandbox, api: Api) -> None:
    ident = shop.place_order(an_order(("A", 1), ("B", 2)))
    state = api.data(ORDER, {"id": ident})["order"]
    fo = state["fulfillmentOrders"]["nodes"][0]
    first_line = fo["lineItems"]["nodes"][1]["id"]
    partial = api.mutate(FULFILLMENT_CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [
            {"id": first_line, "quantity": 1}]}],
        "trackingInfo": {"number": "BR1", "company": "Correios"}}})["fulfillment"]
    assert shop.held_status(ident) == "PAID"
    rest = api.mutate(FULFILLMENT_CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo["id"]}], "trackingInfo": {"numbers": ["BR2", "BR3"]}}})
    assert shop.held_status(ident) == "FULFILLED"
    closed = api.data(FULFILLMENT_CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo["id"]}]}})["fulfillmentCreate"]["userErrors"]
    assert closed[0]["message"] == f"Fulfillment order {fo['id']} has an unfulfillable " \
                                   "status= closed."
    updated = api.mutate(TRACKING_UPDATE, {"fulfillmentId": partial["id"], "notify": False,
                                               "tracking": {"number": "BR9", "company": "Jadlog",
                                                            "url": "https://t.example.com/BR9"}})
    assert updated["fulfillment"]["trackingInfo"] == [
        {"company": "Jadlog", "number": "BR9", "url": "https://t.example.com/BR9"}]
    assert shop.held_trackings() == {ident: ["BR9", "BR2", "BR3"]}
    for fulfillment in (partial["id"], rest["fulfillment"]["id"]):
        api.mutate(FULFILLMENT_EVENT, {"event": {"fulfillmentId": fulfillment,
                                                     "status": "DELIVERED",
                                                     "happenedAt": "2026-01-06T10:00:00-03:00"}})
    assert shop.held_status(ident) == "DELIVERED"
    delivered = api.data(ORDER, {"id": ident})["order"]
    assert {f["deliveredAt"] for f in delivered["fulfillments"]} == {"2026-01-06T13:00:00Z"}
    refused = api.data(ORDER_CANCEL, {"orderId": ident, "reason": "OTHER", "restock": False,
                                          "refundMethod": {}})["orderCancel"]
    assert refused["orderCancelUserErrors"][0]["message"] == \
        "Cannot cancel an order that has fulfillments"


def test_order_cancel_is_a_job(shop: ShopifySandbox, api: Api) -> None:
    define_code(api)
    put_product(api)
    ident = shop.place_order(an_order(("CAM-1-AZ", 3)))
    cancel = {"orderId": ident, "reason": "CUSTOMER", "restock": True,
              "refundMethod": {"originalPaymentMethodsRefund": True}, "staffNote": "ERP"}
    job = api.mutate(ORDER_CANCEL, cancel)["job"]
    assert job["done"] is False and job["id"].startswith("gid://shopify/Job/")
    again = api.data(ORDER_CANCEL, cancel)["orderCancel"]["orderCancelUserErrors"]
    assert again[0]["code"] == "ORDER_ALREADY_CANCELLED"
    assert until(lambda: api.data(JOB, {"id": job["id"]})["job"]["done"])
    assert shop.held_status(ident) == "CANCELLED"
    state = api.data(ORDER, {"id": ident})["order"]
    assert state["displayFinancialStatus"] == "REFUNDED"
    assert state["fulfillmentOrders"]["nodes"][0]["status"] == "CANCELLED"
    assert shop.held_stock()["CAM-1-AZ"] == 0  # restocked
    long = api.data(ORDER_CANCEL, {**cancel, "orderId": shop.place_order(an_order()),
                                       "staffNote": "x" * 256})
    assert long["orderCancel"]["orderCancelUserErrors"][0]["field"] == ["staffNote"]


def test_mark_as_paid(shop: ShopifySandbox, api: Api) -> None:
    ident = shop.place_order(an_order(payments=()))
    assert shop.held_status(ident) == "PENDING"
    paid = api.mutate(MARK_PAID, {"input": {"id": ident}})
    assert paid["order"] == {"id": ident, "displayFinancialStatus": "PAID"}
    again = api.data(MARK_PAID, {"input": {"id": ident}})["orderMarkAsPaid"]
    assert again["userErrors"] == [{"field": ["id"], "message": "Order cannot be marked as paid."}]
    state = api.data(ORDER, {"id": ident})["order"]
    assert [t["kind"] for t in state["transactions"]] == ["SALE"] and state["fullyPaid"]


def test_metafields_set_checks_and_holds_invoices(shop: ShopifySandbox, api: Api) -> None:
    ident = shop.place_order(an_order())

    def invoice(**fields: Any) -> dict[str, Any]:
        return {"ownerId": ident, "namespace": "nfe", "key": "access_key",
                "type": "single_line_text_field", "value": ACCESS_KEY, **fields}

    bad = api.data(METAFIELDS_SET, {"metafields": [
        invoice(), invoice(key="issued_at", type="date_time", value="yesterday"),
        invoice(ownerId="gid://shopify/Order/999")]})["metafieldsSet"]
    assert bad["metafields"] is None
    assert [(e["field"], e["code"], e["elementIndex"]) for e in bad["userErrors"]] == [
        (["metafields", "1", "value"], "INVALID_VALUE", 1),
        (["metafields", "2", "ownerId"], "INVALID", 2)]
    assert shop.held_invoices() == {}
    too_many = api.data(METAFIELDS_SET, {"metafields": [invoice()] * 26})["metafieldsSet"]
    assert too_many["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"
    untyped = api.data(METAFIELDS_SET, {"metafields": [invoice(key="number", type=None)]})
    assert untyped["metafieldsSet"]["userErrors"][0]["code"] == "BLANK"
    api.mutate(METAFIELDS_SET, {"metafields": [invoice(), invoice(key="kind", value="nfe")]})
    clock = shop.data["clock"]
    api.mutate(METAFIELDS_SET, {"metafields": [invoice()]})
    assert shop.data["clock"] == clock  # the same value changes nothing
    assert shop.held_invoices() == {ident: [ACCESS_KEY]}
    state = api.data(ORDER, {"id": ident})["order"]
    assert {m["key"]: m["value"] for m in state["invoice"]["nodes"]} == {
        "access_key": ACCESS_KEY, "kind": "nfe"}
    stale = api.data(METAFIELDS_SET, {"metafields": [invoice(value="x", compareDigest="0")]})
    assert stale["metafieldsSet"]["userErrors"][0]["code"] == "STALE_OBJECT"
    digest = hashlib.sha256(ACCESS_KEY.encode()).hexdigest()
    api.mutate(METAFIELDS_SET, {"metafields": [invoice(value="y", compareDigest=digest)]})


# -- bulk operations ------------------------------------------------------------------------------


@pytest.mark.parametrize("locked", [True, False])
def test_background_work_holds_the_shop_only_when_asked(shop: ShopifySandbox, locked: bool) -> None:
    """A bulk query's run is work ``locked=False``: the shop's other calls go on meanwhile."""
    free: list[bool] = []
    done = threading.Event()

    def probe() -> None:
        got = shop.lock.acquire(blocking=False)
        free.append(got)
        if got:
            shop.lock.release()

    def work() -> None:
        other = threading.Thread(target=probe)
        other.start()
        other.join()
        done.set()

    shop.later(0, work, locked=locked)
    assert done.wait(timeout=10)
    assert free == [not locked]


def test_a_bulk_query_writes_jsonl_parents_before_children(shop: ShopifySandbox,
                                                           api: Api) -> None:
    define_code(api)
    one, two = put_product(api, "CAM-1"), put_product(api, "CAM-2", title="Camiseta Dois")
    run = api.mutate(BULK_RUN, {"query": BULK_PRODUCTS})
    operation = run["bulkOperation"]
    assert operation["status"] == "CREATED"
    done = until(lambda: (n := api.data(BULK_STATE, {"ids": [operation["id"]]})["nodes"][0])[
        "status"] == "COMPLETED" and n)
    assert done["objectCount"] == "10" and done["errorCode"] is None  # 2 + 2 x 2 variants + 4 media
    lines = [json.loads(x) for x in api.client.get(done["url"]).text.splitlines()]
    kinds = [(line["id"].split("/")[3], line.get("__parentId")) for line in lines]
    assert kinds[:5] == [("Product", None), ("ProductVariant", one["id"]),
                         ("ProductVariant", one["id"]), ("MediaImage", one["id"]),
                         ("MediaImage", one["id"])]
    assert kinds[5] == ("Product", None) and lines[5]["id"] == two["id"]
    assert "variants" not in lines[0] and lines[0]["code"] == {"value": "CAM-1"}
    assert lines[1]["selectedOptions"] == [{"name": "Cor", "value": "Azul"}]
    current = api.data("{ currentBulkOperation { id status rootObjectCount } }")
    assert current["currentBulkOperation"] == {"id": operation["id"], "status": "COMPLETED",
                                               "rootObjectCount": "2"}
    shop.fail_next_bulk()
    failed = api.mutate(BULK_RUN, {"query": BULK_ORDERS})["bulkOperation"]
    assert until(lambda: api.data(BULK_STATE, {"ids": [failed["id"]]})["nodes"][0]["errorCode"]) \
        == "INTERNAL_SERVER_ERROR"


def test_bulk_queries_are_checked_and_limited_by_version(shop: ShopifySandbox, api: Api) -> None:
    def errors(query: str, version: str | None = None) -> list[Any]:
        payload = api.data(BULK_RUN, {"query": query}, version=version)
        return list(payload["bulkOperationRunQuery"]["userErrors"])

    assert errors("{ shop { name } }")[0]["message"] == \
        "Bulk queries must contain at least one connection."
    assert errors("{ products { edges { node { nope } } } }")[0]["field"] == ["query"]
    nested = "{ products { edges { node { id variants { edges { node { id media { edges { " \
             "node { alt } } } } } } } } } }"
    assert "nesting depth" in errors(nested)[0]["message"]
    shop.configure(time_scale=0.001)  # jobs wait: the runs stay in progress
    query = "{ products { edges { node { id } } } }"
    assert errors(query, "2025-10") == []
    busy = errors(query, "2025-10")
    assert busy[0]["message"].startswith("A bulk query operation for this app and shop is "
                                         "already in progress: gid://shopify/BulkOperation/")
    assert errors(query, "2026-01") == []


# -- webhooks -------------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on loopback: it records every POST and fails the first ``failures``."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                failing = receiver.failures > 0
                receiver.failures -= 1
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_webhooks_are_signed_and_retried_with_the_same_id(shop: ShopifySandbox, api: Api,
                                                          receiver: Receiver) -> None:
    api.mutate(WEBHOOK_CREATE, {"topic": "ORDERS_CREATE", "uri": receiver.url})
    taken = api.data(WEBHOOK_CREATE, {"topic": "ORDERS_CREATE", "uri": receiver.url})
    assert taken["webhookSubscriptionCreate"]["userErrors"][0]["message"] == \
        "Address for this topic has already been taken"
    shop.subscribe("orders/cancelled", receiver.url)
    receiver.failures = 1
    ident = shop.place_order(an_order())
    assert shop.flush(5)
    assert len(receiver.received) == 2
    (headers, body), (retry_headers, retry_body) = receiver.received
    expected = base64.b64encode(hmac.new(WEBHOOK_SECRET.encode(), body,
                                         hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == SHOP_DOMAIN
    assert headers["X-Shopify-API-Version"] == "2026-10"
    assert retry_body == body and retry_headers["X-Shopify-Webhook-Id"] == \
        headers["X-Shopify-Webhook-Id"]
    order = json.loads(body)
    assert (order["admin_graphql_api_id"], order["name"], order["financial_status"]) == (
        ident, "#1001", "paid")
    assert order["line_items"][0]["sku"] == "AVULSO" and order["total_price"] == "30.50"
    assert [(d.status, d.attempt) for d in shop.deliveries] == [(500, 1), (200, 2)]
    shop.redeliver(headers["X-Shopify-Webhook-Id"])
    assert shop.flush(5)
    assert receiver.received[-1][0]["X-Shopify-Webhook-Id"] == headers["X-Shopify-Webhook-Id"]
    assert receiver.received[-1][1] == body


# -- the platform's view, the profile and the seed -------------------------------------------------


def test_views_match_what_the_shop_holds(shop: ShopifySandbox, api: Api) -> None:
    define_code(api)
    put_product(api)
    assert shop.held_stock() == {"CAM-1-AZ": 0, "CAM-1-PR": 0}
    ident = shop.place_order(an_order(("CAM-1-PR", 1)))
    assert shop.held_stock()["CAM-1-PR"] == -1 and shop.held_trackings() == {}
    assert shop.held_status(ident) in MAPPINGS["status"]
    [held] = shop.held_products()
    assert {v.sku: v.price for v in held.variants} == {"CAM-1-AZ": Decimal("49.90"),
                                                       "CAM-1-PR": Decimal("59.90")}
    assert shop.profile.mappings == MAPPINGS and shop.profile.page_size_setting == "page_size"
    settings = shop.settings
    assert (settings["base_url"], settings["location_id"]) == (shop.url, DEFAULT_LOCATION)


def test_the_seed_takes_sizes_numbering_the_catalogue_past_its_end(shop: ShopifySandbox,
                                                                   api: Api) -> None:
    shop.seed(products=8, orders=30, seed=3)
    codes = sorted(p.code for p in shop.held_products())
    assert len(codes) == 8 and {"CAM-100-7", "TEN-200-8"} <= set(codes)
    orders = api.data('{ orders(first: 250, query: "status:any") { nodes { id } } }')["orders"]
    assert len(orders["nodes"]) == 30
    with pytest.raises(ValueError, match="products=0"):
        shop.seed(products=0)


def test_the_seed_fills_a_demo_shop(shop: ShopifySandbox, api: Api) -> None:
    shop.seed()
    products = shop.held_products()
    assert len(products) == 6 and sum(len(p.variants) for p in products) == 11
    orders = api.data('{ orders(first: 2, query: "status:any") { pageInfo { hasNextPage } '
                      'nodes { id } } }')["orders"]
    assert orders["pageInfo"]["hasNextPage"]
    assert len(shop.held_trackings()) == 1
    assert {shop.held_status(o["id"]) for o in shop.data["objects"]["Order"].values()} <= \
        set(MAPPINGS["status"])

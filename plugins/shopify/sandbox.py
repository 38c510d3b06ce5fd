"""A Shopify store's Admin GraphQL API on loopback: the platform the shopify plugin talks to.

Tests, ``tramo demo``, benchmarks and the conformance kit point the plugin at
this server instead of ``https://{shop}.myshopify.com``. It is the
*platform*, so it never uses the plugin's code: it parses, validates and
executes the GraphQL the plugin sends against the same ``schema.graphql``,
charges each request's calculated cost to a leaky bucket (and answers
THROTTLED as Shopify does when the bucket cannot pay), runs bulk queries to
JSONL files, cancels orders through jobs, and delivers signed webhooks.
What it holds is converted to the tramo model by the sandbox itself
(``held_*``), never through the plugin.

What is known of the API is in the shared reference (shopify.md and its
payloads); where the record is silent the sandbox's contract is the design.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import tramo
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationType,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from tramo.sandbox import (
    Call,
    Fault,
    HttpSandbox,
    Knobs,
    Request,
    Response,
    json_response,
    retry_after_header,
)
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from tramo_shopify.sandbox_bulk import bulk_operation_run_query, remove_files, serve_name
from tramo_shopify.sandbox_catalogue import IDEMPOTENT_FROM, level_of, metafield_of
from tramo_shopify.sandbox_cost import LeakyBucket, actual_cost, first_over_limit, requested_cost
from tramo_shopify.sandbox_graphql import IDEMPOTENT, SCHEMA, error_code, run
from tramo_shopify.sandbox_orders import build_order, edit_line
from tramo_shopify.sandbox_profile import MAPPINGS, profile
from tramo_shopify.sandbox_records import (
    CODE_KEY,
    CODE_NAMESPACE,
    DEFAULT_LOCATION,
    INVOICE_NAMESPACE,
    LOCATIONS,
    PRICE_LISTS,
    SHOP_DOMAIN,
    Ctx,
    get,
    items_of,
    objects,
    tick,
)
from tramo_shopify.sandbox_seed import fill
from tramo_shopify.sandbox_store import MUTATIONS, fresh_data
from tramo_shopify.sandbox_webhooks import TOPICS, Delivery, WebhookHub, rest_order, subscribe

__all__ = ["ACCESS_TOKEN", "DEFAULT_LOCATION", "LOCATIONS", "MAPPINGS", "PRICE_LISTS",
           "SHOP_DOMAIN", "VERSIONS", "WEBHOOK_SECRET", "ShopifySandbox"]

ACCESS_TOKEN = "shpat_sandbox_0123456789abcdef"
WEBHOOK_SECRET = "sandbox-app-client-secret"
VERSIONS = ("2025-07", "2025-10", "2026-01", "2026-04", "2026-07", "2026-10")
DOCUMENTATION = "https://shopify.dev/api/usage/rate-limits"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
TOO_MANY = ("Exceeded 2 calls per second for api client. Reduce request rates to resume "
            "uninterrupted service.")
MISSING_QUERY = {"errors": {"query": "Required parameter missing or invalid"}}
#: Mutations that change nothing the shop sells: they start a bulk read.
READING_MUTATIONS = frozenset({"bulkOperationRunQuery"})


def _located(error: GraphQLError) -> dict[str, Any]:
    """An ``errors[]`` entry: message, locations, extensions.code (Shopify's spelling)."""
    body: dict[str, Any] = {"message": error.message}
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        body["path"] = list(error.path)
    body["extensions"] = dict(error.extensions or {}) or {"code": error_code(error.message)}
    return body


@functools.lru_cache(maxsize=256)
def _checked(query: str) -> tuple[DocumentNode, tuple[GraphQLError, ...]]:
    """A query parsed and validated once: clients send the same few texts again and again."""
    document = parse(query)
    return document, tuple(validate(SCHEMA, document))


class ShopifySandbox(HttpSandbox):
    """A Shopify store on a loopback port. ``data`` is the shop; ``calls`` what reached it.

    :param bucket_size: cost points the bucket holds (Shopify's Standard plan: 2000).
    :param restore_rate: points a platform second restores (Standard: 100).
    :param job_seconds: platform seconds before a job, bulk run or async productSet runs.
    """

    plugin = "shopify"
    profile = profile(MAPPINGS)
    url_map = Map([Rule("/admin/api/<version>/graphql.json", endpoint="graphql",
                        methods=["POST"]),
                   Rule("/bulk/<name>.jsonl", endpoint="bulk_file", methods=["GET"])])

    def __init__(self, knobs: Knobs | None = None, *, bucket_size: int = 2000,
                 restore_rate: float = 100.0, job_seconds: float = 0.05,
                 host: str = "127.0.0.1", port: int = 0, webhook_retries: int = 3) -> None:
        self._bucket_initial = (float(bucket_size), float(restore_rate))
        self.restore_rate = float(restore_rate)
        self.bucket = LeakyBucket(bucket_size, restore_rate)
        self.job_seconds = job_seconds
        self.throttled = 0
        #: cost points the executed requests were charged, net of refunds (a benchmark's bound)
        self.charged = 0
        self.failing_bulk: str | None = None
        self.hub = WebhookHub(WEBHOOK_SECRET, SHOP_DOMAIN, retries=webhook_retries)
        self._timers: list[threading.Timer] = []
        self._generation = 0
        self._bulk_dir: Path | None = None
        self.mutations: dict[str, Callable[..., Any]] = {
            **MUTATIONS, "bulkOperationRunQuery": bulk_operation_run_query,
            "webhookSubscriptionCreate": _subscription_create}
        self._asked = threading.local()
        super().__init__(knobs, host=host, port=port)

    # -- lifecycle, knobs --------------------------------------------------------------------

    def fresh_data(self) -> dict[str, Any]:
        return fresh_data()

    def _apply_knobs(self) -> None:
        super()._apply_knobs()
        if hasattr(self, "bucket"):
            self.bucket.configure(rate=self.restore_rate * self.knobs.time_scale)

    def _start(self) -> None:
        super()._start()
        self.hub.start()

    def _stop(self) -> None:
        self._cancel_timers()
        self.hub.stop()
        super()._stop()
        if self._bulk_dir is not None:
            shutil.rmtree(self._bulk_dir, ignore_errors=True)
            self._bulk_dir = None

    def reset(self) -> None:
        """A new shop: data, calls, knobs, a full bucket of the first size, no jobs or deliveries."""
        self._cancel_timers()
        super().reset()
        self.hub.reset()
        with self.lock:
            size, rate = self._bucket_initial
            self.restore_rate = rate
            self.bucket.configure(size=size, rate=rate * self.knobs.time_scale)
            self.bucket.fill()
            self.throttled = 0
            self.charged = 0
            self.failing_bulk = None
            remove_files(self._bulk_dir)

    def configure_bucket(self, *, size: float | None = None,
                         restore_rate: float | None = None) -> None:
        """A new bucket size or restore rate (points a platform second) on a running sandbox."""
        with self.lock:
            if restore_rate is not None:
                self.restore_rate = float(restore_rate)
            self.bucket.configure(size=size, rate=self.restore_rate * self.knobs.time_scale)

    @property
    def settings(self) -> dict[str, Any]:
        """The plugin settings for this store; the bucket's figures as its answers report them.

        ``restore_rate`` is in real seconds (the reported ``restoreRate``), as a
        whole number when it is one (the plugin's setting is an int).
        """
        rate = self.bucket.rate
        return {"shop_domain": SHOP_DOMAIN, "base_url": self.url, "access_token": ACCESS_TOKEN,
                "webhook_secret": WEBHOOK_SECRET, "api_version": VERSIONS[-1],
                "location_id": DEFAULT_LOCATION,
                "restore_rate": int(rate) if float(rate).is_integer() else rate,
                "bucket_size": int(self.bucket.size)}

    def seed(self, *, products: int = 6, orders: int = 5, seed: int = 0) -> None:
        """A demo shop: products with variants, stock at both locations, Brazilian orders.

        For ``tramo demo`` and benchmarks; ``reset()`` never seeds (tests start empty).
        """
        fill(self, seed, products=products, orders=orders)

    # -- background work: jobs, webhooks, bulk files -------------------------------------------

    def later(self, seconds: float, work: Callable[[], None], *, locked: bool = True) -> None:
        """Run ``work`` ``seconds`` (platform) from now, unless reset first.

        Under the shop's lock, or with ``locked`` False outside it, for long
        work that must not hold up the shop's answers (a bulk query's run);
        such work takes the lock itself for what it reads or changes.
        """
        generation = self._generation

        def fire() -> None:
            with self.lock:
                if generation != self._generation or not self.running:
                    return
                if locked:
                    self._attempt(work)
            if not locked:
                self._attempt(work)

        timer = threading.Timer(self.duration(seconds), fire)
        timer.daemon = True
        with self.lock:
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def _attempt(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - a sandbox bug is kept, not hidden
            self.errors.append(exc)

    def _cancel_timers(self) -> None:
        with self.lock:
            self._generation += 1
            for timer in self._timers:
                timer.cancel()
            self._timers = []

    def uuid(self) -> str:
        return str(uuid.uuid4())

    def emit(self, topic: str, order: dict[str, Any]) -> None:
        """An order event: its REST body (as it is now) to every subscription of the topic."""
        if self._subscribers(topic):
            self.emit_payload(topic, rest_order(self.data, order))

    def emit_payload(self, topic: str, payload: dict[str, Any]) -> None:
        event = str(uuid.uuid4())
        for subscription in self._subscribers(topic):
            self.hub.send(topic, subscription["uri"], subscription["_version"], payload,
                          self.data["clock"], event)

    def _subscribers(self, topic: str) -> list[dict[str, Any]]:
        return [s for s in self.data["objects"].get("WebhookSubscription", {}).values()
                if TOPICS[s["topic"]] == topic]

    def subscribe(self, topic: str, uri: str) -> str:
        """Subscribe ``uri`` to ``topic`` (``orders/create`` or ``ORDERS_CREATE``); its gid."""
        with self.lock:
            return str(subscribe(self.data, topic, uri, VERSIONS[-1])["id"])

    @property
    def webhook_retries(self) -> int:
        """Attempts after the first for a failed delivery (same webhook id)."""
        return self.hub.retries

    @webhook_retries.setter
    def webhook_retries(self, retries: int) -> None:
        self.hub.retries = retries

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery attempt so far (a retry shows again, with the same webhook id)."""
        return list(self.hub.deliveries)

    def redeliver(self, webhook_id: str) -> None:
        self.hub.redeliver(webhook_id)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every pending webhook delivery is done (False when ``timeout`` ran out)."""
        return self.hub.flush(timeout)

    def fail_next_bulk(self, error_code: str = "INTERNAL_SERVER_ERROR") -> None:
        """The next bulk query run fails with ``error_code``."""
        with self.lock:
            self.failing_bulk = error_code

    def bulk_file(self, name: str) -> Path:
        with self.lock:
            if self._bulk_dir is None:
                self._bulk_dir = Path(tempfile.mkdtemp(prefix="tramo-shopify-bulk-"))
            return self._bulk_dir / f"{name}.jsonl"

    def shop_record(self) -> dict[str, Any]:
        return {"id": "gid://shopify/Shop/1", "name": "Tramo Sandbox",
                "myshopifyDomain": SHOP_DOMAIN, "currencyCode": "BRL",
                "ianaTimezone": "America/Sao_Paulo",
                "plan": {"displayName": "Basic", "shopifyPlus": False}}

    # -- the platform's side, in the model's terms (tramo.sandbox.PlatformView) ----------------

    def held_products(self) -> list[tramo.Product]:
        """The products carrying the ERP code metafield, converted without the plugin's help.

        A product whose only variant is Title / Default Title has no variants
        (its SKU, barcode, price and weight are the product's); a price counts
        only once one was sent (a variant Shopify priced 0.00 by default reads
        None); the product's images are the media sent in ``files``, in order.
        A record the model refuses is skipped and kept in ``errors``.
        """
        with self.lock:
            found = []
            for product in objects(self.data, "Product"):
                code = metafield_of(self.data, product, CODE_NAMESPACE, CODE_KEY)
                if code is None:
                    continue
                try:
                    found.append(self._held_product(product, code["value"]))
                except (tramo.ValidationError, ValueError, TypeError) as exc:
                    self.errors.append(exc)
            return found

    def _held_product(self, product: dict[str, Any], code: str) -> tramo.Product:
        data = self.data
        variants = items_of(data, product["_variants"])
        vendor = product["vendor"]
        common: dict[str, Any] = dict(
            code=code, name=product["title"], description=product["descriptionHtml"],
            available=product["status"] == "ACTIVE", remote_id=product["id"],
            brand=tramo.Brand(id=vendor, name=vendor) if vendor.strip() else None,
            images=tuple(m["_source"] for m in items_of(data, product["_media"])
                         if m["_from_files"]))
        if len(variants) == 1 and [(o["name"], o["value"]) for o in variants[0]["selectedOptions"]] \
                == [("Title", "Default Title")]:
            only = variants[0]
            return tramo.Product(**common, sku=None if only["sku"] == code else only["sku"],
                                 gtin=only["barcode"] or None, price=self._price(only),
                                 weight_kg=self._kilograms(only))
        return tramo.Product(**common, variants=tuple(tramo.Variant(
            sku=v["sku"], gtin=v["barcode"] or None, price=self._price(v),
            weight_kg=self._kilograms(v), remote_id=v["id"],
            attributes=tuple(tramo.Attribute(name=o["name"], value=o["value"])
                             for o in v["selectedOptions"]),
            images=tuple(m["_source"] for m in items_of(data, v["_media"]))) for v in variants))

    @staticmethod
    def _price(variant: dict[str, Any]) -> Decimal | None:
        return variant["price"] if variant["_price_set"] else None

    def _kilograms(self, variant: dict[str, Any]) -> Decimal | None:
        weight = (get(self.data, variant["_item"]) or {}).get("_weight")
        if weight is None:
            return None
        value, unit = weight
        return value * {"KILOGRAMS": Decimal(1), "GRAMS": Decimal("0.001"),
                        "POUNDS": Decimal("0.45359237"), "OUNCES": Decimal("0.028349523125")}[unit]

    def held_stock(self) -> dict[str, int]:
        """SKU to ``available`` at the default location."""
        with self.lock:
            return {v["sku"]: level["_q"]["available"] for v in objects(self.data, "ProductVariant")
                    if v["sku"] and (level := level_of(self.data, v["_item"], DEFAULT_LOCATION))}

    @staticmethod
    def _as_price(sku: str, price: Decimal, compare: Decimal | None, **more: Any) -> tramo.Price:
        """compareAtPrice above the price is the list price and the price the sale price."""
        if compare is not None and compare > price:
            return tramo.Price(sku=sku, list_price=compare, sale_price=price, **more)
        return tramo.Price(sku=sku, list_price=price, **more)

    def held_prices(self) -> dict[str, tramo.Price]:
        """SKU to its base price (BRL), from the variant's price and compareAtPrice."""
        with self.lock:
            return {v["sku"]: self._as_price(v["sku"], v["price"], v["compareAtPrice"],
                                             currency="BRL")
                    for v in objects(self.data, "ProductVariant") if v["sku"]}

    def held_list_prices(self) -> dict[tuple[str, str], tramo.Price]:
        """(price list name, SKU) to the fixed price the list holds, in the list's currency."""
        with self.lock:
            found = {}
            for price_list in objects(self.data, "PriceList"):
                for ident, held in price_list["_prices"].items():
                    variant = get(self.data, ident)
                    if variant and variant["sku"]:
                        found[(price_list["name"], variant["sku"])] = self._as_price(
                            variant["sku"], held["price"], held["compareAtPrice"],
                            price_list=price_list["name"], currency=price_list["currency"])
            return found

    def held_trackings(self) -> dict[str, list[str]]:
        """Order gid to every tracking number of its fulfillments."""
        with self.lock:
            found: dict[str, list[str]] = {}
            for order in objects(self.data, "Order"):
                numbers = [t["number"] for f in items_of(self.data, order["_fulfillments"])
                           for t in f["trackingInfo"] if t["number"]]
                if numbers:
                    found[order["id"]] = numbers
            return found

    def held_invoices(self) -> dict[str, list[str]]:
        """Order gid to ``[nfe.access_key]`` where the metafield is set."""
        with self.lock:
            return {order["id"]: [key["value"]] for order in objects(self.data, "Order")
                    if (key := metafield_of(self.data, order, INVOICE_NAMESPACE, "access_key"))}

    def held_status(self, order_id: str) -> str:
        """The order's platform status, by the rule the plugin reads it with.

        CANCELLED when cancelled; DELIVERED when fulfilled and every fulfillment
        not cancelled is delivered; FULFILLED when fulfilled; else the
        financial status (PENDING, PAID, ...).
        """
        with self.lock:
            order = get(self.data, order_id, "Order")
            if order is None:
                raise KeyError(order_id)
            if order["cancelledAt"] is not None:
                return "CANCELLED"
            live = [f for f in items_of(self.data, order["_fulfillments"])
                    if f["status"] != "CANCELLED"]
            fulfilled = order["displayFulfillmentStatus"] == "FULFILLED"
            if fulfilled and live and all(f["displayStatus"] == "DELIVERED" for f in live):
                return "DELIVERED"
            return "FULFILLED" if fulfilled else str(order["displayFinancialStatus"])

    def place_order(self, order: tramo.Order) -> str:
        """A buyer places ``order`` at the checkout now; its gid (``orders/create`` fires)."""
        with self.lock:
            record = build_order(self.data, order, tick(self.data))
            self.emit("orders/create", record)
            return str(record["id"])

    def change_order(self, order_id: str) -> None:
        """Staff tag the order: ``updatedAt`` moves and ``orders/updated`` fires."""
        with self.lock:
            order = get(self.data, order_id, "Order")
            if order is None:
                raise KeyError(order_id)
            order["updatedAt"] = tick(self.data)
            order["tags"] = [*order["tags"], f"changed-{len(order['tags']) + 1}"]
            self.emit("orders/updated", order)

    def set_attribute(self, order_id: str, key: str, value: str | None) -> None:
        """Staff set (or, with None, remove) one of the order's custom attributes (a change)."""
        with self.lock:
            order = get(self.data, order_id, "Order")
            if order is None:
                raise KeyError(order_id)
            kept = [a for a in order["customAttributes"] if a["key"] != key]
            order["customAttributes"] = kept + ([{"key": key, "value": value}]
                                                if value is not None else [])
            order["updatedAt"] = tick(self.data)
            self.emit("orders/updated", order)

    def edit_order(self, order_id: str, sku: str, quantity: int) -> None:
        """A merchant edits a line's quantity after placement (``orders/edited``, ``orders/updated``)."""
        with self.lock:
            order = get(self.data, order_id, "Order")
            if order is None:
                raise KeyError(order_id)
            edit_line(self.data, order, sku, quantity, tick(self.data))
            self.emit("orders/edited", order)
            self.emit("orders/updated", order)

    # -- which calls were writes: every GraphQL request is a POST to one path -------------------

    def record(self, method: str, path: str, query: str, status: int | None,
               fault: Fault | None) -> None:
        """A GraphQL POST's record names its operation in ``query``: ``"mutation productSet"``."""
        operation = getattr(self._asked, "operation", None)
        self._asked.operation = None
        super().record(method, path, operation or query, status, fault)

    def is_write(self, call: Call) -> bool:
        """A GraphQL mutation, unless it only starts a bulk read (``bulkOperationRunQuery``).

        Queries and bulk files are reads. A POST refused before its document was read (a
        429, an injected 5xx, a dropped connection) counts as a write: nobody read which it
        was, and a count of writes must not miss one.
        """
        if call.method != "POST":
            return False
        kind, _, fields = call.query.partition(" ")
        if kind == "query":
            return False
        return kind != "mutation" or not set(fields.split(",")) <= READING_MUTATIONS

    # -- HTTP: Shopify's answers ----------------------------------------------------------------

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return json_response({"errors": TOO_MANY}, 429,
                             {"Retry-After": retry_after_header(retry_after)})

    def server_error(self, request: Request) -> Response:
        return json_response({"errors": "Service Unavailable"}, 503)

    def not_found(self, request: Request) -> Response:
        return json_response({"errors": "Not Found"}, 404)

    def http_error(self, request: Request, exc: HTTPException) -> Response:
        return json_response({"errors": exc.name}, exc.code or 400)

    def is_page_read(self, request: Request) -> bool:
        """Never: every GraphQL read is a POST to one path, so DUPLICATE_PAGE does not apply."""
        return False

    def guard(self, request: Request, endpoint: str) -> Response | None:
        """The API wants a known version in the path and the shop's token in the header."""
        if endpoint != "graphql":
            return None
        version = request.path.split("/")[3]
        if version not in VERSIONS:
            return self.not_found(request)
        if request.headers.get("X-Shopify-Access-Token") != ACCESS_TOKEN:
            return json_response({"errors": INVALID_TOKEN}, 401)
        return None

    def on_bulk_file(self, request: Request, name: str) -> Response:
        path = self.bulk_file(name) if serve_name(name) else None
        if path is None or not path.is_file():
            return self.not_found(request)
        return Response(_chunks(path), 200, mimetype="application/jsonl",
                        headers={"Content-Length": str(path.stat().st_size)})

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                         "throttleStatus": self.bucket.status()}}

    def _refuse(self, errors: list[dict[str, Any]], requested: int = 0) -> Response:
        return json_response({"errors": errors, "extensions": self._cost(requested, None)})

    def on_graphql(self, request: Request, version: str) -> Response:
        """Parse, validate, cost, charge, execute, refund: one GraphQL request."""
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) \
                or not body["query"].strip() or not isinstance(body.get("variables") or {}, dict):
            return json_response(MISSING_QUERY, 400)
        variables, name = body.get("variables") or {}, body.get("operationName")
        try:
            document, invalid = _checked(body["query"])
        except GraphQLError as error:
            return self._refuse([_located(error)])
        if invalid:
            return self._refuse([_located(e) for e in invalid])
        operation = get_operation_ast(document, name)
        if operation is None:
            return self._refuse([{"message": "An operation name is required to pick one of the "
                                  "operations" if name is None else
                                  f"Unknown operation named '{name}'.",
                                  "extensions": {"code": "invalidQuery"}}])
        self._asked.operation = _operation_text(operation)
        coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return self._refuse([{**_located(e), "extensions": {"code": "INVALID_VARIABLE"}}
                                 for e in coerced])
        values = getattr(coerced, "coerced", coerced)
        requested = requested_cost(SCHEMA, document, operation, coerced)
        refused = self._before_running(document, operation, values, version, requested)
        if refused is not None:
            return self._refuse([refused], requested)
        if not self.bucket.take(requested):
            with self.lock:
                self.throttled += 1
            return self._refuse([{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": DOCUMENTATION}}], requested)
        with self.lock:
            result = run(Ctx(shop=self, version=version), document, variables, name)
        for error in result.errors or ():
            cause = error.original_error
            if cause is not None and not isinstance(cause, GraphQLError):
                self.errors.append(cause)  # a resolver crashed: a sandbox bug, never hidden
        actual = actual_cost(SCHEMA, document, operation, coerced, result.data)
        self.bucket.refund(requested - actual)
        with self.lock:
            self.charged += actual
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_located(e) for e in result.errors]
        answer["extensions"] = self._cost(requested, actual)
        return json_response(answer)

    def _before_running(self, document: Any, operation: Any, values: dict[str, Any],
                        version: str, requested: int) -> dict[str, Any] | None:
        """The request-level refusals that come before the bucket: page size, cost, directive.

        ``first`` over 250 is answered with code ``MAX_COST_EXCEEDED`` (the
        sandbox's choice: Shopify refuses such a page as too costly a request).
        """
        large = first_over_limit(document, operation, values)
        if large is not None:
            return {"message": "The first argument cannot exceed 250.",
                    "locations": [{"line": large.loc.source.get_location(large.loc.start).line,
                                   "column": large.loc.source.get_location(
                                       large.loc.start).column}] if large.loc else [],
                    "extensions": {"code": "MAX_COST_EXCEEDED", "documentation": DOCUMENTATION}}
        if requested > self.bucket.size:
            return {"message": f"Query cost is {requested}, which exceeds the single query max "
                               f"cost limit ({int(self.bucket.size)}).",
                    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                                   "maxCost": int(self.bucket.size),
                                   "documentation": DOCUMENTATION}}
        if operation.operation is OperationType.MUTATION and version >= IDEMPOTENT_FROM:
            for selection in operation.selection_set.selections:
                if isinstance(selection, FieldNode) and \
                        selection.name.value == "inventorySetQuantities" and not any(
                            d.name.value == IDEMPOTENT.name for d in selection.directives or ()):
                    return {"message": "The @idempotent directive is required for this mutation.",
                            "extensions": {"code": "BAD_REQUEST"}}
        return None


def _operation_text(operation: Any) -> str:
    """``"mutation productSet"``: the operation's kind and its root fields, comma-separated."""
    fields = [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    return f"{operation.operation.value} {','.join(fields)}"


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(65536):
            yield chunk


def _subscription_create(shop: Any, ctx: Ctx, **arguments: Any) -> dict[str, Any]:
    from tramo_shopify.sandbox_webhooks import webhook_subscription_create
    return webhook_subscription_create(shop, ctx, **arguments)

"""minishop on loopback: a real HTTP server speaking the API in the README.

Hosts, the conformance kit (``tramo conformance example``) and this plugin's
tests point the plugin at it instead of a real store. It is the *platform*, so
it does not use the plugin's code: it checks bearer tokens, validates bodies
and answers with minishop's own error bodies, and it converts what it holds to
the tramo model itself (the ``held_*`` methods), so the kit compares the
plugin's work with an independent account of it.

Every request passes through the core's knobs first (latency, injected
faults, rate limits; :class:`tramo.sandbox.HttpSandbox`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from werkzeug.routing import Map, Rule

import tramo
from tramo.sandbox import HttpSandbox, Profile, Request, Response, json_response, retry_after_header

__all__ = ["MAPPINGS", "PROFILE", "START", "STATUSES", "TOKEN", "MinishopSandbox", "order_json"]

#: The token that reads and writes, and one that may only read.
TOKEN = "sandbox-token"
READ_ONLY_TOKEN = "sandbox-read-token"
TOKENS: Mapping[str, frozenset[str]] = {TOKEN: frozenset({"read", "write"}),
                                        READ_ONLY_TOKEN: frozenset({"read"})}

#: minishop's clock starts here and moves one second per change, so every change
#: time is unique and strictly increasing (checkpoints taken from them are exact).
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=-3)))

#: minishop's order statuses: (id, name, active).
STATUSES = (
    ("pending", "Aguardando pagamento", True), ("paid", "Pago", True),
    ("picking", "Em separação", True), ("invoiced", "Faturado", True),
    ("ready", "Pronto para envio", True), ("shipped", "Enviado", True),
    ("delivered", "Entregue", True), ("returned", "Devolvido", True),
    ("cancelled", "Cancelado", True), ("on_hold", "Em análise (antigo)", False),
)
SHIPPING_METHODS = ("pac", "sedex", "pickup")
PAYMENT_METHODS = ("pix", "boleto", "card")
CHANNELS = ("store", "marketplace")

#: A host's mapping tables for minishop: every canonical status has one minishop
#: status, and each shipping/payment method and channel an ERP code.
MAPPINGS: Mapping[str, Mapping[str, str]] = {
    "status": {"pending": "open", "paid": "approved", "picking": "preparing_shipment",
               "invoiced": "invoiced", "ready": "ready_to_ship", "shipped": "shipped",
               "delivered": "delivered", "returned": "not_delivered", "cancelled": "cancelled"},
    "shipping": {"pac": "CORREIOS_PAC", "sedex": "CORREIOS_SEDEX", "pickup": "RETIRADA"},
    "payment": {"pix": "PIX", "boleto": "BOLETO", "card": "CARTAO"},
    "channel": {"store": "LOJA", "marketplace": "MARKETPLACE"},
}


def _long_sku(product: tramo.Product) -> tramo.Product:
    if product.variants:
        first = attrs.evolve(product.variants[0], sku="S" * 41)
        return attrs.evolve(product, variants=(first, *product.variants[1:]))
    return attrs.evolve(product, sku="S" * 41)


#: What the conformance kit must know about minishop (see tramo.sandbox.Profile).
PROFILE = Profile(
    kept={
        # Not kept: short_description, categories (minishop links none), ncm,
        # weight_kg, dimensions, product attributes; remote_id and updated_at are
        # minishop's own.
        "Product": frozenset({"code", "name", "description", "brand", "sku", "gtin", "price",
                              "images", "variants", "available"}),
        # Not kept: weight_kg, dimensions, images (minishop's images are per product).
        "Variant": frozenset({"sku", "gtin", "price", "attributes", "available"}),
        "Brand": frozenset({"id", "name"}),
        "Category": frozenset({"id", "name", "parent_id"}),
        # One price and one stock per SKU: a price list, company, segment or
        # warehouse is refused (see ``invalid``), never written over the one there is.
        "Price": frozenset({"sku", "list_price", "sale_price", "promotional_price",
                            "promotion_start", "promotion_end", "currency"}),
        "StockLevel": frozenset({"sku", "quantity"}),
        # Reservations last until released: expires_at is not kept.
        "StockReservation": frozenset({"id", "sku", "quantity", "order_id"}),
        # An order placed on minishop gets minishop's id, number and times; no
        # invoices or edits. Its status is its own when minishop has it, else
        # "pending"; shipping/payment methods and channel likewise fall back to
        # minishop's first ones (a buyer picks among the store's).
        "Order": frozenset({"customer", "items", "total", "billing_address", "delivery_address",
                            "shipping", "payments", "sales_channel", "discount", "currency",
                            "trackings", "notes"}),
        "Customer": frozenset({"name", "kind", "cpf", "cnpj", "state_registration", "email",
                               "phones", "birth_date"}),
        "OrderItem": frozenset({"sku", "name", "quantity", "unit_price", "discount",
                                "product_code", "gtin", "attributes"}),
        "Shipping": frozenset({"carrier", "freight", "estimated_delivery"}),
        "Payment": frozenset({"value", "installments", "paid_at"}),
        "SalesChannel": frozenset({"marketplace_order_id"}),
        "Tracking": frozenset({"code", "carrier", "url", "shipped_at", "invoice_key"}),
    },
    orders="incremental",
    mappings=MAPPINGS,
    invalid={
        "send_products": (
            ("a name longer than 120 characters", lambda p: attrs.evolve(p, name="N" * 121)),
            ("more than 5 images", lambda p: attrs.evolve(
                p, images=tuple(f"https://img.example.com/{i}.jpg" for i in range(6)))),
            ("a SKU longer than 40 characters", _long_sku),
        ),
        "send_prices": (
            ("a price list", lambda p: attrs.evolve(p, price_list="atacado")),
            ("a currency other than BRL", lambda p: attrs.evolve(p, currency="USD")),
        ),
        "send_stock": (
            ("a warehouse", lambda level: attrs.evolve(level, warehouse="CD-2")),
        ),
    },
    page_size_setting="page_size",
)


# -- minishop's answers ---------------------------------------------------------------


def error(status: int, code: str, message: str,
          details: Iterable[tuple[str, str]] = ()) -> Response:
    """minishop's error body: ``{"error": {"code", "message", "details": [...]}}``."""
    body: dict[str, Any] = {"code": code, "message": message}
    found = [{"field": f, "message": m} for f, m in details]
    if found:
        body["details"] = found
    return json_response({"error": body}, status)


def not_an_object(what: str) -> Response:
    return error(422, "validation_failed", f"the {what} is invalid",
                 [("body", "must be a JSON object")])


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- checking bodies (what minishop refuses) ---------------------------------------


class _Problems:
    """Collects (field, message) pairs for a 422."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.found.append((field, message))

    def text(self, data: Mapping[str, Any], key: str, field: str, *, required: bool = False,
             max_length: int | None = None) -> None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(field, "is required")
        elif not isinstance(value, str) or (required and not value.strip()):
            self.add(field, "must be non-blank text" if required else "must be text")
        elif max_length is not None and len(value) > max_length:
            self.add(field, f"is longer than {max_length} characters")

    def money(self, data: Mapping[str, Any], key: str, field: str, *,
              required: bool = False) -> None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(field, "is required")
            return
        try:
            amount = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0:
            self.add(field, "must be an amount as text, such as \"10.50\"")

    def moment(self, data: Mapping[str, Any], key: str, field: str) -> None:
        value = data.get(key)
        if value is None:
            return
        try:
            aware = isinstance(value, str) and _when(value).utcoffset() is not None
        except ValueError:
            aware = False
        if not aware:
            self.add(field, "must be an ISO 8601 time with its offset")

    def flag(self, data: Mapping[str, Any], key: str, field: str) -> None:
        if not isinstance(data.get(key, True), bool):
            self.add(field, "must be true or false")

    def count(self, data: Mapping[str, Any], key: str, field: str, minimum: int) -> None:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.add(field, f"must be a whole number of at least {minimum}")


def product_problems(body: Any) -> list[tuple[str, str]]:
    """What minishop refuses in a product body (its limits: README, "Limits")."""
    check = _Problems()
    if not isinstance(body, dict):
        return [("body", "must be a JSON object")]
    check.text(body, "code", "code", required=True)
    check.text(body, "name", "name", required=True, max_length=120)
    check.text(body, "description", "description")
    check.text(body, "gtin", "gtin")
    check.money(body, "price", "price")
    check.flag(body, "active", "active")
    brand = body.get("brand")
    if brand is not None:
        if isinstance(brand, dict):
            check.text(brand, "code", "brand.code", required=True)
            check.text(brand, "name", "brand.name", required=True)
        else:
            check.add("brand", "must be an object or null")
    images = body.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        check.add("images", "must be a list of URLs")
    elif len(images) > 5:
        check.add("images", "holds more than 5 images")
    variants = body.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
        return [*check.found, ("variants", "must be a list of objects")]
    check.text(body, "sku", "sku", max_length=40)
    if not variants and body.get("sku") is None:
        check.text(body, "code", "code", max_length=40)  # sold under its code
    seen: set[str] = set()
    for i, variant in enumerate(variants):
        check.text(variant, "sku", f"variants[{i}].sku", required=True, max_length=40)
        check.text(variant, "gtin", f"variants[{i}].gtin")
        check.money(variant, "price", f"variants[{i}].price")
        check.flag(variant, "active", f"variants[{i}].active")
        attributes = variant.get("attributes", [])
        if not isinstance(attributes, list) or not all(
                isinstance(a, dict) and all(isinstance(a.get(k), str) for k in ("name", "value"))
                for a in attributes):
            check.add(f"variants[{i}].attributes", "must be a list of {name, value}")
        if variant.get("sku") in seen:
            check.add(f"variants[{i}].sku", "is repeated in the product")
        seen.add(variant.get("sku"))
    return check.found


def _sellable(record: Mapping[str, Any]) -> list[str]:
    """The SKUs a product is sold under: its variants', else its sku, else its code."""
    if record.get("variants"):
        return [v["sku"] for v in record["variants"]]
    return [record.get("sku") or record["code"]]


PRODUCT_FIELDS = ("code", "name", "description", "brand", "sku", "gtin", "price", "images",
                  "active", "variants")
PRICE_FIELDS = ("price", "sale_price", "promo_price", "promo_start", "promo_end", "currency")
TRACKING_FIELDS = ("code", "carrier", "url", "shipped_at", "invoice_key")
ADDRESS_FIELDS = ("street", "number", "complement", "district", "city", "city_code", "state",
                  "postal_code", "country", "recipient", "phone")


def _product_record(body: Mapping[str, Any]) -> dict[str, Any]:
    record = {key: body.get(key) for key in PRODUCT_FIELDS}
    record["description"] = record["description"] or ""
    record["images"] = list(record["images"] or [])
    record["active"] = True if record["active"] is None else record["active"]
    record["variants"] = [{"sku": v["sku"], "gtin": v.get("gtin"), "price": v.get("price"),
                           "attributes": [{"name": a["name"], "value": a["value"]}
                                          for a in v.get("attributes") or []],
                           "active": v.get("active", True)} for v in record["variants"] or []]
    return record


# -- orders as minishop renders them ---------------------------------------------------


def _address_json(address: tramo.Address | None) -> dict[str, Any] | None:
    return None if address is None else {f: getattr(address, f) for f in ADDRESS_FIELDS}


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def order_json(order: tramo.Order, ident: str, placed_at: datetime,
               updated_at: datetime) -> dict[str, Any]:
    """``order`` as minishop answers it, under minishop's id and times."""
    customer = order.customer
    person = customer.kind is tramo.CustomerKind.PERSON
    return {
        "id": ident, "number": ident, "status": order.platform_status,
        "placed_at": _stamp(placed_at), "updated_at": _stamp(updated_at),
        "currency": order.currency,
        "customer": {"name": customer.name, "type": customer.kind.value,
                     "document": customer.cpf if person else customer.cnpj,
                     "state_registration": customer.state_registration, "email": customer.email,
                     "phones": list(customer.phones), "birth_date": _iso(customer.birth_date)},
        "billing_address": _address_json(order.billing_address),
        "shipping_address": _address_json(order.delivery_address),
        "items": [{"id": f"{ident}-{n}", "sku": i.sku, "name": i.name, "quantity": i.quantity,
                   "unit_price": str(i.unit_price), "discount": str(i.discount),
                   "product_code": i.product_code, "gtin": i.gtin, "attributes": list(i.attributes)}
                  for n, i in enumerate(order.items, 1)],
        "shipping": None if order.shipping is None else {
            "method": order.shipping.platform_method, "carrier": order.shipping.carrier,
            "price": str(order.shipping.freight),
            "estimated_delivery": _iso(order.shipping.estimated_delivery)},
        "payments": [{"method": p.platform_method, "value": str(p.value),
                      "installments": p.installments, "paid_at": _iso(p.paid_at)}
                     for p in order.payments],
        "channel": None if order.sales_channel is None else {
            "id": order.sales_channel.platform_channel,
            "marketplace_order_id": order.sales_channel.marketplace_order_id},
        "discount": str(order.discount), "total": str(order.total), "notes": order.notes,
        "trackings": _unique_trackings(order.trackings),
    }


def _tracking_json(tracking: tramo.Tracking) -> dict[str, Any]:
    return {"code": tracking.code, "carrier": tracking.carrier, "url": tracking.url,
            "shipped_at": _iso(tracking.shipped_at), "invoice_key": tracking.invoice_key}


def _unique_trackings(trackings: Iterable[tramo.Tracking]) -> list[dict[str, Any]]:
    kept: dict[str, dict[str, Any]] = {}
    for tracking in trackings:
        kept.setdefault(tracking.code, _tracking_json(tracking))
    return list(kept.values())


def _known(value: str | None, known: tuple[str, ...]) -> str | None:
    return None if value is None else value if value in known else known[0]


# -- the server ---------------------------------------------------------------------------


class MinishopSandbox(HttpSandbox):
    """minishop on a loopback port. ``data`` is the store; ``calls`` what reached it."""

    plugin = "example"
    profile = PROFILE
    url_map = Map([
        Rule("/account", endpoint="account", methods=["GET"]),
        Rule("/products", endpoint="products", methods=["GET", "POST"]),
        Rule("/products/by-code/<path:code>", endpoint="product_by_code", methods=["GET"]),
        Rule("/products/<ident>", endpoint="product", methods=["GET", "PUT"]),
        Rule("/categories/by-code/<path:code>", endpoint="category", methods=["PUT"]),
        Rule("/stock/<path:sku>", endpoint="stock", methods=["GET", "PUT"]),
        Rule("/prices/<path:sku>", endpoint="price", methods=["GET", "PUT"]),
        Rule("/reservations", endpoint="reservations", methods=["POST"]),
        Rule("/reservations/<path:ident>", endpoint="reservation", methods=["DELETE"]),
        Rule("/orders", endpoint="orders", methods=["GET"]),
        Rule("/orders/<ident>", endpoint="order", methods=["GET"]),
        Rule("/orders/<ident>/status", endpoint="order_status", methods=["PUT"]),
        Rule("/orders/<ident>/trackings", endpoint="trackings", methods=["GET", "POST"]),
        Rule("/order-statuses", endpoint="order_statuses", methods=["GET"]),
    ])

    def fresh_data(self) -> dict[str, Any]:
        return {
            "products": {},        # id -> product record
            "product_codes": {},   # code -> product id
            "skus": {},            # sellable SKU -> product id
            "categories": {},      # id -> {"id", "code", "name", "parent_id"}
            "category_codes": {},  # code -> category id
            "stock": {},           # SKU -> on-hand quantity
            "prices": {},          # SKU -> price record
            "reservations": {},    # id -> {"id", "sku", "quantity", "order_id", "status"}
            "orders": {},          # id -> order record (as order_json renders it)
            "next_id": 1,
            "next_order": 1001,
            "clock": START,
        }

    @property
    def settings(self) -> dict[str, Any]:
        return {"api_address": self.url, "api_token": TOKEN}

    # -- plumbing: auth, errors, bodies ------------------------------------------------

    def guard(self, request: Request, endpoint: str) -> Response | None:
        """Every route needs the bearer token; a write needs its write scope."""
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        scopes = TOKENS.get(token) if token is not None else None
        if scopes is None:
            return error(401, "unauthorized", "missing or unknown API token")
        if request.method != "GET" and "write" not in scopes:
            return error(403, "forbidden", "the API token lacks the write scope")
        return None

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        response = error(429, "rate_limited", "more than 120 requests in a minute")
        response.headers["Retry-After"] = retry_after_header(retry_after)
        return response

    def server_error(self, request: Request) -> Response:
        return error(503, "unavailable", "minishop is briefly unavailable")

    def not_found(self, request: Request) -> Response:
        return error(404, "not_found", "no such resource")

    def _tick(self) -> datetime:
        """minishop's clock: one second later than the last change."""
        self.data["clock"] = moment = self.data["clock"] + timedelta(seconds=1)
        return moment

    def _new_id(self) -> str:
        ident = self.data["next_id"]
        self.data["next_id"] += 1
        return str(ident)

    @staticmethod
    def _body(request: Request) -> Any:
        return request.get_json(silent=True)

    @staticmethod
    def _written(data: Any, changed: bool, created: bool = False) -> Response:
        return json_response({"data": data, "changed": changed}, 201 if created else 200)

    def _page(self, request: Request, records: list[Any]) -> Response:
        try:
            page = int(request.args.get("page", "1"))
            per_page = int(request.args.get("per_page", "50"))
        except ValueError:
            page = per_page = 0
        if page < 1 or not 1 <= per_page <= 100:
            return error(422, "validation_failed", "bad paging",
                         [("page", "must be 1 or more"), ("per_page", "must be from 1 to 100")])
        pages = -(-len(records) // per_page)
        return json_response({"data": records[(page - 1) * per_page: page * per_page],
                              "paging": {"page": page, "per_page": per_page,
                                         "total": len(records), "pages": pages,
                                         "updated_since": request.args.get("updated_since")}})

    @staticmethod
    def _since(request: Request) -> datetime | None | Response:
        text = request.args.get("updated_since")
        if text is None:
            return None
        try:
            since = _when(text)
        except ValueError:
            since = None
        if since is None or since.utcoffset() is None:
            return error(422, "validation_failed", "bad updated_since",
                         [("updated_since", "must be an ISO 8601 time with its offset")])
        return since

    @staticmethod
    def _changed_after(records: Iterable[dict[str, Any]],
                       since: datetime | None) -> list[dict[str, Any]]:
        chosen = [r for r in records if since is None or _when(r["updated_at"]) > since]
        return sorted(chosen, key=lambda r: (_when(r["updated_at"]), r["id"]))

    # -- account ------------------------------------------------------------------------

    def on_account(self, request: Request) -> Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        return json_response({"data": {"store": "minishop sandbox", "plan": "sandbox",
                                        "scopes": sorted(TOKENS[token])}})

    # -- products --------------------------------------------------------------------------

    def on_products(self, request: Request) -> Response:
        with self.lock:
            if request.method == "GET":
                since = self._since(request)
                if isinstance(since, Response):
                    return since
                products = self._changed_after(self.data["products"].values(), since)
                return self._page(request, products)
            body = self._body(request)
            problems = product_problems(body)
            if problems:
                return error(422, "validation_failed", "the product is invalid", problems)
            if body["code"] in self.data["product_codes"]:
                return error(409, "code_taken", "a product with this code exists")
            refused = self._skus_taken(body, None)
            if refused is not None:
                return refused
            ident = self._new_id()
            record = {"id": ident, **_product_record(body), "updated_at": _stamp(self._tick())}
            self._store_product(record, None)
            return self._written(record, True, created=True)

    def on_product_by_code(self, request: Request, code: str) -> Response:
        with self.lock:
            ident = self.data["product_codes"].get(code)
            if ident is None:
                return error(404, "not_found", "no product with this code")
            return json_response({"data": self.data["products"][ident]})

    def on_product(self, request: Request, ident: str) -> Response:
        with self.lock:
            before = self.data["products"].get(ident)
            if before is None:
                return error(404, "not_found", "no such product")
            if request.method == "GET":
                return json_response({"data": before})
            body = self._body(request)
            problems = product_problems(body)
            if problems:
                return error(422, "validation_failed", "the product is invalid", problems)
            if self.data["product_codes"].get(body["code"], ident) != ident:
                return error(409, "code_taken", "another product has this code")
            refused = self._skus_taken(body, ident)
            if refused is not None:
                return refused
            record = {"id": ident, **_product_record(body), "updated_at": before["updated_at"]}
            if record == before:
                return self._written(before, False)
            record["updated_at"] = _stamp(self._tick())
            self._store_product(record, before)
            return self._written(record, True)

    def _skus_taken(self, body: Mapping[str, Any], ident: str | None) -> Response | None:
        taken = [sku for sku in _sellable(body) if self.data["skus"].get(sku, ident) != ident]
        if taken:
            return error(409, "sku_taken", "a SKU belongs to another product",
                         [("sku", f"{sku} belongs to another product") for sku in taken])
        return None

    def _store_product(self, record: dict[str, Any], before: Mapping[str, Any] | None) -> None:
        if before is not None:
            self.data["product_codes"].pop(before["code"], None)
            for sku in _sellable(before):
                self.data["skus"].pop(sku, None)
        self.data["products"][record["id"]] = record
        self.data["product_codes"][record["code"]] = record["id"]
        for sku in _sellable(record):
            self.data["skus"][sku] = record["id"]

    # -- categories -------------------------------------------------------------------------

    def on_category(self, request: Request, code: str) -> Response:
        body = self._body(request)
        check = _Problems()
        if not isinstance(body, dict):
            return not_an_object("category")
        check.text(body, "name", "name", required=True)
        check.text(body, "parent_code", "parent_code")
        with self.lock:
            codes = self.data["category_codes"]
            parent_code = body.get("parent_code")
            parent = codes.get(parent_code) if isinstance(parent_code, str) else None
            if isinstance(parent_code, str) and parent is None:
                check.add("parent_code", "no category has this code")
            if parent is not None and self._descends(parent, codes.get(code)):
                check.add("parent_code", "would make the category its own ancestor")
            if check.found:
                return error(422, "validation_failed", "the category is invalid", check.found)
            ident = codes.get(code)
            if ident is None:
                ident = self._new_id()
                record = {"id": ident, "code": code, "name": body["name"], "parent_id": parent}
                self.data["categories"][ident] = record
                codes[code] = ident
                return self._written(record, True, created=True)
            record = self.data["categories"][ident]
            changed = (record["name"], record["parent_id"]) != (body["name"], parent)
            record.update(name=body["name"], parent_id=parent)
            return self._written(record, changed)

    def _descends(self, node: str | None, ancestor: str | None) -> bool:
        """Whether ``node`` is ``ancestor`` or below it."""
        while node is not None and ancestor is not None:
            if node == ancestor:
                return True
            node = self.data["categories"][node]["parent_id"]
        return False

    # -- stock, prices, reservations ---------------------------------------------------------

    def _reserved(self, sku: str) -> int:
        return sum(r["quantity"] for r in self.data["reservations"].values()
                   if r["sku"] == sku and r["status"] == "active")

    def _stock_json(self, sku: str) -> dict[str, Any]:
        on_hand = self.data["stock"].get(sku, 0)
        reserved = self._reserved(sku)
        return {"sku": sku, "on_hand": on_hand, "reserved": reserved,
                "available": max(0, on_hand - reserved)}

    def on_stock(self, request: Request, sku: str) -> Response:
        with self.lock:
            if request.method == "GET":
                return json_response({"data": self._stock_json(sku)})
            body = self._body(request)
            check = _Problems()
            if isinstance(body, dict):
                check.count(body, "on_hand", "on_hand", 0)
            else:
                check.add("body", "must be an object")
            if check.found:
                return error(422, "validation_failed", "the stock is invalid", check.found)
            before = self.data["stock"].get(sku)
            self.data["stock"][sku] = body["on_hand"]
            return self._written(self._stock_json(sku), before != body["on_hand"],
                                 created=before is None)

    def on_price(self, request: Request, sku: str) -> Response:
        with self.lock:
            if request.method == "GET":
                found = self.data["prices"].get(sku)
                if found is None:
                    return error(404, "not_found", "no price for this SKU")
                return json_response({"data": found})
            body = self._body(request)
            check = _Problems()
            if not isinstance(body, dict):
                return not_an_object("price")
            check.money(body, "price", "price", required=True)
            for key in ("sale_price", "promo_price"):
                check.money(body, key, key)
            for key in ("promo_start", "promo_end"):
                check.moment(body, key, key)
            window = body.get("promo_start") or body.get("promo_end")
            if window and body.get("promo_price") is None:
                check.add("promo_price", "is required with a promotion window")
            if body.get("currency", "BRL") != "BRL":
                check.add("currency", "minishop sells in BRL only")
            if check.found:
                return error(422, "validation_failed", "the price is invalid", check.found)
            record = {"sku": sku, **{k: body.get(k) for k in PRICE_FIELDS}}
            record["currency"] = record["currency"] or "BRL"
            before = self.data["prices"].get(sku)
            self.data["prices"][sku] = record
            return self._written(record, before != record, created=before is None)

    def on_reservations(self, request: Request) -> Response:
        body = self._body(request)
        check = _Problems()
        if not isinstance(body, dict):
            return not_an_object("reservation")
        check.text(body, "id", "id", required=True)
        check.text(body, "sku", "sku", required=True)
        check.count(body, "quantity", "quantity", 1)
        check.text(body, "order_id", "order_id")
        if check.found:
            return error(422, "validation_failed", "the reservation is invalid", check.found)
        with self.lock:
            known = self.data["reservations"].get(body["id"])
            if known is not None:
                if known["status"] != "active":
                    return error(409, "reservation_released", "this reservation id was released")
                if (known["sku"], known["quantity"]) != (body["sku"], body["quantity"]):
                    return error(409, "reservation_conflict",
                                 "this reservation id holds another SKU or quantity")
                return self._written(known, False)
            available = self._stock_json(body["sku"])["available"]
            if body["quantity"] > available:
                return error(409, "insufficient_stock", "not enough stock to reserve",
                             [("quantity", f"{available} available")])
            record = {"id": body["id"], "sku": body["sku"], "quantity": body["quantity"],
                      "order_id": body.get("order_id"), "status": "active"}
            self.data["reservations"][body["id"]] = record
            return self._written(record, True, created=True)

    def on_reservation(self, request: Request, ident: str) -> Response:
        with self.lock:
            known = self.data["reservations"].get(ident)
            if known is None:
                return error(404, "not_found", "no reservation with this id")
            changed = known["status"] == "active"
            known["status"] = "released"
            return self._written(known, changed)

    # -- orders -------------------------------------------------------------------------------

    def on_orders(self, request: Request) -> Response:
        with self.lock:
            since = self._since(request)
            if isinstance(since, Response):
                return since
            return self._page(request, self._changed_after(self.data["orders"].values(), since))

    def on_order(self, request: Request, ident: str) -> Response:
        with self.lock:
            found = self.data["orders"].get(ident)
            if found is None:
                return error(404, "not_found", "no such order")
            return json_response({"data": found})

    def on_order_status(self, request: Request, ident: str) -> Response:
        body = self._body(request)
        active = {s for s, _, on in STATUSES if on}
        if not isinstance(body, dict) or body.get("status") not in active:
            return error(422, "validation_failed", "bad status",
                         [("status", f"must be one of {', '.join(sorted(active))}")])
        with self.lock:
            order = self.data["orders"].get(ident)
            if order is None:
                return error(404, "not_found", "no such order")
            changed = order["status"] != body["status"]
            if changed:
                order["status"] = body["status"]
                order["updated_at"] = _stamp(self._tick())
            return self._written({"id": ident, "status": order["status"]}, changed)

    def on_trackings(self, request: Request, ident: str) -> Response:
        with self.lock:
            order = self.data["orders"].get(ident)
            if order is None:
                return error(404, "not_found", "no such order")
            if request.method == "GET":
                return json_response({"data": order["trackings"]})
            body = self._body(request)
            check = _Problems()
            if not isinstance(body, dict):
                return not_an_object("tracking")
            check.text(body, "code", "code", required=True)
            for key in ("carrier", "url", "invoice_key"):
                check.text(body, key, key)
            check.moment(body, "shipped_at", "shipped_at")
            if check.found:
                return error(422, "validation_failed", "the tracking is invalid", check.found)
            if any(t["code"] == body["code"] for t in order["trackings"]):
                return error(409, "tracking_exists", "this order has this tracking code")
            record = {k: body.get(k) for k in TRACKING_FIELDS}
            order["trackings"].append(record)
            order["updated_at"] = _stamp(self._tick())
            return self._written(record, True, created=True)

    def on_order_statuses(self, request: Request) -> Response:
        return json_response({"data": [{"id": i, "name": n, "active": a} for i, n, a in STATUSES]})

    # -- the platform's side, in the model's terms (for the conformance kit) --------

    def held_products(self) -> list[tramo.Product]:
        with self.lock:
            records = [dict(r) for r in self.data["products"].values()]
        return [tramo.Product(
            code=r["code"], name=r["name"], description=r["description"],
            brand=None if r["brand"] is None else tramo.Brand(id=r["brand"]["code"],
                                                              name=r["brand"]["name"]),
            sku=r["sku"], gtin=r["gtin"], price=r["price"], images=r["images"],
            available=r["active"],
            variants=[tramo.Variant(sku=v["sku"], gtin=v["gtin"], price=v["price"],
                                    attributes=[tramo.Attribute(**a) for a in v["attributes"]],
                                    available=v["active"]) for v in r["variants"]],
            remote_id=r["id"], updated_at=r["updated_at"]) for r in records]

    def held_stock(self) -> dict[str, int]:
        with self.lock:
            skus = set(self.data["stock"]) | set(self.data["skus"])
            skus |= {r["sku"] for r in self.data["reservations"].values()}
            return {sku: self._stock_json(sku)["available"] for sku in skus}

    def held_reservations(self) -> dict[str, int]:
        with self.lock:
            return {i: r["quantity"] for i, r in self.data["reservations"].items()
                    if r["status"] == "active"}

    def held_prices(self) -> dict[str, tramo.Price]:
        with self.lock:
            records = [dict(r) for r in self.data["prices"].values()]
        return {r["sku"]: tramo.Price(
            sku=r["sku"], list_price=r["price"], sale_price=r["sale_price"],
            promotional_price=r["promo_price"], promotion_start=r["promo_start"],
            promotion_end=r["promo_end"], currency=r["currency"]) for r in records}

    def held_trackings(self) -> dict[str, list[str]]:
        with self.lock:
            return {i: [t["code"] for t in o["trackings"]]
                    for i, o in self.data["orders"].items() if o["trackings"]}

    def held_status(self, order_id: str) -> str:
        with self.lock:
            return str(self.data["orders"][order_id]["status"])

    def place_order(self, order: tramo.Order) -> str:
        """A buyer places ``order``: minishop gives it its id, number and times.

        Its status is kept when minishop has it (active), else it starts
        ``pending``; unknown shipping/payment methods and channels become
        minishop's first ones. Its items' quantities come off the on-hand stock
        of the SKUs minishop keeps stock for (never below zero).
        """
        active = {s for s, _, on in STATUSES if on}
        status = order.platform_status if order.platform_status in active else "pending"
        changes: dict[str, Any] = {"platform_status": status, "payments": tuple(
            attrs.evolve(p, platform_method=_known(p.platform_method, PAYMENT_METHODS))
            for p in order.payments)}
        if order.shipping is not None:
            method = _known(order.shipping.platform_method, SHIPPING_METHODS)
            changes["shipping"] = attrs.evolve(order.shipping, platform_method=method)
        if order.sales_channel is not None:
            channel = _known(order.sales_channel.platform_channel, CHANNELS)
            changes["sales_channel"] = attrs.evolve(order.sales_channel, platform_channel=channel)
        placed = attrs.evolve(order, **changes)
        with self.lock:
            ident = str(self.data["next_order"])
            self.data["next_order"] += 1
            moment = self._tick()
            self.data["orders"][ident] = order_json(placed, ident, moment, moment)
            stock = self.data["stock"]
            for item in placed.items:
                if item.sku in stock:
                    stock[item.sku] = max(0, stock[item.sku] - item.quantity)
        return ident

    def change_order(self, order_id: str) -> None:
        """Something changes the order on minishop now (a note by the seller, say)."""
        with self.lock:
            self.data["orders"][order_id]["updated_at"] = _stamp(self._tick())

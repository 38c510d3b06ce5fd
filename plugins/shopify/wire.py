"""Shopify Admin GraphQL JSON <-> the tramo model, and Shopify's answers as typed errors. No I/O.

Shopify answers every GraphQL call with HTTP 200 and ``{"data", "errors",
"extensions": {"cost"}}``: a refused query comes in ``errors`` (``THROTTLED``
when the cost bucket is short), a refused mutation in its payload's
``userErrors`` (``[{field: [...], code, message}]``). Money is a string
(``"19.90"``) or a ``MoneyBag`` of them, read as Decimal through its text;
ids are global ids (``gid://shopify/Order/123``); times ISO 8601 in UTC.
What the public record leaves open (where NF-e data goes, which line-item
field holds the buyer's CPF) is designed here and in the plugin's README.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs

import tramo
from tramo.model import Attribute, Brand, Product, Variant
from tramo.scalars import decimal, measure, moment, money, reading, text, whole

__all__ = [
    "CODE_TYPE", "INVOICE_KEYS", "MAX_OPTIONS", "PAGE_MAX", "Cost", "cost_of", "data_of", "gid",
    "invoice_metafields", "is_throttled", "legacy_id", "order_from_wire", "order_status",
    "orders_query", "product_from_wire", "product_set", "raise_user_errors", "read_answer",
    "selling_price", "stock_input", "tracking_input",
]

Json = dict[str, Any]

#: Records per page and ids per ``nodes`` call: Shopify allows 250.
PAGE_MAX = 250
#: Options (attribute names) a Shopify product may have.
MAX_OPTIONS = 3
MAX_VARIANTS = 2048
#: The type of the product metafield that holds the ERP's code.
CODE_TYPE = "single_line_text_field"
DEFAULT_OPTION = ("Title", "Default Title")
#: NF-e data on the order: metafield key -> type.
INVOICE_KEYS = {"access_key": "single_line_text_field", "number": "single_line_text_field",
                "series": "single_line_text_field", "issued_at": "date_time",
                "value": "number_decimal", "kind": "single_line_text_field",
                "cfop": "single_line_text_field", "xml_url": "url", "danfe_url": "url"}
#: Statuses an order can be in, as this plugin names them (see :func:`order_status`).
STATUSES = ("PENDING", "AUTHORIZED", "PARTIALLY_PAID", "PAID", "PARTIALLY_REFUNDED", "REFUNDED",
            "VOIDED", "EXPIRED", "FULFILLED", "DELIVERED", "CANCELLED")
#: Sales channels (an order's ``sourceName``) Shopify itself names.
CHANNELS = ("web", "pos", "shopify_draft_order", "iphone", "android")


# -- answers --------------------------------------------------------------------------------


@attrs.frozen
class Cost:
    """What an answer says about the cost bucket (``extensions.cost``)."""

    requested: float
    actual: float | None
    maximum: float
    available: float
    restore_rate: float


def cost_of(answer: Mapping[str, Any]) -> Cost | None:
    """The answer's cost report, or None when it has none (an HTTP error body)."""
    cost = (answer.get("extensions") or {}).get("cost") if isinstance(answer, Mapping) else None
    status = (cost or {}).get("throttleStatus")
    if not isinstance(status, Mapping):
        return None
    actual = cost.get("actualQueryCost")
    return Cost(float(cost.get("requestedQueryCost") or 0), None if actual is None else float(actual),
                float(status["maximumAvailable"]), float(status["currentlyAvailable"]),
                float(status["restoreRate"]))


def parse(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def is_throttled(answer: Any) -> bool:
    """Whether Shopify refused the query for want of cost points (it did not run it)."""
    errors = answer.get("errors") if isinstance(answer, Mapping) else None
    return isinstance(errors, list) and any(
        isinstance(e, Mapping) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


def read_answer(status: int, content: bytes, operation: str, *, write: bool = False) -> Json:
    """The ``data`` of an answer's body, or the typed error Shopify's answer means."""
    return data_of(status, parse(content), operation, write=write)


def data_of(status: int, answer: Any, operation: str, *, write: bool = False) -> Json:
    """The ``data`` of a parsed answer (None when the body was no JSON), or the typed error.

    A 2xx whose body is not a JSON object (cut short, a proxy's page) is no
    answer: the call may pass if made again, and a ``write`` may have been applied.
    """
    if 200 <= status < 300 and not isinstance(answer, Mapping):
        what = f"Shopify answered {operation} with HTTP {status} and a body that is not a JSON object"
        if write:
            raise tramo.OutcomeUnknownError(f"{what}; it may have been applied", status=status)
        raise tramo.TransientError(what)
    errors = answer.get("errors") if isinstance(answer, Mapping) else None
    if status in (401, 403):
        raise tramo.AuthenticationError(
            f"Shopify refused the access token ({status}): {_messages(errors) or 'no detail'}; check "
            f"access_token and the app's access scopes")
    if status == 404:
        raise tramo.ConfigurationError(
            f"Shopify answered 404 for {operation}: check shop_domain and api_version")
    if status == 402:
        raise tramo.PlatformError("the shop is frozen (unpaid Shopify bill)", code=402)
    if status >= 400 or not isinstance(answer, Mapping):
        raise tramo.PlatformError(f"Shopify answered {operation} with HTTP {status}", code=status,
                                  causes=[_messages(errors)] if errors else [])
    if errors:
        if is_throttled(answer):
            raise tramo.RateLimitedError(f"{operation}: Shopify throttled it (cost bucket empty)")
        codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, Mapping)}
        raise tramo.PlatformError(f"Shopify refused {operation}", code=next(iter(codes - {None}), None),
                                  causes=[_messages(errors)])
    data = answer.get("data")
    if not isinstance(data, Mapping):
        raise tramo.PlatformError(f"Shopify answered {operation} without data")
    return dict(data)


def _messages(errors: Any) -> str:
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(text(e.get("message")) if isinstance(e, Mapping) else text(e) for e in errors)
    if isinstance(errors, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in errors.items())
    return ""


def field_path(error: Mapping[str, Any]) -> str:
    """``["input", "variants", "0", "price"]`` as ``input.variants.0.price``."""
    return ".".join(text(part) for part in error.get("field") or ())


def raise_user_errors(payload: Mapping[str, Any] | None, operation: str,
                      key: str = "userErrors") -> None:
    """A mutation's userErrors as a PlatformError naming the field, code and Shopify's words."""
    errors = [e for e in (payload or {}).get(key) or () if isinstance(e, Mapping)]
    if not errors:
        return
    first = errors[0]
    where = field_path(first)
    raise tramo.PlatformError(
        f"Shopify refused {operation}" + (f" at {where}" if where else ""),
        code=first.get("code"),
        causes=[f"{field_path(e) or '-'}: {text(e.get('message'))}" for e in errors])


def gid(kind: str, ident: str | int) -> str:
    """A global id; one already global is kept."""
    value = text(ident)
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


def legacy_id(global_id: str) -> str:
    """The number at the end of a global id."""
    return global_id.rsplit("/", 1)[-1]


def amount(bag: Any, field: str) -> Decimal | None:
    """A MoneyBag's shop amount, a MoneyV2's amount, or a Money string."""
    if isinstance(bag, Mapping):
        bag = (bag.get("shopMoney") or bag).get("amount")
    return decimal(bag, field)


# -- orders --------------------------------------------------------------------------------


def orders_query(since: datetime | None, extra: str = "") -> str:
    """The search for orders changed after ``since`` (Shopify keeps change times to the second)."""
    terms = [extra] if extra else []
    if since is not None:
        terms.append(f"updated_at:>'{since.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}'")
    return " ".join(terms)


def order_status(node: Mapping[str, Any]) -> str:
    """One status id for an order: cancelled, delivered, fulfilled, else its financial status."""
    if node.get("cancelledAt"):
        return "CANCELLED"
    fulfilled = node.get("displayFulfillmentStatus") == "FULFILLED"
    live = [f for f in node.get("fulfillments") or () if f.get("status") != "CANCELLED"]
    if fulfilled and live and all(f.get("displayStatus") == "DELIVERED" for f in live):
        return "DELIVERED"
    if fulfilled:
        return "FULFILLED"
    return text(node.get("displayFinancialStatus")) or "PENDING"


_NUMBERED = re.compile(r"^(?P<street>.+?),\s*(?P<number>\d[\w/-]*|S/N|s/n|SN)$")


def address_from(node: Any, path: str) -> tramo.Address | None:
    """A MailingAddress; ``address1`` "Rua X, 123" gives street and number."""
    if not isinstance(node, Mapping) or not text(node.get("address1")).strip():
        return None
    line = text(node.get("address1")).strip()
    found = _NUMBERED.match(line)
    street, number = (found["street"], found["number"]) if found else (line, "S/N")
    try:
        return tramo.Address(
            street=street, number=number, complement=text(node.get("address2")).strip() or None,
            city=text(node.get("city")) or "-", state=text(node.get("provinceCode")) or None,
            postal_code=text(node.get("zip")), country=text(node.get("countryCodeV2")) or "BR",
            recipient=text(node.get("name")).strip() or None,
            phone=text(node.get("phone")).strip() or None)
    except tramo.ValidationError as exc:
        raise tramo.ValidationError(f"{path}.{exc.field.rsplit('.', 1)[-1]}", exc.value, exc.reason) from None


def customer_from(node: Mapping[str, Any], document_key: str) -> tramo.Customer:
    buyer = node.get("customer") or {}
    billing = node.get("billingAddress") or {}
    shipping = node.get("shippingAddress") or {}
    name = (text(buyer.get("displayName")).strip()
            or " ".join(filter(None, (text(buyer.get("firstName")), text(buyer.get("lastName"))))).strip()
            or text(billing.get("name")).strip() or text(shipping.get("name")).strip()
            or text(node.get("email")).strip())
    if not name:
        raise tramo.ValidationError("Order.customer", None, "the order names no buyer")
    attributes = {text(a.get("key")).casefold(): text(a.get("value")) for a in node.get("customAttributes") or ()}
    # punctuation out; letters kept (CNPJs may be alphanumeric from 2026)
    document = re.sub(r"[^0-9A-Za-z]", "", attributes.get(document_key.casefold(), "")).upper()
    phones = tuple(dict.fromkeys(p for p in (text(node.get("phone")), text(buyer.get("phone"))) if p))
    kind = tramo.CustomerKind.COMPANY if len(document) == 14 else tramo.CustomerKind.PERSON
    if document and (len(document) not in (11, 14) or (len(document) == 11 and not document.isdigit())):
        raise tramo.ValidationError(f"Order.customAttributes.{document_key}", document,
                                    "is neither a CPF (11 digits) nor a CNPJ (14)")
    return tramo.Customer(
        name=name, kind=kind, email=text(node.get("email") or buyer.get("email")) or None,
        cpf=document if len(document) == 11 else None, cnpj=document if len(document) == 14 else None,
        phones=phones, remote_id=text(buyer.get("id")) or None)


def _lines(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = node.get("lineItems")
    if isinstance(lines, Mapping):
        return list(lines.get("nodes") or [e.get("node") for e in lines.get("edges") or ()])
    return list(lines or ())


def _quantity(value: Any, field: str) -> int:
    """A line's quantity: a whole number, zero or more (zero: the line was removed).

    A negative or fractional one is refused, not read as "removed" or cut down,
    so an order is never imported with a line quietly missing.
    """
    return whole(value, field, minimum=0) or 0


def order_from_wire(node: Mapping[str, Any], zone: Any, document_key: str = "cpf_cnpj",
                    lines: Sequence[Mapping[str, Any]] | None = None) -> tramo.Order:
    """A GraphQL Order node (with its lines) as a tramo Order; ValidationError names the field.

    Items are the order as it stands now (``currentQuantity``; removed lines
    left out); an edited order lists what changed in ``edits``. A node of
    another shape than the schema's (an object where text belongs, a number
    where a list does) is a ValidationError too, so the order is held.
    """
    if not isinstance(node, Mapping):
        raise tramo.ValidationError("Order", type(node).__name__, "Shopify's answer is not an object")
    with reading(f"Order[{text(node.get('id'))}]", "Shopify", prefix=False):
        return _order_from_wire(node, zone, document_key, lines)


def _order_from_wire(node: Mapping[str, Any], zone: Any, document_key: str,
                     lines: Sequence[Mapping[str, Any]] | None) -> tramo.Order:
    ident = text(node.get("id"))
    lines = list(lines) if lines is not None else _lines(node)
    items = []
    changes = []
    for index, line in enumerate(lines):
        where = f"Order.lineItems[{index}]"
        sku = text(line.get("sku")).strip()
        original = _quantity(line.get("quantity"), f"{where}.quantity")
        current = (original if line.get("currentQuantity") is None
                   else _quantity(line.get("currentQuantity"), f"{where}.currentQuantity"))
        if current != original and sku:
            changes.append(tramo.ItemChange(sku=sku, previous_quantity=original, quantity=current))
        if current <= 0:
            continue
        if not sku:
            raise tramo.ValidationError(f"{where}.sku", None, f"line {text(line.get('name'))!r} has no SKU")
        price = amount(line.get("originalUnitPriceSet"), f"{where}.originalUnitPriceSet") or Decimal(0)
        discount = amount(line.get("totalDiscountSet"), f"{where}.totalDiscountSet") or Decimal(0)
        variant = line.get("variant") or {}
        items.append(tramo.OrderItem(
            sku=sku, name=text(line.get("name")) or sku, quantity=current, unit_price=price,
            discount=min(discount, price * current), gtin=text(variant.get("barcode")) or None,
            remote_id=text(line.get("id")) or None))
    shipping_lines = (node.get("shippingLines") or {}).get("nodes") or []
    freight = sum((amount(s.get("discountedPriceSet") or s.get("originalPriceSet"),
                          "Order.shippingLines.price") or Decimal(0) for s in shipping_lines), Decimal(0))
    first = shipping_lines[0] if shipping_lines else {}
    shipping = tramo.Shipping(platform_method=text(first.get("code") or first.get("title")) or None,
                              carrier=text(first.get("carrierIdentifier") or first.get("source")) or None,
                              freight=freight) if shipping_lines else None
    payments = tuple(
        tramo.Payment(value=amount(t.get("amountSet"), "Order.transactions.amountSet") or Decimal(0),
                      platform_method=text(t.get("gateway")) or None,
                      paid_at=moment(t.get("processedAt"), zone, "Order.transactions.processedAt"))
        for t in node.get("transactions") or ()
        if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS")
    updated = moment(node.get("updatedAt"), zone, "Order.updatedAt")
    total = amount(node.get("currentTotalPriceSet") or node.get("totalPriceSet"), "Order.currentTotalPriceSet")
    edits = ()
    if node.get("edited") or changes:
        edits = (tramo.OrderEdit(edited_at=updated, changes=tuple(changes), total=total),)
    trackings = tuple(
        tramo.Tracking(order_id=ident, code=text(info.get("number")), carrier=text(info.get("company")) or None,
                       url=text(info.get("url")) or None)
        for fulfillment in node.get("fulfillments") or () if fulfillment.get("status") != "CANCELLED"
        for info in fulfillment.get("trackingInfo") or () if text(info.get("number")))
    return tramo.Order(
        id=ident, number=text(node.get("name")) or None,
        placed_at=moment(node.get("processedAt") or node.get("createdAt"), zone, "Order.processedAt"),
        updated_at=updated, customer=customer_from(node, document_key), items=tuple(items),
        total=total if total is not None else Decimal(0), platform_status=order_status(node),
        billing_address=address_from(node.get("billingAddress"), "Order.billingAddress"),
        delivery_address=address_from(node.get("shippingAddress"), "Order.shippingAddress"),
        shipping=shipping, payments=payments,
        sales_channel=tramo.SalesChannel(platform_channel=text(node.get("sourceName")) or None),
        discount=amount(node.get("currentTotalDiscountsSet"), "Order.currentTotalDiscountsSet") or Decimal(0),
        currency=text(node.get("currencyCode")) or _currency(node.get("totalPriceSet")) or "BRL", edits=edits, trackings=trackings,
        notes=text(node.get("note")) or None)


def _currency(bag: Any) -> str:
    return text(((bag or {}).get("shopMoney") or {}).get("currencyCode")) if isinstance(bag, Mapping) else ""


# -- catalogue ------------------------------------------------------------------------------


def _option_names(product: Product) -> list[str]:
    names: list[str] = []
    for variant in product.variants:
        for attribute in variant.attributes:
            if attribute.name not in names:
                names.append(attribute.name)
    return names


def check_variants(product: Product) -> list[str]:
    """The product's option names, or ValidationError for what Shopify would refuse."""
    names = _option_names(product)
    if len(names) > MAX_OPTIONS:
        raise tramo.ValidationError("Product.variants.attributes", names,
                                    f"Shopify allows {MAX_OPTIONS} options (attribute names) a product")
    if len(product.variants) > MAX_VARIANTS:
        raise tramo.ValidationError("Product.variants", len(product.variants),
                                    f"Shopify allows {MAX_VARIANTS} variants a product")
    seen: dict[tuple[str, ...], str] = {}
    for index, variant in enumerate(product.variants):
        where = f"Product.variants[{index}]"
        values = {a.name: a.value for a in variant.attributes}
        if len(values) != len(variant.attributes):
            raise tramo.ValidationError(f"{where}.attributes", variant.attributes, "names an attribute twice")
        missing = [n for n in names if n not in values]
        if missing:
            raise tramo.ValidationError(f"{where}.attributes", variant.sku,
                                        f"has no value for {', '.join(missing)}: Shopify needs every "
                                        f"variant to have a value of each option")
        combination = tuple(values[n] for n in names)
        if combination in seen:
            raise tramo.ValidationError(f"{where}.attributes", variant.sku,
                                        f"has the same values as {seen[combination]}")
        seen[combination] = variant.sku
        if len(variant.images) > 1:
            raise tramo.ValidationError(f"{where}.images", len(variant.images),
                                        "a Shopify variant shows one image")
    return names


def _file(url: str) -> Json:
    return {"originalSource": url, "contentType": "IMAGE"}


def _weight(value: Decimal | None) -> Json | None:
    if value is None:
        return None
    return {"measurement": {"weight": {"value": float(value), "unit": "KILOGRAMS"}}, "tracked": True}


def _variant_input(sku: str, gtin: str | None, price: Decimal | None, weight: Decimal | None,
                   options: list[Json]) -> Json:
    body: Json = {"optionValues": options, "sku": sku, "inventoryItem": {"sku": sku, "tracked": True}}
    if gtin:
        body["barcode"] = gtin
    if price is not None:
        body["price"] = money(price)
    if weight is not None:
        body["inventoryItem"] = {**body["inventoryItem"], **_weight(weight)}  # type: ignore[dict-item]
    return body


def product_set(product: Product, collections: Sequence[str], code_namespace: str,
                code_key: str) -> tuple[Json, Json]:
    """(ProductSetInput, ProductSetIdentifiers) for a product, upserted by its ERP code.

    ``productSet`` replaces list fields, so the input always carries every
    variant, image, collection and the code metafield. A product without
    variants is one ``Default Title`` variant under ``sku`` (else ``code``).
    """
    names = check_variants(product)
    if not product.name.strip():
        raise tramo.ValidationError("Product.name", product.name, "Shopify needs a title")
    files = [_file(url) for url in dict.fromkeys(product.images)]
    body: Json = {
        "title": product.name, "descriptionHtml": product.description,
        "vendor": product.brand.name if product.brand else "",
        "status": "ACTIVE" if product.available else "DRAFT",
        "collections": list(collections),
        "metafields": [{"namespace": code_namespace, "key": code_key, "type": CODE_TYPE,
                        "value": product.code}],
    }
    if product.variants:
        body["productOptions"] = [
            {"name": name, "position": position, "values": [
                {"name": value} for value in dict.fromkeys(
                    a.value for v in product.variants for a in v.attributes if a.name == name)]}
            for position, name in enumerate(names, start=1)]
        variants = []
        for variant in product.variants:
            values = {a.name: a.value for a in variant.attributes}
            entry = _variant_input(variant.sku, variant.gtin,
                                   variant.price if variant.price is not None else product.price,
                                   variant.weight_kg if variant.weight_kg is not None else product.weight_kg,
                                   [{"optionName": n, "name": values[n]} for n in names])
            if variant.images:
                entry["file"] = _file(variant.images[0])
            variants.append(entry)
        body["variants"] = variants
    else:
        option, value = DEFAULT_OPTION
        body["productOptions"] = [{"name": option, "position": 1, "values": [{"name": value}]}]
        body["variants"] = [_variant_input(product.sku or product.code, product.gtin, product.price,
                                           product.weight_kg, [{"optionName": option, "name": value}])]
    body["files"] = files
    identifier = {"customId": {"namespace": code_namespace, "key": code_key, "value": product.code}}
    return body, identifier


def product_from_wire(node: Mapping[str, Any], zone: Any) -> Product:
    """A GraphQL Product node (variants and media inline or as bulk children) as a tramo Product."""
    code = text((node.get("code") or {}).get("value")) or text(node.get("handle"))
    variants = [v for v in _nodes(node.get("variants"))]
    media = [text(((m.get("preview") or {}).get("image") or {}).get("url")) for m in _nodes(node.get("media"))]
    # a variant's image is also one of the product's media: the product's own are the others
    shown = {_image(v) for v in variants} - {""}
    images = tuple(dict.fromkeys(url for url in media if url and url not in shown))
    vendor = text(node.get("vendor")).strip()
    base: dict[str, Any] = {
        "code": code, "name": text(node.get("title")), "description": text(node.get("descriptionHtml")),
        "brand": Brand(id=vendor, name=vendor) if vendor else None, "images": images,
        "available": node.get("status") == "ACTIVE", "remote_id": text(node.get("id")) or None,
        "updated_at": moment(node.get("updatedAt"), zone, "Product.updatedAt")}
    default = (len(variants) == 1 and [(o.get("name"), o.get("value")) for o in
                                        variants[0].get("selectedOptions") or ()] == [DEFAULT_OPTION])
    if default:
        only = variants[0]
        return Product(**base, sku=text(only.get("sku")) or None, gtin=text(only.get("barcode")) or None,
                       price=decimal(only.get("price"), "ProductVariant.price"),
                       weight_kg=_kilograms(only), variants=())
    return Product(**base, variants=tuple(
        Variant(sku=text(v.get("sku")), gtin=text(v.get("barcode")) or None,
                attributes=tuple(Attribute(name=text(o.get("name")), value=text(o.get("value")))
                                 for o in v.get("selectedOptions") or ()),
                price=decimal(v.get("price"), "ProductVariant.price"), weight_kg=_kilograms(v),
                images=(_image(v),) if _image(v) else (), remote_id=text(v.get("id")) or None)
        for v in sorted(variants, key=lambda v: int(v.get("position") or 0))))


def _image(variant: Mapping[str, Any]) -> str:
    return text((variant.get("image") or {}).get("url"))


def _kilograms(variant: Mapping[str, Any]) -> Decimal | None:
    weight = (((variant.get("inventoryItem") or {}).get("measurement") or {}).get("weight") or {})
    value = decimal(weight.get("value"), "InventoryItem.measurement.weight")
    if value is None or value == 0:
        return None
    factor = {"KILOGRAMS": Decimal(1), "GRAMS": Decimal("0.001"), "POUNDS": Decimal("0.45359237"),
              "OUNCES": Decimal("0.028349523125")}.get(text(weight.get("unit")), Decimal(1))
    return Decimal(measure(value * factor))


def _nodes(connection: Any) -> list[Mapping[str, Any]]:
    if isinstance(connection, Mapping):
        return list(connection.get("nodes") or [e.get("node") for e in connection.get("edges") or ()])
    return list(connection or ())


# -- prices and stock -------------------------------------------------------------------------


def selling_price(price: tramo.Price, now: datetime) -> tuple[Decimal, Decimal | None]:
    """(price, compareAtPrice): what the buyer pays now, and the list price shown struck out.

    A promotional price applies inside its window; Shopify has no schedule, so
    the price sent is the one in force when it is sent.
    """
    paying = price.sale_price if price.sale_price is not None else price.list_price
    if price.promotional_price is not None:
        started = price.promotion_start is None or price.promotion_start <= now
        running = price.promotion_end is None or now < price.promotion_end
        if started and running:
            paying = price.promotional_price
    return paying, price.list_price if price.list_price > paying else None


def stock_input(rows: Sequence[tuple[str, str, int, int | None]], location: str, reference: str,
                compare_field: str) -> Json:
    """An inventorySetQuantities input: (item, location, quantity, quantity believed there now)."""
    return {"name": "available", "reason": "correction", "referenceDocumentUri": reference,
            "quantities": [{"inventoryItemId": item, "locationId": where, "quantity": quantity,
                            compare_field: believed} for item, where, quantity, believed in rows]}


def invoice_metafields(invoice: tramo.Invoice, order_gid: str, namespace: str) -> list[Json]:
    """The NF-e's access data as order metafields in ``namespace`` (keys in INVOICE_KEYS)."""
    values = {"access_key": invoice.access_key, "number": invoice.number, "series": invoice.series,
              "issued_at": invoice.issued_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "value": money(invoice.value), "kind": invoice.kind.value, "cfop": invoice.cfop,
              "xml_url": invoice.xml_url, "danfe_url": invoice.danfe_url}
    return [{"ownerId": order_gid, "namespace": namespace, "key": key, "type": INVOICE_KEYS[key],
             "value": value} for key, value in values.items() if value]


def tracking_input(tracking: tramo.Tracking) -> Json:
    info: Json = {"number": tracking.code}
    if tracking.carrier:
        info["company"] = tracking.carrier
    if tracking.url:
        info["url"] = tracking.url
    return info


def options(values: Iterable[str]) -> list[tramo.PlatformOption]:
    return [tramo.PlatformOption(id=v, name=v.replace("_", " ").capitalize()) for v in values]

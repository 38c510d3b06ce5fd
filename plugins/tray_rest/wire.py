"""Tray's JSON and the tramo model, both ways, and Tray's error bodies. No I/O.

Tray wraps every object in its resource name (``{"Product": {...}}``), sends
every scalar as text (``"27027.60"``, ``"1"``), writes empty dates as
``0000-00-00`` and times without an offset, in the store's timezone. These
functions take what the real API sends (documented examples can be fed
straight in) and build what it takes; what Tray would refuse is refused here
with :class:`tramo.ValidationError` naming the field, before any request.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import tramo
from tramo.errors import OutcomeUnknownError, TransientError
from tramo.paging import PagingError
from tramo.scalars import day, decimal, measure, moment, money, positive, reading, text, whole
from tramo.tokens import Token

__all__ = [
    "IMAGES_MAX", "PER_PAGE_MAX", "order_from_wire", "product_body", "product_from_wire",
    "read_answer", "token_from_answer", "variant_body",
]

#: Tray's limits (reference §2-§3: the POST table's lengths, 6 images, pages of 50).
PER_PAGE_MAX = 50
IMAGES_MAX = 6
VARIANT_ATTRIBUTES_MAX = 2
LIMITS = {"name": 200, "ean": 120, "description": 4800, "description_small": 500,
          "brand": 120, "reference": 120}
CATEGORY_NAME_MAX = 100
#: error_code values of a 401 (reference §2): refresh the token on these, else the store is off.
TOKEN_REFUSED = (1000, 1099)
STORE_STATES = {1001: "the store is blocked", 1002: "the store is inactive",
                1003: "the store is cancelled"}

Json = dict[str, Any]


# -- scalars (tramo.scalars; Tray's "0" flags) ---------------------------------------------


def flag(value: Any) -> bool:
    return text(value).strip() == "1"


def _refuse(field: str, value: object, reason: str) -> tramo.ValidationError:
    return tramo.ValidationError(field, value, f"Tray refuses it: {reason}")


def _check_lengths(fields: Mapping[str, Any], where: str) -> None:
    for key, limit in LIMITS.items():
        value = fields.get(key)
        if isinstance(value, str) and len(value) > limit:
            raise _refuse(f"{where}.{key}", value[:20] + "...", f"longer than {limit} characters")


# -- answers and errors -----------------------------------------------------------------


def read_answer(status: int, content: bytes, *, write: bool = False) -> Json:
    """A Tray answer as a JSON object, or the typed error its status and body mean.

    ``write`` says the request may have changed the store: a 2xx answer that
    cannot be read then raises :class:`OutcomeUnknownError` (the write may have
    landed), not a plain transient error.
    """
    try:
        body = json.loads(content) if content else {}
    except (ValueError, UnicodeDecodeError):
        body = None
    if 200 <= status < 300:
        if isinstance(body, dict):
            return body
        message = f"Tray answered HTTP {status} with a body that is not a JSON object"
        raise OutcomeUnknownError(message, status) if write else TransientError(message)
    raise error_from(status, body if isinstance(body, dict) else {})


def causes_of(body: Mapping[str, Any]) -> list[str]:
    causes = body.get("causes")
    if isinstance(causes, list):
        return [text(c) for c in causes]
    return [text(causes)] if causes else []


def error_from(status: int, body: Mapping[str, Any]) -> tramo.TramoError:
    """The tramo error for a Tray error body ``{code, url, name, error_code, causes}``."""
    name = text(body.get("name") or body.get("message")) or f"HTTP {status}"
    causes = causes_of(body)
    said = f"{name}: {'; '.join(causes)}" if causes else name
    if status == 401:
        code = body.get("error_code")
        state = STORE_STATES.get(int(code)) if text(code).isdigit() else None
        return tramo.AuthenticationError(f"Tray refused the access ({state or said})")
    if status == 429:
        return tramo.RateLimitedError(f"Tray's rate limit: {said}")
    if status >= 500:
        return TransientError(f"Tray answered HTTP {status}: {said}")
    code = "not_found" if status == 404 else str(status)
    return tramo.PlatformError(f"Tray refused it (HTTP {status}): {said}", code=code)


def token_refused(status: int, content: bytes) -> bool:
    """A 401 that a new access token may cure (expired or unknown token), not a blocked store."""
    if status != 401:
        return False
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return True
    code = body.get("error_code") if isinstance(body, dict) else None
    return code is None or (text(code).isdigit() and int(text(code)) in TOKEN_REFUSED)


def token_from_answer(body: Mapping[str, Any], zone: tzinfo) -> Token:
    """Tray's ``/auth`` answer as a Token; its dates are store time without an offset."""
    access = text(body.get("access_token"))
    if not access:
        raise tramo.AuthenticationError("Tray's /auth answer carries no access_token")
    refresh = text(body.get("refresh_token")) or None
    return Token(
        access,
        expires_at=moment(body.get("date_expiration_access_token"), zone, "date_expiration_access_token"),
        refresh=refresh,
        refresh_expires_at=moment(body.get("date_expiration_refresh_token"), zone,
                                  "date_expiration_refresh_token"),
        extra={"store_id": text(body.get("store_id")), "api_host": text(body.get("api_host"))},
    )


def records(answer: Mapping[str, Any], plural: str, singular: str) -> list[Any]:
    """The unwrapped records of a list answer (``{"Products": [{"Product": {...}}]}``)."""
    found = answer.get(plural) or []
    if not isinstance(found, list):
        raise TransientError(f"Tray's list has {plural!r} of type {type(found).__name__}")
    return [item.get(singular, item) if isinstance(item, dict) else item for item in found]


def page_records(answer: Mapping[str, Any], number: int, plural: str, singular: str) -> list[Any]:
    """The records of list page ``number``, checking that Tray answered the page asked for.

    Tray echoes the page in ``paging``; an answer for another page is a page served
    twice, and reading on would repeat some records and silently skip others.
    """
    echoed = text((answer.get("paging") or {}).get("page")).strip()
    if echoed and echoed != str(number):
        raise PagingError(f"Tray answered page {echoed} when asked for page {number}: a "
                          f"repeated page, so the read stops here")
    return records(answer, plural, singular)


def page_count(answer: Mapping[str, Any], asked: int) -> int:
    """How many pages the list has, from its ``paging`` block."""
    paging = answer.get("paging") or {}
    try:
        total = int(text(paging.get("total")) or 0)
        limit = int(text(paging.get("limit")) or asked) or asked
    except ValueError:
        raise TransientError(f"Tray's paging block is not numeric: {paging!r}") from None
    return max(1, math.ceil(total / limit))


def created_id(answer: Mapping[str, Any]) -> str:
    ident = text(answer.get("id"))
    if not ident:
        raise OutcomeUnknownError("Tray accepted the write but named no id", response=answer)
    return ident


# -- products ---------------------------------------------------------------------------


def _images(images: Sequence[str], where: str) -> dict[str, str]:
    if len(images) > IMAGES_MAX:
        raise _refuse(f"{where}.images", len(images), f"more than {IMAGES_MAX} images")
    for index, url in enumerate(images):
        if any(c.isspace() for c in url):
            raise _refuse(f"{where}.images[{index}]", url, "an image URL cannot hold spaces")
    return {f"picture_source_{n}": url for n, url in enumerate(images, start=1)}


def clear_images(have: int, keep: int) -> dict[str, str]:
    """Blank (" ") the slots past ``keep`` that held images: Tray deletes them."""
    return {f"picture_source_{n}": " " for n in range(keep + 1, min(have, IMAGES_MAX) + 1)}


def _physical(weight: Decimal | None, dimensions: tramo.Dimensions | None) -> Json:
    body: Json = {}
    if weight is not None:
        body["weight"] = measure(weight * 1000)  # Tray weighs in grams
    if dimensions is not None:
        body.update(length=measure(dimensions.length_cm), width=measure(dimensions.width_cm),
                    height=measure(dimensions.height_cm))
    return body


def _price(value: Decimal | None, where: str) -> Json:
    """Tray's ``price``: "0.00" (price on request) stands for no price, so a real 0 is refused."""
    if value is None:
        return {"price": "0.00"}
    if value == 0:
        raise _refuse(where, value, "a price of 0 means 'price on request'; send no price")
    return {"price": money(value)}


def product_fields(product: tramo.Product, categories: Sequence[str]) -> Json:
    """The ``Product`` fields for ``product``; ``categories`` are Tray category ids (main first)."""
    where = "Product"
    if not product.variants and product.sku not in (None, product.code):
        raise _refuse(f"{where}.sku", product.sku, "a product without variants is sold under its "
                      "reference, which is the product code; leave sku empty or equal to code")
    if product.variants:
        clash = [v.sku for v in product.variants if v.sku == product.code]
        if clash:
            raise _refuse(f"{where}.variants.sku", clash[0], "a variant cannot share the "
                          "product's reference (its code)")
    fields: Json = {
        "reference": product.code, "name": product.name, "description": product.description,
        "description_small": product.short_description, "ean": product.gtin or "",
        "ncm": product.ncm or "", "brand": product.brand.name if product.brand else "",
        "available": "1" if product.available else "0",
        **_price(product.price, f"{where}.price"),
        **_physical(product.weight_kg, product.dimensions),
        **_images(product.images, where),
    }
    if categories:
        fields["category_id"] = categories[0]
        fields["related_categories"] = list(categories[1:])
    _check_lengths(fields, where)
    return fields


def variant_fields(variant: tramo.Variant, product_id: str | None = None) -> Json:
    where = f"Variant[{variant.sku}]"
    if len(variant.attributes) > VARIANT_ATTRIBUTES_MAX:
        raise _refuse(f"{where}.attributes", len(variant.attributes),
                      f"a variant has at most {VARIANT_ATTRIBUTES_MAX} attributes (type/value)")
    fields: Json = {
        "reference": variant.sku, "ean": variant.gtin or "",
        "available": "1" if variant.available else "0",
        "Sku": [{"type": a.name, "value": a.value} for a in variant.attributes],
        **_price(variant.price, f"{where}.price"),
        **_physical(variant.weight_kg, variant.dimensions),
        **_images(variant.images, where),
    }
    if product_id is not None:
        fields["product_id"] = product_id
    _check_lengths(fields, where)
    return fields


def product_body(product: tramo.Product, categories: Sequence[str] = ()) -> Json:
    """``{"Product": {...}}`` plus a check of every variant (all refused before any call)."""
    fields = product_fields(product, categories)
    for variant in product.variants:
        variant_fields(variant)
    return {"Product": fields}


def variant_body(variant: tramo.Variant, product_id: str | None = None) -> Json:
    return {"Variant": variant_fields(variant, product_id)}


def _same(want: Any, have: Any) -> bool:
    """Whether a field we would send equals what Tray holds (numbers by value, lists by items)."""
    if isinstance(want, list):
        return isinstance(have, list) and [_plain(w) for w in want] == [_plain(h) for h in have]
    left, right = text(want).strip(), text(have).strip()
    if left == right:
        return True
    try:
        return Decimal(left or "0") == Decimal(right or "0")
    except InvalidOperation:
        return False


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: text(v) for k, v in value.items()}
    return text(value)


def image_urls(record: Mapping[str, Any], key: str) -> list[str]:
    found = record.get(key) or []
    urls = []
    for image in found if isinstance(found, list) else []:
        if isinstance(image, dict):
            url = text(image.get("https") or image.get("http"))
            if url:
                urls.append(url)
    return urls


def changes(fields: Mapping[str, Any], record: Mapping[str, Any], images_key: str) -> Json:
    """The fields that differ from what Tray holds, images as a whole (Tray re-downloads them)."""
    changed = {k: v for k, v in fields.items()
               if not k.startswith("picture_source_") and not _same(v, record.get(k))}
    wanted = [v for k, v in sorted(fields.items()) if k.startswith("picture_source_")]
    held = image_urls(record, images_key)
    if wanted != held:
        changed.update({k: v for k, v in fields.items() if k.startswith("picture_source_")})
        changed.update(clear_images(len(held), len(wanted)))
    return changed


def _dimensions(record: Mapping[str, Any], where: str) -> tramo.Dimensions | None:
    sides = [positive(record.get(k), f"{where}.{k}") for k in ("length", "width", "height")]
    if all(s is None for s in sides):
        return None
    return tramo.Dimensions(length_cm=sides[0] or 0, width_cm=sides[1] or 0, height_cm=sides[2] or 0)


def _weight(record: Mapping[str, Any], where: str) -> Decimal | None:
    grams = positive(record.get("weight"), f"{where}.weight")
    return None if grams is None else grams / 1000


def _sale_price(record: Mapping[str, Any], where: str) -> Decimal | None:
    price = decimal(record.get("price"), f"{where}.price")
    return None if price is None or price == 0 or flag(record.get("upon_request")) else price


def variant_from_wire(record: Mapping[str, Any]) -> tramo.Variant:
    where = f"Variant[{text(record.get('id'))}]"
    skus = record.get("Sku") or []
    return tramo.Variant(
        sku=text(record.get("reference")) or text(record.get("id")),
        gtin=text(record.get("ean")) or None,
        attributes=[tramo.Attribute(name=text(a.get("type")), value=text(a.get("value")))
                    for a in skus if isinstance(a, dict)],
        price=_sale_price(record, where),
        weight_kg=_weight(record, where),
        dimensions=_dimensions(record, where),
        images=image_urls(record, "VariantImage"),
        available=flag(record.get("available")),
        remote_id=text(record.get("id")) or None,
    )


def product_from_wire(record: Mapping[str, Any], variants: Iterable[Mapping[str, Any]],
                      zone: tzinfo, categories: Sequence[str] = ()) -> tramo.Product:
    """A Tray product with its variant records; ``categories`` are ERP ids already resolved."""
    where = f"Product[{text(record.get('id'))}]"
    brand = text(record.get("brand"))
    ident = text(record.get("id"))
    try:
        return tramo.Product(
            code=text(record.get("reference")) or ident,
            name=text(record.get("name")),
            description=text(record.get("description")),
            short_description=text(record.get("description_small")),
            gtin=text(record.get("ean")) or None,
            brand=tramo.Brand(id=text(record.get("brand_id")) or brand, name=brand) if brand else None,
            categories=categories,
            ncm=text(record.get("ncm")) or None,
            price=_sale_price(record, where),
            weight_kg=_weight(record, where),
            dimensions=_dimensions(record, where),
            images=image_urls(record, "ProductImage"),
            variants=[variant_from_wire(v) for v in variants],
            available=flag(record.get("available")),
            remote_id=ident or None,
            updated_at=moment(record.get("modified"), zone, f"{where}.modified"),
        )
    except tramo.ValidationError as exc:
        raise exc.at(where) from None


def tray_category_ids(record: Mapping[str, Any]) -> list[str]:
    main = text(record.get("category_id"))
    related = [text(c) for c in record.get("related_categories") or [] if text(c)]
    ordered = ([main] if main and main != "0" else []) + related
    return list(dict.fromkeys(ordered))


# -- stock and prices -----------------------------------------------------------------------


def stock_fields(quantity: int) -> Json:
    return {"stock": str(max(0, quantity))}


def check_stock(level: tramo.StockLevel) -> None:
    if level.warehouse is not None:
        raise _refuse("StockLevel.warehouse", level.warehouse,
                      "one stock per SKU through the REST API (no warehouses)")
    if level.company is not None:
        raise _refuse("StockLevel.company", level.company, "one stock per SKU (no companies)")


def price_fields(price: tramo.Price, zone: tzinfo) -> Json:
    """Tray keeps one price per SKU and a promotional price with a window of days."""
    for name in ("price_list", "company", "segment"):
        if getattr(price, name) is not None:
            raise _refuse(f"Price.{name}", getattr(price, name), "one price per SKU")
    if price.currency != "BRL":
        raise _refuse("Price.currency", price.currency, "Tray sells in BRL")
    if price.sale_price is not None and price.sale_price != price.list_price:
        raise _refuse("Price.sale_price", price.sale_price, "Tray keeps one everyday price and "
                      "a promotional price; send the selling price as list_price")
    fields = _price(price.list_price, "Price.list_price")
    fields["promotional_price"] = money(price.promotional_price or Decimal(0))
    fields["start_promotion"] = day(price.promotion_start, zone)
    fields["end_promotion"] = day(price.promotion_end, zone)
    return fields


# -- categories ----------------------------------------------------------------------------


def category_fields(category: tramo.Category, parent: str | None) -> Json:
    if len(category.name) > CATEGORY_NAME_MAX:
        raise _refuse("Category.name", category.name[:20] + "...",
                      f"longer than {CATEGORY_NAME_MAX} characters")
    return {"name": category.name, "parent_id": parent or ""}


def same_parent(record: Mapping[str, Any], parent: str | None) -> bool:
    held = text(record.get("parent_id"))
    return (held in ("", "0")) if parent is None else held == parent


# -- orders -------------------------------------------------------------------------------


def modified_filter(since: datetime | str | None, zone: tzinfo) -> tuple[dict[str, str], datetime | None]:
    """The ``modified`` filter (days, on or after) and the exact time to keep records after."""
    if since is None:
        return {}, None
    if isinstance(since, str):
        try:
            since = datetime.fromisoformat(since)
        except ValueError:
            raise tramo.ValidationError("since", since, "give an ISO 8601 time") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=zone)
    if since.tzinfo is None or since.utcoffset() is None:
        raise tramo.ValidationError("since", since, "must be timezone-aware")
    return {"modified": day(since, zone)}, since


def changed_after(record: Mapping[str, Any], after: datetime | None, zone: tzinfo) -> bool:
    if after is None:
        return True
    modified = moment(record.get("modified"), zone, "Order.modified")
    return modified is None or modified > after


def _phones(customer: Mapping[str, Any]) -> list[str]:
    return [text(customer.get(k)) for k in ("phone", "cellphone") if text(customer.get(k))]


def _address(record: Mapping[str, Any], where: str) -> tramo.Address | None:
    if not text(record.get("address")) and not text(record.get("zip_code")):
        return None
    country = text(record.get("country")).strip()
    return tramo.Address(
        street=text(record.get("address")), number=text(record.get("number")) or "S/N",
        complement=text(record.get("complement")) or None,
        district=text(record.get("neighborhood")) or None, city=text(record.get("city")),
        state=text(record.get("state")) or None, postal_code=text(record.get("zip_code")),
        country="BR" if country in ("", "Brasil", "Brazil", "BR") else country,
        recipient=text(record.get("recipient")) or None)


def _addresses(customer: Mapping[str, Any]) -> dict[str, tramo.Address]:
    """Billing ("0") and delivery ("1") addresses of the order's customer."""
    found: dict[str, tramo.Address] = {}
    for index, item in enumerate(customer.get("CustomerAddresses") or []):
        record = item.get("CustomerAddress", item) if isinstance(item, dict) else {}
        address = _address(record, f"Customer.CustomerAddresses[{index}]")
        kind = text(record.get("type"))
        if address is not None and kind not in found:
            found[kind] = address
    return found


def customer_from_wire(record: Mapping[str, Any], zone: tzinfo) -> tramo.Customer:
    company = text(record.get("type")) == "1"
    birth = moment(record.get("birth_date"), zone, "Customer.birth_date")
    main = _address(record, "Customer")
    return tramo.Customer(
        name=text(record.get("name")) or text(record.get("company_name")),
        kind=tramo.CustomerKind.COMPANY if company else tramo.CustomerKind.PERSON,
        cpf=None if company else (text(record.get("cpf")) or None),
        cnpj=(text(record.get("cnpj")) or None) if company else None,
        state_registration=text(record.get("state_inscription")) or None,
        email=text(record.get("email")) or None,
        phones=_phones(record),
        birth_date=birth.date() if birth else None,
        addresses=[main] if main else [],
        remote_id=text(record.get("id")) or None)


def _item(record: Mapping[str, Any]) -> tramo.OrderItem:
    skus = record.get("Sku") or []
    discounts = [decimal(d.get("value") if isinstance(d, dict) else d, "ProductsSold.Discount")
                 for d in record.get("Discount") or []]
    quantity = whole(record.get("quantity"), "ProductsSold.quantity") or 0
    price = decimal(record.get("price"), "ProductsSold.price") or Decimal(0)
    # An item of a product without a reference is known by Tray's variant (or product) id.
    return tramo.OrderItem(
        sku=text(record.get("reference")) or text(record.get("variant_id") or record.get("product_id")),
        name=text(record.get("name")) or text(record.get("original_name")),
        quantity=quantity, unit_price=price,
        discount=sum((d for d in discounts if d is not None), Decimal(0)),
        gtin=text(record.get("ean")) or None,
        attributes=[f"{text(a.get('type'))}: {text(a.get('value'))}" for a in skus
                    if isinstance(a, dict)],
        remote_id=text(record.get("id")) or None)


def _unwrap_list(value: Any, key: str) -> list[Mapping[str, Any]]:
    return [item.get(key, item) for item in value or [] if isinstance(item, dict)]


def _invoices(order_id: str, found: Any, zone: tzinfo) -> list[tramo.Invoice]:
    invoices = []
    for record in _unwrap_list(found, "OrderInvoice"):
        key = text(record.get("key"))
        if not key:
            continue  # the list form carries only {id, link}
        invoices.append(tramo.Invoice(
            order_id=order_id, number=text(record.get("number")), series=text(record.get("serie")),
            access_key=key, issued_at=moment(record.get("issue_date"), zone, "OrderInvoice.issue_date"),
            value=decimal(record.get("value"), "OrderInvoice.value") or Decimal(0),
            danfe_url=text(record.get("link")) or None))
    return invoices


def order_from_wire(complete: Mapping[str, Any], zone: tzinfo) -> tramo.Order:
    """A ``GET /orders/:id/complete`` answer (wrapped or not) as an Order.

    An answer of another shape than Tray's (an object where text belongs, a
    number where a list does) is a ValidationError too, so the order is held
    and the read goes on.
    """
    order = complete.get("Order", complete) if isinstance(complete, Mapping) else complete
    if not isinstance(order, Mapping):
        raise tramo.ValidationError("Order", type(order).__name__, "Tray's answer is not an object")
    ident = text(order.get("id"))
    with reading(f"Order[{ident}]", "Tray"):
        return _order(order, ident, zone)


def _order(order: Mapping[str, Any], ident: str, zone: tzinfo) -> tramo.Order:
    customer_record = order.get("Customer") or {}
    addresses = _addresses(customer_record)
    placed = moment(f"{text(order.get('date'))} {text(order.get('hour')) or '00:00:00'}".strip(),
                    zone, "date")
    status = order.get("OrderStatus") or {}
    marketplace = _unwrap_list(order.get("MarketplaceOrder"), "MarketplaceOrder")
    channel = (tramo.SalesChannel(platform_channel=text(marketplace[0].get("marketplace_name")) or None,
                                  marketplace_order_id=text(marketplace[0].get("marketplace_order_id")) or None)
               if marketplace else tramo.SalesChannel(platform_channel=text(order.get("point_sale")) or None))
    paid_at = moment(order.get("payment_date"), zone, "payment_date")
    total = decimal(order.get("total"), "total") or Decimal(0)
    payment_method = text(order.get("payment_method_id"))
    code = text(order.get("sending_code"))
    trackings = [tramo.Tracking(order_id=ident, code=code, url=_url(order.get("tracking_url")),
                                shipped_at=moment(order.get("sending_date"), zone, "sending_date"))
                 ] if code else []
    modified = moment(order.get("modified"), zone, "modified")
    return tramo.Order(
        id=ident, number=ident,
        placed_at=placed or modified,
        updated_at=modified if modified and placed and modified >= placed else None,
        customer=customer_from_wire(customer_record, zone),
        items=[_item(item) for item in _unwrap_list(order.get("ProductsSold"), "ProductsSold")],
        total=total,
        platform_status=text(status.get("id")) or text(order.get("status_id")) or text(order.get("status")),
        billing_address=addresses.get("0"),
        delivery_address=addresses.get("1"),
        shipping=tramo.Shipping(
            platform_method=text(order.get("shipment")) or None,
            carrier=text(order.get("shipment_integrator")) or None,
            freight=decimal(order.get("shipment_value"), "shipment_value") or Decimal(0),
            estimated_delivery=moment(order.get("estimated_delivery_date"), zone,
                                      "estimated_delivery_date")),
        payments=[tramo.Payment(
            value=total, platform_method=payment_method or None,
            installments=max(1, int(decimal(order.get("installment"), "installment") or 1)),
            paid_at=paid_at)] if payment_method or text(order.get("payment_form")) else [],
        sales_channel=channel,
        discount=decimal(order.get("discount"), "discount") or Decimal(0),
        invoices=_invoices(ident, order.get("OrderInvoice"), zone),
        trackings=trackings,
        notes=text(order.get("customer_note")) or None,
    )


def _url(value: Any) -> str | None:
    url = text(value).strip()
    return url if url.startswith(("http://", "https://")) else None


def status_fields(platform_status: str) -> Json:
    return {"status_id": platform_status}


def tracking_fields(tracking: tramo.Tracking, zone: tzinfo) -> Json:
    fields: Json = {"sending_code": tracking.code}
    if tracking.shipped_at is not None:
        fields["sending_date"] = day(tracking.shipped_at, zone)
    if tracking.url is not None:
        fields["tracking_url"] = tracking.url
    return fields


def invoice_body(invoice: tramo.Invoice, zone: tzinfo) -> Json:
    """The flat invoice body (no wrapper, reference §9)."""
    body: Json = {"issue_date": day(invoice.issued_at, zone), "number": invoice.number,
                  "serie": invoice.series, "value": money(invoice.value), "key": invoice.access_key}
    if invoice.danfe_url or invoice.xml_url:
        body["link"] = invoice.danfe_url or invoice.xml_url
    return body


def invoice_keys(answer: Mapping[str, Any]) -> dict[str, str]:
    """Access key to invoice id, from ``GET /orders/:id/invoices``."""
    found: dict[str, str] = {}
    for item in answer.get("OrderInvoices") or []:
        record = item.get("OrderInvoice", {}) if isinstance(item, dict) else {}
        key = text(record.get("key"))
        if key and key not in found:
            found[key] = text(record.get("id"))
    return found


# -- look-ups --------------------------------------------------------------------------------


def status_options(answer: Mapping[str, Any]) -> list[tramo.PlatformOption]:
    return [tramo.PlatformOption(id=text(r.get("id")), name=text(r.get("status")) or text(r.get("id")))
            for r in records(answer, "OrderStatuses", "OrderStatus")]


def shipping_options(answer: Mapping[str, Any]) -> list[tramo.PlatformOption]:
    """Shipping methods, known to orders by name (an order's ``shipment``), so the name is the id."""
    options = []
    for record in records(answer, "Shippings", "Shipping"):
        name = text(record.get("name")) or text(record.get("display_name"))
        options.append(tramo.PlatformOption(id=name, name=text(record.get("display_name")) or name,
                                            active=text(record.get("status")) != "0"))
    return options


def payment_options(answer: Mapping[str, Any]) -> list[tramo.PlatformOption]:
    found = answer.get("paymentoptions") or []
    return [tramo.PlatformOption(id=text(r.get("id")), name=text(r.get("name")) or text(r.get("id")))
            for r in found if isinstance(r, dict)]


# -- webhooks -------------------------------------------------------------------------------

#: Tray scopes and the resource they name for the engine.
SCOPES = {"order": "order", "product": "product", "product_price": "product",
          "product_stock": "product", "variant": "variant", "variant_price": "variant",
          "variant_stock": "variant", "customer": "customer"}


def notification(body: bytes, content_type: str) -> dict[str, str]:
    """A notification's fields, form-encoded (as Tray posts them) or JSON."""
    raw = body.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise tramo.ValidationError("webhook.body", raw[:40], "is not JSON") from None
        if not isinstance(parsed, dict):
            raise tramo.ValidationError("webhook.body", raw[:40], "is not a JSON object")
        return {k: text(v) for k, v in parsed.items()}
    return dict(parse_qsl(raw, keep_blank_values=True))


def webhook_event(fields: Mapping[str, str], store_id: str | None) -> tramo.WebhookEvent:
    """The event a notification announces; a notification for another store is refused."""
    seller = fields.get("seller_id", "")
    if store_id and seller != store_id:
        raise tramo.AuthenticationError(
            f"a notification for store {seller or '(none)'} reached the connection of store {store_id}")
    scope, ident, act = fields.get("scope_name", ""), fields.get("scope_id", ""), fields.get("act", "")
    if scope not in SCOPES:
        raise tramo.ValidationError("webhook.scope_name", scope, f"must be one of {', '.join(SCOPES)}")
    if not ident:
        raise tramo.ValidationError("webhook.scope_id", ident, "is empty")
    if act not in ("insert", "update", "delete"):
        raise tramo.ValidationError("webhook.act", act, "must be insert, update or delete")
    # Tray numbers no notification: two updates of one order look alike, so no
    # event_id (a caller dropping "duplicates" by it would lose the second change).
    return tramo.WebhookEvent(resource=SCOPES[scope], remote_id=ident, action=act)

"""minishop's JSON and the tramo model, both ways, and minishop's error bodies. No I/O.

Everything here is a pure function of its arguments, so it is tested without a
server (hypothesis round trips) and the hooks stay short. Three rules:

- **Refuse early.** What minishop would refuse (a name over 120 characters,
  more than 5 images, a SKU over 40 characters, a price list, a warehouse) is
  refused here with :class:`tramo.ValidationError` naming the field, before any
  request: the item is held, and no call is spent from the rate budget.
- **Money is text, times carry their offset.** Amounts go out as ``str(Decimal)``
  and come back through the model's own converters; times go out in ISO 8601
  with their offset (minishop refuses naive times).
- **Error bodies become typed errors.** :func:`error_from` reads minishop's
  ``{"error": {"code", "message", "details"}}`` into the tramo error a host can act
  on, and never copies a raw body into a message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import tramo
from tramo.errors import TransientError
from tramo.paging import PagingError

__all__ = [
    "CURRENCY", "IMAGES_MAX", "NAME_MAX", "PER_PAGE_MAX", "SKU_MAX",
    "category_body", "check_product", "error_from", "options_of", "order_from_wire", "page_of",
    "product_body",
    "product_from_wire", "price_body", "read_answer", "reservation_body", "result_of",
    "since_param", "status_body", "stock_body", "tracking_body",
]

#: minishop's limits (see the README's "Limits").
NAME_MAX = 120
IMAGES_MAX = 5
SKU_MAX = 40
PER_PAGE_MAX = 100
#: the one currency minishop sells in
CURRENCY = "BRL"


# -- small pieces ----------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def since_param(since: datetime | str | None) -> dict[str, str]:
    """The ``updated_since`` query parameter of a checkpoint (nothing for None).

    minishop's checkpoints are times; a text checkpoint is taken only when it is
    an ISO 8601 time with an offset (what a host stored from an earlier read).
    """
    if since is None:
        return {}
    if isinstance(since, str):
        try:
            since = datetime.fromisoformat(since)
        except ValueError:
            raise tramo.ValidationError("since", since, "minishop reads by time: give an ISO 8601 "
                                        "time with its offset") from None
    if since.tzinfo is None or since.utcoffset() is None:
        raise tramo.ValidationError("since", since, "must be timezone-aware")
    return {"updated_since": since.isoformat()}


def _refuse(field: str, value: object, reason: str) -> tramo.ValidationError:
    return tramo.ValidationError(field, value, f"minishop refuses it: {reason}")


# -- catalogue ------------------------------------------------------------------------


def check_product(product: tramo.Product) -> None:
    """Raise ValidationError for what minishop refuses in a product (README, "Limits")."""
    if len(product.name) > NAME_MAX:
        raise _refuse("Product.name", product.name, f"longer than {NAME_MAX} characters")
    if len(product.images) > IMAGES_MAX:
        raise _refuse("Product.images", len(product.images), f"more than {IMAGES_MAX} images")
    skus = [("Product.sku", product.sku)] if product.sku is not None else []
    skus += [(f"Product.variants[{i}].sku", v.sku) for i, v in enumerate(product.variants)]
    if not product.variants and product.sku is None:
        skus.append(("Product.code", product.code))  # sold under its code: the code is its SKU
    for field, sku in skus:
        if sku is not None and len(sku) > SKU_MAX:
            raise _refuse(field, sku, f"a SKU longer than {SKU_MAX} characters")


def product_body(product: tramo.Product) -> dict[str, Any]:
    """The body of ``POST /products`` and ``PUT /products/{id}`` (the whole product).

    Not sent, because minishop does not keep them (the sandbox's Profile says so):
    short description, categories, NCM, weight, dimensions, product attributes,
    variant images, weights and dimensions. ``remote_id`` is never trusted: the
    product is found by its code.
    """
    check_product(product)
    return {
        "code": product.code,
        "name": product.name,
        "description": product.description,
        "brand": None if product.brand is None else {"code": product.brand.id,
                                                       "name": product.brand.name},
        "sku": product.sku,
        "gtin": product.gtin,
        "price": _money(product.price),
        "images": list(product.images),
        "active": product.available,
        "variants": [{"sku": v.sku, "gtin": v.gtin, "price": _money(v.price),
                      "attributes": [{"name": a.name, "value": a.value} for a in v.attributes],
                      "active": v.available} for v in product.variants],
    }


def product_from_wire(data: Mapping[str, Any]) -> tramo.Product:
    """A product as minishop answers it; ValidationError when it cannot be one."""
    def build() -> tramo.Product:
        brand = data.get("brand")
        return tramo.Product(
            code=data["code"], name=data["name"], description=data.get("description") or "",
            brand=None if brand is None else tramo.Brand(id=brand["code"], name=brand["name"]),
            sku=data.get("sku"), gtin=data.get("gtin"), price=data.get("price"),
            images=data.get("images") or (), available=data.get("active", True),
            variants=[tramo.Variant(
                sku=v["sku"], gtin=v.get("gtin"), price=v.get("price"),
                attributes=[tramo.Attribute(name=a["name"], value=a["value"])
                            for a in v.get("attributes") or ()],
                available=v.get("active", True)) for v in data.get("variants") or ()],
            remote_id=_text_id(data.get("id")), updated_at=data.get("updated_at"))
    return _record("product", data, build)


def category_body(category: tramo.Category) -> dict[str, Any]:
    """The body of ``PUT /categories/by-code/{code}``: minishop finds parents by their code."""
    return {"name": category.name, "parent_code": category.parent_id}


# -- stock and prices ---------------------------------------------------------------


def stock_body(level: tramo.StockLevel) -> dict[str, Any]:
    """The body of ``PUT /stock/{sku}``: the on-hand quantity (one stock per SKU)."""
    for field in ("warehouse", "company"):
        if getattr(level, field) is not None:
            raise _refuse(f"StockLevel.{field}", getattr(level, field),
                          f"it keeps one stock per SKU, with no {field}")
    return {"on_hand": level.quantity}


def price_body(price: tramo.Price) -> dict[str, Any]:
    """The body of ``PUT /prices/{sku}``: one price per SKU, in reais."""
    for field in ("price_list", "company", "segment"):
        if getattr(price, field) is not None:
            # Sending it anyway would overwrite the store's one price with, say, a
            # wholesale list's: refused instead of reported done.
            raise _refuse(f"Price.{field}", getattr(price, field),
                          f"it keeps one price per SKU, with no {field.replace('_', ' ')}")
    if price.currency != CURRENCY:
        raise _refuse("Price.currency", price.currency, f"it sells in {CURRENCY} only")
    return {"price": str(price.list_price), "sale_price": _money(price.sale_price),
            "promo_price": _money(price.promotional_price),
            "promo_start": _moment(price.promotion_start),
            "promo_end": _moment(price.promotion_end),
            "currency": price.currency}


def reservation_body(reservation: tramo.StockReservation) -> dict[str, Any]:
    """The body of ``POST /reservations``; minishop reservations never expire by themselves."""
    if reservation.warehouse is not None:
        raise _refuse("StockReservation.warehouse", reservation.warehouse,
                      "it keeps one stock per SKU, with no warehouse")
    return {"id": reservation.id, "sku": reservation.sku, "quantity": reservation.quantity,
            "order_id": reservation.order_id}


# -- orders ------------------------------------------------------------------------------


def status_body(update: tramo.StatusUpdate) -> dict[str, Any]:
    """The body of ``PUT /orders/{id}/status``; ``platform_status`` was mapped by the core."""
    if update.platform_status is None:
        raise tramo.ValidationError("StatusUpdate.platform_status", None, "has no minishop "
                                    "status (the core maps it from the status mapping)")
    return {"status": update.platform_status, "notify": update.notify_customer, "note": update.note}


def tracking_body(tracking: tramo.Tracking) -> dict[str, Any]:
    """The body of ``POST /orders/{id}/trackings``."""
    return {"code": tracking.code, "carrier": tracking.carrier, "url": tracking.url,
            "shipped_at": _moment(tracking.shipped_at), "invoice_key": tracking.invoice_key}


def _address(data: Mapping[str, Any] | None) -> tramo.Address | None:
    if data is None:
        return None
    return tramo.Address(
        street=data["street"], number=data.get("number") or "S/N",
        complement=data.get("complement"), district=data.get("district"), city=data["city"],
        city_code=data.get("city_code"), state=data.get("state"), postal_code=data["postal_code"],
        country=data.get("country") or "BR", recipient=data.get("recipient"),
        phone=data.get("phone"))


def _customer(data: Mapping[str, Any]) -> tramo.Customer:
    kind = tramo.CustomerKind(data.get("type") or "person")
    document = data.get("document")
    return tramo.Customer(
        name=data["name"], kind=kind,
        cpf=document if kind is tramo.CustomerKind.PERSON else None,
        cnpj=document if kind is tramo.CustomerKind.COMPANY else None,
        state_registration=data.get("state_registration"), email=data.get("email"),
        phones=data.get("phones") or (), birth_date=data.get("birth_date"))


def order_from_wire(data: Mapping[str, Any]) -> tramo.Order:
    """An order as minishop answers it, with minishop's ids in the ``platform_*`` fields."""
    def build() -> tramo.Order:
        ident = _text_id(data["id"])
        shipping, channel = data.get("shipping"), data.get("channel")
        return tramo.Order(
            id=ident, number=_text_id(data.get("number")), platform_status=data["status"],
            placed_at=data["placed_at"], updated_at=data.get("updated_at"),
            currency=data.get("currency") or "BRL", customer=_customer(data["customer"]),
            billing_address=_address(data.get("billing_address")),
            delivery_address=_address(data.get("shipping_address")),
            items=[tramo.OrderItem(
                sku=i["sku"], name=i["name"], quantity=i["quantity"], unit_price=i["unit_price"],
                discount=i.get("discount") or "0", product_code=i.get("product_code"),
                gtin=i.get("gtin"), attributes=i.get("attributes") or (),
                remote_id=_text_id(i.get("id"))) for i in data["items"]],
            shipping=None if shipping is None else tramo.Shipping(
                platform_method=shipping.get("method"), carrier=shipping.get("carrier"),
                freight=shipping.get("price") or "0",
                estimated_delivery=shipping.get("estimated_delivery")),
            payments=[tramo.Payment(value=p["value"], platform_method=p.get("method"),
                                    installments=p.get("installments") or 1,
                                    paid_at=p.get("paid_at"))
                      for p in data.get("payments") or ()],
            sales_channel=None if channel is None else tramo.SalesChannel(
                platform_channel=channel.get("id"),
                marketplace_order_id=channel.get("marketplace_order_id")),
            discount=data.get("discount") or "0", total=data["total"], notes=data.get("notes"),
            trackings=[tramo.Tracking(order_id=ident, code=t["code"], carrier=t.get("carrier"),
                                      url=t.get("url"), shipped_at=t.get("shipped_at"),
                                      invoice_key=t.get("invoice_key"))
                       for t in data.get("trackings") or ()])
    return _record("order", data, build)


def _text_id(value: Any) -> str | None:
    return None if value is None else str(value)


def _record(kind: str, data: Any, build: Any) -> Any:
    """``build()``, with a record of the wrong shape reported as a ValidationError."""
    if not isinstance(data, Mapping):
        raise tramo.ValidationError(f"minishop {kind}", type(data).__name__, "is not a JSON object")
    try:
        return build()
    except tramo.ValidationError:
        raise
    except KeyError as exc:
        raise tramo.ValidationError(f"minishop {kind}.{exc.args[0]}", None, "is missing") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise tramo.ValidationError(f"minishop {kind}", None,
                                    f"has an unexpected shape: {exc}") from None


# -- answers ----------------------------------------------------------------------------


def read_answer(status: int, content: bytes) -> dict[str, Any]:
    """A 2xx answer's JSON object; any other answer raised as its typed error."""
    try:
        body = json.loads(content) if content else {}
    except ValueError:
        body = None
    if 200 <= status < 300:
        if not isinstance(body, dict):
            raise TransientError(f"minishop answered HTTP {status} with a body that is not a "
                                 f"JSON object; the outcome is unknown")
        return body
    raise error_from(status, body)


def error_from(status: int, body: Any) -> tramo.TramoError:
    """The tramo error of a minishop error answer (the body is never copied whole)."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    details = [d for d in error.get("details") or () if isinstance(d, dict)]
    causes = [f"{d.get('field')}: {d.get('message')}" for d in details]
    causes = causes or ([message] if message else [])
    if status == 401:
        return tramo.AuthenticationError("minishop refused the API token (HTTP 401); "
                                         "check the api_token setting")
    if status == 403:
        return tramo.AuthenticationError("minishop refused this with the API token (HTTP 403): "
                                         "it lacks the write scope")
    if status == 422 and details:
        first = details[0]
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        return tramo.ValidationError(f"minishop:{first.get('field')}", None,
                                     f"{first.get('message')}{more}")
    return tramo.PlatformError(f"minishop refused the request (HTTP {status})",
                               code=code or status, causes=causes)


def result_of(local_id: str, status: int, answer: Mapping[str, Any],
              key: str = "id") -> tramo.WriteResult:
    """The WriteResult of a write minishop took: 201 created, else ``changed`` says."""
    data = answer.get("data")
    if not isinstance(data, dict) or not isinstance(answer.get("changed"), bool):
        raise TransientError("minishop took the write but its answer lacks data/changed; "
                             "the outcome is unknown")
    if status == 201:
        outcome = tramo.Outcome.CREATED
    else:
        outcome = tramo.Outcome.UPDATED if answer["changed"] else tramo.Outcome.UNCHANGED
    return tramo.WriteResult(local_id, outcome, remote_id=_text_id(data.get(key)))


def page_of(answer: Mapping[str, Any], asked: int,
            since: str | None = None) -> tuple[list[Any], int]:
    """A list page's records and how many pages there are.

    minishop echoes the page and the ``updated_since`` it served; a page that
    answers another question (a caching proxy, a platform bug) is an error, not
    a page: reading it would repeat records or silently miss some.
    """
    data, paging = answer.get("data"), answer.get("paging")
    if not isinstance(data, list) or not isinstance(paging, dict):
        raise TransientError("minishop answered a list without data/paging")
    if paging.get("page") != asked or paging.get("updated_since") != since:
        raise PagingError(f"minishop answered page {paging.get('page')!r} of changes since "
                          f"{paging.get('updated_since')!r} when asked for page {asked} "
                          f"since {since!r}")
    pages = paging.get("pages")
    return data, pages if isinstance(pages, int) and pages >= 0 else 0


def options_of(answer: Mapping[str, Any]) -> list[tramo.PlatformOption]:
    """``GET /order-statuses`` as look-up options."""
    data = answer.get("data")
    if not isinstance(data, list):
        raise TransientError("minishop answered the status list without data")
    return [_record("status", s, lambda s=s: tramo.PlatformOption(
        id=str(s["id"]), name=s["name"], active=s.get("active", True))) for s in data]


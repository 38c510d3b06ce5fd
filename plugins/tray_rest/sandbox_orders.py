"""The Tray sandbox's orders: how an order comes to be, and how Tray answers it.

An order reaches the store two ways, a buyer (``place_order`` with a
:class:`tramo.Order`) or an app (``POST /orders``); both become the same
*draft* (plain dict) and :func:`store_order` files it with its customer,
addresses, items and payments, taking the items off stock. The renderers give
every key of the documented payloads (order_get, order_complete,
order_invoices_by_order, customer_get, ...), all values as text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import tramo

from tramo_tray_rest.sandbox_records import (
    EMPTY_DATE,
    EMPTY_MOMENT,
    PAYMENT_OPTIONS,
    STORE_TZ,
    Bad,
    Causes,
    as_count,
    as_id,
    as_money,
    as_text,
    image_json,
    money_text,
    moment_text,
    next_id,
    slugify,
)

__all__ = [
    "CANCELLED", "MARKETPLACES", "SHIPPING_METHODS", "STATUSES", "cfops_json", "customer_json",
    "draft_from_body", "draft_from_order", "invoice_json", "order_json", "payment_json",
    "payment_option_json", "return_stock", "shipping_json", "status_json", "store_invoice",
    "store_order",
]

#: Tray's standard order statuses here: id -> (name, type, background colour).
STATUSES: dict[str, tuple[str, str, str]] = {
    "1": ("AGUARDANDO PAGAMENTO", "open", "#FFF4C2"), "2": ("A ENVIAR", "open", "#CAFAD1"),
    "3": ("EM SEPARAÇÃO", "open", "#C2E0FF"), "4": ("FATURADO", "open", "#D7C2FF"),
    "5": ("PRONTO PARA ENVIO", "open", "#FFE0C2"), "6": ("ENVIADO", "open", "#C2FFF4"),
    "7": ("FINALIZADO", "closed", "#85CC8D"), "8": ("ENTREGUE", "closed", "#85CC8D"),
    "9": ("DEVOLVIDO", "closed", "#FFC2C2"), "10": ("CANCELADO", "closed", "#E0E0E0"),
}
#: The statuses an order can be placed in: FINALIZADO ("7") is the store closing an order,
#: never where a buyer's order starts (and hosts leave it unmapped).
PLACEABLE = frozenset(STATUSES) - {"7"}
CANCELLED = "10"
DELIVERED = "8"

#: The store's shipping methods: (id, name, identifier).
SHIPPING_METHODS: tuple[tuple[str, str, str], ...] = (
    ("1", "Correios PAC", "correios_pac"), ("2", "Correios Sedex", "correios_sedex"),
    ("3", "Retirada na loja", "retirada_loja"),
)
SHIPPING_NAMES = tuple(name for _, name, _ in SHIPPING_METHODS)
PAYMENT_IDS = {ident: (name, kind) for ident, name, kind in PAYMENT_OPTIONS}
STORE_CHANNEL = "LOJA VIRTUAL"
CUSTOMER_INDEX = "customers_by_identity"  # the store's key for _customers_by_identity
MARKETPLACES = ("Mercado Livre", "Dafiti", "Amazon")


def _day(moment: datetime | None) -> str:
    return EMPTY_DATE if moment is None else moment.astimezone(STORE_TZ).date().isoformat()


def _cep(code: str, country: str) -> str:
    """Tray shows a Brazilian CEP as 01310-100."""
    return f"{code[:5]}-{code[5:]}" if country == "BR" and len(code) == 8 else code


def _code(seed: str) -> str:
    """A fixed code made from ``seed`` (access codes, session ids, customer tokens)."""
    return hashlib.sha1(seed.encode()).hexdigest().upper()


def find_sku(data: Mapping[str, Any], sku: str) -> tuple[str, str]:
    """(product_id, variant_id) sold under ``sku``; "0" where the store has none."""
    for variant in data["variants"].values():
        if sku and variant["reference"] == sku:
            return variant["product_id"], variant["id"]
    for product in data["products"].values():
        if sku and product["reference"] == sku:
            return product["id"], "0"
    return "0", "0"


# -- drafts: what an order is made of before the store files it -----------------------------


def _customer_from_model(customer: tramo.Customer) -> dict[str, str]:
    company = customer.kind is tramo.CustomerKind.COMPANY
    phones = [*customer.phones, "", ""]
    return {"name": customer.name, "type": "1" if company else "0", "cpf": customer.cpf or "",
            "cnpj": customer.cnpj or "", "company_name": customer.name if company else "",
            "state_inscription": customer.state_registration or "", "email": customer.email or "",
            "phone": phones[0], "cellphone": phones[1], "rg": "", "gender": "0",
            "birth_date": customer.birth_date.isoformat() if customer.birth_date else EMPTY_DATE}


def _address_from_model(address: tramo.Address, kind: str) -> dict[str, str]:
    return {"address": address.street, "number": address.number,
            "complement": address.complement or "", "neighborhood": address.district or "",
            "city": address.city, "state": address.state or "",
            "zip_code": _cep(address.postal_code, address.country),
            "country": "Brasil" if address.country == "BR" else address.country,
            "recipient": address.recipient or "", "type": kind}


def _split_attribute(text: str) -> dict[str, str]:
    kind, found, value = text.partition(": ")
    return {"type": kind, "value": value} if found else {"type": "", "value": text}


def _item_from_model(data: Mapping[str, Any], item: tramo.OrderItem) -> dict[str, Any]:
    product_id, variant_id = find_sku(data, item.sku)
    line = item.quantity * item.unit_price - item.discount
    return {"product_id": product_id, "variant_id": variant_id, "reference": item.sku,
            "name": item.name, "ean": item.gtin or "", "quantity": str(item.quantity),
            "price": money_text(item.unit_price), "original_price": money_text(item.unit_price),
            "line_total": line, "sku": [_split_attribute(a) for a in item.attributes]}


def _payments_from_model(order: tramo.Order) -> tuple[str, list[dict[str, str]]]:
    first = order.payments[0].platform_method if order.payments else None
    method = first if first in PAYMENT_IDS else "80"
    payments = [{"payment_method_id": method, "method": PAYMENT_IDS[method][0],
                 "value": money_text(p.value), "date": _day(p.paid_at)} for p in order.payments]
    return method, payments


def draft_from_order(data: Mapping[str, Any], order: tramo.Order) -> dict[str, Any]:
    """A buyer's order in the store's terms; what the store lacks falls back to its first choice.

    A buyer brings no invoice, tracking code or edits: those come later from
    the seller (``PUT /orders``, ``POST /orders/:id/invoices``), so the
    order's ``invoices``, ``trackings`` and ``edits`` are not taken.
    """
    shipping = order.shipping
    method = shipping.platform_method if shipping is not None else None
    payment_method, payments = _payments_from_model(order)
    channel = order.sales_channel
    marketplace = None
    if channel is not None and channel.platform_channel in MARKETPLACES:
        marketplace = {"marketplace_name": channel.platform_channel,
                       "marketplace_order_id": channel.marketplace_order_id or ""}
    addresses = [_address_from_model(a, kind) for a, kind in
                 ((order.billing_address, "0"), (order.delivery_address, "1")) if a is not None]
    paid = [p.paid_at for p in order.payments if p.paid_at is not None]
    return {
        "status_id": order.platform_status if order.platform_status in PLACEABLE else "1",
        "shipment": method if method in SHIPPING_NAMES else SHIPPING_NAMES[0],
        "shipment_value": money_text(shipping.freight if shipping else Decimal(0)),
        "shipment_integrator": (shipping.carrier or "") if shipping else "",
        "estimated_delivery_date": _day(shipping.estimated_delivery if shipping else None),
        "payment_method_id": payment_method,
        "payment_method_name": PAYMENT_IDS[payment_method][0],
        "installment": str(order.payments[0].installments if order.payments else 1),
        "payment_date": _day(paid[0] if paid else None), "payments": payments,
        "point_sale": STORE_CHANNEL, "marketplace": marketplace,
        "customer": _customer_from_model(order.customer), "addresses": addresses,
        "items": [_item_from_model(data, i) for i in order.items],
        "total": money_text(order.total), "discount": money_text(order.discount),
        "customer_note": order.notes or "",
        "sending_code": "", "sending_date": EMPTY_DATE, "tracking_url": "", "invoices": [],
    }


def _wire_customer(body: Any, causes: Causes) -> dict[str, str]:
    if not isinstance(body, dict):
        causes.add("Customer", "obrigatório")
        return {}
    if not str(body.get("name") or "").strip():
        causes.add("Customer.name", "obrigatório")
    fields = {"name": "", "type": "0", "cpf": "", "cnpj": "", "company_name": "",
              "state_inscription": "", "email": "", "phone": "", "cellphone": "", "rg": "",
              "gender": "0", "birth_date": EMPTY_DATE}
    for key in fields:
        if body.get(key) is not None:
            try:
                fields[key] = as_text(body[key], 200)
            except Bad as exc:
                causes.add(f"Customer.{key}", str(exc))
    return fields


def _wire_addresses(body: Any) -> list[dict[str, str]]:
    given = body.get("CustomerAddress") if isinstance(body, dict) else None
    if isinstance(given, dict):
        given = [given]
    keys = ("address", "number", "complement", "neighborhood", "city", "state", "zip_code",
            "country", "recipient")
    return [{**{k: str(a.get(k) or "") for k in keys}, "type": str(a.get("type") or "1")}
            for a in given or [] if isinstance(a, dict)]


def _wire_item(data: Mapping[str, Any], i: int, body: Any,
               causes: Causes) -> dict[str, Any] | None:
    """One ``ProductsSold`` line of ``POST /orders``: a product (or variant) of this store."""
    where = f"ProductsSold[{i}]"
    if not isinstance(body, dict):
        causes.add(where, "deve ser um objeto")
        return None
    try:
        product_id = as_id(body.get("product_id", ""))
        variant_id = as_id(body.get("variant_id") or "0")
        quantity = as_count(body.get("quantity", 1))
    except Bad as exc:
        causes.add(where, str(exc))
        return None
    product = data["products"].get(product_id)
    variant = data["variants"].get(variant_id) if variant_id else None
    if product is None:
        causes.add(f"{where}.product_id", "produto inexistente")
        return None
    if variant_id and (variant is None or variant["product_id"] != product_id):
        causes.add(f"{where}.variant_id", "variação inexistente neste produto")
        return None
    if int(quantity) < 1:
        causes.add(f"{where}.quantity", "deve ser maior que 0")
    sold = variant or product
    listed = sold["price"] if Decimal(sold["price"]) > 0 else product["price"]
    try:
        price = as_money(body.get("price", listed))
    except Bad as exc:
        causes.add(f"{where}.price", str(exc))
        return None
    return {"product_id": product_id, "variant_id": variant_id or "0",
            "reference": sold["reference"], "name": product["name"], "ean": sold["ean"],
            "quantity": quantity, "price": price, "original_price": listed,
            "line_total": Decimal(price) * int(quantity),
            "sku": [dict(a) for a in variant["sku"]] if variant else []}


def draft_from_body(data: Mapping[str, Any], body: Mapping[str, Any],
                    causes: Causes) -> dict[str, Any]:
    """``POST /orders``: an app creates an order from the store's own products."""
    customer = _wire_customer(body.get("Customer"), causes)
    given = body.get("ProductsSold")
    if isinstance(given, dict):
        given = [given]
    if not isinstance(given, list) or not given:
        causes.add("ProductsSold", "obrigatório (ao menos um produto)")
        given = []
    items = [_wire_item(data, i, item, causes) for i, item in enumerate(given)]
    shipment_value = "0.00"
    try:
        shipment_value = as_money(body.get("shipment_value", "0"))
    except Bad as exc:
        causes.add("shipment_value", str(exc))
    status = str(body.get("status_id") or "1")
    if status not in STATUSES:
        causes.add("status_id", "status inexistente")
    form = str(body.get("payment_form") or "")
    method = next((i for i, (name, _) in PAYMENT_IDS.items() if name == form), "")
    markets = body.get("MarketplaceOrder")
    market = markets[0] if isinstance(markets, list) and markets else markets
    marketplace = ({k: str(v) for k, v in market.items() if v is not None}
                   if isinstance(market, dict) else None)
    kept = [i for i in items if i is not None]
    subtotal = sum((i["line_total"] for i in kept), Decimal(0))
    return {
        "status_id": status, "shipment": str(body.get("shipment") or ""),
        "shipment_value": shipment_value, "shipment_integrator": "",
        "estimated_delivery_date": EMPTY_DATE, "payment_method_id": method,
        "payment_method_name": form, "installment": "1", "payment_date": EMPTY_DATE,
        "payments": [], "point_sale": str(body.get("point_sale") or STORE_CHANNEL),
        "marketplace": marketplace, "customer": customer,
        "addresses": _wire_addresses(body.get("Customer")),
        "items": kept, "total": money_text(subtotal + Decimal(shipment_value)), "discount": "0.00",
        "customer_note": "", "sending_code": "", "sending_date": EMPTY_DATE, "tracking_url": "",
        "invoices": [], "session_id": str(body.get("session_id") or ""),
    }


# -- filing a draft ------------------------------------------------------------------------


def _identity_key(identity: Any) -> str:
    """A hashable stand-in for a customer's identity (buyer fields and addresses, all text)."""
    return json.dumps(identity, sort_keys=True, default=str)


def _customers_by_identity(data: dict[str, Any]) -> dict[str, str]:
    """Customer ids by identity key, kept in the store so that filing an order need not scan
    every customer (seeding N orders was O(N^2)); rebuilt if the customers changed behind it."""
    index: dict[str, str] = data.setdefault(CUSTOMER_INDEX, {})
    customers = data["customers"]
    if len(index) != len(customers):
        index.clear()
        for customer in customers.values():
            index.setdefault(_identity_key(customer["identity"]), customer["id"])
    return index


def _store_customer(data: dict[str, Any], draft: Mapping[str, Any], stamp: str) -> str:
    """A customer record for the order; the very same buyer data reuses the record."""
    fields = draft["customer"]
    addresses = draft["addresses"]
    same = (fields, [{k: v for k, v in a.items()} for a in addresses])
    index = _customers_by_identity(data)
    key = _identity_key(same)
    known = data["customers"].get(index.get(key, ""))
    if known is not None and known["identity"] == same:
        return str(known["id"])
    ident = next_id(data, "customer")
    index[key] = ident
    address_ids = []
    for address in addresses:
        address_id = next_id(data, "address")
        data["addresses"][address_id] = {"id": address_id, "customer_id": ident, **address}
        address_ids.append(address_id)
    main = addresses[0] if addresses else {}
    data["customers"][ident] = {
        "id": ident, **fields, "identity": same, "address_ids": address_ids,
        "created": stamp, "modified": stamp,
        **{k: main.get(k, "") for k in ("address", "number", "complement", "neighborhood",
                                           "city", "state", "zip_code", "country")}}
    return ident


def _take_stock(data: dict[str, Any], item: Mapping[str, Any], sign: int) -> None:
    """Items of SKUs the store keeps stock for move that stock (never below zero)."""
    quantity = int(item["quantity"]) * sign
    variant = data["variants"].get(item["variant_id"])
    product = data["products"].get(item["product_id"])
    holder = variant if variant is not None else (
        product if product is not None and not product["variant_ids"] else None)
    if holder is not None:
        holder["stock"] = str(max(0, int(holder["stock"]) - quantity))
    for sold in (variant, product):
        if sold is not None:
            sold["quantity_sold"] = str(max(0, int(sold["quantity_sold"]) + quantity))


def return_stock(data: dict[str, Any], order: Mapping[str, Any]) -> None:
    for item_id in order["item_ids"]:
        _take_stock(data, data["items"][item_id], -1)


def _store_item(data: dict[str, Any], order_id: str, item: Mapping[str, Any]) -> str:
    ident = next_id(data, "item")
    product = data["products"].get(item["product_id"], {})
    variant = data["variants"].get(item["variant_id"], {})
    sold = variant or product
    data["items"][ident] = {
        **{k: v for k, v in item.items() if k != "line_total"}, "id": ident, "order_id": order_id,
        **{k: sold.get(k, "0") for k in ("cost_price", "weight", "length", "width", "height")},
        "brand": product.get("brand", ""), "model": product.get("model", ""),
        "ncm": product.get("ncm", ""),
        "images": list(sold.get("images") or product.get("images") or []),
        "category_id": product.get("category_id", ""),
        "related_categories": list(product.get("related_categories", [])),
    }
    _take_stock(data, item, 1)
    return ident


def store_invoice(data: dict[str, Any], order_id: str, invoice: Mapping[str, Any],
                  stamp: str) -> str:
    """File an invoice of the order (a key already there is filed again, as Tray does)."""
    ident = next_id(data, "invoice")
    data["invoices"][ident] = {"id": ident, "order_id": order_id, **invoice,
                               "created": stamp, "updated": stamp}
    data["orders"][order_id]["invoice_ids"].append(ident)
    return ident


def store_order(data: dict[str, Any], draft: Mapping[str, Any], moment: datetime) -> str:
    """File ``draft`` as a new order placed at ``moment``; returns its id."""
    stamp = moment_text(moment)
    ident = next_id(data, "order")
    code = _code(f"tray-sandbox-order-{ident}")
    method = draft["payment_method_id"]
    subtotal = sum((Decimal(i["line_total"]) for i in draft["items"]), Decimal(0))
    order = {
        "id": ident, "status_id": draft["status_id"], "date": stamp[:10], "hour": stamp[11:],
        "modified": stamp, "customer_id": _store_customer(data, draft, stamp),
        "partial_total": money_text(subtotal), "discount": draft["discount"], "taxes": "0.00",
        "point_sale": draft["point_sale"], "shipment": draft["shipment"],
        "shipment_value": draft["shipment_value"],
        "shipment_integrator": draft["shipment_integrator"],
        "shipment_date": "", "store_note": "", "customer_note": draft["customer_note"],
        "partner_id": "0", "installment": draft["installment"],
        "sending_code": draft["sending_code"], "sending_date": draft["sending_date"],
        "tracking_url": draft["tracking_url"], "payment_method_id": method,
        "payment_method": draft["payment_method_name"],
        "total": draft["total"], "payment_date": draft["payment_date"],
        "estimated_delivery_date": draft["estimated_delivery_date"], "delivery_time": "0",
        "session_id": draft.get("session_id") or code[:26].lower(), "access_code": code[:15],
        "marketplace": None, "ml_order": None, "item_ids": [], "payment_ids": [], "invoice_ids": [],
        "restocked": False,
    }
    data["orders"][ident] = order
    if draft["marketplace"] is not None:
        order["marketplace"] = {**draft["marketplace"], "created": stamp, "updated": stamp}
        if draft["marketplace"].get("marketplace_name") == "Mercado Livre":
            order["ml_order"] = {"id": next_id(data, "ml_order"), "created": stamp}
    order["item_ids"] = [_store_item(data, ident, item) for item in draft["items"]]
    for payment in draft["payments"]:
        payment_id = next_id(data, "payment")
        data["payments"][payment_id] = {"id": payment_id, "order_id": ident, **payment,
                                        "created": stamp, "modified": stamp}
        order["payment_ids"].append(payment_id)
    for invoice in draft["invoices"]:
        store_invoice(data, ident, invoice, stamp)
    return ident


# -- orders as Tray answers them --------------------------------------------------------------


def status_json(ident: str) -> dict[str, str]:
    """An order status with the keys of the OrderStatus block of order_get."""
    name, kind, colour = STATUSES[ident]
    return {"id": ident, "status": name, "description": name.capitalize(), "default": "1",
            "type": kind, "show_backoffice": "1",
            "allow_edit_order": "1" if kind == "open" else "0",
            "show_status_central": "1", "background": colour}


def shipping_json(ident: str, name: str, identifier: str) -> dict[str, str]:
    return {"id": ident, "cod": ident, "name": name, "identifier": identifier,
            "display_name": name, "status": "1", "gateway": "0"}


def invoice_json(invoice: Mapping[str, Any]) -> dict[str, str]:
    keys = ("id", "order_id", "issue_date", "number", "serie", "value", "key", "link",
            "xml_danfe", "created", "updated")
    return {k: invoice[k] for k in keys}


def cfops_json(invoice: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{**c, "order_invoice_id": invoice["id"]} for c in invoice["cfops"]]


def payment_json(payment: Mapping[str, Any]) -> dict[str, str]:
    return {"id": payment["id"], "order_id": payment["order_id"],
            "payment_method_id": payment["payment_method_id"], "method": payment["method"],
            "payment_place": "", "value": payment["value"], "date": payment["date"], "note": "",
            "created": payment["created"], "modified": payment["modified"]}


def address_json(address: Mapping[str, Any]) -> dict[str, str]:
    return {"id": address["id"], "customer_id": address["customer_id"],
            **{k: address[k] for k in ("address", "number", "complement", "neighborhood", "city",
                                        "state", "zip_code", "country", "type")},
            "active": "1", "description": "", "recipient": address["recipient"],
            "type_delivery": "1" if address["type"] == "1" else "0", "not_list": "0"}


def customer_json(data: Mapping[str, Any], customer: Mapping[str, Any], *,
                  complete: bool = False) -> dict[str, Any]:
    """A customer with the keys of customer_get (and, in a complete order, its addresses)."""
    orders = [o for o in data["orders"].values() if o["customer_id"] == customer["id"]]
    last = max((o["date"] for o in orders), default=EMPTY_DATE)
    answer: dict[str, Any] = {
        **{k: customer[k] for k in ("id", "name", "rg", "cpf", "phone", "cellphone", "birth_date",
                                     "gender", "email", "type", "cnpj", "company_name",
                                     "state_inscription", "address", "zip_code", "number",
                                     "complement", "neighborhood", "city", "state", "country",
                                     "created", "modified")},
        "nickname": "", "token": _code(f"customer-{customer['id']}")[:15],
        "total_orders": str(len(orders)), "observation": "", "reseller": "0", "discount": "0.00",
        "blocked": "0", "credit_limit": "0.00", "indicator_id": "0", "profile_customer_id": "1",
        "last_sending_newsletter": EMPTY_DATE, "last_purchase": last, "last_visit": last,
        "last_modification": EMPTY_MOMENT, "newsletter": "0", "terms": EMPTY_MOMENT,
        "registration_date": customer["created"][:10],
        "CustomerAddress": [{"id": a} for a in customer["address_ids"]],
    }
    if complete:
        answer["Extensions"] = {"Profile": {"id": "1", "name": "Padrao"}, "Profiles": [
            {"id": "1", "price_list_id": "0", "name": "Padrao", "approves_registration": "0",
             "show_price": "", "theme_id": "0", "selected": "1"}]}
        answer["CustomerAddresses"] = [{"CustomerAddress": address_json(data["addresses"][a])}
                                       for a in customer["address_ids"]]
    return answer


def _sold_categories(data: Mapping[str, Any], item: Mapping[str, Any]) -> list[dict[str, str]]:
    ids = [item["category_id"], *item["related_categories"]] if item["category_id"] else []
    return [{"id": c, "name": data["categories"][c]["name"],
             "main_category": "1" if c == item["category_id"] else "0"}
            for c in dict.fromkeys(ids) if c in data["categories"]]


def item_json(data: Mapping[str, Any], item: Mapping[str, Any], site: str) -> dict[str, Any]:
    """A complete order's item (ProductsSold of order_complete)."""
    volume = Decimal(item["length"]) * Decimal(item["width"]) * Decimal(item["height"])
    link = f"{site}/{slugify(item['name'])}"
    return {
        "product_kit_id": "0", "product_kit_id_kit": "0", "id_campaign": "0",
        "product_id": item["product_id"], "quantity": item["quantity"], "id": item["id"],
        "order_id": item["order_id"], "name": item["name"], "original_name": item["name"],
        "virtual_product": "0", "ean": item["ean"], "Sku": [dict(a) for a in item["sku"]],
        "price": item["price"], "cost_price": item["cost_price"],
        "original_price": item["original_price"], "weight": item["weight"],
        "weight_cubic": str(int(volume / 6)), "brand": item["brand"], "model": item["model"],
        "reference": item["reference"], "length": item["length"], "width": item["width"],
        "height": item["height"], "variant_id": item["variant_id"], "additional_information": "",
        "text_variant": " - ".join(f"{a['type']}: {a['value']}" for a in item["sku"]),
        "warranty": "", "bought_together_id": "0", "ncm": item["ncm"], "included_items": "",
        "release_date": "", "commissioner_value": "0.00", "comissao": "0.00",
        "ProductSoldImage": [image_json(url) for url in item["images"]],
        "Category": _sold_categories(data, item), "is_giveaway": "", "BoughtTogether": [],
        "url": {"http": link, "https": link}, "Discount": [], "Stock": {"id": "1", "name": "Loja"},
    }


def _marketplace_json(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    market = order["marketplace"]
    if market is None:
        return []
    keys = ("marketplace_name", "marketplace_seller_name", "marketplace_seller_id",
            "marketplace_document", "payment_responsible_document", "marketplace_order_id",
            "marketplace_shipping_id", "marketplace_shipping_type", "marketplace_internal_status",
            "created", "updated")
    return [{"MarketplaceOrder": {"order_id": order["id"], **{k: market.get(k, "") for k in keys}}}]


def _ml_order_json(data: Mapping[str, Any], order: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Mercado Livre's own block, filled as far as the sandbox knows it."""
    ml = order["ml_order"]
    if ml is None:
        return []
    items = [data["items"][i] for i in order["item_ids"]]
    first = items[0] if items else {"name": "", "quantity": "0"}
    market = order["marketplace"] or {}
    return [{"MlOrder": {
        "id": ml["id"], "created": ml["created"], "updated": ml["created"],
        "pedido_id": market.get("marketplace_order_id", ""), "cliente_id": order["customer_id"],
        "codigo": order["access_code"], "item_id": "", "item_quantity": first["quantity"],
        "item_title": first["name"], "user_id": "", "nickname": "", "mercado_envio": "me2",
        "shipment_id": "", "pack_id": "", "status_frete_ml": "", "substatus_frete_ml": "",
        "ml_coleta": "0", "romaneio_id": "0", "invoice_data_id": "", "service_id": "",
        "logistic_type": "", "messages_locked_by": "", "date_delivered": EMPTY_DATE,
        "estimated_delivery_time": order["estimated_delivery_date"],
        "estimated_handling_limit": EMPTY_DATE, "shipping_option_id": "", "pickup_id": "",
        "order_id": order["id"], "ml_collect": "0", "shipping_mode": "me2",
        "shipping_status": "", "shipping_substatus": ""}}]


def _order_fields(order: Mapping[str, Any], site: str) -> dict[str, Any]:
    """The scalar fields every order answer carries."""
    shipped = "1" if order["sending_code"] else "0"
    method = order["payment_method_id"]
    payment_url = f"{site}/loja/pagamento.php?pedido={order['access_code']}"
    return {
        "status": STATUSES[order["status_id"]][0], "id": order["id"], "date": order["date"],
        "hour": order["hour"], "customer_id": order["customer_id"],
        "partial_total": order["partial_total"], "taxes": order["taxes"],
        "discount": order["discount"], "point_sale": order["point_sale"],
        "shipment": order["shipment"], "shipment_value": order["shipment_value"],
        "shipment_date": order["shipment_date"],
        "delivered": "1" if order["status_id"] == DELIVERED else "0", "shipping_cancelled": "",
        "store_note": order["store_note"], "customer_note": order["customer_note"],
        "partner_id": order["partner_id"], "discount_coupon": "", "payment_method_rate": "0.00",
        "installment": order["installment"], "value_1": "0.00",
        "sending_code": order["sending_code"], "sending_date": order["sending_date"],
        "billing_address": "0", "delivery_time": order["delivery_time"],
        "payment_method_id": method, "payment_method": order["payment_method"],
        "payment_form": order["payment_method"], "session_id": order["session_id"],
        "total": order["total"], "payment_date": order["payment_date"],
        "access_code": order["access_code"], "shipment_integrator": order["shipment_integrator"],
        "modified": order["modified"], "printed": "", "interest": "0.00", "id_quotation": "0",
        "estimated_delivery_date": order["estimated_delivery_date"], "is_traceable": shipped,
        "external_code": "", "tracking_url": order["tracking_url"],
        "has_payment": "1" if order["payment_date"] != EMPTY_DATE else "0",
        "has_shipment": shipped, "has_invoice": "1" if order["invoice_ids"] else "0",
        "total_comission_user": "0.00", "total_comission": "0.00",
        "progressive_discount": "0.00", "shipping_progressive_discount": "0.00",
        "coupon": {"code": "", "discount": "0.00"}, "OrderStatus": status_json(order["status_id"]),
        "PickupLocation": [], "cost": "0", "urls": {"payment": payment_url},
        "payment_method_type": PAYMENT_IDS[method][1] if method in PAYMENT_IDS else "",
        "ShippingLabel": {"application": "", "url": ""},
        "payments_notification": {
            "notification": f"{site}/loja/retorno_pagamento.php?pedido={order['access_code']}"},
        "partner_name": "", "MlOrder": [], "MarketplaceOrder": _marketplace_json(order),
    }


def order_json(data: Mapping[str, Any], order: Mapping[str, Any], site: str, *,
               complete: bool = False) -> dict[str, Any]:
    """An order as ``GET /orders/:id`` (and list items) or ``/orders/:id/complete`` answer it."""
    answer = _order_fields(order, site)
    invoices = [data["invoices"][i] for i in order["invoice_ids"]]
    payment_url = answer["urls"]["payment"]
    if not complete:
        delivery = next((a for a in data["customers"][order["customer_id"]]["address_ids"]
                         if data["addresses"][a]["type"] == "1"), "")
        return {**answer, "ProductsSold": [{"id": i} for i in order["item_ids"]],
                "Payment": [{"id": p} for p in order["payment_ids"]],
                "OrderInvoice": [{"id": i["id"], "link": i["link"]} for i in invoices],
                "OrderTransactions": [{"url_payment": payment_url}], "Extensions": [],
                "CustomerAddress": {"id": delivery}}
    return {**answer,
            "Customer": customer_json(data, data["customers"][order["customer_id"]], complete=True),
            "ProductsSold": [{"ProductsSold": item_json(data, data["items"][i], site)}
                             for i in order["item_ids"]],
            "OrderInvoice": [{"OrderInvoice": invoice_json(i), "ProductCfop": cfops_json(i)}
                             for i in invoices],
            "Payment": [{"Payment": payment_json(data["payments"][p])}
                        for p in order["payment_ids"]],
            "MlOrder": _ml_order_json(data, order),
            "OrderTransactions": [{"url_payment": payment_url, "bank_slip": ""}],
            "OrderInvoiceAmount": [], "ExtraTabs": [],
            "PaymentMethodMessage": {"text": "", "text_pag": "", "text_confirm": "",
                                     "confirmation": "0"}}


def payment_option_json(ident: str, name: str, kind: str, total: Decimal) -> dict[str, Any]:
    """A payment option as ``GET /payments/options`` lists it, its plots for ``total``."""
    card = kind == "credit_card"
    plots = {str(n): {"value": money_text(total / n), "interest": "0", "interest_value": "0",
                      "discount_value": "0", "base_value": money_text(total),
                      "order_total": money_text(total)} for n in range(1, 4 if card else 2)}
    return {"id": ident, "integrator_id": "1", "facilitator_id": "", "name": name,
            "image": f"pag_{slugify(name)}.png", "thumbnail": f"pag_peq{slugify(name)}.png",
            "additional": "0", "min_splot": "0", "max_splot": "3" if card else "1",
            "application_value": "1", "integration_code": ident, "facilitator": "0",
            "text": name, "text_pag": name, "finalize_action": "", "card": "1" if card else "0",
            "discount_value": "0.00", "increase_value": "0", "plots": plots, "increase": "0",
            "display_increase": "0", "deactivate": "0", "total_base": money_text(total),
            "tax_value": "0.00", "is_intermediator": "1", "interest_formula": "price",
            "equivalent": [ident]}

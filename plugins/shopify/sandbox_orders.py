"""The Shopify sandbox's orders: placed from a tramo Order, edited, fulfilled, cancelled, paid.

Orders are placed (:func:`build_order`, the buyer's checkout) and edited
(:func:`edit_line`, the merchant's) by the sandbox, not over GraphQL;
fulfilment, tracking, fulfilment events, cancellation and mark-as-paid are
mutations with the catalogue's rules (userErrors before any write, one clock
tick per change). Units move between ``available``, ``committed`` and
``on_hand`` at the default location as Shopify moves them, and the
mutations emit the webhook topics their changes call for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from tramo_shopify.sandbox_catalogue import move_stock
from tramo_shopify.sandbox_profile import MAPPINGS
from tramo_shopify.sandbox_records import (
    CENT,
    DEFAULT_LOCATION,
    Ctx,
    UserErrors,
    bag,
    get,
    gid,
    items_of,
    new_id,
    objects,
    put,
    tick,
)

__all__ = [
    "build_order", "edit_line", "fulfillment_create", "fulfillment_event_create",
    "fulfillment_tracking_info_update", "mailing", "order_cancel", "order_mark_as_paid",
]


def refresh_money(data: Mapping[str, Any], order: dict[str, Any]) -> None:
    """The order's money after a change: current totals from current quantities, what is owed.

    A line's discount is spread over its units; ``totalPriceSet`` stays what
    the buyer was charged and the current total moves with the subtotal.
    """
    lines = items_of(data, order["_lineItems"])
    discount = order["_order_discount"]
    subtotal = sum((line["quantity"] * line["_unit"] - line["_discount"] for line in lines),
                   Decimal(0)) - discount
    current_lines = [(line["currentQuantity"] * line["_unit"],
                      (line["_discount"] * line["currentQuantity"] / line["quantity"]).quantize(CENT))
                     for line in lines]
    current_discount = sum((d for _, d in current_lines), Decimal(0)) + discount
    current_subtotal = max(sum((v - d for v, d in current_lines), Decimal(0)) - discount,
                           Decimal(0))
    current_total = max(order["_total"] + current_subtotal - subtotal, Decimal(0))
    order.update(
        subtotalPriceSet=bag(subtotal), currentSubtotalPriceSet=bag(current_subtotal),
        totalPriceSet=bag(order["_total"]), currentTotalPriceSet=bag(current_total),
        totalShippingPriceSet=bag(order["_freight"]),
        totalDiscountsSet=bag(sum((line["_discount"] for line in lines), Decimal(0)) + discount),
        currentTotalDiscountsSet=bag(current_discount),
        currentSubtotalLineItemsQuantity=sum(line["currentQuantity"] for line in lines))
    paid = order["_paid"]
    settled = order["cancelledAt"] is not None or \
        order["displayFinancialStatus"] in ("VOIDED", "REFUNDED")
    order["totalOutstandingSet"] = bag(Decimal(0) if settled else max(current_total - paid, 0))
    if not settled:
        order["displayFinancialStatus"] = ("PAID" if paid >= current_total else
                                           "PARTIALLY_PAID" if paid > 0 else "PENDING")
    order["fullyPaid"] = paid >= current_total and order["displayFinancialStatus"] == "PAID"


def add_transaction(data: dict[str, Any], order: dict[str, Any], kind: str, amount: Decimal,
                    gateway: str | None, now: datetime) -> None:
    ident, _ = new_id(data, "OrderTransaction")
    put(data, {"id": ident, "kind": kind, "status": "SUCCESS", "gateway": gateway,
               "amountSet": bag(amount), "processedAt": now})
    order["_transactions"].append(ident)
    order["_paid"] += -amount if kind == "REFUND" else amount
    if gateway and gateway not in order["paymentGatewayNames"]:
        order["paymentGatewayNames"].append(gateway)


def tracking_list(given: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """``trackingInfo`` entries from a FulfillmentTrackingInput (``number`` or ``numbers``)."""
    if not given:
        return []
    numbers = list(given.get("numbers") or ())
    if given.get("number") and given["number"] not in numbers:
        numbers.insert(0, given["number"])
    urls = list(given.get("urls") or ())
    if given.get("url") and given["url"] not in urls:
        urls.insert(0, given["url"])
    company = given.get("company")
    if not numbers:
        return [{"company": company, "number": None, "url": urls[0] if urls else None}] \
            if company or urls else []
    return [{"company": company, "number": number, "url": urls[i] if i < len(urls) else None}
            for i, number in enumerate(numbers)]


def fulfillment_status(data: Mapping[str, Any], order: dict[str, Any]) -> None:
    lines = [line for fo in items_of(data, order["_fulfillmentOrders"])
             if fo["status"] != "CANCELLED" for line in items_of(data, fo["_lineItems"])]
    left = sum(line["remainingQuantity"] for line in lines)
    done = any(f["status"] == "SUCCESS" for f in items_of(data, order["_fulfillments"]))
    order["displayFulfillmentStatus"] = ("FULFILLED" if done and left == 0 else
                                         "PARTIALLY_FULFILLED" if done else "UNFULFILLED")


def fulfillment_create(shop: Any, ctx: Ctx, fulfillment: Mapping[str, Any],
                       message: str | None = None) -> dict[str, Any]:
    """Fulfil fulfillment-order lines (all that remain when none are named) with tracking."""
    data, errors = shop.data, UserErrors()
    groups = fulfillment["lineItemsByFulfillmentOrder"]
    if not groups:
        errors.add(["fulfillment", "lineItemsByFulfillmentOrder"],
                   "At least one fulfillment order is required.")
    staged, owners = [], set()
    for i, group in enumerate(groups):
        path = ["fulfillment", "lineItemsByFulfillmentOrder", i]
        fo = get(data, group["fulfillmentOrderId"], "FulfillmentOrder")
        if fo is None:
            errors.add([*path, "fulfillmentOrderId"], "Fulfillment order does not exist.")
            continue
        if fo["status"] not in ("OPEN", "IN_PROGRESS"):
            errors.add([*path, "fulfillmentOrderId"], f"Fulfillment order {fo['id']} has an "
                       f"unfulfillable status= {fo['status'].lower()}.")
            continue
        owners.add(fo["_order"])
        lines = {line["id"]: line for line in items_of(data, fo["_lineItems"])}
        picks = [(line, line["remainingQuantity"]) for line in lines.values()
                 if line["remainingQuantity"] > 0]
        if group.get("fulfillmentOrderLineItems"):
            picks = []
            for j, wanted in enumerate(group["fulfillmentOrderLineItems"]):
                line = lines.get(wanted["id"])
                if line is None or not 0 < wanted["quantity"] <= line["remainingQuantity"]:
                    errors.add([*path, "fulfillmentOrderLineItems", j],
                               "Invalid fulfillment order line item quantity requested.")
                else:
                    picks.append((line, wanted["quantity"]))
        staged.append((fo, picks))
    order = get(data, next(iter(owners))) if len(owners) == 1 else None
    if len(owners) > 1:
        errors.add(["fulfillment"], "All fulfillment orders must belong to the same order.")
    elif order is not None and (order["cancelledAt"] or order.get("_cancelling")):
        errors.add(["fulfillment"], "The order is cancelled.")
    elif not errors and not any(picks for _, picks in staged):
        errors.add(["fulfillment"], "Nothing is left to fulfil.")
    if errors or order is None:
        return {"fulfillment": None, "userErrors": errors}
    now = tick(data)
    ident, _ = new_id(data, "Fulfillment")
    record = put(data, {"id": ident, "name": f"{order['name']}-F{len(order['_fulfillments']) + 1}",
                        "status": "SUCCESS", "displayStatus": "FULFILLED", "createdAt": now,
                        "deliveredAt": None, "trackingInfo": tracking_list(
                            fulfillment.get("trackingInfo")),
                        "_events": [], "_order": order["id"], "_lines": []})
    for fo, picks in staged:
        for line, quantity in picks:
            line["remainingQuantity"] -= quantity
            record["_lines"].append([line["_lineItem"], quantity])
            item = get(data, line["_lineItem"]) or {}
            move_stock(data, get(data, item.get("_variant")), DEFAULT_LOCATION, now,
                       committed=-quantity, on_hand=-quantity)
        fo["status"] = "CLOSED" if all(line["remainingQuantity"] == 0 for line in
                                       items_of(data, fo["_lineItems"])) else "IN_PROGRESS"
    order["_fulfillments"].append(ident)
    fulfillment_status(data, order)
    order["updatedAt"] = now
    if order["displayFulfillmentStatus"] == "FULFILLED":
        shop.emit("orders/fulfilled", order)
    shop.emit("orders/updated", order)
    return {"fulfillment": record, "userErrors": []}


def _fulfillment(data: Mapping[str, Any], ident: str, path: list[str], errors: UserErrors
                 ) -> dict[str, Any] | None:
    found = get(data, ident, "Fulfillment")
    if found is None:
        errors.add(path, "Fulfillment does not exist.")
    elif found["status"] == "CANCELLED":
        errors.add(path, "The fulfillment is cancelled.")
    return found


def fulfillment_tracking_info_update(shop: Any, ctx: Ctx, fulfillmentId: str,
                                     trackingInfoInput: Mapping[str, Any],
                                     notifyCustomer: bool | None = None) -> dict[str, Any]:
    """The fulfillment's tracking info is replaced."""
    data, errors = shop.data, UserErrors()
    found = _fulfillment(data, fulfillmentId, ["fulfillmentId"], errors)
    if errors or found is None:
        return {"fulfillment": None, "userErrors": errors}
    tracking = tracking_list(trackingInfoInput)
    if tracking != found["trackingInfo"]:
        order = get(data, found["_order"]) or {}
        order["updatedAt"] = tick(data)
        found["trackingInfo"] = tracking
        shop.emit("orders/updated", order)
    return {"fulfillment": found, "userErrors": []}


def fulfillment_event_create(shop: Any, ctx: Ctx, fulfillmentEvent: Mapping[str, Any]
                             ) -> dict[str, Any]:
    """An event; the fulfillment shows its status (DELIVERED also stamps deliveredAt)."""
    data, errors = shop.data, UserErrors()
    found = _fulfillment(data, fulfillmentEvent["fulfillmentId"],
                         ["fulfillmentEvent", "fulfillmentId"], errors)
    if errors or found is None:
        return {"fulfillmentEvent": None, "userErrors": errors}
    now = tick(data)
    happened = fulfillmentEvent.get("happenedAt") or now
    ident, _ = new_id(data, "FulfillmentEvent")
    event = put(data, {"id": ident, "status": fulfillmentEvent["status"], "happenedAt": happened,
                       "message": fulfillmentEvent.get("message"), "createdAt": now})
    found["_events"].append(ident)
    found["displayStatus"] = fulfillmentEvent["status"]
    if fulfillmentEvent["status"] == "DELIVERED":
        found["deliveredAt"] = happened
    order = get(data, found["_order"]) or {}
    order["updatedAt"] = now
    shop.emit("orders/updated", order)
    return {"fulfillmentEvent": event, "userErrors": []}


def order_cancel(shop: Any, ctx: Ctx, orderId: str, reason: str, restock: bool,
                 refundMethod: Mapping[str, Any] | None = None,
                 notifyCustomer: bool | None = None, staffNote: str | None = None
                 ) -> dict[str, Any]:
    """Cancel asynchronously: a Job now, the cancellation ``job_seconds`` later.

    Codes (``orderCancelUserErrors``): NOT_FOUND, ORDER_ALREADY_CANCELLED
    (also while a cancellation is pending), INVALID (fulfilled, staff note too long).
    """
    data, errors = shop.data, UserErrors()
    order = get(data, orderId, "Order")
    if order is None:
        errors.add(["orderId"], "Order does not exist.", "NOT_FOUND")
    elif order["cancelledAt"] is not None or order.get("_cancelling"):
        errors.add(["orderId"], "Order has already been cancelled.", "ORDER_ALREADY_CANCELLED")
    elif any(f["status"] == "SUCCESS" for f in items_of(data, order["_fulfillments"])):
        errors.add(["orderId"], "Cannot cancel an order that has fulfillments", "INVALID")
    if staffNote is not None and len(staffNote) > 255:
        errors.add(["staffNote"], "Staff note is too long (maximum is 255 characters)", "INVALID")
    if errors or order is None:
        return {"job": None, "orderCancelUserErrors": errors, "userErrors": []}
    job = put(data, {"id": gid("Job", shop.uuid()), "done": False})
    order["_cancelling"] = True
    refund = bool((refundMethod or {}).get("originalPaymentMethodsRefund"))

    def run() -> None:
        apply_cancel(shop, order, reason, restock, refund, staffNote)
        job["done"] = True

    shop.later(shop.job_seconds, run)
    return {"job": job, "orderCancelUserErrors": [], "userErrors": []}


def apply_cancel(shop: Any, order: dict[str, Any], reason: str, restock: bool, refund: bool,
                 note: str | None) -> None:
    """What a cancellation does: closed, fulfillment orders cancelled, money back, units back."""
    data = shop.data
    now = tick(data)
    order.pop("_cancelling", None)
    for line in items_of(data, order["_lineItems"]):
        left = sum(fl["remainingQuantity"] for fo in items_of(data, order["_fulfillmentOrders"])
                   for fl in items_of(data, fo["_lineItems"]) if fl["_lineItem"] == line["id"])
        variant = get(data, line.get("_variant"))
        if restock:
            move_stock(data, variant, DEFAULT_LOCATION, now, available=left, committed=-left)
        else:
            move_stock(data, variant, DEFAULT_LOCATION, now, committed=-left, on_hand=-left)
    for fo in items_of(data, order["_fulfillmentOrders"]):
        if fo["status"] in ("OPEN", "IN_PROGRESS", "ON_HOLD", "SCHEDULED"):
            fo["status"] = "CANCELLED"
    paid = order["_paid"]
    if paid > 0 and refund:
        add_transaction(data, order, "REFUND", paid, (order["paymentGatewayNames"] or [None])[0],
                        now)
    order.update(cancelledAt=now, cancelReason=reason, closed=True, closedAt=now, updatedAt=now,
                 displayFinancialStatus="REFUNDED" if paid > 0 and refund else "VOIDED",
                 _staffNote=note)
    refresh_money(data, order)
    shop.emit("orders/cancelled", order)
    shop.emit("orders/updated", order)


def order_mark_as_paid(shop: Any, ctx: Ctx, input: Mapping[str, Any]) -> dict[str, Any]:
    """A SALE for what is outstanding; refused for a paid or cancelled order."""
    data, errors = shop.data, UserErrors()
    order = get(data, input["id"], "Order")
    if order is None:
        errors.add(["id"], "Order does not exist")
    elif order["displayFinancialStatus"] == "PAID" or order["cancelledAt"] is not None or \
            order.get("_cancelling") or order["totalOutstandingSet"]["shopMoney"]["amount"] <= 0:
        errors.add(["id"], "Order cannot be marked as paid.")
    if errors or order is None:
        return {"order": None, "userErrors": errors}
    now = tick(data)
    add_transaction(data, order, "SALE", order["totalOutstandingSet"]["shopMoney"]["amount"],
                    "manual", now)
    order["updatedAt"] = now
    refresh_money(data, order)
    shop.emit("orders/paid", order)
    shop.emit("orders/updated", order)
    return {"order": order, "userErrors": []}


COUNTRIES = {"BR": "Brazil", "US": "United States", "PT": "Portugal", "AR": "Argentina",
             "DE": "Germany", "JP": "Japan"}


def mailing(address: Any, company: str | None) -> dict[str, Any] | None:
    """A tramo Address as Shopify's MailingAddress.

    ``address1`` is ``"<street>, <number>"``; ``address2`` is the complement,
    or ``"<complement> - <district>"`` when there is a district (``" - <district>"``
    without a complement); the recipient is ``name``, split at its first space
    into first and last names; ``province`` and ``provinceCode`` are the UF;
    ``company`` is the buyer's name when the buyer is a company.
    """
    if address is None:
        return None
    first, _, last = (address.recipient or "").partition(" ")
    second = address.complement
    if address.district:
        second = f"{address.complement or ''} - {address.district}"
    return {"name": address.recipient, "firstName": first or None, "lastName": last or None,
            "company": company, "address1": f"{address.street}, {address.number}",
            "address2": second, "city": address.city, "province": address.state,
            "provinceCode": address.state, "zip": address.postal_code,
            "country": COUNTRIES.get(address.country, address.country),
            "countryCodeV2": address.country, "phone": address.phone}


def _known(kind: str, value: str | None, otherwise: str) -> str:
    return value if value in MAPPINGS[kind] else otherwise


def variant_by_sku(data: Mapping[str, Any], sku: str) -> dict[str, Any] | None:
    return next((v for v in objects(data, "ProductVariant") if v["sku"] == sku), None)


def build_order(data: dict[str, Any], order: Any, now: datetime) -> dict[str, Any]:
    """A Shopify order from a tramo Order, placed now (the buyer's view of the checkout).

    Lines link the variant sold under their SKU (none: ``variant`` null);
    the order's own discount adds to the lines' in the discount totals;
    one SALE per payment; the CPF or CNPJ in the ``cpf_cnpj`` custom
    attribute. The shipping method (the line's title and code), a payment's
    gateway and the channel (``sourceName``) are the order's own when the
    host's tables (:data:`MAPPINGS`) know them, else "Frete", "manual" and
    "web", as a store offers only what it has. Units leave ``available`` for
    ``committed`` at the default location, as a Shopify order takes them.
    """
    ident, n = new_id(data, "Order")
    data["order_number"] += 1
    buyer = order.customer
    customer_id, _ = new_id(data, "Customer")
    first, _, last = buyer.name.partition(" ")
    phone = buyer.phones[0] if buyer.phones else None
    put(data, {"id": customer_id, "firstName": first, "lastName": last or None,
               "displayName": buyer.name, "email": buyer.email, "phone": phone})
    company = buyer.name if buyer.kind.value == "company" else None
    lines, fo_lines = [], []
    fo_id, _ = new_id(data, "FulfillmentOrder")
    for item in order.items:
        variant = variant_by_sku(data, item.sku)
        line_id, _ = new_id(data, "LineItem")
        put(data, {
            "id": line_id, "name": item.name, "title": item.name, "sku": item.sku,
            "variantTitle": variant["title"] if variant else None, "quantity": item.quantity,
            "currentQuantity": item.quantity, "originalUnitPriceSet": bag(item.unit_price),
            "discountedUnitPriceSet": bag(item.unit_price - item.discount / item.quantity),
            "totalDiscountSet": bag(item.discount), "customAttributes": [],
            "_variant": variant["id"] if variant else None,
            "_product": variant["_product"] if variant else None,
            "_unit": item.unit_price, "_discount": item.discount, "_order": ident})
        move_stock(data, variant, DEFAULT_LOCATION, now, available=-item.quantity,
                   committed=item.quantity)
        lines.append(line_id)
        fo_line, _ = new_id(data, "FulfillmentOrderLineItem")
        put(data, {"id": fo_line, "totalQuantity": item.quantity,
                   "remainingQuantity": item.quantity, "_lineItem": line_id})
        fo_lines.append(fo_line)
    put(data, {"id": fo_id, "status": "OPEN", "_lineItems": fo_lines, "_order": ident})
    shipping_lines = []
    if order.shipping is not None:
        shipping_id, _ = new_id(data, "ShippingLine")
        method = _known("shipping", order.shipping.platform_method, "Frete")
        put(data, {"id": shipping_id, "title": method, "code": method, "source": "shopify",
                   "carrierIdentifier": None, "originalPriceSet": bag(order.shipping.freight),
                   "discountedPriceSet": bag(order.shipping.freight)})
        shipping_lines.append(shipping_id)
    document = buyer.cpf or buyer.cnpj
    channel = _known("channel", order.sales_channel.platform_channel
                     if order.sales_channel else None, "web")
    record = put(data, {
        "id": ident, "legacyResourceId": n, "name": f"#{data['order_number']}",
        "createdAt": now, "updatedAt": now, "processedAt": now, "cancelledAt": None,
        "cancelReason": None, "closed": False, "closedAt": None, "test": False,
        "email": buyer.email, "phone": phone, "note": order.notes, "tags": [],
        "sourceName": channel, "currencyCode": "BRL",
        "displayFinancialStatus": "PENDING", "displayFulfillmentStatus": "UNFULFILLED",
        "fullyPaid": False, "edited": False, "paymentGatewayNames": [],
        "customAttributes": [{"key": "cpf_cnpj", "value": document}] if document else [],
        "_customer": customer_id, "billingAddress": mailing(order.billing_address, company),
        "shippingAddress": mailing(order.delivery_address, company),
        "_shippingLines": shipping_lines, "_lineItems": lines, "_fulfillmentOrders": [fo_id],
        "_fulfillments": [], "_transactions": [], "_metafields": {},
        "_order_discount": order.discount, "_total": order.total, "_paid": Decimal(0),
        "_freight": order.freight})
    for payment in order.payments:
        add_transaction(data, record, "SALE", payment.value,
                        _known("payment", payment.platform_method, "manual"), now)
    refresh_money(data, record)
    return record


def edit_line(data: dict[str, Any], order: dict[str, Any], sku: str, quantity: int,
              now: datetime) -> None:
    """A merchant's edit: the line's current quantity, the fulfillment order and stock follow."""
    line = next(x for x in items_of(data, order["_lineItems"]) if x["sku"] == sku)
    delta = quantity - line["currentQuantity"]
    line["currentQuantity"] = quantity
    for fo in items_of(data, order["_fulfillmentOrders"]):
        for fo_line in items_of(data, fo["_lineItems"]):
            if fo_line["_lineItem"] == line["id"]:
                done = fo_line["totalQuantity"] - fo_line["remainingQuantity"]
                fo_line.update(totalQuantity=quantity, remainingQuantity=max(quantity - done, 0))
    move_stock(data, get(data, line.get("_variant")), DEFAULT_LOCATION, now, available=-delta,
               committed=delta)
    order.update(edited=True, updatedAt=now)
    refresh_money(data, order)

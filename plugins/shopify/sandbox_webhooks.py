"""The Shopify sandbox's webhooks: subscriptions, and signed deliveries from a background thread.

An order event (``orders/create``, ``orders/updated``, ...) is delivered to
every subscription of its topic as Shopify does (shopify.md §8): a POST whose
body is the order in the REST Admin API's JSON shape (snake_case, ids as
numbers, money as text, times in the shop's zone), signed with
``X-Shopify-Hmac-Sha256`` = base64 of HMAC-SHA256 of the exact body bytes
keyed with the app's client secret. A delivery that fails (no answer, or not
2xx) is retried with the SAME ``X-Shopify-Webhook-Id``: those are the
duplicates a receiver must drop. Deliveries never block an API answer; they
go out in order from one worker thread, and only to loopback addresses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx

from tramo_shopify.sandbox_records import (
    SHOP_TZ,
    UserErrors,
    gid_number,
    items_of,
    new_id,
    put,
    tick,
)

__all__ = ["TOPICS", "Delivery", "WebhookHub", "rest_order", "signature",
           "webhook_subscription_create"]

#: GraphQL enum -> the topic as headers and REST name it.
TOPICS = {"ORDERS_CREATE": "orders/create", "ORDERS_UPDATED": "orders/updated",
          "ORDERS_EDITED": "orders/edited", "ORDERS_CANCELLED": "orders/cancelled",
          "ORDERS_FULFILLED": "orders/fulfilled", "ORDERS_PAID": "orders/paid",
          "BULK_OPERATIONS_FINISH": "bulk_operations/finish"}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def signature(secret: str, body: bytes) -> str:
    """``X-Shopify-Hmac-Sha256``: base64 of HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def topic_name(topic: str) -> str:
    """``orders/create`` from either form (``ORDERS_CREATE`` too); ValueError when unknown."""
    if topic in TOPICS:
        return TOPICS[topic]
    if topic in TOPICS.values():
        return topic
    raise ValueError(f"unknown webhook topic {topic!r}")


# -- the REST shape of an order -----------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(SHOP_TZ).isoformat(timespec="seconds")


def _money(amount: Any) -> str:
    return str(Decimal(str(amount)).quantize(Decimal("0.01")))


def _set(bag: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if bag is None:
        return None
    return {side: {"amount": _money(bag[key]["amount"]), "currency_code": bag[key]["currencyCode"]}
            for side, key in (("shop_money", "shopMoney"), ("presentment_money", "presentmentMoney"))}


def _amount(bag: Mapping[str, Any]) -> str:
    return _money(bag["shopMoney"]["amount"])


def _address(address: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {"first_name": address["firstName"], "last_name": address["lastName"],
            "name": address["name"], "company": address["company"],
            "address1": address["address1"], "address2": address["address2"],
            "city": address["city"], "province": address["province"],
            "province_code": address["provinceCode"], "zip": address["zip"],
            "country": address["country"], "country_code": address["countryCodeV2"],
            "phone": address["phone"]}


def rest_order(data: Mapping[str, Any], order: Mapping[str, Any]) -> dict[str, Any]:
    """The order as the REST Admin API (and so a webhook) shows it."""
    lines = items_of(data, order["_lineItems"])
    customer = items_of(data, [order["_customer"]] if order.get("_customer") else [])
    fulfillments = items_of(data, order["_fulfillments"])
    status = order["displayFulfillmentStatus"]
    return {
        "id": gid_number(order["id"]), "admin_graphql_api_id": order["id"],
        "name": order["name"], "order_number": int(order["name"].lstrip("#")),
        "email": order["email"], "phone": order["phone"],
        "created_at": _time(order["createdAt"]), "updated_at": _time(order["updatedAt"]),
        "processed_at": _time(order["processedAt"]), "cancelled_at": _time(order["cancelledAt"]),
        "closed_at": _time(order.get("closedAt")),
        "cancel_reason": order["cancelReason"].lower() if order["cancelReason"] else None,
        "financial_status": (order["displayFinancialStatus"] or "").lower() or None,
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}
        .get(status),
        "currency": order["currencyCode"], "presentment_currency": order["currencyCode"],
        "total_price": _amount(order["totalPriceSet"]),
        "total_price_set": _set(order["totalPriceSet"]),
        "subtotal_price": _amount(order["subtotalPriceSet"]),
        "current_total_price": _amount(order["currentTotalPriceSet"]),
        "current_total_price_set": _set(order["currentTotalPriceSet"]),
        "current_subtotal_price": _amount(order["currentSubtotalPriceSet"]),
        "total_discounts": _amount(order["totalDiscountsSet"]),
        "current_total_discounts": _amount(order["currentTotalDiscountsSet"]),
        "total_outstanding": _amount(order["totalOutstandingSet"]),
        "total_shipping_price_set": _set(order["totalShippingPriceSet"]),
        "total_tax": "0.00", "taxes_included": False, "test": order["test"],
        "note": order["note"], "tags": ", ".join(order["tags"]),
        "note_attributes": [{"name": a["key"], "value": a["value"]}
                            for a in order["customAttributes"]],
        "payment_gateway_names": list(order["paymentGatewayNames"]),
        "source_name": order["sourceName"],
        "customer": None if not customer else {
            "id": gid_number(customer[0]["id"]), "admin_graphql_api_id": customer[0]["id"],
            "first_name": customer[0]["firstName"], "last_name": customer[0]["lastName"],
            "email": customer[0]["email"], "phone": customer[0]["phone"]},
        "billing_address": _address(order["billingAddress"]),
        "shipping_address": _address(order["shippingAddress"]),
        "line_items": [{
            "id": gid_number(line["id"]), "admin_graphql_api_id": line["id"],
            "sku": line["sku"], "title": line["title"], "name": line["name"],
            "variant_title": line["variantTitle"], "quantity": line["quantity"],
            "current_quantity": line["currentQuantity"],
            "price": _amount(line["originalUnitPriceSet"]),
            "price_set": _set(line["originalUnitPriceSet"]),
            "total_discount": _amount(line["totalDiscountSet"]),
            "variant_id": gid_number(line.get("_variant")),
            "product_id": gid_number(line.get("_product"))} for line in lines],
        "shipping_lines": [{
            "id": gid_number(s["id"]), "title": s["title"], "code": s["code"],
            "source": s["source"], "carrier_identifier": s["carrierIdentifier"],
            "price": _amount(s["originalPriceSet"]),
            "discounted_price": _amount(s["discountedPriceSet"])}
            for s in items_of(data, order["_shippingLines"])],
        "fulfillments": [{
            "id": gid_number(f["id"]), "admin_graphql_api_id": f["id"], "name": f["name"],
            "status": f["status"].lower(), "created_at": _time(f["createdAt"]),
            "shipment_status": (f["displayStatus"] or "").lower() or None,
            "tracking_company": (f["trackingInfo"] or [{}])[0].get("company"),
            "tracking_number": (f["trackingInfo"] or [{}])[0].get("number"),
            "tracking_numbers": [t["number"] for t in f["trackingInfo"] if t["number"]],
            "tracking_url": (f["trackingInfo"] or [{}])[0].get("url"),
            "tracking_urls": [t["url"] for t in f["trackingInfo"] if t["url"]]}
            for f in fulfillments],
        "refunds": [],
    }


# -- deliveries -----------------------------------------------------------------------------


@attrs.frozen
class Delivery:
    """One attempt to deliver a webhook (``status`` None when no answer came)."""

    topic: str
    uri: str
    webhook_id: str
    status: int | None
    attempt: int
    error: str | None = None


@attrs.frozen
class _Message:
    topic: str
    uri: str
    webhook_id: str
    body: bytes
    headers: dict[str, str]
    generation: int
    once: bool = False


class WebhookHub:
    """The queue of webhooks to send and the worker that sends them, retrying failures.

    :param secret: the app's client secret (the HMAC key).
    :param retries: attempts after the first for a failed delivery, same webhook id.
    :param backoff: real seconds before a retry (times the attempt number).
    """

    def __init__(self, secret: str, domain: str, *, retries: int = 3, backoff: float = 0.02,
                 timeout: float = 5.0) -> None:
        self.secret, self.domain = secret, domain
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self.deliveries: list[Delivery] = []
        self._sent: dict[str, _Message] = {}
        self._queue: queue.Queue[_Message | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._generation = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._work, name="sandbox-shopify-webhooks",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        self.reset()

    def reset(self) -> None:
        """Forget every delivery; queued ones are dropped (they belong to the old shop)."""
        with self._idle:
            self._generation += 1
            self.deliveries = []
            self._sent = {}
            while True:
                try:
                    if self._queue.get_nowait() is not None:
                        self._pending -= 1
                except queue.Empty:
                    break
            self._idle.notify_all()

    def send(self, topic: str, uri: str, version: str, payload: Mapping[str, Any],
             triggered_at: datetime, event_id: str) -> str:
        """Queue one delivery; returns its webhook id."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        webhook_id = str(uuid.uuid4())
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                   "X-Shopify-Hmac-Sha256": signature(self.secret, body),
                   "X-Shopify-Shop-Domain": self.domain, "X-Shopify-API-Version": version,
                   "X-Shopify-Webhook-Id": webhook_id,
                   "X-Shopify-Triggered-At": triggered_at.isoformat().replace("+00:00", "Z"),
                   "X-Shopify-Event-Id": event_id}
        with self._idle:
            message = _Message(topic, uri, webhook_id, body, headers, self._generation)
            self._sent[webhook_id] = message
            self._pending += 1
        self._queue.put(message)
        return webhook_id

    def redeliver(self, webhook_id: str) -> None:
        """Send a delivery once more: same id, same body (a duplicate, for receivers' tests)."""
        with self._idle:
            message = attrs.evolve(self._sent[webhook_id], generation=self._generation, once=True)
            self._pending += 1
        self._queue.put(message)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued delivery (and its retries) is done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _work(self) -> None:
        with httpx.Client(timeout=self.timeout, trust_env=False) as client:
            while not self._stop.is_set():
                message = self._queue.get()
                if message is None:
                    continue
                try:
                    self._deliver(client, message)
                finally:
                    with self._idle:
                        self._pending = max(self._pending - 1, 0)
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, message: _Message) -> None:
        for attempt in range(1, 2 if message.once else self.retries + 2):
            if self._stop.is_set() or message.generation != self._generation:
                return
            status, error = self._attempt(client, message.uri, message.body, message.headers)
            with self._idle:
                if message.generation != self._generation:
                    return
                self.deliveries.append(Delivery(message.topic, message.uri, message.webhook_id,
                                                status, attempt, error))
            if status is not None and 200 <= status < 300:
                return
            self._stop.wait(self.backoff * attempt)

    def _attempt(self, client: httpx.Client, uri: str, body: bytes,
                 headers: dict[str, str]) -> tuple[int | None, str | None]:
        if (urlsplit(uri).hostname or "") not in LOOPBACK:
            return None, "not sent: the sandbox delivers to loopback addresses only"
        try:
            return client.post(uri, content=body, headers=headers).status_code, None
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"


def subscribe(data: dict[str, Any], topic: str, uri: str, version: str,
              fmt: str = "JSON") -> dict[str, Any]:
    """Store a subscription (``topic`` in either form)."""
    enum = next(k for k, v in TOPICS.items() if v == topic_name(topic))
    ident, _ = new_id(data, "WebhookSubscription")
    return put(data, {"id": ident, "topic": enum, "uri": uri, "format": fmt,
                      "createdAt": tick(data), "_version": version})


def webhook_subscription_create(shop: Any, ctx: Any, topic: str,
                                webhookSubscription: Mapping[str, Any]) -> dict[str, Any]:
    """A subscription to an http(s) address; the same topic and address twice is refused."""
    errors = UserErrors()
    uri = webhookSubscription["uri"]
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.add(["webhookSubscription", "callbackUrl"], "Address is invalid")
    elif any(s["topic"] == topic and s["uri"] == uri
             for s in shop.data["objects"].get("WebhookSubscription", {}).values()):
        errors.add(["webhookSubscription", "callbackUrl"],
                   "Address for this topic has already been taken")
    if errors:
        return {"webhookSubscription": None, "userErrors": errors}
    record = subscribe(shop.data, topic, uri, ctx.version, webhookSubscription.get("format") or "JSON")
    return {"webhookSubscription": record, "userErrors": []}

"""Orders: read incrementally or by id, and what the ERP sends back about them.

Reads ask for orders changed at or after the checkpoint, sorted by change
time, cursor by cursor; a first read (no checkpoint) goes through a bulk
operation. Write-backs read the order's state first (one query) and act
only on what is missing, so each is idempotent: a tracking number already on
a fulfillment, an invoice key already in the metafields, a cancelled order,
a delivered fulfillment are ``UNCHANGED``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import tramo
from tramo.jobs import follow
from tramo.scalars import moment, text
from tramo.webhooks import header, signature_matches
from tramo.writes import write_each

from tramo_shopify import bulk, wire
from tramo_shopify import operations as ops
from tramo_shopify.client import Shopify, api

Json = dict[str, Any]
#: orders per GraphQL page and per ``nodes`` read (each costs about 110 points as requested)
ORDER_PAGE_MAX = 8
#: the order cancel reasons Shopify knows; any other text is OTHER, the text kept as staff note
CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")
TOPIC_ENUMS = {"orders/create": "ORDERS_CREATE", "orders/updated": "ORDERS_UPDATED",
               "orders/edited": "ORDERS_EDITED", "orders/cancelled": "ORDERS_CANCELLED",
               "orders/fulfilled": "ORDERS_FULFILLED", "orders/paid": "ORDERS_PAID"}


# -- reads -----------------------------------------------------------------------------------


def _convert(shopify: Shopify, node: Mapping[str, Any]) -> tramo.Order | tramo.Held:
    settings = shopify.connection.settings
    ident = text(node.get("id"))
    try:
        items = node.get("lineItems") or {}
        if not isinstance(items, Mapping):
            raise tramo.ValidationError("Order.lineItems", items, "is not a connection of lines")
        lines = list(items.get("nodes") or ())
        info = items.get("pageInfo") or {}
        if info.get("hasNextPage"):  # a page holds an order's first 10 lines; the rest are asked for
            lines.extend(shopify.pages("ORDER_LINES", "order.lineItems", {"id": ident}, first=50,
                                       after=info["endCursor"]))
        return wire.order_from_wire(node, shopify.connection.timezone, settings["document_attribute"], lines)
    except tramo.ValidationError as exc:
        return tramo.Held("order", exc, remote_id=ident or None, raw=dict(node))


def _page_size(connection: tramo.Connection) -> int:
    return max(1, min(int(connection.settings["page_size"]), ORDER_PAGE_MAX))


def receive_orders(connection: tramo.Connection, since: Any) -> Iterator[tramo.Order | tramo.Held]:
    shopify = api(connection)
    settings = connection.settings
    start = since if since is None or isinstance(since, datetime) else moment(since, connection.timezone, "since")
    if start is None and settings["bulk_import"]:
        records = bulk.run(shopify, ops.bulk_orders(settings["invoice_namespace"], "status:open"))
    else:
        query = wire.orders_query(start, "" if start is not None else "status:open")
        records = shopify.pages("ORDERS", "orders", {"query": query,
                                                     "invoiceNamespace": settings["invoice_namespace"]},
                                first=_page_size(connection))
    for node in records:
        yield _convert(shopify, node)


def get_orders(connection: tramo.Connection, ids: Sequence[str]) -> Iterator[tramo.Order | tramo.Held]:
    shopify = api(connection)
    wanted = [wire.gid("Order", i) for i in ids]
    for start in range(0, len(wanted), ORDER_PAGE_MAX):
        chunk = wanted[start:start + ORDER_PAGE_MAX]
        data = shopify.run("ORDERS_BY_ID", {"ids": chunk,
                                            "invoiceNamespace": connection.settings["invoice_namespace"]})
        for node in data.get("nodes") or ():
            if node:
                yield _convert(shopify, node)


def order_state(shopify: Shopify, order_id: str) -> Json:
    order = shopify.run("ORDER_STATE", {"id": wire.gid("Order", order_id), "invoiceNamespace":
                                        shopify.connection.settings["invoice_namespace"]}).get("order")
    if not order:
        raise tramo.PlatformError(f"no order {order_id} in this shop", code="not_found")
    return order


def _open_orders(state: Mapping[str, Any]) -> list[str]:
    return [fo["id"] for fo in (state.get("fulfillmentOrders") or {}).get("nodes") or ()
            if fo.get("status") in ("OPEN", "IN_PROGRESS")]


def _live(state: Mapping[str, Any]) -> list[Json]:
    return [f for f in state.get("fulfillments") or () if f.get("status") not in ("CANCELLED", "ERROR", "FAILURE")]


# -- write-backs ---------------------------------------------------------------------------------


def _fulfil(shopify: Shopify, state: Mapping[str, Any], tracking: Json | None) -> Json:
    """Fulfil every open fulfillment order of the order, with ``tracking`` when given."""
    fulfillment: Json = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": i} for i in _open_orders(state)],
                         "notifyCustomer": bool(shopify.connection.settings["notify_customer"])}
    if tracking:
        fulfillment["trackingInfo"] = tracking
    return shopify.mutate("FULFILLMENT_CREATE", "fulfillmentCreate", {"fulfillment": fulfillment})["fulfillment"]


def send_tracking(connection: tramo.Connection, trackings: Sequence[tramo.Tracking]) -> list[tramo.WriteResult]:
    shopify = api(connection)

    def send(tracking: tramo.Tracking, info: Json) -> tramo.WriteResult:
        state = order_state(shopify, tracking.order_id)
        live = _live(state)
        for fulfillment in live:
            if any(t.get("number") == tracking.code for t in fulfillment.get("trackingInfo") or ()):
                return tramo.WriteResult(tracking.code, tramo.Outcome.UNCHANGED, remote_id=fulfillment["id"])
        if state.get("cancelledAt"):
            raise tramo.PlatformError(f"order {tracking.order_id} is cancelled", code="cancelled")
        if _open_orders(state):
            made = _fulfil(shopify, state, info)
            return tramo.WriteResult(tracking.code, tramo.Outcome.CREATED, remote_id=made["id"])
        if not live:
            raise tramo.PlatformError(f"order {tracking.order_id} has nothing left to fulfil", code="closed")
        updated = shopify.mutate("TRACKING_UPDATE", "fulfillmentTrackingInfoUpdate", {
            "fulfillmentId": live[-1]["id"], "tracking": info,
            "notify": bool(connection.settings["notify_customer"])}, safe=True)
        return tramo.WriteResult(tracking.code, tramo.Outcome.UPDATED, remote_id=updated["fulfillment"]["id"])

    return write_each(trackings, lambda t: t.code, wire.tracking_input, send)


def send_invoice(connection: tramo.Connection, invoices: Sequence[tramo.Invoice]) -> list[tramo.WriteResult]:
    """NF-e access data as order metafields in ``invoice_namespace`` (Shopify has no invoice)."""
    shopify = api(connection)
    namespace = connection.settings["invoice_namespace"]

    def send(invoice: tramo.Invoice, metafields: list[Json]) -> tramo.WriteResult:
        state = order_state(shopify, invoice.order_id)
        held = {m["key"]: m["value"] for m in (state.get("invoice") or {}).get("nodes") or ()}
        if held.get("access_key") == invoice.access_key:
            return tramo.WriteResult(invoice.access_key, tramo.Outcome.UNCHANGED, remote_id=state["id"])
        # metafieldsSet sets values: repeating it cannot add a second copy.
        shopify.mutate("METAFIELDS_SET", "metafieldsSet", {"metafields": metafields}, safe=True)
        outcome = tramo.Outcome.UPDATED if held.get("access_key") else tramo.Outcome.CREATED
        return tramo.WriteResult(invoice.access_key, outcome, remote_id=state["id"])

    return write_each(invoices, lambda i: i.access_key,
                      lambda i: wire.invoice_metafields(i, wire.gid("Order", i.order_id), namespace), send)


def _cancel_arguments(cancellation: tramo.Cancellation, notify: bool) -> Json:
    reason = cancellation.reason.strip().upper()
    return {"orderId": wire.gid("Order", cancellation.order_id),
            "reason": reason if reason in CANCEL_REASONS else "OTHER",
            "restock": cancellation.restock,
            "refundMethod": {"originalPaymentMethodsRefund": cancellation.refund},
            "notifyCustomer": notify, "staffNote": cancellation.reason[:255]}


def send_cancellation(connection: tramo.Connection,
                      cancellations: Sequence[tramo.Cancellation]) -> list[tramo.WriteResult]:
    """orderCancel for each, then every job followed together until done (Shopify cancels later)."""
    shopify = api(connection)
    jobs: dict[str, str] = {}
    notify = bool(connection.settings["notify_customer"])

    def send(cancellation: tramo.Cancellation, arguments: Json) -> tramo.WriteResult:
        state = order_state(shopify, cancellation.order_id)
        if state.get("cancelledAt"):
            return tramo.WriteResult(cancellation.order_id, tramo.Outcome.UNCHANGED, remote_id=state["id"])
        payload = shopify.mutate("ORDER_CANCEL", "orderCancel", arguments, errors="orderCancelUserErrors")
        job = payload.get("job") or {}
        if not job.get("done"):
            jobs[cancellation.order_id] = job["id"]
        return tramo.WriteResult(cancellation.order_id, tramo.Outcome.UPDATED, remote_id=state["id"])

    results = write_each(cancellations, lambda c: c.order_id,
                         lambda c: _cancel_arguments(c, notify), send)
    if not jobs:
        return results

    def look(pending: Mapping[str, str]) -> dict[str, bool]:
        done = {}
        for order, job in pending.items():
            if (shopify.run("JOB", {"id": job}).get("job") or {}).get("done"):
                done[order] = True
        return done

    finished = follow(jobs, look, within=float(connection.settings["job_wait_seconds"]),
                      on_wait=connection.on_wait, what="cancellation")
    final = []
    for result in results:
        if result.local_id in jobs and result.local_id not in finished:
            result = tramo.WriteResult.failed(result.local_id, tramo.TransientError(
                f"Shopify took the cancellation of {result.local_id} but its job has not finished; "
                f"send it again later (a cancelled order answers UNCHANGED)"))
        final.append(result)
    return final


def mark_delivered(connection: tramo.Connection, deliveries: Sequence[tramo.Delivery]) -> list[tramo.WriteResult]:
    """A DELIVERED event on each of the order's fulfillments (fulfilling it first if need be)."""
    shopify = api(connection)

    def send(delivery: tramo.Delivery, event: Json) -> tramo.WriteResult:
        state = order_state(shopify, delivery.order_id)
        if state.get("cancelledAt"):
            raise tramo.PlatformError(f"order {delivery.order_id} is cancelled", code="cancelled")
        if _open_orders(state):
            _fulfil(shopify, state, None)
            state = order_state(shopify, delivery.order_id)
        waiting = [f for f in _live(state) if f.get("displayStatus") != "DELIVERED"]
        if not waiting:
            if not _live(state):
                raise tramo.PlatformError(f"order {delivery.order_id} has no fulfillment", code="unfulfilled")
            return tramo.WriteResult(delivery.order_id, tramo.Outcome.UNCHANGED, remote_id=state["id"])
        for fulfillment in waiting:
            shopify.mutate("FULFILLMENT_EVENT", "fulfillmentEventCreate",
                           {"event": {**event, "fulfillmentId": fulfillment["id"]}})
        return tramo.WriteResult(delivery.order_id, tramo.Outcome.UPDATED, remote_id=state["id"])

    def event(delivery: tramo.Delivery) -> Json:
        when = delivery.delivered_at or datetime.now(timezone.utc)
        body: Json = {"status": "DELIVERED",
                      "happenedAt": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if delivery.note:
            body["message"] = delivery.note
        return body

    return write_each(deliveries, lambda d: d.order_id, event, send)


def sync_status(connection: tramo.Connection, updates: Sequence[tramo.StatusUpdate]) -> list[tramo.WriteResult]:
    """PAID marks the order paid; FULFILLED fulfils it, DELIVERED delivers it, CANCELLED cancels it
    (as the dedicated hooks do); the other statuses are Shopify's to set (payments, refunds)."""
    shopify = api(connection)

    def send(update: tramo.StatusUpdate, status: str) -> tramo.WriteResult:
        state = order_state(shopify, update.order_id)
        if wire.order_status(state) == status:
            return tramo.WriteResult(update.order_id, tramo.Outcome.UNCHANGED, remote_id=state["id"])
        if status not in ("PAID", "FULFILLED", "DELIVERED", "CANCELLED"):
            raise tramo.PlatformError(f"Shopify sets {status} itself (payments, refunds); tramo can move "
                                      f"an order to PAID, FULFILLED, DELIVERED or CANCELLED",
                                      code="not_settable")
        if status == "PAID":
            shopify.mutate("MARK_PAID", "orderMarkAsPaid", {"input": {"id": state["id"]}})
        elif status == "FULFILLED":
            if not _open_orders(state):
                raise tramo.PlatformError(f"order {update.order_id} has nothing left to fulfil", code="closed")
            _fulfil(shopify, state, None)
        elif status == "DELIVERED":
            [result] = mark_delivered(connection, [tramo.Delivery(order_id=update.order_id, note=update.note)])
            return _as_update(update, result)
        else:
            [result] = send_cancellation(connection, [tramo.Cancellation(
                order_id=update.order_id, reason=update.note or "OTHER")])
            return _as_update(update, result)
        return tramo.WriteResult(update.order_id, tramo.Outcome.UPDATED, remote_id=state["id"])

    return write_each(updates, lambda u: u.order_id, lambda u: u.platform_status or "", send)


def _as_update(update: tramo.StatusUpdate, result: tramo.WriteResult) -> tramo.WriteResult:
    if result.error is not None:
        raise result.error
    return tramo.WriteResult(update.order_id, result.outcome, remote_id=result.remote_id)


# -- webhooks ----------------------------------------------------------------------------------


def parse_webhook(connection: tramo.Connection, headers: Mapping[str, str],
                  body: bytes) -> list[tramo.WebhookEvent]:
    """A delivery checked against its X-Shopify-Hmac-Sha256 (before the body is read), as an event
    naming the record to fetch; the core drops a repeat of the same X-Shopify-Webhook-Id."""
    secret = connection.settings.get("webhook_secret")
    if secret is None:
        raise tramo.ConfigurationError("webhook_secret is not set: deliveries cannot be verified")
    if not signature_matches(secret, body, header(headers, "X-Shopify-Hmac-Sha256")):
        raise tramo.AuthenticationError("the webhook's X-Shopify-Hmac-Sha256 does not match its body")
    topic = header(headers, "X-Shopify-Topic") or ""
    try:
        record = json.loads(body)
    except ValueError:
        raise tramo.ValidationError("webhook.body", body[:40], "is not JSON") from None
    kind = topic.split("/", 1)[0].rstrip("s") or "order"
    ident = text(record.get("admin_graphql_api_id")) or (
        wire.gid(kind.capitalize(), record["id"]) if record.get("id") is not None else "")
    if not ident:
        raise tramo.ValidationError("webhook.body.id", None, "names no record")
    triggered = header(headers, "X-Shopify-Triggered-At")
    return [tramo.WebhookEvent(resource=kind, remote_id=ident, action=topic,
                               received_at=moment(triggered, timezone.utc, "X-Shopify-Triggered-At")
                               if triggered else None,
                               event_id=header(headers, "X-Shopify-Webhook-Id"))]


def subscribe(connection: tramo.Connection, uri: str,
              topics: Sequence[str] = ("orders/create", "orders/updated")) -> list[str]:
    """Ask the shop to deliver ``topics`` to ``uri`` (the host's receiver); the subscriptions' ids."""
    shopify = api(connection)
    made = []
    for topic in topics:
        payload = shopify.mutate("WEBHOOK_CREATE", "webhookSubscriptionCreate",
                                 {"topic": TOPIC_ENUMS.get(topic, topic), "uri": uri})
        made.append(payload["webhookSubscription"]["id"])
    return made

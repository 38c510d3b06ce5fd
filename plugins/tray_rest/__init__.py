"""Tray Commerce REST API (``web_api``): platform ``tray``, modality ``rest``.

- this module: the hooks, each one call shape;
- :mod:`tramo_tray_rest.wire`: Tray JSON <-> the tramo model, error bodies (pure);
- :mod:`tramo_tray_rest.client`: the API client, tokens, budget, look-ups by ERP code;
- :mod:`tramo_tray_rest.reservations`: stock reservations, which Tray lacks;
- :mod:`tramo_tray_rest.sandbox`: a Tray store on loopback.

Reads are ``async``: pages and orders are fetched concurrently within the
rate budget. Writes are plain functions, one item after another.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import tramo
from tramo.http import path
from tramo.model import parents_first
from tramo.paging import fetch_each
from tramo.writes import write_each

from tramo_tray_rest import wire
from tramo_tray_rest.client import AsyncTray, Tray, api, async_api
from tramo_tray_rest.reservations import Ledger

# Imported before the ``sandbox`` hook below is defined, so that the package's
# ``sandbox`` attribute is the hook (pluggy reads it) and not the submodule.
from tramo_tray_rest.sandbox import TraySandbox

__version__ = "0.2.0"

Checkpoint = datetime | str | None

_SETTINGS: tuple[tramo.Setting, ...] = (
    tramo.Setting(name="api_address",
                  description="Store API address: the store URL plus /web_api, no version prefix."),
    tramo.Setting(name="consumer_key", description="Application id issued to the partner app by Tray."),
    tramo.Setting(name="consumer_secret", secret=True,
                  description="Application secret issued with the consumer key."),
    tramo.Setting(name="code", secret=True,
                  description="Per-store authorization code, exchanged at POST /auth for tokens."),
    tramo.Setting(name="store_id", required=False,
                  description="Tray store id; notifications for other stores are refused."),
    tramo.Setting(name="requests_per_minute", kind="int", required=False, default=180,
                  description="Short-window request limit; more gets HTTP 429."),
    tramo.Setting(name="requests_per_day", kind="int", required=False, default=10000,
                  description="Daily request limit per store (50000 for a corporate store)."),
    tramo.Setting(name="requests_per_second", kind="int", required=False, default=0,
                  description="A per-second pace on top of the minute's (some stores and proxies "
                              "refuse bursts); 0 for none."),
    tramo.Setting(name="page_size", kind="int", required=False, default=50,
                  description="Records per list page (Tray allows 1 to 50)."),
    tramo.Setting(name="concurrency", kind="int", required=False, default=8,
                  description="Requests in flight at once on reads (the budget still paces them)."),
    tramo.Setting(name="delivered_status", required=False,
                  description="Tray status id that means delivered, for mark_delivered "
                              "(default: the status mapped to 'delivered')."),
)


# -- plumbing ---------------------------------------------------------------------------


@tramo.hookimpl
def plugin_info() -> tramo.PluginInfo:
    return tramo.PluginInfo(
        name="tray_rest", platform="tray", modality="rest", version=__version__,
        description="Tray Commerce stores through the REST web_api (OAuth-style app tokens).",
        settings=_SETTINGS,
        features={"receive_orders": {"incremental": True, "queue": False},
                  "receive_products": {"incremental": True},
                  "send_products": {"variants": True, "max_images": wire.IMAGES_MAX},
                  "reserve_stock": {"emulated": True},
                  "send_tracking": {"per_order": 1}},
    )


@tramo.hookimpl
async def check_connection(connection: tramo.Connection) -> tramo.ConnectionReport:
    # A refused code or token raises AuthenticationError: Tray cannot be asked at all.
    info = (await async_api(connection).get("/info")).get("Info") or {}
    problems = []
    size = int(connection.settings["page_size"])
    if not 1 <= size <= wire.PER_PAGE_MAX:
        problems.append(f"page_size {size} is outside Tray's 1 to {wire.PER_PAGE_MAX}; reads use "
                        f"{max(1, min(size, wire.PER_PAGE_MAX))}")
    wanted = connection.settings.get("store_id")
    held = wire.text(info.get("id"))
    if wanted and held and wanted != held:
        problems.append(f"the code authorizes store {held}, not the configured store_id {wanted}")
    return tramo.ConnectionReport(problems=tuple(problems), details={
        "store": held or "?", "name": wire.text(info.get("name")) or "?"})


@tramo.hookimpl
def restrict_capabilities(connection: tramo.Connection) -> Mapping[str, str]:
    if connection.settings.get("delivered_status"):
        return {}
    try:
        connection.mappings.status_to_platform(tramo.OrderStatus.DELIVERED)
    except tramo.MappingError:
        return {"mark_delivered": "Tray has no 'delivered' call: set delivered_status or map a "
                                  "Tray status to 'delivered'"}
    return {}


@tramo.hookimpl
def sandbox() -> TraySandbox:
    return TraySandbox()


# -- catalogue ----------------------------------------------------------------------------


@tramo.hookimpl
def send_products(connection: tramo.Connection,
                  products: Sequence[tramo.Product]) -> list[tramo.WriteResult]:
    tray = api(connection)
    skus = connection.binder("sku")

    def body(product: tramo.Product) -> dict[str, Any]:
        return wire.product_body(product, connection.binder("category").require(product.categories, "Product.categories"))

    def send(product: tramo.Product, prepared: dict[str, Any]) -> tramo.WriteResult:
        fields = prepared["Product"]
        record = tray.product_by_code(product.code)
        if record is None:
            # Not found by reference: a POST, never sent twice (a lost answer is FAILED,
            # and the next send finds the product by its reference instead of creating it again).
            ident = wire.created_id(tray.send("POST", "/products", {"Product": fields}))
            connection.binder("product").bind(product.code, ident)
            existing: list[dict[str, Any]] = []
            changed = created = True
        else:
            ident, created = wire.text(record.get("id")), False
            diff = wire.changes(fields, record, "ProductImage")
            if diff:
                tray.send("PUT", path("/products/{}", ident), {"Product": diff})
            changed = bool(diff)
            has = wire.flag(record.get("has_variation"))
            existing = tray.variants_of(ident) if has or product.variants else []
        changed = _sync_variants(tray, skus, product, ident, existing) or changed
        if not product.variants:
            skus.bind(product.code, f"product/{ident}")
        outcome = (tramo.Outcome.CREATED if created else
                   tramo.Outcome.UPDATED if changed else tramo.Outcome.UNCHANGED)
        return tramo.WriteResult(product.code, outcome, remote_id=ident)

    return write_each(products, lambda p: p.code, body, send)


def _sync_variants(tray: Tray, skus: Any, product: tramo.Product, product_id: str,
                   existing: list[dict[str, Any]]) -> bool:
    """Make the product's variants on Tray the product's: update, create, delete. True if any changed."""
    held = {wire.text(v.get("reference")): v for v in existing}
    changed = False
    for variant in product.variants:
        fields = wire.variant_fields(variant)
        have = held.pop(variant.sku, None)
        if have is None:
            ident = wire.created_id(tray.send("POST", "/products/variants",
                                              {"Variant": {**fields, "product_id": product_id}}))
            changed = True
        else:
            ident = wire.text(have.get("id"))
            diff = wire.changes(fields, have, "VariantImage")
            if diff:
                tray.send("PUT", path("/products/variants/{}", ident), {"Variant": diff})
                changed = True
        skus.bind(variant.sku, f"variant/{ident}")
    for reference, gone in held.items():
        tray.send("DELETE", path("/products/variants/{}", wire.text(gone.get("id"))))
        if reference:
            skus.unbind(reference)
        changed = True
    return changed


@tramo.hookimpl
async def receive_products(connection: tramo.Connection,
                           since: Checkpoint) -> AsyncIterator[tramo.Product | tramo.Held]:
    tray = async_api(connection)
    zone = connection.timezone
    params, after = wire.modified_filter(since, zone)
    records = [r async for r in tray.pages("/products", params, "Products", "Product")
               if wire.changed_after(r, after, zone)]
    variants = await _variants_for(tray, records, everything=since is None)
    categories = connection.binder("category")
    for record in records:
        ident = wire.text(record.get("id"))
        local = [c for c in (categories.local(t) for t in wire.tray_category_ids(record)) if c]
        try:
            yield wire.product_from_wire(record, variants.get(ident, []), zone, local)
        except tramo.ValidationError as exc:
            yield tramo.Held("product", exc, remote_id=ident or None, raw=record)


async def _variants_for(tray: AsyncTray, products: list[dict[str, Any]],
                        everything: bool) -> dict[str, list[dict[str, Any]]]:
    """Variant records by product id: one walk of all variants for a full read, else per product."""
    found: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    wanted = [wire.text(p.get("id")) for p in products if wire.flag(p.get("has_variation"))]
    if not wanted:
        return found
    if everything:
        async for record in tray.pages("/products/variants", {}, "Variants", "Variant"):
            found[wire.text(record.get("product_id"))].append(record)
        return found

    async def of(product_id: str) -> tuple[str, list[dict[str, Any]]]:
        return product_id, [r async for r in tray.pages(
            "/products/variants", {"product_id": product_id}, "Variants", "Variant")]

    async for product_id, records in fetch_each(_each(wanted), of, concurrency=tray.concurrency):
        found[product_id] = records
    return found


@tramo.hookimpl
def map_categories(connection: tramo.Connection,
                   categories: Sequence[tramo.Category]) -> list[tramo.WriteResult]:
    # Parents first, so a child finds its parent's Tray id; found by binding, else by
    # name under the same parent (a category nobody bound), else created.
    tray = api(connection)
    bound = connection.binder("category")
    try:
        ordered = parents_first(categories)
    except tramo.ValidationError as exc:
        return [tramo.WriteResult.held(c.id, exc) for c in categories]

    def body(category: tramo.Category) -> dict[str, Any]:
        parent = None
        if category.parent_id is not None:
            parent = bound.remote(category.parent_id)
            if parent is None:
                raise tramo.ValidationError("Category.parent_id", category.parent_id,
                                            "the parent is not on Tray: map it first (or in the same call)")
        return wire.category_fields(category, parent)

    def send(category: tramo.Category, fields: dict[str, Any]) -> tramo.WriteResult:
        parent = fields["parent_id"] or None
        ident = bound.remote(category.id)
        if ident is not None:
            found = tray.find(path("/categories/{}", ident))
            if found is not None:
                record = found.get("Category") or {}
                if wire.text(record.get("name")) == category.name and wire.same_parent(record, parent):
                    return tramo.WriteResult(category.id, tramo.Outcome.UNCHANGED, remote_id=ident)
                tray.send("PUT", path("/categories/{}", ident), {"Category": fields})
                return tramo.WriteResult(category.id, tramo.Outcome.UPDATED, remote_id=ident)
            bound.unbind(category.id)
        for record in tray.pages("/categories", {"name": category.name, "parent_id": parent or "0"},
                                 "Categories", "Category"):
            ident = wire.text(record.get("id"))
            if (wire.text(record.get("name")) == category.name and wire.same_parent(record, parent)
                    and bound.local(ident) in (None, category.id)):
                bound.bind(category.id, ident)
                return tramo.WriteResult(category.id, tramo.Outcome.UNCHANGED, remote_id=ident)
        ident = wire.created_id(tray.send("POST", "/categories", {"Category": fields}))
        bound.bind(category.id, ident)
        return tramo.WriteResult(category.id, tramo.Outcome.CREATED, remote_id=ident)

    done = {id(c): r for c, r in zip(ordered, write_each(ordered, lambda c: c.id, body, send))}
    return [done[id(c)] for c in categories]


# -- stock and prices -------------------------------------------------------------------------


def _write_sku(tray: Tray, sku: str, fields: dict[str, Any]) -> tramo.WriteResult:
    kind, ident = tray.sku_target(sku)
    tray.write_sku(kind, ident, fields)
    return tramo.WriteResult(sku, tramo.Outcome.UPDATED, remote_id=ident)


@tramo.hookimpl
def send_stock(connection: tramo.Connection,
               levels: Sequence[tramo.StockLevel]) -> list[tramo.WriteResult]:
    tray = api(connection)
    reserved = Ledger(connection.state).reserved()

    def body(level: tramo.StockLevel) -> dict[str, Any]:
        wire.check_stock(level)
        return wire.stock_fields(level.quantity - reserved.get(level.sku, 0))

    return write_each(levels, lambda lv: lv.sku, body,
                      lambda level, fields: _write_sku(tray, level.sku, fields))


@tramo.hookimpl
def send_prices(connection: tramo.Connection,
                prices: Sequence[tramo.Price]) -> list[tramo.WriteResult]:
    tray = api(connection)
    return write_each(prices, lambda p: p.sku, lambda p: wire.price_fields(p, connection.timezone),
                      lambda price, fields: _write_sku(tray, price.sku, fields))


def _stock_of(record: dict[str, Any]) -> int:
    return int(wire.decimal(record.get("stock"), "stock") or 0)


@tramo.hookimpl
def reserve_stock(connection: tramo.Connection,
                  reservations: Sequence[tramo.StockReservation]) -> list[tramo.WriteResult]:
    tray = api(connection)
    ledger = Ledger(connection.state)

    def body(reservation: tramo.StockReservation) -> None:
        if reservation.warehouse is not None:
            raise tramo.ValidationError("StockReservation.warehouse", reservation.warehouse,
                                        "Tray refuses it: one stock per SKU (no warehouses)")

    def send(reservation: tramo.StockReservation, _: None) -> tramo.WriteResult:
        known = ledger.get(reservation.id)
        if known is not None:
            if not known["active"]:
                raise tramo.PlatformError("this reservation id was released", code="released")
            if (known["sku"], known["quantity"]) != (reservation.sku, reservation.quantity):
                raise tramo.PlatformError("this reservation id holds another SKU or quantity",
                                          code="conflict")
            return tramo.WriteResult(reservation.id, tramo.Outcome.UNCHANGED)
        kind, ident = tray.sku_target(reservation.sku)
        available = _stock_of(tray.record_of(kind, ident))
        if reservation.quantity > available:
            raise tramo.PlatformError(f"{available} available on Tray, {reservation.quantity} asked",
                                      code="insufficient_stock")
        tray.write_sku(kind, ident, wire.stock_fields(available - reservation.quantity))
        ledger.hold(reservation)
        return tramo.WriteResult(reservation.id, tramo.Outcome.CREATED, remote_id=ident)

    return write_each(reservations, lambda r: r.id, body, send)


@tramo.hookimpl
def release_stock(connection: tramo.Connection,
                  reservations: Sequence[tramo.StockReservation]) -> list[tramo.WriteResult]:
    tray = api(connection)
    ledger = Ledger(connection.state)

    def send(reservation: tramo.StockReservation, _: None) -> tramo.WriteResult:
        known = ledger.get(reservation.id)
        if known is None or not known["active"]:
            return tramo.WriteResult(reservation.id, tramo.Outcome.UNCHANGED)
        kind, ident = tray.sku_target(known["sku"])
        available = _stock_of(tray.record_of(kind, ident))
        tray.write_sku(kind, ident, wire.stock_fields(available + int(known["quantity"])))
        ledger.release(reservation.id)
        return tramo.WriteResult(reservation.id, tramo.Outcome.UPDATED, remote_id=ident)

    return write_each(reservations, lambda r: r.id, lambda r: None, send)


# -- orders -------------------------------------------------------------------------------------


@tramo.hookimpl
async def receive_orders(connection: tramo.Connection,
                         since: Checkpoint) -> AsyncIterator[tramo.Order | tramo.Held]:
    # One list walk (pages concurrently) and one /complete per changed order, the
    # fetches overlapping the walk: N + ceil(N/50) calls, paced by the budget.
    # Sorted by id, an order changing during the read stays on its page.
    tray = async_api(connection)
    zone = connection.timezone
    params, after = wire.modified_filter(since, zone)

    async def changed() -> AsyncIterator[str]:
        seen: set[str] = set()  # a page served twice must not import its orders twice
        async for record in tray.pages("/orders", {**params, "sort": "id_asc"}, "Orders", "Order"):
            ident = wire.text(record.get("id"))
            if ident not in seen and wire.changed_after(record, after, zone):
                seen.add(ident)
                yield ident

    async for order in fetch_each(changed(), lambda ident: _complete(tray, ident),
                                  concurrency=tray.concurrency):
        if order is not None:
            yield order


async def _each(ids: Sequence[str]) -> AsyncIterator[str]:
    for ident in ids:
        yield ident


async def _complete(tray: AsyncTray, ident: str) -> tramo.Order | tramo.Held | None:
    """One order with everything in it; None when it is gone (deleted since it was listed)."""
    try:
        answer = await tray.get(path("/orders/{}/complete", ident))
    except tramo.PlatformError as exc:
        if exc.code == "not_found":
            return None
        raise
    try:
        return wire.order_from_wire(answer, tray.zone)
    except tramo.ValidationError as exc:
        return tramo.Held("order", exc, remote_id=ident, raw=answer)


@tramo.hookimpl
async def get_orders(connection: tramo.Connection,
                     ids: Sequence[str]) -> AsyncIterator[tramo.Order | tramo.Held]:
    tray = async_api(connection)
    async for found in fetch_each(_each(ids), lambda ident: _complete(tray, ident),
                                  concurrency=tray.concurrency):
        if found is not None:
            yield found


def _order(tray: Tray, order_id: str) -> dict[str, Any]:
    return tray.get(path("/orders/{}", order_id)).get("Order") or {}


def _move(connection: tramo.Connection, order_id: str, platform_status: str) -> tramo.WriteResult:
    tray = api(connection)
    held = (_order(tray, order_id).get("OrderStatus") or {}).get("id")
    if wire.text(held) == platform_status:
        return tramo.WriteResult(order_id, tramo.Outcome.UNCHANGED, remote_id=order_id)
    tray.send("PUT", path("/orders/{}", order_id), {"Order": wire.status_fields(platform_status)})
    return tramo.WriteResult(order_id, tramo.Outcome.UPDATED, remote_id=order_id)


@tramo.hookimpl
def sync_status(connection: tramo.Connection,
                updates: Sequence[tramo.StatusUpdate]) -> list[tramo.WriteResult]:
    def body(update: tramo.StatusUpdate) -> str:
        if update.platform_status is None:
            raise tramo.ValidationError("StatusUpdate.platform_status", None, "was not mapped")
        return update.platform_status

    return write_each(updates, lambda u: u.order_id, body,
                      lambda update, status: _move(connection, update.order_id, status))


@tramo.hookimpl
def mark_delivered(connection: tramo.Connection,
                   orders: Sequence[tramo.Delivery]) -> list[tramo.WriteResult]:
    # Tray has no delivered call: the order moves to the status that means delivered.
    status = (connection.settings.get("delivered_status")
              or connection.mappings.status_to_platform(tramo.OrderStatus.DELIVERED))
    return write_each(orders, lambda d: d.order_id, lambda d: status,
                      lambda delivery, status: _move(connection, delivery.order_id, status))


@tramo.hookimpl
def send_cancellation(connection: tramo.Connection,
                      cancellations: Sequence[tramo.Cancellation]) -> list[tramo.WriteResult]:
    tray = api(connection)

    def send(cancellation: tramo.Cancellation, _: None) -> tramo.WriteResult:
        held = wire.text((_order(tray, cancellation.order_id).get("OrderStatus") or {}).get("id"))
        try:
            if connection.mappings.status_to_erp(held) is tramo.OrderStatus.CANCELLED:
                return tramo.WriteResult(cancellation.order_id, tramo.Outcome.UNCHANGED,
                                         remote_id=cancellation.order_id)
        except tramo.MappingError:
            pass
        tray.send("PUT", path("/orders/cancel/{}", cancellation.order_id))
        return tramo.WriteResult(cancellation.order_id, tramo.Outcome.UPDATED,
                                 remote_id=cancellation.order_id)

    return write_each(cancellations, lambda c: c.order_id, lambda c: None, send)


@tramo.hookimpl
def send_tracking(connection: tramo.Connection,
                  trackings: Sequence[tramo.Tracking]) -> list[tramo.WriteResult]:
    # Tray keeps one tracking code per order (sending_code): a new code replaces the old.
    tray = api(connection)

    def send(tracking: tramo.Tracking, fields: dict[str, Any]) -> tramo.WriteResult:
        order = _order(tray, tracking.order_id)
        if all(wire.text(order.get(k)) == v for k, v in fields.items()):
            return tramo.WriteResult(tracking.code, tramo.Outcome.UNCHANGED, remote_id=tracking.order_id)
        tray.send("PUT", path("/orders/{}", tracking.order_id), {"Order": fields})
        outcome = tramo.Outcome.UPDATED if wire.text(order.get("sending_code")) else tramo.Outcome.CREATED
        return tramo.WriteResult(tracking.code, outcome, remote_id=tracking.order_id)

    return write_each(trackings, lambda t: t.code,
                      lambda t: wire.tracking_fields(t, connection.timezone), send)


@tramo.hookimpl
def send_invoice(connection: tramo.Connection,
                 invoices: Sequence[tramo.Invoice]) -> list[tramo.WriteResult]:
    # Tray takes a second invoice with the same key, so look first; the POST is never
    # repeated (a lost answer is FAILED, and the next send finds the invoice).
    tray = api(connection)

    def send(invoice: tramo.Invoice, body: dict[str, Any]) -> tramo.WriteResult:
        held = wire.invoice_keys(tray.get(path("/orders/{}/invoices", invoice.order_id)))
        if invoice.access_key in held:
            return tramo.WriteResult(invoice.access_key, tramo.Outcome.UNCHANGED,
                                     remote_id=held[invoice.access_key])
        answer = tray.send("POST", path("/orders/{}/invoices", invoice.order_id), body)
        return tramo.WriteResult(invoice.access_key, tramo.Outcome.CREATED,
                                 remote_id=wire.created_id(answer))

    return write_each(invoices, lambda i: i.access_key,
                      lambda i: wire.invoice_body(i, connection.timezone), send)


@tramo.hookimpl
def parse_webhook(connection: tramo.Connection, headers: Mapping[str, str],
                  body: bytes) -> list[tramo.WebhookEvent]:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    fields = wire.notification(body, content_type)
    return [wire.webhook_event(fields, connection.settings.get("store_id"))]


# -- look-ups --------------------------------------------------------------------------------------


@tramo.hookimpl
def list_order_statuses(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    records = api(connection).pages("/orders/statuses", {}, "OrderStatuses", "OrderStatus")
    return wire.status_options({"OrderStatuses": list(records)})


@tramo.hookimpl
def list_shipping_methods(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    records = api(connection).pages("/shippings", {}, "Shippings", "Shipping")
    return wire.shipping_options({"Shippings": list(records)})


@tramo.hookimpl
def list_payment_methods(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return wire.payment_options(api(connection).get("/payments/options"))

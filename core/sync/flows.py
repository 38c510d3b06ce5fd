"""The flows: each moves one kind of record between the ERP and one connection.

Outbound flows offer everything the ERP has and write only what changed
(:meth:`Run.push`); inbound, :meth:`Run.take_orders` imports orders once per
(id, updated_at), from polling and webhooks alike. Every write goes through the
ledger's journal, so a run that dies mid-write is mended by the next one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from tramo.errors import MappingError, TramoError, ValidationError, describe
from tramo.model import (
    Cancellation,
    Delivery,
    Held,
    Order,
    OrderStatus,
    Product,
    StatusUpdate,
    StockReservation,
    WriteResult,
)
from tramo.model.catalog import parents_first
from tramo.model.identifiers import normalize_gtin
from tramo.sync.ledger import digest
from tramo.sync.report import FlowReport

if TYPE_CHECKING:
    from tramo.sync.engine import Link, Tramo

__all__ = ["FLOWS", "Flow", "Run"]

#: statuses in which an order still holds stock that another store must not sell
_RESERVING = frozenset({OrderStatus.OPEN, OrderStatus.APPROVED, OrderStatus.PREPARING_SHIPMENT})
#: orders acknowledged together on a platform that queues them, as the read goes
ACKNOWLEDGE_BATCH = 50


@attrs.frozen
class Entry:
    """One item an outbound flow offers: the ERP's id, the item, its fingerprint."""

    local_id: str
    item: Any
    fingerprint: str


class Run:
    """One flow on one connection: the engine, the link, the report, dry-run or not."""

    def __init__(self, engine: Tramo, link: Link, report: FlowReport, dry_run: bool) -> None:
        self.engine = engine
        self.link = link
        self.report = report
        self.dry_run = dry_run
        self.ledger = engine.ledger
        self.erp = engine.erp
        self.name = link.name

    @property
    def flow(self) -> str:
        return self.report.flow

    def can(self, capability: str) -> bool:
        return self.link.connection.supports(capability)

    # -- outbound ---------------------------------------------------------------------------

    def push(self, resource: str, capability: str, argument: str, entries: Sequence[Entry], *,
             complete: bool = True) -> None:
        """Write the entries whose fingerprint changed since the last sync, journaled.

        :param complete: ``entries`` is all the ERP offers (not a chosen few), so a write in
            doubt for an item no longer among them is abandoned.
        """
        doubt = {item for _, kind, item in self.ledger.in_doubt(self.name, self.flow) if kind == resource}
        self.report.recovered += sorted(doubt)
        changed: list[Entry] = []
        for entry in entries:
            known = self.ledger.record(self.name, resource, entry.local_id)
            if known is not None and known.digest == entry.fingerprint:
                self.report.unchanged += 1
                if entry.local_id in doubt and not self.dry_run:
                    self.ledger.settle_item(self.name, self.flow, resource, entry.local_id)
            else:
                changed.append(entry)
        if self.dry_run:
            self.report.planned += [e.local_id for e in changed]
            return
        if complete:
            offered = {e.local_id for e in entries}
            for item in doubt - offered:  # the ERP no longer offers it
                self.ledger.settle_item(self.name, self.flow, resource, item, "abandoned")
        size = self.engine.chunk
        for start in range(0, len(changed), size):
            self._write(resource, capability, argument, changed[start:start + size])
            self.engine.progress(self.name, self.flow, min(start + size, len(changed)), len(changed))

    def _write(self, resource: str, capability: str, argument: str, chunk: Sequence[Entry]) -> None:
        keys = [self._key(resource, e) for e in chunk]
        with self.ledger.atomic():
            for key, entry in zip(keys, chunk, strict=True):
                self.ledger.open_entry(key, self.name, self.flow, resource, entry.local_id)
        try:
            results = self.link.connection.call(capability, **{argument: [e.item for e in chunk]})
        except TramoError as exc:  # unknown fate: the entries stay open and are replayed
            reason = describe(exc)
            self.report.failed += [(e.local_id, reason) for e in chunk]
            self.ledger.note(self.name, self.flow, "error", reason)
            return
        for key, entry, result in zip(keys, chunk, results, strict=True):
            self._settle(resource, key, entry, result)

    def _key(self, resource: str, entry: Entry) -> str:
        return f"{self.name}/{self.flow}/{resource}/{entry.local_id}/{entry.fingerprint}"

    def _settle(self, resource: str, key: str, entry: Entry, result: WriteResult) -> None:
        """Record one item's result and close its journal entry in one transaction."""
        with self.ledger.atomic():
            if result.ok:
                self.ledger.remember(self.name, resource, entry.local_id, result.remote_id,
                                     entry.fingerprint)
                self.ledger.release(self.name, self.flow, entry.local_id)
            else:
                assert result.error is not None
                self.ledger.hold(self.name, self.flow, entry.local_id, result.error)
            self.ledger.settle_item(self.name, self.flow, resource, entry.local_id)
            self.ledger.close_entry(key, "done" if result.ok else result.outcome.value)
        if result.ok:
            if result.outcome.value == "unchanged":
                self.report.unchanged += 1
            else:
                self.report.sent.append(entry.local_id)
        else:
            bucket = self.report.held if result.outcome.value == "held" else self.report.failed
            bucket.append((entry.local_id, describe(result.error) if result.error else "?"))
        self.engine.tell_erp(self.name, self.flow, result)

    def hold(self, item_id: str, error: Exception) -> None:
        """A record the flow will not take as it is: keep it with the reason."""
        if not self.dry_run:
            self.ledger.hold(self.name, self.flow, item_id, error)
        self.report.held.append((item_id, describe(error)))

    # -- the ERP's orders bound to this connection ----------------------------------------------

    def bound_orders(self) -> list[tuple[Order, str]]:
        """The ERP's orders that came from this connection, with the platform's order id."""
        bound = {r.local_id: r.remote_id for _, r in self.ledger.records("order", self.name)}
        return [(order, bound[order.id]) for order in self.engine.erp_orders()
                if bound.get(order.id)]

    # -- inbound ------------------------------------------------------------------------------

    def take_orders(self, found: Iterable[Order | Held]) -> datetime | None:
        """Import each order not yet imported at this ``updated_at``; return the newest moment seen.

        Every order read that is in the ERP afterwards (new, updated or already there) is
        acknowledged on a platform that queues orders, in batches as the read goes and for
        what was taken when the read then fails; so an order a failed run imported leaves
        the queue at the next run instead of being served forever.
        """
        newest: datetime | None = None
        acknowledge: list[str] = []
        try:
            for record in found:
                if isinstance(record, Held):
                    self.hold(record.remote_id or _unnamed(record), record.error)
                    continue
                moment = record.updated_at or record.placed_at
                newest = moment if newest is None or moment > newest else newest
                if self.dry_run:
                    known = self.ledger.by_remote(self.name, "order", record.id)
                    if known is None or known.digest != _order_fingerprint(record):
                        self.report.planned.append(record.id)
                    continue
                try:
                    self._take(record)
                    acknowledge.append(record.id)
                except Exception as exc:  # noqa: BLE001 - one order the ERP refuses is held; the rest go on
                    self.hold(record.id, exc)
                if len(acknowledge) >= ACKNOWLEDGE_BATCH:
                    self._acknowledge(acknowledge)
                    acknowledge = []
        finally:
            self._acknowledge(acknowledge)
        return newest

    def _acknowledge(self, ids: list[str]) -> None:
        if not ids or not self.can("acknowledge_orders"):
            return
        try:
            results = self.link.connection.call("acknowledge_orders", orders=ids)
        except TramoError as exc:  # the orders stay queued and are acknowledged at the next read
            self.report.failed += [(i, describe(exc)) for i in ids]
            return
        for result in results:
            if not result.ok:
                self.report.failed.append((result.local_id or "?", describe(result.error)))

    def _take(self, order: Order) -> None:
        """Import or update one order (nothing when the ERP has it as it stands)."""
        fingerprint = _order_fingerprint(order)
        known = self.ledger.by_remote(self.name, "order", order.id)
        if known is not None and known.digest == fingerprint:
            self.report.unchanged += 1
        elif known is None:
            self._create(order, fingerprint)
        else:
            self._update(order, known.local_id, fingerprint)

    def _create(self, order: Order, fingerprint: str) -> None:
        key = f"{self.name}/order/{order.id}"
        self.ledger.open_entry(key, self.name, self.flow, "order", order.id)
        for item in order.items:
            if not self.engine.erp_call("has_product", item.sku):
                product = Product(code=item.sku, name=item.name, sku=item.sku,
                                  price=item.unit_price, gtin=_gtin_or_none(item.gtin))
                self.engine.erp_call("save_product", product, key=f"{self.name}/product/{item.sku}")
        customer = self.engine.erp_call("save_customer", order.customer,
                                        key=f"{self.name}/customer/{order.id}")
        erp_id = str(self.engine.erp_call("save_order", order, customer_id=customer, key=key))
        status = (order.status or OrderStatus.OPEN).value
        with self.ledger.atomic():
            self.ledger.remember(self.name, "order", erp_id, order.id, fingerprint)
            self.ledger.remember(self.name, "status", erp_id, order.id, status)
            self.ledger.release(self.name, self.flow, order.id)
            self.ledger.close_entry(key)
        self.report.received.append(order.id)

    def _update(self, order: Order, erp_id: str, fingerprint: str) -> None:
        """A known order changed on the platform: follow its status into the ERP."""
        seen = self.ledger.record(self.name, "status", erp_id)
        if order.status is not None and (seen is None or seen.digest != order.status.value):
            key = f"{self.name}/status/{order.id}/{fingerprint}"
            self.engine.erp_call("set_order_status", erp_id, order.status, key=key)
            self.ledger.remember(self.name, "status", erp_id, order.id, order.status.value)
            self.report.received.append(order.id)
        else:
            self.report.unchanged += 1
        with self.ledger.atomic():
            self.ledger.remember(self.name, "order", erp_id, order.id, fingerprint)
            self.ledger.release(self.name, self.flow, order.id)


def _order_fingerprint(order: Order) -> str:
    """An order is the same order while its id and last change are (webhook and poll alike)."""
    return digest({"id": order.id, "updated_at": (order.updated_at or order.placed_at).isoformat()})


def _gtin_or_none(gtin: str | None) -> str | None:
    """An order item's GTIN for the product made from it, dropped when it is not a valid one."""
    try:
        return normalize_gtin(gtin) if gtin else None
    except (ValueError, TramoError):
        return None


# -- the flows ------------------------------------------------------------------------------------


def categories(run: Run) -> None:
    """Bind the categories the configuration maps; find or create the rest, parents first."""
    binder = run.link.connection.binder("category")
    if not run.dry_run:
        for local, remote in run.link.categories.items():
            binder.bind(local, remote)
    tree = parents_first(run.engine.erp_list("categories"))
    entries = [Entry(c.id, c, digest(c)) for c in tree if c.id not in run.link.categories]
    run.push("category", "map_categories", "categories", entries)


def products(run: Run) -> None:
    """The ERP's catalogue, only what changed (seed 002: export products first)."""
    chosen = run.engine.product_filter
    run.push("product", "send_products", "products",
             [Entry(p.code, p, digest(p)) for p in run.engine.erp_list("products")
              if chosen is None or p.code in chosen], complete=chosen is None)


def prices(run: Run) -> None:
    """Price per SKU (and price list), only what changed."""
    entries = [Entry(_scoped(p.sku, p.price_list), p, digest(p)) for p in run.engine.erp_list("prices")]
    run.push("price", "send_prices", "prices", _published(run, entries))


def stock(run: Run) -> None:
    """Quantity per SKU (and warehouse), only what changed."""
    levels = [attrs.evolve(s, updated_at=None) for s in run.engine.erp_list("stock")]
    entries = [Entry(_scoped(s.sku, s.warehouse), s, digest(s)) for s in levels]
    run.push("stock", "send_stock", "levels", _published(run, entries))


def _published(run: Run, entries: list[Entry]) -> list[Entry]:
    """The entries whose product is on this store; the others held, naming the product, so a
    product the store refused does not come back as one platform error per SKU."""
    exports = run.link.flows is None or "products" in run.link.flows
    if run.dry_run or not exports or not run.can("send_products"):
        return entries
    published = {r.local_id for _, r in run.ledger.records("product", run.name)}
    missing = {sku: p.code for p in run.engine.erp_list("products") if p.code not in published
               for sku in p.skus}
    kept = []
    for entry in entries:
        code = missing.get(entry.item.sku)
        if code is None:
            kept.append(entry)
        else:
            run.hold(entry.local_id, ValidationError(
                "sku", entry.item.sku, f"its product {code} is not on this store yet (see the "
                                       f"products flow)"))
    return kept


def _scoped(sku: str, scope: str | None) -> str:
    return f"{sku}@{scope}" if scope else sku


def orders(run: Run) -> None:
    """Orders changed since the checkpoint (less the overlap), then the held ones again."""
    doubt = [item for _, _, item in run.ledger.in_doubt(run.name, "orders")]
    run.report.recovered += doubt
    since = _since(run.ledger.checkpoint(run.name, "orders"), run.engine.overlap)
    newest = run.take_orders(run.link.connection.call("receive_orders", since=since))
    # held orders, and imports a dead run left in doubt that this read did not bring again
    again = [h.item_id for h in run.ledger.held(run.name, "orders") if not h.item_id.startswith("?")]
    again += [i for _, _, i in run.ledger.in_doubt(run.name, "orders") if i in doubt]
    seen = {*run.report.received, *(item for item, _ in run.report.held)}  # read in this run already
    retry = list(dict.fromkeys(i for i in again if i not in seen))
    if retry and run.can("get_orders") and not run.dry_run:
        run.report.held = [h for h in run.report.held if h[0] not in retry]
        run.take_orders(run.link.connection.call("get_orders", ids=retry))
    if newest is not None and not run.dry_run:
        old = run.ledger.checkpoint(run.name, "orders")
        if old is None or newest > datetime.fromisoformat(old):  # by time: offsets differ
            run.ledger.advance(run.name, "orders", newest.isoformat())


def _unnamed(record: Held) -> str:
    """A held record the platform gave no id (a file that is no order list): ``?`` and a digest
    of its error and content, so each is a held record of its own and none is asked for by id."""
    text = f"{describe(record.error)}|{record.raw!r}"
    return "?" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]


def _since(checkpoint: str | None, overlap: timedelta) -> datetime | None:
    return None if checkpoint is None else datetime.fromisoformat(checkpoint) - overlap


def reservations(run: Run) -> None:
    """Hold stock here for open orders taken by other stores; give it back when they move on.

    Connections given one ``store`` key (a Tray store's REST and SOAP modalities) are one
    store: an order taken by one of them already holds its stock on the others."""
    published = {r.local_id for _, r in run.ledger.records("stock", run.name)}
    here = run.link.connection.store_key
    origin = {r.local_id: c for c, r in run.ledger.records("order")
              if c != run.name and run.engine.store_key(c) != here}  # the same store's own orders: no
    wanted: dict[str, StockReservation] = {}
    for order in run.engine.erp_orders():
        if origin.get(order.id) is None or order.status not in _RESERVING:
            continue
        for index, item in enumerate(order.items, start=1):
            if item.sku in published:
                ident = f"{order.id}-{index}"
                wanted[ident] = StockReservation(id=ident, sku=item.sku, quantity=item.quantity,
                                                 order_id=order.id)
    run.push("reservation", "reserve_stock", "reservations",
             [Entry(i, r, digest(r)) for i, r in sorted(wanted.items())])
    held_here = {r.local_id: r for _, r in run.ledger.records("reservation", run.name)}
    gone = [i for i in sorted(held_here) if i not in wanted]
    if not gone or not run.can("release_stock"):
        return
    releases = _rebuild(run, gone)
    if run.dry_run:
        run.report.planned += [r.id for r in releases]
        return
    for reservation, result in zip(releases, run.link.connection.call(
            "release_stock", reservations=releases), strict=True):
        if result.ok:
            run.ledger.forget(run.name, "reservation", reservation.id)
            run.report.sent.append(f"release {reservation.id}")
        else:
            run.report.failed.append((reservation.id, describe(result.error)))


def _rebuild(run: Run, idents: Sequence[str]) -> list[StockReservation]:
    """The reservations to release, rebuilt from the ERP's orders (ids are order-index)."""
    by_order = {o.id: o for o in run.engine.erp_orders()}
    found: list[StockReservation] = []
    for ident in idents:
        order_id, _, index = ident.rpartition("-")
        order = by_order.get(order_id)
        if order is not None and index.isdigit() and int(index) <= len(order.items):
            item = order.items[int(index) - 1]
            found.append(StockReservation(id=ident, sku=item.sku, quantity=item.quantity,
                                          order_id=order_id))
        elif not run.dry_run:
            run.ledger.forget(run.name, "reservation", ident)  # the order is gone from the ERP
    return found


def invoices(run: Run) -> None:
    """The NF-e the ERP issued, onto the store's orders (seed 002)."""
    entries = []
    for order, remote in run.bound_orders():
        for invoice in order.invoices:
            sent = attrs.evolve(invoice, order_id=remote)
            entries.append(Entry(invoice.access_key, sent, digest(sent)))
    run.push("invoice", "send_invoice", "invoices", entries)


def trackings(run: Run) -> None:
    """Tracking codes of shipments made ready; needs the store's "shipped" status mapped (seed 001)."""
    entries = []
    for order, remote in run.bound_orders():
        for tracking in order.trackings:
            sent = attrs.evolve(tracking, order_id=remote)
            entries.append(Entry(f"{order.id}:{tracking.code}", sent, digest(sent)))
    if entries:
        try:
            run.link.connection.mappings.status_to_platform(OrderStatus.SHIPPED)
        except MappingError as exc:
            for entry in entries:
                run.hold(entry.local_id, exc)
            return
    run.push("tracking", "send_tracking", "trackings", entries)


def statuses(run: Run) -> None:
    """ERP status changes to the store (cancelled and delivered go by their own flows where offered)."""
    own = {OrderStatus.CANCELLED: "send_cancellation", OrderStatus.DELIVERED: "mark_delivered"}
    entries = []
    for order, remote in run.bound_orders():
        status = order.status or OrderStatus.OPEN
        if status in own and run.can(own[status]):
            continue
        entries.append(Entry(order.id, StatusUpdate(order_id=remote, status=status), status.value))
    run.push("status", "sync_status", "updates", entries)


def cancellations(run: Run) -> None:
    entries = [Entry(order.id, Cancellation(order_id=remote, reason=order.notes or "cancelado no ERP"),
                     OrderStatus.CANCELLED.value)
               for order, remote in run.bound_orders() if order.status is OrderStatus.CANCELLED]
    run.push("status", "send_cancellation", "cancellations", entries)


def deliveries(run: Run) -> None:
    entries = [Entry(order.id, Delivery(order_id=remote), OrderStatus.DELIVERED.value)
               for order, remote in run.bound_orders() if order.status is OrderStatus.DELIVERED]
    run.push("status", "mark_delivered", "orders", entries)


@attrs.frozen
class Flow:
    """A flow's name, the capability it needs, what it does."""

    name: str
    capability: str
    run: Callable[[Run], None]

    @property
    def summary(self) -> str:
        return (self.run.__doc__ or self.name).strip().splitlines()[0]


#: every flow, in the order a full sync runs them: catalogue first (seed 002), then orders,
#: then what follows an order (reservations, invoice, tracking, status, cancellation, delivery)
FLOWS: tuple[Flow, ...] = (
    Flow("categories", "map_categories", categories),
    Flow("products", "send_products", products),
    Flow("prices", "send_prices", prices),
    Flow("stock", "send_stock", stock),
    Flow("orders", "receive_orders", orders),
    Flow("reservations", "reserve_stock", reservations),
    Flow("invoices", "send_invoice", invoices),
    Flow("trackings", "send_tracking", trackings),
    Flow("statuses", "sync_status", statuses),
    Flow("cancellations", "send_cancellation", cancellations),
    Flow("deliveries", "mark_delivered", deliveries),
)

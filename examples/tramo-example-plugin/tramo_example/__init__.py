"""tramo plugin ``example``: minishop (an invented HTTP/JSON store), modality ``rest``.

The model third-party plugin, shaped as tramo's built-in ones:

- this module: the hooks, short, each one call shape;
- :mod:`tramo_example.wire`: minishop JSON <-> the tramo model and error bodies (pure);
- :mod:`tramo_example.client`: the API client over the core's HTTP client;
- :mod:`tramo_example.sandbox`: minishop on loopback, for hosts, tests and the kit.

Most hooks are plain functions; ``check_connection``, ``list_order_statuses``
and ``receive_products`` are ``async`` to show that style (the core runs both
kinds for sync and asyncio hosts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime

import tramo
from tramo.paging import Page, cursor_pages, gather_pages
from tramo.writes import write_each

from tramo_example import wire
from tramo_example.client import api, async_api, path

# Imported before the ``sandbox`` hook below is defined, so that the package's
# ``sandbox`` attribute is the hook (pluggy reads it) and not the submodule.
from tramo_example.sandbox import MinishopSandbox

__version__ = "0.2.0"

#: The capabilities that change the store; ``read_only`` narrows them away.
WRITES = ("send_products", "map_categories", "send_prices", "send_stock", "reserve_stock",
          "release_stock", "sync_status", "send_tracking")

Checkpoint = datetime | str | None


# -- plumbing ---------------------------------------------------------------------


@tramo.hookimpl
def plugin_info() -> tramo.PluginInfo:
    return tramo.PluginInfo(
        name="example", platform="minishop", modality="rest", version=__version__,
        description="minishop stores through their REST API (an invented platform to copy from).",
        settings=(
            tramo.Setting(name="api_address", description="minishop API address, e.g. "
                          "https://api.minishop.example/v1"),
            tramo.Setting(name="api_token", secret=True, description="The store's API token."),
            tramo.Setting(name="page_size", kind="int", required=False, default=50,
                          description="Records per page on reads (minishop allows 1 to 100)."),
            tramo.Setting(name="read_only", kind="bool", required=False, default=False,
                          description="Only read: the writes are not offered on this connection."),
        ),
        features={"receive_orders": {"incremental": True, "queue": False},
                  "receive_products": {"incremental": True},
                  "send_products": {"variants": True, "max_images": wire.IMAGES_MAX}},
    )


@tramo.hookimpl
async def check_connection(connection: tramo.Connection) -> tramo.ConnectionReport:
    # A refused token raises AuthenticationError: the platform cannot be asked at all.
    account = (await async_api(connection).get("/account")).get("data") or {}
    problems = []
    size = connection.settings["page_size"]
    if not 1 <= size <= wire.PER_PAGE_MAX:
        problems.append(f"page_size {size} is outside minishop's 1 to {wire.PER_PAGE_MAX}; "
                        f"reads will use {max(1, min(size, wire.PER_PAGE_MAX))}")
    if not connection.settings["read_only"] and "write" not in account.get("scopes", ()):
        problems.append("the API token cannot write: issue one with the write scope, "
                        "or set read_only")
    return tramo.ConnectionReport(problems=tuple(problems), details={
        "store": str(account.get("store", "?")), "plan": str(account.get("plan", "?")),
        "scopes": ", ".join(account.get("scopes", ()))})


@tramo.hookimpl
def restrict_capabilities(connection: tramo.Connection) -> Mapping[str, str]:
    if connection.settings["read_only"]:
        return {capability: "the connection is configured read_only" for capability in WRITES}
    return {}


@tramo.hookimpl
def sandbox() -> MinishopSandbox:
    return MinishopSandbox()


# -- catalogue --------------------------------------------------------------------------


@tramo.hookimpl
def send_products(connection: tramo.Connection,
                  products: Sequence[tramo.Product]) -> list[tramo.WriteResult]:
    minishop = api(connection)

    def send(product: tramo.Product, body: dict[str, object]) -> tramo.WriteResult:
        # minishop has no upsert: find the product by its code, then create or replace it.
        found = minishop.find_product(product.code)
        if found is None:
            try:
                status, answer = minishop.send("POST", "/products", body)  # never sent twice
                return wire.result_of(product.code, status, answer)
            except tramo.PlatformError as exc:
                if exc.code != "code_taken":  # someone created it since we looked: update it
                    raise
                found = minishop.find_product(product.code)
                if found is None:
                    raise
        status, answer = minishop.send("PUT", path("/products/{}", str(found["id"])), body)
        return wire.result_of(product.code, status, answer)

    return write_each(products, lambda p: p.code, wire.product_body, send)


@tramo.hookimpl
async def receive_products(connection: tramo.Connection,
                           since: Checkpoint) -> AsyncIterator[tramo.Product | tramo.Held]:
    # Page numbers: the first page says how many there are, the rest come four at a time.
    minishop = async_api(connection)
    params = wire.since_param(since)
    first, pages = await minishop.page("/products", params, 1)

    async def fetch(number: int) -> list[object]:
        return (await minishop.page("/products", params, number))[0]

    for record in first:
        yield _product_or_held(record)
    if pages > 1:
        async for record in gather_pages(fetch, pages - 1, first=2, concurrency=4):
            yield _product_or_held(record)


def _product_or_held(record: object) -> tramo.Product | tramo.Held:
    try:
        return wire.product_from_wire(record)  # type: ignore[arg-type]
    except tramo.ValidationError as exc:
        return tramo.Held("product", exc, remote_id=_id_of(record), raw=record)


@tramo.hookimpl
def map_categories(connection: tramo.Connection,
                   categories: Sequence[tramo.Category]) -> list[tramo.WriteResult]:
    # minishop finds a category by its code (the ERP's id) and its parent by the
    # parent's code, so parents go first; a cycle in the input is held, not sent.
    minishop = api(connection)
    pending = list(dict.fromkeys(categories))
    batch = {c.id for c in pending}
    done: dict[str, tramo.WriteResult] = {}

    def send(category: tramo.Category, body: dict[str, object]) -> tramo.WriteResult:
        status, answer = minishop.send("PUT", path("/categories/by-code/{}", category.id), body)
        return wire.result_of(category.id, status, answer)

    while pending:
        ready = [c for c in pending if c.parent_id not in batch or c.parent_id in done]
        if not ready:
            for category in pending:
                done[category.id] = tramo.WriteResult.held(category.id, tramo.ValidationError(
                    "Category.parent_id", category.parent_id, "the category tree has a cycle"))
            break
        results = write_each(ready, lambda c: c.id, wire.category_body, send)
        done.update((category.id, result) for category, result in zip(ready, results))
        pending = [c for c in pending if c.id not in done]
    return [done[c.id] for c in categories]


# -- stock and prices ---------------------------------------------------------------------


@tramo.hookimpl
def send_stock(connection: tramo.Connection,
               levels: Sequence[tramo.StockLevel]) -> list[tramo.WriteResult]:
    minishop = api(connection)

    def send(level: tramo.StockLevel, body: dict[str, object]) -> tramo.WriteResult:
        status, answer = minishop.send("PUT", path("/stock/{}", level.sku), body)
        return wire.result_of(level.sku, status, answer, key="sku")

    return write_each(levels, lambda lv: lv.sku, wire.stock_body, send)


@tramo.hookimpl
def send_prices(connection: tramo.Connection,
                prices: Sequence[tramo.Price]) -> list[tramo.WriteResult]:
    minishop = api(connection)

    def send(price: tramo.Price, body: dict[str, object]) -> tramo.WriteResult:
        status, answer = minishop.send("PUT", path("/prices/{}", price.sku), body)
        return wire.result_of(price.sku, status, answer, key="sku")

    return write_each(prices, lambda p: p.sku, wire.price_body, send)


@tramo.hookimpl
def reserve_stock(connection: tramo.Connection,
                  reservations: Sequence[tramo.StockReservation]) -> list[tramo.WriteResult]:
    minishop = api(connection)

    def send(reservation: tramo.StockReservation, body: dict[str, object]) -> tramo.WriteResult:
        # minishop keeps each reservation id once, so a repeated POST cannot reserve
        # twice: the client may retry it. Too little stock is a 409 -> FAILED.
        status, answer = minishop.send("POST", "/reservations", body, idempotent=True)
        return wire.result_of(reservation.id, status, answer)

    return write_each(reservations, lambda r: r.id, wire.reservation_body, send)


@tramo.hookimpl
def release_stock(connection: tramo.Connection,
                  reservations: Sequence[tramo.StockReservation]) -> list[tramo.WriteResult]:
    minishop = api(connection)

    def send(reservation: tramo.StockReservation, body: object) -> tramo.WriteResult:
        try:
            status, answer = minishop.send("DELETE", path("/reservations/{}", reservation.id))
        except tramo.PlatformError as exc:
            if exc.code == "not_found":  # never reserved here: nothing is held for it
                return tramo.WriteResult(reservation.id, tramo.Outcome.UNCHANGED)
            raise
        return wire.result_of(reservation.id, status, answer)

    return write_each(reservations, lambda r: r.id, lambda r: None, send)


# -- orders ----------------------------------------------------------------------------------


@tramo.hookimpl
def receive_orders(connection: tramo.Connection,
                   since: Checkpoint) -> Iterator[tramo.Order | tramo.Held]:
    # Each request asks for what changed after the last change time seen (minishop's
    # change times are unique and increasing), always page 1. Unlike page numbers,
    # an order changing during the read cannot make another slide to an
    # already-read page and be skipped; cursor_pages stops if a cursor repeats.
    minishop = api(connection)
    start = wire.since_param(since)

    def fetch(cursor: object) -> Page[object]:
        params = start if cursor is None else {"updated_since": cursor}
        records, pages = minishop.page("/orders", params, 1)
        last = records[-1].get("updated_at") if records and isinstance(records[-1], dict) else None
        if pages > 1 and not isinstance(last, str):
            raise tramo.TransientError("minishop sent an order without a change time; "
                                       "the read cannot go past it")
        return Page(records, last if pages > 1 else None)

    for record in cursor_pages(fetch):
        try:
            yield wire.order_from_wire(record)  # type: ignore[arg-type]
        except tramo.ValidationError as exc:
            yield tramo.Held("order", exc, remote_id=_id_of(record), raw=record)


@tramo.hookimpl
def sync_status(connection: tramo.Connection,
                updates: Sequence[tramo.StatusUpdate]) -> list[tramo.WriteResult]:
    minishop = api(connection)

    def send(update: tramo.StatusUpdate, body: dict[str, object]) -> tramo.WriteResult:
        status, answer = minishop.send("PUT", path("/orders/{}/status", update.order_id), body)
        return wire.result_of(update.order_id, status, answer)

    return write_each(updates, lambda u: u.order_id, wire.status_body, send)


@tramo.hookimpl
def send_tracking(connection: tramo.Connection,
                  trackings: Sequence[tramo.Tracking]) -> list[tramo.WriteResult]:
    minishop = api(connection)

    def send(tracking: tramo.Tracking, body: dict[str, object]) -> tramo.WriteResult:
        try:
            # minishop refuses a code the order already has (409), so a repeated
            # POST cannot add it twice: the client may retry it.
            status, answer = minishop.send("POST", path("/orders/{}/trackings", tracking.order_id),
                                           body, idempotent=True)
        except tramo.PlatformError as exc:
            if exc.code == "tracking_exists":
                return tramo.WriteResult(tracking.code, tramo.Outcome.UNCHANGED,
                                         remote_id=tracking.code)
            raise
        return wire.result_of(tracking.code, status, answer, key="code")

    return write_each(trackings, lambda t: t.code, wire.tracking_body, send)


@tramo.hookimpl
async def list_order_statuses(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return wire.options_of(await async_api(connection).get("/order-statuses"))


def _id_of(record: object) -> str | None:
    ident = record.get("id") if isinstance(record, dict) else None
    return None if ident is None else str(ident)

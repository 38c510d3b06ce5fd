"""Ideris marketplace hub, API v1: platform ``ideris``, modality ``rest``.

- this module: the hooks, each one call shape;
- :mod:`tramo_ideris.wire`: Ideris JSON <-> the tramo model, error bodies (pure);
- :mod:`tramo_ideris.client`: the API client, its JWT, paging and look-ups;
- :mod:`tramo_ideris.products`: product creation followed through Ideris' protocols;
- :mod:`tramo_ideris.sandbox`: an Ideris account on loopback.

Reads are ``async``: list pages, and one ``Pedido?ids=`` call per page of
orders, run concurrently within the budget. Writes are plain functions.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import tramo
from tramo.http import IDEMPOTENT, path
from tramo.paging import fetch_each
from tramo.scalars import text
from tramo.writes import write_each, write_together

from tramo_ideris import wire
from tramo_ideris.client import AsyncIderis, Ideris, api, async_api, keeper, notifier
from tramo_ideris.products import send_products as _send_products

# Imported before the ``sandbox`` hook below is defined, so that the package's
# ``sandbox`` attribute is the hook (pluggy reads it) and not the submodule.
from tramo_ideris.sandbox import IderisSandbox

__version__ = "0.2.0"

Checkpoint = datetime | str | None

#: Plans whose stock sending needs the paid real-time stock extension (seed 003).
EXTENSION_PLANS = frozenset({"iniciante", "basico"})

_SETTINGS: tuple[tramo.Setting, ...] = (
    tramo.Setting(name="base_url", required=False, default="https://api.ideris.com.br",
                  description="API root of Ideris v1 (documented as http://api.ideris.com.br; tramo "
                              "speaks https only, loopback aside)."),
    tramo.Setting(name="login_token", secret=True,
                  description="'Token de autenticação API' created in Ideris, exchanged at /Login for a JWT."),
    tramo.Setting(name="plan", required=False, choices=("iniciante", "basico", "essencial", "grande"),
                  description="Account plan; iniciante and basico need an extension to send stock."),
    tramo.Setting(name="realtime_stock_extension", kind="bool", required=False, default=False,
                  description="Whether the 'API para estoque em tempo real' extension is installed."),
    tramo.Setting(name="tracking_notification_url", required=False, secret=True,
                  description="'URL para envio de rastreio', from Ideris support: receives tracking codes."),
    tramo.Setting(name="invoice_notification_url", required=False, secret=True,
                  description="'URL para envio da nota fiscal', from Ideris support: receives NF-e data."),
    tramo.Setting(name="requests_per_minute", kind="int", required=False, default=60,
                  description="Requests a minute (Ideris publishes no limit; 429s are honoured too)."),
    tramo.Setting(name="requests_per_second", kind="int", required=False, default=0,
                  description="A per-second pace on top of the minute's (for an account or proxy "
                              "that refuses bursts); 0 for none."),
    tramo.Setting(name="concurrency", kind="int", required=False, default=4,
                  description="Requests in flight at once on reads (the budget still paces them)."),
    tramo.Setting(name="page_size", kind="int", required=False, default=50,
                  description="Records per list page (Ideris allows 1 to 50)."),
    tramo.Setting(name="token_minutes", kind="int", required=False, default=60,
                  description="How long a JWT lasts when it carries no exp claim."),
    tramo.Setting(name="category_id", kind="int", required=False,
                  description="Ideris category id (categoriaIdIderis) of products created from the ERP."),
    tramo.Setting(name="subcategory_id", kind="int", required=False,
                  description="Ideris sub-category id (subCategoriaIdIderis) of created products."),
    tramo.Setting(name="department_id", kind="int", required=False,
                  description="Ideris department id (departamentoIdIderis) of created products."),
    tramo.Setting(name="brand_id", kind="int", required=False,
                  description="Ideris brand id (marcaIdIderis) for products without a brand."),
    tramo.Setting(name="protocol_wait_seconds", kind="int", required=False, default=120,
                  description="How long send_products follows Ideris' asynchronous creations."),
)


# -- plumbing ---------------------------------------------------------------------------


@tramo.hookimpl
def plugin_info() -> tramo.PluginInfo:
    return tramo.PluginInfo(
        name="ideris", platform="ideris", modality="rest", version=__version__,
        description="Ideris, a hub that gathers orders and listings of many marketplaces (API v1).",
        settings=_SETTINGS,
        features={"receive_orders": {"incremental": True, "queue": False},
                  "receive_products": {"incremental": False},
                  "send_products": {"variants": True, "asynchronous": True},
                  "send_tracking": {"via": "notification URL"},
                  "send_invoice": {"via": "notification URL"}},
    )


@tramo.hookimpl
def check_connection(connection: tramo.Connection) -> tramo.ConnectionReport:
    # A refused login token raises AuthenticationError: Ideris cannot be asked at all.
    marketplaces = wire.options(api(connection).pages("/Marketplace"))
    settings = connection.settings
    problems = []
    size = int(settings["page_size"])
    if not 1 <= size <= wire.PAGE_MAX:
        problems.append(f"page_size {size} is outside Ideris' 1 to {wire.PAGE_MAX}; reads use "
                        f"{max(1, min(size, wire.PAGE_MAX))}")
    missing = [name for name in ("category_id", "subcategory_id", "department_id", "brand_id")
               if settings.get(name) is None]
    if missing:
        problems.append(f"{', '.join(missing)} not set: products cannot be created on Ideris "
                        f"(updates still work)")
    problems.extend(connection.restrictions().values())
    claims = keeper(connection).get()
    return tramo.ConnectionReport(problems=tuple(problems), details={
        "marketplaces": ", ".join(m.name for m in marketplaces) or "none",
        "token_expires": claims.expires_at.isoformat() if claims.expires_at else "?"})


@tramo.hookimpl
def restrict_capabilities(connection: tramo.Connection) -> Mapping[str, str]:
    settings = connection.settings
    found: dict[str, str] = {}
    plan = settings.get("plan")
    if plan is None:
        found["send_stock"] = ("the Ideris plan is not set: set plan (and realtime_stock_extension on "
                               "iniciante or basico) so tramo knows whether stock may be sent")
    elif plan in EXTENSION_PLANS and not settings["realtime_stock_extension"]:
        found["send_stock"] = (f"plan {plan!r} sends stock only with the 'API para estoque em tempo "
                               f"real' extension; install it and set realtime_stock_extension")
    if not settings.get("tracking_notification_url"):
        found["send_tracking"] = ("no tracking_notification_url: ask Ideris support for the "
                                  "'URL para envio de rastreio'")
    if not settings.get("invoice_notification_url"):
        found["send_invoice"] = ("no invoice_notification_url: ask Ideris support for the "
                                 "'URL para envio da nota fiscal'")
    return found


@tramo.hookimpl
def sandbox() -> IderisSandbox:
    return IderisSandbox()


# -- orders ---------------------------------------------------------------------------------


def _convert(records: Sequence[Mapping[str, Any]], wanted: Sequence[str],
             connection: tramo.Connection) -> list[tramo.Order | tramo.Held]:
    """Orders in ``wanted``'s order; one Ideris did not return is held, not dropped."""
    by_id = {text(r.get("id")): r for r in records}
    found: list[tramo.Order | tramo.Held] = []
    for ident in wanted:
        record = by_id.get(ident)
        if record is None:
            found.append(tramo.Held("order", tramo.PlatformError(
                f"order {ident} was listed but Ideris did not return it", code="not_found"),
                remote_id=ident))
            continue
        try:
            found.append(wire.order_from_wire(record, connection.timezone))
        except tramo.ValidationError as exc:
            found.append(tramo.Held("order", exc, remote_id=ident, raw=record))
    return found


@tramo.hookimpl
async def receive_orders(connection: tramo.Connection,
                         since: Checkpoint) -> AsyncIterator[tramo.Order | tramo.Held]:
    ideris = async_api(connection)
    params = wire.since_params(since, connection.timezone)

    async def details(page: list[dict[str, Any]]) -> list[tramo.Order | tramo.Held]:
        ids = [text(r.get("id")) for r in page]
        return _convert(await ideris.orders(ids), ids, connection)

    async for converted in fetch_each(ideris.page_lists("/ListaPedido", params), details,
                                      concurrency=ideris.concurrency):
        for order in converted:
            yield order


@tramo.hookimpl
async def get_orders(connection: tramo.Connection,
                     ids: Sequence[str]) -> AsyncIterator[tramo.Order | tramo.Held]:
    ideris = async_api(connection)
    wanted = [i for i in ids if i.isdigit()]
    for ident in ids:
        if not ident.isdigit():
            yield tramo.Held("order", tramo.ValidationError("ids", ident, "is not an Ideris order id"),
                             remote_id=ident)
    for start in range(0, len(wanted), wire.PAGE_MAX):
        chunk = wanted[start:start + wire.PAGE_MAX]
        for order in _convert(await ideris.orders(chunk), chunk, connection):
            yield order


@tramo.hookimpl
def sync_status(connection: tramo.Connection,
                updates: Sequence[tramo.StatusUpdate]) -> list[tramo.WriteResult]:
    ideris = api(connection)

    def body(update: tramo.StatusUpdate) -> tuple[int, str]:
        if not update.platform_status:
            raise tramo.ValidationError("StatusUpdate.platform_status", None, "no Ideris status")
        return wire.order_number(update.order_id, "StatusUpdate.order_id"), update.platform_status

    def send(update: tramo.StatusUpdate, prepared: tuple[int, str]) -> tramo.WriteResult:
        number, status = prepared
        found = wire.records(ideris.get(path("/Pedido/{}", update.order_id)))
        if found and text(found[0].get("status")) == status:
            return tramo.WriteResult(update.order_id, tramo.Outcome.UNCHANGED, remote_id=update.order_id)
        ideris.send("PUT", "/PedidoStatus", {"idPedidos": number, "idNovoStatus": ideris.status_id(status)})
        return tramo.WriteResult(update.order_id, tramo.Outcome.UPDATED, remote_id=update.order_id)

    return write_each(updates, lambda u: u.order_id, body, send)


def _notify(connection: tramo.Connection, setting: str, local_id: str,
            body: dict[str, Any]) -> tramo.WriteResult:
    """POST a notification once: the state remembers it was taken, the receiver drops repeats."""
    key = f"ideris:notified:{body['idEvento']}"
    if connection.state.get(key):
        return tramo.WriteResult(local_id, tramo.Outcome.UNCHANGED, remote_id=text(body["dados"]["idPedido"]))
    # The body's idEvento makes a repeat harmless, so a lost answer may be retried.
    response = notifier(connection).post(connection.settings[setting].reveal(), json=body,
                                         extensions={IDEMPOTENT: True})
    wire.notification_accepted(response.status_code, response.content)
    connection.state.set(key, True)
    return tramo.WriteResult(local_id, tramo.Outcome.CREATED, remote_id=text(body["dados"]["idPedido"]))


@tramo.hookimpl
def send_tracking(connection: tramo.Connection,
                  trackings: Sequence[tramo.Tracking]) -> list[tramo.WriteResult]:
    return write_each(trackings, lambda t: t.code,
                      lambda t: wire.tracking_notification(t, connection.timezone),
                      lambda t, body: _notify(connection, "tracking_notification_url", t.code, body))


@tramo.hookimpl
def send_invoice(connection: tramo.Connection,
                 invoices: Sequence[tramo.Invoice]) -> list[tramo.WriteResult]:
    return write_each(invoices, lambda i: i.access_key,
                      lambda i: wire.invoice_notification(i, connection.timezone),
                      lambda i, body: _notify(connection, "invoice_notification_url", i.access_key, body))


# -- catalogue, stock and prices ---------------------------------------------------------------


@tramo.hookimpl
def send_products(connection: tramo.Connection,
                  products: Sequence[tramo.Product]) -> list[tramo.WriteResult]:
    return _send_products(connection, products)


@tramo.hookimpl
async def receive_products(connection: tramo.Connection,
                           since: Checkpoint) -> AsyncIterator[tramo.Product | tramo.Held]:
    # Ideris lists products with no change filter: every read is a whole one (``since`` is not used).
    ideris = async_api(connection)
    no_brand = connection.settings.get("brand_id")
    async for page in ideris.page_lists("/Produto", {"include": "imagem"}):
        for record in page:
            try:
                yield wire.product_from_wire(record, no_brand)
            except tramo.ValidationError as exc:
                yield tramo.Held("product", exc, remote_id=text(record.get("id")) or None, raw=record)


def _sku_target(ideris: Ideris, sku: str) -> tuple[str, dict[str, Any]]:
    """(kind, product) a SKU lives on: ``"product"`` (its own sku) or ``"variation"``."""
    record = ideris.product_by_sku(sku)
    if record is None:
        raise tramo.PlatformError(f"no product or variation on Ideris has the sku {sku!r}",
                                  code="not_found")
    return ("product" if text(record.get("sku")) == sku else "variation"), record


@tramo.hookimpl
def send_stock(connection: tramo.Connection,
               levels: Sequence[tramo.StockLevel]) -> list[tramo.WriteResult]:
    # One PUT per product: its own stock, or all its variations' stock in one body.
    ideris = api(connection)

    def body(level: tramo.StockLevel) -> int:
        wire.check_stock(level)
        return level.quantity

    def send(pairs: list[tuple[tramo.StockLevel, int]]) -> list[tramo.WriteResult]:
        results: dict[int, tramo.WriteResult] = {}
        groups: dict[str, list[tuple[int, str, int]]] = collections.defaultdict(list)
        for index, (level, quantity) in enumerate(pairs):
            try:
                kind, record = _sku_target(ideris, level.sku)
            except tramo.TramoError as exc:
                results[index] = tramo.WriteResult.failed(level.sku, exc)
                continue
            if kind == "product" and record.get("Variacao"):
                results[index] = tramo.WriteResult.failed(level.sku, tramo.ValidationError(
                    "StockLevel.sku", level.sku, "the product has variations: send each variation's stock"))
                continue
            groups[f"{kind}:{text(record.get('sku'))}"].append((index, level.sku, quantity))
        for group, members in groups.items():
            kind, _, parent = group.partition(":")
            if kind == "product":
                [(_, sku, quantity)] = members[-1:]
                change: dict[str, Any] = {"quantidadeEstoquePrincipal": quantity}
            else:
                latest = {sku: quantity for _, sku, quantity in members}
                change = {"Variacao": wire.variation_stock(latest.items())}
            try:
                answer = wire.records(ideris.send("PUT", "/Produto", {"sku": parent, **change}))
                remote = text(answer[0].get("id")) if answer else None
                for index, sku, _ in members:
                    results[index] = tramo.WriteResult(sku, tramo.Outcome.UPDATED, remote_id=remote)
            except tramo.TramoError as exc:
                for index, sku, _ in members:
                    results[index] = tramo.WriteResult.failed(sku, exc)
        return [results[i] for i in range(len(pairs))]

    return write_together(levels, lambda lv: lv.sku, body, send)


@tramo.hookimpl
def send_prices(connection: tramo.Connection,
                prices: Sequence[tramo.Price]) -> list[tramo.WriteResult]:
    ideris = api(connection)

    def send(price: tramo.Price, fields: dict[str, Any]) -> tramo.WriteResult:
        kind, record = _sku_target(ideris, price.sku)
        if kind == "variation":
            raise tramo.ValidationError("Price.sku", price.sku, (
                f"is a variation of {text(record.get('sku'))!r}; Ideris keeps one price per "
                f"product: send the price under the product's code"))
        if wire.same_number(fields["valorVenda"], record.get("valorVenda")):
            return tramo.WriteResult(price.sku, tramo.Outcome.UNCHANGED, remote_id=text(record.get("id")))
        ideris.send("PUT", "/Produto", {"id": record.get("id"), **fields})
        return tramo.WriteResult(price.sku, tramo.Outcome.UPDATED, remote_id=text(record.get("id")))

    return write_each(prices, lambda p: p.sku, wire.price_body, send)


# -- look-ups ---------------------------------------------------------------------------------


@tramo.hookimpl
def list_order_statuses(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return wire.options(api(connection).pages("/Status"), module="Pedido")


@tramo.hookimpl
def list_sales_channels(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return wire.options(api(connection).pages("/Marketplace"))


__all__ = ["AsyncIderis", "IderisSandbox", "plugin_info"]

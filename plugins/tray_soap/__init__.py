"""Tray Commerce SOAP webservice v2 (``ws_servidor.php``): platform ``tray``, modality ``soap``.

- this module: the hooks, each one call shape;
- :mod:`tramo_tray_soap.wire`: Tray's SOAP structs <-> the tramo model, its faults (pure);
- :mod:`tramo_tray_soap.client`: the webservice client, the order's four calls, look-ups;
- :mod:`tramo_tray_soap.sandbox`: a Tray store's webservice on loopback.

Every hook is ``async``: a call may take seconds (seed 001 saw 7 s), so an
order's four calls go at once and orders overlap, within the rate budget.
What the store's WSDL lacks is not offered (:func:`restrict_capabilities`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import tramo
from tramo.paging import fetch_each
from tramo.writes import awrite_each

from tramo_tray_soap import wire
from tramo_tray_soap.client import TraySoap, api

# Imported before the ``sandbox`` hook below is defined, so that the package's
# ``sandbox`` attribute is the hook (pluggy reads it) and not the submodule.
from tramo_tray_soap.sandbox import TraySoapSandbox

__version__ = "0.2.0"

_SETTINGS: tuple[tramo.Setting, ...] = (
    tramo.Setting(name="store_url",
                  description="Store address; the service is /webservice/v2/ws_servidor.php under it."),
    tramo.Setting(name="store_id", description="Store id, sent as pid_loja in every call."),
    tramo.Setting(name="login", required=False, default="webservice",
                  description="Webservice user, sent as plogin in every call."),
    tramo.Setting(name="password", secret=True,
                  description="Webservice user's password, sent as psenha in every call."),
    tramo.Setting(name="wsdl_file", required=False,
                  description="A local copy of the store's WSDL to read instead of fetching it "
                              "(calls still go to store_url)."),
    tramo.Setting(name="encoding", required=False, default="ISO-8859-1",
                  choices=("ISO-8859-1", "UTF-8"),
                  description="Character encoding of the SOAP requests."),
    tramo.Setting(name="timeout_seconds", kind="int", required=False, default=30,
                  description="Seconds one call may take; single calls have taken about 7 s."),
    tramo.Setting(name="requests_per_minute", kind="int", required=False, default=180,
                  description="Calls a minute the store takes (assumed as Tray's REST limit)."),
    tramo.Setting(name="requests_per_second", kind="int", required=False, default=0,
                  description="A per-second pace on top of the minute's (some stores and proxies "
                              "refuse bursts); 0 for none."),
    tramo.Setting(name="page_size", kind="int", required=False, default=50,
                  description="Orders per fWSImportaPedidos page (1 to 50)."),
    tramo.Setting(name="concurrency", kind="int", required=False, default=8,
                  description="Orders read at once (four calls each); the budget still paces them."),
    tramo.Setting(name="notify_customer_on", required=False, default="*",
                  description="Tray status ids whose change e-mails the customer, comma-separated; "
                              "'*' for every status (the store's default), empty for none. A "
                              "status update's own notify_customer wins."),
)

#: The operations each capability calls; one the store's WSDL lacks makes it unavailable.
NEEDS: Mapping[str, tuple[str, ...]] = {
    "send_products": ("fWSImportaProdutoPorCodReferencia", "fWSCadastraProduto", "fWSAtualizaProduto",
                      "fWSImportaVariacoesProduto", "fWSCadastraVariacaoProduto",
                      "fWSAtualizaVariacaoProduto", "fWSExcluiVariacaoProduto"),
    "send_stock": ("fWSImportaProdutoPorCodReferencia", "fWSImportaVariacaoPorCodReferencia",
                   "fWSAtualizaEstoqueProduto"),
    "reserve_stock": ("fWSImportaProdutoPorCodReferencia", "fWSImportaVariacaoPorCodReferencia",
                      "fWSReservaEstoque"),
    "release_stock": ("fWSLiberaReservaEstoque",),
    "receive_orders": ("fWSImportaPedidos", "fWSImportaPedidoPorId", "fWSImportaItensPedidoPorId",
                       "fWSImportaClientePorPedidoAvancado"),
    "get_orders": ("fWSImportaPedidoPorId", "fWSImportaItensPedidoPorId",
                   "fWSImportaClientePorPedidoAvancado"),
    "acknowledge_orders": ("fWSAtualizaListaToDo",),
    "sync_status": ("fWSImportaPedidoPorId", "fWSAtualizaStatusPedido"),
    "send_tracking": ("fWSImportaPedidoPorId", "fWSAtualizaRastreioPedido"),
    "send_invoice": ("fWSImportaNotasFiscaisPedido", "fWSCadastraNotaFiscalPedido"),
    "list_order_statuses": ("fWSImportaStatusPedido",),
    "list_shipping_methods": ("fWSFormasEnvioDisponiveis",),
    "list_payment_methods": ("fWSFormasPagamentosDisponiveis",),
    "list_sales_channels": ("fWSCanaisVendaDisponiveis",),
}


# -- plumbing ---------------------------------------------------------------------------


@tramo.hookimpl
def plugin_info() -> tramo.PluginInfo:
    return tramo.PluginInfo(
        name="tray_soap", platform="tray", modality="soap", version=__version__,
        description="Tray Commerce stores through the contracted SOAP webservice v2.",
        settings=_SETTINGS,
        features={"receive_orders": {"incremental": False, "queue": True},
                  "send_products": {"variants": True, "max_images": wire.IMAGES_MAX},
                  "reserve_stock": {"emulated": False},
                  "sync_status": {"notify_customer": True}},
    )


@tramo.hookimpl
def restrict_capabilities(connection: tramo.Connection) -> Mapping[str, str]:
    # Reads the store's WSDL (once per process): what it does not offer is not offered.
    offered = api(connection).operations
    restricted = {}
    for capability, operations in NEEDS.items():
        missing = [op for op in operations if op not in offered]
        if missing:
            restricted[capability] = (f"the store's webservice (its WSDL) has no "
                                      f"{', '.join(missing)}")
    return restricted


@tramo.hookimpl
def sandbox() -> TraySoapSandbox:
    return TraySoapSandbox()


@tramo.hookimpl
async def check_connection(connection: tramo.Connection) -> tramo.ConnectionReport:
    # A refused login raises AuthenticationError: the store cannot be asked at all.
    tray = api(connection)
    await tray.call("fWSFormasPagamentosDisponiveis")
    problems = []
    size = int(connection.settings["page_size"])
    if not 1 <= size <= wire.PAGE_MAX:
        problems.append(f"page_size {size} is outside 1 to {wire.PAGE_MAX}; reads use "
                        f"{max(1, min(size, wire.PAGE_MAX))}")
    problems += [f"{capability} unavailable: {reason}"
                 for capability, reason in connection.restrictions().items()]
    return tramo.ConnectionReport(problems=tuple(problems), details={
        "store": str(connection.settings["store_id"]), "operations": str(len(tray.operations))})


# -- catalogue ----------------------------------------------------------------------------


@tramo.hookimpl
async def send_products(connection: tramo.Connection,
                        products: Sequence[tramo.Product]) -> list[tramo.WriteResult]:
    tray = api(connection)
    skus = connection.binder("sku")

    async def send(product: tramo.Product, struct: wire.Struct) -> tramo.WriteResult:
        held = await tray.product_by_code(connection, product.code)
        if held is None:
            # Not found by reference: created, never sent twice (a lost answer is FAILED,
            # and the next send finds the product by its reference instead).
            ident = await tray.write("fWSCadastraProduto", produto=struct)
            _named(ident, "fWSCadastraProduto")
            connection.binder("product").bind(product.code, ident)
            existing: list[wire.Struct] = []
            created = changed = True
        else:
            ident, created = held.get("id_produto", ""), False
            changed = wire.differs(struct, held)
            if changed:
                await tray.write("fWSAtualizaProduto", id_produto=ident,
                                 produto={**struct, "id_produto": ident})
            has = held.get("possui_variacao") == "S"
            existing = (await tray.records("fWSImportaVariacoesProduto", id_produto=ident)
                        if has or product.variants else [])
        changed = await _sync_variants(tray, skus, product, ident, existing) or changed
        if not product.variants:
            skus.bind(product.code, f"N/{ident}")
        outcome = (tramo.Outcome.CREATED if created else
                   tramo.Outcome.UPDATED if changed else tramo.Outcome.UNCHANGED)
        return tramo.WriteResult(product.code, outcome, remote_id=ident)

    return await awrite_each(products, lambda p: p.code, wire.product_struct, send)


def _named(ident: str, operation: str) -> None:
    if not ident:
        raise tramo.OutcomeUnknownError(f"Tray took {operation} but named no id")


async def _sync_variants(tray: TraySoap, skus: Any, product: tramo.Product, product_id: str,
                         existing: list[wire.Struct]) -> bool:
    """Make the product's variants on Tray the product's: update, create, delete. True if any changed."""
    held = {v.get("cod_referencia", ""): v for v in existing}
    changed = False
    for variant in product.variants:
        struct = wire.variant_struct(variant, product_id)
        have = held.pop(variant.sku, None)
        if have is None:
            ident = await tray.write("fWSCadastraVariacaoProduto", id_produto=product_id,
                                     variacao=struct)
            _named(ident, "fWSCadastraVariacaoProduto")
            changed = True
        else:
            ident = have.get("id_variacao", "")
            if wire.differs(struct, have):
                await tray.write("fWSAtualizaVariacaoProduto", id_variacao=ident,
                                 variacao={**struct, "id_variacao": ident})
                changed = True
        skus.bind(variant.sku, f"S/{ident}")
    for reference, gone in held.items():
        await tray.write("fWSExcluiVariacaoProduto", id_variacao=gone.get("id_variacao", ""))
        if reference:
            skus.unbind(reference)
        changed = True
    return changed


# -- stock ----------------------------------------------------------------------------------


@tramo.hookimpl
async def send_stock(connection: tramo.Connection,
                     levels: Sequence[tramo.StockLevel]) -> list[tramo.WriteResult]:
    # The store takes its reservations off what it sells: the ERP's stock goes as it is.
    tray = api(connection)

    async def send(level: tramo.StockLevel, quantity: str) -> tramo.WriteResult:
        grade, ident = await tray.sku_target(connection, level.sku)
        await tray.write("fWSAtualizaEstoqueProduto", is_grade=grade, id_produto=ident,
                         estoque=quantity)
        return tramo.WriteResult(level.sku, tramo.Outcome.UPDATED, remote_id=ident)

    return await awrite_each(levels, lambda lv: lv.sku, wire.stock_quantity, send)


@tramo.hookimpl
async def reserve_stock(connection: tramo.Connection,
                        reservations: Sequence[tramo.StockReservation]) -> list[tramo.WriteResult]:
    # The store keeps reservations by the ERP's id: the same id again is the same reservation.
    tray = api(connection)

    async def send(reservation: tramo.StockReservation, args: dict[str, str]) -> tramo.WriteResult:
        grade, ident = await tray.sku_target(connection, reservation.sku)
        await tray.write("fWSReservaEstoque", is_grade=grade, id_produto=ident, **args)
        return tramo.WriteResult(reservation.id, tramo.Outcome.CREATED, remote_id=reservation.id)

    return await awrite_each(reservations, lambda r: r.id, wire.reservation_args, send)


@tramo.hookimpl
async def release_stock(connection: tramo.Connection,
                        reservations: Sequence[tramo.StockReservation]) -> list[tramo.WriteResult]:
    tray = api(connection)

    async def send(reservation: tramo.StockReservation, args: dict[str, str]) -> tramo.WriteResult:
        await tray.write("fWSLiberaReservaEstoque", id_reserva=args["id_reserva"])
        return tramo.WriteResult(reservation.id, tramo.Outcome.UPDATED, remote_id=reservation.id)

    return await awrite_each(reservations, lambda r: r.id, wire.reservation_args, send)


# -- orders -------------------------------------------------------------------------------------


@tramo.hookimpl
async def receive_orders(connection: tramo.Connection,
                         since: Any) -> AsyncIterator[tramo.Order | tramo.Held]:
    # The store's ToDo list is a queue: orders stay on it until acknowledged, so
    # ``since`` has nothing to add. Each order's four calls go at once, and orders
    # are fetched while the list still pages: 4N + ceil(N/page) calls, paced by the budget.
    tray = api(connection)
    async for order in fetch_each(tray.todo(), tray.order, concurrency=tray.concurrency):
        if order is not None:
            yield order


async def _each(ids: Sequence[str]) -> AsyncIterator[str]:
    for ident in ids:
        yield ident


@tramo.hookimpl
async def get_orders(connection: tramo.Connection,
                     ids: Sequence[str]) -> AsyncIterator[tramo.Order | tramo.Held]:
    tray = api(connection)
    async for found in fetch_each(_each(ids), tray.order, concurrency=tray.concurrency):
        if found is not None:
            yield found


@tramo.hookimpl
async def acknowledge_orders(connection: tramo.Connection,
                             orders: Sequence[str]) -> list[tramo.WriteResult]:
    # fWSAtualizaListaToDo takes the order off the store's list of what the ERP has not integrated.
    tray = api(connection)

    async def send(ident: str, _: None) -> tramo.WriteResult:
        await tray.write("fWSAtualizaListaToDo", entidade="pedidos", id=ident)
        return tramo.WriteResult(ident, tramo.Outcome.UPDATED, remote_id=ident)

    return await awrite_each(orders, lambda i: i, lambda i: None, send)


def _notified(connection: tramo.Connection) -> frozenset[str] | None:
    value = str(connection.settings.get("notify_customer_on") or "").strip()
    return None if value == "*" else frozenset(s.strip() for s in value.split(",") if s.strip())


@tramo.hookimpl
async def sync_status(connection: tramo.Connection,
                      updates: Sequence[tramo.StatusUpdate]) -> list[tramo.WriteResult]:
    # Tray e-mails the customer on each change it is told to: notificar_cliente per status.
    tray = api(connection)
    notified = _notified(connection)

    def args(update: tramo.StatusUpdate) -> dict[str, str]:
        if update.platform_status is None:
            raise tramo.ValidationError("StatusUpdate.platform_status", None, "was not mapped")
        return {"id_status": update.platform_status,
                "notificar_cliente": wire.notify(update, notified)}

    async def send(update: tramo.StatusUpdate, fields: dict[str, str]) -> tramo.WriteResult:
        order = await tray.record("fWSImportaPedidoPorId", id_pedido=update.order_id)
        if order.get("id_status") == fields["id_status"]:
            return tramo.WriteResult(update.order_id, tramo.Outcome.UNCHANGED, remote_id=update.order_id)
        await tray.write("fWSAtualizaStatusPedido", id_pedido=update.order_id, **fields)
        return tramo.WriteResult(update.order_id, tramo.Outcome.UPDATED, remote_id=update.order_id)

    return await awrite_each(updates, lambda u: u.order_id, args, send)


@tramo.hookimpl
async def send_tracking(connection: tramo.Connection,
                        trackings: Sequence[tramo.Tracking]) -> list[tramo.WriteResult]:
    # One tracking code per order: a new code replaces the old.
    tray = api(connection)

    async def send(tracking: tramo.Tracking, fields: dict[str, str]) -> tramo.WriteResult:
        order = await tray.record("fWSImportaPedidoPorId", id_pedido=tracking.order_id)
        if all(order.get(k, "") == v for k, v in fields.items()):
            return tramo.WriteResult(tracking.code, tramo.Outcome.UNCHANGED, remote_id=tracking.order_id)
        await tray.write("fWSAtualizaRastreioPedido", id_pedido=tracking.order_id, **fields)
        outcome = tramo.Outcome.UPDATED if order.get("codigo_rastreio") else tramo.Outcome.CREATED
        return tramo.WriteResult(tracking.code, outcome, remote_id=tracking.order_id)

    return await awrite_each(trackings, lambda t: t.code, wire.tracking_args, send)


@tramo.hookimpl
async def send_invoice(connection: tramo.Connection,
                       invoices: Sequence[tramo.Invoice]) -> list[tramo.WriteResult]:
    # The store files a second invoice with the same key, so look first; the write is
    # never repeated (a lost answer is FAILED, and the next send finds the invoice).
    tray = api(connection)

    async def send(invoice: tramo.Invoice, fields: dict[str, str]) -> tramo.WriteResult:
        held = wire.invoice_keys(await tray.records("fWSImportaNotasFiscaisPedido",
                                                    id_pedido=invoice.order_id))
        if invoice.access_key in held:
            return tramo.WriteResult(invoice.access_key, tramo.Outcome.UNCHANGED,
                                     remote_id=held[invoice.access_key])
        ident = await tray.write("fWSCadastraNotaFiscalPedido", id_pedido=invoice.order_id, **fields)
        return tramo.WriteResult(invoice.access_key, tramo.Outcome.CREATED, remote_id=ident or None)

    return await awrite_each(invoices, lambda i: i.access_key,
                             lambda i: wire.invoice_args(i, connection.timezone), send)


# -- look-ups --------------------------------------------------------------------------------------


async def _options(connection: tramo.Connection, operation: str) -> list[tramo.PlatformOption]:
    return wire.options(await api(connection).records(operation))


@tramo.hookimpl
async def list_order_statuses(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return await _options(connection, "fWSImportaStatusPedido")


@tramo.hookimpl
async def list_shipping_methods(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return await _options(connection, "fWSFormasEnvioDisponiveis")


@tramo.hookimpl
async def list_payment_methods(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return await _options(connection, "fWSFormasPagamentosDisponiveis")


@tramo.hookimpl
async def list_sales_channels(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return await _options(connection, "fWSCanaisVendaDisponiveis")

"""The Tray SOAP client: one per connection, zeep over the core's hardened SOAP client.

The core brings the mechanics (the WSDL fetched once and refused if unsafe,
TLS, the rate budget, reads retried, faults typed, requests in ISO-8859-1).
This module adds what is Tray's own: the credentials in every call, which
operations are reads, how faults read, the ToDo list's pages, the four
calls an order takes, and the look-ups of products and SKUs by ERP code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import zeep.helpers

import tramo
from tramo.budget import Window, published_limits
from tramo.soap import SoapClient, SoapFaultError, UnsafeXmlError, soap_client

from tramo_tray_soap import wire

__all__ = ["PATH", "TraySoap", "api", "is_read"]

#: The webservice's path under the store's address (its WSDL: ``?wsdl``).
PATH = "/webservice/v2/ws_servidor.php"
#: The order's parts beyond the order itself: items, customer, delivery address.
_PARTS = ("fWSImportaItensPedidoPorId", "fWSImportaClientePorPedidoAvancado",
          "fWSImportaEnderecoEntregaPedido")


def is_read(operation: str) -> bool:
    """Reads (``fWSImporta*``, the ``*Disponiveis`` lists) may be sent again; writes may not."""
    return operation.startswith("fWSImporta") or operation.endswith("Disponiveis")


def windows(connection: tramo.Connection) -> tuple[Window, ...]:
    """The store's limits: a minute's calls (assumed as REST's), and an optional per-second pace."""
    return published_limits(per_second=int(connection.settings["requests_per_second"]),
                            per_minute=int(connection.settings["requests_per_minute"]))


class TraySoap:
    """Calls to one store's webservice; answers are plain dicts and lists, failures tramo errors."""

    def __init__(self, connection: tramo.Connection) -> None:
        settings = connection.settings
        self.zone = connection.timezone
        self.concurrency = max(1, int(settings["concurrency"]))
        self.page_size = max(1, min(int(settings["page_size"]), wire.PAGE_MAX))
        self._auth = {"pid_loja": str(settings["store_id"]), "plogin": str(settings["login"])}
        self._password = settings["password"]
        budget = connection.budget("webservice", windows(connection))
        address = str(settings["store_url"]).rstrip("/") + PATH
        local = settings.get("wsdl_file")
        self.soap: SoapClient = soap_client(
            str(local) if local else f"{address}?wsdl",
            http=connection.http_client(budget=budget),
            async_http=connection.async_http_client(budget=budget),
            operation_timeout=float(settings["timeout_seconds"]),
            idempotent=is_read, address=address if local else None,
            encoding=str(settings["encoding"]))
        #: the operations this store's WSDL offers
        self.operations: frozenset[str] = self.soap.operations

    async def call(self, operation: str, **params: Any) -> Any:
        """One operation with the credentials first; its answer as plain dicts, lists and text."""
        auth = {**self._auth, "psenha": self._password.reveal()}
        try:
            answer = await getattr(self.soap.service, operation)(**auth, **params)
        except SoapFaultError as exc:
            raise wire.fault_error(str(exc.code), exc.fault, operation) from None
        return zeep.helpers.serialize_object(answer, dict)

    async def record(self, operation: str, **params: Any) -> wire.Struct:
        return wire.plain(await self.call(operation, **params))

    async def records(self, operation: str, **params: Any) -> list[wire.Struct]:
        return [wire.plain(r) for r in (await self.call(operation, **params) or [])]

    async def find(self, operation: str, **params: Any) -> wire.Struct | None:
        """A record, or None when the store says there is none."""
        try:
            return await self.record(operation, **params)
        except tramo.PlatformError as exc:
            if exc.code == "not_found":
                return None
            raise

    async def write(self, operation: str, **params: Any) -> str:
        """A write; the id its ``Retorno`` names (a refusal raises PlatformError)."""
        return wire.retorno_id(await self.call(operation, **params), operation)

    # -- orders ---------------------------------------------------------------------------

    async def todo(self) -> AsyncIterator[str]:
        """The ids on the store's ToDo list, page after page (a short page is the last)."""
        page = 1
        seen: set[str] = set()  # a page answered twice must not import its orders twice
        while True:
            found = await self.records("fWSImportaPedidos", **wire.list_filter(page, self.page_size))
            for record in found:
                ident = record.get("id_pedido", "")
                if ident and ident not in seen:
                    seen.add(ident)
                    yield ident
            if len(found) < self.page_size:
                return
            page += 1

    async def order(self, ident: str) -> tramo.Order | tramo.Held | None:
        """One order from its four calls, made at once; None when the store has no such order."""
        parts = [p for p in _PARTS if p in self.operations]
        try:
            order, *rest = await asyncio.gather(
                self.record("fWSImportaPedidoPorId", id_pedido=ident),
                *(self.call(p, id_pedido=ident) for p in parts))
        except UnsafeXmlError as exc:  # one order's refused answer holds it; the others go on
            return tramo.Held("order", exc, remote_id=ident)
        except tramo.PlatformError as exc:
            if exc.code == "not_found":
                return None
            raise
        answers = dict(zip(parts, rest))
        items = [wire.plain(i) for i in answers.get(_PARTS[0]) or []]
        customer = wire.plain(answers.get(_PARTS[1]))
        delivery = wire.plain(answers[_PARTS[2]]) if _PARTS[2] in answers else None
        try:
            return wire.order_from_wire(order, items, customer, delivery, self.zone)
        except tramo.ValidationError as exc:
            raw = {"pedido": order, "itens": items, "cliente": customer, "entrega": delivery}
            return tramo.Held("order", exc, remote_id=ident, raw=raw)

    # -- the ERP's codes on Tray ---------------------------------------------------------------

    async def product_by_code(self, connection: tramo.Connection, code: str) -> wire.Struct | None:
        """The product whose reference is ``code`` (its id bound on this connection)."""
        found = await self.find("fWSImportaProdutoPorCodReferencia", cod_prod=code)
        if found is not None and found.get("cod_referencia") == code:
            connection.binder("product").bind(code, found.get("id_produto", ""))
            return found
        return None

    async def sku_target(self, connection: tramo.Connection, sku: str) -> tuple[str, str]:
        """Where a SKU's stock lives: ``("N", product id)`` or ``("S", variant id)`` (``is_grade``)."""
        skus = connection.binder("sku")
        bound = skus.remote(sku)
        if bound is not None:
            grade, _, ident = bound.partition("/")
            return grade, ident
        product = await self.find("fWSImportaProdutoPorCodReferencia", cod_prod=sku)
        if product is not None and product.get("possui_variacao") != "S":
            target = ("N", product.get("id_produto", ""))
        else:
            variant = await self.find("fWSImportaVariacaoPorCodReferencia", cod_referencia=sku)
            if variant is None:
                raise tramo.PlatformError(f"no product or variant on Tray has the reference {sku!r}",
                                          code="not_found")
            target = ("S", variant.get("id_variacao", ""))
        skus.bind(sku, "/".join(target))
        return target


def api(connection: tramo.Connection) -> TraySoap:
    """The connection's client (the WSDL is read once, when it is made)."""
    return connection.resource("tray-soap", lambda: TraySoap(connection))

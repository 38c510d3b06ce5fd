"""The Ideris sandbox's platform state and its view in tramo's terms (``PlatformView``).

:class:`IderisStore` puts the route mixins together over one ``data`` dict
(replaced, never emptied, on ``reset``) and answers the conformance kit's
questions with its own conversions: ``held_*`` read the records directly,
never through the plugin's code, so the kit compares the plugin's work with
an independent account of it. Due creation protocols are processed before
any view, as they are at the start of every request.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping
from typing import Any

import tramo

from tramo.model.identifiers import normalize_gtin

from tramo_ideris.sandbox_catalogue import CatalogueRoutes, process_due, sellable
from tramo_ideris.sandbox_notifications import KINDS, NotificationRoutes
from tramo_ideris.sandbox_orders import OrderRoutes, move_status, order_record, take_stock
from tramo_ideris.sandbox_records import NO_BRAND, ORDER_MODULE, START, STATUSES, tick

__all__ = ["IderisStore"]

PROTOCOL_DELAY = 3.0
ORDER_STATUSES = frozenset(text for text, module in STATUSES.values() if module == ORDER_MODULE)


def _gtin(ean: str | None) -> str | None:
    """The EAN as a GTIN when it is one (Ideris keeps any text; the model checks digits)."""
    try:
        return normalize_gtin(ean) if ean else None
    except ValueError:
        return None


def held_product(data: Mapping[str, Any], record: Mapping[str, Any]) -> tramo.Product:
    """A product as tramo's model sees it, converted by the sandbox (never the plugin)."""
    sizes = [record[k] for k in ("comprimento", "largura", "altura")]
    brand = record["marcaId"]
    return tramo.Product(
        code=record["sku"], name=record["titulo"], description=record["descricaoLonga"],
        gtin=_gtin(record["ean"]),
        brand=None if brand == NO_BRAND else tramo.Brand(id=str(brand),
                                                         name=data["brands"][brand]),
        price=record["valorVenda"] or None,
        weight_kg=record["peso"] / 1000 if record["peso"] else None,
        dimensions=tramo.Dimensions(length_cm=sizes[0], width_cm=sizes[1], height_cm=sizes[2])
        if any(sizes) else None,
        images=tuple(record["images"]),
        variants=tuple(tramo.Variant(
            sku=v["skuVariacao"],
            attributes=(tramo.Attribute(name=v["nomeAtributo"], value=v["valorAtributo"]),),
            images=(v["imagem"],) if v["imagem"] else (), remote_id=str(v["variacaoId"]))
            for v in record["variations"]),
        remote_id=str(record["id"]))


class IderisStore(CatalogueRoutes, OrderRoutes, NotificationRoutes):
    """An Ideris account's data and the platform-side view of it."""

    protocol_delay: float = PROTOCOL_DELAY

    def fresh_data(self) -> dict[str, Any]:
        """A new account: brand 1 "Sem marca", no products, orders or tokens; a new JWT secret."""
        return {
            "clock": START, "secret": secrets.token_bytes(32), "tokens": {}, "logins": 0,
            "ids": {"order": 100001, "product": 210001, "variation": 310001, "protocol": 9001,
                    "brand": NO_BRAND + 1},
            "brands": {NO_BRAND: "Sem marca"}, "products": {}, "protocols": {}, "orders": {},
            "refusals": {}, "types": {}, "values": {}, "events": set(),
            "notifications": {kind: [] for kind in KINDS.values()},
        }

    def reset(self) -> None:
        """A new account; the protocol delay goes back to its default too."""
        super().reset()
        with self.lock:
            self.protocol_delay = type(self).protocol_delay

    # -- knobs of the catalogue --------------------------------------------------------------

    def configure_protocols(self, *, delay: float) -> None:
        """Creation protocols wait ``delay`` platform seconds (scaled) before they are processed."""
        with self.lock:
            self.protocol_delay = delay

    def refuse_creation(self, sku: str, reason: str) -> None:
        """Ideris will finish the protocols creating ``sku`` with ``reason``, creating nothing."""
        with self.lock:
            self.data["refusals"][sku] = reason

    def process_protocols(self) -> None:
        """Process every protocol whose time has come (before each request and each view)."""
        with self.lock:
            process_due(self.data, time.monotonic())

    # -- the platform's side, in the model's terms (tramo.sandbox.PlatformView) --------------

    def held_products(self) -> list[tramo.Product]:
        """The products the account holds, by id, converted without the plugin's help."""
        self.process_protocols()
        with self.lock:
            return [held_product(self.data, p)
                    for _, p in sorted(self.data["products"].items())]

    def held_stock(self) -> dict[str, int]:
        """SKU to stock: each variation's own, or a product's when it has no variations."""
        self.process_protocols()
        with self.lock:
            return {sku: int(record[key]) for sku, record, key in sellable(self.data)}

    def held_prices(self) -> dict[str, tramo.Price]:
        """Product SKU to its price (valorVenda) where it has one; Ideris prices per product."""
        self.process_protocols()
        with self.lock:
            return {p["sku"]: tramo.Price(sku=p["sku"], list_price=p["valorVenda"], currency="BRL")
                    for _, p in sorted(self.data["products"].items()) if p["valorVenda"] > 0}

    def held_trackings(self) -> dict[str, list[str]]:
        """Order id to the tracking codes notified for it, one per recorded notification."""
        return self._notified("rastreio", "codigoRastreio")

    def held_invoices(self) -> dict[str, list[str]]:
        """Order id to the NF-e keys notified for it, one per recorded notification."""
        return self._notified("nota_fiscal", "chaveNota")

    def _notified(self, kind: str, field: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        with self.lock:
            for body in self.data["notifications"][kind]:
                dados = body["dados"]
                found.setdefault(str(dados["idPedido"]), []).append(str(dados[field]))
        return found

    def held_status(self, order_id: str) -> str:
        """The order's status text (a ``Status.descricao``)."""
        with self.lock:
            return str(self.data["orders"][int(order_id)]["status"])

    def place_order(self, order: tramo.Order) -> str:
        """A marketplace buyer places ``order`` now: Ideris' id, times and stock moves.

        What Ideris lacks falls back to its first choice: status "Aprovado",
        marketplace "Mercado Livre", the marketplace's shipping, "credit_card".
        """
        self.process_protocols()
        with self.lock:
            record = order_record(self.data, order, tick(self.data))
            self.data["orders"][record["id"]] = record
            take_stock(self.data, record)
            return str(record["id"])

    def change_order(self, order_id: str) -> None:
        """The marketplace changes something (a payment approved, a message): ``alterado`` moves."""
        with self.lock:
            self.data["orders"][int(order_id)]["_alterado"] = tick(self.data)

    def set_status(self, order_id: str, status: str) -> None:
        """The marketplace moves the order to ``status`` (a descricao), as a sale goes on."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"{status!r} is not an order status of Ideris")
        with self.lock:
            move_status(self.data, self.data["orders"][int(order_id)], status)

    def notifications(self, kind: str) -> list[dict[str, Any]]:
        """The bodies recorded for ``kind`` ("rastreio" or "nota_fiscal"), oldest first."""
        with self.lock:
            return copy.deepcopy(self.data["notifications"][kind])

"""A Tray store's SOAP webservice v2 on loopback: the platform the tray_soap plugin talks to.

Tests, ``tramo demo``, benchmarks and the conformance kit point the plugin at
this server (Tray offers no sandbox). It is the *platform*, so it never uses
the plugin's code: it serves a NuSOAP WSDL and ISO-8859-1 answers, checks the
store id, login and password of every call, refuses what the store refuses
with SOAP faults, keeps orders on a ToDo list until they are acknowledged,
keeps stock reservations itself, and converts what it holds to the tramo
model on its own (``held_*``) so the kit compares the plugin's work with an
independent account of it.

Little of the real webservice is public (shared reference, part A); what is
our design is marked in ``sandbox_service``. Record times come from a store
clock that ticks one second per change, so they never repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import tramo
from tramo.model.identifiers import normalize_gtin
from tramo.sandbox import Call, Fault
from tramo.sandbox.soap import Params
from tramo.scalars import moment

from tramo_tray_soap.sandbox_catalogue import IMAGES, MEASURES, CatalogueOperations
from tramo_tray_soap.sandbox_orders import OrderOperations
from tramo_tray_soap.sandbox_profile import profile
from tramo_tray_soap.sandbox_seed import fill
from tramo_tray_soap.sandbox_service import PATH, SERVICE
from tramo_tray_soap.sandbox_store import LOGIN, PASSWORD, STORE_ID, STORE_TZ

__all__ = ["LOGIN", "MAPPINGS", "PASSWORD", "PATH", "SERVICE", "STORE_ID", "TraySoapSandbox"]

#: A host's mapping tables for this store: each canonical status has one Tray status
#: (FINALIZADO, "7", maps to none); each shipping, payment and channel option an ERP code.
MAPPINGS: Mapping[str, Mapping[str, str]] = {
    "status": {"1": "open", "2": "approved", "3": "preparing_shipment", "4": "invoiced",
               "5": "ready_to_ship", "6": "shipped", "8": "delivered",
               "9": "not_delivered", "10": "cancelled"},
    "shipping": {"1": "CORREIOS_PAC", "2": "CORREIOS_SEDEX", "3": "RETIRADA"},
    "payment": {"80": "BOLETO", "81": "PIX", "82": "CARTAO"},
    "channel": {"1": "LOJA", "2": "MERCADO_LIVRE", "3": "DAFITI", "4": "AMAZON"},
}


def _gtin(ean: str) -> str | None:
    """The EAN as a GTIN when it is one (the store keeps any digits; the model checks them)."""
    try:
        return normalize_gtin(ean) if ean else None
    except ValueError:
        return None


def _price(text: str) -> Decimal | None:
    value = Decimal(text or "0")
    return None if value == 0 else value


def _kg(grams: str) -> Decimal | None:
    value = Decimal(grams or "0")
    return None if value == 0 else value / 1000


def _dimensions(record: Mapping[str, str]) -> tramo.Dimensions | None:
    height, width, length = (Decimal(record[m] or "0") for m in MEASURES)
    if not (height or width or length):
        return None
    return tramo.Dimensions(length_cm=length, width_cm=width, height_cm=height)


def _images(record: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(record[i] for i in IMAGES if record[i])


def _held_variant(record: Mapping[str, str]) -> tramo.Variant:
    pairs = [(record[f"tipo_{n}"], record[f"valor_{n}"]) for n in (1, 2)]
    return tramo.Variant(
        sku=record["cod_referencia"], gtin=_gtin(record["ean"]),
        attributes=tuple(tramo.Attribute(name=k, value=v) for k, v in pairs if k and v),
        price=_price(record["preco"]), weight_kg=_kg(record["peso"]),
        dimensions=_dimensions(record), images=_images(record),
        available=record["disponivel"] == "S", remote_id=record["id_variacao"])


def _held_product(record: Mapping[str, Any], variants: list[Mapping[str, str]]) -> tramo.Product:
    brand = record["marca"]
    return tramo.Product(
        code=record["cod_referencia"], name=record["nome"], description=record["descricao"],
        short_description=record["descricao_resumida"], gtin=_gtin(record["ean"]),
        brand=tramo.Brand(id=brand, name=brand) if brand else None, ncm=record["ncm"] or None,
        price=_price(record["preco"]), weight_kg=_kg(record["peso"]),
        dimensions=_dimensions(record), images=_images(record),
        available=record["disponivel"] == "S",
        variants=tuple(_held_variant(v) for v in variants), remote_id=record["id_produto"],
        updated_at=moment(record["data_modificacao"], STORE_TZ, "data_modificacao"))


class TraySoapSandbox(CatalogueOperations, OrderOperations):
    """A Tray store's ``ws_servidor.php`` on a loopback port; ``data`` is the store.

    Give ``service=SERVICE.without(...)`` for a store whose webservice lacks
    operations. Without knobs it enforces 180 calls a minute, platform time
    running 100 times faster.
    """

    profile = profile(MAPPINGS)

    def seed(self, products: int = 20, orders: int = 10, *, seed: int = 0) -> None:
        """Fill the store with a realistic catalogue and orders placed from it (deterministic).

        For ``tramo demo`` and benchmarks; ``reset()`` never seeds (tests start empty).
        """
        fill(self, products, orders, seed)

    # -- which calls were writes: every operation is a POST to one path ------------------------

    def authorize(self, name: str, params: Params) -> None:
        """Note the operation for the call's record, then check the credentials it carries."""
        self._current.operation = name
        super().authorize(name, params)

    def record(self, method: str, path: str, query: str, status: int | None,
               fault: Fault | None) -> None:
        """A POST's record names its operation in ``query`` (the URL has none; the body decides)."""
        operation = getattr(self._current, "operation", None)
        self._current.operation = None
        super().record(method, path, operation or query, status, fault)

    def is_write(self, call: Call) -> bool:
        """A POST whose operation answers a ``Retorno`` (the store's receipt of a change).

        Reads answer records (``fWSImporta*``, the ``*Disponiveis`` lists). A POST refused
        before its operation was read (a 429, an injected 5xx, a dropped connection)
        counts as a write: nobody read which it was, and a count of writes must not miss one.
        """
        if call.method != "POST":
            return False
        operation = self.service.operation(call.query)
        return operation is None or operation.returns == "tns:Retorno"

    # -- the platform's side, in the model's terms (tramo.sandbox.PlatformView) ----------------

    def held_products(self) -> list[tramo.Product]:
        """The products the store holds, converted without the plugin's help."""
        with self.lock:
            products = [dict(p) for p in self.data["products"].values()]
            variants = {i: dict(v) for i, v in self.data["variants"].items()}
        return [_held_product(p, [variants[v] for v in p["variant_ids"]])
                for p in sorted(products, key=lambda p: int(p["id_produto"]))]

    def held_stock(self) -> dict[str, int]:
        """SKU (a variant's reference, or a product's without variants) to what can be sold now."""
        with self.lock:
            stock: dict[str, int] = {}
            for product in self.data["products"].values():
                holders = [("S", self.data["variants"][v]) for v in product["variant_ids"]]
                for is_grade, record in holders or [("N", product)]:
                    ident = record["id_variacao" if is_grade == "S" else "id_produto"]
                    free = int(record["estoque"]) - self.reserved(is_grade, ident)
                    stock[record["cod_referencia"]] = max(0, free)
            return stock

    def held_reservations(self) -> dict[str, int]:
        """Active reservation id to the quantity it holds."""
        with self.lock:
            return {ident: r["quantidade"] for ident, r in self.data["reservations"].items()
                    if r["active"]}

    def held_trackings(self) -> dict[str, list[str]]:
        """Order id to its tracking code: one per order (a new one replaces it)."""
        with self.lock:
            return {i: [o["codigo_rastreio"]] for i, o in self.data["orders"].items()
                    if o["codigo_rastreio"]}

    def held_invoices(self) -> dict[str, list[str]]:
        """Order id to its invoices' access keys; a key filed twice shows twice."""
        with self.lock:
            return {i: [self.data["invoices"][n]["chave_acesso"] for n in o["invoice_ids"]]
                    for i, o in self.data["orders"].items() if o["invoice_ids"]}

    def held_status(self, order_id: str) -> str:
        """The order's status id ("1" to "10")."""
        with self.lock:
            return str(self.data["orders"][order_id]["id_status"])

    def held_emails(self) -> list[tuple[str, str]]:
        """(order id, status id) of each status e-mail the store sent its buyers."""
        with self.lock:
            return list(self.data["emails"])

    def place_order(self, order: tramo.Order) -> str:
        """A buyer places ``order`` now; it goes on the ToDo list. Returns the store's id.

        What the store lacks falls back to its first choice: status "1"
        (AGUARDANDO PAGAMENTO), shipping "1", payment "80" (boleto), channel
        "1" (LOJA VIRTUAL); SKUs not in the catalogue are kept as sold, product "0".
        """
        with self.lock:
            return self.file_order(order)

    def change_order(self, order_id: str) -> None:
        """Something changes the order in the store: it moves, and goes back on the ToDo list."""
        with self.lock:
            self.store_change(order_id)

"""A Tray Commerce store's ``web_api`` on loopback: the platform the tray_rest plugin talks to.

Tests, ``tramo demo``, benchmarks and the conformance kit point the plugin at
this server instead of a real store (Tray has no sandbox of its own). It is
the *platform*, so it never uses the plugin's code: it issues and checks
tokens, reads PHP-style form or JSON bodies, refuses what Tray refuses with
Tray's error bodies, pages and filters lists as Tray does, and converts what
it holds to the tramo model itself (``held_*``), so the conformance kit
compares the plugin's work with an independent account of it.

What is known of Tray's API is in the shared reference (tray_rest.md) and its
payloads; every answer here carries every key of the documented examples.
Record times come from a store clock that ticks one second per change (exact
checkpoints); token lifetimes follow the wall clock, scaled by ``time_scale``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import tramo
from tramo.model.identifiers import normalize_gtin
from tramo.sandbox import Call

from tramo_tray_rest.sandbox_catalogue import CatalogueRoutes
from tramo_tray_rest.sandbox_http import CODE, CONSUMER_KEY, CONSUMER_SECRET, STORE_ID
from tramo_tray_rest.sandbox_orders import draft_from_order, store_order
from tramo_tray_rest.sandbox_profile import profile
from tramo_tray_rest.sandbox_records import (
    START,
    STORE_TZ,
    moment_text,
    parse_day,
    parse_moment,
    tick,
    variant_price_record,
)
from tramo_tray_rest.sandbox_sales import SalesRoutes
from tramo_tray_rest.sandbox_seed import fill

__all__ = ["CODE", "CONSUMER_KEY", "CONSUMER_SECRET", "MAPPINGS", "STORE_ID", "TraySandbox"]

#: A host's mapping tables for this store: each canonical status has one Tray status
#: (FINALIZADO, "7", maps to none), each shipping name, payment id and channel an ERP code.
MAPPINGS: Mapping[str, Mapping[str, str]] = {
    "status": {"1": "open", "2": "approved", "3": "preparing_shipment", "4": "invoiced",
               "5": "ready_to_ship", "6": "shipped", "8": "delivered",
               "9": "not_delivered", "10": "cancelled"},
    "shipping": {"Correios PAC": "CORREIOS_PAC", "Correios Sedex": "CORREIOS_SEDEX",
                 "Retirada na loja": "RETIRADA"},
    "payment": {"80": "BOLETO", "81": "PIX", "82": "CARTAO"},
    "channel": {"LOJA VIRTUAL": "LOJA", "Mercado Livre": "MERCADO_LIVRE",
                "Dafiti": "DAFITI", "Amazon": "AMAZON"},
}


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=STORE_TZ)


def _gtin(ean: str) -> str | None:
    """The EAN as a GTIN when it is one (Tray keeps any text; the model checks digits)."""
    try:
        return normalize_gtin(ean) if ean else None
    except ValueError:
        return None


def _kg(grams: str) -> Decimal | None:
    value = Decimal(grams)
    return None if value == 0 else value / 1000


def _dimensions(record: Mapping[str, Any]) -> tramo.Dimensions | None:
    sizes = [Decimal(record[k]) for k in ("length", "width", "height")]
    if not any(sizes):
        return None
    return tramo.Dimensions(length_cm=sizes[0], width_cm=sizes[1], height_cm=sizes[2])


class TraySandbox(CatalogueRoutes, SalesRoutes):
    """A Tray store on a loopback port. ``data`` is the store; ``calls`` what reached it.

    Without knobs it enforces Tray's limits (180 a minute, 10,000 a day) with
    platform time running 100 times faster, so waits stay short.
    """

    plugin = "tray_rest"
    profile = profile(MAPPINGS)

    def fresh_data(self) -> dict[str, Any]:
        """A new store: no records, no tokens (statuses, shipping and payments are fixed)."""
        return {
            "clock": START, "ids": {},
            "products": {}, "variants": {}, "brands": {}, "categories": {},
            "customers": {}, "addresses": {}, "orders": {}, "items": {}, "payments": {},
            "invoices": {}, "access_tokens": {}, "refresh_tokens": {}, "issued": 0,
        }

    @property
    def settings(self) -> dict[str, Any]:
        """The connection settings for this store, its rate limits in real time.

        A window here lasts ``seconds / time_scale``, so a real minute holds
        ``time_scale`` times Tray's calls; the plugin's budget counts real seconds.
        """
        scale = self.knobs.time_scale
        windows = {w.seconds: w.limit for w in self.knobs.rate_limits}
        return {"api_address": f"{self.url}/web_api", "consumer_key": CONSUMER_KEY,
                "consumer_secret": CONSUMER_SECRET, "code": CODE, "store_id": STORE_ID,
                "requests_per_minute": int(windows.get(60, 180) * scale),
                "requests_per_day": int(windows.get(86_400, 10_000) * scale),
                "requests_per_second": int(windows.get(1, 0) * scale)}

    def seed(self, products: int = 20, orders: int = 10, *, seed: int = 0) -> None:
        """Fill the store with a realistic catalogue and orders placed from it (deterministic).

        For ``tramo demo`` and benchmarks; ``reset()`` never seeds (tests start empty).
        """
        fill(self, products, orders, seed)

    def is_write(self, call: Call) -> bool:
        """Any method but GET, except the token exchange (``POST /web_api/auth``), which
        changes nothing the store holds."""
        return super().is_write(call) and call.path.rstrip("/") != "/web_api/auth"

    # -- the platform's side, in the model's terms (tramo.sandbox.PlatformView) ------------------

    def held_products(self) -> list[tramo.Product]:
        """The products the store holds, converted without the plugin's help."""
        with self.lock:
            products = [dict(p) for p in self.data["products"].values()]
            variants = {i: dict(v) for i, v in self.data["variants"].items()}
            brands = dict(self.data["brands"])
        return [self._held_product(p, [variants[v] for v in p["variant_ids"]], brands)
                for p in sorted(products, key=lambda p: int(p["id"]))]

    @staticmethod
    def _held_product(record: Mapping[str, Any], variants: list[Mapping[str, Any]],
                      brands: Mapping[str, str]) -> tramo.Product:
        price = Decimal(record["price"])
        return tramo.Product(
            code=record["reference"] or record["id"], name=record["name"],
            description=record["description"], short_description=record["description_small"],
            gtin=_gtin(record["ean"]),
            brand=(tramo.Brand(id=brands[record["brand"]], name=record["brand"])
                   if record["brand"] else None),
            ncm=record["ncm"] or None, price=None if price == 0 else price,
            weight_kg=_kg(record["weight"]), dimensions=_dimensions(record),
            images=tuple(record["images"]), available=record["available"] == "1",
            variants=tuple(TraySandbox._held_variant(v) for v in variants),
            remote_id=record["id"], updated_at=parse_moment(record["modified"]))

    @staticmethod
    def _held_variant(record: Mapping[str, Any]) -> tramo.Variant:
        price = Decimal(record["price"])
        return tramo.Variant(
            sku=record["reference"] or record["id"], gtin=_gtin(record["ean"]),
            attributes=tuple(tramo.Attribute(name=a["type"], value=a["value"])
                             for a in record["sku"]),
            price=None if price == 0 else price, weight_kg=_kg(record["weight"]),
            dimensions=_dimensions(record), images=tuple(record["images"]),
            available=record["available"] == "1", remote_id=record["id"])

    def _sellable(self) -> list[tuple[str, Mapping[str, Any]]]:
        """(SKU, record holding its stock and price): variants, and products without them."""
        found: list[tuple[str, Mapping[str, Any]]] = []
        for product in self.data["products"].values():
            if product["variant_ids"]:
                found += [(v["reference"] or v["id"], variant_price_record(self.data, v))
                          for v in (self.data["variants"][i] for i in product["variant_ids"])]
            else:
                found.append((product["reference"] or product["id"], product))
        return found

    def held_stock(self) -> dict[str, int]:
        """SKU to stock: a variant's own, or a product's when it has no variants."""
        with self.lock:
            return {sku: int(record["stock"]) for sku, record in self._sellable()}

    def held_prices(self) -> dict[str, tramo.Price]:
        """SKU to the price it sells at (a variant priced 0.00 sells at its product's)."""
        with self.lock:
            sellable = [(sku, dict(record)) for sku, record in self._sellable()]
        return {sku: _held_price(sku, record) for sku, record in sellable}

    def held_trackings(self) -> dict[str, list[str]]:
        """Order id to its tracking code: Tray keeps one per order (a new one replaces it)."""
        with self.lock:
            return {i: [o["sending_code"]] for i, o in self.data["orders"].items()
                    if o["sending_code"]}

    def held_invoices(self) -> dict[str, list[str]]:
        """Order id to its invoices' keys; Tray files a repeated key again, so it shows twice."""
        with self.lock:
            return {i: [self.data["invoices"][n]["key"] for n in o["invoice_ids"]]
                    for i, o in self.data["orders"].items() if o["invoice_ids"]}

    def held_status(self, order_id: str) -> str:
        """The order's status id ("1" to "10")."""
        with self.lock:
            return str(self.data["orders"][order_id]["status_id"])

    def place_order(self, order: tramo.Order) -> str:
        """A buyer places ``order`` now: the store's id, times, customer record and stock moves.

        What the store lacks falls back to its first choice: status "1"
        (AGUARDANDO PAGAMENTO), shipping "Correios PAC", payment "80" (boleto);
        a marketplace channel the store knows gives a MarketplaceOrder.
        """
        with self.lock:
            draft = draft_from_order(self.data, order)
            return store_order(self.data, draft, tick(self.data))

    def advance(self, **delta: float) -> None:
        """Time passes in the store (``advance(days=2)``): the next change is stamped later.

        The store clock otherwise moves one second per change, so tests of the
        day-based ``modified`` filter need days to pass without waiting.
        """
        with self.lock:
            self.data["clock"] += timedelta(**delta)

    def change_order(self, order_id: str) -> None:
        """Something changes the order now (a note by the seller, say): its ``modified`` moves."""
        with self.lock:
            self.data["orders"][order_id]["modified"] = moment_text(tick(self.data))


def _held_price(sku: str, record: Mapping[str, Any]) -> tramo.Price:
    """One SKU's price; the promotion's dates become midnights in store time.

    Tray's promotion dates are whole days, so a promotion ending the day it
    starts ends at the next midnight (the model wants the end after the start).
    """
    promo = Decimal(record["promotional_price"] or "0")
    start = parse_day(record["start_promotion"]) if promo > 0 else None
    end = parse_day(record["end_promotion"]) if promo > 0 else None
    starts = _midnight(start) if start else None
    ends = _midnight(end) if end else None
    if starts is not None and ends is not None and ends <= starts:
        ends = starts + timedelta(days=1)
    return tramo.Price(sku=sku, list_price=Decimal(record["price"]),
                       promotional_price=promo if promo > 0 else None,
                       promotion_start=starts, promotion_end=ends, currency="BRL")

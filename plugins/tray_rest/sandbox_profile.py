"""What the conformance kit must know about a Tray store (see :class:`tramo.sandbox.Profile`).

Every field the model has and Tray does not keep is named here with the
reason, so the kit compares only what a store can hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

import tramo
from tramo.sandbox import Profile

__all__ = ["profile"]


def _long_name(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, name="N" * 201)


def _seven_images(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, images=tuple(f"https://img.example.com/{i}.jpg" for i in range(7)))


def _three_attributes(product: tramo.Product) -> tramo.Product:
    attributes = [tramo.Attribute(name=f"Atributo {i}", value="x") for i in range(3)]
    variant = tramo.Variant(sku=f"{product.code}-V3", attributes=attributes)
    return attrs.evolve(product, variants=(variant,))


def _sku_apart_from_code(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, variants=(), sku=f"{product.code}-SKU")


def _zero_price(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, price=Decimal(0))


def profile(mappings: Any) -> Profile:
    """The profile of a sandbox store whose host maps statuses and methods with ``mappings``."""
    return Profile(
        kept={
            # Not kept: sku (a product without variants is sold under its reference,
            # the code; another sku is refused), categories (Tray keeps its own ids; the
            # plugin reads back the ERP ids it bound, the store cannot), attributes
            # (product-level properties are not sent), remote_id and updated_at (Tray's).
            "Product": frozenset({"code", "name", "description", "short_description", "gtin",
                                  "brand", "ncm", "price", "weight_kg", "dimensions", "images",
                                  "variants", "available"}),
            "Variant": frozenset({"sku", "gtin", "attributes", "price", "weight_kg",
                                  "dimensions", "images", "available"}),
            # Tray keeps the brand's name (as text) and numbers brands itself.
            "Brand": frozenset({"name"}),
            # One price per SKU; the promotion window is kept by day, not to the second.
            "Price": frozenset({"sku", "list_price", "promotional_price", "currency"}),
            "StockLevel": frozenset({"sku", "quantity"}),
            # Tray has no reservations: the plugin keeps them and lowers the stock.
            "StockReservation": frozenset(),
            # Orders placed in the store: Tray numbers them and stamps their times; an
            # order keeps one payment (the order's method and total) and one tracking code.
            "Order": frozenset({"customer", "items", "total", "billing_address",
                                "delivery_address", "shipping", "sales_channel", "currency",
                                "notes"}),
            "Customer": frozenset({"name", "kind", "cpf", "cnpj", "state_registration", "email",
                                   "phones", "birth_date"}),
            "Address": frozenset({"street", "number", "complement", "district", "city", "state",
                                  "postal_code", "country", "recipient"}),
            "OrderItem": frozenset({"sku", "name", "quantity", "unit_price", "gtin"}),
            "Shipping": frozenset({"carrier", "freight"}),
            "Payment": frozenset({"installments"}),
            "SalesChannel": frozenset({"marketplace_order_id"}),
            "Tracking": frozenset({"code", "url"}),
        },
        orders="incremental",
        mappings=mappings,
        invalid={
            "send_products": (
                ("a name longer than 200 characters", _long_name),
                ("more than 6 images", _seven_images),
                ("a variant with 3 attributes", _three_attributes),
                ("a product without variants sold under a SKU other than its code",
                 _sku_apart_from_code),
                ("a price of 0 (Tray reads it as 'price on request')", _zero_price),
            ),
            "send_prices": (
                ("a price list", lambda p: attrs.evolve(p, price_list="atacado")),
                ("a currency other than BRL", lambda p: attrs.evolve(p, currency="USD")),
                ("a sale price apart from the list price",
                 lambda p: attrs.evolve(p, sale_price=p.list_price + 1)),
            ),
            "send_stock": (
                ("a warehouse", lambda level: attrs.evolve(level, warehouse="CD-2")),
            ),
            "reserve_stock": (
                ("a warehouse", lambda r: attrs.evolve(r, warehouse="CD-2")),
            ),
        },
        page_size_setting="page_size",
    )


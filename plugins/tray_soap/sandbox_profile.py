"""What the conformance kit must know about a Tray store's webservice (see :class:`tramo.sandbox.Profile`).

Every field the model has and the store does not keep is named here with
the reason, so the kit compares only what the store can hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

import tramo
from tramo.sandbox import Profile

__all__ = ["profile"]

#: A character ISO-8859-1 lacks: the store (Latin-1) would keep a "?" in its place.
BEYOND_LATIN1 = "\u2605"


def _long_name(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, name="N" * 201)


def _beyond_latin1(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, name=f"{product.name} {BEYOND_LATIN1}")


def _seven_images(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, images=tuple(f"https://img.example.com/{i}.jpg" for i in range(7)))


def _three_attributes(product: tramo.Product) -> tramo.Product:
    attributes = [tramo.Attribute(name=f"Atributo {i}", value="x") for i in range(3)]
    return attrs.evolve(product, variants=(tramo.Variant(sku=f"{product.code}-V3", attributes=attributes),))


def _sku_apart_from_code(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, variants=(), sku=f"{product.code}-SKU")


def _zero_price(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(product, price=Decimal(0))


def profile(mappings: Any) -> Profile:
    """The profile of a sandbox store whose host maps statuses and methods with ``mappings``."""
    return Profile(
        kept={
            # Not kept: sku (a product without variants is sold under its reference),
            # categories (the SOAP modality sends products without category mapping),
            # attributes (product-level properties are not sent), remote_id and updated_at.
            "Product": frozenset({"code", "name", "description", "short_description", "gtin",
                                  "brand", "ncm", "price", "weight_kg", "dimensions", "images",
                                  "variants", "available"}),
            "Variant": frozenset({"sku", "gtin", "attributes", "price", "weight_kg",
                                  "dimensions", "images", "available"}),
            # The store keeps a brand's name as text.
            "Brand": frozenset({"name"}),
            "StockLevel": frozenset({"sku", "quantity"}),
            # The store keeps reservations by the ERP's id and takes them off what it sells.
            "StockReservation": frozenset({"id", "sku", "quantity"}),
            # Orders placed in the store: it numbers them and stamps their times; one
            # payment (the order's method and total) and one tracking code per order.
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
        orders="queue",
        mappings=mappings,
        invalid={
            "send_products": (
                ("a name longer than 200 characters", _long_name),
                ("a name with a character ISO-8859-1 lacks", _beyond_latin1),
                ("more than 6 images", _seven_images),
                ("a variant with 3 attributes", _three_attributes),
                ("a product without variants sold under a SKU other than its code",
                 _sku_apart_from_code),
                ("a price of 0 (Tray reads it as 'price on request')", _zero_price),
            ),
            "send_stock": (
                ("a warehouse", lambda level: attrs.evolve(level, warehouse="CD-2")),
            ),
            "reserve_stock": (
                ("a warehouse", lambda r: attrs.evolve(r, warehouse="CD-2")),
            ),
            "send_tracking": (
                ("a code with a character ISO-8859-1 lacks",
                 lambda t: attrs.evolve(t, code=f"{t.code}{BEYOND_LATIN1}")),
            ),
        },
        page_size_setting="page_size",
    )

"""What the conformance kit must know about a Tray store (see :class:`tramo.sandbox.Profile`).

Every field the model has and Tray does not keep is named here with the
reason, so the kit compares only what a store can hold.
"""

from __future__ import annotations

from typing import Any

import attrs

from tramo.sandbox import Profile
from tramo.testing.spoilers import (in_warehouse, long_name, many_attributes, many_images,
                                    sku_apart_from_code, zero_price)

__all__ = ["profile"]


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
                ("a name longer than 200 characters", long_name(200)),
                ("more than 6 images", many_images(6)),
                ("a variant with 3 attributes", many_attributes(2)),
                ("a product without variants sold under a SKU other than its code",
                 sku_apart_from_code),
                ("a price of 0 (Tray reads it as 'price on request')", zero_price),
            ),
            "send_prices": (
                ("a price list", lambda p: attrs.evolve(p, price_list="atacado")),
                ("a currency other than BRL", lambda p: attrs.evolve(p, currency="USD")),
                ("a sale price apart from the list price",
                 lambda p: attrs.evolve(p, sale_price=p.list_price + 1)),
            ),
            "send_stock": (("a warehouse", in_warehouse),),
            "reserve_stock": (("a warehouse", in_warehouse),),
        },
        page_size_setting="page_size",
    )


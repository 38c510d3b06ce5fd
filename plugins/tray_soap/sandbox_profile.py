"""What the conformance kit must know about a Tray store's webservice (see :class:`tramo.sandbox.Profile`).

Every field the model has and the store does not keep is named here with
the reason, so the kit compares only what the store can hold.
"""

from __future__ import annotations

from typing import Any

from tramo.sandbox import Profile
from tramo.testing.spoilers import (in_warehouse, long_name, many_attributes, many_images,
                                    sku_apart_from_code, with_text, zero_price)

__all__ = ["profile"]

#: A character ISO-8859-1 lacks: the store (Latin-1) would keep a "?" in its place.
BEYOND_LATIN1 = "\u2605"


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
                ("a name longer than 200 characters", long_name(200)),
                ("a name with a character ISO-8859-1 lacks", with_text("name", BEYOND_LATIN1)),
                ("more than 6 images", many_images(6)),
                ("a variant with 3 attributes", many_attributes(2)),
                ("a product without variants sold under a SKU other than its code",
                 sku_apart_from_code),
                ("a price of 0 (Tray reads it as 'price on request')", zero_price),
            ),
            "send_stock": (("a warehouse", in_warehouse),),
            "reserve_stock": (("a warehouse", in_warehouse),),
            "send_tracking": (
                ("a code with a character ISO-8859-1 lacks", with_text("code", BEYOND_LATIN1)),
            ),
        },
        page_size_setting="page_size",
    )

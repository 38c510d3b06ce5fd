"""The Shopify sandbox's shop as a whole: a fresh one, and the rules of every mutation.

What belongs to neither the catalogue nor the orders: a new ``data`` (the
locations and price lists every shop starts with, the clock at its start)
and :data:`MUTATIONS`, the one table of both modules' mutation rules that
the sandbox hands the GraphQL layer.
"""

from __future__ import annotations

from typing import Any

from tramo_shopify.sandbox_catalogue import (
    collection_create,
    inventory_set_quantities,
    metafield_definition_create,
    metafields_set,
    price_list_fixed_prices_add,
    product_set,
    variants_bulk_update,
)
from tramo_shopify.sandbox_orders import (
    fulfillment_create,
    fulfillment_event_create,
    fulfillment_tracking_info_update,
    order_cancel,
    order_mark_as_paid,
)
from tramo_shopify.sandbox_records import LOCATIONS, PRICE_LISTS, START, put

__all__ = ["MUTATIONS", "fresh_data"]


def fresh_data() -> dict[str, Any]:
    """A new shop: its two locations, three price lists, nothing else (no definitions either)."""
    data: dict[str, Any] = {"clock": START, "seq": {}, "objects": {}, "levels": {},
                            "idempotency": {}, "order_number": 1000}
    for n, (ident, name) in enumerate(LOCATIONS, 1):
        put(data, {"id": ident, "legacyResourceId": n, "name": name, "isActive": True})
    for ident, name, currency in PRICE_LISTS:
        put(data, {"id": ident, "name": name, "currency": currency, "_prices": {}})
    data["seq"].update(Location=len(LOCATIONS), PriceList=len(PRICE_LISTS))
    return data


#: Mutation field -> its rules (bulk operations and webhooks add theirs in the sandbox).
MUTATIONS = {
    "productSet": product_set, "productVariantsBulkUpdate": variants_bulk_update,
    "inventorySetQuantities": inventory_set_quantities,
    "priceListFixedPricesAdd": price_list_fixed_prices_add, "collectionCreate": collection_create,
    "metafieldsSet": metafields_set, "metafieldDefinitionCreate": metafield_definition_create,
    "fulfillmentCreate": fulfillment_create,
    "fulfillmentTrackingInfoUpdate": fulfillment_tracking_info_update,
    "fulfillmentEventCreate": fulfillment_event_create, "orderCancel": order_cancel,
    "orderMarkAsPaid": order_mark_as_paid,
}

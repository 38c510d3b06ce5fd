"""The canonical model: frozen, typed, validated attrs classes.

Every entity checks itself on construction and raises
:class:`tramo.ValidationError` naming the field and the bad value. Money is
``Decimal``, times are timezone-aware. :mod:`tramo.model.convert` turns every
entity into plain dicts or JSON and back, exactly.
"""

from tramo.model.catalog import Attribute, Brand, Category, Dimensions, Product, Variant, parents_first
from tramo.model.commerce import Price, StockLevel, StockReservation
from tramo.model.fulfilment import Cancellation, Delivery, Invoice, InvoiceKind, StatusUpdate, Tracking
from tramo.model.order import ItemChange, Order, OrderEdit, OrderItem, Payment, SalesChannel, Shipping
from tramo.model.party import Address, Contact, Customer, CustomerKind
from tramo.model.results import (
    ConnectionReport,
    Held,
    Outcome,
    PlatformOption,
    WebhookEvent,
    WriteResult,
)
from tramo.model.status import OrderStatus

#: Every entity class that converts to and from dicts/JSON.
ENTITIES = (
    Attribute, Dimensions, Brand, Category, Variant, Product,
    Price, StockLevel, StockReservation,
    Address, Contact, Customer,
    OrderItem, Shipping, Payment, SalesChannel, ItemChange, OrderEdit, Order,
    Invoice, Tracking, StatusUpdate, Cancellation, Delivery,
    PlatformOption, WebhookEvent,
)

__all__ = [
    "ENTITIES",
    "Address", "Attribute", "Brand", "Cancellation", "Category", "ConnectionReport", "Contact",
    "Customer", "CustomerKind", "Delivery", "Dimensions", "Held", "Invoice", "InvoiceKind",
    "ItemChange", "Order", "OrderEdit", "OrderItem", "OrderStatus", "Outcome", "Payment",
    "PlatformOption", "Price", "Product", "SalesChannel", "Shipping", "StatusUpdate",
    "StockLevel", "StockReservation", "Tracking", "Variant", "WebhookEvent", "WriteResult",
    "parents_first",
]

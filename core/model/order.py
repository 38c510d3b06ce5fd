"""Orders as they arrive from a store or marketplace hub.

A plugin fills the ``platform_*`` fields with the platform's own ids (status,
shipping method, payment method, sales channel); the core then fills the
mapped counterparts (``status``, ``method``, ``channel``) from the
connection's mappings, so plugins never see the user's mapping tables.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from tramo.model import fields as f
from tramo.model.fulfilment import Invoice, Tracking
from tramo.model.party import Address, Customer
from tramo.model.status import OrderStatus

__all__ = [
    "ItemChange",
    "Order",
    "OrderEdit",
    "OrderItem",
    "Payment",
    "SalesChannel",
    "Shipping",
]


@attrs.frozen(kw_only=True)
class OrderItem:
    """One line of an order. ``total`` is quantity x unit price less the line discount."""

    sku: str = f.text()
    name: str = f.text()
    quantity: int = f.count(minimum=1)
    unit_price: Decimal = f.money()
    discount: Decimal = f.money(default=Decimal(0))
    product_code: str | None = f.optional_text()
    gtin: str | None = f.optional_text()
    attributes: tuple[str, ...] = f.many(str)
    remote_id: str | None = f.optional_text()

    def __attrs_post_init__(self) -> None:
        if self.discount > self.quantity * self.unit_price:
            raise f.fail(self, "discount", self.discount, "exceeds the line's value")

    @property
    def total(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount


@attrs.frozen(kw_only=True)
class Shipping:
    """How the order ships. ``platform_method`` is the platform's id; ``method`` the ERP's."""

    platform_method: str | None = f.optional_text()
    method: str | None = f.optional_text()
    carrier: str | None = f.optional_text()
    freight: Decimal = f.money(default=Decimal(0))
    estimated_delivery: datetime | None = f.moment(optional=True)


@attrs.frozen(kw_only=True)
class Payment:
    """One payment of the order; ``installments`` is the number of parcelas."""

    value: Decimal = f.money()
    platform_method: str | None = f.optional_text()
    method: str | None = f.optional_text()
    installments: int = f.count(minimum=1, default=1)
    paid_at: datetime | None = f.moment(optional=True)


@attrs.frozen(kw_only=True)
class SalesChannel:
    """Where the order was sold: the store itself or a marketplace (its origin)."""

    platform_channel: str | None = f.optional_text()
    channel: str | None = f.optional_text()
    marketplace_order_id: str | None = f.optional_text()


@attrs.frozen(kw_only=True)
class ItemChange:
    """One line changed by an edit after the order was placed."""

    sku: str = f.text()
    previous_quantity: int = f.count()
    quantity: int = f.count()


@attrs.frozen(kw_only=True)
class OrderEdit:
    """An edit made after placement (edited quantities, new total)."""

    edited_at: datetime = f.moment()
    changes: tuple[ItemChange, ...] = f.many(ItemChange)
    total: Decimal | None = f.money(optional=True)
    note: str | None = f.optional_text()


@attrs.frozen(kw_only=True)
class Order:
    """An order. ``id`` is the platform's order id; ``number`` what the buyer sees.

    ``total`` is what the platform charged (it may include interest or fees, so
    it is not recomputed); ``items_total`` is the sum of the lines.
    """

    id: str = f.text()
    placed_at: datetime = f.moment()
    customer: Customer = f.nested(Customer, optional=False)
    items: tuple[OrderItem, ...] = f.many(OrderItem, min_items=1)
    total: Decimal = f.money()
    platform_status: str = f.text()
    status: OrderStatus | None = f.choice(OrderStatus, optional=True)
    number: str | None = f.optional_text()
    updated_at: datetime | None = f.moment(optional=True)
    billing_address: Address | None = f.nested(Address)
    delivery_address: Address | None = f.nested(Address)
    shipping: Shipping | None = f.nested(Shipping)
    payments: tuple[Payment, ...] = f.many(Payment)
    sales_channel: SalesChannel | None = f.nested(SalesChannel)
    discount: Decimal = f.money(default=Decimal(0))
    currency: str = f.text(default="BRL")
    edits: tuple[OrderEdit, ...] = f.many(OrderEdit)
    invoices: tuple[Invoice, ...] = f.many(Invoice)
    trackings: tuple[Tracking, ...] = f.many(Tracking)
    notes: str | None = f.optional_text()

    def __attrs_post_init__(self) -> None:
        if self.updated_at is not None and self.updated_at < self.placed_at:
            raise f.fail(self, "updated_at", self.updated_at, "is before placed_at")

    @property
    def items_total(self) -> Decimal:
        return sum((item.total for item in self.items), Decimal(0))

    @property
    def freight(self) -> Decimal:
        return self.shipping.freight if self.shipping else Decimal(0)

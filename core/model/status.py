"""The canonical order status set."""

from __future__ import annotations

import enum

__all__ = ["OrderStatus"]


class OrderStatus(enum.Enum):
    """The canonical order life cycle, wide enough for Brazilian ERPs."""

    OPEN = "open"
    APPROVED = "approved"
    PREPARING_SHIPMENT = "preparing_shipment"
    INVOICED = "invoiced"
    READY_TO_SHIP = "ready_to_ship"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    NOT_DELIVERED = "not_delivered"
    CANCELLED = "cancelled"

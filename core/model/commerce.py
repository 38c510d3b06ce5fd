"""Prices and stock: what the ERP keeps current on the platform."""

from __future__ import annotations

import re

from datetime import datetime
from decimal import Decimal

import attrs

from tramo.model import fields as f

__all__ = ["Price", "StockLevel", "StockReservation"]


@attrs.frozen(kw_only=True)
class Price:
    """The price of one SKU, optionally for one price list, company or customer segment.

    ``sale_price`` is the everyday selling price when it differs from the list
    price; ``promotional_price`` applies only between ``promotion_start`` and
    ``promotion_end`` (either may be open).
    """

    sku: str = f.text()
    list_price: Decimal = f.money()
    sale_price: Decimal | None = f.money(optional=True)
    promotional_price: Decimal | None = f.money(optional=True)
    promotion_start: datetime | None = f.moment(optional=True)
    promotion_end: datetime | None = f.moment(optional=True)
    price_list: str | None = f.optional_text()
    company: str | None = f.optional_text()
    segment: str | None = f.optional_text()
    currency: str = f.text(default="BRL")

    def __attrs_post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise f.fail(self, "currency", self.currency, "must be an ISO 4217 code such as BRL")
        window = self.promotion_start is not None or self.promotion_end is not None
        if window and self.promotional_price is None:
            raise f.fail(self, "promotional_price", None, "a promotion window needs a promotional price")
        if (self.promotion_start is not None and self.promotion_end is not None
                and self.promotion_end <= self.promotion_start):
            raise f.fail(self, "promotion_end", self.promotion_end, "must be after promotion_start")


@attrs.frozen(kw_only=True)
class StockLevel:
    """How many units of a SKU are available, per warehouse (location) and company."""

    sku: str = f.text()
    quantity: int = f.count()
    warehouse: str | None = f.optional_text()
    company: str | None = f.optional_text()
    updated_at: datetime | None = f.moment(optional=True)


@attrs.frozen(kw_only=True)
class StockReservation:
    """Units of a SKU held for an order (or a cart) until released or ``expires_at``.

    ``id`` is the ERP's reservation id, so reserving or releasing twice is harmless.
    """

    id: str = f.text()
    sku: str = f.text()
    quantity: int = f.count(minimum=1)
    order_id: str | None = f.optional_text()
    warehouse: str | None = f.optional_text()
    expires_at: datetime | None = f.moment(optional=True)

"""What a host ERP implements so tramo can run the sync for it.

The engine asks the ERP for what it has (catalogue, prices, stock, its orders
with their invoices, shipments and statuses) and sends the platforms only what
changed since the last run: the ERP never tracks what was sent. Inbound, the
engine hands the ERP customers, products and orders to save. Every save takes
an idempotency ``key``: saving twice with one key must return the first
record's id and change nothing else, which is how a crash between the ERP's
write and tramo's own record is mended on restart without a duplicate.

Ids: ``Order.id`` in what the ERP gives and returns is the ERP's own order id;
the engine translates to and from each platform's ids. Methods may be plain
or ``async def`` (an asyncio host's ERP); the engine calls either kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from tramo.model import (
    Category,
    Customer,
    Order,
    OrderStatus,
    Price,
    Product,
    StockLevel,
    WriteResult,
)

__all__ = ["Erp"]


@runtime_checkable
class Erp(Protocol):
    """The host ERP, as the sync engine sees it."""

    # -- what the ERP offers the stores ---------------------------------------

    def categories(self) -> Iterable[Category]:
        """The category tree to publish (any order; parents are sorted first by the engine)."""
        ...

    def products(self) -> Iterable[Product]:
        """Every product to publish, with its variants; unchanged ones are not sent again."""
        ...

    def prices(self) -> Iterable[Price]:
        """The current price of every published SKU."""
        ...

    def stock(self) -> Iterable[StockLevel]:
        """The quantity available for sale of every published SKU (absolute, never deltas)."""
        ...

    def orders(self) -> Iterable[Order]:
        """The ERP's sales orders that came from stores, ``id`` the ERP's own id.

        ``status`` is the ERP's status; ``invoices`` the NF-e it issued and
        ``trackings`` the shipments it made ready. Orders the engine never
        imported are ignored, so an ERP may simply list all of them.
        """
        ...

    # -- what the stores bring in ---------------------------------------------

    def has_product(self, sku: str) -> bool:
        """Whether the ERP knows this SKU (as a product's or a variant's)."""
        ...

    def save_product(self, product: Product, *, key: str) -> str:
        """Create a product the ERP lacks (an order sold it); return the ERP's product code."""
        ...

    def save_customer(self, customer: Customer, *, key: str) -> str:
        """Create or update the buyer (found by CPF/CNPJ or e-mail); return the ERP's id."""
        ...

    def save_order(self, order: Order, *, customer_id: str, key: str) -> str:
        """Create the sales order (``order.id`` is the platform's); return the ERP's order id."""
        ...

    def set_order_status(self, order_id: str, status: OrderStatus, *, key: str) -> None:
        """Move an ERP order to ``status`` because the store moved it (paid, cancelled...)."""
        ...

    # -- results ---------------------------------------------------------------

    def record(self, connection: str, flow: str, result: WriteResult) -> None:
        """Keep the outcome of one item of a flow (shown on the ERP's own screens)."""
        ...

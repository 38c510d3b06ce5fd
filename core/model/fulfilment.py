"""What the ERP sends back about an order: invoices, tracking, status, cancellation."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import attrs

from tramo.model import fields as f
from tramo.model.identifiers import normalize_cfop, normalize_nfe_key
from tramo.model.status import OrderStatus

__all__ = ["Cancellation", "Delivery", "Invoice", "InvoiceKind", "StatusUpdate", "Tracking"]


class InvoiceKind(enum.Enum):
    """NF-e (model 55, goods) or NFC-e (model 65, consumer)."""

    NFE = "nfe"
    NFCE = "nfce"


_MODEL = {InvoiceKind.NFE: "55", InvoiceKind.NFCE: "65"}


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


@attrs.frozen(kw_only=True)
class Invoice:
    """The access data of an issued NF-e / NFC-e for one order.

    The 44-digit ``access_key`` embeds the model, series and number, so they
    are checked against it.
    """

    order_id: str = f.text()
    number: str = f.text()
    series: str = f.text()
    access_key: str = f.identifier(normalize_nfe_key, optional=False)
    issued_at: datetime = f.moment()
    value: Decimal = f.money()
    kind: InvoiceKind = f.choice(InvoiceKind, default=InvoiceKind.NFE)
    cfop: str | None = f.identifier(normalize_cfop)
    xml_url: str | None = f.url()
    danfe_url: str | None = f.url()

    def __attrs_post_init__(self) -> None:
        key = self.access_key
        if key[20:22] != _MODEL[self.kind]:
            raise f.fail(self, "kind", self.kind.value, f"the access key is of model {key[20:22]}")
        if not _digits(self.series) or int(self.series) != int(key[22:25]):
            raise f.fail(self, "series", self.series, f"the access key holds series {int(key[22:25])}")
        if not _digits(self.number) or int(self.number) != int(key[25:34]):
            raise f.fail(self, "number", self.number, f"the access key holds number {int(key[25:34])}")


@attrs.frozen(kw_only=True)
class Tracking:
    """A shipment's tracking code, given to the platform so the buyer can follow it."""

    order_id: str = f.text()
    code: str = f.text()
    carrier: str | None = f.optional_text()
    url: str | None = f.url()
    shipped_at: datetime | None = f.moment(optional=True)
    invoice_key: str | None = f.identifier(normalize_nfe_key)


@attrs.frozen(kw_only=True)
class StatusUpdate:
    """Move a platform order to a canonical status.

    ``platform_status`` is filled by the core from the connection's status
    mapping before the plugin sees the update. ``notify_customer`` None leaves
    the platform's default (Tray e-mails the buyer on every change).
    """

    order_id: str = f.text()
    status: OrderStatus = f.choice(OrderStatus)
    platform_status: str | None = f.optional_text()
    notify_customer: bool | None = f.flag(default=None, optional=True)
    note: str | None = f.optional_text()


@attrs.frozen(kw_only=True)
class Cancellation:
    """Cancel a platform order; ``restock`` returns its units to stock where supported."""

    order_id: str = f.text()
    reason: str = f.text()
    cancelled_at: datetime | None = f.moment(optional=True)
    restock: bool = f.flag(default=True)
    refund: bool = f.flag(default=False)


@attrs.frozen(kw_only=True)
class Delivery:
    """Mark a platform order delivered to its buyer."""

    order_id: str = f.text()
    delivered_at: datetime | None = f.moment(optional=True)
    note: str | None = f.optional_text()

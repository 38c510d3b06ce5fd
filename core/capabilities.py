"""What each hook is, as data: the core's dispatch reads this table.

A *capability* is a hook a plugin implements to do work on its platform;
*plumbing* hooks (who the plugin is, how to check or narrow a connection,
its sandbox) are not capabilities. A plugin's own extra hooks (declared
through ``tramo_hookspecs``) count as capabilities, of kind ``EXTRA``.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs

from tramo import model as m

__all__ = ["CAPABILITIES", "PLUMBING", "CapabilitySpec", "Kind", "spec_for"]


class Kind(enum.Enum):
    WRITE = "write"      # sequence in, one WriteResult per item out
    READ = "read"        # iterable of model objects or Held out
    LOOKUP = "lookup"    # sequence of PlatformOption out
    PARSE = "parse"      # pure: platform notification in, events out
    EXTRA = "extra"      # a plugin's own hook: passed through as it is


@attrs.frozen
class CapabilitySpec:
    """One capability: its kind, the name of its payload argument, the item type."""

    name: str
    kind: Kind
    payload: str | None = None
    item: type | tuple[type, ...] | None = None
    local_id: str | None = None
    idempotent: bool = True

    def local_id_of(self, item: object) -> str | None:
        """The ERP's id of a write item, as the hook's results must name it."""
        if self.local_id is None:
            return item if isinstance(item, str) else None
        value = getattr(item, self.local_id, None)
        return value if isinstance(value, str) else None


_SPECS = (
    CapabilitySpec("send_products", Kind.WRITE, "products", m.Product, local_id="code"),
    CapabilitySpec("receive_products", Kind.READ, "since", m.Product),
    CapabilitySpec("map_categories", Kind.WRITE, "categories", m.Category, local_id="id"),
    CapabilitySpec("send_prices", Kind.WRITE, "prices", m.Price, local_id="sku"),
    CapabilitySpec("send_stock", Kind.WRITE, "levels", m.StockLevel, local_id="sku"),
    CapabilitySpec("reserve_stock", Kind.WRITE, "reservations", m.StockReservation, local_id="id"),
    CapabilitySpec("release_stock", Kind.WRITE, "reservations", m.StockReservation, local_id="id"),
    CapabilitySpec("receive_orders", Kind.READ, "since", m.Order),
    CapabilitySpec("get_orders", Kind.READ, "ids", m.Order),
    CapabilitySpec("acknowledge_orders", Kind.WRITE, "orders", str),
    CapabilitySpec("sync_status", Kind.WRITE, "updates", m.StatusUpdate, local_id="order_id"),
    CapabilitySpec("send_invoice", Kind.WRITE, "invoices", m.Invoice, local_id="access_key"),
    CapabilitySpec("send_tracking", Kind.WRITE, "trackings", m.Tracking, local_id="code"),
    CapabilitySpec("send_cancellation", Kind.WRITE, "cancellations", m.Cancellation, local_id="order_id"),
    CapabilitySpec("mark_delivered", Kind.WRITE, "orders", m.Delivery, local_id="order_id"),
    CapabilitySpec("parse_webhook", Kind.PARSE, "body", m.WebhookEvent),
    CapabilitySpec("list_order_statuses", Kind.LOOKUP, None, m.PlatformOption),
    CapabilitySpec("list_shipping_methods", Kind.LOOKUP, None, m.PlatformOption),
    CapabilitySpec("list_payment_methods", Kind.LOOKUP, None, m.PlatformOption),
    CapabilitySpec("list_sales_channels", Kind.LOOKUP, None, m.PlatformOption),
)

#: The core's capabilities by name.
CAPABILITIES: Final[dict[str, CapabilitySpec]] = {s.name: s for s in _SPECS}
#: Hooks that are not capabilities.
PLUMBING: Final = frozenset({"plugin_info", "check_connection", "restrict_capabilities", "sandbox"})


def spec_for(name: str) -> CapabilitySpec:
    """The spec of a core capability, or a pass-through spec for a plugin's own hook."""
    return CAPABILITIES.get(name) or CapabilitySpec(name, Kind.EXTRA)

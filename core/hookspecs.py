"""The plugin contract: every hook a tramo plugin may implement.

A plugin implements the subset its platform supports, marking each function
with ``@tramo.hookimpl``. The core calls one plugin at a time (the plugin of
the connection at hand), never all of them. Any hook may be a plain function
or a coroutine function; read hooks may return an iterable or an async
iterable. An implementation may take fewer arguments than the spec
(pluggy's opt-in arguments), never other names.

Contract shared by the hooks below:

- Writes take a sequence and return one :class:`tramo.WriteResult` per item,
  in input order; an item the platform did not take is ``FAILED`` with its
  error, never reported done.
- Reads return an iterable of model objects; a record that cannot be
  converted comes back as :class:`tramo.Held` with its typed error, and the
  read goes on.
- ``since`` is a checkpoint: a timezone-aware datetime, the platform's own
  cursor text, or ``None`` for everything.
- Status, shipping, payment and channel values are platform ids; the core
  maps them from and to the ERP's values.

Every hook is documented in docs/plugin-guide.md; a test fails when one is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tramo.plugin import hookspec

if TYPE_CHECKING:
    from tramo.connection import Connection
    from tramo.sandbox import Sandbox
    from tramo.model import (
        Cancellation,
        Category,
        ConnectionReport,
        Delivery,
        Held,
        Invoice,
        Order,
        PlatformOption,
        Price,
        Product,
        StatusUpdate,
        StockLevel,
        StockReservation,
        Tracking,
        WebhookEvent,
        WriteResult,
    )
    from tramo.plugin import PluginInfo

Checkpoint = datetime | str | None

# -- plumbing: who the plugin is and how to reach its platform ----------------


@hookspec
def plugin_info() -> PluginInfo:
    """Declare the plugin: name, platform, modality, settings, feature flags.

    :return: a :class:`tramo.PluginInfo`; ``name`` equals the entry point name.
    Required of every plugin. Must be cheap and do no I/O.
    Idempotent: yes.
    """


@hookspec
def check_connection(connection: Connection) -> ConnectionReport:
    """Verify credentials, plan and permissions before any sync.

    :return: a :class:`tramo.ConnectionReport` listing what is missing (an
        empty list when all is well).
    :raises AuthenticationError: only when the platform cannot be asked at all.
    Idempotent: yes (reads only).
    """


@hookspec
def restrict_capabilities(connection: Connection) -> Mapping[str, str]:
    """Say which implemented capabilities this connection may not use, and why.

    For example an account plan without the stock extension:
    ``{"send_stock": "plan 'basic' lacks the real-time stock extension"}``.
    May read the platform (a SOAP store's WSDL); the core asks once per
    connection and caches the answer.
    :return: capability name -> reason.
    Idempotent: yes.
    """


@hookspec
def sandbox() -> Sandbox:
    """Hand over the plugin's sandbox: a loopback server that speaks the platform's protocol.

    :return: an unstarted :class:`tramo.sandbox.Sandbox`; ``with sandbox as running:`` starts it and
        ``running.settings`` are connection settings that reach it. The
        conformance kit and ``tramo demo`` use it; it needs no credentials
        and no network.
    Idempotent: yes (each call gives a new, unstarted sandbox).
    """


# -- catalogue ----------------------------------------------------------------


@hookspec
def send_products(connection: Connection, products: Sequence[Product]) -> Sequence[WriteResult]:
    """Create or update products (with variants, images, brand, categories).

    :return: one result per product, ``local_id`` the product code,
        ``remote_id`` the platform's product id.
    Idempotent: yes; sending the same product twice creates no duplicate.
    """


@hookspec
def receive_products(connection: Connection, since: Checkpoint) -> Iterable[Product | Held]:
    """Read the store's products changed after ``since`` (all when None).

    :return: products with ``remote_id`` set; unconvertible ones as Held.
    Idempotent: yes (reads only).
    """


@hookspec
def map_categories(connection: Connection, categories: Sequence[Category]) -> Sequence[WriteResult]:
    """Find or create each category in the platform's tree; parents come first.

    :return: one result per category with the platform's ``remote_id``; every
        input category is mapped, and mapping twice gives the same ids.
    Idempotent: yes.
    """


@hookspec
def send_prices(connection: Connection, prices: Sequence[Price]) -> Sequence[WriteResult]:
    """Set prices per SKU (and price list, company or segment where supported).

    :return: one result per price, ``local_id`` the SKU.
    Idempotent: yes.
    """


# -- stock --------------------------------------------------------------------


@hookspec
def send_stock(connection: Connection, levels: Sequence[StockLevel]) -> Sequence[WriteResult]:
    """Set the available quantity per SKU (and warehouse where supported).

    :return: one result per level, ``local_id`` the SKU.
    Idempotent: yes; absolute quantities, never deltas.
    """


@hookspec
def reserve_stock(connection: Connection,
                  reservations: Sequence[StockReservation]) -> Sequence[WriteResult]:
    """Hold units of a SKU for an order so the store does not oversell.

    :return: one result per reservation, ``local_id`` the reservation id.
    Idempotent: yes; the same reservation id reserves once.
    """


@hookspec
def release_stock(connection: Connection,
                  reservations: Sequence[StockReservation]) -> Sequence[WriteResult]:
    """Give back units held by earlier reservations.

    :return: one result per reservation, ``local_id`` the reservation id.
    Idempotent: yes; releasing twice releases once.
    """


# -- orders -------------------------------------------------------------------


@hookspec
def receive_orders(connection: Connection, since: Checkpoint) -> Iterable[Order | Held]:
    """Read orders changed after ``since`` (all open orders when None).

    Orders carry items, customer, addresses, shipping with freight, payments
    and sales channel, with platform ids in the ``platform_*`` fields.
    :return: orders; unconvertible ones as Held.
    Idempotent: yes (reads only; a queue-style platform delivers an order
        until ``acknowledge_orders`` is called for it).
    """


@hookspec
def get_orders(connection: Connection, ids: Sequence[str]) -> Iterable[Order | Held]:
    """Fetch the chosen orders now (for webhooks and manual imports).

    :return: one Order or Held per id that exists, in input order.
    Idempotent: yes (reads only).
    """


@hookspec
def acknowledge_orders(connection: Connection, orders: Sequence[str]) -> Sequence[WriteResult]:
    """Tell the platform the ERP has committed these orders (platform order ids).

    Only for platforms that keep a list of orders not yet integrated.
    :return: one result per order id.
    Idempotent: yes.
    """


@hookspec
def sync_status(connection: Connection, updates: Sequence[StatusUpdate]) -> Sequence[WriteResult]:
    """Move orders to new statuses; ``platform_status`` is already mapped by the core.

    :return: one result per update, ``local_id`` the order id.
    Idempotent: yes; moving an order to the status it has is ``UNCHANGED``.
    """


@hookspec
def send_invoice(connection: Connection, invoices: Sequence[Invoice]) -> Sequence[WriteResult]:
    """Attach NF-e / NFC-e access data to orders.

    :return: one result per invoice, ``local_id`` the access key.
    Idempotent: yes; the same access key is attached once.
    """


@hookspec
def send_tracking(connection: Connection, trackings: Sequence[Tracking]) -> Sequence[WriteResult]:
    """Give the platform tracking codes for shipped orders.

    :return: one result per tracking, ``local_id`` the tracking code.
    Idempotent: yes; the same code on the same order is sent once.
    """


@hookspec
def send_cancellation(connection: Connection,
                      cancellations: Sequence[Cancellation]) -> Sequence[WriteResult]:
    """Cancel orders on the platform (following asynchronous jobs to the end).

    :return: one result per cancellation, ``local_id`` the order id.
    Idempotent: yes; cancelling a cancelled order is ``UNCHANGED``.
    """


@hookspec
def mark_delivered(connection: Connection, orders: Sequence[Delivery]) -> Sequence[WriteResult]:
    """Mark orders delivered to their buyers.

    :return: one result per delivery, ``local_id`` the order id.
    Idempotent: yes.
    """


@hookspec
def parse_webhook(connection: Connection, headers: Mapping[str, str],
                  body: bytes) -> Sequence[WebhookEvent]:
    """Verify a platform notification and turn it into events to fetch.

    Check the signature first (:func:`tramo.webhooks.signature_matches`).
    :return: the events the notification announces (often one), each with the
        platform's delivery id as ``event_id`` when it sends one.
    :raises AuthenticationError: when the signature does not verify.
    Idempotent: yes (pure; the core drops an event whose ``event_id`` it has
        already taken, so a delivery the platform repeats reaches the host once).
    """


# -- look-ups for mappings ----------------------------------------------------


@hookspec
def list_order_statuses(connection: Connection) -> Sequence[PlatformOption]:
    """The platform's order statuses, for the status mapping.

    Idempotent: yes (reads only).
    """


@hookspec
def list_shipping_methods(connection: Connection) -> Sequence[PlatformOption]:
    """The platform's shipping methods, for the shipping mapping.

    Idempotent: yes (reads only).
    """


@hookspec
def list_payment_methods(connection: Connection) -> Sequence[PlatformOption]:
    """The platform's payment methods, for the payment mapping.

    Idempotent: yes (reads only).
    """


@hookspec
def list_sales_channels(connection: Connection) -> Sequence[PlatformOption]:
    """The platform's sales channels (marketplaces, points of sale), for the channel mapping.

    Idempotent: yes (reads only).
    """

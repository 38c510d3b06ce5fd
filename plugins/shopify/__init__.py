"""Shopify Admin GraphQL API: platform ``shopify``, modality ``graphql``.

- this module: the settings and the hooks, each a call into one of:
- :mod:`tramo_shopify.catalog`: products, collections, stock and prices;
- :mod:`tramo_shopify.orders`: order reads, write-backs and webhooks;
- :mod:`tramo_shopify.bulk`: bulk operations streamed from JSONL;
- :mod:`tramo_shopify.client`: the GraphQL client and its cost bucket;
- :mod:`tramo_shopify.wire`: Shopify JSON <-> the tramo model (pure);
- :mod:`tramo_shopify.operations`: every GraphQL document sent;
- :mod:`tramo_shopify.sandbox`: a Shopify store on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import tramo

from tramo_shopify import catalog, wire
from tramo_shopify import orders as order_hooks
from tramo_shopify.client import api

# Imported before the ``sandbox`` hook below is defined, so that the package's
# ``sandbox`` attribute is the hook (pluggy reads it) and not the submodule.
from tramo_shopify.sandbox import ShopifySandbox

__version__ = "0.2.0"

_SETTINGS: tuple[tramo.Setting, ...] = (
    tramo.Setting(name="shop_domain",
                  description="The shop's myshopify.com domain, e.g. example.myshopify.com."),
    tramo.Setting(name="access_token", secret=True,
                  description="Admin API access token of a custom app, sent as X-Shopify-Access-Token."),
    tramo.Setting(name="api_version", required=False, default="2026-10",
                  description="Admin API version (YYYY-MM) in /admin/api/{version}/graphql.json."),
    tramo.Setting(name="base_url", required=False,
                  description="Where the API is, when not https://{shop_domain} (a proxy, the sandbox)."),
    tramo.Setting(name="webhook_secret", required=False, secret=True,
                  description="App client secret that keys the webhooks' X-Shopify-Hmac-Sha256."),
    tramo.Setting(name="location_id", required=False,
                  description="Location (gid or name) for stock when the ERP names no warehouse."),
    tramo.Setting(name="currency", required=False, default="BRL",
                  description="The shop's currency: base prices must be in it."),
    tramo.Setting(name="bucket_size", kind="int", required=False, default=2000,
                  description="Cost points the shop's bucket holds (each answer reports the real figure)."),
    tramo.Setting(name="restore_rate", kind="int", required=False, default=100,
                  description="Cost points a second the bucket regains (Standard plan 100, Plus 1000)."),
    tramo.Setting(name="page_size", kind="int", required=False, default=8,
                  description="Orders per page (at most 8: a page's requested cost stays under 1000)."),
    tramo.Setting(name="code_namespace", required=False, default="tramo",
                  description="Namespace of the unique product metafield holding the ERP's product code."),
    tramo.Setting(name="code_key", required=False, default="erp_code",
                  description="Key of that metafield (created with unique values on the first send)."),
    tramo.Setting(name="invoice_namespace", required=False, default="nfe",
                  description="Namespace of the order metafields that hold the NF-e data."),
    tramo.Setting(name="document_attribute", required=False, default="cpf_cnpj",
                  description="The order's custom attribute (checkout field) holding the buyer's CPF/CNPJ."),
    tramo.Setting(name="collection_prefix", required=False, default="tramo-",
                  description="Handle prefix of the collections made from ERP categories."),
    tramo.Setting(name="notify_customer", kind="bool", required=False, default=False,
                  description="Whether Shopify e-mails the buyer on fulfilment and cancellation."),
    tramo.Setting(name="bulk_import", kind="bool", required=False, default=True,
                  description="Read everything (no checkpoint) through a bulk operation."),
    tramo.Setting(name="job_wait_seconds", kind="int", required=False, default=120,
                  description="How long bulk operations and cancellation jobs are followed."),
)


@tramo.hookimpl
def plugin_info() -> tramo.PluginInfo:
    return tramo.PluginInfo(
        name="shopify", platform="shopify", modality="graphql", version=__version__,
        description="Shopify stores through the Admin GraphQL API.",
        settings=_SETTINGS,
        features={"receive_orders": {"incremental": True, "queue": False, "bulk_first_read": True},
                  "receive_products": {"incremental": True, "bulk_first_read": True},
                  "send_products": {"variants": True, "upsert_by_code": True},
                  "send_prices": {"price_lists": True},
                  "send_stock": {"locations": True, "compare_and_set": True},
                  "send_invoice": {"via": "order metafields"},
                  "parse_webhook": {"signature": "HMAC-SHA256"}},
    )


@tramo.hookimpl
def check_connection(connection: tramo.Connection) -> tramo.ConnectionReport:
    shopify = api(connection)
    found = shopify.shop()
    shop = found.get("shop") or {}
    settings = connection.settings
    problems = []
    if shop.get("currencyCode") and shop["currencyCode"] != settings["currency"]:
        problems.append(f"the shop sells in {shop['currencyCode']}, not {settings['currency']}: set currency")
    location = settings.get("location_id")
    names = shopify.locations()
    if location and location not in names and wire.gid("Location", location) not in names:
        problems.append(f"location_id {location!r} is no active location of this shop")
    if not location:
        problems.append("location_id not set: stock levels must each name a warehouse")
    if not 1 <= int(settings["page_size"]) <= order_hooks.ORDER_PAGE_MAX:
        problems.append(f"page_size {settings['page_size']} is outside 1 to {order_hooks.ORDER_PAGE_MAX}")
    problems.extend(connection.restrictions().values())
    nodes = (found.get("locations") or {}).get("nodes") or ()
    return tramo.ConnectionReport(problems=tuple(problems), details={
        "shop": str(shop.get("name", "?")), "plan": str((shop.get("plan") or {}).get("displayName", "?")),
        "locations": ", ".join(str(n.get("name")) for n in nodes) or "none",
        "api_version": shopify.version})


@tramo.hookimpl
def restrict_capabilities(connection: tramo.Connection) -> Mapping[str, str]:
    if connection.settings.get("webhook_secret") is None:
        return {"parse_webhook": "no webhook_secret: set the app's client secret to verify deliveries"}
    return {}


@tramo.hookimpl
def sandbox() -> ShopifySandbox:
    return ShopifySandbox()


# -- catalogue, stock and prices ------------------------------------------------------------


@tramo.hookimpl
def send_products(connection: tramo.Connection, products: Sequence[tramo.Product]) -> list[tramo.WriteResult]:
    return catalog.send_products(connection, products)


@tramo.hookimpl
def receive_products(connection: tramo.Connection, since: Any) -> Iterator[tramo.Product | tramo.Held]:
    return catalog.receive_products(connection, since)


@tramo.hookimpl
def map_categories(connection: tramo.Connection,
                   categories: Sequence[tramo.Category]) -> list[tramo.WriteResult]:
    return catalog.map_categories(connection, categories)


@tramo.hookimpl
def send_stock(connection: tramo.Connection, levels: Sequence[tramo.StockLevel]) -> list[tramo.WriteResult]:
    return catalog.send_stock(connection, levels)


@tramo.hookimpl
def send_prices(connection: tramo.Connection, prices: Sequence[tramo.Price]) -> list[tramo.WriteResult]:
    return catalog.send_prices(connection, prices)


# -- orders ---------------------------------------------------------------------------------


@tramo.hookimpl
def receive_orders(connection: tramo.Connection, since: Any) -> Iterator[tramo.Order | tramo.Held]:
    return order_hooks.receive_orders(connection, since)


@tramo.hookimpl
def get_orders(connection: tramo.Connection, ids: Sequence[str]) -> Iterator[tramo.Order | tramo.Held]:
    return order_hooks.get_orders(connection, ids)


@tramo.hookimpl
def sync_status(connection: tramo.Connection, updates: Sequence[tramo.StatusUpdate]) -> list[tramo.WriteResult]:
    return order_hooks.sync_status(connection, updates)


@tramo.hookimpl
def send_tracking(connection: tramo.Connection, trackings: Sequence[tramo.Tracking]) -> list[tramo.WriteResult]:
    return order_hooks.send_tracking(connection, trackings)


@tramo.hookimpl
def send_invoice(connection: tramo.Connection, invoices: Sequence[tramo.Invoice]) -> list[tramo.WriteResult]:
    return order_hooks.send_invoice(connection, invoices)


@tramo.hookimpl
def send_cancellation(connection: tramo.Connection,
                      cancellations: Sequence[tramo.Cancellation]) -> list[tramo.WriteResult]:
    return order_hooks.send_cancellation(connection, cancellations)


@tramo.hookimpl
def mark_delivered(connection: tramo.Connection, orders: Sequence[tramo.Delivery]) -> list[tramo.WriteResult]:
    return order_hooks.mark_delivered(connection, orders)


@tramo.hookimpl
def parse_webhook(connection: tramo.Connection, headers: Mapping[str, str],
                  body: bytes) -> list[tramo.WebhookEvent]:
    return order_hooks.parse_webhook(connection, headers, body)


# -- look-ups ---------------------------------------------------------------------------------


@tramo.hookimpl
def list_order_statuses(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return wire.options(wire.STATUSES)


@tramo.hookimpl
def list_sales_channels(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    return wire.options(wire.CHANNELS)

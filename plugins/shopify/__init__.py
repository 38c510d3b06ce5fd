"""Shopify Admin GraphQL API: platform ``shopify``, modality ``graphql``.

Only the plugin declaration for now; capabilities come in the plugin's own issue.
"""

from __future__ import annotations

from tramo.plugin import PluginInfo, Setting, hookimpl

__all__ = ["plugin_info"]

_SETTINGS: tuple[Setting, ...] = (
    Setting(name="shop_domain",
            description="The shop's myshopify.com domain, e.g. example.myshopify.com."),
    Setting(name="access_token", secret=True,
            description="Admin API access token, sent as X-Shopify-Access-Token."),
    Setting(name="api_version", required=False, default="2026-10",
            description="Admin API version (YYYY-MM) in /admin/api/{version}/graphql.json."),
    Setting(name="webhook_secret", required=False, secret=True,
            description="App client secret that keys the webhooks' X-Shopify-Hmac-Sha256."),
    Setting(name="location_id", required=False,
            description="Location for stock when the ERP names no warehouse."),
)


@hookimpl
def plugin_info() -> PluginInfo:
    """Declare the Shopify plugin and its connection settings."""
    return PluginInfo(
        name="shopify",
        platform="shopify",
        modality="graphql",
        version="0.1.0",
        description="Shopify stores through the Admin GraphQL API.",
        settings=_SETTINGS,
    )

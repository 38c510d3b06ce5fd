"""Tray Commerce REST API (``web_api``): platform ``tray``, modality ``rest``.

Only the plugin declaration for now; capabilities come in the plugin's own issue.
"""

from __future__ import annotations

from tramo.plugin import PluginInfo, Setting, hookimpl

__all__ = ["plugin_info"]

_SETTINGS: tuple[Setting, ...] = (
    Setting(name="api_address",
            description="Store API address: the store URL plus /web_api, no version prefix."),
    Setting(name="consumer_key",
            description="Application id issued to the partner app by Tray."),
    Setting(name="consumer_secret", secret=True,
            description="Application secret issued with the consumer key."),
    Setting(name="code", secret=True,
            description="Per-store authorization code, exchanged at POST /auth for tokens."),
    Setting(name="store_id", required=False,
            description="Tray store id; webhook posts carry it as seller_id."),
    Setting(name="requests_per_minute", kind="int", required=False, default=180,
            description="Short-window request limit; more gets HTTP 429."),
    Setting(name="requests_per_day", kind="int", required=False, default=10000,
            description="Daily request limit per store (50000 for a corporate store)."),
)


@hookimpl
def plugin_info() -> PluginInfo:
    """Declare the Tray REST plugin and its connection settings."""
    return PluginInfo(
        name="tray_rest",
        platform="tray",
        modality="rest",
        version="0.1.0",
        description="Tray Commerce stores through the REST web_api (OAuth-style app tokens).",
        settings=_SETTINGS,
    )

"""Ideris marketplace hub API: platform ``ideris``, modality ``rest``.

Only the plugin declaration for now; capabilities come in the plugin's own issue.
"""

from __future__ import annotations

from tramo.plugin import PluginInfo, Setting, hookimpl

__all__ = ["plugin_info"]

_SETTINGS: tuple[Setting, ...] = (
    Setting(name="base_url", required=False, default="https://apiv3.ideris.com.br",
            description="API root (v3; the documented v1 is http://api.ideris.com.br)."),
    Setting(name="login_token", secret=True,
            description="API token (private key) created in Ideris, exchanged at login for a JWT."),
    Setting(name="plan", required=False, choices=("iniciante", "basico", "essencial", "grande"),
            description="Account plan; iniciante and basico need an extension to send stock."),
    Setting(name="realtime_stock_extension", kind="bool", required=False, default=False,
            description="Whether the real-time stock API extension is installed."),
    Setting(name="tracking_notification_url", required=False, secret=True,
            description="Per-account URL, from Ideris support, that receives tracking codes."),
    Setting(name="invoice_notification_url", required=False, secret=True,
            description="Per-account URL, from Ideris support, that receives invoice data."),
)


@hookimpl
def plugin_info() -> PluginInfo:
    """Declare the Ideris plugin and its connection settings."""
    return PluginInfo(
        name="ideris",
        platform="ideris",
        modality="rest",
        version="0.1.0",
        description="Ideris, a hub that gathers orders and listings of many marketplaces.",
        settings=_SETTINGS,
    )

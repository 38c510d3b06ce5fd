"""Tray Commerce SOAP webservice v2: platform ``tray``, modality ``soap``.

Only the plugin declaration for now; capabilities come in the plugin's own issue.
"""

from __future__ import annotations

from tramo.plugin import PluginInfo, Setting, hookimpl

__all__ = ["plugin_info"]

_SETTINGS: tuple[Setting, ...] = (
    Setting(name="store_url",
            description="Store address; the service is /webservice/v2/ws_servidor.php under it."),
    Setting(name="store_id",
            description="Store id, sent as pid_loja in every call."),
    Setting(name="login", required=False, default="webservice",
            description="Webservice user, sent as plogin in every call."),
    Setting(name="password", secret=True,
            description="Webservice user's password, sent as psenha in every call."),
    Setting(name="encoding", required=False, default="ISO-8859-1",
            choices=("ISO-8859-1", "UTF-8"),
            description="Character encoding of the SOAP messages."),
    Setting(name="timeout_seconds", kind="int", required=False, default=30,
            description="Seconds to wait for one call; single calls have taken about 7 s."),
)


@hookimpl
def plugin_info() -> PluginInfo:
    """Declare the Tray SOAP plugin and its connection settings."""
    return PluginInfo(
        name="tray_soap",
        platform="tray",
        modality="soap",
        version="0.1.0",
        description="Tray Commerce stores through the contracted SOAP webservice v2.",
        settings=_SETTINGS,
    )

"""Tray Commerce file exchange over FTP: platform ``tray``, modality ``ftp``.

Only the plugin declaration for now; capabilities come in the plugin's own issue.
"""

from __future__ import annotations

from tramo.plugin import PluginInfo, Setting, hookimpl

__all__ = ["plugin_info"]

_SETTINGS: tuple[Setting, ...] = (
    Setting(name="host",
            description="Address of the store's file server."),
    Setting(name="transport", required=False, default="sftp", choices=("sftp", "ftps", "ftp"),
            description="File transfer protocol; plain ftp sends the password in clear."),
    Setting(name="port", kind="int", required=False,
            description="Server port; when unset, 22 for sftp and 21 for ftps and ftp."),
    Setting(name="username",
            description="File server user, agreed with the store's developer."),
    Setting(name="password", required=False, secret=True,
            description="File server password (sftp may use a private key instead)."),
    Setting(name="private_key_path", required=False,
            description="Path to the SSH private key for sftp."),
    Setting(name="private_key_passphrase", required=False, secret=True,
            description="Passphrase of the SSH private key, when it has one."),
    Setting(name="known_hosts_path", required=False,
            description="known_hosts file that holds the sftp server's host key."),
    Setting(name="host_key_fingerprint", required=False,
            description="Expected sftp host key fingerprint, instead of a known_hosts file."),
    Setting(name="orders_folder",
            description="Folder on the server that holds the order files."),
)


@hookimpl
def plugin_info() -> PluginInfo:
    """Declare the Tray FTP plugin and its connection settings."""
    return PluginInfo(
        name="tray_ftp",
        platform="tray",
        modality="ftp",
        version="0.1.0",
        description="Tray Commerce stores through files on an FTP, FTPS or SFTP server.",
        settings=_SETTINGS,
    )

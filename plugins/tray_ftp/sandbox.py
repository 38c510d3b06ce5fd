"""A Tray store's FTP modality on loopback: a real file server and the store behind it.

Tests, ``tramo demo``, benchmarks and the conformance kit point the plugin at
this sandbox (Tray offers none). It is the *platform*: a real SFTP, FTPS or
plain FTP server (:class:`tramo.sandbox.SftpSandbox`,
:class:`tramo.sandbox.FtpSandbox`) whose login folder is ``data``, and
:class:`~tramo_tray_ftp.sandbox_store.TrayFtpStore`, which plays Tray's
importer on that folder. It never uses the plugin's code, only the file
layout (:mod:`tramo_tray_ftp.wire`), so the kit compares the plugin's files
with the store's own reading of them::

    with tray_ftp_sandbox("ftps") as store:
        order_id = store.place_order(order)     # pedidos/pedidos-...-1001.xml appears
        ...                                     # the plugin reads it, uploads notas/...
        store.held_invoices()                   # the store imports, then answers
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tramo.sandbox import Call, FtpSandbox, Knobs, Profile, Sandbox, SftpSandbox
from tramo.testing.spoilers import with_text

from tramo_tray_ftp.sandbox_seed import fill
from tramo_tray_ftp.sandbox_store import TrayFtpStore

__all__ = ["MAPPINGS", "TrayFtpServerSandbox", "TraySftpSandbox", "profile", "tray_ftp_sandbox"]

#: A host's mapping tables for this store: each canonical status has one Tray status
#: (FINALIZADO, "7", maps to none); each shipping, payment and channel option an ERP code.
MAPPINGS: Mapping[str, Mapping[str, str]] = {
    "status": {"1": "open", "2": "approved", "3": "preparing_shipment", "4": "invoiced",
               "5": "ready_to_ship", "6": "shipped", "8": "delivered",
               "9": "not_delivered", "10": "cancelled"},
    "shipping": {"1": "CORREIOS_PAC", "2": "CORREIOS_SEDEX", "3": "RETIRADA"},
    "payment": {"80": "BOLETO", "81": "PIX", "82": "CARTAO"},
    "channel": {"1": "LOJA", "2": "MERCADO_LIVRE", "3": "DAFITI", "4": "AMAZON"},
}

#: Characters XML 1.0 cannot carry (not even as a reference): the layout refuses them.
BEYOND_XML = "\x01"

#: SFTP operations that change the files (an ``open`` does when its mode is not "r").
SFTP_WRITES = frozenset({"write", "setstat", "remove", "rename", "posix_rename", "mkdir",
                         "rmdir"})
#: FTP commands that change the files (RNTO, not RNFR, is the rename's change).
FTP_WRITES = frozenset({"STOR", "STOU", "APPE", "DELE", "RNTO", "MKD", "XMKD", "RMD", "XRMD",
                        "SITE CHMOD", "MFMT"})


def profile(mappings: Mapping[str, Any]) -> Profile:
    """What the conformance kit must know about this store, with a host's ``mappings``."""
    return Profile(
        kept={
            # The layout carries a product whole but for tramo's bookkeeping
            # (remote_id, updated_at), which the store does not keep.
            "Product": frozenset({"code", "name", "description", "short_description", "sku",
                                  "gtin", "brand", "categories", "ncm", "price", "weight_kg",
                                  "dimensions", "images", "attributes", "variants",
                                  "available"}),
            "Variant": frozenset({"sku", "gtin", "attributes", "price", "weight_kg",
                                  "dimensions", "images", "available"}),
            "Brand": frozenset({"id", "name"}),
            # An order placed in the store: the store numbers it, stamps its times and
            # status, and replaces the options it does not offer with its first choice.
            "Order": frozenset({"customer", "items", "total", "billing_address",
                                "delivery_address", "shipping", "payments", "sales_channel",
                                "discount", "currency", "notes"}),
            "Customer": frozenset({"name", "kind", "cpf", "cnpj", "state_registration", "email",
                                   "phones", "birth_date", "addresses", "contacts", "id"}),
            "Shipping": frozenset({"carrier", "freight", "estimated_delivery"}),
            "Payment": frozenset({"value", "installments", "paid_at"}),
            "SalesChannel": frozenset({"marketplace_order_id"}),
        },
        orders="queue",
        mappings=mappings,
        invalid={
            "send_products": (
                ("a name with a character XML 1.0 cannot carry", with_text("name", BEYOND_XML)),
            ),
            # not the number: an invoice checks its number against its access key
            "send_invoice": (
                ("an order id with a character XML 1.0 cannot carry",
                 with_text("order_id", "\x02")),
            ),
        },
        page_size_setting=None,
    )


class _SeededStore(TrayFtpStore):
    """What both server flavours share beyond the store: the profile and the demo's seed."""

    profile = profile(MAPPINGS)

    def seed(self, products: int = 20, orders: int = 10, *, seed: int = 0) -> None:
        """Fill the store with a catalogue and orders placed from it (deterministic); for demos."""
        fill(self, products, orders, seed)


class TraySftpSandbox(_SeededStore, SftpSandbox):
    """The store behind an SFTP server (the plugin's default transport)."""

    @property
    def settings(self) -> dict[str, Any]:
        return {**super().settings, "transport": "sftp"}

    def is_write(self, call: Call) -> bool:
        """Uploads (an ``open`` to write and its writes), renames, removals, folders, modes."""
        return call.method in SFTP_WRITES or (call.method == "open" and call.query != "r")


class TrayFtpServerSandbox(_SeededStore, FtpSandbox):
    """The store behind an FTPS (default) or plain FTP server."""

    def __init__(self, mode: str = "ftps", knobs: Knobs | None = None, **server: Any) -> None:
        super().__init__(mode, knobs, **server)

    def is_write(self, call: Call) -> bool:
        """Uploads, renames, deletions, folders and modes; listings and downloads are reads."""
        return call.method.upper() in FTP_WRITES


def tray_ftp_sandbox(transport: str = "sftp", knobs: Knobs | None = None) -> Sandbox:
    """An unstarted store sandbox behind a ``"sftp"``, ``"ftps"`` or ``"ftp"`` server."""
    if transport == "sftp":
        return TraySftpSandbox(knobs)
    if transport in ("ftps", "ftp"):
        return TrayFtpServerSandbox(transport, knobs)
    raise ValueError(f"transport {transport!r} is not one of sftp, ftps, ftp")

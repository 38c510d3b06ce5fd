"""The store's side of Tray's FTP modality: what Tray's importer does with the files on the server.

:class:`TrayFtpStore` is mixed into a file-server sandbox (SFTP, FTPS or
FTP), whose served directory is ``self.data``. It plays the store: it reads
the product, status and invoice files the ERP uploads (imported in name
order, then moved to ``processados/``, or to ``rejeitados/`` when it cannot
read them), writes an order file for every order a buyer places or changes,
and publishes its lists (statuses, shipping, payment, channels). It works on
the directory itself and reads files with :mod:`tramo_tray_ftp.wire` only, so
the conformance kit compares the plugin's work with the store's own reading.

The store imports lazily, when something asks what it holds (``held_*``), as
a store importing on a schedule would be seen to; :meth:`import_files` runs
it on demand. Order times come from a store clock that ticks one second per
change, so they never repeat and file names sort in the order written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs

import tramo

from tramo_tray_ftp import wire

__all__ = [
    "CHANNELS", "FOLDERS", "LISTS_FILE", "ORDERS", "PAYMENTS", "PLACEABLE", "PLUGIN_SETTINGS",
    "PROCESSED", "QUARANTINE", "REJECTED", "SHIPPING", "START", "STATUSES", "STORE_TZ",
    "StoreState", "TrayFtpStore", "UPLOADS",
]

#: Order statuses: id -> Tray's name (the same ids as Tray's other modalities).
STATUSES: dict[str, str] = {
    "1": "AGUARDANDO PAGAMENTO", "2": "PAGAMENTO APROVADO", "3": "EM SEPARAÇÃO",
    "4": "FATURADO", "5": "PRONTO PARA ENVIO", "6": "ENVIADO", "7": "FINALIZADO",
    "8": "ENTREGUE", "9": "DEVOLVIDO", "10": "CANCELADO",
}
#: Shipping options, payment options and sales channels: id -> name.
SHIPPING: dict[str, str] = {"1": "Correios PAC", "2": "Correios Sedex", "3": "Retirada na loja"}
PAYMENTS: dict[str, str] = {"80": "Boleto", "81": "Pix", "82": "Cartão de crédito"}
CHANNELS: dict[str, str] = {"1": "LOJA VIRTUAL", "2": "Mercado Livre", "3": "Dafiti",
                            "4": "Amazon"}
#: The statuses an order can be placed in: FINALIZADO ("7") closes an order, never starts one.
PLACEABLE = frozenset(STATUSES) - {"7"}

#: The store's zone offset and the moment its clock starts (one second per change after it).
STORE_TZ = timezone(timedelta(hours=-3))
START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=STORE_TZ)
FIRST_ORDER = 1001

#: Folders, relative to the login folder (the plugin's default settings name the same ones).
ORDERS = "pedidos"
PROCESSED = "processados"
QUARANTINE = "quarentena"
REJECTED = "rejeitados"
#: The folders the ERP uploads to, in the order the store imports them, with their kind.
UPLOADS: tuple[tuple[str, str], ...] = (("produtos", "products"), ("situacoes", "status_updates"),
                                        ("notas", "invoices"))
LISTS_FILE = "tabelas/listas.xml"
FOLDERS: tuple[str, ...] = (
    ORDERS, f"{ORDERS}/{PROCESSED}", f"{ORDERS}/{QUARANTINE}",
    *(f"{folder}{sub}" for folder, _ in UPLOADS for sub in ("", f"/{PROCESSED}", f"/{REJECTED}")),
    "tabelas",
)
#: The plugin's settings a host of this store would give, beyond the server's own.
PLUGIN_SETTINGS: dict[str, Any] = {"orders_folder": ORDERS, "timeout_seconds": 5}


@attrs.define
class StoreState:
    """What the store holds; a new one comes with every :meth:`TrayFtpStore.fresh_data`."""

    clock: datetime = START
    next_order: int = FIRST_ORDER
    products: dict[str, tramo.Product] = attrs.field(factory=dict)
    orders: dict[str, tramo.Order] = attrs.field(factory=dict)
    invoices: dict[str, list[str]] = attrs.field(factory=dict)


def _options(table: dict[str, str]) -> list[tramo.PlatformOption]:
    return [tramo.PlatformOption(id=ident, name=name) for ident, name in table.items()]


def _known(table: dict[str, str], given: str | None, fallback: str) -> str:
    """``given`` when it is one of the store's options, else the store's first choice."""
    return given if given in table else fallback


def _write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``path`` under a dot-name first, so a reader never meets half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    os.replace(temporary, path)


class TrayFtpStore:
    """The store over a file server's directory; mix it in before the server sandbox class.

    ``errors`` lists files the store could not read (the plugin wrote
    something the layout does not allow: the conformance kit fails on them);
    ``rejected`` lists records it read but turned down (an unknown order, an
    unknown status: the ERP's mistakes, not the plugin's).
    """

    plugin = "tray_ftp"
    lock: Any
    data: Path
    store: StoreState
    _errors: list[str]
    rejected: list[str]

    # -- a new account -------------------------------------------------------------------------

    def fresh_data(self) -> Path:
        """A new root with the store's empty folders and its lists file, and an empty store."""
        root: Path = super().fresh_data()  # type: ignore[misc]
        for folder in FOLDERS:
            (root / folder).mkdir(parents=True, exist_ok=True)
        lists = {"order_statuses": _options(STATUSES), "shipping_methods": _options(SHIPPING),
                 "payment_methods": _options(PAYMENTS), "sales_channels": _options(CHANNELS)}
        _write_atomically(root / LISTS_FILE, wire.lists_chunks(lists))
        self.store = StoreState()
        self._errors = []
        self.rejected = []
        return root

    @property
    def errors(self) -> list[str]:
        """The uploads the store could not read, after importing what waits: the conformance kit
        reads this after every property, so a bad file fails the property that wrote it."""
        with self.lock:
            if self.data.is_dir():
                self.import_files()
            return self._errors

    @property
    def settings(self) -> dict[str, Any]:
        """The server's settings plus the plugin's (its folders are the plugin's defaults)."""
        return {**super().settings, **PLUGIN_SETTINGS}  # type: ignore[misc]

    # -- importing what the ERP uploads --------------------------------------------------------

    def import_files(self) -> None:
        """Import every waiting upload: products, then status updates, then invoices, by name."""
        appliers: dict[str, Callable[[str, list[Any]], None]] = {
            "products": self._take_products, "status_updates": self._take_statuses,
            "invoices": self._take_invoices}
        with self.lock:
            for folder, kind in UPLOADS:
                for path in self._waiting(self.data / folder):
                    records = self._read(folder, wire.KINDS[kind], path)
                    if records is None:
                        continue
                    appliers[kind](f"{folder}/{path.name}", records)
                    os.replace(path, self.data / folder / PROCESSED / path.name)

    @staticmethod
    def _waiting(folder: Path) -> list[Path]:
        """The finished files in ``folder`` (a dot-name is an upload in progress), by name."""
        return sorted(p for p in folder.iterdir()
                      if p.suffix == ".xml" and not p.name.startswith(".") and p.is_file())

    def _read(self, folder: str, kind: wire.Kind, path: Path) -> list[Any] | None:
        """The file's records, or None after setting it aside when any part is unreadable."""
        try:
            parsed = list(wire.parse(kind, path))
        except wire.FileProblem as exc:
            problems = [exc.problem]
        else:
            problems = [p.problem for p in parsed if p.problem is not None]
        if not problems:
            return [p.record for p in parsed]
        os.replace(path, self.data / folder / REJECTED / path.name)
        self._errors.append(f"{folder}/{path.name}: " + "; ".join(str(p) for p in problems[:5]))
        return None

    def _take_products(self, where: str, products: list[tramo.Product]) -> None:
        for product in products:
            self.store.products[product.code] = product

    def _take_statuses(self, where: str, updates: list[tramo.StatusUpdate]) -> None:
        for update in updates:
            order = self.store.orders.get(update.order_id)
            if order is None:
                self.rejected.append(f"{where}: order {update.order_id!r} is not in the store")
            elif update.platform_status not in STATUSES:
                self.rejected.append(f"{where}: order {update.order_id!r}: status "
                                     f"{update.platform_status!r} is not one of the store's")
            else:
                self.store.orders[order.id] = attrs.evolve(
                    order, platform_status=update.platform_status)

    def _take_invoices(self, where: str, invoices: list[tramo.Invoice]) -> None:
        for invoice in invoices:
            if invoice.order_id not in self.store.orders:
                self.rejected.append(f"{where}: invoice {invoice.access_key} is for order "
                                     f"{invoice.order_id!r}, not in the store")
            else:  # the store files what it is given: a key sent twice is held twice
                self.store.invoices.setdefault(invoice.order_id, []).append(invoice.access_key)

    # -- the platform's side, in the model's terms (tramo.sandbox.PlatformView) ----------------

    def held_products(self) -> list[tramo.Product]:
        """The products imported, by code (a later file replaces a product whole)."""
        with self.lock:
            self.import_files()
            return [self.store.products[code] for code in sorted(self.store.products)]

    def held_status(self, order_id: str) -> str:
        """The order's status id ("1" to "10")."""
        with self.lock:
            self.import_files()
            return self.store.orders[order_id].platform_status

    def held_invoices(self) -> dict[str, list[str]]:
        """Order id to its invoices' access keys, in import order (a duplicate shows twice)."""
        with self.lock:
            self.import_files()
            return {ident: list(keys) for ident, keys in self.store.invoices.items()}

    def place_order(self, order: tramo.Order) -> str:
        """A buyer places ``order`` now; it is written alone in a new order file. Returns its id.

        The store numbers it and stamps it; what it does not offer falls back to
        its first choice: status "1", shipping "1", payment "80", channel "1".
        """
        return self.place_orders([order])[0]

    def place_orders(self, orders: Iterable[tramo.Order]) -> list[str]:
        """Several buyers place orders now; they are written together in one file."""
        with self.lock:
            placed = [self._placed(order) for order in orders]
            if placed:
                self._write_orders(placed)  # first: an order the layout cannot carry is not kept
                self.store.orders.update((order.id, order) for order in placed)
            return [order.id for order in placed]

    def change_order(self, order_id: str) -> None:
        """Something changes the order in the store: it moves and is written again in a new file."""
        with self.lock:
            order = attrs.evolve(self.store.orders[order_id], updated_at=self._tick())
            self._write_orders([order])
            self.store.orders[order_id] = order

    # -- orders as the store writes them ---------------------------------------------------------

    def _tick(self) -> datetime:
        """The store clock one second after the last change: times never repeat."""
        self.store.clock += timedelta(seconds=1)
        return self.store.clock

    def _placed(self, order: tramo.Order) -> tramo.Order:
        """``order`` as the store keeps it: its id, number, time, options; no ERP-side fields."""
        ident = str(self.store.next_order)
        self.store.next_order += 1
        shipping, channel = order.shipping, order.sales_channel
        return attrs.evolve(
            order, id=ident, number=ident, placed_at=self._tick(), updated_at=None, status=None,
            platform_status=order.platform_status if order.platform_status in PLACEABLE else "1",
            customer=attrs.evolve(order.customer, remote_id=None),
            shipping=None if shipping is None else attrs.evolve(
                shipping, method=None, platform_method=_known(SHIPPING, shipping.platform_method,
                                                              "1")),
            payments=tuple(attrs.evolve(p, method=None,
                                        platform_method=_known(PAYMENTS, p.platform_method, "80"))
                           for p in order.payments),
            sales_channel=None if channel is None else attrs.evolve(
                channel, channel=None,
                platform_channel=_known(CHANNELS, channel.platform_channel, "1")),
            edits=(), invoices=(), trackings=())

    def _write_orders(self, orders: list[tramo.Order]) -> Path:
        kind = wire.KINDS["orders"]
        token = orders[0].id if len(orders) == 1 else f"{orders[0].id}-{orders[-1].id}"
        path = self.data / ORDERS / wire.file_name(kind, self.store.clock, token)
        elements = [wire.record_element(kind, order) for order in orders]
        _write_atomically(path, wire.file_chunks(kind, elements))
        return path

    # -- for tests and demos ---------------------------------------------------------------------

    def write_raw(self, folder: str, name: str, content: bytes) -> Path:
        """Drop a hand-made file in ``folder`` (atomically), as if the ERP had uploaded it."""
        with self.lock:
            path = self.data / folder / name
            _write_atomically(path, [content])
            return path

    def listing(self, folder: str) -> list[str]:
        """The names of the files (not folders) in ``folder``, sorted."""
        with self.lock:
            return sorted(p.name for p in (self.data / folder).iterdir() if p.is_file())

    def orders_waiting(self) -> list[str]:
        """The order files the ERP has not taken yet."""
        return [n for n in self.listing(ORDERS) if not n.startswith(".")]

    def processed(self, folder: str = ORDERS) -> list[str]:
        """The files done with in ``folder``: orders the ERP took, uploads the store imported."""
        return self.listing(f"{folder}/{PROCESSED}")

    def quarantined(self) -> list[str]:
        """The order files (and their reports) the ERP set aside as unreadable."""
        return self.listing(f"{ORDERS}/{QUARANTINE}")

    def turned_away(self, folder: str) -> list[str]:
        """The uploads in ``folder`` the store could not read (each also in ``errors``)."""
        return self.listing(f"{folder}/{REJECTED}")

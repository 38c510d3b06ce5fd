"""The Tray FTP sandbox: a store that exchanges files on a real SFTP, FTPS or FTP server.

No plugin code takes part: files are made with the layout module
(``tramo_tray_ftp.wire``) and dropped in the served folder, or uploaded with
tramo's own file-exchange client, and what the store holds is read back
through the sandbox's ``held_*`` view. One sandbox per transport serves the
module; each test gets a new store (``reset``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

import tramo
from tramo.exchange import open_session
from tramo.model.identifiers import cpf_check_digits, nfe_key_check_digit
from tramo.remote import remote_folder
from tramo.testing import strategies as ts
from tramo.testing.kit import project
from tramo_tray_ftp import wire
from tramo_tray_ftp.sandbox import MAPPINGS, TrayFtpServerSandbox, TraySftpSandbox, tray_ftp_sandbox
from tramo_tray_ftp.sandbox_store import (CHANNELS, FOLDERS, LISTS_FILE, PAYMENTS, SHIPPING, START,
                                          STATUSES, TrayFtpStore)

CPF = "529982247" + cpf_check_digits("529982247")
KEY_BODY = "3526031122233300018155001000001234100001234"
KEY = KEY_BODY + nfe_key_check_digit(KEY_BODY)
PLUGIN_SETTINGS = {"host", "transport", "port", "username", "password", "private_key_path",
                   "private_key_passphrase", "known_hosts_path", "host_key_fingerprint",
                   "allow_plain_ftp", "ca_file", "orders_folder", "processed_folder",
                   "quarantine_folder", "products_folder", "status_folder", "invoices_folder",
                   "lists_file", "file_encoding", "timeout_seconds"}


@pytest.fixture(scope="module", params=["sftp", "ftps", "ftp"])
def running(request: pytest.FixtureRequest) -> Iterator[TrayFtpStore]:
    with tray_ftp_sandbox(request.param) as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def store(running: Any) -> Any:
    running.reset()
    return running


def order(**changes: Any) -> tramo.Order:
    """A buyer's order as the kit would place it (ERP-side fields filled in, to be dropped)."""
    customer = tramo.Customer(name="Luíza Andrade", cpf=CPF, remote_id="C-9",
                              email="luiza@example.com.br")
    address = tramo.Address(street="Rua Chile", number="12", city="Salvador", state="BA",
                            postal_code="40020-000")
    base = tramo.Order(
        id="ERP-1", placed_at=START - timedelta(days=3), customer=customer,
        items=(tramo.OrderItem(sku="TF-1", name="Café", quantity=2, unit_price=Decimal("17.50")),),
        total=Decimal("47.90"), platform_status="7", status=tramo.OrderStatus.DELIVERED,
        updated_at=START - timedelta(days=1), delivery_address=address,
        shipping=tramo.Shipping(platform_method="DHL", method="X", freight=Decimal("12.90")),
        payments=(tramo.Payment(value=Decimal("47.90"), platform_method="99", method="Y"),),
        sales_channel=tramo.SalesChannel(platform_channel="Shopee", channel="Z",
                                         marketplace_order_id="MP-1"),
        invoices=(tramo.Invoice(order_id="ERP-1", number="1234", series="1", access_key=KEY,
                                issued_at=START, value=Decimal("47.90")),),
    )
    return attrs.evolve(base, **changes)


def file_of(kind: str, records: list[Any]) -> bytes:
    k = wire.KINDS[kind]
    return b"".join(wire.file_chunks(k, [wire.record_element(k, r) for r in records]))


def read_orders(store: Any, name: str) -> list[tramo.Order]:
    parsed = list(wire.parse(wire.KINDS["orders"], store.data / "pedidos" / name))
    assert all(p.problem is None for p in parsed), parsed
    return [p.record for p in parsed]


def product(code: str, **changes: Any) -> tramo.Product:
    return attrs.evolve(tramo.Product(code=code, name=f"Produto {code}", price=Decimal("9.90")),
                        **changes)


# -- a new account ---------------------------------------------------------------------------


def test_fresh_data_has_the_folders_and_a_lists_file(store: Any) -> None:
    assert all((store.data / folder).is_dir() for folder in FOLDERS)
    lists = wire.read_lists(store.data / LISTS_FILE)
    assert {o.id: o.name for o in lists["order_statuses"]} == STATUSES
    assert [o.id for o in lists["shipping_methods"]] == list(SHIPPING)
    assert [o.id for o in lists["payment_methods"]] == list(PAYMENTS)
    assert [o.id for o in lists["sales_channels"]] == list(CHANNELS)
    assert store.orders_waiting() == [] and store.held_products() == []


def test_settings_are_the_plugins_own(store: Any) -> None:
    found = store.settings
    assert set(found) <= PLUGIN_SETTINGS
    assert found["orders_folder"] == "pedidos" and found["transport"] in ("sftp", "ftps", "ftp")
    assert set(MAPPINGS["status"]) == set(STATUSES) - {"7"}


def test_a_client_logs_in_lists_the_orders_and_uploads(store: Any) -> None:
    ident = store.place_order(order())
    with open_session(store.settings, timeout=5) as session:
        folder = remote_folder(session)
        assert [f.name for f in folder.list("pedidos")] == store.orders_waiting()
        with folder.open_read(f"pedidos/{store.orders_waiting()[0]}") as stream:
            assert f"<id>{ident}</id>".encode() in stream.read()
        folder.upload_atomic("produtos", "produtos-1.xml", [file_of("products", [product("A")])])
    assert [p.code for p in store.held_products()] == ["A"]
    assert store.errors == []


# -- orders the store writes -------------------------------------------------------------------


def test_a_placed_order_is_written_readable_with_the_stores_fall_backs(store: Any) -> None:
    ident = store.place_order(order())
    [name] = store.orders_waiting()
    assert name.startswith("pedidos-") and name.endswith(f"-{ident}.xml")
    [held] = read_orders(store, name)
    assert (held.id, held.number, held.platform_status) == ("1001", "1001", "1")
    assert held.placed_at == START + timedelta(seconds=1) and held.updated_at is None
    assert held.status is None and held.customer.remote_id is None and held.invoices == ()
    assert held.shipping == tramo.Shipping(platform_method="1", freight=Decimal("12.90"))
    assert [(p.platform_method, p.method) for p in held.payments] == [("80", None)]
    assert held.sales_channel == tramo.SalesChannel(platform_channel="1",
                                                    marketplace_order_id="MP-1")
    assert store.held_status(ident) == "1"


def test_known_options_are_kept_and_ids_and_times_move_on(store: Any) -> None:
    first = store.place_order(order())
    known = order(platform_status="4",
                  shipping=tramo.Shipping(platform_method="2", freight=Decimal(0)),
                  payments=(tramo.Payment(value=Decimal("47.90"), platform_method="81"),),
                  sales_channel=tramo.SalesChannel(platform_channel="3"))
    second = store.place_order(known)
    assert (first, second) == ("1001", "1002")
    [one], [two] = (read_orders(store, n) for n in store.orders_waiting())
    assert two.placed_at > one.placed_at
    assert (two.platform_status, two.shipping.platform_method, two.payments[0].platform_method,
            two.sales_channel.platform_channel) == ("4", "2", "81", "3")


def test_many_orders_go_in_one_file_and_a_change_writes_a_new_one(store: Any) -> None:
    ids = store.place_orders([order(), order(), order()])
    [name] = store.orders_waiting()
    assert [o.id for o in read_orders(store, name)] == ids == ["1001", "1002", "1003"]
    store.change_order("1002")
    first, second = store.orders_waiting()
    assert first == name
    [changed] = read_orders(store, second)
    assert changed.id == "1002" and changed.updated_at == START + timedelta(seconds=4)


# -- files the ERP uploads -----------------------------------------------------------------------


def test_a_product_file_is_imported_and_moved_and_the_last_file_wins(store: Any) -> None:
    store.write_raw("produtos", "produtos-1.xml", file_of("products", [product("A"), product("B")]))
    store.write_raw("produtos", "produtos-2.xml", file_of("products", [product("A", name="Novo")]))
    store.write_raw("produtos", ".produtos-3.xml.part", b"half a fi")  # an upload in progress
    held = store.held_products()
    assert [(p.code, p.name) for p in held] == [("A", "Novo"), ("B", "Produto B")]
    assert store.processed("produtos") == ["produtos-1.xml", "produtos-2.xml"]
    assert store.listing("produtos") == [".produtos-3.xml.part"]
    assert store.errors == [] and store.rejected == []


def test_an_unreadable_product_file_is_rejected_whole(store: Any) -> None:
    good = file_of("products", [product("A"), product("B")])
    store.write_raw("produtos", "produtos-1.xml", good[:-40])  # cut short
    store.write_raw("produtos", "produtos-2.xml", good.replace(b"9.90", b"nove", 1))
    store.write_raw("produtos", "produtos-3.xml", good.replace(b'version="1"', b'version="2"'))
    assert store.held_products() == []
    assert store.turned_away("produtos") == ["produtos-1.xml", "produtos-2.xml", "produtos-3.xml"]
    assert len(store.errors) == 3
    assert "produtos/produtos-2.xml" in store.errors[1] and "price" in store.errors[1]


def test_status_updates_apply_and_unknown_orders_are_rejected(store: Any) -> None:
    ident = store.place_order(order())
    updates = [tramo.StatusUpdate(order_id=ident, status=s, platform_status=p)
               for s, p in ((tramo.OrderStatus.APPROVED, "2"), (tramo.OrderStatus.INVOICED, "4"))]
    updates += [tramo.StatusUpdate(order_id="999", status=tramo.OrderStatus.SHIPPED,
                                   platform_status="6"),
                tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.SHIPPED,
                                   platform_status="66")]
    store.write_raw("situacoes", "situacoes-1.xml", file_of("status_updates", updates))
    assert store.held_status(ident) == "4"
    assert len(store.rejected) == 2 and "'999'" in store.rejected[0]
    assert store.processed("situacoes") == ["situacoes-1.xml"] and store.errors == []


def test_the_store_takes_duplicate_invoices_and_rejects_unknown_orders(store: Any) -> None:
    ident = store.place_order(order())
    invoice = tramo.Invoice(order_id=ident, number="1234", series="1", access_key=KEY,
                            issued_at=START, value=Decimal("47.90"))
    store.write_raw("notas", "notas-1.xml", file_of("invoices", [invoice]))
    store.write_raw("notas", "notas-2.xml",
                    file_of("invoices", [invoice, attrs.evolve(invoice, order_id="999")]))
    assert store.held_invoices() == {ident: [KEY, KEY]}
    assert len(store.rejected) == 1 and store.errors == []


@settings(max_examples=25)
@given(products=ts.products().map(lambda p: [p]))
def test_the_store_keeps_what_the_profile_says(products: list[tramo.Product]) -> None:
    sandbox = TraySftpSandbox()  # never started: the store reads its folder directly
    sandbox.write_raw("produtos", "produtos-1.xml", file_of("products", products))
    kept = sandbox.profile.kept
    assert project(sandbox.held_products(), kept) == project(products, kept)
    assert sandbox.errors == []


# -- reset and seed ------------------------------------------------------------------------------


def test_reset_gives_an_empty_store(store: Any) -> None:
    store.seed(products=4, orders=3)
    before = store.data
    store.reset()
    assert store.data != before and store.held_products() == [] and store.orders_waiting() == []
    assert store.held_invoices() == {} and store.errors == [] and store.rejected == []
    assert store.place_order(order()) == "1001"


def test_seed_is_deterministic(store: Any) -> None:
    def seeded() -> tuple[list[tramo.Product], dict[str, bytes]]:
        store.reset()
        store.seed(products=8, orders=6, seed=7)
        files = {n: (store.data / "pedidos" / n).read_bytes() for n in store.orders_waiting()}
        return store.held_products(), files

    products, files = seeded()
    assert len(products) == 8 and len(files) == 2 and store.errors == []
    assert seeded() == (products, files)
    orders = [o for n in files for o in read_orders(store, n)]
    skus = {sku for p in products for sku in p.skus}
    assert len(orders) == 6 and all(i.sku in skus for o in orders for i in o.items)


def test_the_factory_gives_each_transport() -> None:
    assert isinstance(tray_ftp_sandbox("sftp"), TraySftpSandbox)
    assert tray_ftp_sandbox("ftp").mode == "ftp"  # type: ignore[attr-defined]
    assert isinstance(tray_ftp_sandbox("ftps"), TrayFtpServerSandbox)
    with pytest.raises(ValueError):
        tray_ftp_sandbox("scp")

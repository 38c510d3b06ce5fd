"""The tray_ftp plugin against its sandbox store, over real SFTP, FTPS and plain FTP servers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import paramiko
import pytest

import tramo
from tramo.model.identifiers import cpf_check_digits, nfe_key_check_digit
from tramo.registry import Registry, discover
from tramo.sandbox import Fault, Sandbox
from tramo.sftp import HostKeyError, fingerprint, known_hosts_line
from tramo.testing.kit import KIT_HTTP, connect_to
from tramo_tray_ftp import wire
from tramo_tray_ftp.sandbox import MAPPINGS, tray_ftp_sandbox

TRANSPORTS = ["sftp", "ftps", "ftp"]
CPF = "529982247" + cpf_check_digits("529982247")
WHEN = datetime(2026, 3, 2, 10, 0).astimezone()
RENAMES = ("rename", "posix_rename", "RNFR", "RNTO")
KEY = "3526112345678000019555001000012345100012345"
ACCESS_KEY = KEY + str(nfe_key_check_digit(KEY))


@pytest.fixture(scope="module")
def registry() -> Registry:
    return discover(allow=["tray_ftp", "tray_rest", "tray_soap"])


@pytest.fixture(scope="module")
def stores() -> Iterator[dict[str, Any]]:
    with contextlib.ExitStack() as stack:
        yield {t: stack.enter_context(tray_ftp_sandbox(t)) for t in TRANSPORTS}


@pytest.fixture(params=TRANSPORTS)
def store(request: pytest.FixtureRequest, stores: dict[str, Any]) -> Any:
    found = stores[request.param]
    found.reset()
    return found


@pytest.fixture
def sftp_store(stores: dict[str, Any]) -> Any:
    stores["sftp"].reset()
    return stores["sftp"]


def connect(registry: Registry, store: Sandbox, state: tramo.StateStore | None = None,
            **settings: Any) -> tramo.Connection:
    return connect_to(store, registry, state=state, **settings)


def an_order(**changes: Any) -> tramo.Order:
    customer = tramo.Customer(name="Ana Souza", cpf=CPF, email="ana@example.com.br",
                              phones=["+55 11 91234-5678"])
    address = tramo.Address(street="Rua Augusta", number="100", city="São Paulo", state="SP",
                            postal_code="01305-000")
    fields: dict[str, Any] = dict(
        id="x", placed_at=WHEN, customer=customer, total=Decimal("103.80"), platform_status="1",
        items=[tramo.OrderItem(sku="CANECA", name="Caneca", quantity=2, unit_price=Decimal("39.90"))],
        delivery_address=address, billing_address=address,
        shipping=tramo.Shipping(platform_method="2", carrier="Correios", freight=Decimal("24.00")),
        payments=[tramo.Payment(value=Decimal("103.80"), platform_method="81")])
    fields.update(changes)
    return tramo.Order(**fields)


def a_product(code: str = "CANECA", **changes: Any) -> tramo.Product:
    fields: dict[str, Any] = dict(code=code, name="Caneca Ágata 350 ml", price=Decimal("39.90"),
                                  description="Esmaltada, ★ edição limitada")
    fields.update(changes)
    return tramo.Product(**fields)


def names(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []


# -- every capability, over every transport ----------------------------------------------------


def test_products_sent_are_held_by_the_store_and_only_changes_go_again(
        registry: Registry, store: Any) -> None:
    products = [a_product(), a_product("JARRA", name="Jarra 1 L")]
    with connect(registry, store) as connection:
        first = connection.call("send_products", products=products)
        assert [r.outcome for r in first] == [tramo.Outcome.CREATED] * 2
        changed = [a_product(price=Decimal("42.00")), products[1]]
        second = connection.call("send_products", products=changed)
        assert [r.outcome for r in second] == [tramo.Outcome.UPDATED, tramo.Outcome.UNCHANGED]
    held = {p.code: p for p in store.held_products()}
    assert held["CANECA"].price == Decimal("42.00") and held["CANECA"].description.endswith("limitada")
    assert set(held) == {"CANECA", "JARRA"}
    assert len(names(Path(store.data) / "produtos" / "processados")) == 2, "one file per changed batch"


def test_orders_come_with_customer_and_freight_until_acknowledged(registry: Registry, store: Any) -> None:
    ids = [store.place_order(an_order()), store.place_order(an_order(notes="Presente"))]
    with connect(registry, store) as connection:
        read = list(connection.call("receive_orders"))
        assert sorted(o.id for o in read) == sorted(ids)
        order = read[0]
        assert order.customer.cpf == CPF and order.freight == Decimal("24.00")
        assert order.status is tramo.OrderStatus.OPEN and order.shipping.method == MAPPINGS["shipping"]["2"]
        assert [o.id for o in connection.call("receive_orders")] == [o.id for o in read]
        results = connection.call("acknowledge_orders", orders=[ids[0]])
        assert [r.outcome for r in results] == [tramo.Outcome.UPDATED]
        assert [o.id for o in connection.call("receive_orders")] == [ids[1]]
    assert len(names(Path(store.data) / "pedidos" / "processados")) == 1


def test_status_updates_reach_the_store_and_a_status_it_has_is_not_sent(
        registry: Registry, store: Any) -> None:
    ident = store.place_order(an_order())
    with connect(registry, store) as connection:
        list(connection.call("receive_orders"))  # the store says the order is "1"
        same = tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.OPEN)
        assert connection.call("sync_status", updates=[same])[0].outcome is tramo.Outcome.UNCHANGED
        shipped = tramo.StatusUpdate(order_id=ident, status=tramo.OrderStatus.SHIPPED)
        assert connection.call("sync_status", updates=[shipped])[0].outcome is tramo.Outcome.UPDATED
    assert store.held_status(ident) == "6"


def test_an_invoice_is_sent_once(registry: Registry, store: Any) -> None:
    ident = store.place_order(an_order())
    invoice = tramo.Invoice(order_id=ident, number="12345", series="1", access_key=ACCESS_KEY,
                            issued_at=WHEN, value=Decimal("103.80"))
    with connect(registry, store) as connection:
        first = connection.call("send_invoice", invoices=[invoice])
        second = connection.call("send_invoice", invoices=[invoice])
    assert [first[0].outcome, second[0].outcome] == [tramo.Outcome.CREATED, tramo.Outcome.UNCHANGED]
    assert store.held_invoices() == {ident: [ACCESS_KEY]}


def test_the_stores_lists_feed_the_mappings(registry: Registry, store: Any) -> None:
    with connect(registry, store) as connection:
        statuses = {o.id for o in connection.call("list_order_statuses")}
        assert set(MAPPINGS["status"]) <= statuses
        assert {o.id for o in connection.call("list_shipping_methods")} >= set(MAPPINGS["shipping"])
        assert {o.id for o in connection.call("list_payment_methods")} >= set(MAPPINGS["payment"])
        assert {o.id for o in connection.call("list_sales_channels")} >= set(MAPPINGS["channel"])
        report = connection.check()
    assert report.ok, report.problems


def test_stock_tracking_and_reservations_are_not_offered_and_the_core_names_who_does(
        registry: Registry, sftp_store: Any) -> None:
    with connect(registry, sftp_store) as connection:
        for capability, argument in [("send_stock", "levels"), ("send_tracking", "trackings"),
                                     ("reserve_stock", "reservations"), ("send_prices", "prices")]:
            with pytest.raises(tramo.CapabilityNotSupported) as caught:
                connection.call(capability, **{argument: []})
            assert "tray_soap" in caught.value.alternatives or "tray_rest" in caught.value.alternatives


# -- transports and their security -----------------------------------------------------------------


def test_an_unknown_sftp_host_key_is_refused_before_any_credential(registry: Registry,
                                                                   sftp_store: Any) -> None:
    other = paramiko.ECDSAKey.generate()
    with connect(registry, sftp_store, host_key_fingerprint=fingerprint(other)) as connection:
        [result] = connection.call("send_products", products=[a_product()])
    assert result.outcome is tramo.Outcome.FAILED and isinstance(result.error, HostKeyError)
    assert fingerprint(sftp_store.host_key) in str(result.error), "the operator is told what to pin"
    assert not [c for c in sftp_store.calls if c.method == "auth"], "a credential reached the server"


def test_a_known_hosts_file_that_lacks_the_server_is_refused(registry: Registry, sftp_store: Any,
                                                             tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line("127.0.0.1", 1, paramiko.ECDSAKey.generate()) + "\n")
    settings = {k: v for k, v in sftp_store.settings.items() if k != "host_key_fingerprint"}
    with registry.connect("tray_ftp", {**settings, "known_hosts_path": str(known)},
                          mappings=MAPPINGS, http=KIT_HTTP) as connection:
        report = connection.check()
    assert not report.ok and "host key" in " ".join(report.problems)
    known.write_text(sftp_store.known_hosts_line() + "\n")
    with registry.connect("tray_ftp", {**settings, "known_hosts_path": str(known)},
                          mappings=MAPPINGS, http=KIT_HTTP) as connection:
        assert connection.check().ok


def test_plain_ftp_needs_an_explicit_allowance_and_warns(registry: Registry, stores: dict[str, Any],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    store = stores["ftp"]
    store.reset()
    with connect(registry, store, allow_plain_ftp=False) as connection:
        [refused] = connection.call("send_products", products=[a_product()])
    assert isinstance(refused.error, tramo.ConfigurationError) and "allow_plain_ftp" in str(refused.error)
    with caplog.at_level(logging.WARNING), connect(registry, store) as connection:
        assert connection.call("send_products", products=[a_product()])[0].ok
    assert any("travel unencrypted" in r.getMessage() for r in caplog.records)


# -- files that lose nothing -----------------------------------------------------------------------


def test_an_upload_cut_off_leaves_no_file_the_store_would_read(registry: Registry, store: Any) -> None:
    cutting = [True]
    store.inject(Fault.DROPPED, times=100, where=lambda method, path: cutting[0] and method in RENAMES)
    with connect(registry, store) as connection:
        [result] = connection.call("send_products", products=[a_product()])
    cutting[0] = False
    assert result.outcome is tramo.Outcome.FAILED and isinstance(result.error, tramo.TransientError)
    visible = [n for n in names(Path(store.data) / "produtos") if not n.startswith(".")]
    assert visible == [] and store.held_products() == []
    with connect(registry, store) as connection:  # nothing was remembered as sent
        assert connection.call("send_products", products=[a_product()])[0].ok
    assert [p.code for p in store.held_products()] == ["CANECA"]


def test_a_crash_between_the_commit_and_the_move_imports_nothing_twice(
        registry: Registry, store: Any, tmp_path: Path) -> None:
    ident = store.place_order(an_order())
    state_file = tmp_path / "state.db"
    crashing = [True]
    with connect(registry, store, tramo.StateStore(state_file)) as connection:
        assert [o.id for o in connection.call("receive_orders")] == [ident]
        store.inject(Fault.SERVER_ERROR, times=100,
                     where=lambda method, path: crashing[0] and method in RENAMES)
        [result] = connection.call("acknowledge_orders", orders=[ident])
        crashing[0] = False
    assert result.outcome is tramo.Outcome.FAILED, "the move failed, and the host is told"
    assert len(names(Path(store.data) / "pedidos")) == 1, "the file is still there"
    with connect(registry, store, tramo.StateStore(state_file)) as connection:
        assert list(connection.call("receive_orders")) == [], "committed orders never come again"
    assert names(Path(store.data) / "pedidos") == []
    assert len(names(Path(store.data) / "pedidos" / "processados")) == 1


def test_orders_read_but_never_committed_come_again_after_a_crash(
        registry: Registry, store: Any, tmp_path: Path) -> None:
    ident = store.place_order(an_order())
    state_file = tmp_path / "state.db"
    with connect(registry, store, tramo.StateStore(state_file)) as connection:
        assert [o.id for o in connection.call("receive_orders")] == [ident]
    with connect(registry, store, tramo.StateStore(state_file)) as connection:
        assert [o.id for o in connection.call("receive_orders")] == [ident]


def test_a_malformed_file_goes_to_quarantine_with_a_report_and_the_rest_goes_on(
        registry: Registry, store: Any) -> None:
    good = store.place_order(an_order())
    text = (wire.file_chunks(wire.KINDS["orders"], [wire.record_element(
        wire.KINDS["orders"], an_order(id="777", platform_status="1"))]))
    broken = b"".join(text).replace(CPF.encode(), b"12345678900")
    store.write_raw("pedidos", "pedidos-0-bad.xml", broken)
    store.write_raw("pedidos", "pedidos-1-cut.xml", b'<?xml version="1.0"?>\n<orders version="1" count="3">')
    with connect(registry, store) as connection:
        read = list(connection.call("receive_orders"))
    orders = [o for o in read if isinstance(o, tramo.Order)]
    held = [h for h in read if isinstance(h, tramo.Held)]
    assert [o.id for o in orders] == [good]
    assert len(held) == 2
    cpf = next(h for h in held if h.remote_id == "777")
    assert isinstance(cpf.error, tramo.ValidationError) and cpf.error.field == "Order.customer.cpf"
    assert cpf.raw["file"] == "pedidos-0-bad.xml" and cpf.raw["line"] > 1
    quarantine = Path(store.data) / "pedidos" / "quarentena"
    assert names(quarantine) == ["pedidos-0-bad.xml", "pedidos-0-bad.xml.errors.txt",
                                 "pedidos-1-cut.xml", "pedidos-1-cut.xml.errors.txt"]
    report = (quarantine / "pedidos-0-bad.xml.errors.txt").read_text()
    assert "record '777', field customer.cpf" in report and "line " in report


def test_hostile_and_odd_file_names_never_become_paths(registry: Registry, store: Any) -> None:
    good = store.place_order(an_order())
    content = b"".join(wire.file_chunks(wire.KINDS["orders"], [wire.record_element(
        wire.KINDS["orders"], an_order(id="888"))]))
    store.write_raw("pedidos", "pedido nº 2 — ação.xml", content)
    store.write_raw("pedidos", "..\\..\\escape.xml", content)
    with connect(registry, store) as connection:
        read = list(connection.call("receive_orders"))
        orders = sorted(o.id for o in read if isinstance(o, tramo.Order))
        held = [h for h in read if isinstance(h, tramo.Held)]
        assert orders == sorted([good, "888"])
        assert [h.raw["file"] for h in held] == ["..\\..\\escape.xml"]
        assert all(r.ok for r in connection.call("acknowledge_orders", orders=orders))
    assert "pedido nº 2 — ação.xml" in names(Path(store.data) / "pedidos" / "processados")
    with pytest.raises(tramo.TramoError, match="'..'"):
        with connect(registry, store, orders_folder="../outside") as connection:
            list(connection.call("receive_orders"))


def test_sftp_logs_in_with_a_private_key_file_and_no_password(registry: Registry,
                                                              tmp_path: Path) -> None:
    key = paramiko.ECDSAKey.generate()
    key_file = tmp_path / "id_ecdsa"
    key.write_private_key_file(str(key_file), password="frase secreta")
    from tramo_tray_ftp.sandbox import TraySftpSandbox
    with TraySftpSandbox(authorized_keys=[key], allow_password=False) as keyed:
        settings = {k: v for k, v in keyed.settings.items() if k != "password"}
        with registry.connect("tray_ftp", {**settings, "private_key_path": str(key_file),
                                           "private_key_passphrase": "frase secreta"},
                              mappings=MAPPINGS, http=KIT_HTTP) as connection:
            assert connection.call("send_products", products=[a_product()])[0].ok
        assert [p.code for p in keyed.held_products()] == ["CANECA"]
        assert [c.query for c in keyed.calls if c.method == "auth"] == ["publickey"]

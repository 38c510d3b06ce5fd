"""tray_ftp reads an order file once when it is small enough to keep, twice (streaming) when not.

The check of a whole file (taken whole or set aside) keeps the orders it
converted, so ``receive_orders`` does not parse the file again; a file over
``KEEP_ORDERS_MAX_BYTES`` is parsed again as it is yielded, so memory stays
bounded. Either way the orders, the held records and the quarantine are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tramo
import tramo_tray_ftp
from tramo.model.identifiers import cpf_check_digits
from tramo.registry import Registry, discover
from tramo.testing.kit import connect_to
from tramo_tray_ftp import wire
from tramo_tray_ftp.sandbox import tray_ftp_sandbox

CPF = "529982247" + cpf_check_digits("529982247")
#: a valid CPF that :func:`file_of` turns into a wrong one once written (the model refuses it)
MARKED = "111444777" + cpf_check_digits("111444777")
WRONG_CPF = "12345678900"
WHEN = datetime(2026, 3, 2, 10, 0).astimezone()
ORDERS = wire.KINDS["orders"]
#: the limit as shipped (files under it parsed once), and one every file is over
LIMITS = {"kept": None, "streamed": 0}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return discover(allow=["tray_ftp"])


@pytest.fixture(scope="module")
def sftp_store() -> Iterator[Any]:
    with tray_ftp_sandbox("sftp") as store:
        yield store


@pytest.fixture
def store(sftp_store: Any) -> Any:
    sftp_store.reset()
    return sftp_store


@pytest.fixture(params=sorted(LIMITS))
def limit(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with files kept from the check, then with every file streamed again."""
    if LIMITS[request.param] is not None:
        monkeypatch.setattr(tramo_tray_ftp, "KEEP_ORDERS_MAX_BYTES", LIMITS[request.param])
    return str(request.param)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The path of every file the layout's parser is started on, in order."""
    started: list[Path] = []
    real = wire.parse

    def counting(kind: wire.Kind, path: Path) -> Iterator[wire.Parsed]:
        started.append(Path(path))
        return real(kind, path)

    monkeypatch.setattr(wire, "parse", counting)
    return started


def an_order(ident: str = "x", cpf: str = CPF) -> tramo.Order:
    address = tramo.Address(street="Rua Augusta", number="100", city="São Paulo", state="SP",
                            postal_code="01305-000")
    return tramo.Order(
        id=ident, placed_at=WHEN, total=Decimal("79.80"), platform_status="1",
        customer=tramo.Customer(name="Ana Souza", cpf=cpf, email="ana@example.com.br"),
        items=[tramo.OrderItem(sku="CANECA", name="Caneca", quantity=2, unit_price=Decimal("39.90"))],
        delivery_address=address, billing_address=address)


def file_of(orders: list[tramo.Order]) -> bytes:
    """An order file of ``orders``, where each customer with the ``MARKED`` CPF has a wrong one."""
    content = b"".join(wire.file_chunks(ORDERS, [wire.record_element(ORDERS, o) for o in orders]))
    return content.replace(MARKED.encode(), WRONG_CPF.encode())


def read(registry: Registry, store: Any) -> list[tramo.Order | tramo.Held]:
    with connect_to(store, registry) as connection:
        return list(connection.call("receive_orders"))


# -- how many times a file is parsed ---------------------------------------------------------


def test_a_file_under_the_limit_is_parsed_once(registry: Registry, store: Any,
                                                parses: list[Path]) -> None:
    placed = store.place_orders([an_order() for _ in range(5)])
    placed += store.place_orders([an_order() for _ in range(3)])
    got = read(registry, store)
    assert [o.id for o in got if isinstance(o, tramo.Order)] == placed
    assert len(parses) == 2 and len(set(parses)) == 2, "each of the two files parsed once"


def test_a_file_over_the_limit_is_streamed_again_and_gives_the_same_orders(
        registry: Registry, store: Any, parses: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    placed = store.place_orders([an_order() for _ in range(5)])
    kept = read(registry, store)
    assert len(parses) == 1
    monkeypatch.setattr(tramo_tray_ftp, "KEEP_ORDERS_MAX_BYTES", 0)
    streamed = read(registry, store)
    assert len(parses) == 3, "checked, then parsed again to yield"
    assert parses[1] == parses[2]
    assert [o.id for o in streamed if isinstance(o, tramo.Order)] == placed
    assert streamed == kept, "field for field the same orders either way"


def test_the_limit_is_by_size_so_a_file_just_over_it_streams(
        registry: Registry, store: Any, parses: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    store.place_orders([an_order() for _ in range(2)])
    size = next(p for p in (Path(store.data) / "pedidos").iterdir() if p.is_file()).stat().st_size
    monkeypatch.setattr(tramo_tray_ftp, "KEEP_ORDERS_MAX_BYTES", size)
    read(registry, store)
    monkeypatch.setattr(tramo_tray_ftp, "KEEP_ORDERS_MAX_BYTES", size - 1)
    read(registry, store)
    assert len(parses) == 1 + 2


# -- the same behaviour, kept or streamed ---------------------------------------------------


def test_a_file_with_a_bad_record_is_set_aside_whole_either_way(
        registry: Registry, store: Any, limit: str) -> None:
    good = store.place_order(an_order())
    store.write_raw("pedidos", "pedidos-0-bad.xml", file_of(
        [an_order("701"), an_order("702", cpf=MARKED), an_order("703")]))
    got = read(registry, store)
    orders = [o.id for o in got if isinstance(o, tramo.Order)]
    held = [h for h in got if isinstance(h, tramo.Held)]
    assert orders == [good], "nothing from the bad file, not even the orders before the bad one"
    assert [h.remote_id for h in held] == ["702"]
    assert isinstance(held[0].error, tramo.ValidationError)
    assert held[0].error.field == "Order.customer.cpf"
    quarantine = Path(store.data) / "pedidos" / "quarentena"
    assert sorted(p.name for p in quarantine.iterdir()) == [
        "pedidos-0-bad.xml", "pedidos-0-bad.xml.errors.txt"]


def test_a_file_cut_short_after_its_orders_is_set_aside_either_way(
        registry: Registry, store: Any, limit: str) -> None:
    whole = file_of([an_order("801"), an_order("802")])
    cut = whole[:whole.rindex(b"</orders>")]
    store.write_raw("pedidos", "pedidos-0-cut.xml", cut)
    got = read(registry, store)
    assert not [o for o in got if isinstance(o, tramo.Order)]
    assert len(got) == 1 and isinstance(got[0], tramo.Held)
    assert isinstance(got[0].error, wire.FileProblem)


def test_orders_already_acknowledged_in_a_file_do_not_come_again_either_way(
        registry: Registry, store: Any, limit: str) -> None:
    placed = store.place_orders([an_order() for _ in range(4)])
    with connect_to(store, registry) as connection:
        assert [o.id for o in connection.call("receive_orders")] == placed
        assert all(r.ok for r in connection.call("acknowledge_orders", orders=placed[:2]))
        assert [o.id for o in connection.call("receive_orders")] == placed[2:]
        assert all(r.ok for r in connection.call("acknowledge_orders", orders=placed[2:]))
        assert list(connection.call("receive_orders")) == []
    assert len(list((Path(store.data) / "pedidos" / "processados").iterdir())) == 1


# -- the check, as a property -----------------------------------------------------------------

# a record: its id (few, so duplicates happen) and whether its CPF is wrong
RECORDS = st.lists(st.tuples(st.sampled_from(["1", "2", "3", "4", "5", "6"]), st.booleans()),
                   max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=RECORDS)
def test_keeping_the_orders_changes_nothing_the_check_decides(records: list[tuple[str, bool]],
                                                             tmp_path: Path) -> None:
    path = tmp_path / "pedidos.xml"
    path.write_bytes(file_of([an_order(i, MARKED if bad else CPF) for i, bad in records]))
    kept = tramo_tray_ftp._check(path, keep_orders=True)
    streamed = tramo_tray_ftp._check(path, keep_orders=False)
    assert (kept.keys, kept.problems) == (streamed.keys, streamed.problems)
    assert streamed.orders is None
    ids = [i for i, _ in records]
    clean = not any(bad for _, bad in records) and len(set(ids)) == len(ids)
    assert bool(kept.problems) is not clean
    if clean:
        assert kept.orders == [p.record for p in wire.parse(ORDERS, path)]
        assert [o.id for o in kept.orders] == ids == kept.keys
    else:
        assert kept.orders is None, "a file with a problem keeps none of its orders"

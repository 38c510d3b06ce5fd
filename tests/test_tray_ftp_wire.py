"""The Tray FTP file layout, version 1: the examples read, records round-trip, problems name line and field."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tramo
from tramo.testing import strategies as s
from tramo_tray_ftp import wire

HERE = Path(wire.__file__).parent
EXAMPLES = HERE / "examples"


def write(tmp: Path, kind: wire.Kind, records: list[Any], encoding: str = "UTF-8") -> Path:
    path = tmp / f"{kind.root}.xml"
    elements = [wire.record_element(kind, r) for r in records]
    path.write_bytes(b"".join(wire.file_chunks(kind, elements, encoding)))
    return path


def parsed(kind_name: str, text: str | bytes, tmp: Path) -> list[wire.Parsed]:
    path = tmp / "f.xml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return list(wire.parse(wire.KINDS[kind_name], path))


def problem_of(kind_name: str, text: str, tmp: Path) -> wire.Problem:
    with pytest.raises(wire.FileProblem) as caught:
        parsed(kind_name, text, tmp)
    return caught.value.problem


# -- the specification ---------------------------------------------------------------


@pytest.mark.parametrize("kind_name, file", [("products", "produtos"), ("status_updates", "situacoes"),
                                             ("invoices", "notas"), ("orders", "pedidos")])
def test_every_example_in_the_readme_reads_without_a_problem(kind_name: str, file: str) -> None:
    records = list(wire.parse(wire.KINDS[kind_name], EXAMPLES / f"{file}.xml"))
    assert records and all(r.problem is None for r in records), records


def test_the_orders_example_is_latin1_and_reads_its_accents() -> None:
    raw = (EXAMPLES / "pedidos.xml").read_bytes()
    assert b'encoding="ISO-8859-1"' in raw and "São Paulo".encode("latin-1") in raw
    first = next(wire.parse(wire.KINDS["orders"], EXAMPLES / "pedidos.xml")).record
    assert first.delivery_address.city == "São Paulo" and first.freight == Decimal("18.40")


def test_the_lists_example_reads() -> None:
    lists = wire.read_lists(EXAMPLES / "listas.xml")
    assert set(lists) == set(wire.LISTS)
    assert tramo.PlatformOption(id="7", name="FINALIZADO", active=False) in lists["order_statuses"]


def test_the_readme_documents_the_layout_the_code_reads() -> None:
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- layout:start -->\n", 1)[1].split("<!-- layout:end -->", 1)[0]
    assert section == wire.markdown(), "run python -m tramo_tray_ftp.wire and paste its tables"


def test_file_names_sort_in_the_order_they_were_written() -> None:
    kind = wire.KINDS["products"]
    start = datetime(2026, 11, 22, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-3)))
    names = [wire.file_name(kind, start + timedelta(microseconds=n), f"{9 - n:06x}") for n in range(4)]
    assert names == sorted(names)
    assert names[0] == "produtos-20261123T025959999999Z-000009.xml"


# -- round trips ---------------------------------------------------------------------------


def _without_layout_omissions(product: tramo.Product) -> tramo.Product:
    return attrs.evolve(
        product, remote_id=None, updated_at=None,
        brand=attrs.evolve(product.brand, remote_id=None) if product.brand else None,
        variants=tuple(attrs.evolve(v, remote_id=None) for v in product.variants))


@given(products=st.lists(s.products(), min_size=1, max_size=3), encoding=st.sampled_from(wire.ENCODINGS))
def test_products_written_read_back_equal(tmp_path_factory: Any, products: list[tramo.Product],
                                          encoding: str) -> None:
    kind = wire.KINDS["products"]
    try:
        path = write(tmp_path_factory.mktemp("p"), kind, products, encoding)
    except tramo.ValidationError as exc:
        assert "XML 1.0 cannot carry" in exc.reason
        return
    back = [p.record for p in wire.parse(kind, path)]
    assert back == [_without_layout_omissions(p) for p in products]


@given(order=s.orders(), encoding=st.sampled_from(wire.ENCODINGS))
def test_orders_written_read_back_equal_in_what_the_layout_carries(
        tmp_path_factory: Any, order: tramo.Order, encoding: str) -> None:
    kind = wire.KINDS["orders"]
    try:
        path = write(tmp_path_factory.mktemp("o"), kind, [order], encoding)
    except tramo.ValidationError as exc:
        assert "XML 1.0 cannot carry" in exc.reason
        return
    [back] = [p.record for p in wire.parse(kind, path)]
    carried = attrs.evolve(
        order, status=None, edits=(), invoices=(), trackings=(),
        customer=attrs.evolve(order.customer, remote_id=None),
        shipping=attrs.evolve(order.shipping, method=None) if order.shipping else None,
        payments=tuple(attrs.evolve(p, method=None) for p in order.payments),
        sales_channel=(attrs.evolve(order.sales_channel, channel=None)
                       if order.sales_channel else None))
    assert back == carried


@given(invoice=s.invoices(), update=s.status_updates())
def test_invoices_and_status_updates_round_trip(tmp_path_factory: Any, invoice: tramo.Invoice,
                                                update: tramo.StatusUpdate) -> None:
    tmp = tmp_path_factory.mktemp("i")
    try:
        invoices = write(tmp, wire.KINDS["invoices"], [invoice])
        assert [p.record for p in wire.parse(wire.KINDS["invoices"], invoices)] == [invoice]
    except tramo.ValidationError as exc:
        assert "XML 1.0 cannot carry" in exc.reason
    update = attrs.evolve(update, platform_status="3")
    try:
        updates = write(tmp, wire.KINDS["status_updates"], [update])
    except tramo.ValidationError as exc:
        assert "XML 1.0 cannot carry" in exc.reason
        return
    assert [p.record for p in wire.parse(wire.KINDS["status_updates"], updates)] == [update]


def test_a_character_xml_cannot_carry_is_refused_naming_the_field() -> None:
    product = tramo.Product(code="P1", name="ok", variants=(tramo.Variant(sku="S\x01"),))
    with pytest.raises(tramo.ValidationError) as caught:
        wire.record_element(wire.KINDS["products"], product)
    assert caught.value.field == "Product.variants[0].sku" and "U+0001" in caught.value.reason


def test_a_status_update_without_the_stores_status_is_refused() -> None:
    update = tramo.StatusUpdate(order_id="1", status=tramo.OrderStatus.SHIPPED)
    with pytest.raises(tramo.ValidationError, match="platform_status"):
        wire.record_element(wire.KINDS["status_updates"], update)


# -- problems: line and field ----------------------------------------------------------------


ORDER = """<order>
  <id>{id}</id>
  <placed_at>2026-11-21T14:32:05-03:00</placed_at>
  <platform_status>1</platform_status>
  <customer><name>Ana</name>{customer}</customer>
  <items><item><sku>A</sku><name>A</name><quantity>{quantity}</quantity><unit_price>1.00</unit_price></item></items>
  <total>1.00</total>{extra}
</order>"""


def orders(*bodies: str, count: int | None = None) -> str:
    n = len(bodies) if count is None else count
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<orders version="1" count="{n}">\n'
            + "\n".join(bodies) + "\n</orders>\n")


def order(id: str = "1", customer: str = "", quantity: str = "1", extra: str = "") -> str:
    return ORDER.format(id=id, customer=customer, quantity=quantity, extra=extra)


def test_a_bad_field_is_reported_with_its_line_and_path(tmp_path: Path) -> None:
    records = parsed("orders", orders(order("1"), order("2", customer="<cpf>123</cpf>"),
                                      order("3", quantity="dois")), tmp_path)
    assert [r.problem is None for r in records] == [True, False, False]
    cpf, quantity = records[1].problem, records[2].problem
    assert (cpf.line, cpf.record, cpf.field, cpf.value) == (15, "2", "customer.cpf", "123")
    assert (quantity.line, quantity.record, quantity.field) == (24, "3", "items[0].quantity")
    assert re.fullmatch(r"line 15, record '2', field customer\.cpf: .*\(got '123'\)", str(cpf))


@pytest.mark.parametrize("extra, reason", [
    ("<colour>blue</colour>", "<colour> is not an element of order"),
    ("<total>2.00</total>", "<total> appears twice"),
    ("<status>open</status>", "<status> is not an element of order"),
    ("<payments><payment><value>1</value></payment></payments>", "holds <item> elements"),
    ("<notes><b>bold</b></notes>", "holds a value, not elements"),
])
def test_what_the_layout_does_not_have_is_a_problem_of_the_record(
        tmp_path: Path, extra: str, reason: str) -> None:
    [record] = parsed("orders", orders(order("9", extra=extra)), tmp_path)
    assert record.problem is not None and reason in record.problem.reason
    assert record.problem.line == 9 and record.key == "9"


@pytest.mark.parametrize("text, reason, line", [
    ("<orders version='1' count='0'>", "not well-formed XML", 1),
    ("<products version='1' count='0'/>", "the root element is <products>, not <orders>", 1),
    ("<orders version='2' count='0'/>", "layout version '2' is not '1'", 1),
    ("<orders count='0'/>", "layout version None", 1),
    ("", "not well-formed XML", None),
])
def test_a_file_that_cannot_be_read_at_all_says_why(tmp_path: Path, text: str, reason: str,
                                                    line: int | None) -> None:
    problem = problem_of("orders", text, tmp_path)
    assert reason in problem.reason and problem.line == line


def test_a_file_cut_short_is_caught_by_its_count(tmp_path: Path) -> None:
    problem = problem_of("orders", orders(order("1"), count=2), tmp_path)
    assert "count='2' but the file holds 1" in problem.reason


@pytest.mark.parametrize("attack", [
    # an external entity (XXE): a local file's content must never reach a record
    '<!DOCTYPE orders [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    # an entity bomb
    '<!DOCTYPE orders [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
])
def test_a_dtd_is_refused_before_any_record(tmp_path: Path, attack: str) -> None:
    text = f'<?xml version="1.0"?>\n{attack}\n' + orders(order("1")).split("\n", 1)[1]
    problem = problem_of("orders", text, tmp_path)
    assert "DOCTYPE is not allowed" in problem.reason


def test_a_large_file_streams_with_records_cleared_as_read(tmp_path: Path) -> None:
    many = [order(str(n)) for n in range(3000)]
    path = tmp_path / "big.xml"
    path.write_text(orders(*many), encoding="utf-8")
    seen = 0
    for record in wire.parse(wire.KINDS["orders"], path):
        assert record.problem is None
        seen += 1
    assert seen == 3000


def test_a_lists_file_with_an_unknown_table_names_it() -> None:
    with pytest.raises(wire.FileProblem, match="<coupons> is not one of the lists"):
        wire.read_lists(b'<lists version="1"><coupons/></lists>')

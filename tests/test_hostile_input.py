"""Every plugin's client fed hostile input: a clear typed error each, no crash, nothing half-done.

Issue 11's last row. What other files already cover is not repeated here:
XML bombs and external entities in SOAP answers and WSDLs (test_soap,
test_tray_soap_plugin) and in order files (test_tray_ftp_wire); path
traversal in file names and folders (test_remote, test_sftp,
test_tray_ftp_plugin); oversized webhook bodies (test_intake, 413) and large
files streamed (test_remote, test_tray_ftp_wire). Added here:

- wrong types anywhere in a real order answer of each HTTP plugin (a
  property: one value replaced by a hostile one): the plugin reads the order
  or refuses it with a ValidationError naming the field, never another
  exception (which would stop the sync); negative and fractional
  quantities: always refused, naming the item;
- an answer cut short or cut off mid-body: the read stops with a typed error,
  the orders already taken are whole, the next run takes the rest once;
- an oversized SOAP answer: that order held, the others imported;
- order files that break part-way, bombs and garbage through the engine:
  set aside whole, not one of their orders imported.
"""

from __future__ import annotations

import copy
import importlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Response

import tramo
from tramo.sandbox import Fault, Sandbox

from faults_support import (
    NAME,
    PATIENT_HTTP,
    assert_imported_once,
    buyer_orders,
    items_of,
    new_engine,
    place,
    start_sandbox,
)

HTTP_PLUGINS = ["tray_rest", "tray_soap", "ideris", "shopify"]
#: settings that make a dozen orders several pages (and Shopify read pages, not a bulk file)
PAGED = {"tray_rest": {"page_size": 4}, "tray_soap": {"page_size": 4}, "ideris": {"page_size": 4},
         "shopify": {"page_size": 4, "bulk_import": False}}

#: JSON values of every type, and texts and numbers no field expects
HOSTILE = [None, "", "abc", "-1", "2.5", "1e999", "NaN", "9" * 400, -5, 2.5, True, [], {},
           ["x"], {"k": "v"}, [{"k": [None]}]]


# -- real answers, captured as each plugin's wire reads them --------------------------------------


@pytest.fixture(scope="module")
def answers() -> dict[str, tuple[tuple[Any, ...], dict[str, Any]]]:
    """Per plugin, the arguments its ``wire.order_from_wire`` got for one order from its sandbox."""
    found: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
    for plugin in HTTP_PLUGINS:
        wire = importlib.import_module(f"tramo_{plugin}.wire")
        original = wire.order_from_wire

        def recording(*args: Any, _plugin: str = plugin, _original: Any = original,
                      **kwargs: Any) -> Any:
            found.setdefault(_plugin, (copy.deepcopy(args), copy.deepcopy(kwargs)))
            return _original(*args, **kwargs)

        sandbox = start_sandbox(plugin, time_scale=1000)
        wire.order_from_wire = recording
        try:
            place(sandbox, buyer_orders(1, seed=1))
            engine, _ = new_engine(sandbox, http=PATIENT_HTTP, **PAGED[plugin])
            assert engine.sync(NAME, ["orders"]).of(NAME, "orders").received
            engine.close()
        finally:
            wire.order_from_wire = original
            sandbox.stop()
    return found


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*path, index))


def _replaced(args: tuple[Any, ...], where: tuple[Any, ...], value: Any) -> list[Any]:
    """``args`` with the value at ``where`` (argument index, then keys) replaced by ``value``."""
    changed = copy.deepcopy(list(args))
    if len(where) == 1:
        changed[where[0]] = value
        return changed
    holder = changed[where[0]]
    for key in where[1:-1]:
        holder = holder[key]
    holder[where[-1]] = value
    return changed


def _read(plugin: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return importlib.import_module(f"tramo_{plugin}.wire").order_from_wire(*args, **kwargs)


@pytest.mark.parametrize("plugin", HTTP_PLUGINS)
@given(data=st.data())
def test_a_wrong_typed_value_anywhere_in_an_order_answer_is_an_order_or_a_validation_error(
        answers: dict[str, Any], plugin: str, data: st.DataObject) -> None:
    """What a plugin cannot read in one order is a ValidationError, so that order is held and the
    read goes on; any other exception would stop the sync (the engine catches tramo errors only)."""
    args, kwargs = answers[plugin]
    places = [(i, *p) for i, arg in enumerate(args) if isinstance(arg, (dict, list))
              for p in _paths(arg)]
    where = data.draw(st.sampled_from(places), label="where")
    value = data.draw(st.sampled_from(HOSTILE), label="value")
    try:
        order = _read(plugin, _replaced(args, where, value), kwargs)
    except tramo.ValidationError as exc:
        assert exc.field and str(exc).startswith(exc.field)
    else:  # a value the plugin can read (True as text, "9" * 400 as a name) is read
        assert order.id


#: where each plugin's answer carries the first item's quantity
QUANTITY: dict[str, list[tuple[Any, ...]]] = {
    "tray_rest": [(0, "Order", "ProductsSold", 0, "ProductsSold", "quantity")],
    "tray_soap": [(1, 0, "quantidade")],
    "ideris": [(0, "Item", 0, "quantidadeItem")],
    "shopify": [(3, 0, "quantity"), (3, 0, "currentQuantity")],
}


@pytest.mark.parametrize("quantity", ["-1", "2.5", -3, 0.5])
@pytest.mark.parametrize("plugin", HTTP_PLUGINS)
def test_a_negative_or_fractional_quantity_is_refused_naming_the_item(
        answers: dict[str, Any], plugin: str, quantity: Any) -> None:
    """Never read as another quantity: not cut down to a whole number, nor read as a removed line."""
    args, kwargs = answers[plugin]
    changed = list(args)
    for where in QUANTITY[plugin]:
        changed = _replaced(tuple(changed), where, quantity)
    with pytest.raises(tramo.ValidationError) as caught:
        _read(plugin, changed, kwargs)
    assert "quant" in caught.value.field.lower() and str(quantity) in str(caught.value)


def test_the_captured_answers_read_as_they_are(answers: dict[str, Any]) -> None:
    """The property above starts from answers that convert: every refusal is the hostile value's."""
    for plugin, (args, kwargs) in answers.items():
        order = _read(plugin, list(args), kwargs)
        assert isinstance(order, tramo.Order) and order.items[0].quantity >= 1, plugin


# -- answers cut short ---------------------------------------------------------------------------


def _nth_call(n: int) -> Callable[[str, str], bool]:
    """A fault target: the ``n``-th call the sandbox sees (0 first) from now."""
    counter = itertools.count()
    return lambda method, path: next(counter) == n


#: which call (0 first) answers cut short: past the log-in and the first page of each plugin
CUT_SHORT_AT = {"tray_rest": 6, "tray_soap": 9, "ideris": 4, "shopify": 1}


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    running = start_sandbox(request.param, time_scale=1000)
    try:
        yield running
    finally:
        running.stop()
    # a read stopped mid-way cancels the calls still in flight: their requests end early
    assert [e for e in getattr(running, "errors", []) if not isinstance(e, ClientDisconnected)] == []


@pytest.mark.parametrize("sandbox", HTTP_PLUGINS, indirect=True)
def test_an_answer_cut_short_stops_the_read_and_the_next_run_takes_the_rest_once(
        sandbox: Any) -> None:
    placed = place(sandbox, buyer_orders(12, seed=2))
    engine, erp = new_engine(sandbox, http=PATIENT_HTTP, **PAGED[sandbox.plugin])
    try:
        # a read some way in: an order's details, or a later page
        sandbox.inject(Fault.MALFORMED, where=_nth_call(CUT_SHORT_AT[sandbox.plugin]))
        stopped = engine.sync(NAME, ["orders"]).of(NAME, "orders")
        calls = [(c.method, c.path, c.query, c.fault) for c in sandbox.calls]
        assert stopped.status == "failed", calls
        assert (stopped.reason or "").startswith("TransientError: ")
        assert "answered" in (stopped.reason or "")  # it says who answered what
        by_cpf = {o.customer.cpf: o for o in placed.values()}
        taken = erp.orders()
        assert len(taken) < len(placed)
        assert all(items_of(o) == items_of(by_cpf[o.customer.cpf]) for o in taken), "whole orders"
        assert engine.sync(NAME, ["orders"]).of(NAME, "orders").status == "ran"
        assert_imported_once(engine, erp, placed, sandbox)
    finally:
        engine.close()


def _cut_off(sandbox: Any, plugin: str) -> None:
    """Every order read answers 200 with a Content-Length of 2 GiB, then closes after 64 KiB."""
    dispatch = sandbox.dispatch
    reads = {"tray_rest": "/complete", "ideris": "/Pedido", "shopify": "/graphql.json",
             "tray_soap": "/ws_servidor.php"}[plugin]

    def answer(request: Any) -> Any:
        if request.path.endswith(reads) and (plugin != "tray_soap" or request.method == "POST"):
            return Response(iter([b"{" + b" " * 65536]), 200, content_type="application/json",
                            headers={"Content-Length": str(2 * 65536)})  # half of it never comes
        return dispatch(request)

    sandbox.dispatch = answer


@pytest.mark.parametrize("sandbox", HTTP_PLUGINS, indirect=True)
def test_an_answer_cut_off_mid_body_is_a_typed_error_not_a_crash(sandbox: Any) -> None:
    place(sandbox, buyer_orders(3, seed=2))
    engine, erp = new_engine(sandbox, **PAGED[sandbox.plugin])
    try:
        _cut_off(sandbox, sandbox.plugin)
        report = engine.sync(NAME, ["orders"]).of(NAME, "orders")  # must not raise
        assert report.status == "failed"
        assert (report.reason or "").startswith(("TransientError: ", "RetriesExhaustedError: "))
        assert erp.orders() == [] and erp.customers() == []
        assert engine.ledger.in_doubt(NAME) == []
    finally:
        engine.close()


# -- oversized -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sandbox", ["tray_soap"], indirect=True)
def test_an_oversized_soap_answer_holds_its_order_and_the_others_are_imported(sandbox: Any) -> None:
    """A 12 MB text in one order's answer is past the XML parser's limits: refused unread."""
    placed = place(sandbox, buyer_orders(3, seed=6))
    big = list(placed)[1]
    handle = sandbox.handle

    def answer(name: str, params: dict[str, Any]) -> Any:
        found = handle(name, params)
        if name == "fWSImportaPedidoPorId" and params.get("id_pedido") == big:
            found = {**found, "observacao": "x" * (12 * 1024 * 1024)}
        return found

    sandbox.handle = answer
    engine, erp = new_engine(sandbox, http=PATIENT_HTTP)
    try:
        report = engine.sync(NAME, ["orders"]).of(NAME, "orders")
        assert report.status == "ran" and sorted(report.received) == sorted(set(placed) - {big})
        [(held, reason)] = report.held
        assert held == big and reason.startswith("UnsafeXmlError: ")
        assert "fWSImportaPedidoPorId" in reason and "limits" in reason and "xxxx" not in reason
        assert {o.customer.cpf for o in erp.orders()} == {
            o.customer.cpf for i, o in placed.items() if i != big}
        assert sandbox.data["todo"]["pedidos"] == {big}, "the held order stays on the queue"
    finally:
        engine.close()


# -- order files ---------------------------------------------------------------------------------


def _orders_file(orders: list[tramo.Order]) -> bytes:
    from tramo_tray_ftp import wire

    kind = wire.KINDS["orders"]
    return b"".join(wire.file_chunks(kind, [wire.record_element(kind, o) for o in orders]))


def _stamped(orders: list[tramo.Order], first: int) -> list[tramo.Order]:
    """The orders as a store numbers them (ids from ``first``), placed now."""
    import attrs

    return [attrs.evolve(o, id=str(first + n), number=str(first + n), platform_status="1")
            for n, o in enumerate(orders)]


@pytest.mark.parametrize("sandbox", ["tray_ftp"], indirect=True)
def test_hostile_order_files_are_set_aside_whole_and_the_others_imported(sandbox: Any) -> None:
    good = place(sandbox, buyer_orders(4, seed=8), per_file=2)
    spare = _stamped(buyer_orders(9, seed=9)[4:], 5001)
    whole = _orders_file(spare[:3])
    cut = whole[:whole.rindex(b"<order>")]  # two whole orders, then the file ends
    bomb = (b'<?xml version="1.0"?><!DOCTYPE orders [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            b'<orders version="1" count="1"><order><id>&c;</id></order></orders>')
    hostile = {"pedidos-9-cut.xml": cut, "pedidos-9-bomb.xml": bomb,
               "pedidos-9-garbage.xml": bytes(range(256)) * 64,
               "pedidos-9-empty.xml": b"", "pedidos-9-lying-count.xml":
                   whole.replace(b'count="3"', b'count="2"', 1)}
    for name, content in hostile.items():
        sandbox.write_raw("pedidos", name, content)
    engine, erp = new_engine(sandbox, http=PATIENT_HTTP, timeout_seconds=5)
    try:
        report = engine.sync(NAME, ["orders"]).of(NAME, "orders")
        assert report.status == "ran" and sorted(report.received) == sorted(good)
        # one typed error a file, saying what is wrong with it (its report, in quarantine, names it)
        reasons = sorted(reason for _, reason in report.held)
        assert len(reasons) == len(hostile), reasons
        assert all(r.startswith("FileProblem: ") for r in reasons), reasons
        for words in ("a DOCTYPE is not allowed", "not well-formed XML", "count='2'",
                      "Premature end of data"):
            assert any(words in r for r in reasons), (words, reasons)
        assert_imported_once(engine, erp, good, sandbox)
        # nothing of a broken file came in, not even the whole orders before the break
        assert not {o.customer.cpf for o in spare} & {c.cpf for c in erp.customers()}
        quarantined = set(sandbox.quarantined())
        assert set(hostile) <= quarantined and sandbox.orders_waiting() == []
        for name in hostile:
            assert f"{name}.errors.txt" in quarantined
    finally:
        engine.close()


@pytest.mark.parametrize("sandbox", ["tray_ftp"], indirect=True)
def test_each_unreadable_file_is_a_held_record_of_its_own(sandbox: Any) -> None:
    for name in ("pedidos-9-a.xml", "pedidos-9-b.xml"):
        sandbox.write_raw("pedidos", name, b"\x00 not xml")
    engine, _ = new_engine(sandbox, http=PATIENT_HTTP, timeout_seconds=5)
    try:
        assert len(engine.sync(NAME, ["orders"]).of(NAME, "orders").held) == 2
        assert len(engine.ledger.held(NAME, "orders")) == 2
    finally:
        engine.close()


def test_an_amount_that_is_no_number_is_refused_in_words() -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        tramo.OrderItem(sku="A-1", name="A", quantity=1, unit_price="12,34.5")
    assert "decimal" not in caught.value.reason and "number" in caught.value.reason

"""Core overhead, part b: validation plus wire conversion per record, over parsing the same bytes.

For each plugin the bytes are what its sandbox answered during a real read
through a connection (``receive_orders``, ``receive_products``), kept as they
crossed the wire. Two things are timed on those bytes, interleaved, best of
many short rounds, with the garbage collector off as :mod:`timeit` does:

- (a) the baseline: a generic parse of the bytes and nothing else;
- (b) what a record costs before the engine sees it: the plugin's own
  reading of the answer (its parse and checks), its conversion to the tramo
  model (attrs validators run at construction) and, for orders, the core's
  mapping of statuses, shipping, payment and channel (``map_order``).

The ratio is (b) / (a), per record; target at most 20 for every plugin. The
converted records must equal, field for field, what the live read returned.

"The same bytes" for each plugin:

- ``tray_rest``: one ``GET /orders/:id/complete`` answer (one order);
  products: the product pages and the variant pages of a whole read.
- ``ideris``: one ``GET /Pedido?ids=`` answer (50 orders); products: one
  ``GET /Produto`` page.
- ``shopify``: one GraphQL ``orders`` page, and one ``products`` page.
- ``tray_soap``: the four SOAP answers one order takes (the order, its
  items, its customer, its delivery address). Baseline: ``lxml`` parsing the
  four envelopes, the XML counterpart of ``json.loads``; (b) is zeep's
  decoding of the four (what the plugin's SOAP client runs on each answer),
  then the plugin's conversion. zeep's share is reported apart.
- ``tray_ftp``: one order file as the store leaves it (4 orders). Baseline:
  ``lxml`` parsing the file; (b) is the plugin's check of the whole file
  before it yields any order, which keeps the converted orders of a file up
  to ``KEEP_ORDERS_MAX_BYTES`` (one parse; a larger file is parsed again as
  it is yielded), then the core's mapping. A bare parse of the layout, with
  the mapping, is also reported apart (``one_pass``).
"""

from __future__ import annotations

import gc
import json
import time
from collections import defaultdict
from contextlib import contextmanager
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
import tramo
import zeep.helpers
from lxml import etree
from tramo.dispatch import map_order
from tramo.registry import Registry, discover
from tramo.sandbox import Knobs
from tramo.sandbox.http import HttpSandbox, Request, Response
from tramo.testing.kit import connect_to

TARGET = 20.0
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
SOAP_PARTS = ("fWSImportaPedidoPorId", "fWSImportaItensPedidoPorId",
              "fWSImportaClientePorPedidoAvancado", "fWSImportaEnderecoEntregaPedido")
#: (rounds, seconds each side is timed a round) per mode: many short rounds, so that the
#: best of them falls in a quiet moment of a shared machine
EFFORT = {"smoke": (1, 0.005), "quick": (15, 0.02), "full": (25, 0.04)}


@attrs.frozen
class Answer:
    """One answer a sandbox gave: the request's path and body, the response's bytes."""

    path: str
    request: bytes
    content: bytes
    headers: dict[str, str]


def record_answers(sandbox: HttpSandbox) -> list[Answer]:
    """Keep every answer the sandbox gives from now on (its routing step, wrapped)."""
    answers: list[Answer] = []
    route = sandbox.dispatch

    def dispatch(request: Request) -> Response:
        response = route(request)
        answers.append(Answer(request.path, request.get_data(), response.get_data(),
                              dict(response.headers)))
        return response

    sandbox.dispatch = dispatch  # type: ignore[method-assign]
    return answers


@attrs.frozen
class Sample:
    """What is timed for one plugin and kind: the baseline parse and the whole conversion."""

    plugin: str
    kind: str
    records: int
    size: int
    baseline: str
    parse: Callable[[], Any]
    convert: Callable[[], Sequence[Any]]
    parts: dict[str, Callable[[], Any]] = attrs.field(factory=dict)


@contextmanager
def _live(registry: Registry, sandbox: Any, **sizes: int) -> Iterator[tramo.Connection]:
    """``sandbox`` running and seeded, and the conformance kit's connection to it."""
    with sandbox:
        sandbox.seed(**sizes)
        with connect_to(sandbox, registry) as connection:
            yield connection


def _same_as_live(sample: Sample, live: Sequence[Any], key: Callable[[Any], str]) -> Sample:
    """Refuse a sample whose conversion differs from the live read's (it would time something else)."""
    converted = sample.convert()
    by_key = {key(item): item for item in live}
    wrong = [key(c) for c in converted if by_key.get(key(c)) != c]
    if len(converted) != sample.records or wrong:
        raise RuntimeError(f"{sample.plugin} {sample.kind}: {len(converted)} converted of "
                           f"{sample.records}, {len(wrong)} unlike the live read ({wrong[:3]})")
    return sample


# -- the plugins ------------------------------------------------------------------------------


def tray_rest(registry: Registry) -> Iterator[Sample]:
    from tramo_tray_rest import wire
    from tramo_tray_rest.sandbox import TraySandbox

    store = TraySandbox(Knobs())
    answers = record_answers(store)
    with _live(registry, store, products=12, orders=3) as connection:
        zone = connection.timezone
        orders = list(connection.call("receive_orders", since=None))
        body = next(a.content for a in answers if a.path.endswith("/complete"))
        yield _same_as_live(Sample(
            "tray_rest", "order", 1, len(body), "json.loads", lambda: json.loads(body),
            lambda: [map_order(connection, wire.order_from_wire(wire.read_answer(200, body), zone))]),
            orders, lambda o: o.id)
        answers.clear()
        products = list(connection.call("receive_products", since=None))
        pages = [a.content for a in answers if a.path.endswith("/products")]
        variant_pages = [a.content for a in answers if a.path.endswith("/products/variants")]

        def convert() -> list[tramo.Product]:
            variants: dict[str, list[Any]] = defaultdict(list)
            for page in variant_pages:
                for record in wire.records(wire.read_answer(200, page), "Variants", "Variant"):
                    variants[wire.text(record.get("product_id"))].append(record)
            return [wire.product_from_wire(record, variants.get(wire.text(record.get("id")), []), zone)
                    for page in pages
                    for record in wire.records(wire.read_answer(200, page), "Products", "Product")]

        yield _same_as_live(Sample(
            "tray_rest", "product", len(products), sum(map(len, pages + variant_pages)),
            "json.loads", lambda: [json.loads(p) for p in pages + variant_pages], convert),
            products, lambda p: p.code)


def ideris(registry: Registry) -> Iterator[Sample]:
    from tramo_ideris import wire
    from tramo_ideris.sandbox import IderisSandbox

    store = IderisSandbox(Knobs())
    answers = record_answers(store)
    with _live(registry, store, products=50, orders=50) as connection:
        zone = connection.timezone
        orders = list(connection.call("receive_orders", since=None))
        body = next(a.content for a in answers if a.path == "/Pedido")
        count = len(wire.records(json.loads(body)))
        yield _same_as_live(Sample(
            "ideris", "order", count, len(body), "json.loads", lambda: json.loads(body),
            lambda: [map_order(connection, wire.order_from_wire(r, zone))
                     for r in wire.records(wire.read_answer(200, body))]),
            orders, lambda o: o.id)
        answers.clear()
        products = list(connection.call("receive_products", since=None))
        page = next(a.content for a in answers if a.path == "/Produto")
        no_brand = connection.settings.get("brand_id")
        count = len(wire.records(json.loads(page)))
        yield _same_as_live(Sample(
            "ideris", "product", count, len(page), "json.loads", lambda: json.loads(page),
            lambda: [wire.product_from_wire(r, no_brand)
                     for r in wire.page_of(wire.read_answer(200, page), 0)[0]]),
            products, lambda p: p.code)


def shopify(registry: Registry) -> Iterator[Sample]:
    from tramo_shopify import wire
    from tramo_shopify.sandbox import ShopifySandbox

    shop = ShopifySandbox()
    answers = record_answers(shop)
    with _live(registry, shop) as connection:
        zone, document = connection.timezone, connection.settings["document_attribute"]
        orders = list(connection.call("receive_orders", since=LONG_AGO))
        body = next(a.content for a in answers if b"query Orders(" in a.request)
        count = len(json.loads(body)["data"]["orders"]["nodes"])
        yield _same_as_live(Sample(
            "shopify", "order", count, len(body), "json.loads", lambda: json.loads(body),
            lambda: [map_order(connection, wire.order_from_wire(n, zone, document))
                     for n in wire.read_answer(200, body, "ORDERS")["orders"]["nodes"]]),
            orders, lambda o: o.id)
        answers.clear()
        products = list(connection.call("receive_products", since=LONG_AGO))
        page = next(a.content for a in answers if b"query Products(" in a.request)
        count = len(json.loads(page)["data"]["products"]["nodes"])
        yield _same_as_live(Sample(
            "shopify", "product", count, len(page), "json.loads", lambda: json.loads(page),
            lambda: [wire.product_from_wire(n, zone)
                     for n in wire.read_answer(200, page, "PRODUCTS")["products"]["nodes"]]),
            products, lambda p: p.code)


def _operation(envelope: bytes) -> str:
    body = etree.fromstring(envelope).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    return str(etree.QName(body[0]).localname) if body is not None and len(body) else ""


def tray_soap(registry: Registry) -> Iterator[Sample]:
    from tramo_tray_soap import wire
    from tramo_tray_soap.client import api
    from tramo_tray_soap.sandbox import TraySoapSandbox

    store = TraySoapSandbox(Knobs())
    answers = record_answers(store)
    with _live(registry, store, products=8, orders=1) as connection:
        zone = connection.timezone
        orders = list(connection.call("receive_orders", since=None))
        soap = api(connection).soap
        binding = soap.service._binding
        by_operation = {_operation(a.request): a for a in answers if a.request}
        replies = [httpx.Response(200, content=by_operation[o].content,
                                  headers=by_operation[o].headers) for o in SOAP_PARTS]
        operations = [binding.get(o) for o in SOAP_PARTS]

        def decode() -> list[Any]:
            return [zeep.helpers.serialize_object(binding.process_reply(soap, op, reply), dict)
                    for op, reply in zip(operations, replies, strict=True)]

        def convert() -> list[tramo.Order]:
            order, items, customer, delivery = decode()
            return [map_order(connection, wire.order_from_wire(
                wire.plain(order), [wire.plain(i) for i in items or []], wire.plain(customer),
                wire.plain(delivery), zone))]

        yield _same_as_live(Sample(
            "tray_soap", "order", 1, sum(len(r.content) for r in replies),
            "lxml.etree.fromstring of the 4 answers",
            lambda: [etree.fromstring(r.content) for r in replies], convert,
            {"zeep_decode": decode}), orders, lambda o: o.id)


def tray_ftp(registry: Registry) -> Iterator[Sample]:
    import tramo_tray_ftp
    from tramo_tray_ftp import wire
    from tramo_tray_ftp.sandbox import tray_ftp_sandbox

    kind = wire.KINDS["orders"]
    store = tray_ftp_sandbox("sftp")
    with _live(registry, store, products=12, orders=4) as connection:
        path = next(p for p in sorted((Path(store.data) / "pedidos").iterdir()) if p.is_file())
        orders = list(connection.call("receive_orders"))

        def one_pass() -> list[tramo.Order]:
            return [map_order(connection, parsed.record) for parsed in wire.parse(kind, path)]

        keep = path.stat().st_size <= tramo_tray_ftp.KEEP_ORDERS_MAX_BYTES
        if not keep:
            raise RuntimeError("the sandbox's order file is too large to be parsed once")

        def convert() -> list[tramo.Order]:
            checked = tramo_tray_ftp._check(path, keep_orders=keep)
            if checked.problems or checked.orders is None:
                raise RuntimeError(f"the sandbox's order file has problems: {checked.problems}")
            return [map_order(connection, order) for order in checked.orders]

        count = len(one_pass())
        yield _same_as_live(Sample(
            "tray_ftp", "order", count, path.stat().st_size, "lxml.etree.parse of the file",
            lambda: etree.parse(str(path)), convert, {"one_pass": one_pass}),
            orders, lambda o: o.id)


PLUGINS: tuple[Callable[[Registry], Iterator[Sample]], ...] = (
    tray_rest, ideris, shopify, tray_soap, tray_ftp)


# -- timing -----------------------------------------------------------------------------------


def _loops(function: Callable[[], Any], seconds: float) -> int:
    """How many calls fill about ``seconds`` (one call timed to calibrate)."""
    started = time.perf_counter()
    function()
    return max(1, round(seconds / max(time.perf_counter() - started, 1e-7)))


def best_times(functions: dict[str, Callable[[], Any]], rounds: int, seconds: float) -> dict[str, float]:
    """Best seconds a call for each function, timed in turn each round, the collector off."""
    loops = {name: _loops(f, seconds) for name, f in functions.items()}
    best = dict.fromkeys(functions, float("inf"))
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, function in functions.items():
                started = time.perf_counter()
                for _ in range(loops[name]):
                    function()
                best[name] = min(best[name], (time.perf_counter() - started) / loops[name])
    finally:
        if enabled:
            gc.enable()
    return best


def measure(sample: Sample, mode: str) -> dict[str, Any]:
    rounds, seconds = EFFORT[mode]
    timed = best_times({"parse": sample.parse, "convert": sample.convert, **sample.parts},
                       rounds, seconds)
    per_record = {name: value * 1e6 / sample.records for name, value in timed.items()}
    ratio = timed["convert"] / timed["parse"]
    line = {
        "name": f"core.wire_ratio.{sample.plugin}.{sample.kind}",
        "value": round(per_record["convert"], 2), "unit": "us per record",
        "baseline": f"{sample.baseline}: {per_record['parse']:.2f} us per record",
        "ratio": round(ratio, 2), "target": TARGET, "records": sample.records,
        "bytes_per_record": round(sample.size / sample.records),
    }
    line.update({f"{name}_us": round(per_record[name], 2) for name in sample.parts})
    line["ok"] = ratio <= TARGET
    return line


def run(mode: str) -> Iterator[dict[str, Any]]:
    registry = discover(allow=["tray_rest", "ideris", "shopify", "tray_soap", "tray_ftp"])
    for plugin in PLUGINS:
        for sample in plugin(registry):  # timed while its sandbox, idle, still holds the files
            yield measure(sample, mode)

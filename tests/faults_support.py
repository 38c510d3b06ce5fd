"""What the fault-injection and hostile-input tests share: orders, sandboxes, engines, checks.

The tests prove tramo's exactly-once promise against each plugin's sandbox on
loopback, so the pieces here are the same for every plugin: buyers' orders
whose CPF tells them apart (so the ERP's orders can be matched to the
platform's without trusting the engine's own bookkeeping), a sandbox started
with knobs, an engine wired as ``core/demo.py`` wires it (a reference ERP and
the engine's state), runs repeated until nothing is troubled, the comparison
of the ERP with what the platform holds, and per platform the ways a test can
spoil an order in the platform's own data.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx

import tramo
from tramo.erp.reference import ReferenceErp
from tramo.http import HttpOptions, RetryPolicy
from tramo.model import Customer, Order, OrderItem
from tramo.model.identifiers import cpf_check_digits
from tramo.sandbox import Fault, Sandbox
from tramo.sync.engine import Tramo
from tramo.sync.report import FlowReport

__all__ = [
    "FAULT_HTTP",
    "HANG",
    "NAME",
    "PATIENT_HTTP",
    "SPOILERS",
    "Spoiler",
    "assert_imported_once",
    "buyer_orders",
    "confine_faults",
    "fault_shares",
    "items_of",
    "new_engine",
    "place",
    "platform_order_ids",
    "start_sandbox",
    "sync_until_calm",
]

NAME = "loja"

#: Short timeouts and backoffs, and six tries a call: at 20% faults a call fails all six
#: tries about once in 60,000, so a run of a thousand calls usually goes through.
FAULT_HTTP = HttpOptions(
    timeout=httpx.Timeout(5.0, read=0.15),
    retry=RetryPolicy(attempts=6, backoff=0.005, max_backoff=0.02, max_retry_after=1.0),
)

#: For tests that inject no hang: time enough for a big answer on a busy machine.
PATIENT_HTTP = HttpOptions(
    timeout=httpx.Timeout(10.0),
    retry=RetryPolicy(attempts=2, backoff=0.005, max_backoff=0.02, max_retry_after=1.0),
)

#: Real seconds a TIMEOUT call hangs: past FAULT_HTTP's read timeout, so the client gives up
#: (and the platform handles the call afterwards, as a slow one does).
HANG = 0.4


def fault_shares(kinds: Sequence[Fault], total: float = 0.20) -> dict[Fault, float]:
    """``total`` chance of a fault on any call, split evenly across ``kinds``.

    The sandbox draws each kind in turn, so the shares are set to make the
    chance that some fault hits a call exactly ``total``.
    """
    shares: dict[Fault, float] = {}
    left = 1.0
    for index, kind in enumerate(kinds):
        wanted = total / len(kinds)  # of all calls
        shares[kind] = wanted / left  # of the calls no earlier kind took
        left -= wanted
        assert left > 0 or index == len(kinds) - 1
    return shares


def confine_faults(sandbox: Sandbox, methods: Iterable[str]) -> None:
    """Draw the knobs' faults only on calls whose method is among ``methods``.

    An FTP session opens with eight commands (AUTH, USER, PASS, PBSZ, ...);
    failing each of them one time in five makes a session nearly impossible to
    open, which is no platform's behaviour. Faults go where they mean
    something: listings, downloads, renames and uploads.
    """
    chosen = frozenset(m.upper() for m in methods)
    drawn = sandbox.draw_fault

    def confined(method: str, path: str) -> Fault | None:
        return drawn(method, path) if method.upper() in chosen else None

    sandbox.draw_fault = confined  # type: ignore[method-assign]


def _cpf(rng: random.Random) -> str:
    base = "".join(str(rng.randrange(10)) for _ in range(9))
    return base + cpf_check_digits(base)


def buyer_orders(count: int, *, seed: int = 0, skus: int = 20) -> list[Order]:
    """``count`` buyers' orders, each by a buyer with a CPF of their own, 1 to 3 distinct SKUs."""
    rng = random.Random(seed)
    cpfs: set[str] = set()
    orders: list[Order] = []
    placed_at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    for n in range(count):
        cpf = _cpf(rng)
        while cpf in cpfs:
            cpf = _cpf(rng)
        cpfs.add(cpf)
        picked = rng.sample(range(skus), rng.randrange(1, 4))
        items = tuple(OrderItem(sku=f"FI-{k:03d}", name=f"Produto {k}",
                                quantity=rng.randrange(1, 4),
                                unit_price=Decimal(rng.randrange(990, 19990)) / 100)
                      for k in picked)
        orders.append(Order(
            id=f"BUYER-{n + 1}", placed_at=placed_at, platform_status="new",
            customer=Customer(name=f"Cliente {n + 1} da Silva", cpf=cpf,
                              email=f"cliente{n + 1}@example.com.br"),
            items=items, total=sum((i.total for i in items), Decimal(0))))
    return orders


def place(sandbox: Any, orders: Sequence[Order], *, per_file: int = 1) -> dict[str, Order]:
    """Each order placed by a buyer; the platform's id to the order as placed.

    A file-based store (``place_orders``) gets them ``per_file`` to a file.
    """
    placed: dict[str, Order] = {}
    batch = getattr(sandbox, "place_orders", None)
    if callable(batch) and per_file > 1:
        for start in range(0, len(orders), per_file):
            chunk = list(orders[start:start + per_file])
            placed.update(zip(batch(chunk), chunk, strict=True))
        return placed
    for order in orders:
        placed[str(sandbox.place_order(order))] = order
    return placed


def platform_order_ids(sandbox: Any) -> set[str]:
    """The ids of the orders the platform itself holds (its own record, not the plugin's)."""
    plugin = sandbox.plugin
    with sandbox.lock:
        if plugin in ("tray_rest", "tray_soap", "ideris"):
            return {str(i) for i in sandbox.data["orders"]}
        if plugin == "shopify":
            return {str(i) for i in sandbox.data["objects"].get("Order", {})}
        if plugin == "tray_ftp":
            return set(sandbox.store.orders)
    raise AssertionError(f"no account of {plugin!r}'s orders")


def start_sandbox(plugin: str, *, transport: str | None = None, **knobs: Any) -> Sandbox:
    """The plugin's own sandbox (its ``sandbox`` hook), knobs set, running; no rate limits.

    ``transport`` picks tray_ftp's server (``sftp``, ``ftps``); the hook's is SFTP.
    """
    sandbox: Sandbox
    if transport is not None:
        from tramo_tray_ftp.sandbox import tray_ftp_sandbox

        sandbox = tray_ftp_sandbox(transport)
    else:
        impl = tramo.discover(allow=[plugin]).implementation(plugin, "sandbox")
        assert impl is not None, f"{plugin} has no sandbox"
        sandbox = impl.function()
    sandbox.configure(rate_limits=(), **knobs)
    return sandbox.start()


def new_engine(sandbox: Sandbox, folder: Path | None = None, *, plugin: str | None = None,
               http: HttpOptions = FAULT_HTTP, **settings: Any) -> tuple[Tramo, ReferenceErp]:
    """A reference ERP and an engine, connection ``loja`` to ``sandbox``.

    In memory unless ``folder`` is given: the faults here are the network's,
    and a thousand orders' commits each synced to a shared disk would take
    longer than the import (the files' own safety is the crash tests' business).
    """
    plugin = plugin or sandbox.plugin
    erp = ReferenceErp(folder / "erp.sqlite3" if folder is not None else None)
    state = folder / "tramo-state.sqlite3" if folder is not None else None
    engine = Tramo(erp, state=state, registry=tramo.discover(allow=[plugin]))
    engine.connect(NAME, plugin, {**sandbox.settings, **settings},
                   mappings=dict(sandbox.profile.mappings), http=http,
                   on_wait=lambda seconds, why: None)
    return engine, erp


def sync_until_calm(engine: Tramo, flows: Sequence[str] = ("orders",), *,
                    max_runs: int) -> list[FlowReport]:
    """Run ``flows`` until a run reports nothing held, failed or stopped; at most ``max_runs``.

    :returns: every run's flow reports, the calm run's last.
    :raises AssertionError: still troubled after ``max_runs`` runs (their reasons listed).
    """
    reports: list[FlowReport] = []
    for _ in range(max_runs):
        run = engine.sync(NAME, list(flows))
        reports.extend(run)
        if not run.troubled:
            return reports
    reasons = [r.reason or (r.failed or r.held)[:1] for r in reports]
    raise AssertionError(f"still troubled after {max_runs} runs: {reasons}")


def items_of(order: Order) -> list[tuple[str, int, Decimal]]:
    return sorted((i.sku, i.quantity, i.unit_price) for i in order.items)


def assert_imported_once(engine: Tramo, erp: ReferenceErp, placed: Mapping[str, Order],
                         sandbox: Any, *, held: Iterable[str] = ()) -> None:
    """Every order the platform holds is in the ERP exactly once, whole; nothing else is.

    The ERP's orders are matched to the placed ones by their buyer's CPF (each
    buyer ordered once), independently of the engine's ledger; the ledger's
    bindings must then agree. ``held`` orders are on the platform, not in the ERP.
    """
    assert platform_order_ids(sandbox) == set(placed) | set(held), "the platform holds what was put"
    in_erp = erp.orders()
    by_cpf = Counter(o.customer.cpf for o in in_erp)
    twice = sorted(cpf for cpf, n in by_cpf.items() if n > 1)
    assert not twice, f"{len(twice)} orders imported more than once"
    placed_by_cpf = {o.customer.cpf: (ident, o) for ident, o in placed.items()}
    lost = sorted(ident for cpf, (ident, _) in placed_by_cpf.items() if cpf not in by_cpf)
    assert not lost, f"{len(lost)} orders lost, e.g. {lost[:5]}"
    assert len(in_erp) == len(placed), "the ERP holds orders nobody placed"
    bound = {r.local_id: r.remote_id for _, r in engine.ledger.records("order", NAME)}
    for order in in_erp:
        ident, original = placed_by_cpf[order.customer.cpf]
        assert bound.get(order.id) == ident, f"ERP order {order.id} bound to {bound.get(order.id)}"
        assert order.total == original.total, f"order {ident}: total {order.total}"
        assert items_of(order) == items_of(original), f"order {ident}: items differ"
    assert engine.ledger.in_doubt(NAME) == [], "no import is left in doubt"


# -- malformed records: what each platform's data lets a test spoil ------------------------------


@attrs.frozen
class Spoiler:
    """One way to make a placed order invalid in the platform's own data.

    :param what: the flaw, for test ids.
    :param spoil: ``spoil(sandbox, order_id)`` writes the flaw into the platform's record.
    :param field: what the typed error's message must name (a field, a mapping kind).
    :param value: the bad value as the message shows it.
    :param error: the typed error expected (by its name, as the ledger keeps it).
    """

    what: str
    spoil: Callable[[Any, str], None]
    field: str
    value: str
    error: str = "ValidationError"


def _tray_rest_order(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["orders"][ident]


def _tray_rest_item(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["items"][_tray_rest_order(sandbox, ident)["item_ids"][0]]


def _tray_rest_customer(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["customers"][_tray_rest_order(sandbox, ident)["customer_id"]]


def _tray_soap_order(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["orders"][ident]


def _tray_soap_item(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["items"][_tray_soap_order(sandbox, ident)["item_ids"][0]]


def _tray_soap_customer(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["customers"][_tray_soap_order(sandbox, ident)["id_cliente"]]


def _ideris_order(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["orders"][int(ident)]


def _shopify_order(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["objects"]["Order"][ident]


def _shopify_line(sandbox: Any, ident: str) -> dict[str, Any]:
    return sandbox.data["objects"]["LineItem"][_shopify_order(sandbox, ident)["_lineItems"][0]]


def _set(get: Callable[[Any, str], dict[str, Any]], **values: Any) -> Callable[[Any, str], None]:
    """A spoiler that sets ``values`` on the record ``get`` finds, under the sandbox's lock."""

    def spoil(sandbox: Any, ident: str) -> None:
        with sandbox.lock:
            get(sandbox, ident).update(values)

    return spoil


SPOILERS: dict[str, tuple[Spoiler, ...]] = {
    "tray_rest": (
        Spoiler("negative quantity", _set(_tray_rest_item, quantity="-2"), "quantity", "-2"),
        Spoiler("unparsable money", _set(_tray_rest_order, total="12,34.5"), "total", "12,34.5"),
        Spoiler("no customer name", _set(_tray_rest_customer, name="", company_name=""),
                "name", "''"),
        Spoiler("unmapped status", _set(_tray_rest_order, status_id="7"), "status", "'7'",
                "MappingError"),
        Spoiler("a date that is none", _set(_tray_rest_order, date="2026-02-31"), "date",
                "2026-02-31"),
    ),
    "tray_soap": (
        Spoiler("negative quantity", _set(_tray_soap_item, quantidade="-2"), "quantity", "-2"),
        Spoiler("unparsable money", _set(_tray_soap_order, valor_total="12,34.5"), "valor_total",
                "12,34.5"),
        Spoiler("no customer name", _set(_tray_soap_customer, cliente="", razao_social=""),
                "name", "''"),
        Spoiler("unmapped status", _set(_tray_soap_order, id_status="7"), "status", "'7'",
                "MappingError"),
        Spoiler("a date that is none", _set(_tray_soap_order, data_pedido="2026-02-31"),
                "data_pedido", "2026-02-31"),
    ),
}


def _ideris_item(sandbox: Any, ident: str) -> dict[str, Any]:
    return _ideris_order(sandbox, ident)["Item"][0]


SPOILERS["ideris"] = (
    Spoiler("negative quantity", _set(_ideris_item, quantidadeItem=-2), "Item[0]", "-2"),
    Spoiler("unparsable money", _set(_ideris_order, valorTotalComFrete="12,34.5"),
            "valorTotalComFrete", "12,34.5"),
    Spoiler("no buyer name", _set(_ideris_order, compradorPrimeiroNome=None, compradorSobrenome="",
                                  compradorApelido=None), "compradorPrimeiroNome", "None"),
    Spoiler("unmapped status", _set(_ideris_order, status="Em disputa"), "status", "'Em disputa'",
            "MappingError"),
    Spoiler("no SKU", _set(_ideris_item, skuProdutoItem=" "), "skuProdutoItem", "' '"),
)
SPOILERS["shopify"] = (
    Spoiler("negative quantity", _set(_shopify_line, quantity=-2, currentQuantity=-2),
            "quantity", "-2"),
    Spoiler("no SKU", _set(_shopify_line, sku=""), "sku", "None"),
    Spoiler("unmapped status", _set(_shopify_order, displayFinancialStatus="EXPIRED"), "status",
            "'EXPIRED'", "MappingError"),
    Spoiler("a document that is none",
            lambda shop, ident: shop.set_attribute(ident, "cpf_cnpj", "123"), "cpf_cnpj", "123"),
)


def _rewrite_order_file(path: str, value: str) -> Callable[[Any, str], None]:
    """A spoiler that rewrites element ``path`` of the order's file (one a file) to ``value``."""

    def spoil(store: Any, ident: str) -> None:
        from lxml import etree

        [name] = [n for n in store.orders_waiting() if n.endswith(f"-{ident}.xml")]
        folder = store.data / "pedidos"
        tree = etree.parse(str(folder / name))
        found = tree.find(f"order/{path}")
        assert found is not None, f"no {path} in {name}"
        found.text = value
        store.write_raw("pedidos", name, etree.tostring(tree, xml_declaration=True,
                                                         encoding=tree.docinfo.encoding))

    return spoil


SPOILERS["tray_ftp"] = (
    Spoiler("negative quantity", _rewrite_order_file("items/item/quantity", "-2"), "quantity",
            "-2"),
    Spoiler("unparsable money", _rewrite_order_file("total", "12,34.5"), "total", "12,34.5"),
    Spoiler("no customer name", _rewrite_order_file("customer/name", ""), "customer.name", "''"),
    Spoiler("unmapped status", _rewrite_order_file("platform_status", "7"), "status", "'7'",
            "MappingError"),
    Spoiler("a date that is none", _rewrite_order_file("placed_at", "2026-02-31T10:00:00-03:00"),
            "placed_at", "2026-02-31"),
)

"""Tray SOAP: importing N orders in 4N + pages calls, an order's four calls at once, orders overlapping.

The webservice has no "complete order" call: an order is four calls
(``fWSImportaPedidoPorId``, its items, its customer, its delivery address),
as in seed 001, where each took up to 7 s and waited for the last. tramo
makes an order's four calls at once and overlaps orders (and the ToDo list's
pages, 50 ids each; the page after the last full one comes back short)
within the rate budget, so the import is rate-bound: ``4N / 20`` seconds at
20 calls a second. The plugin is given the store's limits
(``requests_per_second`` 20, ``requests_per_minute`` 1200) and the orders in
flight a host would allow at the latency (``concurrency``, four calls each,
and the HTTP pool).

Seed 001's sequential baseline is seed 001's own pattern, replayed with the
plugin's client: the four operations of an order, each sent when the last
has answered. See :mod:`bench.orders_common` for the bound, the baseline
and the two runs.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator, Sequence
from typing import Any

import tramo
from tramo.aio import portal
from tramo_tray_soap.client import api
from tramo_tray_soap.sandbox import MAPPINGS, TraySoapSandbox

from bench import orders_common as oc

PAGE = 50
#: seed 001's four calls an order, in its order
SEED_001_OPERATIONS = ("fWSImportaPedidoPorId", "fWSImportaItensPedidoPorId",
                       "fWSImportaClientePorPedidoAvancado", "fWSImportaEnderecoEntregaPedido")


def expected_calls(orders: int) -> int:
    """Four an order, and the ToDo pages up to the first short one (maybe empty)."""
    return 4 * orders + orders // PAGE + 1


def _fill(store: TraySoapSandbox, orders: int) -> list[str]:
    store.seed(products=8, orders=orders)
    return sorted(store.data["todo"]["pedidos"], key=int)


def _settings(store: TraySoapSandbox, in_flight: int) -> dict[str, Any]:
    # ``concurrency`` counts orders here, four calls each
    return {**store.settings, **oc.paced(in_flight), "concurrency": math.ceil(in_flight / 4)}


def _seed_001_step(connection: tramo.Connection, ids: Sequence[str], index: int) -> object:
    """The next of an order's four operations, through the plugin's client."""
    operation = SEED_001_OPERATIONS[index % len(SEED_001_OPERATIONS)]
    ident = ids[index // len(SEED_001_OPERATIONS) % len(ids)]
    return asyncio.run_coroutine_threadsafe(
        api(connection).call(operation, id_pedido=ident), portal()).result()


TRAY_SOAP = oc.Plugin(name="tray_soap", sandbox=lambda: TraySoapSandbox(oc.knobs()),
                      fill=_fill, settings=_settings, mappings=MAPPINGS, step=_seed_001_step)


def run(mode: str) -> Iterator[dict[str, Any]]:
    yield from oc.lines(TRAY_SOAP, mode, expected_calls=expected_calls(oc.SIZES[mode]))

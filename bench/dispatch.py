"""Core overhead: a capability call through a connection against calling the hook directly.

The plugin's ``send_stock`` does no I/O, so what the ratio measures is the
core alone: resolving the capability, checking and holding items, running
the hook, checking and merging the results. Both sides run interleaved in the
same process, best of several rounds, so machine noise hits both alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import tramo

TARGET_US = 5.0


def _plugin() -> SimpleNamespace:
    def plugin_info() -> tramo.PluginInfo:
        return tramo.PluginInfo(name="bench", platform="bench", modality="none")

    def send_stock(connection: Any, levels: Any) -> list[tramo.WriteResult]:
        return [tramo.WriteResult(level.sku, tramo.Outcome.UNCHANGED) for level in levels]

    return SimpleNamespace(plugin_info=tramo.hookimpl(plugin_info),
                           send_stock=tramo.hookimpl(send_stock))


def _best_per_call(function: Any, calls: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def run(mode: str) -> Iterator[dict[str, Any]]:
    calls, rounds = {"smoke": (200, 1), "quick": (5_000, 5), "full": (20_000, 9)}[mode]
    plugin = _plugin()
    connection = tramo.Registry.for_testing({"bench": plugin}).connect("bench")
    levels = [tramo.StockLevel(sku="SKU-1", quantity=3)]
    direct = _best_per_call(lambda: plugin.send_stock(connection, levels), calls, rounds)
    through = _best_per_call(lambda: connection.call("send_stock", levels=levels), calls, rounds)
    added_us = (through - direct) * 1e6
    yield {
        "name": "core.dispatch_overhead",
        "value": round(added_us, 3),
        "unit": "us added per call",
        "baseline": f"direct hook call {direct * 1e6:.3f} us",
        "ratio": round(through / direct, 2),
        "target": f"< {TARGET_US} us added",
        "ok": added_us < TARGET_US,
    }

"""``tramo sandbox NAME``: one plugin's sandbox as its own process, for hosts working offline.

The sandbox starts on a loopback port, is seeded if asked, and serves until the
process is interrupted (Ctrl-C or SIGTERM). It prints one JSON line with the
settings that reach it, and can write a ready ``tramo.toml`` (``--config``) so
that ``tramo sync --config FILE`` runs against it at once with the reference
ERP. Because it is a process of its own, it outlives a sync process that is
killed, which is how the kill-and-restart tests use it. On the way out it can
write what the platform then holds (``--record``): product codes (a duplicate
shows twice), stock, trackings, invoices.
"""

from __future__ import annotations

import argparse
import inspect
import json
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from tramo.budget import Window
from tramo.errors import TramoError
from tramo.registry import Registry
from tramo.sandbox import Fault, Knobs, Sandbox

__all__ = ["add_sandbox_command", "run_sandbox", "snapshot"]

#: the faults ``--faults`` spreads its chance over (the ones every wire protocol can suffer)
SPREAD = (Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.DROPPED, Fault.TIMEOUT)


def add_sandbox_command(commands: Any) -> None:
    """Add ``tramo sandbox`` to the ``tramo`` parser's subcommands."""
    parser = commands.add_parser("sandbox", help="run one plugin's sandbox until interrupted")
    parser.add_argument("name", help="the plugin whose sandbox to run")
    parser.add_argument("--products", type=int, help="seed this many products (if the sandbox seeds)")
    parser.add_argument("--orders", type=int, help="seed this many orders (if the sandbox seeds)")
    parser.add_argument("--no-seed", action="store_true", help="start empty, as tests do")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every call")
    parser.add_argument("--rate", type=int, help="at most this many calls in any one second")
    parser.add_argument("--faults", type=float, default=0.0,
                        help="chance (0 to 1) of a 429, 5xx, dropped connection or timeout per call")
    parser.add_argument("--time-scale", type=float,
                        help="platform seconds per real second: quotas refill and jobs finish "
                             "this much sooner (default: the sandbox's own; Shopify's bucket at "
                             "10 restores as a Plus shop's)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the data and the fault draws")
    parser.add_argument("--config", type=Path, help="write a tramo.toml for this sandbox here")
    parser.add_argument("--record", type=Path, help="on the way out, write what the platform holds")


def run_sandbox(args: argparse.Namespace, registry: Registry) -> int:
    """Start, seed, announce, serve until a signal, then record and stop."""
    impl = registry.implementation(args.name, "sandbox")
    if impl is None:
        print(f"tramo: plugin {args.name!r} has no sandbox", file=sys.stderr)
        return 2
    if not 0.0 <= args.faults <= 1.0:
        print(f"tramo: --faults must be between 0 and 1, not {args.faults}", file=sys.stderr)
        return 2
    if args.time_scale is not None and not args.time_scale > 0:
        print(f"tramo: --time-scale must be above 0, not {args.time_scale}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    sandbox: Sandbox = impl.function()
    try:
        sandbox.start()
        if not args.no_seed:
            seed_sandbox(sandbox, products=args.products, orders=args.orders, seed=args.seed)
        sandbox.configure(**_knobs(args))
        mappings = _plain(sandbox.profile.mappings)
        if args.config:
            write_config(args.config, args.name, sandbox.settings, mappings)
        print(json.dumps({"plugin": args.name, "settings": sandbox.settings, "mappings": mappings,
                          "config": str(args.config) if args.config else None}), flush=True)
        while not stop.wait(0.2):
            pass
        if args.record:
            args.record.write_text(json.dumps(snapshot(sandbox), indent=1, sort_keys=True))
    except (TramoError, OSError) as exc:
        print(f"tramo: {exc}", file=sys.stderr)
        return 1
    finally:
        sandbox.stop()
    return 0


def _knobs(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {"latency": args.latency, "seed": args.seed}
    if args.time_scale is not None:
        changes["time_scale"] = args.time_scale
    if args.faults:
        changes["faults"] = {fault: args.faults / len(SPREAD) for fault in SPREAD}
        changes["hang"] = 1.0
    if args.rate:
        changes["rate_limits"] = (Window(args.rate, 1),)
    return changes


def seed_sandbox(sandbox: Sandbox, **wanted: int | None) -> None:
    """Call the sandbox's ``seed`` with the sizes it takes; a size it does not take is named on stderr."""
    seed = getattr(sandbox, "seed", None)
    if not callable(seed):
        return
    accepted = inspect.signature(seed).parameters
    ignored = sorted(name for name, value in wanted.items() if value is not None and name not in accepted)
    if ignored:
        print(f"tramo: {sandbox.plugin}'s sandbox seeds a fixed data set; "
              f"--{', --'.join(ignored)} ignored", file=sys.stderr)
    seed(**{name: value for name, value in wanted.items() if value is not None and name in accepted})


def _plain(value: Any) -> Any:
    """Mappings as TOML and JSON take them: string keys, plain containers."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def write_config(path: Path, name: str, settings: Mapping[str, Any],
                 mappings: Mapping[str, Any]) -> None:
    """A tramo.toml with one connection to this sandbox, the reference ERP and a state file beside it."""
    connection: dict[str, Any] = {"plugin": name, "settings": dict(settings)}
    if mappings:
        connection["mappings"] = _plain(mappings)
    document = {"state": "tramo-state.sqlite3", "erp": "erp.sqlite3",
                "connections": {name: connection}}
    path.write_text(tomli_w.dumps(document))


def snapshot(sandbox: Sandbox) -> dict[str, Any]:
    """What the platform holds, as JSON: each ``held_*`` view the sandbox offers."""
    held: dict[str, Any] = {}
    views = {"products": "held_products", "stock": "held_stock", "trackings": "held_trackings",
             "invoices": "held_invoices", "reservations": "held_reservations"}
    for key, method in views.items():
        view = getattr(sandbox, method, None)
        if callable(view):
            value = view()
            held[key] = [p.code for p in value] if key == "products" else _plain(value)
    return held

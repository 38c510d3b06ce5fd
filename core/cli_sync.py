"""The ``tramo`` commands that run the sync: demo, sync, orders, products, status, mappings, auth, serve, purge.

Each reads the configuration file (``--config``, ``$TRAMO_CONFIG`` or
``./tramo.toml``) except ``demo``, which needs nothing. Exit codes: 0 all
well, 1 something was held or failed (shown), 2 wrong usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from tramo.config import Config, find_config, load_config
from tramo.errors import ConfigurationError, TramoError, describe
from tramo.model import Held
from tramo.registry import Registry
from tramo.sync.engine import FLOW_NAMES, Tramo
from tramo.sync.report import RunReport

__all__ = ["COMMANDS", "add_commands", "run_command"]

COMMANDS = ("demo", "sync", "orders", "products", "status", "mappings", "auth", "serve", "purge")


def add_commands(commands: Any) -> None:
    """Add the sync commands to the ``tramo`` parser's subcommands."""
    def configured(name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help)
        parser.add_argument("--config", type=Path, help="the configuration file (default: "
                                                        "$TRAMO_CONFIG or ./tramo.toml)")
        return parser

    demo = commands.add_parser("demo", help="every plugin's sandbox, the reference ERP, every flow")
    demo.add_argument("--json", action="store_true", help="print one JSON object")

    sync = configured("sync", "run the flows on a connection (all connections when none is named)")
    sync.add_argument("connection", nargs="?", help="the connection's name")
    sync.add_argument("--flow", action="append", choices=FLOW_NAMES, help="only this flow (repeatable)")
    sync.add_argument("--dry-run", action="store_true", help="list the writes without making them")
    sync.add_argument("--every", metavar="INTERVAL", help="repeat every INTERVAL (30s, 5m, 1h) until stopped")
    sync.add_argument("--runs", type=int, help=argparse.SUPPRESS)  # bounded --every, for tests
    sync.add_argument("--json", action="store_true", help="print the report as JSON")

    orders = configured("orders", "list a store's orders (integrated or not), or import chosen ones")
    orders.add_argument("words", nargs="+", metavar="ARG",
                        help="CONNECTION, or: import CONNECTION ID [ID ...]")
    orders.add_argument("--json", action="store_true", help="print JSON")

    products = configured("products", "export products: products export CONNECTION [CODE ...]")
    products.add_argument("action", choices=["export"])
    products.add_argument("connection")
    products.add_argument("codes", nargs="*", metavar="CODE")
    products.add_argument("--dry-run", action="store_true")
    products.add_argument("--json", action="store_true")

    status = configured("status", "checkpoints, writes in doubt, held records and last errors")
    status.add_argument("--json", action="store_true")

    mappings = configured("mappings", "mappings suggest CONNECTION: propose mappings from the platform")
    mappings.add_argument("action", choices=["suggest"])
    mappings.add_argument("connection")
    mappings.add_argument("--accept", action="store_true",
                          help="append the proposed tables the configuration lacks to the file")
    mappings.add_argument("--json", action="store_true")

    auth = configured("auth", "the one-time authorization of a connection; tokens kept in the state store")
    auth.add_argument("connection")

    serve = configured("serve", "receive platform webhooks on HTTP and import what they announce")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)

    purge = configured("purge", "drop personal data older than the retention (LGPD)")
    purge.add_argument("--days", type=int, help="the retention in days (default: the configuration's)")


def run_command(args: argparse.Namespace, registry_factory: Callable[[], Registry]) -> int:
    console = Console(soft_wrap=True)
    if args.command == "demo":
        return _demo(registry_factory(), console, args.json)
    try:
        config = load_config(find_config(args.config))
    except ConfigurationError as exc:
        print(f"tramo: {exc}", file=sys.stderr)
        return 2
    try:
        with _engine(config, registry_factory(), console) as engine:
            handler = _HANDLERS[args.command]
            return handler(engine, config, args, console)
    except ConfigurationError as exc:
        print(f"tramo: {exc}", file=sys.stderr)
        return 2
    except TramoError as exc:
        print(f"tramo: {describe(exc)}", file=sys.stderr)
        return 1


@contextmanager
def _engine(config: Config, registry: Registry, console: Console) -> Iterator[Tramo]:
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        console=console, transient=True, disable=not console.is_terminal)
    tasks: dict[tuple[str, str], Any] = {}

    def tell(connection: str, flow: str, done: int, total: int) -> None:
        key = (connection, flow)
        if key not in tasks:
            tasks[key] = progress.add_task(f"{connection}: {flow}", total=total)
        progress.update(tasks[key], completed=done, total=total)

    engine = Tramo.from_config(config, registry=registry, progress=tell)
    try:
        with progress:
            yield engine
    finally:
        engine.close()


# -- sync ---------------------------------------------------------------------------------------


def _interval(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigurationError(f"--every {text!r}: give a positive interval such as 30s, 5m or 1h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _sync(engine: Tramo, config: Config, args: argparse.Namespace, console: Console) -> int:
    names = [args.connection] if args.connection else engine.names
    for name in names:
        engine.connection(name)  # an unknown name fails before any work
    every = _interval(args.every) if args.every else None
    stop = threading.Event()
    if every is None or threading.current_thread() is not threading.main_thread():
        return _sync_loop(engine, names, every, stop, args, console)
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())  # stop cleanly between runs
    try:
        return _sync_loop(engine, names, every, stop, args, console)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sync_loop(engine: Tramo, names: list[str], every: float | None, stop: threading.Event,
               args: argparse.Namespace, console: Console) -> int:
    runs, worst = 0, 0
    while True:
        report = RunReport(dry_run=args.dry_run)
        for name in names:
            report.extend(engine.sync(name, args.flow, dry_run=args.dry_run))
        _show(report, console, args.json)
        worst = max(worst, 1 if report.troubled else 0)
        runs += 1
        if every is None or (args.runs is not None and runs >= args.runs):
            return worst
        try:
            if stop.wait(every):
                return worst
        except KeyboardInterrupt:
            console.print("stopped")
            return worst


def _show(report: RunReport, console: Console, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_json(), indent=2, default=str))
        return
    table = Table(title="tramo sync" + (" (dry run: nothing written)" if report.dry_run else ""))
    for column in ("connection", "flow", "status", "sent", "received", "unchanged", "held",
                   "failed", "note"):
        table.add_column(column, overflow="fold")
    for r in report:
        sent = len(r.planned) if report.dry_run else len(r.sent)
        note = r.reason or ""
        if r.recovered:
            note = f"{len(r.recovered)} write(s) in doubt replayed. " + note
        table.add_row(r.connection, r.flow, r.status, str(sent), str(len(r.received)),
                      str(r.unchanged), str(len(r.held)), str(len(r.failed)), note)
    console.print(table)
    for r in report:
        for ident, reason in [*r.held, *r.failed]:
            console.print(f"  [yellow]{r.connection} {r.flow} {ident}[/]: {reason}")
        if report.dry_run and r.planned:
            console.print(f"  {r.connection} {r.flow} would write: {', '.join(r.planned)}")


# -- orders and products -------------------------------------------------------------------------


def _orders(engine: Tramo, config: Config, args: argparse.Namespace, console: Console) -> int:
    words = args.words
    if words[0] == "import":
        if len(words) < 3:
            raise ConfigurationError("usage: tramo orders import CONNECTION ID [ID ...]")
        report = engine.import_orders(words[1], words[2:])
        _show(report, console, args.json)
        return 1 if report.troubled else 0
    if len(words) != 1:
        raise ConfigurationError("usage: tramo orders CONNECTION  |  tramo orders import CONNECTION ID...")
    listed = engine.remote_orders(words[0])
    rows = []
    for record, integrated in listed:
        if isinstance(record, Held):
            rows.append({"id": record.remote_id or "?", "integrated": integrated, "held": describe(record.error)})
        else:
            rows.append({"id": record.id, "number": record.number, "placed_at": record.placed_at.isoformat(),
                         "status": record.platform_status, "total": str(record.total),
                         "integrated": integrated})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title=f"orders on {words[0]}")
    for column in ("id", "number", "placed", "status", "total", "in the ERP"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row.get("number") or "", row.get("placed_at", ""),
                      row.get("status") or row.get("held", ""), row.get("total", ""),
                      "[green]integrated[/]" if row["integrated"] else "[yellow]not integrated[/]")
    console.print(table)
    return 0


def _products(engine: Tramo, config: Config, args: argparse.Namespace, console: Console) -> int:
    report = engine.export_products(args.connection, args.codes or None, dry_run=args.dry_run)
    _show(report, console, args.json)
    return 1 if report.troubled else 0


# -- status, mappings, auth, serve, purge ------------------------------------------------------------


def _status(engine: Tramo, config: Config, args: argparse.Namespace, console: Console) -> int:
    found = engine.status()
    troubled = 1 if any(e["held"] or e["pending"] for e in found) else 0
    if args.json:
        print(json.dumps(found, indent=2, default=str))
        return troubled
    for entry in found:
        console.print(f"[bold]{entry['connection']}[/] ({entry['plugin']})")
        checkpoints = ", ".join(f"{k} {v}" for k, v in entry["checkpoints"].items()) or "none yet"
        console.print(f"  checkpoints: {checkpoints}")
        console.print(f"  last run: {entry['last_run'] or 'never'}")
        if entry["pending"]:
            console.print(f"  writes in doubt (replayed next run): {', '.join(entry['pending'])}")
        for held in entry["held"]:
            console.print(f"  [yellow]held[/] {held['flow']} {held['item_id']} "
                          f"({held['attempts']}x): {held['reason']}")
        for error in entry["errors"]:
            at = datetime.fromtimestamp(error["at"], timezone.utc).isoformat(timespec="seconds")
            console.print(f"  [red]error[/] {at} {error['flow']}: {error['message']}")
    return troubled


def _mappings(engine: Tramo, config: Config, args: argparse.Namespace, console: Console) -> int:
    from tramo.sync.suggest import suggest, to_toml

    found = suggest(engine.connection(args.connection))
    if args.json:
        print(json.dumps(found.to_json(), indent=2))
        return 0
    present = config.connection(args.connection).mappings
    text = to_toml(found, skip=[k for k in found.tables if present.get(k)])
    console.print(text, markup=False, highlight=False)
    for kind, reason in found.missing.items():
        console.print(f"# {kind}: not offered ({reason})", markup=False)
    if args.accept:
        if config.path is None:
            raise ConfigurationError("no configuration file to write the mappings into")
        with config.path.open("a", encoding="utf-8") as file:
            file.write("\n# proposed by `tramo mappings suggest`; check before syncing\n" + text)
        console.print(f"appended to {config.path}")
    return 0


def _auth(engine: Tramo, config: Config, args: argparse.Namespace, console: Console) -> int:
    report = engine.connection(args.connection).check()
    if not report.ok:
        for problem in report.problems:
            console.print(f"  [red]-[/] {problem}")
        return 1
    console.print(f"[green]{args.connection}: authorized[/]; tokens are kept in {config.state}")
    return 0


def _serve(engine: Tramo, config: Config, args: argparse.Namespace, console: Console) -> int:
    from tramo.sync.intake import serve

    serve(engine, args.host, args.port, ready=lambda url: console.print(f"listening on {url}"))
    return 0


def _purge(engine: Tramo, config: Config, args: argparse.Namespace, console: Console) -> int:
    days = args.days if args.days is not None else config.retention_days
    if days < 1:
        raise ConfigurationError("--days must be at least 1")
    before = datetime.now(timezone.utc) - timedelta(days=days)
    touched = engine.ledger.purge(before.timestamp())
    erp_purge = getattr(engine.erp, "purge_personal", None)
    customers = erp_purge(before) if callable(erp_purge) else 0
    console.print(f"purged personal data older than {days} days: {touched} sync rows, "
                  f"{customers} customers in the reference ERP")
    return 0


_HANDLERS: dict[str, Callable[[Tramo, Config, argparse.Namespace, Console], int]] = {
    "sync": _sync, "orders": _orders, "products": _products, "status": _status,
    "mappings": _mappings, "auth": _auth, "serve": _serve, "purge": _purge,
}


# -- demo -------------------------------------------------------------------------------------------


def _demo(registry: Registry, console: Console, as_json: bool) -> int:
    from tramo.demo import run_demo

    started = time.monotonic()
    result = run_demo(registry=registry, tell=(lambda line: None) if as_json else console.print)
    seconds = time.monotonic() - started
    failed = [r for r in result.report if r.status == "failed"]
    if as_json:
        data = result.to_json()
        data["seconds"] = round(seconds, 2)
        print(json.dumps(data, indent=2, default=str))
    else:
        _demo_summary(result, console, seconds)
    return 1 if failed or result.unavailable or not result.plugins else 0


def _demo_summary(result: Any, console: Console, seconds: float) -> None:
    table = Table(title="tramo demo: per plugin")
    for column in ("plugin", "sent", "received", "unchanged", "held", "failed", "skipped flows"):
        table.add_column(column, overflow="fold")
    for name in result.plugins:
        totals = result.report.totals(name)
        skipped = sorted({r.flow for r in result.report if r.connection == name and r.status == "skipped"})
        table.add_row(name, str(totals["sent"]), str(totals["received"]), str(totals["unchanged"]),
                      str(totals["held"]), str(totals["failed"]), ", ".join(skipped) or "-")
    console.print(table)
    for name in result.plugins:
        reasons = {r.flow: r.reason for r in result.report if r.connection == name and r.status == "skipped"}
        for flow, reason in reasons.items():
            console.print(f"  {name} skips {flow}: {reason}")
        held: dict[str, str] = {}
        for r in result.report:
            if r.connection == name:
                for ident, why in [*r.held, *r.failed]:
                    held.setdefault(f"{r.flow} {ident}", why)
        for key, why in list(held.items())[:5]:
            console.print(f"  [yellow]{name} held {key}[/]: {why}")
        if len(held) > 5:
            console.print(f"  {name}: {len(held) - 5} more held (tramo demo --json lists them all)")
    for name, why in result.unavailable.items():
        console.print(f"  [red]{name} did not run[/]: {why}")
    console.print(f"done in {seconds:.1f} s; state and ERP files in {result.folder}")

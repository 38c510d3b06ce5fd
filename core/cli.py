"""The ``tramo`` command: plugins, capabilities, checks and the kit here; a plugin's sandbox
in :mod:`tramo.cli_sandbox`; the sync's
commands (demo, sync, orders, products, status, mappings, auth, serve, purge) in
:mod:`tramo.cli_sync`.

Exit codes: 0 all well, 1 something to fix (a problem found, a record held, a
plugin unavailable in strict mode), 2 wrong usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tramo.capabilities import CAPABILITIES
from tramo.cli_sandbox import add_sandbox_command, run_sandbox
from tramo.cli_sync import COMMANDS, add_commands, run_command
from tramo.errors import TramoError
from tramo.registry import Registry, discover

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tramo", description=__doc__)
    parser.add_argument("--strict", action="store_true", default=None,
                        help="fail when any plugin is unavailable (also TRAMO_STRICT_PLUGINS=1)")
    parser.add_argument("--only", metavar="NAMES", help="load only these plugins (comma-separated)")
    parser.add_argument("--skip", metavar="NAMES", help="never load these plugins (comma-separated)")
    commands = parser.add_subparsers(dest="command", required=True)

    plugins = commands.add_parser("plugins", help="list the installed plugins")
    plugins.add_argument("--json", action="store_true", help="print a JSON list")

    capabilities = commands.add_parser("capabilities", help="capabilities x plugins matrix")
    capabilities.add_argument("--json", action="store_true", help="print a JSON object")

    check = commands.add_parser("check", help="verify a connection's settings and credentials")
    check.add_argument("--plugin", required=True, help="the plugin's name")
    check.add_argument("--settings", required=True, type=Path,
                       help="a TOML or JSON file with the plugin's settings")

    conformance = commands.add_parser(
        "conformance", help="run the conformance kit against a plugin's sandbox")
    conformance.add_argument("names", nargs="+", metavar="NAME", help="the plugins to check")
    conformance.add_argument("--full", action="store_true",
                             help="many generated cases instead of CI's few")
    conformance.add_argument("--pytest", action="append", default=[], metavar="ARG",
                             help="an argument for pytest, e.g. --pytest=-x (repeatable)")
    add_commands(commands)
    add_sandbox_command(commands)
    return parser


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(soft_wrap=True)
    if args.command == "conformance":
        return _conformance(args.names, args.full, args.pytest)
    if args.command in COMMANDS:
        return run_command(args, lambda: discover(allow=_split(args.only), block=_split(args.skip) or (),
                                                  strict=args.strict))
    try:
        registry = discover(allow=_split(args.only), block=_split(args.skip) or (),
                            strict=args.strict)
        if args.command == "plugins":
            return _plugins(registry, console, args.json)
        if args.command == "capabilities":
            return _capabilities(registry, console, args.json)
        if args.command == "sandbox":
            return run_sandbox(args, registry)
        return _check(registry, console, args.plugin, args.settings)
    except TramoError as exc:
        print(f"tramo: {exc}", file=sys.stderr)
        return 1 if args.command != "check" else 2


def _plugins(registry: Registry, console: Console, as_json: bool) -> int:
    records = registry.plugins
    if as_json:
        print(json.dumps([r.to_json() for r in records], indent=2))
        return 0
    table = Table(title="tramo plugins")
    for column in ("name", "platform", "modality", "status", "capabilities", "error"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(r.name, r.platform or "-", r.modality or "-",
                      "[green]ok[/]" if r.ok else "[red]unavailable[/]",
                      ", ".join(r.capabilities) or "(none yet)", r.error or "")
    console.print(table)
    return 0


def _capabilities(registry: Registry, console: Console, as_json: bool) -> int:
    records = [r for r in registry.plugins if r.ok]
    extras = sorted({c for r in records for c in r.capabilities} - set(CAPABILITIES))
    rows = [*CAPABILITIES, *extras]
    if as_json:
        print(json.dumps({cap: [r.name for r in records if cap in r.capabilities] for cap in rows},
                         indent=2))
        return 0
    table = Table(title="capabilities x plugins")
    table.add_column("capability")
    for r in records:
        table.add_column(r.name, justify="center")
    for cap in rows:
        table.add_row(cap, *("yes" if cap in r.capabilities else "-" for r in records))
    console.print(table)
    return 0


def _load_settings(path: Path) -> dict[str, Any]:
    text = path.read_bytes()
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        data = tomllib.loads(text.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("the settings file must hold a table of settings")
    return data


def _check(registry: Registry, console: Console, plugin: str, path: Path) -> int:
    try:
        settings = _load_settings(path)
    except (OSError, ValueError) as exc:
        print(f"tramo: cannot read settings from {path}: {exc}", file=sys.stderr)
        return 2
    try:
        connection = registry.connect(plugin, settings)
    except TramoError as exc:
        console.print(f"[red]settings refused:[/] {exc}")
        return 2
    with connection:
        report = connection.check()
    if report.ok:
        console.print(f"[green]{plugin}: connection verified[/]")
        for key, value in report.details.items():
            console.print(f"  {key}: {value}")
        return 0
    console.print(f"[red]{plugin}: missing or wrong[/]")
    for problem in report.problems:
        console.print(f"  - {problem}")
    return 1


def _conformance(names: Sequence[str], full: bool, extra: Sequence[str]) -> int:
    """Run the kit once per plugin; 0 only when every property holds for every one."""
    import pytest

    registry = discover(allow=list(names))
    worst = 0
    for name in names:
        record = registry.record(name) if name in {r.name for r in registry.plugins} else None
        if record is None or not record.ok:
            print(f"tramo: plugin {name!r} is not available: "
                  f"{record.error if record else 'not installed'}", file=sys.stderr)
            worst = max(worst, 1)
            continue
        if registry.implementation(name, "sandbox") is None:
            print(f"tramo: plugin {name!r} has no sandbox hook; the kit runs against the plugin's "
                  f"sandbox (plugin guide, 'Sandboxes')", file=sys.stderr)
            worst = max(worst, 1)
            continue
        code = pytest.main(["--pyargs", "tramo.testing.suite", "-p", "no:cacheprovider",
                            "--tramo-conformance", name, "--tramo-profile", "full" if full else "ci",
                            "-q", "-rfE", *extra])
        worst = max(worst, int(code))
    return worst


if __name__ == "__main__":
    sys.exit(main())

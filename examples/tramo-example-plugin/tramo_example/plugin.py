"""The example plugin: its 'platform' is a folder of JSON files.

It shows the whole plugin contract on something every reader can inspect:
a sync write hook (``send_stock``), an async read hook (``receive_orders``),
a look-up, ``check_connection`` and capability narrowing by settings.

Folder layout:

- ``stock/<sku>.json``: ``{"sku": ..., "quantity": ...}``, written atomically;
- ``orders/<id>.json``: one order each, in tramo's dict form (``tramo.model.convert``);
- ``statuses.json``: optional list of ``{"id", "name"}``; the defaults are below.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import tramo
from tramo.model.convert import from_json

DEFAULT_STATUSES = (("new", "New"), ("paid", "Paid"), ("sent", "Sent"),
                    ("done", "Delivered"), ("void", "Cancelled"))


@tramo.hookimpl
def plugin_info() -> tramo.PluginInfo:
    return tramo.PluginInfo(
        name="example", platform="filedrop", modality="files", version="0.1.0",
        description="A folder of JSON files standing in for a platform.",
        settings=(
            tramo.Setting(name="folder", description="The folder the platform lives in."),
            tramo.Setting(name="read_only", kind="bool", required=False, default=False,
                          description="Refuse writes (narrows send_stock away)."),
        ),
        features={"receive_orders": {"incremental": True, "queue": False}},
    )


def _folder(connection: tramo.Connection) -> Path:
    return Path(connection.settings["folder"])


@tramo.hookimpl
def check_connection(connection: tramo.Connection) -> tramo.ConnectionReport:
    folder = _folder(connection)
    problems = []
    if not folder.is_dir():
        problems.append(f"folder {str(folder)!r} does not exist")
    elif not os.access(folder, os.W_OK) and not connection.settings["read_only"]:
        problems.append(f"folder {str(folder)!r} is not writable")
    return tramo.ConnectionReport(problems=tuple(problems), details={"folder": str(folder)})


@tramo.hookimpl
def restrict_capabilities(connection: tramo.Connection) -> Mapping[str, str]:
    if connection.settings["read_only"]:
        return {"send_stock": "the connection is configured read_only"}
    return {}


@tramo.hookimpl
def send_stock(connection: tramo.Connection,
               levels: Sequence[tramo.StockLevel]) -> list[tramo.WriteResult]:
    target = _folder(connection) / "stock"
    target.mkdir(parents=True, exist_ok=True)
    results = []
    for level in levels:
        path = target / f"{level.sku}.json"
        body = json.dumps({"sku": level.sku, "quantity": level.quantity}, sort_keys=True)
        try:
            before = path.read_text("utf-8") if path.exists() else None
            if before == body:
                results.append(tramo.WriteResult(level.sku, tramo.Outcome.UNCHANGED, remote_id=path.name))
                continue
            _write_atomically(path, body)
        except OSError as exc:
            results.append(tramo.WriteResult.failed(
                level.sku, tramo.PlatformError(f"cannot write {path.name}", causes=[exc.strerror or ""])))
            continue
        outcome = tramo.Outcome.CREATED if before is None else tramo.Outcome.UPDATED
        results.append(tramo.WriteResult(level.sku, outcome, remote_id=path.name))
    return results


def _write_atomically(path: Path, body: str) -> None:
    """Write under a temporary name, then rename: a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@tramo.hookimpl
async def receive_orders(connection: tramo.Connection,
                         since: datetime | str | None) -> AsyncIterator[tramo.Order | tramo.Held]:
    if isinstance(since, str):
        raise tramo.ValidationError("receive_orders.since", since, "this platform reads by time only")
    for path in sorted((_folder(connection) / "orders").glob("*.json")):
        try:
            order = from_json(tramo.Order, path.read_bytes())
        except tramo.ValidationError as exc:
            yield tramo.Held("order", exc, remote_id=path.stem)
            continue
        changed = order.updated_at or order.placed_at
        if since is None or changed > since:
            yield order


@tramo.hookimpl
def list_order_statuses(connection: tramo.Connection) -> list[tramo.PlatformOption]:
    path = _folder(connection) / "statuses.json"
    if path.exists():
        entries = json.loads(path.read_text("utf-8"))
        return [tramo.PlatformOption(id=str(e["id"]), name=str(e["name"])) for e in entries]
    return [tramo.PlatformOption(id=i, name=n) for i, n in DEFAULT_STATUSES]

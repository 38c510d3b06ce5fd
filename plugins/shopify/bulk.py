"""Bulk operations: a whole catalogue or order history in one query, streamed from JSONL.

``bulkOperationRunQuery`` runs a query on Shopify's side without the cost
limit and leaves the result as a JSONL file: one line per node, the nodes of
an inner connection on their own lines after their parent, pointing at it
with ``__parentId``. The operation is followed with :func:`tramo.jobs.follow`,
the file is read line by line as it downloads, and each parent is handed on
with its children as soon as the next parent starts, so a catalogue of any
size never sits in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import tramo
from tramo.http import STREAM
from tramo.jobs import follow

from tramo_shopify.client import Shopify

__all__ = ["CHILDREN", "assemble", "run", "start"]

Json = dict[str, Any]

#: the connection a child line belongs to, by the type in its global id
CHILDREN = {"ProductVariant": "variants", "MediaImage": "media", "Video": "media",
            "ExternalVideo": "media", "Model3d": "media", "LineItem": "lineItems",
            "ShippingLine": "shippingLines"}


#: the userError code of a bulk query started while another runs
IN_PROGRESS = "OPERATION_IN_PROGRESS"
#: statuses of an operation still under way
RUNNING = ("CREATED", "RUNNING")


def _kind(global_id: str) -> str:
    parts = global_id.split("/")
    return parts[3] if len(parts) > 4 else ""


def assemble(lines: Iterable[Mapping[str, Any]]) -> Iterator[Json]:
    """Parents with their children as ``{"nodes": [...]}`` connections, one parent at a time."""
    current: Json | None = None
    for line in lines:
        parent = line.get("__parentId")
        if parent is None:
            if current is not None:
                yield current
            current = dict(line)
            continue
        if current is None or current.get("id") != parent:
            raise tramo.PlatformError(f"the bulk result has a child of {parent} away from its parent",
                                      code="bulk_order")
        field = CHILDREN.get(_kind(str(line.get("id", ""))), "children")
        child = {k: v for k, v in line.items() if k != "__parentId"}
        current.setdefault(field, {"nodes": []})["nodes"].append(child)
    if current is not None:
        yield current


def run(shopify: Shopify, query: str) -> Iterator[Json]:
    """Run ``query`` in bulk and yield its assembled records as the file downloads."""
    settings = shopify.connection.settings
    operation = start(shopify, query)

    def look(pending: Mapping[str, Any]) -> dict[str, Json]:
        data = shopify.run("JOBS", {"ids": list(pending)})
        return {node["id"]: node for node in data.get("nodes") or ()
                if node and node.get("status") not in (*RUNNING, "CANCELING")}

    finished = follow({operation: None}, look, within=float(settings["job_wait_seconds"]),
                      on_wait=shopify.connection.on_wait, what="bulk operation")
    if operation not in finished:
        raise tramo.TransientError(f"bulk operation {operation} did not finish within "
                                   f"{settings['job_wait_seconds']} s; read again later")
    outcome = finished[operation]
    if outcome["status"] != "COMPLETED":
        raise tramo.PlatformError(f"bulk operation {operation} ended {outcome['status']}",
                                  code=outcome.get("errorCode"))
    if not outcome.get("url"):
        return
    yield from assemble(_lines(shopify, outcome["url"]))


def start(shopify: Shopify, query: str) -> str:
    """Start ``query`` in bulk; the operation's id.

    Starting a bulk query changes nothing in the shop, so a start whose
    answer was lost is sent again. Should the first have arrived and the shop
    allow one bulk query at a time (API versions before 2026-01), Shopify
    answers OPERATION_IN_PROGRESS: the running operation is followed when it
    runs this same query, since it is that first start.
    """
    try:
        payload = shopify.mutate("BULK_RUN", "bulkOperationRunQuery", {"query": query}, safe=True)
    except tramo.PlatformError as refused:
        if refused.code != IN_PROGRESS:
            raise
        current = shopify.run("CURRENT_BULK").get("currentBulkOperation") or {}
        if current.get("query") != query or current.get("status") not in RUNNING:
            raise
        return str(current["id"])
    operation = (payload.get("bulkOperation") or {}).get("id")
    if not operation:
        raise tramo.PlatformError("Shopify started no bulk operation")
    return str(operation)


def _lines(shopify: Shopify, url: str) -> Iterator[Mapping[str, Any]]:
    """The result file's records, read as it downloads (signed URL: no token sent)."""
    download = shopify.connection.resource("shopify-download", lambda: shopify.connection.http_client())
    with download.stream("GET", url, extensions={STREAM: True}) as response:
        if response.status_code != 200:
            raise tramo.PlatformError(f"the bulk result could not be downloaded (HTTP {response.status_code})",
                                      code=response.status_code)
        for number, line in enumerate(response.iter_lines(), start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError:
                raise tramo.PlatformError(f"line {number} of the bulk result is not JSON",
                                          code="bulk_line") from None

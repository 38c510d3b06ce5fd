"""The Shopify sandbox's bulk operations: a query run in the background, its result as JSONL.

``bulkOperationRunQuery`` checks the inner query as Shopify does (shopify.md
§9: parsed and valid, 1 to 5 connections, nested at most 2 deep, a nested
connection's parent selecting ``id``, no connection inside a plain list) and
how many run at once (5 from API 2026-01, 1 before). The run starts
``job_seconds`` later (RUNNING), executes the query over the shop as it is
then, with no page limits, and writes one JSON line per node of every
connection: the node's own fields (inner connections left out), then its
children's lines, each with ``"__parentId"`` — parent, children, next
parent, as ``bulk_query_result_sample_partial.jsonl`` shows. The file is
served at ``/bulk/<name>.jsonl``.

userErrors use code ``INVALID`` for a query Shopify would refuse and
``OPERATION_IN_PROGRESS`` when too many run (the sandbox's choice of codes).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    validate,
)

from tramo_shopify.sandbox_graphql import SCHEMA, moment_text, run
from tramo_shopify.sandbox_records import Ctx, UserErrors, new_id, objects, put, tick

__all__ = ["bulk_operation_run_query", "jsonl_lines"]

MAX_CONNECTIONS, MAX_DEPTH = 5, 2
#: From this API version five bulk queries may run at once per shop (one before).
PARALLEL_FROM = "2026-01"


def _fields(selection_set: SelectionSetNode | None,
            fragments: Mapping[str, FragmentDefinitionNode]) -> list[FieldNode]:
    found: list[FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found += _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            found += _fields(fragments[selection.name.value].selection_set, fragments)
    return found


def _type_of(parent: GraphQLNamedType, node: FieldNode) -> Any:
    fields = getattr(parent, "fields", {})
    if node.name.value in fields:
        return fields[node.name.value].type
    for kind in SCHEMA.type_map.values():  # a field of a fragment on a concrete type
        if node.name.value in getattr(kind, "fields", {}):
            return kind.fields[node.name.value].type  # type: ignore[attr-defined]
    return None


def _is_connection(field_type: Any) -> bool:
    return field_type is not None and get_named_type(field_type).name.endswith("Connection")


def _element_fields(node: FieldNode, fragments: Mapping[str, FragmentDefinitionNode]
                    ) -> list[FieldNode]:
    """The selections of one element of a connection: under ``edges { node }`` and ``nodes``."""
    found: list[FieldNode] = []
    for sub in _fields(node.selection_set, fragments):
        if sub.name.value == "nodes":
            found.append(sub)
        elif sub.name.value == "edges":
            found += [n for n in _fields(sub.selection_set, fragments) if n.name.value == "node"]
    return found


def check_structure(document: DocumentNode) -> str | None:
    """Why Shopify would refuse this bulk query's shape, or None."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return "Bulk queries must contain exactly one operation."
    if operations[0].operation is not OperationType.QUERY:
        return "Bulk queries must be queries; use bulkOperationRunMutation for mutations."
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    count, problems = 0, []

    def walk(selection_set: SelectionSetNode | None, parent: Any, depth: int,
             in_list: bool) -> None:
        nonlocal count
        for node in _fields(selection_set, fragments):
            field_type = _type_of(parent, node)
            if field_type is None:
                continue
            named = get_named_type(field_type)
            if _is_connection(field_type):
                count += 1
                if in_list:
                    problems.append("Queries that contain a connection field within a list field "
                                    "are not currently supported.")
                if depth + 1 > MAX_DEPTH:
                    problems.append("Bulk queries cannot contain connections with a nesting depth "
                                    f"greater than {MAX_DEPTH}.")
                element = get_named_type(named.fields["nodes"].type)  # type: ignore[attr-defined]
                for inner in _element_fields(node, fragments):
                    subs = _fields(inner.selection_set, fragments)
                    nested = any(_is_connection(_type_of(element, s)) for s in subs)
                    if nested and not any(s.name.value == "id" for s in subs):
                        problems.append(f"The parent 'node' field for a nested connection must "
                                        f"select the 'id' field: {node.name.value}.")
                    walk(inner.selection_set, element, depth + 1, False)
            elif node.selection_set is not None:
                walk(node.selection_set, named, depth,
                     in_list or is_list_type(get_nullable_type(field_type)))

    walk(operations[0].selection_set, SCHEMA.query_type, 0, False)
    if count == 0:
        return "Bulk queries must contain at least one connection."
    if count > MAX_CONNECTIONS:
        return f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
    return problems[0] if problems else None


def bulk_operation_run_query(shop: Any, ctx: Ctx, query: str,
                             groupObjects: bool | None = None) -> dict[str, Any]:
    """Start a bulk query: checked now, run ``job_seconds`` later in the background."""
    data, errors = shop.data, UserErrors()
    try:
        document = parse(query)
        problems = [e.message for e in validate(SCHEMA, document)]
    except GraphQLError as error:
        document, problems = None, [error.message]
    problem = "; ".join(problems) if problems else check_structure(document)  # type: ignore[arg-type]
    if problem:
        errors.add(["query"], problem, "INVALID")
        return {"bulkOperation": None, "userErrors": errors}
    running = [b for b in objects(data, "BulkOperation")
               if b["type"] == "QUERY" and b["status"] in ("CREATED", "RUNNING")]
    if len(running) >= (MAX_CONNECTIONS if ctx.version >= PARALLEL_FROM else 1):
        errors.add(None, "A bulk query operation for this app and shop is already in progress: "
                   f"{running[0]['id']}.", "OPERATION_IN_PROGRESS")
        return {"bulkOperation": None, "userErrors": errors}
    ident, n = new_id(data, "BulkOperation")
    operation = put(data, {
        "id": ident, "status": "CREATED", "errorCode": None, "type": "QUERY", "query": query,
        "createdAt": tick(data), "completedAt": None, "objectCount": 0, "rootObjectCount": 0,
        "fileSize": None, "url": None, "partialDataUrl": None})
    failure, shop.failing_bulk = shop.failing_bulk, None

    def finish() -> None:
        operation["completedAt"] = tick(data)
        shop.emit_payload("bulk_operations/finish", {
            "admin_graphql_api_id": operation["id"], "completed_at": moment_text(
                operation["completedAt"]), "created_at": moment_text(operation["createdAt"]),
            "error_code": (operation["errorCode"] or "").lower() or None,
            "status": operation["status"].lower(), "type": "query"})

    def execute() -> None:
        """The query's run, outside the shop's lock: Shopify goes on answering meanwhile."""
        with shop.lock:
            if operation["status"] != "RUNNING":
                return
            view = ShopView(shop, copy.deepcopy(data))
        result = run(Ctx(shop=view, version=ctx.version, bulk=True), document, {}, None)
        if failure or result.errors:
            shop.later(0, lambda: complete(status="FAILED",
                                           errorCode=failure or "INTERNAL_SERVER_ERROR"))
            return
        lines = jsonl_lines(document, result.data or {})  # type: ignore[arg-type]
        done: dict[str, Any] = {"status": "COMPLETED", "objectCount": len(lines),
                                "rootObjectCount": sum("__parentId" not in line for line in lines)}
        if lines:
            name = f"bulk-{n}-{uuid.uuid4().hex[:12]}"
            path = shop.bulk_file(name)
            with path.open("w", encoding="utf-8") as out:
                for line in lines:
                    out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            done.update(fileSize=path.stat().st_size, url=f"{shop.url}/bulk/{name}.jsonl")
        shop.later(0, lambda: complete(**done))

    def complete(**outcome: Any) -> None:
        if operation["status"] == "RUNNING":
            operation.update(outcome)
            finish()

    def start() -> None:
        operation["status"] = "RUNNING"
        shop.later(shop.job_seconds, execute, locked=False)

    shop.later(shop.job_seconds, start)
    return {"bulkOperation": operation, "userErrors": []}


class ShopView:
    """The shop as a bulk query reads it: its data as it was when the run began, the rest live.

    The run reads a copy, so the shop's lock is held only while copying and
    the shop's other calls change nothing under the run's feet.
    """

    def __init__(self, shop: Any, data: dict[str, Any]) -> None:
        self.shop, self.data = shop, data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.shop, name)


def jsonl_lines(document: DocumentNode, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The result's lines: each connection's nodes in order, children after their parent."""
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    lines: list[dict[str, Any]] = []

    def strip(value: Any, selection_set: SelectionSetNode | None, parent: Any) -> Any:
        """``value`` with every connection under it left out (they become lines of their own)."""
        if not isinstance(value, Mapping):
            return value
        kept = dict(value)
        for node in _fields(selection_set, fragments):
            key = (node.alias or node.name).value
            field_type = _type_of(parent, node)
            if key not in kept or field_type is None:
                continue
            if _is_connection(field_type):
                del kept[key]
            elif node.selection_set is not None:
                named = get_named_type(field_type)
                kept[key] = [strip(v, node.selection_set, named) for v in kept[key]] \
                    if isinstance(kept[key], list) else strip(kept[key], node.selection_set, named)
        return kept

    def walk(value: Any, selection_set: SelectionSetNode | None, parent: Any,
             parent_id: str | None) -> None:
        if not isinstance(value, Mapping):
            return
        for node in _fields(selection_set, fragments):
            key = (node.alias or node.name).value
            field_type = _type_of(parent, node)
            if field_type is None or value.get(key) is None:
                continue
            named = get_named_type(field_type)
            if not _is_connection(field_type):
                if node.selection_set is not None and not isinstance(value[key], list):
                    walk(value[key], node.selection_set, named, parent_id)
                continue
            element = get_named_type(named.fields["nodes"].type)
            for inner in _element_fields(node, fragments):
                items = value[key].get("nodes") if inner.name.value == "nodes" else \
                    [edge.get("node") for edge in value[key].get("edges") or ()]
                for item in items or ():
                    line = strip(item, inner.selection_set, element)
                    if parent_id is not None:
                        line["__parentId"] = parent_id
                    lines.append(line)
                    walk(item, inner.selection_set, element, item.get("id"))
                break  # edges and nodes are the same elements: one line each

    walk(data, operation.selection_set, SCHEMA.query_type, None)
    return lines


def serve_name(name: str) -> bool:
    """Whether a requested file name is one the sandbox could have written."""
    return name.startswith("bulk-") and all(c.isalnum() or c == "-" for c in name)


def remove_files(folder: Path | None) -> None:
    for path in folder.glob("*.jsonl") if folder else ():
        path.unlink(missing_ok=True)

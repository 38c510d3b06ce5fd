"""The Shopify sandbox's executable schema: ``schema.graphql`` with resolvers over the shop's dicts.

The schema the plugin is validated against is the one served (loaded from
next to this module), so a field the plugin asks for and the sandbox lacks
fails in both places. Resolution is one field resolver: a record's key of the
field's name, else its ``_<field>`` link (a gid, or a list of them) followed
into the shop, shaped as a connection when the field's type is one; the
fields that need more (search, sorting, filters, computed values) are in
:data:`RESOLVERS`. Abstract types resolve by the gid's type.

Search queries (``orders(query:)`` ...) follow Shopify's syntax: terms joined
by spaces (AND) or ``OR``, ``field:value``, ``field:>value`` (also ``>=``,
``<``, ``<=``), values optionally quoted, ``-`` negates; a field the resource
does not know is ignored, as Shopify does; naive times are in the shop's
zone. Cursors are base64 of ``{"last_id", "last_value"}`` as Shopify's are.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    execute,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.execution.values import get_directive_values

from tramo_shopify.sandbox_catalogue import metafield_of, price_entry
from tramo_shopify.sandbox_records import (
    CENT,
    SHOP_TZ,
    UTC,
    Ctx,
    TopLevelError,
    digest,
    gid_number,
    gid_type,
    get,
    items_of,
    objects,
)

__all__ = ["SCHEMA", "connection", "error_code", "matches", "parse_search", "run"]

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
DEFAULT_FIRST = 10


# -- scalars --------------------------------------------------------------------------------


def moment_text(value: Any) -> str:
    """ISO 8601 in UTC with ``Z``, to the second."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def parse_moment(text: Any) -> datetime:
    """A client's date-time: with an offset or ``Z``; naive times are in the shop's zone."""
    if not isinstance(text, str):
        raise TypeError(f"DateTime cannot represent {text!r}")
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=SHOP_TZ)).astimezone(UTC)


def _amount_out(value: Any) -> str:
    return str(Decimal(str(value)).quantize(CENT))


def _amount_in(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise TypeError(f"Money cannot represent {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"Money cannot represent {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"Money cannot represent {value!r}")
    return amount


SCALARS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "DateTime": (moment_text, parse_moment),
    "Money": (_amount_out, _amount_in),
    "Decimal": (_amount_out, _amount_in),
    "UnsignedInt64": (lambda v: str(int(v)), lambda v: int(str(v))),
    "URL": (str, str),
    "HTML": (str, str),
}


def load_schema() -> GraphQLSchema:
    """schema.graphql, its custom scalars taught to (de)serialize (graphql-core 3.2 and 3.3)."""
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    for name, (out, into) in SCALARS.items():
        scalar = schema.type_map[name]
        for attribute, function in (("serialize", out), ("coerce_output_value", out),
                                    ("parse_value", into), ("coerce_input_value", into)):
            setattr(scalar, attribute, function)
        if hasattr(scalar, "coerce_input_literal"):
            scalar.coerce_input_literal = None
    return schema


SCHEMA = load_schema()
IDEMPOTENT = SCHEMA.get_directive("idempotent")


# -- search ---------------------------------------------------------------------------------

_TERM = re.compile(r"""(?P<neg>-)?(?:(?P<field>[A-Za-z_][\w.]*):(?P<op><=|>=|<|>|=)?)?"""
                   r"""(?P<value>"[^"]*"|'[^']*'|[^\s()]+)""")
Term = tuple[bool, str | None, str, str]
Handler = Callable[[Mapping[str, Any], str, str, Mapping[str, Any]], "bool | None"]


def parse_search(text: str | None) -> list[list[Term]]:
    """OR-groups of AND-ed terms ``(negated, field, operator, value)``."""
    groups: list[list[Term]] = [[]]
    for match in _TERM.finditer(text or ""):
        field, value = match["field"], match["value"]
        if field is None and value == "OR":
            groups.append([])
            continue
        if field is None and value in ("AND", "NOT"):
            continue
        if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
            value = value[1:-1]
        groups[-1].append((bool(match["neg"]), field and field.lower(), match["op"] or ":", value))
    return [group for group in groups if group]


def _compare(held: Any, op: str, wanted: Any) -> bool:
    return {":": held == wanted, "=": held == wanted, ">": held > wanted, ">=": held >= wanted,
            "<": held < wanted, "<=": held <= wanted}[op]


def moment_field(getter: Callable[[Mapping[str, Any]], Any]) -> Handler:
    """Dates compare as moments; a bare day is its start in the shop's zone (``:`` the day)."""
    def handle(record: Mapping[str, Any], op: str, value: str, data: Mapping[str, Any]) -> bool | None:
        held = getter(record)
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                start = datetime.combine(datetime.fromisoformat(value).date(), time(),
                                         SHOP_TZ).astimezone(UTC)
                if op in (":", "="):
                    return held is not None and start <= held < start + timedelta(days=1)
                wanted = start
            else:
                wanted = parse_moment(value)
        except (ValueError, TypeError):
            return None
        return held is not None and _compare(held, op, wanted)
    return handle


def text_field(getter: Callable[[Mapping[str, Any]], Any], *, exact: bool = False) -> Handler:
    """Any of the record's texts equals the value (ignoring case unless ``exact``; ``abc*`` a prefix)."""
    def handle(record: Mapping[str, Any], op: str, value: str, data: Mapping[str, Any]) -> bool:
        held = getter(record)
        texts = [t for t in (held if isinstance(held, (list, tuple)) else [held]) if t is not None]
        fold = (lambda t: str(t)) if exact else (lambda t: str(t).casefold())
        wanted = fold(value)
        if op in (":", "=") and wanted.endswith("*"):
            return any(fold(t).startswith(wanted[:-1]) for t in texts)
        return any(_compare(fold(t), op, wanted) for t in texts)
    return handle


def number_field(getter: Callable[[Mapping[str, Any]], Any]) -> Handler:
    def handle(record: Mapping[str, Any], op: str, value: str, data: Mapping[str, Any]) -> bool | None:
        try:
            wanted = Decimal(value)
        except InvalidOperation:
            return None
        held = getter(record)
        return held is not None and _compare(Decimal(held), op, wanted)
    return handle


def _order_status(record: Mapping[str, Any], op: str, value: str,
                  data: Mapping[str, Any]) -> bool | None:
    return {"open": not record["closed"], "not_closed": not record["closed"],
            "closed": record["closed"], "cancelled": record["cancelledAt"] is not None,
            "any": True}.get(value.lower())


def _skus(data_key: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda record: record.get(data_key, ())


def _legacy(record: Mapping[str, Any]) -> int | None:
    return gid_number(record.get("id"))


ORDER_SEARCH: dict[str, Handler] = {
    "updated_at": moment_field(lambda r: r["updatedAt"]),
    "created_at": moment_field(lambda r: r["createdAt"]),
    "processed_at": moment_field(lambda r: r["processedAt"]),
    "status": _order_status, "id": number_field(_legacy),
    "name": lambda r, op, v, d: r["name"].lstrip("#") == v.lstrip("#"),
    "financial_status": text_field(lambda r: r["displayFinancialStatus"]),
    "fulfillment_status": text_field(lambda r: r["displayFulfillmentStatus"]),
    "tag": text_field(lambda r: r["tags"]), "email": text_field(lambda r: r["email"]),
    "source_name": text_field(lambda r: r["sourceName"]),
    "sku": lambda r, op, v, d: v in [line["sku"] for line in items_of(d, r["_lineItems"])],
    "_text": lambda r, op, v, d: v.casefold() in f"{r['name']} {r['email'] or ''}".casefold(),
}
PRODUCT_SEARCH: dict[str, Handler] = {
    "updated_at": moment_field(lambda r: r["updatedAt"]),
    "created_at": moment_field(lambda r: r["createdAt"]),
    "status": lambda r, op, v, d: r["status"].casefold() in
    [s.strip().casefold() for s in v.split(",")],
    "handle": text_field(lambda r: r["handle"]), "title": text_field(lambda r: r["title"]),
    "vendor": text_field(lambda r: r["vendor"]),
    "product_type": text_field(lambda r: r["productType"]), "tag": text_field(lambda r: r["tags"]),
    "id": number_field(_legacy),
    "sku": lambda r, op, v, d: v in [x["sku"] for x in items_of(d, r["_variants"])],
    "barcode": lambda r, op, v, d: v in [x["barcode"] for x in items_of(d, r["_variants"])],
    "_text": lambda r, op, v, d: v.casefold() in r["title"].casefold(),
}
VARIANT_SEARCH: dict[str, Handler] = {
    "sku": text_field(lambda r: r["sku"], exact=True),
    "barcode": text_field(lambda r: r["barcode"], exact=True),
    "product_id": number_field(lambda r: gid_number(r["_product"])), "id": number_field(_legacy),
    "updated_at": moment_field(lambda r: r["updatedAt"]), "title": text_field(lambda r: r["title"]),
}
COLLECTION_SEARCH: dict[str, Handler] = {
    "handle": text_field(lambda r: r["handle"]), "title": text_field(lambda r: r["title"]),
    "id": number_field(_legacy), "updated_at": moment_field(lambda r: r["updatedAt"]),
}
PRICE_SEARCH: dict[str, Handler] = {
    "variant_id": number_field(lambda r: gid_number(r["_variant"])),
    "product_id": lambda r, op, v, d: str(gid_number((get(d, r["_variant"]) or {})
                                                     .get("_product"))) == v,
}
LOCATION_SEARCH: dict[str, Handler] = {"name": text_field(lambda r: r["name"]),
                                       "id": number_field(_legacy)}


def matches(record: Mapping[str, Any], groups: Sequence[Sequence[Term]],
            fields: Mapping[str, Handler], data: Mapping[str, Any]) -> bool:
    """Whether the record meets any OR-group (every term of it); unknown fields are ignored."""
    def term(negated: bool, field: str | None, op: str, value: str) -> bool:
        if field is not None and field.startswith("metafields."):
            _, namespace, key = (field.split(".", 2) + ["", ""])[:3]
            held = metafield_of(data, record, namespace, key) if "_metafields" in record else None
            found: bool | None = held is not None and held["value"] == value
        else:
            handler = fields.get(field or "_text")
            found = None if handler is None else handler(record, op, value, data)
        return True if found is None else found != negated

    return not groups or any(all(term(*t) for t in group) for group in groups)


# -- connections and cursors ------------------------------------------------------------------


def _cursor(key: tuple[Any, int]) -> str:
    raw = json.dumps({"last_id": key[1], "last_value": str(key[0])}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def _decode(cursor: str) -> tuple[int, str]:
    try:
        body = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(body["last_id"]), str(body["last_value"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}.",
                           extensions={"code": "BAD_REQUEST"}) from None


def _like(sample: Any, text: str) -> Any:
    """The cursor's text back as the type of the sort values (int, Decimal or text)."""
    try:
        return int(text) if isinstance(sample, int) else \
            Decimal(text) if isinstance(sample, Decimal) else text
    except (ValueError, InvalidOperation):
        raise GraphQLError("Invalid cursor for current pagination sort.",
                           extensions={"code": "BAD_REQUEST"}) from None


def connection(info: Any, items: Sequence[Any], args: Mapping[str, Any],
               key: Callable[[Any], Any] | None = None, reverse: bool = False) -> dict[str, Any]:
    """One page of ``items`` (already in order) as a connection.

    ``key`` gives a sort value: the cursor resumes after the (value, id) it
    names even when that record moved or went; without one the list's own
    order is the key (a page of a product's variants).
    """
    keys: list[tuple[Any, int]] = [
        ((key(item) if key else index), gid_number(item.get("id") or item.get("_variant")) or index)
        for index, item in enumerate(items)]
    start = 0
    if args.get("after") is not None and keys:
        last_id, text = _decode(args["after"])
        if key is None:
            start = next((i + 1 for i, k in enumerate(keys) if k[1] == last_id),
                         _like(0, text) + 1)
        else:
            mark = (_like(keys[0][0], text), last_id)
            start = next((i for i, k in enumerate(keys) if (k < mark if reverse else k > mark)),
                         len(keys))
    first = args.get("first")
    stop = len(keys) if info.context.bulk else start + max(
        DEFAULT_FIRST if first is None else first, 0)
    page = list(range(start, min(stop, len(keys))))
    cursors = [_cursor(keys[i]) for i in page]
    return {"edges": [{"cursor": c, "node": items[i]} for c, i in zip(cursors, page)],
            "nodes": [items[i] for i in page],
            "pageInfo": {"hasNextPage": stop < len(keys), "hasPreviousPage": start > 0,
                         "startCursor": cursors[0] if cursors else None,
                         "endCursor": cursors[-1] if cursors else None}}


SORTS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "ID": _legacy, "NUMBER": _legacy, "TITLE": lambda r: r["title"],
    "UPDATED_AT": lambda r: moment_text(r["updatedAt"]),
    "CREATED_AT": lambda r: moment_text(r["createdAt"]),
    "PROCESSED_AT": lambda r: moment_text(r["processedAt"]),
    "TOTAL_PRICE": lambda r: r["totalPriceSet"]["shopMoney"]["amount"],
}


def listing(info: Any, kind: str, args: Mapping[str, Any], fields: Mapping[str, Handler] | None,
            default_sort: str = "ID") -> dict[str, Any]:
    """A root connection: the shop's ``kind`` records filtered by ``query``, sorted, paged."""
    data = info.context.shop.data
    groups = parse_search(args.get("query")) if fields is not None else []
    found = [r for r in objects(data, kind) if matches(r, groups, fields or {}, data)]
    sort = SORTS[args.get("sortKey") or default_sort]
    reverse = bool(args.get("reverse"))
    found.sort(key=lambda r: (sort(r), _legacy(r)), reverse=reverse)
    return connection(info, found, args, sort, reverse)


# -- resolvers ------------------------------------------------------------------------------------


def _data(info: Any) -> dict[str, Any]:
    return info.context.shop.data  # type: ignore[no-any-return]


def _follow(data: Mapping[str, Any], link: Any) -> Any:
    if isinstance(link, str):
        return get(data, link)
    if isinstance(link, list):
        return [x for x in (get(data, i) if isinstance(i, str) else i for i in link) if x is not None]
    return link


def _shape(value: Any, info: Any, args: Mapping[str, Any]) -> Any:
    """A list becomes a connection when the field's type is one, or is cut at ``first``."""
    named = get_named_type(info.return_type)
    if isinstance(value, list) and named.name.endswith("Connection"):
        return connection(info, value, args)
    if isinstance(value, list) and is_list_type(get_nullable_type(info.return_type)) \
            and args.get("first") is not None and not info.context.bulk:
        return value[: max(args["first"], 0)]
    return value


def resolve(source: Any, info: Any, **args: Any) -> Any:
    """Every field: a custom resolver, the record's key, or its ``_<field>`` link."""
    custom = RESOLVERS.get(info.parent_type.name, {}).get(info.field_name)
    if custom is not None:
        return custom(source, info, **args)
    if not isinstance(source, Mapping):
        return getattr(source, info.field_name, None)
    name = info.field_name
    if name in source:
        return _shape(source[name], info, args)
    if "_" + name in source:
        return _shape(_follow(_data(info), source["_" + name]), info, args)
    return None


def resolve_type(value: Any, info: Any, abstract: Any) -> str | None:
    kind = gid_type(value.get("id")) if isinstance(value, Mapping) else None
    return kind if isinstance(info.schema.get_type(kind or ""), GraphQLObjectType) else None


def _node(info: Any, ident: Any, *kinds: str) -> dict[str, Any] | None:
    """Any stored object by gid (of ``kinds`` if given) whose type implements Node."""
    record = get(_data(info), ident, *kinds)
    kind = info.schema.get_type(gid_type(ident) or "")
    nodes = {i.name for i in getattr(kind, "interfaces", ())}
    return record if record is not None and "Node" in nodes else None


def _metafields(source: Mapping[str, Any], info: Any, first: int | None = None,
                after: str | None = None, namespace: str | None = None) -> dict[str, Any]:
    found = [m for m in items_of(_data(info), source.get("_metafields", {}).values())
             if namespace is None or m["namespace"] == namespace]
    return connection(info, found, {"first": first, "after": after})


def _metafield(source: Mapping[str, Any], info: Any, key: str,
               namespace: str | None = None) -> Any:
    return metafield_of(_data(info), source, namespace, key)


def _current_bulk(source: Any, info: Any, type: str = "QUERY") -> Any:
    found = [b for b in objects(_data(info), "BulkOperation") if b["type"] == type]
    return found[-1] if found else None


def _by_identifier(source: Any, info: Any, identifier: Mapping[str, Any]) -> Any:
    if identifier.get("id"):
        return _node(info, identifier["id"], "Collection")
    return next((c for c in objects(_data(info), "Collection")
                 if c["handle"] == identifier.get("handle")), None)


def _definitions(source: Any, info: Any, ownerType: str, namespace: str | None = None,
                 key: str | None = None, **args: Any) -> dict[str, Any]:
    found = [d for d in objects(_data(info), "MetafieldDefinition") if d["ownerType"] == ownerType
             and namespace in (None, d["namespace"]) and key in (None, d["key"])]
    return connection(info, found, args, _legacy)


def _options(source: Mapping[str, Any], info: Any, first: int | None = None) -> list[Any]:
    options = [{"id": o["id"], "name": o["name"], "position": i, "values": o["values"],
                "optionValues": [{"id": f"{o['id'].replace('ProductOption', 'ProductOptionValue')}"
                                        f"-{j}", "name": v} for j, v in enumerate(o["values"], 1)]}
               for i, o in enumerate(source["_options"], 1)]
    return options if first is None or info.context.bulk else options[:first]


def _quantities(source: Mapping[str, Any], info: Any, names: Iterable[str]) -> list[Any]:
    return [{"name": n, "quantity": source["_q"].get(n, 0), "updatedAt": source["updatedAt"]}
            for n in names]


def _level(source: Mapping[str, Any], info: Any, locationId: str) -> Any:
    ident = _data(info)["levels"].get((source["id"], locationId))
    return get(_data(info), ident) if ident else None


def _levels(source: Mapping[str, Any], info: Any, **args: Any) -> dict[str, Any]:
    data = _data(info)
    found = items_of(data, [data["levels"][(source["id"], loc["id"])]
                            for loc in objects(data, "Location")
                            if (source["id"], loc["id"]) in data["levels"]])
    return connection(info, found, args)


def _measurement(source: Mapping[str, Any], info: Any) -> dict[str, Any]:
    weight = source.get("_weight")
    return {"weight": None if weight is None else {"value": float(weight[0]), "unit": weight[1]}}


def _item_sku(source: Mapping[str, Any], info: Any) -> Any:
    return (get(_data(info), source["_variant"]) or {}).get("sku")


def _inventory_quantity(source: Mapping[str, Any], info: Any) -> int:
    data = _data(info)
    return sum(level["_q"]["available"] for loc in objects(data, "Location")
               if (level := get(data, data["levels"].get((source["_item"], loc["id"])))))


def _prices(source: Mapping[str, Any], info: Any, **args: Any) -> dict[str, Any]:
    data = _data(info)
    entries = [price_entry(source, v) for v in source["_prices"]]
    groups = parse_search(args.get("query"))
    found = sorted((e for e in entries if matches(e, groups, PRICE_SEARCH, data)),
                   key=lambda e: gid_number(e["_variant"]) or 0)
    return connection(info, found, args, lambda e: gid_number(e["_variant"]))


def _fulfillable(source: Mapping[str, Any], info: Any) -> int:
    data = _data(info)
    order = get(data, source["_order"]) or {"_fulfillmentOrders": []}
    return sum(line["remainingQuantity"] for fo in items_of(data, order["_fulfillmentOrders"])
               if fo["status"] in ("OPEN", "IN_PROGRESS")
               for line in items_of(data, fo["_lineItems"]) if line["_lineItem"] == source["id"])


def _changes(source: Mapping[str, Any], info: Any, inventoryItemIds: Any = None,
             locationIds: Any = None, quantityNames: Any = None) -> list[Any]:
    return [c for c in source["changes"]
            if (inventoryItemIds is None or c["_item"] in inventoryItemIds)
            and (locationIds is None or c["_location"] in locationIds)
            and (quantityNames is None or c["name"] in quantityNames)]


def _mutation(source: Any, info: Any, **args: Any) -> Any:
    """A mutation field: its rules get the request's context (and the @idempotent key)."""
    ctx: Ctx = info.context
    directive = get_directive_values(IDEMPOTENT, info.field_nodes[0], info.variable_values) \
        if IDEMPOTENT else None
    ctx.idempotency_key = directive.get("key") if directive else None
    try:
        return ctx.shop.mutations[info.field_name](ctx.shop, ctx, **args)
    except TopLevelError as error:
        raise GraphQLError(error.message, info.field_nodes,
                           extensions={"code": error.code}) from None


def _shop(source: Any, info: Any) -> dict[str, Any]:
    return info.context.shop.shop_record()


RESOLVERS: dict[str, dict[str, Callable[..., Any]]] = {
    "QueryRoot": {
        "shop": _shop,
        "node": lambda s, i, id: _node(i, id),
        "nodes": lambda s, i, ids: [_node(i, x) for x in ids],
        "order": lambda s, i, id: _node(i, id, "Order"),
        "product": lambda s, i, id: _node(i, id, "Product"),
        "priceList": lambda s, i, id: _node(i, id, "PriceList"),
        "job": lambda s, i, id: get(_data(i), id, "Job"),
        "orders": lambda s, i, **a: listing(i, "Order", a, ORDER_SEARCH, "PROCESSED_AT"),
        "products": lambda s, i, **a: listing(i, "Product", a, PRODUCT_SEARCH),
        "productVariants": lambda s, i, **a: listing(i, "ProductVariant", a, VARIANT_SEARCH),
        "collections": lambda s, i, **a: listing(i, "Collection", a, COLLECTION_SEARCH),
        "locations": lambda s, i, **a: listing(i, "Location", a, LOCATION_SEARCH),
        "priceLists": lambda s, i, **a: listing(i, "PriceList", a, None),
        "webhookSubscriptions": lambda s, i, **a: listing(i, "WebhookSubscription", a, None),
        "metafieldDefinitions": _definitions,
        "collectionByIdentifier": _by_identifier,
        "currentBulkOperation": _current_bulk,
    },
    "Mutation": {name: _mutation for name in SCHEMA.mutation_type.fields}  # type: ignore[union-attr]
    if SCHEMA.mutation_type else {},
    "Product": {"options": _options, "metafield": _metafield, "metafields": _metafields},
    "Order": {"metafield": _metafield, "metafields": _metafields},
    "ProductVariant": {"inventoryItem": lambda s, i: get(_data(i), s["_item"]),
                       "inventoryQuantity": _inventory_quantity,
                       # the variant's first media's image (Shopify's older field, still served)
                       "image": lambda s, i: next((m["image"] for m in items_of(
                           _data(i), s.get("_media", ())) if m.get("image")), None)},
    "InventoryItem": {"sku": _item_sku, "measurement": _measurement, "inventoryLevel": _level,
                      "inventoryLevels": _levels},
    "InventoryLevel": {"quantities": _quantities},
    "InventoryAdjustmentGroup": {"changes": _changes},
    "Metafield": {"compareDigest": lambda s, i: digest(s["value"])},
    "Collection": {"productsCount": lambda s, i: {"count": sum(
        s["id"] in p["_collections"] for p in objects(_data(i), "Product"))}},
    "PriceList": {"prices": _prices, "fixedPricesCount": lambda s, i: len(s["_prices"])},
    "LineItem": {"fulfillableQuantity": _fulfillable},
}


def run(ctx: Ctx, document: Any, variables: Mapping[str, Any] | None,
        operation_name: str | None) -> ExecutionResult:
    """Execute a validated document against the shop (the caller holds the shop's lock)."""
    result = execute(SCHEMA, document, context_value=ctx, variable_values=dict(variables or {}),
                     operation_name=operation_name, field_resolver=resolve,
                     type_resolver=resolve_type)
    assert isinstance(result, ExecutionResult)
    return result


#: graphql-core's validation messages -> the ``extensions.code`` Shopify gives them (the
#: sandbox's reading of Shopify's codes; anything else is ``invalidQuery``).
_CODES = (
    ("Cannot query field", "undefinedField"), ("Unknown argument", "argumentNotAccepted"),
    ("Unknown type", "undefinedType"), ("Unknown fragment", "undefinedFragment"),
    ("is never used", "variableNotUsed"), ("is not defined", "undefinedVariable"),
    ("is required, but it was not provided", "missingRequiredArguments"),
    ("must have a selection of subfields", "selectionMismatch"),
    ("must not have a selection", "selectionMismatch"),
    ("Unknown directive", "undefinedDirective"),
    ("cannot represent", "argumentLiteralsIncompatible"),
    ("Expected value of type", "argumentLiteralsIncompatible"),
    ("Variable \"", "variableMismatch"), ("Variable '", "variableMismatch"),
    ("Syntax Error", "syntaxError"),
)


def error_code(message: str) -> str:
    return next((code for text, code in _CODES if text in message), "invalidQuery")

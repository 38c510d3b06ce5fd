"""Catalogue, stock and prices: what the ERP keeps current in the shop.

Shopify knows a variant by its own ids, so each SKU's variant, inventory
item and product ids are remembered in the connection's state when a
product is sent (and looked up by SKU once for products tramo did not
create). Writes read first and skip what already holds the value, so
sending the same thing twice costs reads, not writes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import tramo
from tramo.model import Category, parents_first
from tramo.scalars import decimal, moment, money, text
from tramo.writes import write_each, write_together

from tramo_shopify import bulk, wire
from tramo_shopify.client import Shopify, api
from tramo_shopify import operations as ops

Json = dict[str, Any]
#: SKUs per ``productVariants`` search, ids per ``nodes`` read.
SEARCH_CHUNK = 50
#: quantities per inventorySetQuantities, prices per priceListFixedPricesAdd (Shopify's array limit)
WRITE_CHUNK = 250


# -- SKUs ------------------------------------------------------------------------------------


def _sku_key(sku: str) -> str:
    return f"shopify:sku:{sku}"


def remember(shopify: Shopify, product_id: str, variants: Iterable[Json]) -> None:
    for variant in variants:
        sku = text(variant.get("sku"))
        if sku:
            shopify.state.set(_sku_key(sku), {"variant": variant["id"], "product": product_id,
                                              "item": (variant.get("inventoryItem") or {}).get("id")})


def _quoted(sku: str) -> str:
    return '"' + sku.replace("\\", "\\\\").replace('"', '\\"') + '"'


def resolve(shopify: Shopify, skus: Iterable[str]) -> dict[str, Json]:
    """SKU -> {variant, item, product} ids: remembered, else searched (unknown SKUs left out)."""
    found: dict[str, Json] = {}
    missing = []
    for sku in dict.fromkeys(skus):
        known = shopify.state.get(_sku_key(sku))
        if known:
            found[sku] = known
        else:
            missing.append(sku)
    for start in range(0, len(missing), SEARCH_CHUNK):
        chunk = missing[start:start + SEARCH_CHUNK]
        data = shopify.run("VARIANTS_BY_SKU", {"first": wire.PAGE_MAX,
                                               "query": " OR ".join(f"sku:{_quoted(s)}" for s in chunk)})
        for node in (data.get("productVariants") or {}).get("nodes") or ():
            sku = text(node.get("sku"))
            if sku in chunk and sku not in found:
                remember(shopify, node["product"]["id"], [node])
                found[sku] = shopify.state.get(_sku_key(sku))
    return found


def _unknown(sku: str) -> tramo.PlatformError:
    return tramo.PlatformError(f"SKU {sku!r} is on no variant of this shop: send its product first",
                               code="unknown_sku")


# -- products ----------------------------------------------------------------------------------


def ensure_code_definition(shopify: Shopify) -> None:
    """The unique product metafield that holds the ERP's code: productSet upserts by it."""
    settings = shopify.connection.settings
    namespace, key = settings["code_namespace"], settings["code_key"]
    marker = f"shopify:code-definition:{namespace}.{key}"
    if shopify.state.get(marker):
        return
    found = shopify.run("CODE_DEFINITION", {"namespace": namespace, "key": key})
    nodes = (found.get("metafieldDefinitions") or {}).get("nodes") or []
    if nodes and not nodes[0]["capabilities"]["uniqueValues"]["enabled"]:
        raise tramo.ConfigurationError(
            f"the product metafield {namespace}.{key} exists without unique values; enable them in "
            f"Shopify (Settings > Custom data) or set code_namespace/code_key to another one")
    if not nodes:
        shopify.mutate("CODE_DEFINITION_CREATE", "metafieldDefinitionCreate", {"definition": {
            "name": "ERP product code (tramo)", "namespace": namespace, "key": key,
            "type": wire.CODE_TYPE, "ownerType": "PRODUCT",
            "capabilities": {"uniqueValues": {"enabled": True}}}})
    shopify.state.set(marker, True)


def send_products(connection: tramo.Connection, products: Sequence[tramo.Product]) -> list[tramo.WriteResult]:
    shopify = api(connection)
    settings = connection.settings
    namespace, key = settings["code_namespace"], settings["code_key"]
    bound = connection.binder("product")
    ready: list[bool] = []

    def body(product: tramo.Product) -> tuple[Json, Json]:
        collections = connection.binder("category").require(product.categories, "Product.categories")
        body, identifier = wire.product_set(product, collections, namespace, key)
        if product.categories:  # the first category's name is the product type Shopify filters by
            body["productType"] = shopify.state.get(f"shopify:category-name:{product.categories[0]}") or ""
        return body, identifier

    def send(product: tramo.Product, prepared: tuple[Json, Json]) -> tramo.WriteResult:
        if not ready:
            ensure_code_definition(shopify)
            ready.append(True)
        digest = hashlib.sha256(json.dumps(prepared, sort_keys=True).encode()).hexdigest()
        remote = bound.remote(product.code)
        if remote is not None and shopify.state.get(f"shopify:sent:{product.code}") == digest:
            return tramo.WriteResult(product.code, tramo.Outcome.UNCHANGED, remote_id=remote)
        input_, identifier = prepared
        # productSet with an identifier is an upsert: sending it twice cannot make two products.
        payload = shopify.mutate("PRODUCT_SET", "productSet", {"input": input_, "identifier": identifier},
                                 safe=True)
        made = payload.get("product") or {}
        if not made.get("id"):
            raise tramo.PlatformError(f"Shopify took product {product.code!r} but returned no product")
        bound.bind(product.code, made["id"])
        remember(shopify, made["id"], (made.get("variants") or {}).get("nodes") or ())
        shopify.state.set(f"shopify:sent:{product.code}", digest)
        outcome = tramo.Outcome.CREATED if remote is None else tramo.Outcome.UPDATED
        return tramo.WriteResult(product.code, outcome, remote_id=made["id"])

    return write_each(products, lambda p: p.code, body, send)


def receive_products(connection: tramo.Connection, since: Any) -> Iterator[tramo.Product | tramo.Held]:
    shopify = api(connection)
    settings = connection.settings
    start = _since(since, connection)
    zone = connection.timezone
    if start is None and settings["bulk_import"]:
        records = bulk.run(shopify, ops.bulk_products(settings["code_namespace"], settings["code_key"]))
    else:
        records = shopify.pages("PRODUCTS", "products", {
            "query": wire.orders_query(start), "codeNamespace": settings["code_namespace"],
            "codeKey": settings["code_key"]}, first=4)
    for node in records:
        try:
            yield wire.product_from_wire(_all_variants(shopify, node), zone)
        except tramo.ValidationError as exc:
            yield tramo.Held("product", exc, remote_id=text(node.get("id")) or None, raw=node)


def _all_variants(shopify: Shopify, node: Json) -> Json:
    """The product with every variant: a page read holds the first 20, the rest are asked for."""
    variants = node.get("variants") or {}
    info = variants.get("pageInfo") or {}
    if not info.get("hasNextPage"):
        return node
    nodes = list(variants.get("nodes") or ())
    nodes.extend(shopify.pages("PRODUCT_VARIANTS", "product.variants", {"id": node["id"]}, first=50,
                               after=info["endCursor"]))
    return {**node, "variants": {"nodes": nodes}}


def _since(since: Any, connection: tramo.Connection) -> datetime | None:
    if since is None or isinstance(since, datetime):
        return since
    return moment(since, connection.timezone, "since")


# -- categories --------------------------------------------------------------------------------


def _handle(prefix: str, category_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", category_id.lower()).strip("-") or "c"
    return f"{prefix}{slug}-{hashlib.sha1(category_id.encode()).hexdigest()[:6]}"


def map_categories(connection: tramo.Connection,
                   categories: Sequence[Category]) -> list[tramo.WriteResult]:
    """Each category is a manual collection (Shopify's are flat: the tree is not kept), found by
    a handle made from the ERP's id, else created."""
    shopify = api(connection)
    bound = connection.binder("category")
    prefix = connection.settings["collection_prefix"]
    order = {c.id: i for i, c in enumerate(categories)}
    results: dict[str, tramo.WriteResult] = {}

    def body(category: Category) -> str:
        if not category.name.strip():
            raise tramo.ValidationError("Category.name", category.name, "a collection needs a title")
        return _handle(prefix, category.id)

    def send(category: Category, handle: str) -> tramo.WriteResult:
        shopify.state.set(f"shopify:category-name:{category.id}", category.name)
        remote = bound.remote(category.id)
        if remote is not None:
            return tramo.WriteResult(category.id, tramo.Outcome.UNCHANGED, remote_id=remote)
        found = shopify.run("COLLECTION_BY_HANDLE", {"handle": handle}).get("collectionByIdentifier")
        outcome = tramo.Outcome.UNCHANGED
        if not found:
            found = shopify.mutate("COLLECTION_CREATE", "collectionCreate",
                                   {"input": {"title": category.name, "handle": handle}})["collection"]
            outcome = tramo.Outcome.CREATED
        bound.bind(category.id, found["id"])
        return tramo.WriteResult(category.id, outcome, remote_id=found["id"])

    ordered = parents_first(categories)
    for category, result in zip(ordered, write_each(ordered, lambda c: c.id, body, send)):
        results[category.id] = result
    return [results[c.id] for c in sorted(categories, key=lambda c: order[c.id])]


# -- stock -------------------------------------------------------------------------------------


def send_stock(connection: tramo.Connection, levels: Sequence[tramo.StockLevel]) -> list[tramo.WriteResult]:
    """Absolute quantities, compared with what Shopify holds now: a level Shopify changed between
    the read and the write (a sale) is reported, never overwritten."""
    shopify = api(connection)

    def body(level: tramo.StockLevel) -> tramo.StockLevel:
        if level.warehouse is not None:
            shopify.location(level.warehouse)  # ValidationError when the shop has no such location
        return level

    def send(pairs: list[tuple[tramo.StockLevel, tramo.StockLevel]]) -> list[tramo.WriteResult]:
        return _set_stock(shopify, [level for level, _ in pairs])

    return write_together(levels, lambda lv: lv.sku, body, send)


def _set_stock(shopify: Shopify, levels: list[tramo.StockLevel]) -> list[tramo.WriteResult]:
    results: list[tramo.WriteResult | None] = [None] * len(levels)
    items = resolve(shopify, [lv.sku for lv in levels])
    by_location: dict[str, list[int]] = {}
    for index, level in enumerate(levels):
        if level.sku not in items or not items[level.sku].get("item"):
            results[index] = tramo.WriteResult.failed(level.sku, _unknown(level.sku))
            continue
        by_location.setdefault(shopify.location(level.warehouse), []).append(index)
    for location, indexes in by_location.items():
        held = _quantities(shopify, location, [items[levels[i].sku]["item"] for i in indexes])
        rows = []
        for index in indexes:
            level = levels[index]
            item = items[level.sku]["item"]
            if held.get(item) == level.quantity:
                results[index] = tramo.WriteResult(level.sku, tramo.Outcome.UNCHANGED, remote_id=item)
            else:
                rows.append((index, item, held.get(item)))
        for start in range(0, len(rows), WRITE_CHUNK):
            for index, result in _write_quantities(shopify, location, levels, rows[start:start + WRITE_CHUNK]):
                results[index] = result
    return [r for r in results if r is not None]


def _quantities(shopify: Shopify, location: str, items: list[str]) -> dict[str, int | None]:
    """Available quantity per inventory item at ``location`` (None: not stocked there)."""
    held: dict[str, int | None] = {}
    for start in range(0, len(items), wire.PAGE_MAX):
        data = shopify.run("INVENTORY_LEVELS", {"ids": items[start:start + wire.PAGE_MAX],
                                                "locationId": location})
        for node in data.get("nodes") or ():
            if not node:
                continue
            level = node.get("inventoryLevel") or {}
            quantities = {q["name"]: q["quantity"] for q in level.get("quantities") or ()}
            held[node["id"]] = quantities.get("available")
    return held


def _write_quantities(shopify: Shopify, location: str, levels: list[tramo.StockLevel],
                      rows: list[tuple[int, str, int | None]]) -> Iterator[tuple[int, tramo.WriteResult]]:
    """One inventorySetQuantities (all or nothing on Shopify); rows it refuses fail, the rest go
    once more without them."""
    compare = "changeFromQuantity" if shopify.idempotency_required else "compareQuantity"
    reference = f"tramo://stock/{datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    for _ in range(2):
        if not rows:
            return
        input_ = wire.stock_input([(item, location, levels[i].quantity, believed)
                                   for i, item, believed in rows], location, reference, compare)
        if shopify.idempotency_known:
            # the key makes a retry of a lost answer safe: Shopify answers it without applying it again
            payload = shopify.run("INVENTORY_SET", {"input": input_, "idempotencyKey": shopify.idempotency_key()})
        else:
            # compareQuantity makes a repeat fail as stale rather than apply twice
            payload = shopify.run("INVENTORY_SET_PLAIN", {"input": input_})
        payload = payload.get("inventorySetQuantities") or {}
        errors = payload.get("userErrors") or []
        if not errors:
            for index, item, _ in rows:
                yield index, tramo.WriteResult(levels[index].sku, tramo.Outcome.UPDATED, remote_id=item)
            return
        refused: dict[int, str] = {}
        for error in errors:
            path = error.get("field") or []
            if len(path) >= 3 and path[:2] == ["input", "quantities"] and str(path[2]).isdigit():
                refused[int(path[2])] = f"{error.get('code') or ''} {error.get('message')}".strip()
        if not refused:
            error = tramo.PlatformError("Shopify refused the stock update", code=errors[0].get("code"),
                                        causes=[text(e.get("message")) for e in errors])
            for index, _, _ in rows:
                yield index, tramo.WriteResult.failed(levels[index].sku, error)
            return
        kept = []
        for position, row in enumerate(rows):
            if position in refused:
                stale = "STALE" in refused[position]
                yield row[0], tramo.WriteResult.failed(levels[row[0]].sku, tramo.PlatformError(
                    f"stock of {levels[row[0]].sku!r} " + (
                        "changed on Shopify after it was read (a sale?); not overwritten, send it again"
                        if stale else "refused"), code="stale" if stale else None,
                    causes=[refused[position]]))
            else:
                kept.append(row)
        rows = kept
    for index, _, _ in rows:
        yield index, tramo.WriteResult.failed(levels[index].sku, tramo.PlatformError(
            "Shopify refused the stock update twice", code="refused"))


# -- prices ------------------------------------------------------------------------------------


def _check_price(connection: tramo.Connection, price: tramo.Price) -> tramo.Price:
    if price.promotional_price is not None:
        raise tramo.ValidationError("Price.promotional_price", price.promotional_price,
                                    "Shopify keeps no scheduled promotion: send it as sale_price while "
                                    "it runs")
    if price.sale_price is not None and price.sale_price > price.list_price:
        raise tramo.ValidationError("Price.sale_price", price.sale_price,
                                    "is above the list price; Shopify strikes out only a higher one")
    target = price.price_list or price.company or price.segment
    if target is None and price.currency != connection.settings["currency"]:
        raise tramo.ValidationError("Price.currency", price.currency,
                                    f"the shop sells in {connection.settings['currency']}; other "
                                    f"currencies go to a price list")
    return price


def send_prices(connection: tramo.Connection, prices: Sequence[tramo.Price]) -> list[tramo.WriteResult]:
    """Base prices on the variants; a price list's (or company's, or segment's) in the price list of
    that name."""
    shopify = api(connection)

    def send(pairs: list[tuple[tramo.Price, tramo.Price]]) -> list[tramo.WriteResult]:
        chosen = [price for price, _ in pairs]
        results: list[tramo.WriteResult | None] = [None] * len(chosen)
        variants = resolve(shopify, [p.sku for p in chosen])
        base, listed = [], {}
        for index, price in enumerate(chosen):
            if price.sku not in variants:
                results[index] = tramo.WriteResult.failed(price.sku, _unknown(price.sku))
                continue
            target = price.price_list or price.company or price.segment
            if target is None:
                base.append(index)
            else:
                listed.setdefault(target, []).append(index)
        for index, result in _base_prices(shopify, chosen, base, variants):
            results[index] = result
        for target, indexes in listed.items():
            for index, result in _list_prices(shopify, target, chosen, indexes, variants):
                results[index] = result
        return [r for r in results if r is not None]

    return write_together(prices, lambda p: p.sku, lambda p: _check_price(connection, p), send)


def _base_prices(shopify: Shopify, prices: list[tramo.Price], indexes: list[int],
                 variants: dict[str, Json]) -> Iterator[tuple[int, tramo.WriteResult]]:
    now = datetime.now(timezone.utc)
    ids = [variants[prices[i].sku]["variant"] for i in indexes]
    held = {}
    for start in range(0, len(ids), wire.PAGE_MAX):
        for node in shopify.run("VARIANT_PRICES", {"ids": ids[start:start + wire.PAGE_MAX]}).get("nodes") or ():
            if node:
                held[node["id"]] = (decimal(node.get("price"), "price"),
                                    decimal(node.get("compareAtPrice"), "compareAtPrice"))
    by_product: dict[str, list[tuple[int, Json]]] = {}
    for index in indexes:
        price = prices[index]
        variant = variants[price.sku]
        paying, struck = wire.selling_price(price, now)
        if held.get(variant["variant"]) == (paying, struck):
            yield index, tramo.WriteResult(price.sku, tramo.Outcome.UNCHANGED, remote_id=variant["variant"])
            continue
        by_product.setdefault(variant["product"], []).append((index, {
            "id": variant["variant"], "price": money(paying),
            "compareAtPrice": money(struck) if struck is not None else None}))
    for product, entries in by_product.items():
        try:
            shopify.mutate("VARIANTS_BULK_UPDATE", "productVariantsBulkUpdate",
                           {"productId": product, "variants": [e for _, e in entries]}, safe=True)
        except tramo.TramoError as exc:
            for index, _ in entries:
                yield index, tramo.WriteResult.failed(prices[index].sku, exc)
            continue
        for index, entry in entries:
            yield index, tramo.WriteResult(prices[index].sku, tramo.Outcome.UPDATED, remote_id=entry["id"])


def _price_list(shopify: Shopify, name: str) -> Json | None:
    lists = shopify.connection.resource("shopify-price-lists", lambda: list(
        shopify.pages("PRICE_LISTS", "priceLists", {}, first=50)))
    return next((p for p in lists if p["id"] == name or p["name"].casefold() == name.casefold()), None)


def _list_prices(shopify: Shopify, target: str, prices: list[tramo.Price], indexes: list[int],
                 variants: dict[str, Json]) -> Iterator[tuple[int, tramo.WriteResult]]:
    found = _price_list(shopify, target)
    if found is None:
        error = tramo.ValidationError("Price.price_list", target, "names no price list of this shop "
                                      "(Markets and B2B catalogs make them)")
        for index in indexes:
            yield index, tramo.WriteResult.failed(prices[index].sku, error)
        return
    now = datetime.now(timezone.utc)
    held: dict[str, tuple[Any, Any]] = {}
    legacy = [wire.legacy_id(variants[prices[i].sku]["variant"]) for i in indexes]
    for start in range(0, len(legacy), SEARCH_CHUNK):
        query = " OR ".join(f"variant_id:{n}" for n in legacy[start:start + SEARCH_CHUNK])
        data = shopify.run("PRICE_LIST_PRICES", {"id": found["id"], "query": query})
        for node in ((data.get("priceList") or {}).get("prices") or {}).get("nodes") or ():
            held[node["variant"]["id"]] = (wire.amount(node.get("price"), "price"),
                                           wire.amount(node.get("compareAtPrice"), "compareAtPrice"))
    entries = []
    for index in indexes:
        price = prices[index]
        variant = variants[price.sku]["variant"]
        if price.currency != found["currency"]:
            yield index, tramo.WriteResult.failed(price.sku, tramo.ValidationError(
                "Price.currency", price.currency, f"price list {found['name']!r} is in {found['currency']}"))
            continue
        paying, struck = wire.selling_price(price, now)
        if held.get(variant) == (paying, struck):
            yield index, tramo.WriteResult(price.sku, tramo.Outcome.UNCHANGED, remote_id=variant)
            continue
        entry: Json = {"variantId": variant, "price": {"amount": money(paying), "currencyCode": price.currency}}
        if struck is not None:
            entry["compareAtPrice"] = {"amount": money(struck), "currencyCode": price.currency}
        entries.append((index, entry))
    for start in range(0, len(entries), WRITE_CHUNK):
        chunk = entries[start:start + WRITE_CHUNK]
        try:
            shopify.mutate("PRICE_LIST_ADD", "priceListFixedPricesAdd",
                           {"priceListId": found["id"], "prices": [e for _, e in chunk]}, safe=True)
        except tramo.TramoError as exc:
            for index, _ in chunk:
                yield index, tramo.WriteResult.failed(prices[index].sku, exc)
            continue
        for index, entry in chunk:
            yield index, tramo.WriteResult(prices[index].sku, tramo.Outcome.UPDATED,
                                           remote_id=entry["variantId"])

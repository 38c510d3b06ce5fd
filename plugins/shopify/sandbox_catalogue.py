"""The Shopify sandbox's catalogue: products, media, stock, prices, collections, metafields.

Mutations are plain functions ``(shop, ctx, **arguments) -> payload``
(``shop`` is the sandbox: ``data``, ``lock``, ``emit``, ``later``), listed in
:data:`tramo_shopify.sandbox_store.MUTATIONS`; userErrors are collected
before anything is written (all-or-nothing). A productSet is planned whole,
as the state the product must end in, and committed only when that differs
from what is held, so a set that changes nothing writes nothing. Error codes
Shopify's record does not give are the sandbox's choices, named where raised.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tramo_shopify.sandbox_records import (
    Ctx,
    TopLevelError,
    UserErrors,
    digest,
    drop,
    get,
    gid_type,
    items_of,
    money,
    new_id,
    objects,
    put,
    tick,
)

__all__ = [
    "IDEMPOTENT_FROM", "collection_create", "inventory_set_quantities", "level_of",
    "metafield_definition_create", "metafield_of", "metafields_set", "move_stock", "price_entry",
    "price_list_fixed_prices_add", "product_set", "variants_bulk_update",
]

APP_NAMESPACE = "$app"
MAX_OPTIONS, MAX_VARIANTS = 3, 2048
METAFIELD_TYPES = frozenset({"single_line_text_field", "multi_line_text_field", "number_integer",
                             "number_decimal", "date_time", "date", "url", "json", "boolean"})
UNIQUE_TYPES = frozenset({"single_line_text_field", "number_integer", "number_decimal", "url"})


# -- metafields -----------------------------------------------------------------------------


def metafield_of(data: Mapping[str, Any], owner: Mapping[str, Any], namespace: str | None,
                 key: str) -> dict[str, Any] | None:
    ident = owner.get("_metafields", {}).get((namespace or APP_NAMESPACE, key))
    return get(data, ident) if ident else None


def value_error(kind: str, value: str) -> str | None:
    """Why ``value`` is not a valid ``kind`` metafield value, or None."""
    try:
        if kind == "single_line_text_field" and ("\n" in value or "\r" in value):
            return "Value must be a single line of text."
        if kind == "number_integer" and not re.fullmatch(r"[+-]?\d+", value.strip()):
            return "Value must be an integer."
        if kind == "number_decimal":
            number = Decimal(value.strip())
            if not number.is_finite():
                return "Value must be a decimal."
        if kind == "date_time":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind == "date":
            date.fromisoformat(value)
        if kind == "url" and not re.fullmatch(r"https?://\S+", value):
            return "Value must be an http(s) URL."
        if kind == "json":
            json.loads(value)
        if kind == "boolean" and value not in ("true", "false"):
            return "Value must be true or false."
    except (ValueError, InvalidOperation):
        return f"Value is invalid for type {kind}."
    return None


def definition_of(data: Mapping[str, Any], owner_type: str, namespace: str | None,
                  key: str) -> dict[str, Any] | None:
    return next((d for d in objects(data, "MetafieldDefinition")
                 if (d["ownerType"], d["namespace"], d["key"]) ==
                 (owner_type, namespace or APP_NAMESPACE, key)), None)


def write_metafield(data: dict[str, Any], owner: dict[str, Any], namespace: str, key: str,
                    kind: str, value: str, now: datetime) -> dict[str, Any]:
    """Create or update a metafield (the caller checked it and knows it changes)."""
    record = metafield_of(data, owner, namespace, key)
    if record is None:
        ident, _ = new_id(data, "Metafield")
        record = put(data, {"id": ident, "namespace": namespace, "key": key, "createdAt": now,
                            "_owner": owner["id"]})
        owner.setdefault("_metafields", {})[(namespace, key)] = ident
    record.update(type=kind, value=value, updatedAt=now)
    return record


def unique_holder(data: Mapping[str, Any], owner_type: str, namespace: str, key: str,
                  value: str) -> str | None:
    """The owner that holds ``value`` under a unique-values definition, if any."""
    kind = {"PRODUCT": "Product", "PRODUCTVARIANT": "ProductVariant", "ORDER": "Order",
            "COLLECTION": "Collection", "CUSTOMER": "Customer"}[owner_type]
    for owner in objects(data, kind):
        held = metafield_of(data, owner, namespace, key)
        if held is not None and held["value"] == value:
            return str(owner["id"])
    return None


def is_unique(data: Mapping[str, Any], owner_type: str, namespace: str, key: str) -> bool:
    definition = definition_of(data, owner_type, namespace, key)
    return bool(definition and definition["capabilities"]["uniqueValues"]["enabled"])


# -- inventory --------------------------------------------------------------------------------

QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", "reserved", "damaged",
                  "safety_stock", "quality_control")


def new_item(data: dict[str, Any], variant: str, now: datetime) -> dict[str, Any]:
    """An inventory item stocked at every location, with nothing in stock."""
    ident, n = new_id(data, "InventoryItem")
    item = put(data, {"id": ident, "legacyResourceId": n, "tracked": True, "_weight": None,
                      "_variant": variant})
    for location in objects(data, "Location"):
        level_id, _ = new_id(data, "InventoryLevel")
        put(data, {"id": level_id, "_item": ident, "_location": location["id"], "updatedAt": now,
                   "_q": dict.fromkeys(QUANTITY_NAMES, 0)})
        data["levels"][(ident, location["id"])] = level_id
    return item


def level_of(data: Mapping[str, Any], item: str, location: str) -> dict[str, Any] | None:
    ident = data["levels"].get((item, location))
    return get(data, ident) if ident else None


def move_stock(data: dict[str, Any], variant: Mapping[str, Any] | None, location: str,
               now: datetime, **deltas: int) -> None:
    """Add ``deltas`` (available=-2, committed=2, ...) to a variant's level at ``location``."""
    if variant is None:
        return
    level = level_of(data, variant["_item"], location)
    if level is None:
        return
    for name, delta in deltas.items():
        level["_q"][name] += delta
    level["updatedAt"] = now


def drop_variant(data: dict[str, Any], variant: Mapping[str, Any]) -> None:
    """A variant goes with its inventory item, its levels and its fixed prices."""
    item = variant["_item"]
    for location in objects(data, "Location"):
        ident = data["levels"].pop((item, location["id"]), None)
        if ident:
            drop(data, ident)
    drop(data, item)
    for price_list in objects(data, "PriceList"):
        price_list["_prices"].pop(variant["id"], None)
    for ident in variant.get("_metafields", {}).values():
        drop(data, ident)
    drop(data, variant["id"])


# -- handles ------------------------------------------------------------------------------------


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "item"


def free_handle(taken: set[str], title: str) -> str:
    """The title's slug, or the slug with -1, -2, ... when it is taken."""
    base = slug(title)
    handle, n = base, 0
    while handle in taken:
        n += 1
        handle = f"{base}-{n}"
    return handle


# -- productSet -------------------------------------------------------------------------------

PRODUCT_FIELDS = ("title", "handle", "descriptionHtml", "vendor", "productType", "status", "tags")
NEW_PRODUCT = {"title": None, "handle": None, "descriptionHtml": "", "vendor": "",
               "productType": "", "status": "ACTIVE", "tags": []}
NEW_VARIANT = {"id": None, "sku": None, "barcode": None, "price": Decimal("0.00"),
               "compareAtPrice": None, "price_set": False, "weight": None, "tracked": True,
               "file": None}
DEFAULT_OPTION = ("Title", ("Default Title",))


def variant_state(data: Mapping[str, Any], variant: Mapping[str, Any]) -> dict[str, Any]:
    """What a productSet can change of a variant, comparable with ``==``."""
    item = get(data, variant["_item"]) or {}
    media = items_of(data, variant.get("_media", ()))
    return {"id": variant["id"], "options": tuple(o["value"] for o in variant["selectedOptions"]),
            "sku": variant["sku"], "barcode": variant["barcode"], "price": variant["price"],
            "compareAtPrice": variant["compareAtPrice"], "price_set": variant["_price_set"],
            "weight": item.get("_weight"), "tracked": item.get("tracked", True),
            "file": media[0]["_source"] if media else None}


def product_state(data: Mapping[str, Any], product: Mapping[str, Any]) -> dict[str, Any]:
    """What a productSet can change of a product (an unchanged set must leave it untouched)."""
    return {
        "fields": {name: product[name] for name in PRODUCT_FIELDS},
        "options": [(o["name"], tuple(o["values"])) for o in product["_options"]],
        "variants": [variant_state(data, v) for v in items_of(data, product["_variants"])],
        "media": [{"id": m["id"], "source": m["_source"], "alt": m["alt"],
                   "from_files": m["_from_files"]} for m in items_of(data, product["_media"])],
        "metafields": {(m["namespace"], m["key"]): (m["type"], m["value"])
                       for m in items_of(data, product["_metafields"].values())},
        "collections": list(product["_collections"]),
    }


def _url(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"https?://\S+", value) is not None


def _find(data: Mapping[str, Any], identifier: Mapping[str, Any] | None, errors: UserErrors
          ) -> tuple[dict[str, Any] | None, tuple[str, str, str, str] | None, str | None]:
    """(the product the identifier names, the customId to set, a handle to create with)."""
    if not identifier:
        return None, None, None
    if identifier.get("id"):
        product = get(data, identifier["id"], "Product")
        if product is None:
            errors.add(["identifier", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return product, None, None
    if identifier.get("handle"):
        handle = identifier["handle"]
        return next((p for p in objects(data, "Product") if p["handle"] == handle), None), None, \
            handle
    custom = identifier.get("customId")
    if not custom:
        return None, None, None
    namespace, key, value = custom.get("namespace") or APP_NAMESPACE, custom["key"], custom["value"]
    definition = definition_of(data, "PRODUCT", namespace, key)
    if not (definition and definition["capabilities"]["uniqueValues"]["enabled"]):
        errors.add(["identifier", "customId"],
                   f"The metafield {namespace}.{key} has no metafield definition with unique "
                   "values.", "INVALID_INPUT")
        return None, None, None
    holder = unique_holder(data, "PRODUCT", namespace, key, value)
    return (get(data, holder) if holder else None), \
        (namespace, key, definition["type"]["name"], value), None


def _options(given: list[Mapping[str, Any]], errors: UserErrors) -> list[tuple[str, tuple[str, ...]]]:
    if len(given) > MAX_OPTIONS:
        errors.add(["input", "productOptions"], f"Products can't have more than {MAX_OPTIONS} "
                   "options.", "OPTIONS_OVER_LIMIT")
    if all(o.get("position") is not None for o in given):
        given = sorted(given, key=lambda o: o["position"])
    options: list[tuple[str, tuple[str, ...]]] = []
    for j, option in enumerate(given):
        path = ["input", "productOptions", j]
        name = (option.get("name") or "").strip()
        values = tuple(str(v.get("name") or "") for v in option.get("values") or ())
        if not name:
            errors.add([*path, "name"], "Option name can't be blank", "BLANK")
        elif name in {n for n, _ in options}:
            errors.add([*path, "name"], f"Duplicated option name '{name}'.",
                       "DUPLICATED_OPTION_NAME")
        if not values or not all(v.strip() for v in values):
            errors.add([*path, "values"], "Option values can't be blank", "BLANK")
        elif len(set(values)) != len(values):
            errors.add([*path, "values"], "Duplicated option value.", "DUPLICATED_OPTION_VALUE")
        options.append((name, values))
    return options


def _variant(data: Mapping[str, Any], given: Mapping[str, Any], path: list[Any],
             state: dict[str, Any], errors: UserErrors) -> None:
    """Apply one ProductVariantSetInput's fields to ``state`` (omitted ones stay)."""
    item = given.get("inventoryItem") or {}
    if "sku" in given:
        state["sku"] = given["sku"]
    if "sku" in item:
        if "sku" in given and given["sku"] != item["sku"]:
            errors.add([*path, "inventoryItem", "sku"], "The variant's sku and its inventory "
                       "item's sku differ.", "INVALID_VARIANT")
        state["sku"] = item["sku"]
    if item.get("tracked") is not None:
        state["tracked"] = bool(item["tracked"])
    weight = (item.get("measurement") or {}).get("weight")
    if weight:
        value = Decimal(str(weight["value"]))
        if value < 0:
            errors.add([*path, "inventoryItem", "measurement", "weight"],
                       "Weight must be greater than or equal to 0", "INVALID_VARIANT")
        state["weight"] = (value, weight["unit"])
    if "barcode" in given:
        state["barcode"] = given["barcode"]
    for name in ("price", "compareAtPrice"):
        if name not in given:
            continue
        if given[name] is None:
            if name == "price":
                errors.add([*path, name], "Price can't be blank", "INVALID_VARIANT")
            else:
                state[name] = None
            continue
        try:
            amount = money(given[name])
        except ValueError:
            amount = Decimal(-1)
        if amount < 0:
            errors.add([*path, name], f"{'Price' if name == 'price' else 'Compare at price'} "
                       "must be greater than or equal to 0", "INVALID_VARIANT")
        state[name] = amount
        state["price_set"] = state["price_set"] or name == "price"
    file = given.get("file")
    if file:
        if not _url(file.get("originalSource")):
            errors.add([*path, "file", "originalSource"], "Original source is not a valid URL.",
                       "INVALID_INPUT")
        state["file"] = file.get("originalSource")


def _variants(data: Mapping[str, Any], product: Mapping[str, Any] | None,
              options: list[tuple[str, tuple[str, ...]]], given: list[Mapping[str, Any]],
              errors: UserErrors) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(state, extras) per variant: matched by id or by the same option values, else new."""
    if len(given) > MAX_VARIANTS:
        errors.add(["input", "variants"], f"Products can't have more than {MAX_VARIANTS} "
                   "variants.", "VARIANTS_OVER_LIMIT")
    if not given:
        errors.add(["input", "variants"], "A product needs at least one variant.", "INVALID_INPUT")
    names = [name for name, _ in options]
    allowed = dict(options)
    existing = {v["id"]: v for v in items_of(data, product["_variants"])} if product else {}
    by_combo = {tuple({o["name"]: o["value"] for o in v["selectedOptions"]}.get(n) for n in names):
                ident for ident, v in existing.items()}
    used = {v["id"] for v in given if v.get("id") in existing}  # named ones are not re-matched
    combos: set[tuple[Any, ...]] = set()
    planned: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for i, variant in enumerate(given):
        path: list[Any] = ["input", "variants", i]
        before = len(errors)
        values: dict[str, str] = {}
        for j, chosen in enumerate(variant.get("optionValues") or ()):
            option, value = chosen.get("optionName"), chosen.get("name")
            if option not in allowed:
                errors.add([*path, "optionValues", j, "optionName"],
                           f"Option '{option}' does not exist.", "OPTION_DOES_NOT_EXIST")
            elif option in values:
                errors.add([*path, "optionValues", j, "optionName"],
                           f"Option '{option}' is given twice.", "INVALID_VARIANT")
            elif value not in allowed[option]:
                errors.add([*path, "optionValues", j, "name"], f"Option value '{value}' does "
                           f"not exist on option '{option}'.", "OPTION_VALUE_DOES_NOT_EXIST")
            else:
                values[option] = value
        combo = tuple(values.get(n) for n in names)
        if len(errors) == before and len(values) != len(names):
            errors.add([*path, "optionValues"], "The variant needs a value for every option "
                       f"(missing: {', '.join(n for n in names if n not in values)}).",
                       "INVALID_VARIANT")
        elif len(errors) == before and combo in combos:
            errors.add([*path, "optionValues"], f"The variant '{' / '.join(map(str, combo))}' "
                       "already exists.", "DUPLICATE_VARIANT")
        combos.add(combo)
        match = None
        if variant.get("id"):
            match = existing.get(variant["id"])
            if match is None:
                errors.add([*path, "id"], "Product variant does not exist",
                           "PRODUCT_VARIANT_DOES_NOT_EXIST")
        elif by_combo.get(combo) and by_combo[combo] not in used:
            match = existing[by_combo[combo]]
        if match is not None:
            used.add(match["id"])
        if match is not None and any(s["id"] == match["id"] for s, _ in planned):
            errors.add([*path, "id"], "The variant is given twice.", "INVALID_VARIANT")
        state = variant_state(data, match) if match is not None else dict(NEW_VARIANT)
        state["options"] = combo
        _variant(data, variant, path, state, errors)
        extras = {"alt": (variant.get("file") or {}).get("alt"), "stock": []}
        for j, level in enumerate(variant.get("inventoryQuantities") or ()):
            if get(data, level["locationId"], "Location") is None:
                errors.add([*path, "inventoryQuantities", j, "locationId"],
                           "The location does not exist.", "INVALID_INPUT")
            elif level["name"] not in ("available", "on_hand"):
                errors.add([*path, "inventoryQuantities", j, "name"],
                           "The quantity name must be 'available' or 'on_hand'.", "INVALID_INPUT")
            else:
                extras["stock"].append(level)
        planned.append((state, extras))
    return planned


def _media(data: Mapping[str, Any], current: list[dict[str, Any]],
           files: list[Mapping[str, Any]] | None,
           variants: list[tuple[dict[str, Any], dict[str, Any]]], errors: UserErrors
           ) -> list[dict[str, Any]]:
    """The product's media after the set: the files list (kept by source), then variant files."""
    known = {m["source"]: m for m in current}
    if files is None:
        media = [dict(m) for m in current]
    else:
        media = []
        for k, file in enumerate(files):
            source = file.get("originalSource")
            if not _url(source):
                errors.add(["input", "files", k, "originalSource"],
                           "Original source is not a valid URL.", "INVALID_INPUT")
                continue
            if any(m["source"] == source for m in media):
                continue
            was = known.get(source)
            alt = file["alt"] if "alt" in file else (was["alt"] if was else None)
            media.append({"id": was["id"] if was else None, "source": source, "alt": alt,
                          "from_files": True})
    for state, extras in variants:
        source = state["file"]
        if source and not any(m["source"] == source for m in media):
            was = known.get(source)
            media.append({"id": was["id"] if was else None, "source": source,
                          "alt": extras["alt"] if extras["alt"] is not None else
                          (was["alt"] if was else None), "from_files": False})
    return media


def _metafields(data: Mapping[str, Any], product: Mapping[str, Any] | None,
                current: dict[tuple[str, str], tuple[str, str]],
                given: list[Mapping[str, Any]] | None,
                custom: tuple[str, str, str, str] | None, errors: UserErrors
                ) -> dict[tuple[str, str], tuple[str, str]]:
    wanted = dict(current)
    if given is not None:
        wanted = {}
        for k, metafield in enumerate(given):
            path = ["input", "metafields", k]
            namespace, key = metafield.get("namespace") or APP_NAMESPACE, metafield.get("key")
            value = metafield.get("value")
            if not key:
                errors.add([*path, "key"], "Key can't be blank", "INVALID_METAFIELD")
                continue
            if value is None:
                errors.add([*path, "value"], "Value can't be blank", "INVALID_METAFIELD")
                continue
            definition = definition_of(data, "PRODUCT", namespace, key)
            kind = metafield.get("type") or (definition["type"]["name"] if definition else
                                             current.get((namespace, key), (None, ""))[0])
            problem = ("Type can't be blank" if kind is None else
                       f"Type '{kind}' is not a metafield type" if kind not in METAFIELD_TYPES else
                       "Type doesn't match the metafield definition's type"
                       if definition and kind != definition["type"]["name"] else None)
            if problem:
                errors.add([*path, "type"], problem, "INVALID_METAFIELD")
                continue
            invalid = value_error(kind, value)
            if invalid:
                errors.add([*path, "value"], invalid, "INVALID_METAFIELD")
                continue
            wanted[(namespace, key)] = (kind, value)
    if custom is not None:
        namespace, key, kind, value = custom
        wanted[(namespace, key)] = (kind, value)
    for (namespace, key), (_, value) in wanted.items():
        if is_unique(data, "PRODUCT", namespace, key):
            holder = unique_holder(data, "PRODUCT", namespace, key, value)
            if holder is not None and (product is None or holder != product["id"]):
                errors.add(["input", "metafields"], f"Value '{value}' of {namespace}.{key} is "
                           "already taken by another product.", "TAKEN")
    return wanted


def plan_product(data: Mapping[str, Any], given: Mapping[str, Any],
                 identifier: Mapping[str, Any] | None, errors: UserErrors
                 ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[Any]]:
    """(product or None to create, the whole state it must end in, variant extras); no writes."""
    product, custom, handle = _find(data, identifier, errors)
    if errors:
        return None, None, []
    current = product_state(data, product) if product else None
    fields = {name: list(value) if isinstance(value, list) else value
              for name, value in (current["fields"] if current else NEW_PRODUCT).items()}
    for name in PRODUCT_FIELDS:
        if given.get(name) is not None:
            fields[name] = list(given[name]) if name == "tags" else given[name]
    if not (fields["title"] or "").strip():
        errors.add(["input", "title"], "Title can't be blank", "BLANK")
    taken = {p["handle"] for p in objects(data, "Product") if product is None or p is not product}
    if given.get("handle") is not None and given["handle"] in taken:
        errors.add(["input", "handle"], f"Handle '{given['handle']}' already in use. Please "
                   "provide a new handle.", "HANDLE_NOT_UNIQUE")
    elif product is None and given.get("handle") is None:
        fields["handle"] = handle if handle and handle not in taken else \
            free_handle(taken, fields["title"] or "")
    has_options, has_variants = given.get("productOptions") is not None, \
        given.get("variants") is not None
    if has_options and not has_variants:
        errors.add(["input", "variants"], "Variants input is required when updating product "
                   "options.", "VARIANTS_INPUT_MISSING")
    elif has_variants and not has_options:
        errors.add(["input", "productOptions"], "Product options input is required when "
                   "updating variants.", "PRODUCT_OPTIONS_INPUT_MISSING")
    if has_options and has_variants:
        options = _options(list(given["productOptions"]), errors)
        variants = _variants(data, product, options, list(given["variants"]), errors)
    elif current is None:
        options = [DEFAULT_OPTION]
        variants = _variants(data, None, options, [{"optionValues": [
            {"optionName": "Title", "name": "Default Title"}]}], errors)
    else:
        options = current["options"]
        variants = [(state, {"alt": None, "stock": []}) for state in current["variants"]]
    media = _media(data, current["media"] if current else [], given.get("files"), variants, errors)
    metafields = _metafields(data, product, current["metafields"] if current else {},
                             given.get("metafields"), custom, errors)
    collections = list(current["collections"]) if current else []
    if given.get("collections") is not None:
        missing = [c for c in given["collections"] if get(data, c, "Collection") is None]
        if missing:
            errors.add(["input", "collections"], f"Collection {missing[0]} does not exist.",
                       "INVALID_INPUT")
        collections = list(dict.fromkeys(given["collections"]))
    wanted = {"fields": fields, "options": options, "variants": [s for s, _ in variants],
              "media": media, "metafields": metafields, "collections": collections}
    return product, wanted, [extras for _, extras in variants]


def _new_media(data: dict[str, Any], product: str, source: str) -> dict[str, Any]:
    ident, _ = new_id(data, "MediaImage")
    image = {"url": source, "altText": None, "width": None, "height": None}
    return put(data, {"id": ident, "mediaContentType": "IMAGE", "status": "UPLOADED",
                      "preview": {"image": image, "status": "UPLOADED"}, "image": image,
                      "_source": source, "_product": product})


def commit_product(data: dict[str, Any], product: dict[str, Any] | None,
                   wanted: dict[str, Any], extras: list[Any]) -> dict[str, Any]:
    """Write the planned state: one clock tick, updatedAt on the product and changed variants."""
    now = tick(data)
    if product is None:
        ident, n = new_id(data, "Product")
        product = put(data, {"id": ident, "legacyResourceId": n, "createdAt": now, "_options": [],
                             "_variants": [], "_media": [], "_collections": [], "_metafields": {}})
    product.update(wanted["fields"], updatedAt=now)
    old_options = {o["name"]: o["id"] for o in product["_options"]}
    product["_options"] = [{"id": old_options.get(name) or new_id(data, "ProductOption")[0],
                            "name": name, "values": list(values)}
                           for name, values in wanted["options"]]
    media_ids = []
    for planned in wanted["media"]:
        record = get(data, planned["id"]) if planned["id"] else None
        record = record or _new_media(data, product["id"], planned["source"])
        record.update(alt=planned["alt"], _from_files=planned["from_files"])
        record["image"]["altText"] = planned["alt"]
        media_ids.append(record["id"])
    for ident in product["_media"]:
        if ident not in media_ids:
            drop(data, ident)
    product["_media"] = media_ids
    by_source = {r["_source"]: r["id"] for r in items_of(data, media_ids)}
    names = [name for name, _ in wanted["options"]]
    variant_ids = []
    for position, (state, extra) in enumerate(zip(wanted["variants"], extras), 1):
        variant = get(data, state["id"]) if state["id"] else None
        before = variant_state(data, variant) if variant else None
        if variant is None:
            ident, n = new_id(data, "ProductVariant")
            variant = put(data, {"id": ident, "legacyResourceId": n, "createdAt": now,
                                 "_product": product["id"], "_metafields": {}})
            variant["_item"] = new_item(data, ident, now)["id"]
        item = get(data, variant["_item"]) or {}
        values = [str(v) for v in state["options"]]
        variant.update(selectedOptions=[{"name": n, "value": v} for n, v in zip(names, values)],
                       title=" / ".join(values), sku=state["sku"], barcode=state["barcode"],
                       price=state["price"], compareAtPrice=state["compareAtPrice"],
                       _price_set=state["price_set"],
                       _media=[by_source[state["file"]]] if state["file"] else [])
        item.update(tracked=state["tracked"], _weight=state["weight"])
        if before is None or before != variant_state(data, variant) or \
                variant.get("position") != position:
            variant["updatedAt"] = now
        variant["position"] = position
        if before is None:
            for level in extra["stock"]:
                record = level_of(data, variant["_item"], level["locationId"])
                if record is not None:
                    delta = level["quantity"] - record["_q"][level["name"]]
                    record["_q"]["available"] += delta
                    record["_q"]["on_hand"] += delta
        variant_ids.append(variant["id"])
    for variant in items_of(data, product["_variants"]):
        if variant["id"] not in variant_ids:
            drop_variant(data, variant)
    product["_variants"] = variant_ids
    held = product["_metafields"]
    for key in [k for k in held if k not in wanted["metafields"]]:
        drop(data, held.pop(key))
    for (namespace, key), (kind, value) in wanted["metafields"].items():
        record = metafield_of(data, product, namespace, key)
        if record is None or (record["type"], record["value"]) != (kind, value):
            write_metafield(data, product, namespace, key, kind, value, now)
    product["_collections"] = list(wanted["collections"])
    return product


def product_set(shop: Any, ctx: Ctx, input: Mapping[str, Any], synchronous: bool | None = None,
                identifier: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Create or update a whole product; asynchronously (an operation) when synchronous is false.

    List fields (variants, metafields, collections, files) replace what is
    held; omitted fields stay; a set that changes nothing writes nothing.
    Codes (the sandbox's choices where Shopify's record is silent): BLANK,
    INVALID_INPUT (customId without a unique definition, a missing collection,
    a bad URL), HANDLE_NOT_UNIQUE, VARIANTS_INPUT_MISSING,
    PRODUCT_OPTIONS_INPUT_MISSING, OPTIONS_OVER_LIMIT, VARIANTS_OVER_LIMIT,
    DUPLICATED_OPTION_NAME, DUPLICATED_OPTION_VALUE, OPTION_DOES_NOT_EXIST,
    OPTION_VALUE_DOES_NOT_EXIST, INVALID_VARIANT (a missing option value, a
    negative price), DUPLICATE_VARIANT, PRODUCT_DOES_NOT_EXIST,
    PRODUCT_VARIANT_DOES_NOT_EXIST, INVALID_METAFIELD, TAKEN.
    ``inventoryQuantities`` apply to new variants only.
    """
    data = shop.data
    errors = UserErrors()
    product, wanted, extras = plan_product(data, input, identifier, errors)
    if errors or wanted is None:
        return {"product": None, "productSetOperation": None, "userErrors": errors}
    if synchronous is False:
        ident, _ = new_id(data, "ProductSetOperation")
        operation = put(data, {"id": ident, "status": "CREATED", "_product": None,
                               "userErrors": []})

        def run() -> None:
            done = product_set(shop, ctx, input, True, identifier)
            operation.update(status="COMPLETE", userErrors=done["userErrors"],
                             _product=done["product"]["id"] if done["product"] else None)

        shop.later(shop.job_seconds, run)
        return {"product": None, "productSetOperation": operation, "userErrors": []}
    if product is None or product_state(data, product) != wanted:
        product = commit_product(data, product, wanted, extras)
    return {"product": product, "productSetOperation": None, "userErrors": []}


# -- variants' prices, stock, price lists, collections, metafields ---------------------------


def variants_bulk_update(shop: Any, ctx: Ctx, productId: str,
                         variants: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Prices and barcodes of a product's variants, all or nothing."""
    data, errors = shop.data, UserErrors()
    product = get(data, productId, "Product")
    if product is None:
        errors.add(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "productVariants": None, "userErrors": errors}
    staged = []
    for i, given in enumerate(variants):
        variant = get(data, given.get("id"), "ProductVariant")
        if variant is None or variant["_product"] != product["id"]:
            errors.add(["variants", i, "id"], "Product variant does not exist",
                       "PRODUCT_VARIANT_DOES_NOT_EXIST")
            continue
        state = variant_state(data, variant)
        _variant(data, {k: v for k, v in given.items() if k != "id"}, ["variants", i], state,
                 errors)
        staged.append((variant, state))
    if errors:
        return {"product": product, "productVariants": None, "userErrors": errors}
    changed = [(v, s) for v, s in staged if variant_state(data, v) != s]
    if changed:
        now = tick(data)
        for variant, state in changed:
            variant.update(price=state["price"], compareAtPrice=state["compareAtPrice"],
                           barcode=state["barcode"], _price_set=state["price_set"], updatedAt=now)
        product["updatedAt"] = now
    return {"product": product, "productVariants": [v for v, _ in staged], "userErrors": []}


REASONS = frozenset({
    "correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
    "movement_received", "movement_canceled", "other", "promotion", "quality_control",
    "received", "reservation_created", "reservation_deleted", "reservation_updated", "restock",
    "safety_stock", "shrinkage"})
MAX_INPUT = 250
#: The first API version that wants @idempotent and changeFromQuantity on inventory mutations.
IDEMPOTENT_FROM = "2026-04"


def _reason_label(reason: str) -> str:
    """The group's reason as Shopify words it ("correction" reads "Inventory correction")."""
    return "Inventory correction" if reason == "correction" else \
        reason.replace("_", " ").capitalize()


def inventory_set_quantities(shop: Any, ctx: Ctx, input: Mapping[str, Any]) -> dict[str, Any]:
    """Absolute quantities, idempotent by key: a repeated key returns the first answer.

    The same key with another input is refused with code
    ``IDEMPOTENCY_KEY_PARAMETER_MISMATCH`` (the sandbox's choice of code).
    """
    data, key = shop.data, ctx.idempotency_key
    if len(input["quantities"]) > MAX_INPUT:
        raise TopLevelError(f"The input array size of {len(input['quantities'])} is greater "
                            f"than the maximum allowed of {MAX_INPUT}.", "MAX_INPUT_SIZE_EXCEEDED")
    fingerprint = json.dumps(input, sort_keys=True, default=str)
    if key is not None and key in data["idempotency"]:
        seen, payload = data["idempotency"][key]
        if seen == fingerprint:
            return payload  # type: ignore[no-any-return]
        errors = UserErrors()
        errors.add(["input"], "This idempotency key was already used with a different input.",
                   "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    payload = _set_quantities(data, ctx, input)
    if key is not None:
        data["idempotency"][key] = (fingerprint, payload)
    return payload


def _set_quantities(data: dict[str, Any], ctx: Ctx, input: Mapping[str, Any]) -> dict[str, Any]:
    errors = UserErrors()
    name = input["name"]
    if name not in ("available", "on_hand"):
        errors.add(["input", "name"], "The quantity name must be either 'available' or "
                   "'on_hand'.", "INVALID_NAME")
    if input["reason"] not in REASONS:
        errors.add(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
    modern = ctx.version >= IDEMPOTENT_FROM
    staged = []
    for i, quantity in enumerate(input["quantities"]):
        path = ["input", "quantities", i]
        item = get(data, quantity["inventoryItemId"], "InventoryItem")
        location = get(data, quantity["locationId"], "Location")
        if item is None:
            errors.add([*path, "inventoryItemId"], "The specified inventory item could not be "
                       "found.", "INVALID_INVENTORY_ITEM")
        if location is None:
            errors.add([*path, "locationId"], "The specified location could not be found.",
                       "INVALID_LOCATION")
        if item is None or location is None or name not in ("available", "on_hand"):
            continue
        level = level_of(data, item["id"], location["id"])
        if level is None:
            errors.add([*path, "locationId"], "The item is not stocked at the location.",
                       "ITEM_NOT_STOCKED_AT_LOCATION")
            continue
        now_held = level["_q"][name]
        if modern:
            if quantity.get("compareQuantity") is not None:
                errors.add([*path, "compareQuantity"], "compareQuantity is not accepted from "
                           f"{IDEMPOTENT_FROM}; send changeFromQuantity.", "INVALID_INPUT")
            if "changeFromQuantity" not in quantity:
                errors.add([*path, "changeFromQuantity"], "changeFromQuantity is required (send "
                           "null to skip the check).", "CHANGE_FROM_QUANTITY_REQUIRED")
            elif quantity["changeFromQuantity"] not in (None, now_held):
                errors.add([*path, "changeFromQuantity"], "The quantity changed since "
                           f"changeFromQuantity was read (it is {now_held}).",
                           "CHANGE_FROM_QUANTITY_STALE")
        elif input.get("ignoreCompareQuantity") is not True:
            if quantity.get("compareQuantity") is None:
                errors.add([*path, "compareQuantity"], "compareQuantity is required unless "
                           "ignoreCompareQuantity is true.", "COMPARE_QUANTITY_REQUIRED")
            elif quantity["compareQuantity"] != now_held:
                errors.add([*path, "compareQuantity"], "The specified compare quantity does not "
                           f"match the current quantity ({now_held}).", "COMPARE_QUANTITY_STALE")
        staged.append((level, quantity["quantity"]))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes, now = [], None
    other = "on_hand" if name == "available" else "available"
    for level, wanted in staged:
        delta = wanted - level["_q"][name]
        if delta == 0:
            continue
        now = now or tick(data)
        level["_q"][name] += delta
        level["_q"][other] += delta
        level["updatedAt"] = now
        changes += [{"name": n, "delta": delta, "quantityAfterChange": None,
                     "_item": level["_item"], "_location": level["_location"]}
                    for n in ("available", "on_hand")]
    group = {"createdAt": now or data["clock"], "reason": _reason_label(input["reason"]),
             "referenceDocumentUri": input.get("referenceDocumentUri"), "changes": changes}
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


def price_entry(price_list: Mapping[str, Any], variant: str) -> dict[str, Any]:
    held = price_list["_prices"][variant]
    currency = price_list["currency"]
    return {"_variant": variant, "price": {"amount": held["price"], "currencyCode": currency},
            "compareAtPrice": None if held["compareAtPrice"] is None else
            {"amount": held["compareAtPrice"], "currencyCode": currency}}


def price_list_fixed_prices_add(shop: Any, ctx: Ctx, priceListId: str,
                                prices: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Fixed prices replace the variant's in the list; the list's currency only; all or nothing."""
    data, errors = shop.data, UserErrors()
    price_list = get(data, priceListId, "PriceList")
    if price_list is None:
        errors.add(["priceListId"], "Price list does not exist.", "PRICE_LIST_NOT_FOUND")
        return {"prices": None, "userErrors": errors}
    if len(prices) > MAX_INPUT:
        raise TopLevelError(f"The input array size of {len(prices)} is greater than the maximum "
                            f"allowed of {MAX_INPUT}.", "MAX_INPUT_SIZE_EXCEEDED")
    staged = []
    for i, given in enumerate(prices):
        if get(data, given["variantId"], "ProductVariant") is None:
            errors.add(["prices", i, "variantId"], f"Variant {given['variantId']} not found.",
                       "VARIANT_NOT_FOUND")
        for name in ("price", "compareAtPrice"):
            amount = given.get(name)
            if amount and amount["currencyCode"] != price_list["currency"]:
                errors.add(["prices", i, name, "currencyCode"], "The currency must be the price "
                           f"list's ({price_list['currency']}).", "PRICES_TO_ADD_CURRENCY_MISMATCH")
            elif amount and money(amount["amount"]) < 0:
                errors.add(["prices", i, name, "amount"], "The amount must not be negative.",
                           "INVALID_INPUT")
        compare = given.get("compareAtPrice")
        staged.append((given["variantId"], {
            "price": money(given["price"]["amount"]),
            "compareAtPrice": money(compare["amount"]) if compare else None}))
    if errors:
        return {"prices": None, "userErrors": errors}
    if any(price_list["_prices"].get(variant) != held for variant, held in staged):
        tick(data)
        price_list["_prices"].update(dict(staged))
    return {"prices": [price_entry(price_list, variant) for variant, _ in staged],
            "userErrors": []}


def collection_create(shop: Any, ctx: Ctx, input: Mapping[str, Any]) -> dict[str, Any]:
    """A manual collection; its handle from the title when none is given."""
    data, errors = shop.data, UserErrors()
    title = (input.get("title") or "").strip()
    taken = {c["handle"] for c in objects(data, "Collection")}
    if not title:
        errors.add(["input", "title"], "Title can't be blank")
    if input.get("handle") and input["handle"] in taken:
        errors.add(["input", "handle"], "Handle has already been taken")
    if errors:
        return {"collection": None, "userErrors": errors}
    now = tick(data)
    ident, _ = new_id(data, "Collection")
    collection = put(data, {"id": ident, "title": input["title"],
                            "handle": input.get("handle") or free_handle(taken, title),
                            "descriptionHtml": input.get("descriptionHtml") or "",
                            "updatedAt": now, "_metafields": {}})
    return {"collection": collection, "userErrors": []}


OWNER_TYPES = {"Order": "ORDER", "Product": "PRODUCT", "ProductVariant": "PRODUCTVARIANT",
               "Collection": "COLLECTION"}
MAX_METAFIELDS = 25


def metafields_set(shop: Any, ctx: Ctx, metafields: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Up to 25 metafields on orders, products, variants and collections; atomic.

    A metafield whose type and value are already held is left alone (no new
    ``updatedAt``); the owner's ``updatedAt`` does not move (the sandbox's
    choice: metafields are their own records). Codes: INVALID (owner), BLANK,
    INVALID_TYPE, INVALID_VALUE, STALE_OBJECT, TAKEN, LESS_THAN_OR_EQUAL_TO.
    """
    data, errors = shop.data, UserErrors()
    if len(metafields) > MAX_METAFIELDS:
        errors.add(["metafields"], f"Exceeded the maximum metafields input limit of "
                   f"{MAX_METAFIELDS}.", "LESS_THAN_OR_EQUAL_TO")
        return {"metafields": None, "userErrors": errors}
    staged = []
    for i, given in enumerate(metafields):
        path, more = ["metafields", i], {"elementIndex": i}
        owner = get(data, given["ownerId"], *OWNER_TYPES)
        namespace, key, value = given.get("namespace") or APP_NAMESPACE, given["key"], given["value"]
        if owner is None:
            errors.add([*path, "ownerId"], "Owner does not exist.", "INVALID", **more)
            continue
        owner_type = OWNER_TYPES[gid_type(owner["id"]) or ""]
        held = metafield_of(data, owner, namespace, key)
        definition = definition_of(data, owner_type, namespace, key)
        kind = given.get("type") or (held["type"] if held else
                                     definition["type"]["name"] if definition else None)
        if not key.strip():
            errors.add([*path, "key"], "Key can't be blank", "BLANK", **more)
        elif kind is None:
            errors.add([*path, "type"], "Type can't be blank", "BLANK", **more)
        elif kind not in METAFIELD_TYPES or (definition and definition["type"]["name"] != kind) \
                or (held and held["type"] != kind):
            errors.add([*path, "type"], f"Type '{kind}' is not valid here.", "INVALID_TYPE",
                       **more)
        elif (problem := value_error(kind, value)) is not None:
            errors.add([*path, "value"], problem, "INVALID_VALUE", **more)
        elif given.get("compareDigest") is not None and \
                given["compareDigest"] != (digest(held["value"]) if held else None):
            errors.add([*path, "value"], "The resource has been updated since it was loaded "
                       "(compareDigest is stale).", "STALE_OBJECT", **more)
        elif is_unique(data, owner_type, namespace, key) and \
                unique_holder(data, owner_type, namespace, key, value) not in (None, owner["id"]):
            errors.add([*path, "value"], "Value is already taken.", "TAKEN", **more)
        else:
            staged.append((owner, namespace, key, kind, value))
    if errors:
        return {"metafields": None, "userErrors": errors}
    written, now = [], None
    for owner, namespace, key, kind, value in staged:
        held = metafield_of(data, owner, namespace, key)
        if held is None or (held["type"], held["value"]) != (kind, value):
            now = now or tick(data)
            held = write_metafield(data, owner, namespace, key, kind, value, now)
        written.append(held)
    return {"metafields": written, "userErrors": []}


def metafield_definition_create(shop: Any, ctx: Ctx, definition: Mapping[str, Any]
                                ) -> dict[str, Any]:
    """A definition per owner type, namespace and key (a second one: code TAKEN)."""
    data, errors = shop.data, UserErrors()
    namespace = definition.get("namespace") or APP_NAMESPACE
    key, kind, owner_type = definition["key"], definition["type"], definition["ownerType"]
    unique = bool(((definition.get("capabilities") or {}).get("uniqueValues") or {})
                  .get("enabled"))
    if definition_of(data, owner_type, namespace, key) is not None:
        errors.add(["definition", "key"], f"Key is in use for {owner_type.lower()} metafields "
                   f"on the '{namespace}' namespace.", "TAKEN")
    if kind not in METAFIELD_TYPES:
        errors.add(["definition", "type"], f"Type '{kind}' is not a metafield type.", "INCLUSION")
    elif unique and kind not in UNIQUE_TYPES:
        errors.add(["definition", "capabilities"], f"Unique values are not available for {kind}.",
                   "INVALID_CAPABILITY")
    if not definition["name"].strip():
        errors.add(["definition", "name"], "Name can't be blank", "BLANK")
    if errors:
        return {"createdDefinition": None, "userErrors": errors}
    tick(data)
    ident, _ = new_id(data, "MetafieldDefinition")
    created = put(data, {"id": ident, "name": definition["name"], "namespace": namespace,
                         "key": key, "ownerType": owner_type, "type": {"name": kind},
                         "capabilities": {"uniqueValues": {"enabled": unique}}})
    return {"createdDefinition": created, "userErrors": []}

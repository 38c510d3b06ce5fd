"""The Tray sandbox's records: how bodies are read and checked, and how the catalogue is answered.

Tray answers every scalar as text ("27027.60", "0"/"1", "0000-00-00"), so the
sandbox keeps its records in that form already and adds the derived fields
(stock of a product with variants, brand ids, category names, prices in force)
when it renders an answer. Clients send JSON or PHP-style form bodies
(``Product[Sku][0][type]=Cor``), with numbers as JSON numbers or numeric text;
both are read into the same nested dict before any check.

This module holds no state: it is what the server (``sandbox.py``) calls with
the store's ``data`` dict.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "Bad", "CATEGORY_DEFAULTS", "CATEGORY_SPEC", "Causes", "EMPTY_DATE", "EMPTY_MOMENT",
    "PAYMENT_OPTIONS", "PRODUCT_DEFAULTS", "PRODUCT_SPEC", "START", "STORE_TZ",
    "VARIANT_DEFAULTS", "VARIANT_SPEC", "apply_pictures", "as_count", "as_day", "as_id",
    "as_money", "as_text", "brand_json", "category_json", "category_node", "check_promotion",
    "image_json", "moment_text", "money_text", "next_id", "parse_day", "parse_moment",
    "parse_php_form", "product_json", "read_body", "read_pictures", "read_sku", "slugify",
    "tick", "today_of", "variant_json", "variant_price_record",
]

#: Tray writes store-local times without an offset; this is the store's zone.
STORE_TZ = ZoneInfo("America/Sao_Paulo")
#: The store clock starts here and moves one second per change.
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=STORE_TZ)
EMPTY_DATE = "0000-00-00"
EMPTY_MOMENT = "0000-00-00 00:00:00"
CENT = Decimal("0.01")

#: Store-wide payment options (id, name, Tray's type), as ``GET /payments/options`` lists them.
PAYMENT_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("80", "Boleto - Yapay", "bank_billet"),
    ("81", "Pix - Yapay", "pix"),
    ("82", "Cartão de crédito - Yapay", "credit_card"),
)


# -- time and numbers as Tray writes them -----------------------------------------------


def moment_text(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in store time, no offset (Tray's datetimes)."""
    return moment.astimezone(STORE_TZ).strftime("%Y-%m-%d %H:%M:%S")


def parse_moment(text: str) -> datetime | None:
    """An aware datetime from Tray's store-local text; None for the empty date."""
    if not text or text.startswith("0000"):
        return None
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=STORE_TZ)


def parse_day(text: str) -> date | None:
    if not text or text.startswith("0000"):
        return None
    return date.fromisoformat(text)


def money_text(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def plain_number(value: Decimal) -> str:
    """A measure without exponent or trailing zeros: ``1000``, ``10.5``."""
    text = format(value.normalize(), "f")
    return text


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "item"


# -- reading bodies -----------------------------------------------------------------------

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def _key_parts(key: str) -> list[str]:
    """``Product[Sku][0][type]`` -> ``["Product", "Sku", "0", "type"]`` (``[]`` gives "")."""
    head, _, rest = key.partition("[")
    parts = [head] if head else []
    parts += [p.strip("\"'") for p in _BRACKETS.findall("[" + rest)] if rest else []
    return parts


def _as_lists(node: Any) -> Any:
    """PHP arrays with keys 0..n-1 become lists, as PHP's json_encode would show them."""
    if not isinstance(node, dict):
        return node
    converted = {k: _as_lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        keys = sorted(converted, key=int)
        if [int(k) for k in keys] == list(range(len(keys))):
            return [converted[k] for k in keys]
    return converted


def parse_php_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Form fields with PHP bracket keys as the nested dict (and lists) PHP would build."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _key_parts(key)
        if not parts:
            continue
        node = root
        for i, part in enumerate(parts):
            if part == "":
                part = str(len(node))
            if i == len(parts) - 1:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return _as_lists(root)


def read_body(request: Any) -> tuple[Any, str | None]:
    """The request body as data, or a cause saying why it cannot be read."""
    raw = request.get_data(cache=True)
    mimetype = request.mimetype or ""
    if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return parse_php_form(request.form.items(multi=True)), None
    if not raw.strip():
        return {}, None
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError):
        return None, "corpo da requisição: JSON inválido"


# -- checking values ------------------------------------------------------------------------


class Bad(ValueError):
    """A value Tray refuses; its text is the cause after the field name."""


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Bad("deve ser numérico")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise Bad("deve ser numérico") from None
    if not number.is_finite():
        raise Bad("deve ser numérico")
    if number.adjusted() >= 12:
        raise Bad("valor fora do intervalo permitido")
    return number


def as_text(value: Any, max_length: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Bad("deve ser texto")
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_length:
        raise Bad(f"tamanho máximo {max_length} caracteres")
    return text


def as_money(value: Any) -> str:
    number = _decimal(value)
    if number < 0:
        raise Bad("deve ser maior ou igual a 0")
    return money_text(number)


def as_measure(value: Any) -> str:
    number = _decimal(value)
    if number < 0:
        raise Bad("deve ser maior ou igual a 0")
    return plain_number(number)


def as_count(value: Any) -> str:
    number = _decimal(value)
    if number != number.to_integral_value() or number < 0:
        raise Bad("deve ser um número inteiro maior ou igual a 0")
    return str(int(number))


def as_flag(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if str(value).strip() in ("0", "1"):
        return str(value).strip()
    raise Bad("deve ser 0 ou 1")


def as_day(value: Any) -> str:
    if not isinstance(value, str):
        raise Bad("data inválida, use AAAA-MM-DD")
    text = value.strip()
    if text in ("", EMPTY_DATE):
        return EMPTY_DATE
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        raise Bad("data inválida, use AAAA-MM-DD") from None
    return text


def as_ncm(value: Any) -> str:
    text = as_text(value, 8).strip()
    if text and not (len(text) == 8 and text.isascii() and text.isdigit()):
        raise Bad("deve ter exatamente 8 dígitos")
    return text


def as_url(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/$.?#]\S*", value.strip()):
        raise Bad("URL inválida (use http:// ou https://)")
    return value.strip()


def as_id(value: Any) -> str:
    text = as_text(value, 20).strip()
    if text in ("", "0"):
        return ""
    if not text.isdigit():
        raise Bad("deve ser um id numérico")
    return str(int(text))


def as_id_list(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        raise Bad("deve ser uma lista de ids")
    ids = [as_id(v) for v in value]
    return [i for i in ids if i]


def as_metatags(value: Any) -> list[dict[str, str]]:
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise Bad("deve ser uma lista de {type, content}")
    return [{"type": as_text(m.get("type", "keywords"), 40),
             "content": as_text(m.get("content", ""), 500)} for m in value]


Parser = Callable[[Any], Any]


class Causes:
    """Collects the causes of a 400, each naming ``Wrapper.field``."""

    def __init__(self, wrapper: str) -> None:
        self.wrapper = wrapper
        self.found: list[str] = []

    def add(self, field: str, message: str) -> None:
        name = f"{self.wrapper}.{field}" if self.wrapper else field
        self.found.append(f"{name}: {message}")

    def take(self, body: Mapping[str, Any], spec: Mapping[str, Parser]) -> dict[str, Any]:
        """The fields of ``spec`` present in ``body``, parsed; a null counts as absent."""
        taken: dict[str, Any] = {}
        for key, parse in spec.items():
            if body.get(key) is None:
                continue
            try:
                taken[key] = parse(body[key])
            except Bad as exc:
                self.add(key, str(exc))
        return taken

    def require(self, body: Mapping[str, Any], *keys: str) -> None:
        for key in keys:
            value = body.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                self.add(key, "obrigatório")

    def __bool__(self) -> bool:
        return bool(self.found)


def _text(n: int) -> Parser:
    return partial(as_text, max_length=n)


#: What ``{"Product": {...}}`` may set (reference §3), each with its check.
PRODUCT_SPEC: dict[str, Parser] = {
    "ean": _text(120), "name": _text(200), "ncm": as_ncm, "description": _text(4800),
    "description_small": _text(500), "price": as_money, "cost_price": as_money,
    "promotional_price": as_money, "start_promotion": as_day, "end_promotion": as_day,
    "brand": _text(120), "model": _text(150), "weight": as_measure, "length": as_measure,
    "width": as_measure, "height": as_measure, "stock": as_count, "minimum_stock": as_count,
    "category_id": as_id, "related_categories": as_id_list, "available": as_flag,
    "availability": _text(100), "availability_days": as_count, "reference": _text(120),
    "release_date": as_day, "warranty": _text(500), "metatag": as_metatags,
    "virtual_product": as_flag, "title": _text(200),
}

#: What ``{"Variant": {...}}`` may set (reference §4); attributes and pictures apart.
VARIANT_SPEC: dict[str, Parser] = {
    "product_id": as_id, "ean": _text(120), "order": as_count, "price": as_money,
    "cost_price": as_money, "stock": as_count, "minimum_stock": as_count, "reference": _text(120),
    "weight": as_measure, "length": as_measure, "width": as_measure, "height": as_measure,
    "start_promotion": as_day, "end_promotion": as_day, "promotional_price": as_money,
    "available": as_flag,
}

#: What ``{"Category": {...}}`` may set.
CATEGORY_SPEC: dict[str, Parser] = {
    "name": _text(100), "parent_id": as_id, "description": _text(4800), "slug": _text(200),
    "order": as_count, "title": _text(200), "small_description": _text(500),
    "has_acceptance_term": as_flag, "acceptance_term": _text(4800),
}

PRODUCT_DEFAULTS: dict[str, Any] = {
    "ean": "", "name": "", "ncm": "", "description": "", "description_small": "",
    "price": "0.00", "cost_price": "0.00", "promotional_price": "0.00",
    "start_promotion": EMPTY_DATE, "end_promotion": EMPTY_DATE, "brand": "", "model": "",
    "weight": "0", "length": "0", "width": "0", "height": "0", "stock": "0", "minimum_stock": "0",
    "category_id": "", "related_categories": [], "available": "1", "availability": "",
    "availability_days": "0", "reference": "", "release_date": EMPTY_DATE, "warranty": "",
    "metatag": [], "virtual_product": "0", "title": "", "images": [], "quantity_sold": "0",
}

VARIANT_DEFAULTS: dict[str, Any] = {
    "ean": "", "order": "0", "price": "0.00", "cost_price": "0.00", "stock": "0",
    "minimum_stock": "0", "reference": "", "weight": "0", "length": "0", "width": "0",
    "height": "0", "start_promotion": EMPTY_DATE, "end_promotion": EMPTY_DATE,
    "promotional_price": "0.00", "available": "1", "sku": [], "images": [], "quantity_sold": "0",
}

CATEGORY_DEFAULTS: dict[str, Any] = {
    "parent_id": "", "description": "", "slug": "", "order": "0", "title": "",
    "small_description": "", "has_acceptance_term": "0", "acceptance_term": "",
    "metatag": {"keywords": "", "description": ""}, "property": [],
}

PICTURE_SLOTS = 6


def read_pictures(body: Mapping[str, Any], causes: Causes) -> dict[int, str | None]:
    """``picture_source_N`` given: slot index to URL, or None where a blank deletes it."""
    changes: dict[int, str | None] = {}
    for slot in range(PICTURE_SLOTS):
        key = f"picture_source_{slot + 1}"
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, str) and not value.strip():
            changes[slot] = None
            continue
        try:
            changes[slot] = as_url(value)
        except Bad as exc:
            causes.add(key, str(exc))
    return changes


def apply_pictures(images: list[str], changes: Mapping[int, str | None]) -> list[str]:
    """Set or blank slots; what is blanked goes, and the images after it move up."""
    slots: list[str | None] = [*images, *[None] * (PICTURE_SLOTS - len(images))]
    deleted = set()
    for slot, url in changes.items():
        if url is None:
            deleted.add(slot)
        else:
            slots[slot] = url
    return [url for i, url in enumerate(slots) if url is not None and i not in deleted]


def read_sku(body: Mapping[str, Any], causes: Causes) -> list[dict[str, str]] | None:
    """A variant's attributes from ``Sku`` or ``type_N``/``value_N``; None when not given."""
    given = body.get("Sku")
    if given is None:
        pairs = [(body.get(f"type_{n}"), body.get(f"value_{n}")) for n in (1, 2)]
        if all(t is None and v is None for t, v in pairs):
            return None
        given = [{"type": t, "value": v} for t, v in pairs if t is not None or v is not None]
    if isinstance(given, dict):
        given = list(given.values())
    if not isinstance(given, list) or not all(isinstance(a, dict) for a in given):
        causes.add("Sku", "deve ser uma lista de {type, value}")
        return None
    if len(given) > 2:
        causes.add("Sku", "no máximo 2 atributos por variação")
        return None
    attributes = []
    for i, attribute in enumerate(given):
        try:
            kind = as_text(attribute.get("type"), 100).strip()
            value = as_text(attribute.get("value"), 100).strip()
        except Bad:
            kind = value = ""
        if not kind or not value:
            causes.add(f"Sku[{i}]", "type e value são obrigatórios")
        attributes.append({"type": kind, "value": value})
    return attributes


def check_promotion(fields: Mapping[str, Any], before: Mapping[str, Any], causes: Causes) -> None:
    """The promotion cannot end before it starts."""
    start = fields.get("start_promotion", before.get("start_promotion", EMPTY_DATE))
    end = fields.get("end_promotion", before.get("end_promotion", EMPTY_DATE))
    if start != EMPTY_DATE and end != EMPTY_DATE and end < start:
        causes.add("end_promotion", "deve ser igual ou posterior a start_promotion")


# -- prices in force ------------------------------------------------------------------------


def price_in_force(record: Mapping[str, Any], today: date) -> Decimal:
    """The promotional price while its window holds (open ends allowed), else the price."""
    price = Decimal(record["price"])
    promo = Decimal(record["promotional_price"] or "0")
    start, end = parse_day(record["start_promotion"]), parse_day(record["end_promotion"])
    if promo > 0 and (start is None or start <= today) and (end is None or today <= end):
        return promo
    return price


def _payment_details(value: Decimal) -> list[dict[str, str]]:
    return [{"display_name": name, "type": kind, "plots": "1", "value": money_text(value),
             "tax": "0.00"} for _, name, kind in PAYMENT_OPTIONS]


def _brl(value: Decimal) -> str:
    return f"R$ {money_text(value).replace('.', ',')}"


def _pricing(record: Mapping[str, Any], today: date) -> dict[str, Any]:
    current = price_in_force(record, today)
    price = Decimal(record["price"])
    share = (current - price) / price * 100 if price > 0 else Decimal(0)
    return {"current_price": money_text(current),
            "percentage_discount": str(share.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)),
            "payment_option": f"{_brl(current)} à vista no {PAYMENT_OPTIONS[0][1]}",
            "payment_option_details": _payment_details(current)}


def cubic_weight(record: Mapping[str, Any]) -> str:
    """Volumetric weight in grams (cm³ / 6), as Tray shows next to the real one."""
    volume = Decimal(record["length"]) * Decimal(record["width"]) * Decimal(record["height"])
    return str(int((volume / 6).to_integral_value(rounding=ROUND_HALF_UP)))


def image_json(url: str) -> dict[str, Any]:
    """An image as Tray lists it; the sandbox makes no thumbnails, so they repeat the source."""
    return {"http": url, "https": url,
            "thumbs": {size: {"http": url, "https": url} for size in ("30", "90", "180")}}


# -- the catalogue as Tray answers it -----------------------------------------------------


def ancestors(categories: Mapping[str, Mapping[str, Any]], ident: str) -> list[str]:
    """``ident`` and its parents, nearest first (stops at a missing or looping parent)."""
    chain: list[str] = []
    while ident and ident in categories and ident not in chain:
        chain.append(ident)
        ident = categories[ident]["parent_id"]
    return chain


def product_stock(data: Mapping[str, Any], record: Mapping[str, Any]) -> int:
    """A product with variants has the sum of its variants' stock."""
    variants = [data["variants"][v] for v in record["variant_ids"]]
    if variants:
        return sum(int(v["stock"]) for v in variants)
    return int(record["stock"])


def product_json(data: Mapping[str, Any], record: Mapping[str, Any], site: str,
                 today: date) -> dict[str, Any]:
    """A product with every key of ``GET /products/:id`` (reference payload product_get)."""
    categories = data["categories"]
    main = record["category_id"]
    everything = [*ancestors(categories, main), *record["related_categories"]]
    slug = slugify(record["name"])
    stock = product_stock(data, record)
    link = f"{site}/{slug}"
    return {
        "id": record["id"], "ean": record["ean"], "modified": record["modified"], "is_kit": "0",
        "slug": slug, "ncm": record["ncm"], "activation_date": EMPTY_DATE,
        "deactivation_date": EMPTY_DATE, "name": record["name"],
        "title": record["title"] or record["name"], "description": record["description"],
        "description_small": record["description_small"], "price": record["price"],
        "cost_price": record["cost_price"], "dollar_cost_price": "0.00",
        "promotional_price": record["promotional_price"],
        "start_promotion": record["start_promotion"], "end_promotion": record["end_promotion"],
        "brand": record["brand"], "brand_id": data["brands"].get(record["brand"], ""),
        "model": record["model"], "weight": record["weight"], "length": record["length"],
        "width": record["width"], "height": record["height"], "stock": str(stock),
        "category_id": main or "0",
        "category_name": categories[main]["name"] if main in categories else "",
        "available": record["available"], "availability": record["availability"],
        "reference": record["reference"], "hot": "0", "release": "0", "additional_button": "0",
        "has_variation": "1" if record["variant_ids"] else "0", "has_acceptance_terms": "0",
        "has_buy_together": "0", "additional_message": "", "warranty": record["warranty"],
        "rating": "0", "count_rating": "0", "quantity_sold": record["quantity_sold"],
        "ProductImage": [image_json(url) for url in record["images"]],
        "image": "1" if record["images"] else "0",
        "url": {"http": link, "https": link}, "created": record["created"],
        # PHP writes an empty array as []: products_list_page shows "Properties": [].
        "Properties": [], **_pricing(record, today),
        "related_categories": list(record["related_categories"]),
        "release_date": record["release_date"], "shortcut": slug,
        "virtual_product": record["virtual_product"], "minimum_stock": record["minimum_stock"],
        "minimum_stock_alert": "0", "promotion_id": "0", "included_items": "",
        "related_products": [], "free_shipping": "0", "ipi": "0.00",
        "acceptance_term_option": "0", "acceptance_term": "", "warranty_days": "0",
        "availability_days": record["availability_days"], "cubic_weight": cubic_weight(record),
        "video": "", "metatag": list(record["metatag"]) or [
            {"type": "description", "content": ""}, {"type": "keywords", "content": ""}],
        "payment_option_html": " ",
        "upon_request": "1" if Decimal(record["price"]) == 0 else "0",
        "available_for_purchase": "1" if record["available"] == "1" and stock > 0 else "0",
        "all_categories": list(dict.fromkeys(everything)),
        "Variant": [{"id": v} for v in record["variant_ids"]],
        "AdditionalInfos": [],
    }


def variant_price_record(data: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """A variant's prices, with its product's price where its own is zero."""
    if Decimal(record["price"]) == 0 and record["product_id"] in data["products"]:
        return {**record, "price": data["products"][record["product_id"]]["price"]}
    return dict(record)


def variant_json(data: Mapping[str, Any], record: Mapping[str, Any], today: date) -> dict[str, Any]:
    """A variant with every key of ``GET /products/variants/:id`` (variant_get)."""
    return {
        "id": record["id"], "ean": record["ean"], "order": record["order"],
        "product_id": record["product_id"], "price": record["price"],
        "cost_price": record["cost_price"], "stock": record["stock"],
        "minimum_stock": record["minimum_stock"], "reference": record["reference"],
        "weight": record["weight"], "cubic_weight": cubic_weight(record),
        "length": record["length"], "width": record["width"], "height": record["height"],
        "start_promotion": record["start_promotion"], "end_promotion": record["end_promotion"],
        "promotional_price": record["promotional_price"],
        **{k: v for k, v in _pricing(variant_price_record(data, record), today).items()
           if k in ("payment_option", "payment_option_details")},
        "available": record["available"], "illustrative_image": "",
        "Sku": [dict(a) for a in record["sku"]], "quantity_sold": record["quantity_sold"],
        "color_id_1": "0", "color_id_2": "0",
        "VariantImage": [image_json(url) for url in record["images"]],
        "modified": record["modified"], "created": record["created"],
    }


def _category_link(record: Mapping[str, Any], site: str) -> dict[str, str]:
    link = f"{site}/{record['slug'] or slugify(record['name'])}"
    return {"http": link, "https": link}


def _has_product(data: Mapping[str, Any], ident: str) -> str:
    used = any(p["category_id"] == ident or ident in p["related_categories"]
               for p in data["products"].values())
    return "1" if used else "0"


def category_json(data: Mapping[str, Any], record: Mapping[str, Any], site: str) -> dict[str, Any]:
    """A category with the keys of the ``GET /categories`` items (categories_list_page)."""
    return {
        "id": record["id"], "parent_id": record["parent_id"], "name": record["name"],
        "description": record["description"], "small_description": record["small_description"],
        "slug": record["slug"] or slugify(record["name"]), "order": record["order"],
        "title": record["title"], "has_acceptance_term": record["has_acceptance_term"],
        "acceptance_term": record["acceptance_term"], "metatag": dict(record["metatag"]),
        "property": list(record["property"]), "Images": [],
        "link": _category_link(record, site), "has_product": _has_product(data, record["id"]),
    }


def category_node(data: Mapping[str, Any], ident: str, site: str,
                  seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One node of ``GET /categories/tree``: children nested, ``null`` on leaves."""
    record = data["categories"][ident]
    below = [c for c in sorted(data["categories"], key=int)
             if data["categories"][c]["parent_id"] == ident and c not in seen]
    return {"Category": {
        "slug": record["slug"] or slugify(record["name"]), "id": ident,
        "parent_id": record["parent_id"], "name": record["name"],
        "description": record["description"], "title": record["title"],
        "small_description": record["small_description"], "link": _category_link(record, site),
        "images": [], "has_product": _has_product(data, ident),
        "children": [category_node(data, c, site, seen | {ident}) for c in below] or None,
    }}


def brand_json(name: str, ident: str) -> dict[str, str]:
    return {"id": ident, "slug": slugify(name), "brand": name}


def today_of(clock: datetime) -> date:
    return clock.astimezone(STORE_TZ).date()


# -- the store's counters and clock -----------------------------------------------------------


def next_id(data: dict[str, Any], kind: str) -> str:
    """The next id of a kind of record: "1", "2", ... (Tray's ids are numeric text)."""
    data["ids"][kind] = data["ids"].get(kind, 0) + 1
    return str(data["ids"][kind])


def tick(data: dict[str, Any]) -> datetime:
    """The store clock, one second after the last change: change times never repeat."""
    data["clock"] = moment = data["clock"] + timedelta(seconds=1)
    return moment

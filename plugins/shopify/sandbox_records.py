"""The Shopify sandbox's records: where the shop keeps its objects, and its clock.

The shop is one ``data`` dict (replaced, never emptied, on ``reset``): every
stored object under ``objects[<GraphQL type>][<gid>]``, as a dict whose keys
are the type's field names (money as Decimal, times as aware datetimes, the
schema's scalars serialize them) plus links to other objects under
``_<field>`` (a gid or a list of gids), which the GraphQL layer resolves. A
store clock starts at 2026-01-05T12:00:00Z and moves one second on every
change, so every ``updatedAt`` is distinct and checkpoints are exact.

This is what the catalogue, the orders, the GraphQL layer and the webhooks
share, so none of them has to import another for it: ids, storage and
lookup, money, the shop's fixed places and namespaces, what a resolver knows
of its request and the two kinds of error (userErrors, top-level errors).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "CENT", "CODE_KEY", "CODE_NAMESPACE", "Ctx", "DEFAULT_LOCATION", "INVOICE_NAMESPACE",
    "LOCATIONS", "PRICE_LISTS", "SHOP_DOMAIN", "SHOP_TZ", "START", "UTC", "TopLevelError",
    "UserErrors", "bag", "digest", "drop", "get", "gid", "gid_number", "gid_type", "items_of",
    "money", "new_id", "objects", "put", "tick",
]

UTC = timezone.utc
START = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
SHOP_TZ = ZoneInfo("America/Sao_Paulo")
LOCATIONS = (("gid://shopify/Location/1", "Depósito SP"), ("gid://shopify/Location/2", "Loja RJ"))
DEFAULT_LOCATION = LOCATIONS[0][0]
PRICE_LISTS = (("gid://shopify/PriceList/1", "Atacado", "BRL"),
               ("gid://shopify/PriceList/2", "Varejo", "BRL"),
               ("gid://shopify/PriceList/3", "USA", "USD"))
SHOP_DOMAIN = "tramo-sandbox.myshopify.com"
CODE_NAMESPACE, CODE_KEY = "tramo", "erp_code"
INVOICE_NAMESPACE = "nfe"
CENT = Decimal("0.01")
_GID = re.compile(r"gid://shopify/([A-Za-z]+)/([^/?#]+)")


@dataclass
class Ctx:
    """What a resolver knows of its request: the shop, the API version, bulk or not, the key."""

    shop: Any = None
    version: str = "2026-10"
    bulk: bool = False
    idempotency_key: str | None = None


class UserErrors(list):  # type: ignore[type-arg]
    """userErrors being collected; ``add`` takes the field path as parts (numbers become text)."""

    def add(self, path: Iterable[Any] | None, message: str, code: str | None = None,
            **more: Any) -> None:
        self.append({"field": None if path is None else [str(p) for p in path],
                     "message": message, "code": code, **more})


# -- records --------------------------------------------------------------------------------


def gid(kind: str, n: int | str) -> str:
    return f"gid://shopify/{kind}/{n}"


def gid_type(ident: Any) -> str | None:
    match = _GID.fullmatch(ident) if isinstance(ident, str) else None
    return match.group(1) if match else None


def gid_number(ident: Any) -> int | None:
    match = _GID.fullmatch(ident) if isinstance(ident, str) else None
    return int(match.group(2)) if match and match.group(2).isdigit() else None


def tick(data: dict[str, Any]) -> datetime:
    """The store clock moves one second; the new time stamps the change being made."""
    data["clock"] = data["clock"] + timedelta(seconds=1)
    return data["clock"]  # type: ignore[no-any-return]


def new_id(data: dict[str, Any], kind: str) -> tuple[str, int]:
    n = data["seq"].get(kind, 0) + 1
    data["seq"][kind] = n
    return gid(kind, n), n


def put(data: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    data["objects"].setdefault(gid_type(record["id"]), {})[record["id"]] = record
    return record


def get(data: Mapping[str, Any], ident: Any, *kinds: str) -> dict[str, Any] | None:
    kind = gid_type(ident)
    if kind is None or (kinds and kind not in kinds):
        return None
    return data["objects"].get(kind, {}).get(ident)  # type: ignore[no-any-return]


def objects(data: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(data["objects"].get(kind, {}).values())


def drop(data: dict[str, Any], ident: str) -> None:
    data["objects"].get(gid_type(ident), {}).pop(ident, None)


def money(value: Any) -> Decimal:
    """Money from a Decimal, number or text, to the cent; ValueError when it is none."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount.quantize(CENT)


def bag(amount: Decimal, currency: str = "BRL") -> dict[str, Any]:
    """A MoneyBag whose shop and presentment amounts are the same."""
    one = {"amount": money(amount), "currencyCode": currency}
    return {"shopMoney": one, "presentmentMoney": dict(one)}


def items_of(data: Mapping[str, Any], links: Iterable[str]) -> list[dict[str, Any]]:
    return [r for r in (get(data, ident) for ident in links) if r is not None]


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class TopLevelError(Exception):
    """A request-level error (``errors[]`` with an extensions code), not a userError."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code

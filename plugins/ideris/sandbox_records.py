"""The Ideris sandbox's building blocks: fixed tables, the store clock, body readers, envelopes.

Ideris v1 (``http://api.ideris.com.br``) is an ASP.NET Web API: JSON numbers
for money and measures, naive ISO-8601 store times, a ``{paging, result}``
envelope around every answer that carries data, and bare JSON strings as the
body of business errors. This module holds no state; the routes
(``sandbox_catalogue``, ``sandbox_orders``, ``sandbox_notifications``) and the
store (``sandbox_store``) call it with the sandbox's ``data`` dict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from tramo.sandbox import Request, Response, json_response

__all__ = [
    "ACCOUNT", "Bad", "DENIED", "GENERAL", "LOGIN_TOKEN", "MARKETPLACES", "MAX_LIMIT",
    "NO_BRAND", "NOTIFICATION_TOKEN", "ORDER_MODULE", "START", "STATUSES", "STORE_TZ",
    "as_count", "as_id", "as_number", "as_text", "envelope", "message", "moment_text",
    "has", "next_id", "page", "page_params", "pick", "parse_moment", "parse_query_moment", "query",
    "read_json", "read_object", "tick", "wire",
]

#: The account's API token (Ideris issues 96 lowercase hex characters).
LOGIN_TOKEN = ("7c1e4f0a9b2d6e3f8a5c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a"
               "2b3c4d5e6f708192a3b4c5d6e7f8091a")
#: The account id the JWT's ``sub`` names.
ACCOUNT = "48213"
#: The secret last segment of the per-account notification URLs (32 hex).
NOTIFICATION_TOKEN = "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"

#: Ideris writes naive times in the store's zone.
STORE_TZ = ZoneInfo("America/Sao_Paulo")
#: The store clock starts here and moves one second per change (exact checkpoints).
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=STORE_TZ)
MAX_LIMIT = 50

#: The 401 body of ASP.NET Web API's [Authorize] (the SDK reads ``Message``).
DENIED = {"Message": "Authorization has been denied for this request."}

#: ``GET /Marketplace``: id -> descricao.
MARKETPLACES: dict[int, str] = {1: "Mercado Livre", 2: "Amazon", 3: "Shopee", 4: "Magalu",
                                5: "Americanas", 6: "Via"}
ORDER_MODULE = "Pedido"
#: ``GET /Status``: id -> (descricao, modulo). Ideris' ids are not published; these are the design.
STATUSES: dict[int, tuple[str, str]] = {
    1: ("Aberto", ORDER_MODULE), 2: ("Pagamento pendente", ORDER_MODULE),
    3: ("Aprovado", ORDER_MODULE), 4: ("Em separação", ORDER_MODULE),
    5: ("Faturado", ORDER_MODULE), 6: ("Expedido", ORDER_MODULE),
    7: ("Em trânsito", ORDER_MODULE), 8: ("Entregue", ORDER_MODULE),
    9: ("Não entregue", ORDER_MODULE), 10: ("Cancelado", ORDER_MODULE),
    11: ("Vencido", ORDER_MODULE), 12: ("Devolução", ORDER_MODULE), 13: ("Troca", ORDER_MODULE),
    20: ("Emitida", "Nota Fiscal"), 21: ("Cancelada", "Nota Fiscal"),
    30: ("Ativo", "Anúncio"), 31: ("Pausado", "Anúncio"),
}
#: Categoria, SubCategoria and Departamento each hold one record here.
GENERAL: dict[int, str] = {1: "Geral"}
#: The brand a product without one carries ("Sem marca", there from the start).
NO_BRAND = 1


class Bad(Exception):
    """A business error: Ideris answers its text as a bare JSON string with ``status``."""

    def __init__(self, text: str, status: int = 400) -> None:
        super().__init__(text)
        self.text = text
        self.status = status


def message(text: str, status: int) -> Response:
    """A bare JSON string body, as Ideris answers its errors."""
    return json_response(text, status)


# -- time -------------------------------------------------------------------------------------


def moment_text(moment: datetime) -> str:
    """Naive ISO-8601 in store time, to the second: ``2026-03-01T10:20:30``."""
    return moment.astimezone(STORE_TZ).strftime("%Y-%m-%dT%H:%M:%S")


def parse_moment(text: str | None) -> datetime | None:
    """The aware datetime of a naive store-time text the sandbox wrote."""
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=STORE_TZ)


def parse_query_moment(text: str) -> datetime:
    """A date-time a client sends: with an offset, ``Z``, naive (store time) or a bare day.

    Raises ValueError when it is none of these.
    """
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=STORE_TZ)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=STORE_TZ)


def tick(data: dict[str, Any]) -> datetime:
    """The store clock moves one second; the new time stamps the change being made."""
    data["clock"] = data["clock"] + timedelta(seconds=1)
    return data["clock"]


def next_id(data: dict[str, Any], kind: str) -> int:
    ident = data["ids"][kind]
    data["ids"][kind] = ident + 1
    return int(ident)


# -- answers ----------------------------------------------------------------------------------


def wire(value: Any) -> Any:
    """A record as JSON: Decimals become numbers (floats), datetimes store-time text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, Mapping):
        return {k: wire(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [wire(v) for v in value]
    return value


def envelope(items: Sequence[Any], offset: int = 0, limit: int = MAX_LIMIT,
             total: int | None = None) -> Response:
    """The ``{paging, result}`` answer; ``total`` defaults to the items' count."""
    result = [wire(item) for item in items]
    return json_response({"paging": {"offset": offset, "total": len(result) if total is None
                                     else total, "limit": limit, "count": len(result)},
                          "result": result})


def query(request: Request, name: str) -> str | None:
    """A query parameter, its key matched ignoring case (PX sends ``Status=Aberto``)."""
    wanted = name.lower()
    for key, value in request.args.items(multi=True):
        if key.lower() == wanted:
            return str(value)
    return None


def page_params(request: Request) -> tuple[int, int]:
    """``(offset, limit)`` of a list read; limit 1..50 (default 50), offset >= 0."""
    limit_text, offset_text = query(request, "limit"), query(request, "offset")
    limit, offset = MAX_LIMIT, 0
    if limit_text not in (None, ""):
        try:
            limit = int(limit_text)
        except ValueError:
            raise Bad("O limite máximo é 50") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise Bad("O limite máximo é 50")
    if offset_text not in (None, ""):
        try:
            offset = int(offset_text)
        except ValueError:
            raise Bad("offset inválido") from None
        if offset < 0:
            raise Bad("offset inválido")
    return offset, limit


def page(request: Request, records: Sequence[Any]) -> Response:
    """One page of ``records`` (already filtered and sorted) in the envelope."""
    offset, limit = page_params(request)
    return envelope(records[offset: offset + limit], offset, limit, len(records))


# -- bodies -----------------------------------------------------------------------------------


def read_json(request: Request) -> Any:
    """The JSON body, numbers with a fraction read as Decimal (exactly as written)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise Bad("Requisição mal formada: corpo vazio")
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise Bad("Requisição mal formada: JSON inválido") from None


def read_object(request: Request) -> dict[str, Any]:
    body = read_json(request)
    if not isinstance(body, dict):
        raise Bad("Requisição mal formada: esperado um objeto JSON")
    return body


def pick(body: Mapping[str, Any], name: str) -> Any:
    """A body field, its key matched ignoring case (Newtonsoft binds ``Login_token`` too)."""
    if name in body:
        return body[name]
    wanted = name.lower()
    return next((v for k, v in body.items() if str(k).lower() == wanted), None)


def has(body: Mapping[str, Any], name: str) -> bool:
    """Whether the body names the field at all (a partial edit changes only those)."""
    wanted = name.lower()
    return any(str(k).lower() == wanted for k in body)


def _missing(name: str) -> Bad:
    return Bad(f"O campo {name} é obrigatório")


def _invalid(name: str) -> Bad:
    return Bad(f"O campo {name} é inválido")


def as_text(value: Any, name: str, *, required: bool = True, blank: bool = False) -> str | None:
    """A text field; required ones must be present (and non-blank unless ``blank``)."""
    if value is None:
        if required:
            raise _missing(name)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise _invalid(name)
    text = value if isinstance(value, str) else str(value)
    if required and not blank and not text.strip():
        raise _missing(name)
    return text


def as_number(value: Any, name: str, *, required: bool = True) -> Decimal | None:
    """A non-negative number (JSON number, or numeric text as Newtonsoft coerces it)."""
    if value is None:
        if required:
            raise _missing(name)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise _invalid(name)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid(name) from None
    if not number.is_finite() or number < 0 or number.adjusted() >= 12:
        raise _invalid(name)
    return number


def as_count(value: Any, name: str, *, required: bool = True) -> int | None:
    """A non-negative whole number (a quantity)."""
    number = as_number(value, name, required=required)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _invalid(name)
    return int(number)


def as_id(value: Any, name: str, *, required: bool = True) -> int | None:
    """An id: a positive whole number (or its text)."""
    number = as_count(value, name, required=required)
    if number is not None and number < 1:
        raise _invalid(name)
    return number

"""The Tray sandbox's HTTP side: routes, tokens, Tray's error bodies and list pages.

:class:`TrayHttp` is what every route of the store shares; the routes
themselves live in ``sandbox_catalogue`` (products, variants, brands,
categories) and ``sandbox_sales`` (orders, invoices, shipping, payments,
customers), and :class:`tramo_tray_rest.sandbox.TraySandbox` puts them together.
Every route but ``/web_api/auth`` wants a valid ``?access_token=``; every
error answers Tray's documented body ``{code, url, name, [error_code,] causes}``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from tramo.budget import Window
from tramo.sandbox import (
    HttpSandbox,
    Knobs,
    Request,
    Response,
    json_response,
    retry_after_header,
)
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule

from tramo_tray_rest.sandbox_records import STORE_TZ, read_body, today_of

__all__ = ["CODE", "CONSUMER_KEY", "CONSUMER_SECRET", "STORE_ID", "STORE_NAME", "Getter",
           "TrayHttp", "tray_error", "written"]

CONSUMER_KEY = "sandbox-consumer-key"
CONSUMER_SECRET = "sandbox-consumer-secret-7f3a9c"
#: The store's authorization code (Tray's are 64 hex characters).
CODE = "5d1f0a8c3b7e4962a0c4f8e1d2b3a4c5e6f708192a3b4c5d6e7f8091a2b3c4d5"
STORE_ID = "391250"
STORE_NAME = "Loja Sandbox tramo"

ACCESS_LIFETIME = 3 * 3600.0
REFRESH_LIFETIME = 30 * 86400.0
MAX_LIMIT = 50
DEFAULT_LIMIT = 30
TRAY_LIMITS = (Window(180, 60), Window(10_000, 86_400))

#: How a list's filter reads a record's value (a list when any of several may match).
Getter = Callable[[Mapping[str, Any]], Any]

_DAY = r"\d{4}-\d{2}-\d{2}"
_DAYS = re.compile(rf"({_DAY})(?:\s*,\s*({_DAY}))?")


def _rules() -> Map:
    base = "/web_api"
    routes = [
        ("/auth", "auth", ["GET", "POST"]), ("/info", "info", ["GET"]),
        ("/products", "products", ["GET", "POST"]),
        ("/products/<ident>", "product", ["GET", "PUT", "DELETE"]),
        ("/products/variants", "variants", ["GET", "POST"]),
        ("/products/variants/<ident>", "variant", ["GET", "PUT", "DELETE"]),
        ("/products/brands", "brands", ["GET"]), ("/products/brands/<ident>", "brand", ["GET"]),
        ("/categories", "categories", ["GET", "POST"]),
        ("/categories/tree", "category_tree", ["GET"]),
        ("/categories/tree/<ident>", "category_tree", ["GET"]),
        ("/categories/<ident>", "category", ["GET", "PUT", "DELETE"]),
        ("/orders", "orders", ["GET", "POST"]),
        ("/orders/statuses", "order_statuses", ["GET"]),
        ("/orders/statuses/<ident>", "order_status", ["GET"]),
        ("/orders/invoices", "invoices", ["GET"]),
        ("/orders/cancel/<ident>", "order_cancel", ["PUT"]),
        ("/orders/<ident>", "order", ["GET", "PUT"]),
        ("/orders/<ident>/complete", "order_complete", ["GET"]),
        ("/orders/<ident>/invoices", "order_invoices", ["GET", "POST"]),
        ("/orders/<ident>/invoices/<invoice>", "order_invoice", ["GET", "PUT"]),
        ("/shippings", "shippings", ["GET"]), ("/shippings/cotation", "cotation", ["GET"]),
        ("/payments", "payments", ["GET"]), ("/payments/options", "payment_options", ["GET"]),
        ("/payments/<ident>", "payment", ["GET"]),
        ("/customers", "customers", ["GET"]), ("/customers/<ident>", "customer", ["GET"]),
    ]
    rules = [Rule(base + path, endpoint=name, methods=methods) for path, name, methods in routes]
    return Map(rules, strict_slashes=False)


#: Endpoints that answer a page of a list (where DUPLICATE_PAGE applies).
LIST_ENDPOINTS = frozenset({"products", "variants", "brands", "categories", "orders",
                            "order_statuses", "invoices", "shippings", "payments", "customers"})


def tray_error(url: str, status: int, name: str, causes: Iterable[str],
               error_code: int | None = None) -> Response:
    """Tray's error body: ``{code, url, name, [error_code,] causes}`` (reference §2)."""
    body: dict[str, Any] = {"code": status, "url": url, "name": name}
    if error_code is not None:
        body["error_code"] = error_code
    body["causes"] = list(causes)
    return json_response(body, status)


def written(message: str, ident: str, code: int) -> Response:
    """Tray's answer to a write: ``{"message": "Created", "id": "123", "code": 201}``."""
    return json_response({"message": message, "id": ident, "code": code}, code)


def _wall_text(timestamp: float) -> str:
    """A wall-clock instant as Tray writes token dates: store time, no offset."""
    return datetime.fromtimestamp(timestamp, STORE_TZ).strftime("%Y-%m-%d %H:%M:%S")


class TrayHttp(HttpSandbox):
    """What every route of the Tray store shares: routing, tokens, errors, list pages.

    Without knobs it enforces Tray's limits (180 a minute, 10,000 a day) with
    platform time running 100 times faster, so waits stay short.
    """

    url_map = _rules()

    def __init__(self, knobs: Knobs | None = None, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if knobs is None:
            knobs = Knobs(time_scale=100, rate_limits=TRAY_LIMITS)
        super().__init__(knobs, host=host, port=port)

    # -- plumbing: routing, tokens, Tray's error bodies -------------------------------

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        response = tray_error(request.path, 429, "Too Many Requests",
                              ["Limite de requisições excedido, tente novamente mais tarde"])
        response.headers["Retry-After"] = retry_after_header(retry_after)
        return response

    def server_error(self, request: Request) -> Response:
        return tray_error(request.path, 500, "Internal Server Error",
                          ["Erro interno, tente novamente mais tarde"])

    def not_found(self, request: Request) -> Response:
        return tray_error(request.path, 404, "Not Found", ["Recurso não encontrado"])

    def is_page_read(self, request: Request) -> bool:
        if request.method != "GET":
            return False
        try:
            endpoint, _ = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException:
            return False
        return endpoint in LIST_ENDPOINTS

    def http_error(self, request: Request, exc: HTTPException) -> Response:
        if isinstance(exc, MethodNotAllowed):
            return tray_error(request.path, 405, "Method Not Allowed", ["Método não permitido"])
        return tray_error(request.path, exc.code or 400, exc.name, [exc.description or ""])

    def guard(self, request: Request, endpoint: str) -> Response | None:
        """Every route but ``/auth`` needs a valid, unexpired access token."""
        if endpoint == "auth":
            return None
        token = request.args.get("access_token", "")
        with self.lock:
            expires = self.data["access_tokens"].get(token)
        if expires is None:
            return tray_error(request.path, 401, "Unauthorized access", ["Token inválido"], 1099)
        if expires <= self.now():
            return tray_error(request.path, 401, "Unauthorized access",
                              ["Token inválido ou expirado"], 1000)
        return None

    def _bad(self, request: Request, causes: Iterable[str]) -> Response:
        return tray_error(request.path, 400, "Bad Request", causes)

    def _missing(self, request: Request, what: str, ident: str) -> Response:
        return tray_error(request.path, 404, "Not Found", [f"{what} {ident} não encontrado"])

    def _site(self) -> str:
        return self.url

    def _today(self) -> date:
        return today_of(self.data["clock"])

    def _wrapped(self, request: Request,
                 wrapper: str) -> tuple[dict[str, Any] | None, Response | None]:
        """The object under ``wrapper`` in the body, or Tray's 400 when it is not there."""
        body, problem = read_body(request)
        if problem is not None:
            return None, self._bad(request, [problem])
        inner = body.get(wrapper) if isinstance(body, dict) else None
        if not isinstance(inner, dict):
            cause = f"{wrapper}: dados não enviados (esperado {{\"{wrapper}\": {{...}}}})"
            return None, self._bad(request, [cause])
        return inner, None

    # -- auth -----------------------------------------------------------------------------

    def on_auth(self, request: Request) -> Response:
        with self.lock:
            if request.method == "GET":
                return self._refresh(request)
            body, problem = read_body(request)
            given = {**request.args.to_dict(), **(body if isinstance(body, dict) else {})}
            wanted = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
                      "code": CODE}
            if problem is not None or any(str(given.get(k, "")) != v for k, v in wanted.items()):
                return tray_error(request.path, 401, "Unauthorized access",
                                  ["consumer_key, consumer_secret ou code inválidos"], 1099)
            return json_response(self._issue("Created tokens", "201"), 201)

    def _refresh(self, request: Request) -> Response:
        token = request.args.get("refresh_token", "")
        expires = self.data["refresh_tokens"].get(token)
        if expires is None or expires <= self.now():
            return tray_error(request.path, 401, "Unauthorized access",
                              ["refresh_token inválido ou expirado"], 1099)
        del self.data["refresh_tokens"][token]
        return json_response(self._issue("Refreshed tokens", "200"), 200)

    def _issue(self, message: str, code: str) -> dict[str, str]:
        now = self.now()
        access = f"APP-{STORE_ID}-{secrets.token_hex(32)}"
        refresh = secrets.token_hex(32)
        access_until = now + self.duration(ACCESS_LIFETIME)
        refresh_until = now + self.duration(REFRESH_LIFETIME)
        self.data["access_tokens"][access] = access_until
        self.data["refresh_tokens"][refresh] = refresh_until
        self.data["issued"] += 1
        return {"message": message, "code": code, "access_token": access, "refresh_token": refresh,
                "date_expiration_access_token": _wall_text(access_until),
                "date_expiration_refresh_token": _wall_text(refresh_until),
                "date_activated": _wall_text(now), "api_host": f"{self.url}/web_api",
                "store_id": STORE_ID}

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens keep working)."""
        with self.lock:
            now = self.now()
            tokens = self.data["access_tokens"]
            for token in tokens:
                tokens[token] = min(tokens[token], now)

    def issued_tokens(self) -> int:
        """How many times tokens were issued (code exchanges plus refreshes)."""
        with self.lock:
            return int(self.data["issued"])

    # -- lists: filters, sort, pages ----------------------------------------------------------

    def _page(self, request: Request, records: Sequence[Mapping[str, Any]], list_key: str,
              item_key: str, render: Callable[[Mapping[str, Any]], Any],
              filters: Mapping[str, Getter],
              sortable: tuple[str, ...] = ("id",)) -> Response:
        """Filter, sort and page ``records`` as Tray's list answers do."""
        causes: list[str] = []
        page = self._number(request, "page", 1, causes)
        limit = self._number(request, "limit", DEFAULT_LIMIT, causes)
        field, direction = self._sort(request, sortable, causes)
        chosen, applied = self._filtered(request, records, filters, causes)
        if causes:
            return self._bad(request, causes)
        limit = min(limit, MAX_LIMIT)
        ordered = sorted(chosen, key=_sort_key(field), reverse=direction == "desc")
        offset = (page - 1) * limit
        return json_response({
            "paging": {"total": len(ordered), "page": page, "offset": offset, "limit": limit,
                       "maxLimit": MAX_LIMIT},
            "sort": [{field: direction}], "availableFilters": list(filters),
            "appliedFilters": applied,
            list_key: [{item_key: render(r)} for r in ordered[offset: offset + limit]],
        })

    @staticmethod
    def _number(request: Request, name: str, default: int, causes: list[str]) -> int:
        text = request.args.get(name)
        if text is None or text == "":
            return default
        if not text.isdigit() or int(text) < 1:
            causes.append(f"{name}: deve ser um número inteiro maior que 0")
            return default
        return int(text)

    @staticmethod
    def _sort(request: Request, sortable: tuple[str, ...], causes: list[str]) -> tuple[str, str]:
        text = request.args.get("sort") or "id_asc"
        field, _, direction = text.rpartition("_")
        if field not in sortable or direction not in ("asc", "desc"):
            causes.append(f"sort: use {' ou '.join(f'{f}_asc, {f}_desc' for f in sortable)}")
            return "id", "asc"
        return field, direction

    @staticmethod
    def _filtered(request: Request, records: Sequence[Mapping[str, Any]],
                  filters: Mapping[str, Getter],
                  causes: list[str]) -> tuple[list[Mapping[str, Any]], list[str]]:
        """The records every given filter matches (exact values; ``modified`` by days)."""
        chosen = list(records)
        applied = []
        for name, value_of in filters.items():
            wanted = request.args.get(name)
            if wanted is None:
                continue
            applied.append(name)
            if name == "modified":
                days = _days(wanted)
                if days is None:
                    causes.append("modified: use AAAA-MM-DD ou AAAA-MM-DD,AAAA-MM-DD")
                    continue
                first, last = days
                chosen = [r for r in chosen if _within(value_of(r)[:10], first, last)]
            else:
                chosen = [r for r in chosen if _matches(value_of(r), wanted)]
        return chosen, applied


def _days(text: str) -> tuple[str, str | None] | None:
    """``YYYY-MM-DD`` (that day on) or ``YYYY-MM-DD,YYYY-MM-DD`` (both days included)."""
    found = _DAYS.fullmatch(text.strip())
    if found is None:
        return None
    try:
        for day in found.groups():
            if day is not None:
                date.fromisoformat(day)
    except ValueError:
        return None
    return found.group(1), found.group(2)


def _within(day: str, first: str, last: str | None) -> bool:
    return first <= day and (last is None or day <= last)


def _sort_key(field: str) -> Callable[[Mapping[str, Any]], Any]:
    """Ids sort as numbers; ``modified`` ties (the same second) fall back to the id."""
    if field == "modified":
        return lambda r: (r["modified"], int(r["id"]))
    return lambda r: int(r["id"])


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, list):
        return wanted in value
    return str(value) == wanted

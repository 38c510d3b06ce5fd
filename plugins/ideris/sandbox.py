"""An Ideris account's API v1 on loopback: the marketplace hub the ideris plugin talks to.

Tests, ``tramo demo``, benchmarks and the conformance kit point the plugin at
this server instead of ``http://api.ideris.com.br`` (Ideris has no sandbox of
its own). It is the *platform*, so it never uses the plugin's code: it
exchanges the login token for a signed JWT and checks it on every call (raw
in ``Authorization``, no "Bearer"), answers the ``{paging, result}``
envelope, refuses what Ideris refuses with its bare-string error bodies,
creates products through asynchronous protocols, and converts what it holds
to the tramo model itself (``held_*``, in :mod:`tramo_ideris.sandbox_store`).

What is known of the API is in /tmp/ideris_facts.md (shared reference part
C); where the record is silent, the contract in ideris_spec.md is the design.
Record times come from a store clock that ticks one second per change (exact
checkpoints); JWT lifetimes follow the wall clock, scaled by ``time_scale``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from tramo.budget import Window
from tramo.sandbox import Call, Knobs, Request, Response, json_response, retry_after_header
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from tramo_ideris.sandbox_profile import MAPPINGS, profile
from tramo_ideris.sandbox_records import (
    ACCOUNT,
    DENIED,
    GENERAL,
    LOGIN_TOKEN,
    MARKETPLACES,
    NO_BRAND,
    NOTIFICATION_TOKEN,
    STATUSES,
    Bad,
    message,
    page,
    pick,
    query,
    read_object,
)
from tramo_ideris.sandbox_seed import fill
from tramo_ideris.sandbox_store import IderisStore

__all__ = ["ACCOUNT", "LOGIN_TOKEN", "MAPPINGS", "NOTIFICATION_TOKEN", "IderisSandbox"]

#: No published figure: 120 calls a minute of platform time is the sandbox's design.
IDERIS_LIMITS = (Window(120, 60),)
#: A JWT lives 6 hours of platform time.
TOKEN_LIFETIME = 6 * 3600.0
TOO_MANY = "Requisição excede a quantidade máxima de chamadas permitidas à API."

#: (path as Ideris spells it, endpoint, methods, defaults)
ROUTES: tuple[tuple[str, str, tuple[str, ...], dict[str, str]], ...] = (
    ("/Login", "login", ("POST",), {}),
    ("/Produto", "products", ("GET", "POST", "PUT"), {}),
    ("/Produto/<ident>", "product", ("GET",), {}),
    ("/Protocolo", "protocols", ("GET",), {}),
    ("/Marca", "brands", ("GET", "POST"), {}),
    ("/Categoria", "general", ("GET",), {"kind": "Categoria"}),
    ("/SubCategoria", "general", ("GET",), {"kind": "SubCategoria"}),
    ("/Departamento", "general", ("GET",), {"kind": "Departamento"}),
    ("/Marketplace", "marketplaces", ("GET",), {}),
    ("/Status", "statuses", ("GET",), {}),
    ("/ListaPedido", "order_list", ("GET",), {}),
    ("/Pedido", "orders", ("GET",), {}),
    ("/Pedido/<ident>", "order", ("GET",), {}),
    ("/PedidoStatus", "order_status", ("PUT",), {}),
    ("/notificacoes/rastreio/<token>", "notification", ("POST",), {"kind": "rastreio"}),
    ("/notificacoes/nota-fiscal/<token>", "notification", ("POST",), {"kind": "nota-fiscal"}),
)
#: Endpoints that answer a page of a list (where DUPLICATE_PAGE applies).
LIST_ENDPOINTS = frozenset({"products", "protocols", "brands", "general", "marketplaces",
                            "statuses", "order_list"})
#: Endpoints reached without a JWT.
OPEN_ENDPOINTS = frozenset({"login", "notification"})


def _rules() -> Map:
    """The routes in lower case: paths match ignoring case, as Ideris' do (``/produto`` works)."""
    return Map([Rule(path.lower(), endpoint=name, methods=list(methods), defaults=defaults or None)
                for path, name, methods, defaults in ROUTES], strict_slashes=False)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class IderisSandbox(IderisStore):
    """An Ideris account on a loopback port. ``data`` is the account; ``calls`` what reached it.

    Without knobs it allows 120 calls a minute with platform time running 100
    times faster, so JWT lifetimes, protocol delays and waits stay short.
    """

    plugin = "ideris"
    profile = profile(MAPPINGS)
    url_map = _rules()

    def __init__(self, knobs: Knobs | None = None, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if knobs is None:
            knobs = Knobs(time_scale=100, rate_limits=IDERIS_LIMITS)
        super().__init__(knobs, host=host, port=port)

    @property
    def settings(self) -> dict[str, Any]:
        """The connection settings for this account, its rate limit in real time.

        A window here lasts ``seconds / time_scale``, so a real minute holds
        ``time_scale`` times Ideris' calls; the plugin's budget counts real seconds.
        """
        windows = {w.seconds: w.limit for w in self.knobs.rate_limits}
        notify = f"{self.url}/notificacoes"
        return {"base_url": self.url, "login_token": LOGIN_TOKEN, "plan": "essencial",
                "realtime_stock_extension": False,
                "tracking_notification_url": f"{notify}/rastreio/{NOTIFICATION_TOKEN}",
                "invoice_notification_url": f"{notify}/nota-fiscal/{NOTIFICATION_TOKEN}",
                "requests_per_minute": int(windows.get(60, IDERIS_LIMITS[0].limit)
                                           * self.knobs.time_scale),
                "category_id": 1, "subcategory_id": 1, "department_id": 1, "brand_id": NO_BRAND}

    def seed(self, products: int = 20, orders: int = 10, *, seed: int = 0) -> None:
        """Fill the account with a realistic catalogue and marketplace orders (deterministic).

        For ``tramo demo`` and benchmarks; ``reset()`` never seeds (tests start empty).
        """
        fill(self, products, orders, seed)

    def is_write(self, call: Call) -> bool:
        """Any method but GET, except the login (``POST /Login``, any case), which only
        exchanges the login token for a JWT."""
        return super().is_write(call) and call.path.lower().rstrip("/") != "/login"

    # -- routing: paths ignoring case, business errors as bare strings -----------------------

    def match(self, request: Request) -> tuple[str, dict[str, Any]]:
        """Ideris routes ignoring case (clients send /produto and /Produto alike)."""
        adapter = self.url_map.bind_to_environ(request.environ)
        endpoint, arguments = adapter.match(path_info=request.path.lower(),
                                            method=request.method)
        return str(endpoint), dict(arguments)

    def dispatch(self, request: Request) -> Response:
        """Process due protocols first; a :class:`Bad` raised by a route is Ideris' bare string."""
        self.process_protocols()
        try:
            return super().dispatch(request)
        except Bad as exc:
            return message(exc.text, exc.status)

    def is_page_read(self, request: Request) -> bool:
        if request.method != "GET":
            return False
        try:
            endpoint, _ = self.match(request)
        except HTTPException:
            return False
        return endpoint in LIST_ENDPOINTS and not (endpoint == "products" and query(request, "sku"))

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return json_response(TOO_MANY, 429, {"Retry-After": retry_after_header(retry_after)})

    def server_error(self, request: Request) -> Response:
        return message("Erro na API", 500)

    def not_found(self, request: Request) -> Response:
        return message("Recurso não encontrado", 404)

    def http_error(self, request: Request, exc: HTTPException) -> Response:
        if isinstance(exc, MethodNotAllowed):
            return message("Operação não suportada", 405)
        return message(exc.description or exc.name, exc.code or 400)

    # -- auth: the login token for a JWT, the JWT on every call -----------------------------

    def guard(self, request: Request, endpoint: str) -> Response | None:
        """Every route but the login and the notification URLs needs a live JWT, raw."""
        if endpoint in OPEN_ENDPOINTS:
            return None
        if not self._live(request.headers.get("Authorization", "")):
            return json_response(DENIED, 401)
        return None

    def on_login(self, request: Request) -> Response:
        try:
            token = pick(read_object(request), "login_token")
        except Bad:
            token = None
        if not isinstance(token, str) or not hmac.compare_digest(token, LOGIN_TOKEN):
            return json_response(DENIED, 401)
        with self.lock:
            return json_response(self._issue())

    def _issue(self) -> str:
        now = self.now()
        issued = int(now)
        expires = max(int(now + self.duration(TOKEN_LIFETIME)), issued + 1)
        signed = (f"{_b64(_compact({'alg': 'HS256', 'typ': 'JWT'}))}."
                  f"{_b64(_compact({'sub': ACCOUNT, 'iat': issued, 'exp': expires}))}")
        jwt = f"{signed}.{_b64(self._signature(signed))}"
        self.data["tokens"][jwt] = float(expires)
        self.data["logins"] += 1
        return jwt

    def _signature(self, signed: str) -> bytes:
        return hmac.new(self.data["secret"], signed.encode("ascii"), hashlib.sha256).digest()

    def _live(self, jwt: str) -> bool:
        """Issued here, untampered (its signature checks) and not expired."""
        parts = jwt.split(".")
        if len(parts) != 3:
            return False
        with self.lock:
            until = self.data["tokens"].get(jwt)
            if until is None:
                return False
            try:
                good = hmac.compare_digest(_unb64(parts[2]),
                                           self._signature(f"{parts[0]}.{parts[1]}"))
                claims = json.loads(_unb64(parts[1]))
            except (ValueError, UnicodeError):
                return False
        now = self.now()
        return good and until > now and float(claims.get("exp", 0)) > now

    def expire_tokens(self) -> None:
        """Every JWT issued so far expires now (a plugin must log in again)."""
        with self.lock:
            now = self.now()
            tokens = self.data["tokens"]
            for jwt in tokens:
                tokens[jwt] = min(tokens[jwt], now)

    def logins(self) -> int:
        """How many times a JWT was issued (renewals show here)."""
        with self.lock:
            return int(self.data["logins"])

    # -- look-ups -----------------------------------------------------------------------------

    def on_marketplaces(self, request: Request) -> Response:
        return page(request, [{"id": i, "descricao": d} for i, d in MARKETPLACES.items()])

    def on_statuses(self, request: Request) -> Response:
        return page(request, [{"id": i, "descricao": d, "modulo": m}
                              for i, (d, m) in STATUSES.items()])

    def on_general(self, request: Request, kind: str) -> Response:
        """Categoria, SubCategoria and Departamento: each holds "Geral" (id 1) only."""
        wanted = query(request, "descricao")
        return page(request, [{"id": i, "descricao": d} for i, d in GENERAL.items()
                              if not wanted or d.casefold() == wanted.casefold()])

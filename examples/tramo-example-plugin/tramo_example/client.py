"""The minishop API client: one per connection, over the core's HTTP client.

The core's client (``connection.http_client``) brings the mechanics: TLS,
retries with backoff, Retry-After, the rate budget, refusing to resend a
write that could land twice. This module adds only what is minishop's own:
its address and bearer token, its rate limit, how its answers are read
(:mod:`tramo_example.wire`). What a write of many items reports is the
core's (:func:`tramo.writes.write_each`).

Sync hooks use :func:`api`, async hooks :func:`async_api`; both are kept per
connection with ``connection.resource`` and closed with it. (An async client
belongs to one event loop: use a connection from one loop.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

import tramo
from tramo.budget import Window
from tramo.http import IDEMPOTENT

from tramo_example import wire

__all__ = ["AsyncMinishop", "Minishop", "WINDOWS", "api", "async_api", "path"]

#: minishop allows 120 requests a minute per store (README, "Limits").
WINDOWS = (Window(120, 60, burst=60),)


def path(template: str, *values: str) -> str:
    """A request path with each value percent-encoded (SKUs and codes may hold ``/`` or ``?``)."""
    return template.format(*(quote(v, safe="") for v in values))


def _headers(connection: tramo.Connection) -> dict[str, str]:
    token = connection.settings["api_token"].reveal()  # the one place the secret is revealed
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _extensions(idempotent: bool | None) -> dict[str, Any]:
    return {} if idempotent is None else {IDEMPOTENT: idempotent}


def per_page(connection: tramo.Connection) -> int:
    """The page size asked for: the ``page_size`` setting, kept within minishop's 1..100."""
    return max(1, min(int(connection.settings["page_size"]), wire.PER_PAGE_MAX))


class Minishop:
    """Sync calls to minishop; answers are JSON objects, failures typed tramo errors."""

    def __init__(self, connection: tramo.Connection) -> None:
        self.per_page = per_page(connection)
        self.http: httpx.Client = connection.http_client(
            connection.settings["api_address"], headers=_headers(connection),
            budget=connection.budget("api", WINDOWS))

    def get(self, where: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.get(where, params=params)
        return wire.read_answer(response.status_code, response.content)

    def send(self, method: str, where: str, body: Any = None, *,
             idempotent: bool | None = None) -> tuple[int, dict[str, Any]]:
        """A write: its HTTP status and answer.

        ``idempotent=True`` tells the core's client that sending it again cannot
        duplicate anything (minishop dedups by the id in the body), so it may
        retry; by default a POST is never sent twice.
        """
        response = self.http.request(method, where, json=body, extensions=_extensions(idempotent))
        return response.status_code, wire.read_answer(response.status_code, response.content)

    def page(self, where: str, params: dict[str, Any], number: int) -> tuple[list[Any], int]:
        answer = self.get(where, {**params, "page": number, "per_page": self.per_page})
        return wire.page_of(answer, number, params.get("updated_since"))

    def find_product(self, code: str) -> dict[str, Any] | None:
        """minishop's product with this code, or None."""
        try:
            found = self.get(path("/products/by-code/{}", code))
        except tramo.PlatformError as exc:
            if exc.code == "not_found":
                return None
            raise
        return found.get("data") if isinstance(found.get("data"), dict) else None


class AsyncMinishop:
    """:class:`Minishop` for async hooks (reads only in this plugin)."""

    def __init__(self, connection: tramo.Connection) -> None:
        self.per_page = per_page(connection)
        self.http: httpx.AsyncClient = connection.async_http_client(
            connection.settings["api_address"], headers=_headers(connection),
            budget=connection.budget("api", WINDOWS))

    async def get(self, where: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.get(where, params=params)
        return wire.read_answer(response.status_code, response.content)

    async def page(self, where: str, params: dict[str, Any], number: int) -> tuple[list[Any], int]:
        answer = await self.get(where, {**params, "page": number, "per_page": self.per_page})
        return wire.page_of(answer, number, params.get("updated_since"))


def api(connection: tramo.Connection) -> Minishop:
    return connection.resource("minishop", lambda: Minishop(connection))


def async_api(connection: tramo.Connection) -> AsyncMinishop:
    return connection.resource("minishop-async", lambda: AsyncMinishop(connection))

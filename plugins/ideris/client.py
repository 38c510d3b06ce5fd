"""The Ideris client: one per connection, over the core's HTTP client, token keeper and budget.

The core brings the mechanics (TLS, retries with backoff, Retry-After, the
rate budget, the token kept and renewed ahead of expiry and after a 401).
This module adds what is Ideris' own: the ``/Login`` exchange (a JWT sent
bare in ``Authorization``), its envelope and offset paging with a check
that each page is the one asked for, look-ups of products by SKU, brands
and the status ids, and the asynchronous product creation followed through
its ``Protocolo``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

import tramo
from tramo.budget import Budget, Window, published_limits
from tramo.http import IDEMPOTENT
from tramo.paging import SeenRecords, gather_pages
from tramo.scalars import text
from tramo.tokens import Token, TokenAuth, TokenKeeper, jwt_expiry, raw_header

from tramo_ideris import wire

__all__ = ["AsyncIderis", "Ideris", "api", "async_api", "keeper", "notifier"]

Json = dict[str, Any]


def windows(connection: tramo.Connection) -> tuple[Window, ...]:
    """No limit is published: the connection's setting, 429s honoured on top."""
    return published_limits(per_minute=int(connection.settings["requests_per_minute"]),
                            per_second=int(connection.settings["requests_per_second"]))


def budget(connection: tramo.Connection) -> Budget:
    return connection.budget("api", windows(connection))


def per_page(connection: tramo.Connection) -> int:
    return max(1, min(int(connection.settings["page_size"]), wire.PAGE_MAX))


def keeper(connection: tramo.Connection) -> TokenKeeper:
    """The account's JWT: obtained at ``POST /Login`` with the login token, renewed before ``exp``."""

    def obtain(current: Token | None) -> Token:
        http = connection.resource("ideris-login", lambda: connection.http_client(
            connection.settings["base_url"], budget=budget(connection)))
        response = http.post("/Login", json={"login_token": connection.settings["login_token"].reveal()},
                             extensions={IDEMPOTENT: True})
        jwt = wire.jwt_from_login(response.status_code, response.content)
        lifetime = timedelta(minutes=int(connection.settings["token_minutes"]))
        return Token(jwt, expires_at=jwt_expiry(jwt) or datetime.now(timezone.utc) + lifetime)

    return connection.resource("ideris-token", lambda: TokenKeeper(
        connection.state, obtain, margin=timedelta(minutes=2)))


def _client(connection: tramo.Connection) -> dict[str, Any]:
    return {"base_url": connection.settings["base_url"],
            "headers": {"Accept": "application/json"}, "budget": budget(connection)}


def _auth(connection: tramo.Connection) -> TokenAuth:
    return TokenAuth(keeper(connection), raw_header)


class Ideris:
    """Sync calls to one Ideris account; answers are envelopes, failures typed tramo errors."""

    def __init__(self, connection: tramo.Connection) -> None:
        self.connection = connection
        self.per_page = per_page(connection)
        self.http: httpx.Client = connection.http_client(**_client(connection))
        self.http.auth = _auth(connection)
        self._statuses: dict[str, int] | None = None

    def get(self, where: str, params: Mapping[str, Any] | None = None) -> Json:
        response = self.http.get(where, params=params)
        return wire.read_answer(response.status_code, response.content)

    def send(self, method: str, where: str, body: Any) -> Json:
        """A write; a POST is never sent twice (the core retries only what is safe)."""
        response = self.http.request(method, where, json=body)
        return wire.read_answer(response.status_code, response.content, write=True)

    def pages(self, where: str, params: Mapping[str, Any] | None = None) -> Iterator[Json]:
        """Every record of a list, ``offset`` by ``limit``, each page checked to be the one asked for."""
        seen = SeenRecords(where.strip("/"))
        offset = 0
        while True:
            found, total = wire.page_of(self.get(where, {**(params or {}), "offset": offset,
                                                         "limit": self.per_page}), offset)
            seen.check(text(r.get("id")) for r in found)
            yield from found
            offset += len(found)
            if not found or offset >= total:
                return

    # -- look-ups ---------------------------------------------------------------------------

    def product_by_sku(self, sku: str) -> Json | None:
        """The product whose sku, or one of whose variations' sku, is ``sku`` (with images)."""
        try:
            found = wire.records(self.get("/Produto", {"sku": sku, "include": "imagem"}))
        except tramo.PlatformError as exc:
            if exc.code == "not_found":
                return None
            raise
        for record in found:
            skus = {text(record.get("sku"))} | {
                text(v.get("skuVariacao")) for v in record.get("Variacao") or []}
            if sku in skus:
                return record
        return None

    def status_id(self, status: str) -> int:
        """The id ``PedidoStatus`` takes for an order status text (the list read once)."""
        if self._statuses is None:
            self._statuses = wire.status_ids(self.pages("/Status"))
        if status not in self._statuses:
            raise tramo.PlatformError(f"{status!r} is not one of this Ideris account's order statuses "
                                      f"(GET /Status, modulo Pedido); fix the status mapping",
                                      code="unknown_status")
        return self._statuses[status]

    def brand_id(self, brand: tramo.Brand) -> int:
        """Ideris' id of a brand: bound, else found by name, else created."""
        bound = self.connection.binder("brand")
        remote = bound.remote(brand.id)
        if remote is not None:
            return int(remote)
        ident = self._brand_named(brand.name)
        if ident is None:
            try:
                created = wire.records(self.send("POST", "/Marca", {"descricao": brand.name}))
                ident = text(created[0].get("id")) if created else ""
            except tramo.PlatformError as exc:
                if exc.code != "conflict":
                    raise
                ident = self._brand_named(brand.name) or ""
            if not ident.isdigit():
                raise tramo.PlatformError(f"Ideris did not give brand {brand.name!r} an id")
        bound.bind(brand.id, ident)
        return int(ident)

    def _brand_named(self, name: str) -> str | None:
        for record in self.pages("/Marca", {"descricao": name}):
            if text(record.get("descricao")).casefold() == name.casefold():
                return text(record.get("id"))
        return None

    def protocol(self, code: str) -> Json | None:
        found = wire.records(self.get("/Protocolo", {"codigo": code}))
        return next((p for p in found if text(p.get("codigo")) == code), None)


class AsyncIderis:
    """:class:`Ideris`' reads for async hooks: pages and order details fetched concurrently."""

    def __init__(self, connection: tramo.Connection) -> None:
        self.per_page = per_page(connection)
        self.concurrency = max(1, int(connection.settings["concurrency"]))
        self.http: httpx.AsyncClient = connection.async_http_client(**_client(connection))
        self.http.auth = _auth(connection)

    async def get(self, where: str, params: Mapping[str, Any] | None = None) -> Json:
        response = await self.http.get(where, params=params)
        return wire.read_answer(response.status_code, response.content)

    async def page_lists(self, where: str, params: Mapping[str, Any]) -> AsyncIterator[list[Json]]:
        """A list page by page: the first says the total, the rest come concurrently, in order."""
        seen = SeenRecords(where.strip("/"))

        async def page(offset: int) -> tuple[list[Json], int]:
            return wire.page_of(await self.get(where, {**params, "offset": offset,
                                                       "limit": self.per_page}), offset)

        first, total = await page(0)
        seen.check(text(r.get("id")) for r in first)
        yield first
        rest = -(-total // self.per_page) - 1 if first else 0

        async def fetch(number: int) -> list[list[Json]]:
            found, _ = await page(number * self.per_page)
            return [found]

        if rest > 0:
            async for found in gather_pages(fetch, rest, first=1, concurrency=self.concurrency):
                seen.check(text(r.get("id")) for r in found)
                yield found

    async def orders(self, ids: Sequence[str]) -> list[Json]:
        """Full orders for up to 50 ids in one call (``GET /Pedido?ids=``)."""
        if not ids:
            return []
        return wire.records(await self.get("/Pedido", {"ids": ",".join(ids)}))


def api(connection: tramo.Connection) -> Ideris:
    return connection.resource("ideris", lambda: Ideris(connection))


def async_api(connection: tramo.Connection) -> AsyncIderis:
    return connection.resource("ideris-async", lambda: AsyncIderis(connection))


def notifier(connection: tramo.Connection) -> httpx.Client:
    """The client for the two notification URLs: no Ideris token, no Ideris budget, the core's retries."""
    return connection.resource("ideris-notify", lambda: connection.http_client(
        headers={"Accept": "application/json"}))

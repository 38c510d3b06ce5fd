"""The Tray REST client: one per connection, over the core's HTTP client, tokens and budget.

The core brings the mechanics (TLS, retries with backoff, Retry-After, the
rate budget, the token kept and renewed ahead of expiry, redaction of the
``access_token`` query parameter in logs). This module adds what is Tray's
own: the ``/auth`` exchange, the budget's two windows (a minute and a day),
how answers are read (:mod:`tramo_tray_rest.wire`), paging and the look-ups
of products and SKUs by the ERP's codes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx

import tramo
from tramo.budget import Budget, Window, published_limits
from tramo.http import IDEMPOTENT, path
from tramo.paging import Page, gather_pages, page_numbers
from tramo.tokens import Token, TokenAuth, TokenKeeper, query_parameter

from tramo_tray_rest import wire

__all__ = ["AsyncTray", "Tray", "api", "async_api", "windows"]


def windows(connection: tramo.Connection) -> tuple[Window, ...]:
    """Tray's limits: requests a minute and a day per store (reference §2), and an optional pace."""
    return published_limits(per_second=int(connection.settings["requests_per_second"]),
                            per_minute=int(connection.settings["requests_per_minute"]),
                            per_day=int(connection.settings["requests_per_day"]))


def budget(connection: tramo.Connection) -> Budget:
    return connection.budget("api", windows(connection))


def per_page(connection: tramo.Connection) -> int:
    return max(1, min(int(connection.settings["page_size"]), wire.PER_PAGE_MAX))


def keeper(connection: tramo.Connection) -> TokenKeeper:
    """The store's token: obtained with the code, refreshed with the refresh token, persisted."""

    def obtain(current: Token | None) -> Token:
        http = connection.resource("tray-auth", lambda: connection.http_client(
            connection.settings["api_address"], budget=budget(connection)))
        if current is not None and current.refreshable() and current.refresh is not None:
            response = http.get("/auth", params={"refresh_token": current.refresh.reveal()})
            if response.status_code != 401:
                return wire.token_from_answer(wire.read_answer(response.status_code, response.content),
                                              connection.timezone)
            # the refresh token was refused (rotated elsewhere, revoked): authorize afresh
        settings = connection.settings
        response = http.post("/auth", data={
            "consumer_key": settings["consumer_key"],
            "consumer_secret": settings["consumer_secret"].reveal(),
            "code": settings["code"].reveal()}, extensions={IDEMPOTENT: True})
        return wire.token_from_answer(wire.read_answer(response.status_code, response.content),
                                      connection.timezone)

    return connection.resource("tray-token", lambda: TokenKeeper(
        connection.state, obtain, margin=timedelta(minutes=5)))


def _client(connection: tramo.Connection) -> dict[str, Any]:
    """What the sync and async clients share: the store's address and its budget."""
    return {"base_url": connection.settings["api_address"],
            "headers": {"Accept": "application/json"}, "budget": budget(connection)}


def _auth(connection: tramo.Connection) -> TokenAuth:
    return TokenAuth(keeper(connection), query_parameter("access_token"),
                     refused=lambda r: wire.token_refused(r.status_code, r.content))


class Tray:
    """Sync calls to one Tray store; answers are JSON objects, failures typed tramo errors."""

    def __init__(self, connection: tramo.Connection) -> None:
        self.connection = connection
        self.zone = connection.timezone
        self.per_page = per_page(connection)
        self.http: httpx.Client = connection.http_client(**_client(connection))
        self.http.auth = _auth(connection)

    def get(self, where: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.get(where, params=params)
        return wire.read_answer(response.status_code, response.content)

    def send(self, method: str, where: str, body: Any = None, *,
             idempotent: bool | None = None) -> dict[str, Any]:
        """A write. A POST is never sent twice unless ``idempotent`` says it is safe."""
        extensions = {} if idempotent is None else {IDEMPOTENT: idempotent}
        response = self.http.request(method, where, json=body, extensions=extensions)
        return wire.read_answer(response.status_code, response.content, write=True)

    def find(self, where: str) -> dict[str, Any] | None:
        """A record's answer, or None when Tray says it does not exist."""
        try:
            return self.get(where)
        except tramo.PlatformError as exc:
            if exc.code == "not_found":
                return None
            raise

    def pages(self, where: str, params: dict[str, Any], plural: str,
              singular: str) -> Iterator[dict[str, Any]]:
        """Every record of a list, page by page (``page``/``limit``, the ``paging`` block)."""

        def fetch(number: int) -> Page[Any]:
            answer = self.get(where, {**params, "page": number, "limit": self.per_page})
            last = number >= wire.page_count(answer, self.per_page)
            return Page(wire.page_records(answer, number, plural, singular),
                        None if last else number + 1)

        yield from page_numbers(fetch)

    # -- the ERP's codes on Tray ---------------------------------------------------------------

    def product_by_code(self, code: str) -> dict[str, Any] | None:
        """The product whose reference is ``code``: bound on this connection, else searched."""
        products = self.connection.binder("product")
        bound = products.remote(code)
        if bound is not None:
            found = self.find(path("/products/{}", bound))
            if found is not None and wire.text(found.get("Product", {}).get("reference")) == code:
                return found["Product"]
            products.unbind(code)
        for record in self.pages("/products", {"reference": code}, "Products", "Product"):
            if wire.text(record.get("reference")) == code:
                products.bind(code, wire.text(record.get("id")))
                return record
        return None

    def variants_of(self, product_id: str) -> list[dict[str, Any]]:
        return list(self.pages("/products/variants", {"product_id": product_id},
                               "Variants", "Variant"))

    def sku_target(self, sku: str) -> tuple[str, str]:
        """Where a SKU's stock and price live: ``("product", id)`` or ``("variant", id)``.

        Bound by ``send_products`` on this connection; otherwise a product whose
        reference is the SKU, else the variants are scanned once (Tray cannot
        search variants by reference) and every SKU seen is bound.
        """
        skus = self.connection.binder("sku")
        bound = skus.remote(sku)
        if bound is not None:
            kind, _, ident = bound.partition("/")
            return kind, ident
        for record in self.pages("/products", {"reference": sku}, "Products", "Product"):
            if wire.text(record.get("reference")) == sku and not wire.flag(record.get("has_variation")):
                skus.bind(sku, f"product/{wire.text(record.get('id'))}")
                return "product", wire.text(record.get("id"))
        found: tuple[str, str] | None = None
        for record in self.pages("/products/variants", {}, "Variants", "Variant"):
            reference = wire.text(record.get("reference"))
            if reference:
                skus.bind(reference, f"variant/{wire.text(record.get('id'))}")
                if reference == sku:
                    found = ("variant", wire.text(record.get("id")))
        if found is None:
            raise tramo.PlatformError(f"no product or variant on Tray has the reference {sku!r}",
                                      code="not_found")
        return found

    def record_of(self, kind: str, ident: str) -> dict[str, Any]:
        """The product or variant a SKU lives on, as Tray holds it now."""
        wrapper = "Product" if kind == "product" else "Variant"
        where = "/products/{}" if kind == "product" else "/products/variants/{}"
        answer = self.get(path(where, ident))
        return answer.get(wrapper) or {}

    def write_sku(self, kind: str, ident: str, fields: dict[str, Any]) -> dict[str, Any]:
        wrapper = "Product" if kind == "product" else "Variant"
        where = "/products/{}" if kind == "product" else "/products/variants/{}"
        return self.send("PUT", path(where, ident), {wrapper: fields})


class AsyncTray:
    """:class:`Tray`'s reads for async hooks: pages and orders fetched concurrently."""

    def __init__(self, connection: tramo.Connection) -> None:
        self.zone = connection.timezone
        self.per_page = per_page(connection)
        self.concurrency = max(1, int(connection.settings["concurrency"]))
        self.http: httpx.AsyncClient = connection.async_http_client(**_client(connection))
        self.http.auth = _auth(connection)

    async def get(self, where: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.get(where, params=params)
        return wire.read_answer(response.status_code, response.content)

    async def pages(self, where: str, params: dict[str, Any], plural: str,
                    singular: str) -> AsyncIterator[dict[str, Any]]:
        """Every record of a list: the first page says how many; the rest come concurrently."""
        first = await self.get(where, {**params, "page": 1, "limit": self.per_page})
        count = wire.page_count(first, self.per_page)
        for record in wire.page_records(first, 1, plural, singular):
            yield record

        async def fetch(number: int) -> list[Any]:
            answer = await self.get(where, {**params, "page": number, "limit": self.per_page})
            return wire.page_records(answer, number, plural, singular)

        if count > 1:
            async for record in gather_pages(fetch, count - 1, first=2,
                                             concurrency=self.concurrency):
                yield record


def api(connection: tramo.Connection) -> Tray:
    return connection.resource("tray", lambda: Tray(connection))


def async_api(connection: tramo.Connection) -> AsyncTray:
    return connection.resource("tray-async", lambda: AsyncTray(connection))

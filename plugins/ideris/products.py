"""Sending products to Ideris, whose creations are asynchronous.

``POST /Produto`` answers a ``Protocolo``, not a product: Ideris creates it
later, or refuses it with a message. Every creation of a call is submitted
first, then all are followed together (one look at the pending protocols per
round, backing off), so N new products wait about one processing time, not
N. A product is reported CREATED only once Ideris holds it. A protocol still
pending when the wait ends is remembered in the connection's state, and the
next send follows it instead of creating the product a second time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tramo
from tramo.errors import TransientError
from tramo.jobs import follow
from tramo.scalars import text
from tramo.writes import write_each

from tramo_ideris import wire
from tramo_ideris.client import Ideris, api

__all__ = ["send_products"]

def _protocol_key(code: str) -> str:
    return f"ideris:protocol:{code}"


def _brand(connection: tramo.Connection, ideris: Ideris, product: tramo.Product) -> int | None:
    if product.brand is not None:
        return ideris.brand_id(product.brand)
    return connection.settings.get("brand_id")


def _classification(connection: tramo.Connection, brand: int | None) -> dict[str, int]:
    settings = connection.settings
    names = {"categoriaIdIderis": "category_id", "subCategoriaIdIderis": "subcategory_id",
             "departamentoIdIderis": "department_id"}
    for name in names.values():
        if settings.get(name) is None:
            raise tramo.ValidationError(name, None, "set it on the connection: Ideris creates a product "
                                                    "only with a category, sub-category and department")
    if brand is None:
        raise tramo.ValidationError("Product.brand", None, "Ideris creates a product only with a brand: "
                                                           "give one, or set the connection's brand_id")
    return {**{key: int(settings[name]) for key, name in names.items()}, "marcaIdIderis": brand}


def send_products(connection: tramo.Connection,
                  products: Sequence[tramo.Product]) -> list[tramo.WriteResult]:
    ideris = api(connection)
    submitted: dict[str, str] = {}

    def body(product: tramo.Product) -> None:
        wire.check_product(product)

    def send(product: tramo.Product, _: None) -> tramo.WriteResult:
        earlier = connection.state.get(_protocol_key(product.code))
        if earlier:
            protocol = ideris.protocol(earlier)
            if protocol is not None and not wire.protocol_state(protocol)[0]:
                submitted[product.code] = earlier
                return _waiting(product.code, earlier)
            connection.state.delete(_protocol_key(product.code))
        record = ideris.product_by_sku(product.code)
        brand = _brand(connection, ideris, product)
        if record is not None:
            if text(record.get("sku")) != product.code:
                raise tramo.PlatformError(f"{product.code!r} is a variation of product "
                                          f"{text(record.get('sku'))!r} on Ideris", code="conflict")
            ident = text(record.get("id"))
            diff = wire.product_edit(product, record, brand)
            if not diff:
                return tramo.WriteResult(product.code, tramo.Outcome.UNCHANGED, remote_id=ident)
            ideris.send("PUT", "/Produto", {"id": record.get("id"), **diff})
            return tramo.WriteResult(product.code, tramo.Outcome.UPDATED, remote_id=ident)
        fields = wire.product_create_body(product, _classification(connection, brand))
        protocols = wire.records(ideris.send("POST", "/Produto", fields))
        code = text(protocols[0].get("codigo")) if protocols else ""
        if not code:
            raise tramo.PlatformError(f"Ideris took product {product.code!r} without a protocol")
        connection.state.set(_protocol_key(product.code), code)
        submitted[product.code] = code
        return _waiting(product.code, code)

    results = write_each(products, lambda p: p.code, body, send)
    if submitted:
        finished = _follow(connection, ideris, submitted)
        results = [finished.get(r.local_id or "", r) if r.local_id in submitted else r for r in results]
    return results


def _waiting(code: str, protocol: str) -> tramo.WriteResult:
    """The result of a creation not yet followed: never done until Ideris holds the product."""
    return tramo.WriteResult.failed(code, TransientError(
        f"Ideris is still processing product {code!r} (protocol {protocol}); the next send follows "
        f"that protocol instead of creating the product again"))


def _follow(connection: tramo.Connection, ideris: Ideris,
            submitted: dict[str, str]) -> dict[str, tramo.WriteResult]:
    """Each submitted creation's outcome: one look at Ideris' pending protocols per round."""

    def look(left: Mapping[str, str]) -> dict[str, tramo.WriteResult]:
        pending = {text(p.get("codigo")) for p in ideris.pages("/Protocolo")}
        return {code: _outcome(connection, ideris, code, protocol)
                for code, protocol in left.items() if protocol not in pending}

    try:
        return follow(submitted, look, within=int(connection.settings["protocol_wait_seconds"]),
                      on_wait=connection.on_wait, what="Ideris product creation")
    except tramo.TramoError:
        return {}  # refused access: every creation stays pending, remembered for the next send


def _outcome(connection: tramo.Connection, ideris: Ideris, code: str, protocol: str) -> tramo.WriteResult:
    record = ideris.protocol(protocol)
    finished, message = wire.protocol_state(record or {})
    if record is None or not finished:
        return _waiting(code, protocol)
    connection.state.delete(_protocol_key(code))
    if message:
        return tramo.WriteResult.failed(code, tramo.PlatformError(
            f"Ideris refused product {code!r}: {message}", code="refused"))
    product = ideris.product_by_sku(code)
    if product is None or text(product.get("sku")) != code:
        return tramo.WriteResult.failed(code, tramo.PlatformError(
            f"Ideris finished protocol {protocol} for {code!r} but holds no such product", code="not_found"))
    return tramo.WriteResult(code, tramo.Outcome.CREATED, remote_id=text(product.get("id")))

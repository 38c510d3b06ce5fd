"""The Ideris sandbox's catalogue: products, their creation protocols, and brands.

``POST /Produto`` is asynchronous on Ideris: it answers a *Protocolo* and the
product exists only once the protocol is processed ("Finalizado", with an
empty ``mensagem`` on success). The sandbox keeps the validated body on the
protocol and processes due protocols lazily, at the start of every request
and before any ``held_*`` view, so no thread is needed. ``PUT /Produto`` is
a synchronous partial edit. Records keep Decimals (read exactly from the
JSON) and are rendered as ``ProdutoRetornado`` with every documented key.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from tramo.sandbox import HttpSandbox, Request, Response

from tramo_ideris.sandbox_records import (
    GENERAL,
    Bad,
    as_count,
    as_id,
    as_number,
    as_text,
    envelope,
    has,
    next_id,
    page,
    pick,
    query,
    read_object,
    tick,
)

__all__ = ["CatalogueRoutes", "create_now", "creation_draft", "process_due", "product_json",
           "sellable", "sku_owner"]

FEED = "Cadastro de produto"
PENDING, DONE = "Pendente", "Finalizado"
ZERO = Decimal(0)
#: The classification ids a product names, and where each must exist.
CLASSIFICATION = (("categoriaIdIderis", "categoriaId"), ("subCategoriaIdIderis", "subCategoriaId"),
                  ("departamentoIdIderis", "departamentoId"))
MEASURES = ("peso", "comprimento", "largura", "altura")
WITH_VARIATIONS = "Produto com variação: informe quantidadeVariacao"
NOT_FOUND = "Produto não encontrado"


# -- reading bodies ---------------------------------------------------------------------------


def _images(value: Any, name: str) -> list[str]:
    """``Imagem: [{urlImagem}]`` as a list of absolute http(s) URLs."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Bad(f"O campo {name} é inválido")
    urls = []
    for i, entry in enumerate(value):
        where = f"{name}[{i}].urlImagem"
        url = as_text(pick(entry, "urlImagem") if isinstance(entry, dict) else None, where)
        assert url is not None
        if not url.startswith(("http://", "https://")):
            raise Bad(f"O campo {where} é inválido")
        urls.append(url)
    return urls


def _brand(data: Mapping[str, Any], value: Any) -> int:
    ident = as_id(value, "marcaIdIderis")
    assert ident is not None
    if ident not in data["brands"]:
        raise Bad(f"Marca {ident} não encontrada")
    return ident


def _classification(value: Any, name: str) -> int:
    ident = as_id(value, name)
    assert ident is not None
    if ident not in GENERAL:
        raise Bad(f"O campo {name} é inválido: {ident} não encontrado")
    return ident


def _variation_body(entry: Any, where: str, *, new: bool) -> dict[str, Any]:
    """The fields a ``Variacao`` entry gives (all of them for a new variation)."""
    if not isinstance(entry, dict):
        raise Bad(f"O campo {where} é inválido")
    found: dict[str, Any] = {"skuVariacao": as_text(pick(entry, "skuVariacao"),
                                                     f"{where}.skuVariacao")}
    if has(entry, "quantidadeVariacao") or new:
        found["quantidadeVariacao"] = as_count(pick(entry, "quantidadeVariacao"),
                                               f"{where}.quantidadeVariacao", required=False) or 0
    for key in ("nomeAtributo", "valorAtributo"):
        if has(entry, key) or new:
            found[key] = as_text(pick(entry, key), f"{where}.{key}")
    if has(entry, "Imagem") or new:
        images = _images(pick(entry, "Imagem"), f"{where}.Imagem")
        found["imagem"] = images[0] if images else None
    return found


def creation_draft(data: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A ``POST /Produto`` body checked field by field; the product a protocol will create."""
    draft: dict[str, Any] = {
        "sku": as_text(pick(body, "sku"), "sku"),
        "titulo": as_text(pick(body, "titulo"), "titulo"),
        "descricaoLonga": as_text(pick(body, "descricaoLonga"), "descricaoLonga", blank=True),
        "marcaId": _brand(data, pick(body, "marcaIdIderis")),
        "valorCusto": as_number(pick(body, "valorCusto"), "valorCusto"),
        "valorVenda": as_number(pick(body, "valorVenda"), "valorVenda"),
        "ean": as_text(pick(body, "ean"), "ean", required=False) or None,
        "images": _images(pick(body, "Imagem"), "Imagem"),
    }
    for field, key in CLASSIFICATION:
        draft[key] = _classification(pick(body, field), field)
    for key in MEASURES:
        draft[key] = as_number(pick(body, key), key, required=False) or ZERO
    entries = pick(body, "Variacao") or []
    if not isinstance(entries, list):
        raise Bad("O campo Variacao é inválido")
    draft["variations"] = [_variation_body(e, f"Variacao[{i}]", new=True)
                           for i, e in enumerate(entries)]
    stock = pick(body, "quantidadeEstoquePrincipal")
    if stock is not None and draft["variations"]:
        raise Bad(WITH_VARIATIONS)
    draft["quantidadeEstoquePrincipal"] = as_count(stock, "quantidadeEstoquePrincipal",
                                                   required=False) or 0
    seen = {draft["sku"]}
    for i, variation in enumerate(draft["variations"]):
        if variation["skuVariacao"] in seen:
            raise Bad(f"O campo Variacao[{i}].skuVariacao repete o SKU {variation['skuVariacao']}")
        seen.add(variation["skuVariacao"])
    return draft


# -- records ----------------------------------------------------------------------------------


def _skus(product: Mapping[str, Any]) -> Iterator[str]:
    yield product["sku"]
    yield from (v["skuVariacao"] for v in product["variations"])


def sku_owner(data: Mapping[str, Any], sku: str) -> dict[str, Any] | None:
    """The product sold under ``sku``: its own sku or one of its variations'."""
    return next((p for p in data["products"].values() if sku in _skus(p)), None)


def sellable(data: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(SKU, record holding its stock, stock key): variations, and products without them."""
    for product in data["products"].values():
        if product["variations"]:
            for variation in product["variations"]:
                yield variation["skuVariacao"], variation, "quantidadeVariacao"
        else:
            yield product["sku"], product, "quantidadeEstoquePrincipal"


def create_now(data: dict[str, Any], draft: Mapping[str, Any]) -> dict[str, Any]:
    """Create the product ``draft`` describes, now (a protocol's work, or the seed's)."""
    ident = next_id(data, "product")
    product = {**draft, "id": ident, "ultimaAlteracaoPreco": tick(data),
               "variations": [{**v, "variacaoId": next_id(data, "variation")}
                              for v in draft["variations"]]}
    data["products"][ident] = product
    return product


def new_protocol(data: dict[str, Any], draft: dict[str, Any], due: float) -> dict[str, Any]:
    """A pending protocol that creates ``draft`` once ``due`` (monotonic seconds) passes."""
    ident = next_id(data, "protocol")
    protocol = {"id": ident, "dataCriacao": tick(data), "codigo": str(uuid.uuid4()),
                "tipoFeed": FEED, "status": PENDING, "mensagem": "",
                "_sku": draft["sku"], "_draft": draft, "_due": due}
    data["protocols"][ident] = protocol
    return protocol


def process_due(data: dict[str, Any], now: float) -> None:
    """Process, oldest first, every pending protocol whose time has come."""
    for protocol in sorted(data["protocols"].values(), key=lambda p: p["id"]):
        if protocol["status"] != PENDING or protocol["_due"] > now:
            continue
        draft = protocol["_draft"]
        skus = [draft["sku"], *(v["skuVariacao"] for v in draft["variations"])]
        taken = next((s for s in skus if sku_owner(data, s) is not None), None)
        refused = next((data["refusals"][s] for s in skus if s in data["refusals"]), None)
        if taken is not None:
            protocol["mensagem"] = f"SKU {taken} já cadastrado"
        elif refused is not None:
            protocol["mensagem"] = refused
        else:
            create_now(data, draft)
        protocol["status"] = DONE


def edit_product(data: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """``PUT /Produto``: check every named field first, then change only those."""
    product = _edited(data, body)
    changes: dict[str, Any] = {}
    for key in ("titulo",):
        if has(body, key):
            changes[key] = as_text(pick(body, key), key)
    if has(body, "descricaoLonga"):
        changes["descricaoLonga"] = as_text(pick(body, "descricaoLonga"), "descricaoLonga",
                                            blank=True)
    if has(body, "ean"):
        changes["ean"] = as_text(pick(body, "ean"), "ean", required=False) or None
    if has(body, "marcaIdIderis"):
        changes["marcaId"] = _brand(data, pick(body, "marcaIdIderis"))
    for field, key in CLASSIFICATION:
        if has(body, field):
            changes[key] = _classification(pick(body, field), field)
    for key in (*MEASURES, "valorCusto", "valorVenda"):
        if has(body, key):
            changes[key] = as_number(pick(body, key), key, required=False) or ZERO
    if has(body, "Imagem"):
        changes["images"] = _images(pick(body, "Imagem"), "Imagem")
    updates, added = _variation_edits(data, product, pick(body, "Variacao"))
    if has(body, "quantidadeEstoquePrincipal"):
        if product["variations"] or added:
            raise Bad(WITH_VARIATIONS)
        changes["quantidadeEstoquePrincipal"] = as_count(
            pick(body, "quantidadeEstoquePrincipal"), "quantidadeEstoquePrincipal")
    if "valorVenda" in changes and changes["valorVenda"] != product["valorVenda"]:
        changes["ultimaAlteracaoPreco"] = tick(data)
    product.update(changes)
    by_sku = {v["skuVariacao"]: v for v in product["variations"]}
    for sku, fields in updates:
        by_sku[sku].update(fields)
    product["variations"] += [{**v, "variacaoId": next_id(data, "variation")} for v in added]
    return product


def _edited(data: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The product a PUT names: by ``id`` when given, else by its ``sku``."""
    if pick(body, "id") is not None:
        try:
            ident = as_id(pick(body, "id"), "id")
        except Bad:
            raise Bad(NOT_FOUND) from None
        found = data["products"].get(ident)
    elif pick(body, "sku") is not None:
        sku = as_text(pick(body, "sku"), "sku")
        found = next((p for p in data["products"].values() if p["sku"] == sku), None)
    else:
        raise Bad("O campo id ou sku é obrigatório")
    if found is None:
        raise Bad(NOT_FOUND)
    return found


def _variation_edits(data: Mapping[str, Any], product: Mapping[str, Any], entries: Any
                     ) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    """(updates of existing variations by sku, new variations), every entry checked."""
    if entries is None:
        return [], []
    if not isinstance(entries, list):
        raise Bad("O campo Variacao é inválido")
    own = {v["skuVariacao"] for v in product["variations"]}
    updates: list[tuple[str, dict[str, Any]]] = []
    added: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        sku = as_text(pick(entry, "skuVariacao") if isinstance(entry, dict) else None,
                      f"Variacao[{i}].skuVariacao")
        if sku in own:
            fields = _variation_body(entry, f"Variacao[{i}]", new=False)
            updates.append((sku, {k: v for k, v in fields.items() if k != "skuVariacao"}))
            continue
        owner = sku_owner(data, sku or "")
        if owner is not None or sku in {v["skuVariacao"] for v in added}:
            raise Bad(f"SKU {sku} já cadastrado")
        added.append(_variation_body(entry, f"Variacao[{i}]", new=True))
    return updates, added


# -- answers ----------------------------------------------------------------------------------


def _stock(product: Mapping[str, Any]) -> int:
    if product["variations"]:
        return sum(int(v["quantidadeVariacao"]) for v in product["variations"])
    return int(product["quantidadeEstoquePrincipal"])


def _variation_json(data: dict[str, Any], variation: Mapping[str, Any]) -> dict[str, Any]:
    name, value = variation["nomeAtributo"], variation["valorAtributo"]
    return {"variacaoId": variation["variacaoId"], "skuVariacao": variation["skuVariacao"],
            "quantidadeVariacao": variation["quantidadeVariacao"],
            "quantidadeVariacaoReserva": 0, "caminhoImagemVariacao": variation["imagem"],
            "Combinacao": [{"tipoVariacaoId": _registered(data, "types", name),
                            "tipoVariacao": name,
                            "tipoVariacaoValorId": _registered(data, "values", f"{name}\n{value}"),
                            "tipoVariacaoValor": value, "descricao": f"{name}: {value}"}]}


def _registered(data: dict[str, Any], table: str, key: str) -> int:
    """The id Ideris gives a variation type or value (the same text, the same id)."""
    known = data[table]
    if key not in known:
        known[key] = len(known) + 1
    return int(known[key])


def product_json(data: dict[str, Any], product: Mapping[str, Any], images: bool) -> dict[str, Any]:
    """A ``ProdutoRetornado``; ``Imagens`` is filled only with ``include=imagem``."""
    general = GENERAL
    return {
        "id": product["id"], "sku": product["sku"], "titulo": product["titulo"],
        "descricaoLonga": product["descricaoLonga"], "marcaId": product["marcaId"],
        "marca": data["brands"][product["marcaId"]],
        "departamentoId": product["departamentoId"],
        "departamento": general[product["departamentoId"]],
        "categoriaId": product["categoriaId"], "categoria": general[product["categoriaId"]],
        "subCategoriaId": product["subCategoriaId"],
        "subCategoria": general[product["subCategoriaId"]],
        "ncmId": None, "ncm": None, "produtoOrigemId": None, "produtoOrigem": None,
        "tipoProdutoId": 1,
        "tipoProduto": "Com variação" if product["variations"] else "Simples",
        "modelo": None, "garantia": None, "cest": None, "ean": product["ean"],
        "videoYoutube": None, **{k: product[k] for k in MEASURES},
        "pesoEmbalagem": 0, "comprimentoEmbalagem": 0, "larguraEmbalagem": 0,
        "alturaEmbalagem": 0,
        "caminhoImagem": product["images"][0] if product["images"] else None,
        "estoquePrincipalId": 1, "quantidadeEstoquePrincipal": _stock(product),
        "quantidadeEstoquePrincipalReserva": 0, "valorCusto": product["valorCusto"],
        "valorVenda": product["valorVenda"],
        "ultimaAlteracaoPreco": product["ultimaAlteracaoPreco"],
        "Variacao": [_variation_json(data, v) for v in product["variations"]],
        "ProdutoComposto": [],
        "Imagens": [{"urlImagem": url} for url in product["images"]] if images else [],
    }


# -- routes -----------------------------------------------------------------------------------


class CatalogueRoutes(HttpSandbox):
    """``/Produto``, ``/Produto/<id>``, ``/Protocolo`` and ``/Marca``."""

    #: platform seconds a creation protocol waits before it is processed
    protocol_delay: float = 3.0

    def on_products(self, request: Request) -> Response:
        with self.lock:
            if request.method == "POST":
                draft = creation_draft(self.data, read_object(request))
                due = self._monotonic() + self.duration(self.protocol_delay)
                return envelope([new_protocol(self.data, draft, due)])
            if request.method == "PUT":
                product = edit_product(self.data, read_object(request))
                return envelope([product_json(self.data, product, True)])
            images = (query(request, "include") or "").lower() == "imagem"
            sku = query(request, "sku")
            if sku:
                found = sku_owner(self.data, sku)
                if found is None:
                    raise Bad(NOT_FOUND)
                return envelope([product_json(self.data, found, images)])
            products = sorted(self.data["products"].values(), key=lambda p: p["id"])
            return page(request, [product_json(self.data, p, images) for p in products])

    def on_product(self, request: Request, ident: str) -> Response:
        with self.lock:
            found = self.data["products"].get(int(ident)) if ident.isdigit() else None
            if found is None:
                raise Bad(NOT_FOUND)
            images = (query(request, "include") or "").lower() == "imagem"
            return envelope([product_json(self.data, found, images)])

    def on_protocols(self, request: Request) -> Response:
        with self.lock:
            code, sku = query(request, "codigo"), query(request, "sku")
            chosen = sorted(self.data["protocols"].values(), key=lambda p: p["id"])
            if code:
                chosen = [p for p in chosen if p["codigo"] == code]
            elif sku:
                chosen = [p for p in chosen if p["_sku"] == sku]
            else:
                chosen = [p for p in chosen if p["status"] == PENDING]
            return page(request, chosen)

    def on_brands(self, request: Request) -> Response:
        with self.lock:
            brands = self.data["brands"]
            if request.method == "POST":
                name = as_text(pick(read_object(request), "descricao"), "descricao")
                assert name is not None
                if any(n.casefold() == name.casefold() for n in brands.values()):
                    raise Bad("Marca já cadastrada", 409)
                ident = next_id(self.data, "brand")
                brands[ident] = name
                return envelope([{"id": ident, "descricao": name}])
            wanted = query(request, "descricao")
            chosen = [{"id": i, "descricao": n} for i, n in sorted(brands.items())
                      if not wanted or n.casefold() == wanted.casefold()]
            return page(request, chosen)

    def _monotonic(self) -> float:
        """The real clock protocols fall due on (monotonic, unlike the wall clock)."""
        return time.monotonic()

"""Ideris API v1 JSON <-> the tramo model, and Ideris' answers as typed errors. No I/O.

Ideris answers every call in one envelope, ``{"paging": {offset, total, limit,
count}, "result": [...]}``, single records and writes included, and refuses
with a bare JSON string (``"Produto não encontrado"``) or, for credentials,
ASP.NET's ``{"Message": ...}``. Numbers are JSON numbers (money read as
Decimal through its text, never through float arithmetic), dates ISO 8601 in
the store's time. What the public record leaves open (the notification
bodies, what ``ListaPedido``'s dates select) is designed here and in the
plugin's README.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import tramo
from tramo.errors import OutcomeUnknownError, TransientError
from tramo.paging import PagingError
from tramo.scalars import decimal, moment, positive, reading, text, whole

__all__ = [
    "NOTIFICATION_VERSION", "PAGE_MAX", "error_from", "event_id", "invoice_notification",
    "check_product", "check_stock", "jwt_from_login", "notification_accepted", "options", "order_from_wire",
    "order_number", "page_of", "price_body", "product_create_body", "product_edit", "product_from_wire",
    "protocol_state", "read_answer", "records", "same_number", "since_params", "status_ids",
    "tracking_notification", "variation_stock",
]

Json = dict[str, Any]

#: Records per page and ids per ``Pedido?ids=`` call: Ideris allows at most 50.
PAGE_MAX = 50
NOTIFICATION_VERSION = "1.0.0"
_CENT = Decimal("0.01")
_NOT_FOUND = ("não encontrad", "nao encontrad", "not found")


def _refuse(field: str, value: object, reason: str) -> tramo.ValidationError:
    return tramo.ValidationError(field, value, reason)


# -- answers -----------------------------------------------------------------------------------


def _message(body: Any, status: int) -> str:
    if isinstance(body, str) and body.strip():
        return body.strip()
    if isinstance(body, Mapping):
        for key in ("Message", "message", "mensagem"):
            if text(body.get(key)).strip():
                return text(body[key]).strip()
    return f"HTTP {status}"


def error_from(status: int, body: Any) -> tramo.TramoError:
    """The tramo error an Ideris refusal means (a bare string, or ``{"Message": ...}``)."""
    said = _message(body, status)
    if status == 401:
        return tramo.AuthenticationError(f"Ideris refused the access: {said}")
    if status == 429:
        return tramo.RateLimitedError(f"Ideris' rate limit: {said}")
    if status >= 500:
        return TransientError(f"Ideris answered HTTP {status}: {said}")
    lowered = said.lower()
    code = ("not_found" if status == 404 or any(n in lowered for n in _NOT_FOUND)
            else "conflict" if status == 409 else "refused")
    return tramo.PlatformError(f"Ideris refused it (HTTP {status}): {said}", code=code)


def _parse(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        return _Unreadable


class _Unreadable:
    """A body that is not JSON."""


def read_answer(status: int, content: bytes, *, write: bool = False) -> Json:
    """The envelope of a 2xx answer, or the typed error the answer means.

    A 2xx whose body is a bare string is a refusal too (Ideris answers some
    business errors that way). ``write`` says the request may have changed the
    account: a 2xx that cannot be read then raises OutcomeUnknownError.
    """
    body = _parse(content)
    if 200 <= status < 300:
        if isinstance(body, dict) and isinstance(body.get("result", []), list):
            return body
        if isinstance(body, str):
            raise error_from(400, body)
        message = f"Ideris answered HTTP {status} with a body that is not its envelope"
        raise OutcomeUnknownError(message, status) if write else TransientError(message)
    return _raise(status, body)


def _raise(status: int, body: Any) -> Json:
    raise error_from(status, None if body is _Unreadable else body)


def records(answer: Mapping[str, Any]) -> list[Json]:
    """The envelope's records (``result`` may be null when there are none)."""
    return [r for r in (answer.get("result") or []) if isinstance(r, dict)]


def page_of(answer: Mapping[str, Any], offset: int) -> tuple[list[Json], int]:
    """(records, total) of one page, checking that Ideris answered the page asked for.

    Ideris echoes the offset in ``paging``; an answer for another offset is a
    page served twice, and reading on would repeat or skip records.
    """
    paging = answer.get("paging") or {}
    echoed = paging.get("offset")
    if echoed is not None and text(echoed) != str(offset):
        raise PagingError(f"Ideris answered offset {echoed} when asked for offset {offset}: a "
                          f"repeated page, so the read stops here")
    found = records(answer)
    total = decimal(paging.get("total"), "paging.total")
    return found, int(total) if total is not None else offset + len(found)


def jwt_from_login(status: int, content: bytes) -> str:
    """The JWT that ``POST /Login`` answers as a bare JSON string."""
    body = _parse(content)
    if status == 200 and isinstance(body, str) and body.strip():
        return body.strip()
    if status == 401:
        raise tramo.AuthenticationError("Ideris refused the login token (HTTP 401)")
    if 200 <= status < 300:
        raise TransientError("Ideris' login answered without a token")
    return _raise(status, body)


# -- scalars -------------------------------------------------------------------------------


def _money(value: Any, field: str) -> Decimal:
    number = decimal(value, field)
    try:
        return Decimal(0) if number is None else number.quantize(_CENT)
    except ArithmeticError:  # 1e999: more digits than any amount has
        raise _refuse(field, value, "is too large to be an amount") from None


def _number(value: Decimal | None) -> float:
    """A Decimal as the JSON number Ideris takes (its API is typed double)."""
    return float(value) if value is not None else 0.0


def same_number(ours: float, theirs: Any) -> bool:
    held = decimal(theirs, "number")
    return (held or Decimal(0)) == Decimal(str(ours))


def _int(value: Any, field: str) -> int:
    number = whole(value, field)
    if number is None:
        raise _refuse(field, value, "is not a whole number")
    return number


def order_number(order_id: str, field: str) -> int:
    """An order id as the integer Ideris takes."""
    if not order_id.isdigit():
        raise _refuse(field, order_id, "is not an Ideris order id (digits)")
    return int(order_id)


def since_params(since: datetime | str | None, zone: tzinfo) -> dict[str, str]:
    """``ListaPedido``'s filter for "changed after ``since``".

    Ideris' dates are to the second and ``dataInicial`` includes its own
    second, so "after since" is "from the next whole second".
    """
    if since is None:
        return {}
    if isinstance(since, str):
        parsed = moment(since, zone, "since")
        if parsed is None:
            return {}
        since = parsed
    if since.tzinfo is None:
        raise _refuse("since", since, "must carry a timezone")
    start = since.astimezone(zone).replace(microsecond=0) + timedelta(seconds=1)
    return {"dataInicial": start.isoformat()}


# -- orders --------------------------------------------------------------------------------


#: The Ideris key a buyer's field comes from, to name it in an error.
_BUYER_KEYS = {"cpf": "compradorDocumento", "cnpj": "compradorDocumento", "email": "compradorEmail",
               "name": "compradorPrimeiroNome", "phones": "compradorTelefone"}


def _customer(record: Mapping[str, Any]) -> tramo.Customer:
    first, last = text(record.get("compradorPrimeiroNome")), text(record.get("compradorSobrenome"))
    name = f"{first} {last}" if last else first
    if not name.strip():
        name = text(record.get("compradorApelido"))
    if not name.strip():
        raise _refuse("Pedido.compradorPrimeiroNome", record.get("compradorPrimeiroNome"),
                      "the buyer has no name (nor a nickname)")
    document = "".join(c for c in text(record.get("compradorDocumento")) if c.isalnum())
    company = text(record.get("compradorTipoDocumento")).upper() == "CNPJ"
    area, number = text(record.get("compradorCodigoAreaTelefone")), text(record.get("compradorTelefone"))
    try:
        return tramo.Customer(
            name=name, kind=tramo.CustomerKind.COMPANY if company else tramo.CustomerKind.PERSON,
            cnpj=document or None if company else None, cpf=None if company else document or None,
            email=text(record.get("compradorEmail")) or None,
            phones=(f"{area}{number}",) if number else ())
    except tramo.ValidationError as exc:
        key = _BUYER_KEYS.get(exc.field.rpartition(".")[2], "comprador")
        raise _refuse(f"Pedido.{key}", exc.value, exc.reason) from None


_ADDRESS_KEYS = {"street": "Rua", "number": "Numero", "postal_code": "Cep", "district": "Bairro",
                 "city": "Cidade", "state": "Estado", "country": "Pais", "complement": "Comentario",
                 "recipient": "_NomeResponsavelRecebimento", "phone": "_TelefoneResponsavelRecebimento"}


def _address(record: Mapping[str, Any]) -> tramo.Address | None:
    keys = ("Rua", "Numero", "Cep", "Bairro", "Cidade", "Estado", "Comentario")
    values = {k: text(record.get(f"enderecoEntrega{k}")).strip() for k in keys}
    if not any(values.values()):
        return None
    country = text(record.get("enderecoEntregaPais")).strip()
    try:
        return tramo.Address(
            street=values["Rua"], number=values["Numero"] or "S/N", complement=values["Comentario"] or None,
            district=values["Bairro"] or None, city=values["Cidade"], state=values["Estado"] or None,
            postal_code=values["Cep"],
            country="BR" if country.lower() in ("", "brasil", "brazil", "br") else country,
            recipient=text(record.get("enderecoEntrega_NomeResponsavelRecebimento")) or None,
            phone=text(record.get("enderecoEntrega_TelefoneResponsavelRecebimento")) or None)
    except tramo.ValidationError as exc:
        key = _ADDRESS_KEYS.get(exc.field.rpartition(".")[2], "Completo")
        raise _refuse(f"Pedido.enderecoEntrega{key}", exc.value, exc.reason) from None


def _items(record: Mapping[str, Any]) -> tuple[tramo.OrderItem, ...]:
    items = []
    for index, item in enumerate(record.get("Item") or []):
        where = f"Pedido.Item[{index}]"
        sku = text(item.get("skuProdutoItem")).strip()
        if not sku:
            raise _refuse(f"{where}.skuProdutoItem", item.get("skuProdutoItem"),
                          "the listing has no SKU in Ideris: link it to a product there")
        variation = text(item.get("variacaoProdutoItem")).strip()
        try:
            items.append(tramo.OrderItem(
                sku=sku, name=text(item.get("tituloProdutoItem")) or sku,
                quantity=_int(item.get("quantidadeItem"), f"{where}.quantidadeItem"),
                unit_price=_money(item.get("precoUnitarioItem"), f"{where}.precoUnitarioItem"),
                remote_id=text(item.get("codigoProdutoItem")) or None,
                attributes=(variation,) if variation else ()))
        except tramo.ValidationError as exc:
            raise exc.at(where) from None
    if not items:
        raise _refuse("Pedido.Item", record.get("Item"), "the order has no items")
    return tuple(items)


def _payments(record: Mapping[str, Any], zone: tzinfo) -> tuple[tramo.Payment, ...]:
    """One payment per ``Pagamento``. Ideris sends no amount per payment: the paid
    value (``valorPago``) is shared evenly, the cents left over on the first."""
    entries = [p for p in (record.get("Pagamento") or []) if isinstance(p, dict)]
    if not entries:
        return ()
    paid = _money(record.get("valorPago"), "Pedido.valorPago")
    share = (paid / len(entries)).quantize(_CENT, rounding="ROUND_DOWN")
    values = [paid - share * (len(entries) - 1)] + [share] * (len(entries) - 1)
    payments = []
    for index, (entry, value) in enumerate(zip(entries, values)):
        where = f"Pedido.Pagamento[{index}]"
        installments = decimal(entry.get("numeroParcelasPagamento"), f"{where}.numeroParcelasPagamento")
        payments.append(tramo.Payment(
            value=value, platform_method=text(entry.get("formaPagamento")) or None,
            installments=max(1, int(installments or 1)),
            paid_at=moment(entry.get("dataAprovacaoPagamento"), zone, f"{where}.dataAprovacaoPagamento")))
    return tuple(payments)


def order_from_wire(record: Mapping[str, Any], zone: tzinfo) -> tramo.Order:
    """A full ``Pedido`` as a tramo Order; what cannot be read raises ValidationError.

    That includes an answer of another shape than Ideris' (an object where
    text belongs, a number where a list does), so the order is held and the
    read goes on.
    """
    if not isinstance(record, Mapping):
        raise _refuse("Pedido", type(record).__name__, "Ideris' answer is not an object")
    with reading(f"Pedido[{text(record.get('id'))}]", "Ideris", prefix=False):
        return _order(record, zone)


def _order(record: Mapping[str, Any], zone: tzinfo) -> tramo.Order:
    ident = text(record.get("id"))
    placed = moment(record.get("data"), zone, "Pedido.data")
    if not ident or placed is None:
        raise _refuse("Pedido.data" if ident else "Pedido.id", record.get("data" if ident else "id"),
                      "is missing")
    status = text(record.get("status")).strip()
    if not status:
        raise _refuse("Pedido.status", record.get("status"), "the order has no status")
    total_key = next((k for k in ("valorTotalComFrete", "valorPago", "valorTotal")
                      if record.get(k) is not None), "valorTotalComFrete")
    method = text(record.get("tipoEntrega")).strip() or None
    freight = _money(record.get("freteComprador"), "Pedido.freteComprador")
    marketplace = text(record.get("marketplace")).strip() or None
    code = text(record.get("codigo")).strip() or None
    currency = text(record.get("moeda")).strip()
    return tramo.Order(
        id=ident, placed_at=placed, customer=_customer(record), items=_items(record),
        total=_money(record.get(total_key), f"Pedido.{total_key}"), platform_status=status,
        number=code, delivery_address=_address(record),
        shipping=tramo.Shipping(platform_method=method, freight=freight) if method or freight else None,
        payments=_payments(record, zone),
        sales_channel=(tramo.SalesChannel(platform_channel=marketplace, marketplace_order_id=code)
                       if marketplace or code else None),
        discount=_money(record.get("valorDesconto"), "Pedido.valorDesconto"),
        currency="BRL" if currency in ("", "R$", "BRL") else currency)


# -- look-ups --------------------------------------------------------------------------------


def options(found: Iterable[Mapping[str, Any]], module: str | None = None) -> list[tramo.PlatformOption]:
    """Statuses or marketplaces as mapping options, keyed by their text (what orders carry)."""
    chosen = [r for r in found if module is None or text(r.get("modulo")) == module]
    return [tramo.PlatformOption(id=text(r.get("descricao")), name=text(r.get("descricao")))
            for r in chosen if text(r.get("descricao")).strip()]


def status_ids(found: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Order status text -> the id ``PedidoStatus`` takes."""
    return {text(r.get("descricao")): int(r["id"]) for r in found
            if text(r.get("modulo")) == "Pedido" and text(r.get("id")).isdigit()}


# -- products --------------------------------------------------------------------------------


def check_product(product: tramo.Product) -> None:
    """Refuse, before any call, what Ideris cannot keep."""
    if product.price is not None and product.price == 0:
        raise _refuse("Product.price", product.price, "Ideris takes a sale price above 0; send no price")
    if not product.variants and product.sku not in (None, product.code):
        raise _refuse("Product.sku", product.sku, "a product without variations is sold under its "
                                                  "code on Ideris (its sku)")
    for index, variant in enumerate(product.variants):
        where = f"Product.variants[{index}]"
        if len(variant.attributes) != 1:
            raise _refuse(f"{where}.attributes", len(variant.attributes),
                          "an Ideris variation has exactly one attribute (name and value)")
        if variant.price is not None and variant.price != product.price:
            raise _refuse(f"{where}.price", variant.price,
                          "Ideris keeps one price per product (valorVenda), not per variation")
        if len(variant.images) > 1:
            raise _refuse(f"{where}.images", len(variant.images),
                          "an Ideris variation shows one image (caminhoImagemVariacao)")
        if variant.sku == product.code:
            raise _refuse(f"{where}.sku", variant.sku, "is the product's own code")


def _grams(weight_kg: Decimal | None) -> float:
    return _number(weight_kg * 1000 if weight_kg is not None else None)


def _measures(product: tramo.Product) -> Json:
    sizes = product.dimensions
    return {"peso": _grams(product.weight_kg),
            "comprimento": _number(sizes.length_cm if sizes else None),
            "largura": _number(sizes.width_cm if sizes else None),
            "altura": _number(sizes.height_cm if sizes else None)}


def _images(urls: Sequence[str]) -> list[Json]:
    return [{"urlImagem": url} for url in urls]


def _variation(variant: tramo.Variant, *, new: bool) -> Json:
    attribute = variant.attributes[0]
    entry: Json = {"skuVariacao": variant.sku, "nomeAtributo": attribute.name,
                   "valorAtributo": attribute.value, "Imagem": _images(variant.images)}
    if new:
        entry["quantidadeVariacao"] = 0
    return entry


def product_create_body(product: tramo.Product, ids: Mapping[str, int]) -> Json:
    """``POST /Produto``'s body: a new product, its stock 0 (stock is sent apart).

    ``ids`` are the Ideris ids a new product needs: ``categoriaIdIderis``,
    ``subCategoriaIdIderis``, ``departamentoIdIderis`` and ``marcaIdIderis``.
    """
    check_product(product)
    return {"sku": product.code, "titulo": product.name, "descricaoLonga": product.description,
            **ids, "valorCusto": 0.0, "valorVenda": _number(product.price),
            "ean": product.gtin, **_measures(product), "Imagem": _images(product.images),
            "Variacao": [_variation(v, new=True) for v in product.variants]}


def _image_urls(record: Mapping[str, Any]) -> list[str]:
    return [text(i.get("urlImagem")) for i in (record.get("Imagens") or []) if isinstance(i, dict)]


def _attribute_of(variation: Mapping[str, Any]) -> tuple[str, str]:
    combination = [c for c in (variation.get("Combinacao") or []) if isinstance(c, dict)]
    if not combination:
        return "", ""
    return text(combination[0].get("tipoVariacao")), text(combination[0].get("tipoVariacaoValor"))


def product_edit(product: tramo.Product, record: Mapping[str, Any], brand_id: int | None) -> Json:
    """The fields of ``PUT /Produto`` that differ from ``record`` (read with images); empty when none.

    A price is sent only when the product has one (``send_prices`` keeps it
    otherwise); variations on Ideris that the product lacks are left alone,
    since Ideris has no call that removes one.
    """
    check_product(product)
    wanted: Json = {"titulo": product.name, "descricaoLonga": product.description,
                    "ean": product.gtin, **_measures(product)}
    if brand_id is not None:
        wanted["marcaIdIderis"] = brand_id
    if product.price is not None:
        wanted["valorVenda"] = _number(product.price)
    held = {"titulo": text(record.get("titulo")), "descricaoLonga": text(record.get("descricaoLonga")),
            "ean": text(record.get("ean")) or None, "marcaIdIderis": record.get("marcaId")}
    diff: Json = {}
    for key, value in wanted.items():
        if isinstance(value, float):
            if not same_number(value, record.get(key)):
                diff[key] = value
        elif key == "marcaIdIderis":
            if text(held[key]) != str(value):
                diff[key] = value
        elif held[key] != value and not (held[key] in (None, "") and value in (None, "")):
            diff[key] = value
    if _image_urls(record) != list(product.images):
        diff["Imagem"] = _images(product.images)
    variations = {text(v.get("skuVariacao")): v for v in (record.get("Variacao") or [])
                  if isinstance(v, dict)}
    changed = []
    for variant in product.variants:
        have = variations.get(variant.sku)
        if have is None:
            changed.append(_variation(variant, new=True))
            continue
        image = text(have.get("caminhoImagemVariacao")) or None
        attribute = variant.attributes[0]
        if (_attribute_of(have) != (attribute.name, attribute.value)
                or image != (variant.images[0] if variant.images else None)):
            changed.append(_variation(variant, new=False))
    if changed:
        diff["Variacao"] = changed
    return diff


def product_from_wire(record: Mapping[str, Any], no_brand_id: int | None = None) -> tramo.Product:
    """A returned ``Produto`` as a tramo Product (``no_brand_id``: the brand that means none)."""
    where = "Produto"
    brand_id, brand = text(record.get("marcaId")), text(record.get("marca")).strip()
    if no_brand_id is not None and brand_id == str(no_brand_id):
        brand = ""
    sizes = [positive(record.get(k), f"{where}.{k}") for k in ("comprimento", "largura", "altura")]
    weight = positive(record.get("peso"), f"{where}.peso")
    price = positive(record.get("valorVenda"), f"{where}.valorVenda")
    variants = []
    for index, variation in enumerate(record.get("Variacao") or []):
        name, value = _attribute_of(variation)
        image = text(variation.get("caminhoImagemVariacao"))
        variants.append(tramo.Variant(
            sku=text(variation.get("skuVariacao")),
            attributes=(tramo.Attribute(name=name, value=value),) if name and value else (),
            images=(image,) if image else (), remote_id=text(variation.get("variacaoId")) or None))
    return tramo.Product(
        code=text(record.get("sku")), name=text(record.get("titulo")),
        description=text(record.get("descricaoLonga")), gtin=text(record.get("ean")) or None,
        brand=tramo.Brand(id=brand_id, name=brand) if brand else None,
        price=price.quantize(_CENT) if price is not None else None,
        weight_kg=weight / 1000 if weight is not None else None,
        dimensions=(tramo.Dimensions(length_cm=sizes[0], width_cm=sizes[1], height_cm=sizes[2])
                    if all(s is not None for s in sizes) else None),
        images=tuple(_image_urls(record)), variants=tuple(variants),
        remote_id=text(record.get("id")) or None)


def protocol_state(protocol: Mapping[str, Any]) -> tuple[bool, str]:
    """(finished, message) of a ``Protocolo``: finished with no message is success."""
    finished = text(protocol.get("status")).strip().lower() == "finalizado"
    return finished, text(protocol.get("mensagem")).strip()


# -- stock and prices ------------------------------------------------------------------------


def check_stock(level: tramo.StockLevel) -> None:
    for name in ("warehouse", "company"):
        if getattr(level, name) is not None:
            raise _refuse(f"StockLevel.{name}", getattr(level, name),
                          "Ideris keeps one stock per SKU (its main stock)")


def variation_stock(levels: Iterable[tuple[str, int]]) -> list[Json]:
    return [{"skuVariacao": sku, "quantidadeVariacao": quantity} for sku, quantity in levels]


def price_body(price: tramo.Price) -> Json:
    """``valorVenda`` for a product: Ideris has one sale price, no lists nor promotions."""
    for name in ("price_list", "company", "segment"):
        if getattr(price, name) is not None:
            raise _refuse(f"Price.{name}", getattr(price, name), "Ideris keeps one price per product")
    if price.currency != "BRL":
        raise _refuse("Price.currency", price.currency, "Ideris sells in BRL")
    if price.promotional_price is not None:
        raise _refuse("Price.promotional_price", price.promotional_price,
                      "Ideris has no promotional price; promotions are set on each marketplace")
    if price.sale_price is not None and price.sale_price != price.list_price:
        raise _refuse("Price.sale_price", price.sale_price, "Ideris keeps one price (valorVenda)")
    if price.list_price == 0:
        raise _refuse("Price.list_price", price.list_price, "Ideris takes a sale price above 0")
    return {"valorVenda": _number(price.list_price)}


# -- notifications (the two URLs Ideris support hands out, seed 003) --------------------------


def event_id(kind: str, order_id: str, key: str) -> str:
    """The same notification always has the same id, so the receiver can drop a repeat."""
    return hashlib.sha256(f"{kind}|{order_id}|{key}".encode()).hexdigest()


def _stamp(value: datetime | None, zone: tzinfo) -> str | None:
    return None if value is None else value.astimezone(zone).replace(tzinfo=None).isoformat(
        timespec="seconds")


def tracking_notification(tracking: tramo.Tracking, zone: tzinfo) -> Json:
    order = order_number(tracking.order_id, "Tracking.order_id")
    return {"versao": NOTIFICATION_VERSION, "tipo": "rastreio",
            "idEvento": event_id("rastreio", tracking.order_id, tracking.code),
            "dados": {"idPedido": order, "codigoRastreio": tracking.code, "urlRastreio": tracking.url,
                      "transportadora": tracking.carrier,
                      "dataEnvio": _stamp(tracking.shipped_at, zone), "chaveNota": tracking.invoice_key}}


def invoice_notification(invoice: tramo.Invoice, zone: tzinfo) -> Json:
    order = order_number(invoice.order_id, "Invoice.order_id")
    return {"versao": NOTIFICATION_VERSION, "tipo": "nota_fiscal",
            "idEvento": event_id("nota_fiscal", invoice.order_id, invoice.access_key),
            "dados": {"idPedido": order, "chaveNota": invoice.access_key, "numeroNota": invoice.number,
                      "serieNota": invoice.series, "dataEmissaoNota": _stamp(invoice.issued_at, zone),
                      "valorNota": _number(invoice.value),
                      "tipoNota": "NFCe" if invoice.kind is tramo.InvoiceKind.NFCE else "NFe",
                      "cfop": invoice.cfop, "urlDanfe": invoice.danfe_url, "urlXml": invoice.xml_url}}


def notification_accepted(status: int, content: bytes) -> None:
    """A notification endpoint's answer: any 2xx is taken; otherwise the typed error."""
    if not 200 <= status < 300:
        _raise(status, _parse(content))

"""Tray's SOAP structs and the tramo model, both ways, and its faults. No I/O.

The webservice (PHP, NuSOAP) answers structs whose every field is text,
dates as ``Y-m-d`` (``0000-00-00`` for none) in store time, and stores text
in ISO-8859-1. These functions take what it answers (zeep gives structs as
mappings) and build the arguments it takes; what it would refuse or mangle
is refused here with :class:`tramo.ValidationError` naming the field, before
any call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import Any

import tramo
from tramo.scalars import decimal, latin1, measure, moment, money, reading, stamp, text, whole

__all__ = [
    "PAGE_MAX", "customer_from_wire", "differs", "fault_error", "invoice_args", "invoice_keys",
    "item_from_wire", "list_filter", "notify", "options", "order_from_wire", "plain",
    "product_struct", "reservation_args", "retorno_id", "stock_quantity", "tracking_args",
    "variant_struct",
]

#: A list page holds at most this many orders (assumed, as Tray's REST pages).
PAGE_MAX = 50
IMAGES_MAX = 6
VARIANT_ATTRIBUTES_MAX = 2
NAME_MAX = 200

Struct = dict[str, str]

#: Fields the store computes or moves by other calls: never compared, never sent as changes.
_STORE_KEPT = frozenset({"id_produto", "id_variacao", "estoque", "possui_variacao", "data_modificacao"})


# -- answers and faults -------------------------------------------------------------------


def fault_error(code: str, message: str, operation: str) -> tramo.TramoError:
    """The tramo error a fault means; Tray's codes are SOAP 1.1 dotted ``Client.*`` codes."""
    kind = code.rpartition(":")[2]
    what = f"Tray refused {operation}: {message}"
    if kind == "Client.Autenticacao":
        return tramo.AuthenticationError(f"{what} (check store_id, login and password)")
    if kind == "Client.NaoEncontrado":
        return tramo.PlatformError(what, code="not_found")
    if kind == "Client.Dados":
        return tramo.PlatformError(what, code="invalid")
    if kind.startswith("Server"):
        return tramo.TransientError(what)
    return tramo.PlatformError(what, code=kind or "fault")


def retorno_id(answer: Mapping[str, Any] | None, operation: str) -> str:
    """The id a write's ``Retorno`` names when its status is ``ok``; else the refusal."""
    answer = answer or {}
    status = text(answer.get("status")).strip().lower()
    if status != "ok":
        message = text(answer.get("mensagem")) or f"status {status or 'missing'!r}"
        raise tramo.PlatformError(f"Tray refused {operation}: {message}", code="refused")
    return text(answer.get("id"))


def plain(record: Mapping[str, Any] | None) -> Struct:
    """A struct (zeep's answer, serialized to a dict) as text fields; None is empty."""
    return {str(k): text(v) for k, v in (record or {}).items()}


# -- text the store keeps -------------------------------------------------------------------


def _latin1(where: str, **values: str | None) -> None:
    """Each model field's text in ISO-8859-1, the store's charset: what it cannot hold is refused."""
    for field, value in values.items():
        if value:
            latin1(value, f"{where}.{field}")


def _images(images: Sequence[str], where: str) -> Struct:
    if len(images) > IMAGES_MAX:
        raise tramo.ValidationError(f"{where}.images", len(images),
                                    f"Tray keeps at most {IMAGES_MAX} images")
    for index, url in enumerate(images):
        if any(c.isspace() for c in url):
            raise tramo.ValidationError(f"{where}.images[{index}]", url, "an image URL cannot hold spaces")
    return {f"imagem_{n}": images[n - 1] if n <= len(images) else "" for n in range(1, IMAGES_MAX + 1)}


def _physical(weight: Decimal | None, dimensions: tramo.Dimensions | None) -> Struct:
    sizes = (dimensions.height_cm, dimensions.width_cm, dimensions.length_cm) if dimensions else (0, 0, 0)
    return {"peso": measure(weight * 1000) if weight is not None else "0",  # grams
            "altura": measure(Decimal(sizes[0])), "largura": measure(Decimal(sizes[1])),
            "comprimento": measure(Decimal(sizes[2]))}


def _price(value: Decimal | None, where: str) -> str:
    """Tray's ``preco``: "0.00" stands for no price (price on request), so a real 0 is refused."""
    if value is None:
        return "0.00"
    if value == 0:
        raise tramo.ValidationError(where, value, "Tray reads a price of 0 as 'price on request'; "
                                                  "send no price")
    return money(value)


def product_struct(product: tramo.Product) -> Struct:
    """The ``Produto`` struct for ``product`` (every field), its variants checked too."""
    where = "Product"
    if not product.variants and product.sku not in (None, product.code):
        raise tramo.ValidationError(f"{where}.sku", product.sku, "a product without variants is "
                                    "sold under its reference, the product code")
    if any(v.sku == product.code for v in product.variants):
        raise tramo.ValidationError(f"{where}.variants.sku", product.code,
                                    "a variant cannot share the product's reference (its code)")
    if len(product.name) > NAME_MAX:
        raise tramo.ValidationError(f"{where}.name", product.name[:20] + "...",
                                    f"Tray keeps at most {NAME_MAX} characters")
    _latin1(where, code=product.code, name=product.name, description=product.description,
            short_description=product.short_description,
            brand=product.brand.name if product.brand else None)
    struct = {
        "id_produto": "", "cod_referencia": product.code, "nome": product.name,
        "descricao": product.description, "descricao_resumida": product.short_description,
        "ean": product.gtin or "", "ncm": product.ncm or "",
        "marca": product.brand.name if product.brand else "",
        "preco": _price(product.price, f"{where}.price"),
        **_physical(product.weight_kg, product.dimensions),
        "estoque": "0", "disponivel": "S" if product.available else "N", "possui_variacao": "",
        **_images(product.images, where), "data_modificacao": "",
    }
    for variant in product.variants:
        variant_struct(variant, "")
    return struct


def variant_struct(variant: tramo.Variant, product_id: str) -> Struct:
    """The ``Variacao`` struct for ``variant`` under Tray product ``product_id``."""
    where = f"Variant[{variant.sku}]"
    if not variant.attributes:
        raise tramo.ValidationError(f"{where}.attributes", 0, "Tray needs at least one attribute "
                                    "per variation (tipo_1 and valor_1)")
    if len(variant.attributes) > VARIANT_ATTRIBUTES_MAX:
        raise tramo.ValidationError(f"{where}.attributes", len(variant.attributes),
                                    f"Tray keeps at most {VARIANT_ATTRIBUTES_MAX} attributes")
    for index, attribute in enumerate(variant.attributes):
        _latin1(f"{where}.attributes[{index}]", name=attribute.name, value=attribute.value)
    _latin1(where, sku=variant.sku)
    pairs = [(a.name, a.value) for a in variant.attributes] + [("", "")] * 2
    return {
        "id_variacao": "", "id_produto": product_id, "cod_referencia": variant.sku,
        "ean": variant.gtin or "", "preco": _price(variant.price, f"{where}.price"),
        **_physical(variant.weight_kg, variant.dimensions), "estoque": "0",
        "disponivel": "S" if variant.available else "N",
        "tipo_1": pairs[0][0], "valor_1": pairs[0][1], "tipo_2": pairs[1][0], "valor_2": pairs[1][1],
        **_images(variant.images, where),
    }


def _same(want: str, have: str) -> bool:
    """Equal as the store keeps them: numbers by value ("10.50" is "10.5"), the rest as text."""
    if want == have:
        return True
    try:
        return Decimal(want) == Decimal(have)
    except ArithmeticError:
        return False


def differs(struct: Mapping[str, str], held: Mapping[str, Any]) -> bool:
    """Whether sending ``struct`` would change the record the store holds."""
    return any(not _same(value, text(held.get(key))) for key, value in struct.items()
               if key not in _STORE_KEPT and key != "id_produto")


# -- stock ------------------------------------------------------------------------------------


def stock_quantity(level: tramo.StockLevel) -> str:
    if level.warehouse is not None:
        raise tramo.ValidationError("StockLevel.warehouse", level.warehouse,
                                    "Tray keeps one stock per SKU (no warehouses)")
    if level.quantity < 0:
        raise tramo.ValidationError("StockLevel.quantity", level.quantity, "Tray keeps no negative stock")
    return str(level.quantity)


def reservation_args(reservation: tramo.StockReservation) -> dict[str, str]:
    if reservation.warehouse is not None:
        raise tramo.ValidationError("StockReservation.warehouse", reservation.warehouse,
                                    "Tray keeps one stock per SKU (no warehouses)")
    return {"id_reserva": latin1(reservation.id, "StockReservation.id"),
            "quantidade": str(reservation.quantity)}


# -- orders ------------------------------------------------------------------------------------


def _address(record: Mapping[str, str], recipient: str | None) -> tramo.Address | None:
    if not record.get("logradouro") and not record.get("cep"):
        return None
    country = record.get("pais", "").strip()
    return tramo.Address(
        street=record.get("logradouro", ""), number=record.get("numero") or "S/N",
        complement=record.get("complemento") or None, district=record.get("bairro") or None,
        city=record.get("cidade", ""), state=record.get("uf") or None,
        postal_code=record.get("cep", ""),
        country="BR" if country in ("", "Brasil", "Brazil", "BR") else country,
        recipient=recipient or None)


def customer_from_wire(record: Mapping[str, str], zone: tzinfo) -> tramo.Customer:
    """A ``Cliente`` struct (fWSImportaClientePorPedidoAvancado) as a Customer with its address."""
    company = record.get("tipo_pessoa", "").upper() == "J"
    document = record.get("cnpj_cpf") or None
    birth = moment(record.get("data_nascimento"), zone, "Cliente.data_nascimento")
    address = _address(record, None)
    return tramo.Customer(
        name=record.get("cliente") or record.get("razao_social", ""),
        kind=tramo.CustomerKind.COMPANY if company else tramo.CustomerKind.PERSON,
        cpf=None if company else document, cnpj=document if company else None,
        state_registration=record.get("rg_ie") or None if company else None,
        email=record.get("email") or None,
        phones=[p for p in (record.get("telefone"), record.get("celular")) if p],
        birth_date=birth.date() if birth else None,
        addresses=[address] if address else [],
        remote_id=record.get("id_cliente") or None)


def _attributes(variation: str) -> list[str]:
    return [part.strip() for part in variation.split(";") if part.strip()]


def item_from_wire(record: Mapping[str, str]) -> tramo.OrderItem:
    """An ``ItemPedido``; an item without a reference is known by Tray's variant or product id."""
    variant = record.get("id_variacao", "")
    quantity = whole(record.get("quantidade"), "ItemPedido.quantidade") or 0
    return tramo.OrderItem(
        sku=record.get("cod_referencia") or (variant if variant not in ("", "0") else
                                             record.get("id_produto", "")),
        name=record.get("nome_produto", ""),
        quantity=quantity,
        unit_price=decimal(record.get("preco"), "ItemPedido.preco") or Decimal(0),
        gtin=record.get("ean") or None, attributes=_attributes(record.get("variacao", "")),
        remote_id=record.get("id_item") or None)


def order_from_wire(order: Mapping[str, str], items: Iterable[Mapping[str, str]],
                    customer: Mapping[str, str], delivery: Mapping[str, str] | None,
                    zone: tzinfo) -> tramo.Order:
    """An order from its four answers: the order, its items, its customer, its delivery address.

    Without the delivery address operation (``delivery`` None) the order is
    delivered to the customer's address.
    """
    ident = str(order.get("id_pedido", "")) if isinstance(order, Mapping) else ""
    with reading(f"Order[{ident}]", "the webservice"):
        return _order(order, list(items), customer, delivery, zone)


def _order(order: Mapping[str, str], items: list[Mapping[str, str]], customer: Mapping[str, str],
           delivery: Mapping[str, str] | None, zone: tzinfo) -> tramo.Order:
    ident = order.get("id_pedido", "")
    placed = moment(f"{order.get('data_pedido', '')} {order.get('hora_pedido') or '00:00:00'}".strip(),
                    zone, "data_pedido")
    modified = moment(order.get("data_modificacao"), zone, "data_modificacao")
    buyer = customer_from_wire(customer, zone)
    billing = buyer.addresses[0] if buyer.addresses else None
    shipping_to = (_address(delivery, delivery.get("destinatario")) if delivery is not None
                   else billing)
    total = decimal(order.get("valor_total"), "valor_total") or Decimal(0)
    method = order.get("id_forma_pagamento", "")
    code = order.get("codigo_rastreio", "")
    return tramo.Order(
        id=ident, number=ident, placed_at=placed or modified,
        updated_at=modified if modified and placed and modified >= placed else None,
        customer=buyer, items=[item_from_wire(i) for i in items], total=total,
        platform_status=order.get("id_status") or None,
        billing_address=billing, delivery_address=shipping_to,
        shipping=tramo.Shipping(
            platform_method=order.get("id_forma_envio") or None,
            carrier=order.get("forma_envio") or None,
            freight=decimal(order.get("valor_frete"), "valor_frete") or Decimal(0)),
        payments=[tramo.Payment(
            value=total, platform_method=method,
            installments=max(1, int(decimal(order.get("numero_parcelas"), "numero_parcelas") or 1)),
        )] if method else [],
        sales_channel=tramo.SalesChannel(
            platform_channel=order.get("id_canal_venda") or None,
            marketplace_order_id=order.get("id_pedido_marketplace") or None),
        discount=decimal(order.get("valor_desconto"), "valor_desconto") or Decimal(0),
        trackings=[tramo.Tracking(order_id=ident, code=code, url=_url(order.get("url_rastreio")),
                                  shipped_at=moment(order.get("data_envio"), zone, "data_envio"))
                   ] if code else [],
        notes=order.get("observacao") or None,
    )


def _url(value: str | None) -> str | None:
    url = (value or "").strip()
    return url if url.startswith(("http://", "https://")) else None


def list_filter(page: int, size: int) -> dict[str, str]:
    """fWSImportaPedidos' arguments for one page of the whole ToDo list."""
    return {"status_atual": "", "data_inicial": "", "data_final": "", "hora_inicial": "",
            "hora_final": "", "pagina": str(page), "limite": str(max(1, min(size, PAGE_MAX)))}


# -- order updates ----------------------------------------------------------------------------


def notify(update: tramo.StatusUpdate, notified: frozenset[str] | None) -> str:
    """``notificar_cliente``: the update's own choice, else the store's per-status setting.

    ``notified`` None means every status e-mails the customer (the store's default).
    """
    if update.notify_customer is not None:
        return "S" if update.notify_customer else "N"
    return "S" if notified is None or (update.platform_status or "") in notified else "N"


def tracking_args(tracking: tramo.Tracking) -> dict[str, str]:
    _latin1("Tracking", code=tracking.code, url=tracking.url)
    return {"codigo_rastreio": tracking.code, "url_rastreio": tracking.url or ""}


def invoice_args(invoice: tramo.Invoice, zone: tzinfo) -> dict[str, str]:
    _latin1("Invoice", number=invoice.number, series=invoice.series,
            danfe_url=invoice.danfe_url, xml_url=invoice.xml_url)
    return {
        "numero": invoice.number, "serie": invoice.series, "chave_acesso": invoice.access_key,
        "data_emissao": stamp(invoice.issued_at, zone), "valor": money(invoice.value),
        "link": invoice.danfe_url or invoice.xml_url or ""}


def invoice_keys(records: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Access key to the store's invoice id."""
    found: dict[str, str] = {}
    for record in records:
        key = record.get("chave_acesso", "")
        if key and key not in found:
            found[key] = record.get("id_nota", "")
    return found


# -- look-ups -----------------------------------------------------------------------------------


def options(records: Iterable[Mapping[str, str]]) -> list[tramo.PlatformOption]:
    return [tramo.PlatformOption(id=r.get("id", ""), name=r.get("descricao") or r.get("id", ""))
            for r in records if r.get("id")]

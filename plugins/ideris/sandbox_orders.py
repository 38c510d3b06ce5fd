"""The Ideris sandbox's orders: how a marketplace order lands in the hub, and how Ideris answers it.

Orders reach Ideris from the marketplaces only (there is no order POST), so a
buyer's order comes through ``place_order`` with a :class:`tramo.Order`. The
record is the full order of ``GET /Pedido/<id>`` (every key, money as
Decimal) plus hidden fields (``_alterado``, the change stamp ``ListaPedido``
selects on; ``_taken``, the stock the order took). Everything the profile
says is kept is stored so that the plugin's reading rules give it back
exactly; what the platform lacks falls back to its first choice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import tramo
from tramo.sandbox import HttpSandbox, Request, Response

from tramo_ideris.sandbox_catalogue import sku_owner
from tramo_ideris.sandbox_profile import MAPPINGS
from tramo_ideris.sandbox_records import (
    ORDER_MODULE,
    STATUSES,
    Bad,
    as_id,
    envelope,
    next_id,
    page_params,
    parse_query_moment,
    pick,
    query,
    read_object,
    tick,
)

__all__ = ["ACCOUNTS", "CANCELLED", "OrderRoutes", "PAYMENT_FORMS", "PLACEABLE",
           "SHIPPING_TYPES", "order_record"]

CENT = Decimal("0.01")
CANCELLED = "Cancelado"
PICKUP = "A combinar"
#: The statuses an order may be placed in: the order ones a host maps (never an unmapped one).
PLACEABLE = tuple(s for s in MAPPINGS["status"] if s in {d for d, _ in STATUSES.values()})
SHIPPING_TYPES = tuple(MAPPINGS["shipping"])
PAYMENT_FORMS = tuple(MAPPINGS["payment"])
UNPAID = {"Aberto": "pending", "Pagamento pendente": "pending", CANCELLED: "cancelled",
          "Vencido": "cancelled"}
MAX_IDS = 50


class Account(NamedTuple):
    """The seller's account on one marketplace, as Ideris names it on every order."""

    auth_id: int
    account_id: str
    account_name: str
    broker: str
    broker_cnpj: str
    shipping: str
    fee: Decimal
    prefix: str


ACCOUNTS: dict[str, Account] = {
    "Mercado Livre": Account(70101, "482130771", "LOJASANDBOX", "Mercado Livre",
                             "03007331000141", "Mercado Envios", Decimal("0.12"), "MLB"),
    "Amazon": Account(70102, "A2Q3Y263D00KWC", "Loja Sandbox Amazon",
                      "Amazon Serviços de Varejo do Brasil Ltda", "15436940000103", "Correios",
                      Decimal("0.15"), "AMZ"),
    "Shopee": Account(70103, "839201774", "lojasandbox", "Shopee", "35635824000112", "Correios",
                      Decimal("0.14"), "SHP"),
    "Magalu": Account(70104, "lojasandbox", "Loja Sandbox Magalu", "Magazine Luiza S/A",
                      "47960950000121", "Correios", Decimal("0.16"), "MGL"),
    "Americanas": Account(70105, "48213-AMER", "Loja Sandbox Americanas", "Americanas S.A.",
                          "00776574000156", "Correios", Decimal("0.16"), "AME"),
    "Via": Account(70106, "48213-VIA", "Loja Sandbox Via", "Via S.A.", "33041260065290",
                   "Correios", Decimal("0.16"), "VIA"),
}
DEFAULT_MARKETPLACE = "Mercado Livre"


def _digits(seed: str, count: int) -> str:
    """A fixed numeric code made from ``seed`` (cart, payment and shipment codes)."""
    return str(int(hashlib.sha1(seed.encode()).hexdigest(), 16))[:count]


# -- an order from tramo's model --------------------------------------------------------------


def _buyer(customer: tramo.Customer) -> dict[str, Any]:
    """The ``comprador*`` fields; the name splits at its first space (read back joined by one).

    A name whose first space is its last character stays whole in the first
    name ("Ana " would otherwise read back as "Ana").
    """
    first, _, last = customer.name.partition(" ")
    if not last:
        first = customer.name
    company = customer.kind is tramo.CustomerKind.COMPANY
    phone = customer.phones[0] if customer.phones else None
    return {
        "compradorPrimeiroNome": first, "compradorSobrenome": last,
        "compradorApelido": "".join(ch for ch in customer.name.upper() if ch.isalnum())[:20]
        or None,
        "compradorEmail": customer.email,
        "compradorTipoDocumento": "CNPJ" if company else "CPF",
        "compradorDocumento": (customer.cnpj if company else customer.cpf) or "",
        "compradorCodigoAreaTelefone": "" if phone else None, "compradorTelefone": phone,
    }


ADDRESS_KEYS = ("enderecoEntregaCompleto", "enderecoEntregaRua", "enderecoEntregaNumero",
                "enderecoEntregaCep", "enderecoEntregaBairro", "enderecoEntregaCidade",
                "enderecoEntregaEstado", "enderecoEntregaPais", "enderecoEntregaComentario",
                "enderecoEntrega_NomeResponsavelRecebimento",
                "enderecoEntrega_TelefoneResponsavelRecebimento")


def _delivery(address: tramo.Address | None) -> dict[str, Any]:
    """The ``enderecoEntrega*`` fields; all null for a pickup."""
    if address is None:
        return dict.fromkeys(ADDRESS_KEYS)
    parts = [f"{address.street}, {address.number}"]
    if address.complement:
        parts[0] += f" - {address.complement}"
    parts += [p for p in (address.district, address.city, address.state) if p]
    full = ", ".join(parts) + f", CEP {address.postal_code}"
    values = (full, address.street, address.number, address.postal_code, address.district,
              address.city, address.state, "Brasil" if address.country == "BR" else address.country,
              address.complement, address.recipient, address.phone)
    return dict(zip(ADDRESS_KEYS, values))


def _item(data: Mapping[str, Any], item: tramo.OrderItem, account: Account, ident: int,
          line: int) -> dict[str, Any]:
    product = sku_owner(data, item.sku)
    variation = next((v for v in product["variations"] if v["skuVariacao"] == item.sku), None) \
        if product else None
    image = (variation and variation["imagem"]) or (product["images"][0] if product and
                                                    product["images"] else None)
    if item.attributes:
        described: str | None = ", ".join(item.attributes)
    elif variation is not None:
        described = f"{variation['nomeAtributo']}: {variation['valorAtributo']}"
    else:
        described = None
    return {"tituloProdutoItem": item.name, "skuProdutoItem": item.sku,
            "codigoProduto": str(product["id"]) if product else None,
            "codigoProdutoItem": item.remote_id or f"{account.prefix}{ident}{line:02d}",
            "quantidadeItem": item.quantity, "precoUnitarioItem": item.unit_price,
            "caminhoImagemItem": image, "variacaoProdutoItem": described}


def _cost(data: Mapping[str, Any], items: list[dict[str, Any]]) -> Decimal:
    """What the items cost the seller (their products' valorCusto), for the order's balance."""
    total = Decimal(0)
    for item in items:
        product = sku_owner(data, item["skuProdutoItem"])
        if product is not None:
            total += product["valorCusto"] * item["quantidadeItem"]
    return total


def order_record(data: dict[str, Any], order: tramo.Order, moment: datetime) -> dict[str, Any]:
    """The full order Ideris would show for ``order`` placed at ``moment`` (not yet filed)."""
    ident = next_id(data, "order")
    channel = order.sales_channel
    marketplace = (channel.platform_channel if channel and channel.platform_channel in ACCOUNTS
                   else DEFAULT_MARKETPLACE)
    account = ACCOUNTS[marketplace]
    address = order.delivery_address
    method = order.shipping.platform_method if order.shipping else None
    shipping = (method if method in SHIPPING_TYPES
                else account.shipping if address is not None else PICKUP)
    status = order.platform_status if order.platform_status in PLACEABLE else "Aprovado"
    first = order.payments[0] if order.payments else None
    form = first.platform_method if first and first.platform_method in PAYMENT_FORMS \
        else "credit_card"
    items = [_item(data, item, account, ident, n) for n, item in enumerate(order.items, 1)]
    items_total = sum((i["precoUnitarioItem"] * i["quantidadeItem"] for i in items), Decimal(0))
    fee = (items_total * account.fee).quantize(CENT)
    cost = _cost(data, items)
    code = (channel.marketplace_order_id if channel and channel.marketplace_order_id
            else "2000" + _digits(f"ideris-order-{ident}", 9))
    return {
        "id": ident, "data": moment, "codigo": code, "valorTotalComFrete": order.total,
        "valorPago": first.value if first else order.total, "valorTotal": items_total,
        "tarifaEnvio": Decimal(0), "tarifaVenda": fee, "totalDebitado": fee,
        "custoProduto": cost, "valorSobrou": items_total - fee,
        "totalLiquido": items_total - fee - cost, "valorDesconto": order.discount,
        "freteComprador": order.shipping.freight if order.shipping else Decimal(0),
        "moeda": "R$" if order.currency == "BRL" else order.currency, "tipoEntrega": shipping,
        "marketplace": marketplace, "idAutenticacaoIderis": account.auth_id,
        "idContaMarketplace": account.account_id, "nomeContaMarketplace": account.account_name,
        "status": status,
        "codigoEntrega": None if address is None else "4" + _digits(f"ideris-ship-{ident}", 10),
        "codigoCarrinhoCompras": "3" + _digits(f"ideris-cart-{ident}", 12),
        "metodoRastreio": None, "numeroRastreio": None,
        **_buyer(order.customer), **_delivery(address),
        "intermediadorNome": account.broker, "intermediadorCnpj": account.broker_cnpj,
        "Item": items,
        "Pagamento": [{"codigoPagamento": _digits(f"ideris-payment-{ident}", 11),
                       "dataAprovacaoPagamento": first.paid_at if first else None,
                       "statusPagamento": UNPAID.get(status, "approved"),
                       "formaPagamento": form,
                       "numeroParcelasPagamento": first.installments if first else 1,
                       "taxaMercadoPago": 0, "taxaMercadoLivre": 0}],
        "_alterado": moment, "_taken": [], "_restocked": False,
    }


def take_stock(data: Mapping[str, Any], record: dict[str, Any]) -> None:
    """A placed order takes its items off the hub's stock (never below zero)."""
    for item in record["Item"]:
        holder, key = _stock_holder(data, item["skuProdutoItem"])
        if holder is None:
            continue
        taken = min(int(holder[key]), int(item["quantidadeItem"]))
        holder[key] = int(holder[key]) - taken
        record["_taken"].append((item["skuProdutoItem"], taken))


def _return_stock(data: Mapping[str, Any], record: dict[str, Any]) -> None:
    """A cancelled order gives back what it took, once."""
    if record["_restocked"]:
        return
    record["_restocked"] = True
    for sku, taken in record["_taken"]:
        holder, key = _stock_holder(data, sku)
        if holder is not None:
            holder[key] = int(holder[key]) + taken


def _stock_holder(data: Mapping[str, Any], sku: str) -> tuple[dict[str, Any] | None, str]:
    product = sku_owner(data, sku)
    if product is None:
        return None, ""
    for variation in product["variations"]:
        if variation["skuVariacao"] == sku:
            return variation, "quantidadeVariacao"
    if product["variations"]:
        return None, ""  # the product's own sku sells nothing once it has variations
    return product, "quantidadeEstoquePrincipal"


def move_status(data: dict[str, Any], record: dict[str, Any], status: str) -> None:
    """The order's status moves (and its change stamp), unless it is already there."""
    if record["status"] == status:
        return
    record["status"] = status
    record["_alterado"] = tick(data)
    if status == CANCELLED:
        _return_stock(data, record)
        for payment in record["Pagamento"]:
            payment["statusPagamento"] = "cancelled"


# -- answers ----------------------------------------------------------------------------------

LIST_KEYS = ("id", "codigo", "marketplace", "idAutenticacaoIderis", "idContaMarketplace",
             "nomeContaMarketplace", "status", "data", "codigoCarrinhoCompras")


def list_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """An item of ``ListaPedido`` (the simplified order)."""
    items = record["Item"]
    return {**{k: record[k] for k in LIST_KEYS},
            "imagemPedidoItem": items[0]["caminhoImagemItem"] if items else None,
            "intermediadorNome": record["intermediadorNome"],
            "intermediadorCnpj": record["intermediadorCnpj"]}


def _moment(request: Request, name: str) -> datetime | None:
    text = query(request, name)
    if not text:
        return None
    try:
        return parse_query_moment(text)
    except ValueError:
        raise Bad(f"{name} inválida") from None


def _ids(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > MAX_IDS:
        raise Bad(f"Informe no máximo {MAX_IDS} ids")
    if not all(p.isdigit() for p in parts):
        raise Bad("ids inválidos: informe números separados por vírgula")
    return sorted({int(p) for p in parts})


class OrderRoutes(HttpSandbox):
    """``/ListaPedido``, ``/Pedido``, ``/Pedido/<id>`` and ``/PedidoStatus``."""

    def on_order_list(self, request: Request) -> Response:
        first, last = _moment(request, "dataInicial"), _moment(request, "dataFinal")
        status, marketplace = query(request, "status"), query(request, "marketplace")
        with self.lock:
            chosen = [r for _, r in sorted(self.data["orders"].items())
                      if (first is None or r["_alterado"] >= first)
                      and (last is None or r["_alterado"] <= last)
                      and (not status or r["status"] == status)
                      and (not marketplace or r["marketplace"] == marketplace)]
            # only the page's orders are rendered: rendering all of them for every page
            # made a read of N orders cost O(N^2)
            offset, limit = page_params(request)
            return envelope([list_item(r) for r in chosen[offset:offset + limit]],
                            offset, limit, len(chosen))

    def on_orders(self, request: Request) -> Response:
        ids, code = query(request, "ids"), query(request, "codigo")
        with self.lock:
            orders = self.data["orders"]
            if ids:
                return envelope([orders[i] for i in _ids(ids) if i in orders])
            if code:
                return envelope([r for _, r in sorted(orders.items()) if r["codigo"] == code])
            raise Bad("Informe ids ou codigo")

    def on_order(self, request: Request, ident: str) -> Response:
        with self.lock:
            record = self.data["orders"].get(int(ident)) if ident.isdigit() else None
            if record is None:
                raise Bad("Pedido não encontrado", 404)
            return envelope([record])

    def on_order_status(self, request: Request) -> Response:
        body = read_object(request)
        given, wanted = pick(body, "idPedidos"), pick(body, "idNovoStatus")
        with self.lock:
            if isinstance(given, int) and not isinstance(given, bool):
                ids = [given]
            elif isinstance(given, str) and given.strip():
                ids = _ids(given)
            else:
                raise Bad("O campo idPedidos é obrigatório")
            missing = next((i for i in ids if i not in self.data["orders"]), None)
            if missing is not None:
                raise Bad(f"Pedido {missing} não encontrado")
            try:
                status_id = as_id(wanted, "idNovoStatus")
            except Bad:
                raise Bad(f"Status {wanted} inválido para pedidos") from None
            if status_id not in STATUSES or STATUSES[status_id][1] != ORDER_MODULE:
                raise Bad(f"Status {status_id} inválido para pedidos")
            status = STATUSES[status_id][0]
            for ident in ids:
                move_status(self.data, self.data["orders"][ident], status)
            return envelope([{"idPedido": i, "status": status} for i in ids])

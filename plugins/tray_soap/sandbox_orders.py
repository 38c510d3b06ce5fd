"""The Tray SOAP store's orders: a queue (the ToDo list), their parts, and the seller's writes.

An order reaches the store from a buyer (:meth:`OrderOperations.file_order`,
given a :class:`tramo.Order`) and goes on the ToDo list; ``fWSImportaPedidos``
pages through that list and ``fWSAtualizaListaToDo`` takes an order off it.
A change on the store's side puts it back; the seller's own writes through
the webservice (status, tracking, invoices) do not. Orders are kept as their
``Pedido`` struct plus the ids of their items and invoices, their delivery
address and their installments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import tramo
from tramo.sandbox import Fault
from tramo.sandbox.soap import Params

from tramo_tray_soap.sandbox_store import (
    CHANNELS,
    EMPTY_DATE,
    PAYMENTS,
    SHIPPING,
    STATUSES,
    STORE_TZ,
    Causes,
    TrayStore,
    dados,
    erro,
    money_text,
    not_found,
    ok,
    options,
    read_count,
    read_day,
    read_decimal,
    read_digits,
    read_moment,
    read_text,
    read_url,
    stamp_text,
    text,
)

__all__ = ["OrderOperations"]

MAX_LIMIT = 50
_HOUR = re.compile(r"([01]\d|2[0-3])([0-5]\d)")
#: The statuses an order can be placed in: FINALIZADO ("7") is the store closing an order,
#: never where a buyer's order starts (and hosts leave it unmapped).
PLACEABLE = frozenset(STATUSES) - {"7"}

_CUSTOMER_KEYS = ("cliente", "tipo_pessoa", "cnpj_cpf", "rg_ie", "razao_social", "email",
                  "telefone", "celular", "data_nascimento")


# -- a buyer's order in the store's terms ----------------------------------------------------------


def _option(table: Mapping[str, str], *given: str | None) -> str | None:
    """The option id ``given`` names, by id or by name (case aside); None when none does."""
    for value in given:
        if not value:
            continue
        if value in table:
            return value
        found = next((i for i, name in table.items() if name.lower() == value.lower()), None)
        if found is not None:
            return found
    return None


def _document(value: str | None) -> str:
    """A CPF, CNPJ (numeric or alphanumeric) or postal code as the store keeps it: no punctuation."""
    return re.sub(r"[\s./-]", "", value or "").upper()


def _address_fields(address: tramo.Address | None) -> dict[str, str]:
    if address is None:
        return dict.fromkeys(("logradouro", "numero", "complemento", "bairro", "cidade", "uf",
                              "cep", "pais"), "")
    return {"logradouro": address.street, "numero": address.number,
            "complemento": address.complement or "", "bairro": address.district or "",
            "cidade": address.city, "uf": address.state or "", "cep": _document(address.postal_code),
            "pais": "Brasil" if address.country == "BR" else address.country}


def _customer_fields(order: tramo.Order) -> dict[str, str]:
    """The buyer as ``Cliente`` (less its id); the billing address is the customer's."""
    customer = order.customer
    company = customer.kind is tramo.CustomerKind.COMPANY
    phones = [*customer.phones, "", ""]
    address = order.billing_address or next(iter(customer.addresses), order.delivery_address)
    born = customer.birth_date.isoformat() if customer.birth_date else EMPTY_DATE
    return {"cliente": customer.name, "tipo_pessoa": "J" if company else "F",
            "cnpj_cpf": _document(customer.cnpj if company else customer.cpf),
            "rg_ie": customer.state_registration or "",
            "razao_social": customer.name if company else "", "email": customer.email or "",
            "telefone": phones[0], "celular": phones[1], "data_nascimento": born,
            **_address_fields(address)}


def _delivery(order: tramo.Order) -> dict[str, str]:
    address = order.delivery_address or order.billing_address
    recipient = address.recipient if address is not None and address.recipient else None
    return {"destinatario": recipient or order.customer.name, **_address_fields(address)}


def _installments(total: Decimal, count: int, placed: datetime) -> list[dict[str, str]]:
    """Equal parcelas a month apart, the last taking the rounding."""
    share = (total / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    values = [share] * (count - 1) + [total - share * (count - 1)]
    return [{"numero": str(n + 1), "valor": money_text(v),
             "vencimento": (placed + timedelta(days=30 * n)).date().isoformat()}
            for n, v in enumerate(values)]


def _pairs(variant: Mapping[str, str]) -> str:
    """A variant's attributes as Tray names them on an item: ``Cor: Azul; Tamanho: M``."""
    return "; ".join(f"{variant[f'tipo_{n}']}: {variant[f'valor_{n}']}" for n in (1, 2)
                     if variant[f"tipo_{n}"])


class OrderOperations(TrayStore):
    """The order queue, each order's parts and the seller's writes, as ``op_<Name>`` handlers."""

    # -- filing a buyer's order --------------------------------------------------------------

    def file_order(self, order: tramo.Order) -> str:
        """File ``order`` as placed now: ids, times, customer, items (stock taken), ToDo list."""
        moment = self.tick()
        stamp = stamp_text(moment)
        ident = self.next_id("pedido")
        shipping, channel = order.shipping, order.sales_channel
        payment = order.payments[0] if order.payments else None
        shipping_id = _option(SHIPPING, shipping.platform_method if shipping else None,
                              shipping.carrier if shipping else None) or "1"
        payment_id = _option(PAYMENTS, payment.platform_method if payment else None) or "80"
        channel_id = _option(CHANNELS, channel.platform_channel if channel else None) or "1"
        status = order.platform_status if order.platform_status in PLACEABLE else "1"
        count = payment.installments if payment else 1
        parcelas = _installments(order.total, count, moment.astimezone(STORE_TZ))
        eta = shipping.estimated_delivery if shipping else None
        days = max(0, (eta.astimezone(STORE_TZ).date() - moment.date()).days) if eta else 0
        self.data["orders"][ident] = {
            "id_pedido": ident, "id_cliente": self._customer(order),
            "data_pedido": stamp[:10], "hora_pedido": stamp[11:], "data_modificacao": stamp,
            "id_status": status, "status": STATUSES[status],
            "valor_subtotal": money_text(order.items_total),
            "valor_desconto": money_text(order.discount),
            "valor_frete": money_text(order.freight), "valor_total": money_text(order.total),
            "id_forma_envio": shipping_id, "forma_envio": SHIPPING[shipping_id],
            "prazo_entrega": str(days), "id_forma_pagamento": payment_id,
            "forma_pagamento": PAYMENTS[payment_id], "numero_parcelas": str(count),
            "valor_parcela": parcelas[0]["valor"], "id_canal_venda": channel_id,
            "canal_venda": CHANNELS[channel_id],
            "id_pedido_marketplace": (channel.marketplace_order_id or "") if channel else "",
            "codigo_rastreio": "", "url_rastreio": "", "data_envio": EMPTY_DATE,
            "observacao": order.notes or "", "cupom_desconto": "",
            "endereco": _delivery(order), "parcelas": parcelas, "invoice_ids": [],
            "item_ids": [self._item(ident, item) for item in order.items],
        }
        self.data["todo"]["pedidos"].add(ident)
        return ident

    def _customer(self, order: tramo.Order) -> str:
        """The customer record for the order; the very same buyer data reuses it."""
        fields = _customer_fields(order)
        for record in self.data["customers"].values():
            if {k: v for k, v in record.items() if k != "id_cliente"} == fields:
                return str(record["id_cliente"])
        ident = self.next_id("cliente")
        self.data["customers"][ident] = {"id_cliente": ident, **fields}
        self.data["todo"]["clientes"].add(ident)
        return ident

    def _item(self, order_id: str, item: tramo.OrderItem) -> str:
        """One line; a SKU of the catalogue names its product and variant and takes its stock."""
        variant: dict[str, Any] | None = None
        product: dict[str, Any] | None = None
        owner = self.reference_owner(item.sku)
        if owner is not None:
            kind, found = owner
            variant = self.data["variants"][found] if kind == "variacao" else None
            product = self.data["products"][variant["id_produto"] if variant else found]
        holder = variant if variant is not None else (
            product if product is not None and not product["variant_ids"] else None)
        if holder is not None:
            holder["estoque"] = str(max(0, int(holder["estoque"]) - item.quantity))
        ident = self.next_id("item")
        self.data["items"][ident] = {
            "id_item": ident, "id_pedido": order_id,
            "id_produto": product["id_produto"] if product else "0",
            "id_variacao": variant["id_variacao"] if variant else "0",
            "cod_referencia": item.sku, "nome_produto": item.name,
            "variacao": _pairs(variant) if variant else "; ".join(item.attributes),
            "quantidade": str(item.quantity), "preco": money_text(item.unit_price),
            "ean": item.gtin or (holder or product or {}).get("ean", ""),
        }
        return ident

    def store_change(self, order_id: str) -> None:
        """Something changes the order on the store's side: it moves and goes back on the list."""
        order = self.data["orders"][order_id]
        order["data_modificacao"] = stamp_text(self.tick())
        self.data["todo"]["pedidos"].add(order_id)

    # -- the queue ----------------------------------------------------------------------------

    def op_fWSImportaPedidos(self, params: Params) -> list[dict[str, Any]]:
        """A page of the ToDo list, by id, within the status and placement window asked for.

        The window runs from ``data_inicial`` at ``hora_inicial`` to ``data_final``
        at ``hora_final`` (whole minutes); an empty date leaves that side open.
        """
        if self.current_fault() is Fault.DUPLICATE_PAGE and self.data["last_page"] is not None:
            return list(self.data["last_page"])
        causes = Causes()
        page = causes.read("pagina", text(params, "pagina"), _page_number)
        limit = causes.read("limite", text(params, "limite"), _limit)
        first = _end(params, "data_inicial", "hora_inicial", "0000", causes)
        last = _end(params, "data_final", "hora_final", "2359", causes)
        causes.check()
        start, size = (int(page) - 1) * int(limit), int(limit)
        status = text(params, "status_atual")
        queued = [self.data["orders"][i] for i in sorted(self.data["todo"]["pedidos"], key=int)]
        chosen = [o for o in queued if status in ("", o["id_status"], o["status"])
                  and _within(f"{o['data_pedido']} {o['hora_pedido']}"[:16], first, last)]
        answer = chosen[start: start + size]
        self.data["last_page"] = answer
        return answer

    def op_fWSAtualizaListaToDo(self, params: Params) -> dict[str, str]:
        """Take an order (or customer) off the ToDo list; taking it off twice is fine."""
        entity, ident = text(params, "entidade"), text(params, "id")
        if entity not in ("pedidos", "clientes"):
            raise dados("entidade", "use pedidos ou clientes")
        records = self.data["orders" if entity == "pedidos" else "customers"]
        if ident not in records:
            raise not_found("Pedido" if entity == "pedidos" else "Cliente")
        self.data["todo"][entity].discard(ident)
        return ok(ident)

    # -- each order's parts ---------------------------------------------------------------------

    def op_fWSImportaPedidoPorId(self, params: Params) -> dict[str, Any]:
        return self.order(text(params, "id_pedido"))

    def op_fWSImportaItensPedidoPorId(self, params: Params) -> list[dict[str, Any]]:
        order = self.order(text(params, "id_pedido"))
        return [self.data["items"][i] for i in order["item_ids"]]

    def op_fWSImportaClientePorPedidoAvancado(self, params: Params) -> dict[str, Any]:
        order = self.order(text(params, "id_pedido"))
        customer: dict[str, Any] = self.data["customers"][order["id_cliente"]]
        return customer

    def op_fWSImportaEnderecoEntregaPedido(self, params: Params) -> dict[str, Any]:
        address: dict[str, Any] = self.order(text(params, "id_pedido"))["endereco"]
        return address

    def op_fWSImportaParcelasPedidoPorId(self, params: Params) -> list[dict[str, Any]]:
        parcelas: list[dict[str, Any]] = self.order(text(params, "id_pedido"))["parcelas"]
        return parcelas

    def op_fWSImportaNotasFiscaisPedido(self, params: Params) -> list[dict[str, Any]]:
        order = self.order(text(params, "id_pedido"))
        return [self.data["invoices"][i] for i in order["invoice_ids"]]

    # -- the seller's writes (none puts the order back on the list) ------------------------------

    def op_fWSAtualizaStatusPedido(self, params: Params) -> dict[str, str]:
        """A new status; with ``notificar_cliente=S`` the store e-mails the buyer."""
        ident = text(params, "id_pedido")
        order = self.order(ident)
        notify = text(params, "notificar_cliente").upper()
        if notify not in ("S", "N"):
            raise dados("notificar_cliente", "use S ou N")
        status = text(params, "id_status")
        if status not in STATUSES:
            return erro(f"status {status or '(vazio)'} inexistente")
        order.update(id_status=status, status=STATUSES[status],
                     data_modificacao=stamp_text(self.tick()))
        if notify == "S":
            self.data["emails"].append((ident, status))
        return ok(ident)

    def op_fWSAtualizaRastreioPedido(self, params: Params) -> dict[str, str]:
        """The order's tracking code (one per order: a new one replaces it)."""
        ident = text(params, "id_pedido")
        order = self.order(ident)
        causes = Causes()
        code = causes.read("codigo_rastreio", text(params, "codigo_rastreio"),
                           read_text(100, required=True))
        url = causes.read("url_rastreio", text(params, "url_rastreio"), read_url)
        causes.check()
        stamp = stamp_text(self.tick())
        shipped = stamp[:10] if order["data_envio"] == EMPTY_DATE else order["data_envio"]
        order.update(codigo_rastreio=code, url_rastreio=url, data_envio=shipped,
                     data_modificacao=stamp)
        return ok(ident)

    def op_fWSCadastraNotaFiscalPedido(self, params: Params) -> dict[str, str]:
        """File an invoice of the order; a key filed before is filed again (it shows twice)."""
        order_id = text(params, "id_pedido")
        order = self.order(order_id)
        causes = Causes()
        fields = {name: causes.read(name, text(params, name), reader)
                  for name, reader in _INVOICE_READERS.items()}
        causes.check()
        ident = self.next_id("nota")
        self.data["invoices"][ident] = {"id_nota": ident, "id_pedido": order_id, **fields}
        order["invoice_ids"].append(ident)
        order["data_modificacao"] = stamp_text(self.tick())
        return ok(ident)

    # -- the store's option lists ------------------------------------------------------------------

    def op_fWSImportaStatusPedido(self, params: Params) -> list[dict[str, str]]:
        return options(STATUSES)

    def op_fWSFormasEnvioDisponiveis(self, params: Params) -> list[dict[str, str]]:
        return options(SHIPPING)

    def op_fWSFormasPagamentosDisponiveis(self, params: Params) -> list[dict[str, str]]:
        return options(PAYMENTS)

    def op_fWSCanaisVendaDisponiveis(self, params: Params) -> list[dict[str, str]]:
        return options(CHANNELS)


def _end(params: Params, day_name: str, hour_name: str, default: str,
         causes: Causes) -> str | None:
    """One end of the placement window as ``Y-m-d H:i`` (None: that side is open)."""
    day = causes.read(day_name, text(params, day_name), lambda v: read_day(v) if v else "")
    hour = causes.read(hour_name, text(params, hour_name) or default, _hour)
    return f"{day} {hour[:2]}:{hour[2:]}" if day else None


def _within(placed: str, first: str | None, last: str | None) -> bool:
    """Whether ``placed`` (``Y-m-d H:i``) lies in the window, both ends included."""
    return (first is None or first <= placed) and (last is None or placed <= last)


def _page_number(value: str) -> str:
    number = read_count(value, "1")
    if int(number) < 1:
        raise ValueError("deve ser um número inteiro maior que 0")
    return number


def _limit(value: str) -> str:
    number = int(read_count(value, "0"))
    if number > MAX_LIMIT:
        raise ValueError(f"no máximo {MAX_LIMIT} pedidos por página")
    return str(number or MAX_LIMIT)


def _hour(value: str) -> str:
    if not _HOUR.fullmatch(value):
        raise ValueError("use HHMM (0000 a 2359)")
    return value


_INVOICE_READERS = {
    "numero": read_digits(*range(1, 10)), "serie": read_digits(*range(1, 4)),
    "chave_acesso": read_digits(44), "data_emissao": read_moment,
    "valor": lambda value: money_text(read_decimal(value)),
    "link": read_url,
}

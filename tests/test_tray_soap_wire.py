"""Tray SOAP structs <-> the model: strings everywhere go in; what the store refuses or mangles is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given

import tramo
from tramo.testing import strategies as s
from tramo_tray_soap import wire

SAO_PAULO = ZoneInfo("America/Sao_Paulo")

ORDER = {
    "id_pedido": "1042", "id_cliente": "77", "data_pedido": "2026-05-04", "hora_pedido": "14:03:59",
    "data_modificacao": "2026-05-04 15:00:00", "id_status": "2", "status": "PAGAMENTO APROVADO",
    "valor_subtotal": "199.80", "valor_desconto": "10.00", "valor_frete": "23.45",
    "valor_total": "213.25", "id_forma_envio": "1", "forma_envio": "Correios PAC",
    "prazo_entrega": "7", "id_forma_pagamento": "81", "forma_pagamento": "Pix",
    "numero_parcelas": "0", "valor_parcela": "0.00", "id_canal_venda": "2",
    "canal_venda": "Mercado Livre", "id_pedido_marketplace": "MLB-2000123", "codigo_rastreio": "",
    "url_rastreio": "", "data_envio": "0000-00-00", "observacao": "Entregar à tarde",
    "cupom_desconto": "",
}
ITEMS = [{"id_item": "5", "id_pedido": "1042", "id_produto": "300", "id_variacao": "301",
          "cod_referencia": "CAM-AZ-M", "nome_produto": "Camiseta Algodão", "variacao": "Cor: Azul; Tamanho: M",
          "quantidade": "2", "preco": "99.90", "ean": "7891234567895"},
         {"id_item": "6", "id_pedido": "1042", "id_produto": "310", "id_variacao": "0",
          "cod_referencia": "", "nome_produto": "Brinde", "variacao": "", "quantidade": "1",
          "preco": "0.00", "ean": ""}]
CUSTOMER = {"id_cliente": "77", "cliente": "João da Silva", "tipo_pessoa": "F",
            "cnpj_cpf": "52998224725", "rg_ie": "", "razao_social": "", "email": "joao@example.com.br",
            "telefone": "1133334444", "celular": "11999998888", "data_nascimento": "0000-00-00",
            "logradouro": "Rua das Flores", "numero": "", "complemento": "ap 12", "bairro": "Centro",
            "cidade": "São Paulo", "uf": "SP", "cep": "01001000", "pais": "Brasil"}
DELIVERY = {"destinatario": "Maria da Silva", "logradouro": "Av. Paulista", "numero": "1000",
            "complemento": "", "bairro": "Bela Vista", "cidade": "São Paulo", "uf": "SP",
            "cep": "01310100", "pais": "Brasil"}


# -- orders in ------------------------------------------------------------------------------

def test_an_order_reads_from_its_four_answers_with_text_everywhere() -> None:
    order = wire.order_from_wire(ORDER, ITEMS, CUSTOMER, DELIVERY, SAO_PAULO)
    assert order.id == "1042" and order.platform_status == "2"
    assert order.placed_at.isoformat() == "2026-05-04T14:03:59-03:00"
    assert order.total == Decimal("213.25") and order.discount == Decimal("10.00")
    assert order.shipping.freight == Decimal("23.45") and order.shipping.platform_method == "1"
    assert order.payments[0].platform_method == "81" and order.payments[0].installments == 1
    assert order.sales_channel.platform_channel == "2"
    assert order.sales_channel.marketplace_order_id == "MLB-2000123"
    assert order.customer.cpf == "52998224725" and order.customer.birth_date is None
    assert order.billing_address.number == "S/N" and order.billing_address.country == "BR"
    assert order.delivery_address.recipient == "Maria da Silva"
    assert [i.sku for i in order.items] == ["CAM-AZ-M", "310"]  # no reference: Tray's product id
    assert order.items[0].attributes == ("Cor: Azul", "Tamanho: M")
    assert order.trackings == () and order.notes == "Entregar à tarde"


def test_without_the_delivery_address_operation_the_order_goes_to_the_customer() -> None:
    order = wire.order_from_wire(ORDER, ITEMS, CUSTOMER, None, SAO_PAULO)
    assert order.delivery_address == order.billing_address
    assert order.delivery_address.street == "Rua das Flores"


def test_a_bad_value_names_the_order_and_the_field() -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        wire.order_from_wire(ORDER, ITEMS, {**CUSTOMER, "cnpj_cpf": "12345678900"}, DELIVERY, SAO_PAULO)
    assert caught.value.field.startswith("Order[1042].") and "cpf" in caught.value.field
    with pytest.raises(tramo.ValidationError, match=r"Order\[1042\]\.valor_frete"):
        wire.order_from_wire({**ORDER, "valor_frete": "R$ 10"}, ITEMS, CUSTOMER, DELIVERY, SAO_PAULO)


def test_a_company_customer_keeps_its_cnpj_and_state_registration() -> None:
    company = {**CUSTOMER, "tipo_pessoa": "J", "cnpj_cpf": "11222333000181", "rg_ie": "110042490114",
               "cliente": "", "razao_social": "Loja Exemplo Ltda"}
    customer = wire.customer_from_wire(company, SAO_PAULO)
    assert customer.kind is tramo.CustomerKind.COMPANY and customer.cnpj == "11222333000181"
    assert customer.cpf is None and customer.state_registration == "110042490114"
    assert customer.name == "Loja Exemplo Ltda"


# -- products out -------------------------------------------------------------------------------

PRODUCT = tramo.Product(code="CAM-01", name="Camiseta Algodão", description="Macia",
                        price=Decimal("99.9"), weight_kg=Decimal("0.25"),
                        dimensions=tramo.Dimensions(length_cm=Decimal(30), width_cm=Decimal(20),
                                                    height_cm=Decimal("2.5")),
                        images=("https://img.example.com/1.jpg",))


def test_a_product_struct_has_every_field_as_text() -> None:
    struct = wire.product_struct(PRODUCT)
    assert struct["cod_referencia"] == "CAM-01" and struct["preco"] == "99.90"
    assert (struct["peso"], struct["altura"], struct["largura"], struct["comprimento"]) == ("250", "2.5", "20", "30")
    assert struct["imagem_1"] == "https://img.example.com/1.jpg" and struct["imagem_6"] == ""
    assert struct["disponivel"] == "S" and all(isinstance(v, str) for v in struct.values())


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "Camiseta 😀"}, "Product.name"),
    ({"name": "N" * 201}, "Product.name"),
    ({"price": Decimal(0)}, "Product.price"),
    ({"images": tuple(f"https://img.example.com/{i}.jpg" for i in range(7))}, "Product.images"),
    ({"sku": "OTHER"}, "Product.sku"),
    ({"variants": (tramo.Variant(sku="V1", attributes=tuple(
        tramo.Attribute(name=f"A{i}", value="x") for i in range(3))),)}, "Variant[V1].attributes"),
])
def test_what_the_store_refuses_or_mangles_is_refused_naming_the_field(
        change: dict[str, Any], field: str) -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        wire.product_struct(attrs.evolve(PRODUCT, **change))
    assert caught.value.field == field


@given(s.products())
def test_any_product_is_refused_or_sent_as_text_latin1_holds(product: tramo.Product) -> None:
    try:
        struct = wire.product_struct(product)
    except tramo.ValidationError:
        return
    for value in struct.values():
        value.encode("iso-8859-1")
    assert struct["cod_referencia"] == product.code


def test_a_held_record_differs_only_by_value() -> None:
    struct = wire.product_struct(PRODUCT)
    held = {**struct, "id_produto": "9", "preco": "99.9", "estoque": "12", "possui_variacao": "N",
            "data_modificacao": "2026-05-04 10:00:00"}
    assert not wire.differs(struct, held)
    assert wire.differs(struct, {**held, "nome": "Outra"})


# -- answers, faults, updates ------------------------------------------------------------------

@pytest.mark.parametrize(("code", "kind", "platform_code"), [
    ("SOAP-ENV:Client.Autenticacao", tramo.AuthenticationError, None),
    ("SOAP-ENV:Client.NaoEncontrado", tramo.PlatformError, "not_found"),
    ("SOAP-ENV:Client.Dados", tramo.PlatformError, "invalid"),
    ("SOAP-ENV:Server", tramo.TransientError, None),
])
def test_fault_codes_become_typed_errors(code: str, kind: type[Exception], platform_code: str | None) -> None:
    error = wire.fault_error(code, "mensagem", "fWSImportaPedidoPorId")
    assert type(error) is kind and "fWSImportaPedidoPorId" in str(error)
    if platform_code is not None:
        assert getattr(error, "code") == platform_code


def test_a_write_is_done_only_when_its_retorno_says_ok() -> None:
    assert wire.retorno_id({"status": "ok", "mensagem": "", "id": "12"}, "op") == "12"
    with pytest.raises(tramo.PlatformError, match="estoque insuficiente"):
        wire.retorno_id({"status": "erro", "mensagem": "estoque insuficiente", "id": ""}, "op")
    with pytest.raises(tramo.PlatformError):
        wire.retorno_id(None, "op")


def test_the_update_chooses_notification_else_the_setting_per_status() -> None:
    update = tramo.StatusUpdate(order_id="1", status=tramo.OrderStatus.SHIPPED, platform_status="6")
    assert wire.notify(update, None) == "S"
    assert wire.notify(update, frozenset({"6"})) == "S"
    assert wire.notify(update, frozenset({"2"})) == "N"
    assert wire.notify(attrs.evolve(update, notify_customer=False), None) == "N"
    assert wire.notify(attrs.evolve(update, notify_customer=True), frozenset()) == "S"


def test_stock_and_reservations_refuse_warehouses() -> None:
    with pytest.raises(tramo.ValidationError, match="StockLevel.warehouse"):
        wire.stock_quantity(tramo.StockLevel(sku="A", quantity=1, warehouse="CD-2"))
    with pytest.raises(tramo.ValidationError, match="StockReservation.warehouse"):
        wire.reservation_args(tramo.StockReservation(id="R1", sku="A", quantity=1, warehouse="CD-2"))
    assert wire.stock_quantity(tramo.StockLevel(sku="A", quantity=7)) == "7"

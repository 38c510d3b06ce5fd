"""Ideris JSON <-> the tramo model, and Ideris' answers as typed errors (no I/O)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tramo
from tramo.errors import OutcomeUnknownError, TransientError
from tramo.paging import PagingError
from tramo.testing import strategies as s

from tramo_ideris import wire

ZONE = ZoneInfo("America/Sao_Paulo")


def a_full_order(**changes: Any) -> dict[str, Any]:
    """A ``Pedido`` with the keys public clients read (values illustrative)."""
    record: dict[str, Any] = {
        "id": 12345678, "data": "2021-08-15T10:20:30", "codigo": "2000001234567890",
        "valorTotalComFrete": 120.5, "valorPago": 120.5, "valorTotal": 100.0, "tarifaEnvio": 15.0,
        "tarifaVenda": 12.0, "totalDebitado": 27.0, "custoProduto": 40.0, "valorSobrou": 73.0,
        "totalLiquido": 33.0, "valorDesconto": 0.0, "freteComprador": 20.5, "moeda": "R$",
        "tipoEntrega": "Mercado Envios", "marketplace": "Mercado Livre", "idAutenticacaoIderis": 111,
        "idContaMarketplace": "123", "nomeContaMarketplace": "LOJA", "status": "Aprovado",
        "codigoEntrega": "4000", "codigoCarrinhoCompras": "2000", "metodoRastreio": None,
        "numeroRastreio": None, "compradorPrimeiroNome": "Joao", "compradorSobrenome": "da Silva",
        "compradorApelido": "JOAOS", "compradorEmail": "joao@example.com",
        "compradorTipoDocumento": "CPF", "compradorDocumento": "52998224725",
        "compradorCodigoAreaTelefone": "11", "compradorTelefone": "999999999",
        "enderecoEntregaCompleto": "Rua A, 123", "enderecoEntregaRua": "Rua A",
        "enderecoEntregaNumero": "123", "enderecoEntregaCep": "01001000",
        "enderecoEntregaBairro": "Centro", "enderecoEntregaCidade": "São Paulo",
        "enderecoEntregaEstado": "SP", "enderecoEntregaPais": "Brasil",
        "enderecoEntregaComentario": "fundos", "enderecoEntrega_NomeResponsavelRecebimento": "Maria",
        "enderecoEntrega_TelefoneResponsavelRecebimento": "11988887777",
        "intermediadorNome": None, "intermediadorCnpj": None,
        "Item": [{"tituloProdutoItem": "Camiseta", "skuProdutoItem": "CAM-P", "codigoProduto": "77",
                  "codigoProdutoItem": "MLB123", "quantidadeItem": 2, "precoUnitarioItem": 50.0,
                  "caminhoImagemItem": "http://img", "variacaoProdutoItem": "Cor: Azul"}],
        "Pagamento": [{"codigoPagamento": "9", "dataAprovacaoPagamento": "2021-08-15T10:21:00",
                       "statusPagamento": "approved", "formaPagamento": "credit_card",
                       "numeroParcelasPagamento": 3, "taxaMercadoPago": 0, "taxaMercadoLivre": 0}],
    }
    record.update(changes)
    return record


# -- answers ---------------------------------------------------------------------------------


def encoded(body: Any) -> bytes:
    return json.dumps(body).encode()


def test_an_envelope_is_the_answer_and_its_records_are_read() -> None:
    answer = wire.read_answer(200, encoded({"paging": {"offset": 0, "total": 1, "limit": 50, "count": 1},
                                            "result": [{"id": 1}]}))
    assert wire.records(answer) == [{"id": 1}]
    assert wire.records({"paging": {}, "result": None}) == []


@pytest.mark.parametrize(("status", "body", "kind", "code"), [
    (400, "Produto não encontrado", tramo.PlatformError, "not_found"),
    (404, "Pedido não encontrado", tramo.PlatformError, "not_found"),
    (400, "O campo titulo é obrigatório", tramo.PlatformError, "refused"),
    (409, "Marca já cadastrada", tramo.PlatformError, "conflict"),
    (401, {"Message": "Authorization has been denied for this request."}, tramo.AuthenticationError, None),
    (429, "Requisição excede a quantidade máxima", tramo.RateLimitedError, None),
    (500, "Erro na API", TransientError, None),
])
def test_each_refusal_becomes_its_typed_error_with_ideris_words(status: int, body: Any,
                                                                  kind: type, code: str | None) -> None:
    with pytest.raises(kind) as caught:
        wire.read_answer(status, encoded(body))
    said = body if isinstance(body, str) else body["Message"]
    assert said in str(caught.value)
    if code is not None:
        assert caught.value.code == code


def test_a_2xx_with_a_bare_string_is_a_refusal_not_a_success() -> None:
    with pytest.raises(tramo.PlatformError, match="Pedido 9 não encontrado"):
        wire.read_answer(200, encoded("Pedido 9 não encontrado"), write=True)


def test_an_unreadable_2xx_is_transient_on_a_read_and_unknown_on_a_write() -> None:
    with pytest.raises(TransientError):
        wire.read_answer(200, b'{"paging": {"off')
    with pytest.raises(OutcomeUnknownError):
        wire.read_answer(200, b'{"paging": {"off', write=True)


def test_a_page_for_another_offset_is_a_repeated_page() -> None:
    answer = {"paging": {"offset": 0, "total": 80, "limit": 40, "count": 40}, "result": [{"id": 1}]}
    assert wire.page_of(answer, 0) == ([{"id": 1}], 80)
    with pytest.raises(PagingError, match="offset 0 when asked for offset 40"):
        wire.page_of(answer, 40)


def test_login_answers_a_bare_jwt_string_and_401_is_an_authentication_error() -> None:
    assert wire.jwt_from_login(200, encoded("a.b.c")) == "a.b.c"
    with pytest.raises(tramo.AuthenticationError):
        wire.jwt_from_login(401, encoded({"Message": "Authorization has been denied for this request."}))
    with pytest.raises(TransientError):
        wire.jwt_from_login(200, encoded(""))


# -- checkpoints --------------------------------------------------------------------------------


@given(since=s.aware_datetimes(), stamp=s.aware_datetimes())
def test_data_inicial_selects_exactly_the_seconds_after_the_checkpoint(since: datetime,
                                                                       stamp: datetime) -> None:
    stamp = stamp.replace(microsecond=0)  # Ideris keeps times to the second
    start = datetime.fromisoformat(wire.since_params(since, ZONE)["dataInicial"])
    assert (stamp > since) == (stamp >= start)


def test_no_checkpoint_reads_everything_and_a_naive_one_is_refused() -> None:
    assert wire.since_params(None, ZONE) == {}
    with pytest.raises(tramo.ValidationError, match="timezone"):
        wire.since_params(datetime(2026, 1, 1), ZONE)
    assert wire.since_params("2026-01-01T10:00:00-03:00", ZONE) == {"dataInicial": "2026-01-01T10:00:01-03:00"}


# -- orders ----------------------------------------------------------------------------------------


def test_a_full_order_reads_as_the_model_with_customer_address_items_and_channel() -> None:
    order = wire.order_from_wire(a_full_order(), ZONE)
    assert order.id == "12345678" and order.number == "2000001234567890"
    assert order.placed_at == datetime(2021, 8, 15, 10, 20, 30, tzinfo=ZONE)
    assert order.total == Decimal("120.50") and order.currency == "BRL"
    assert order.platform_status == "Aprovado"
    assert order.customer.name == "Joao da Silva" and order.customer.cpf == "52998224725"
    assert order.customer.phones == ("11999999999",)
    address = order.delivery_address
    assert address is not None and (address.street, address.number, address.postal_code, address.country,
                                    address.recipient) == ("Rua A", "123", "01001000", "BR", "Maria")
    [item] = order.items
    assert (item.sku, item.quantity, item.unit_price, item.remote_id, item.attributes) == (
        "CAM-P", 2, Decimal("50.00"), "MLB123", ("Cor: Azul",))
    assert order.shipping == tramo.Shipping(platform_method="Mercado Envios", freight=Decimal("20.50"))
    [payment] = order.payments
    assert (payment.value, payment.platform_method, payment.installments) == (Decimal("120.50"), "credit_card", 3)
    assert order.sales_channel == tramo.SalesChannel(platform_channel="Mercado Livre",
                                                     marketplace_order_id="2000001234567890")


def test_a_pickup_order_without_address_and_with_nulls_still_reads() -> None:
    nulls = {k: None for k in a_full_order() if k.startswith("enderecoEntrega")}
    order = wire.order_from_wire(a_full_order(**nulls, tipoEntrega="A combinar", Pagamento=None,
                                              compradorTelefone=None, compradorEmail=None,
                                              marketplaceEspecifico={"x": 1}), ZONE)
    assert order.delivery_address is None and order.payments == () and order.customer.phones == ()
    assert order.shipping is not None and order.shipping.platform_method == "A combinar"


def test_a_company_buyer_is_read_by_cnpj() -> None:
    order = wire.order_from_wire(a_full_order(compradorTipoDocumento="CNPJ",
                                              compradorDocumento="11.222.333/0001-81"), ZONE)
    assert order.customer.kind is tramo.CustomerKind.COMPANY and order.customer.cnpj == "11222333000181"


@pytest.mark.parametrize(("changes", "field"), [
    ({"Item": [{"tituloProdutoItem": "X", "skuProdutoItem": None, "quantidadeItem": 1,
                "precoUnitarioItem": 1.0}]}, "Pedido.Item[0].skuProdutoItem"),
    ({"Item": []}, "Pedido.Item"),
    ({"data": None}, "Pedido.data"),
    ({"status": ""}, "Pedido.status"),
    ({"compradorDocumento": "123"}, "Pedido.compradorDocumento"),
    ({"data": "15/08/2021"}, "Pedido.data"),
    ({"enderecoEntregaCidade": None}, "Pedido.enderecoEntregaCidade"),
])
def test_what_cannot_be_read_names_the_ideris_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        wire.order_from_wire(a_full_order(**changes), ZONE)
    assert caught.value.field == field


@given(paid=s.money(Decimal("0.01")), count=st.integers(1, 5))
def test_payments_without_amounts_share_the_paid_value_exactly(paid: Decimal, count: int) -> None:
    entries = [{"formaPagamento": "pix", "numeroParcelasPagamento": 1}] * count
    order = wire.order_from_wire(a_full_order(valorPago=float(paid), Pagamento=entries), ZONE)
    assert sum(p.value for p in order.payments) == paid
    assert max(p.value for p in order.payments) - min(p.value for p in order.payments) <= Decimal("0.01") * count


# -- look-ups -----------------------------------------------------------------------------------


def test_statuses_are_keyed_by_their_text_and_only_order_statuses_count() -> None:
    found = [{"id": 3, "descricao": "Aprovado", "modulo": "Pedido"},
             {"id": 20, "descricao": "Emitida", "modulo": "Nota Fiscal"}]
    assert wire.options(found, module="Pedido") == [tramo.PlatformOption(id="Aprovado", name="Aprovado")]
    assert wire.status_ids(found) == {"Aprovado": 3}


# -- products -------------------------------------------------------------------------------------


def a_product(**changes: Any) -> tramo.Product:
    fields: dict[str, Any] = {
        "code": "CAM", "name": "Camiseta", "description": "Algodão", "price": Decimal("59.90"),
        "weight_kg": Decimal("0.25"), "images": ("https://img.example.com/1.jpg",),
        "variants": (tramo.Variant(sku="CAM-P", attributes=(tramo.Attribute(name="Tamanho", value="P"),)),)}
    fields.update(changes)
    return tramo.Product(**fields)


IDS = {"categoriaIdIderis": 1, "subCategoriaIdIderis": 2, "departamentoIdIderis": 3, "marcaIdIderis": 4}


def test_a_new_product_body_has_the_required_ids_and_one_attribute_per_variation() -> None:
    body = wire.product_create_body(a_product(), IDS)
    assert body["sku"] == "CAM" and body["titulo"] == "Camiseta" and body["valorVenda"] == 59.9
    assert (body["categoriaIdIderis"], body["subCategoriaIdIderis"], body["departamentoIdIderis"],
            body["marcaIdIderis"]) == (1, 2, 3, 4)
    assert body["peso"] == 250.0 and body["Imagem"] == [{"urlImagem": "https://img.example.com/1.jpg"}]
    assert body["Variacao"] == [{"skuVariacao": "CAM-P", "nomeAtributo": "Tamanho", "valorAtributo": "P",
                                 "Imagem": [], "quantidadeVariacao": 0}]


@pytest.mark.parametrize(("spoil", "field"), [
    (lambda p: attrs.evolve(p, price=Decimal(0)), "Product.price"),
    (lambda p: attrs.evolve(p, variants=(), sku="OTHER"), "Product.sku"),
    (lambda p: attrs.evolve(p, variants=(tramo.Variant(sku="V"),)), "Product.variants[0].attributes"),
    (lambda p: attrs.evolve(p, variants=(attrs.evolve(p.variants[0], price=Decimal("1.00")),)),
     "Product.variants[0].price"),
])
def test_what_ideris_cannot_keep_is_refused_naming_the_field(spoil: Any, field: str) -> None:
    with pytest.raises(tramo.ValidationError) as caught:
        wire.product_create_body(spoil(a_product()), IDS)
    assert caught.value.field == field


def returned(product: tramo.Product, brand_id: int = 4) -> dict[str, Any]:
    """What ``GET /Produto?include=imagem`` answers for a product created from ``product``."""
    body = wire.product_create_body(product, IDS)
    return {"id": 900, "sku": body["sku"], "titulo": body["titulo"], "descricaoLonga": body["descricaoLonga"],
            "marcaId": brand_id, "marca": "Marca", "ean": body["ean"], "peso": body["peso"],
            "comprimento": body["comprimento"], "largura": body["largura"], "altura": body["altura"],
            "valorVenda": body["valorVenda"], "Imagens": body["Imagem"],
            "Variacao": [{"variacaoId": 1, "skuVariacao": v["skuVariacao"],
                          "caminhoImagemVariacao": (v["Imagem"] or [{}])[0].get("urlImagem"),
                          "Combinacao": [{"tipoVariacao": v["nomeAtributo"],
                                          "tipoVariacaoValor": v["valorAtributo"]}]}
                         for v in body["Variacao"]]}


@given(product=s.products())
def test_a_product_as_ideris_holds_it_needs_no_edit(product: tramo.Product) -> None:
    try:
        wire.check_product(product)
    except tramo.ValidationError:
        return
    product = attrs.evolve(product, variants=tuple(attrs.evolve(v, images=v.images[:1]) for v in product.variants))
    assert wire.product_edit(product, returned(product), 4) == {}


def test_an_edit_carries_only_what_changed_and_new_variations_with_zero_stock() -> None:
    product = a_product()
    record = returned(product)
    changed = attrs.evolve(product, name="Camiseta nova", variants=(
        *product.variants, tramo.Variant(sku="CAM-M", attributes=(tramo.Attribute(name="Tamanho", value="M"),))))
    assert wire.product_edit(changed, record, 4) == {
        "titulo": "Camiseta nova",
        "Variacao": [{"skuVariacao": "CAM-M", "nomeAtributo": "Tamanho", "valorAtributo": "M",
                      "Imagem": [], "quantidadeVariacao": 0}]}
    assert wire.product_edit(attrs.evolve(product, price=None), record, None) == {}


def test_a_returned_product_reads_back_with_its_variations_and_tolerates_nulls() -> None:
    product = wire.product_from_wire(returned(a_product()), no_brand_id=None)
    assert product.code == "CAM" and product.price == Decimal("59.90") and product.weight_kg == Decimal("0.25")
    assert product.brand == tramo.Brand(id="4", name="Marca")
    assert [(v.sku, v.attributes) for v in product.variants] == [
        ("CAM-P", (tramo.Attribute(name="Tamanho", value="P"),))]
    bare = wire.product_from_wire({"id": 1, "sku": "X", "titulo": "X", "descricaoLonga": None, "ean": None,
                                   "peso": None, "valorVenda": 0, "Variacao": None, "Imagens": None,
                                   "marcaId": 1, "marca": "Sem marca"}, no_brand_id=1)
    assert (bare.price, bare.brand, bare.variants, bare.images) == (None, None, (), ())


def test_a_protocol_is_done_when_finished_and_refused_when_it_says_why() -> None:
    assert wire.protocol_state({"status": "Pendente", "mensagem": ""}) == (False, "")
    assert wire.protocol_state({"status": "Finalizado", "mensagem": ""}) == (True, "")
    assert wire.protocol_state({"status": "Finalizado", "mensagem": "SKU já cadastrado"}) == (
        True, "SKU já cadastrado")


# -- prices and stock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("spoil", "field"), [
    ({"price_list": "atacado"}, "Price.price_list"), ({"currency": "USD"}, "Price.currency"),
    ({"promotional_price": Decimal("1.00")}, "Price.promotional_price"),
    ({"sale_price": Decimal("2.00")}, "Price.sale_price"), ({"list_price": Decimal(0)}, "Price.list_price"),
])
def test_a_price_ideris_cannot_keep_is_refused(spoil: dict[str, Any], field: str) -> None:
    price = attrs.evolve(tramo.Price(sku="CAM", list_price=Decimal("10.00")), **spoil)
    with pytest.raises(tramo.ValidationError) as caught:
        wire.price_body(price)
    assert caught.value.field == field
    assert wire.price_body(tramo.Price(sku="CAM", list_price=Decimal("10.00"))) == {"valorVenda": 10.0}


def test_stock_in_a_warehouse_is_refused() -> None:
    with pytest.raises(tramo.ValidationError, match="warehouse"):
        wire.check_stock(tramo.StockLevel(sku="X", quantity=1, warehouse="CD-2"))


# -- notifications -------------------------------------------------------------------------------------


def test_a_tracking_notification_has_a_stable_event_id_per_order_and_code() -> None:
    tracking = tramo.Tracking(order_id="100001", code="BR123", carrier="Correios",
                              shipped_at=datetime(2026, 3, 1, 13, 0, tzinfo=timezone.utc))
    body = wire.tracking_notification(tracking, ZONE)
    assert body["tipo"] == "rastreio" and body["dados"]["idPedido"] == 100001
    assert body["dados"]["dataEnvio"] == "2026-03-01T10:00:00"
    assert body["idEvento"] == wire.tracking_notification(tracking, ZONE)["idEvento"]
    assert body["idEvento"] != wire.tracking_notification(attrs.evolve(tracking, code="BR124"), ZONE)["idEvento"]
    with pytest.raises(tramo.ValidationError, match="Tracking.order_id"):
        wire.tracking_notification(attrs.evolve(tracking, order_id="A-1"), ZONE)


@given(invoice=s.invoices())
def test_an_invoice_notification_carries_the_key_and_the_order_as_a_number(invoice: tramo.Invoice) -> None:
    invoice = attrs.evolve(invoice, order_id="100001")
    body = wire.invoice_notification(invoice, ZONE)
    assert body["dados"]["chaveNota"] == invoice.access_key and body["dados"]["idPedido"] == 100001
    assert body["dados"]["tipoNota"] in ("NFe", "NFCe")
    assert Decimal(str(body["dados"]["valorNota"])) == invoice.value
    issued = datetime.fromisoformat(body["dados"]["dataEmissaoNota"]).replace(tzinfo=ZONE)
    assert abs(issued - invoice.issued_at) < timedelta(seconds=1)

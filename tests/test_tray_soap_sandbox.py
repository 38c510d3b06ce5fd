"""The Tray SOAP sandbox: a store's ``ws_servidor.php`` on loopback, through tramo's SOAP client.

No plugin code takes part: operations are called with :func:`tramo.soap.soap_client`
over plain httpx clients, the store's credentials added to each, and what the
store holds is read back through the sandbox's ``held_*`` view. One sandbox
serves the module; each test gets a new store (``reset``) without rate limits,
except where they are the subject.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from lxml import etree
from zeep.helpers import serialize_object

import tramo
from tramo.errors import PlatformError
from tramo.model.identifiers import cpf_check_digits
from tramo.sandbox import Fault
from tramo.soap import WsdlCache, soap_client
from tramo_tray_soap.sandbox import (
    LOGIN,
    MAPPINGS,
    PASSWORD,
    PATH,
    SERVICE,
    STORE_ID,
    TraySoapSandbox,
)
from tramo_tray_soap.sandbox_service import STRUCTS
from tramo_tray_soap.sandbox_store import STORE_TZ

CPF = "529982247" + cpf_check_digits("529982247")
KEY = "35260311222333000181550010000012341000012345"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"


# -- the store, and a client as a plugin would hold one ------------------------------------------


@pytest.fixture(scope="module")
def running() -> Iterator[TraySoapSandbox]:
    with TraySoapSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def store(running: TraySoapSandbox) -> Iterator[TraySoapSandbox]:
    running.reset()
    running.configure(rate_limits=())
    yield running
    running.service = SERVICE
    assert running.errors == []


def plain(value: Any) -> Any:
    """zeep's answer as plain data; an empty field (None to zeep) as the empty text it was."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return "" if value is None else value


class Webservice:
    """The store's operations through tramo's SOAP client, on one event loop for the module.

    Parameters left out are sent empty (zeep wants every part), the
    credentials are the store's unless given.
    """

    def __init__(self, sandbox: TraySoapSandbox) -> None:
        self.runner = asyncio.Runner()
        self.http = httpx.Client(timeout=10.0)
        self.async_http = httpx.AsyncClient(timeout=10.0)
        url = f"{sandbox.url}{PATH}?wsdl"
        self.client = soap_client(url, http=self.http, async_http=self.async_http,
                                  cache=WsdlCache(), operation_timeout=10.0)

    def __call__(self, operation: str, **params: Any) -> Any:
        declared = SERVICE.operation(operation)
        assert declared is not None, operation
        given: dict[str, Any] = {name: "" for name, kind in declared.params
                                 if kind == "xsd:string"}
        given |= {"pid_loja": STORE_ID, "plogin": LOGIN, "psenha": PASSWORD} | params
        for name, kind in declared.params:  # NuSOAP declares every struct field required
            if kind.startswith("tns:"):
                given[name] = dict.fromkeys(STRUCTS[kind[4:]], "") | given[name]
        answer = self.runner.run(self.client.service[operation](**{
            name: given[name] for name, _ in declared.params}))
        return plain(serialize_object(answer))

    def close(self) -> None:
        self.runner.run(self.async_http.aclose())
        self.runner.close()
        self.http.close()


@pytest.fixture(scope="module")
def module_ws(running: TraySoapSandbox) -> Iterator[Webservice]:
    client = Webservice(running)
    yield client
    client.close()


@pytest.fixture
def ws(store: TraySoapSandbox, module_ws: Webservice) -> Webservice:
    return module_ws


def refused(ws: Webservice, operation: str, **params: Any) -> PlatformError:
    """The fault the store answers ``operation`` with."""
    with pytest.raises(PlatformError) as caught:
        ws(operation, **params)
    return caught.value


def ok(ident: str) -> dict[str, str]:
    return {"status": "ok", "mensagem": "", "id": ident}


def product(reference: str, **fields: str) -> dict[str, str]:
    base = {"cod_referencia": reference, "nome": f"Produto {reference}", "preco": "49.90",
            "peso": "300", "altura": "10", "largura": "20", "comprimento": "30.5",
            "estoque": "5", "disponivel": "S", "marca": "Tramontina", "ean": "7891234567895",
            "ncm": "73239300", "imagem_1": "https://img.example.com/a.jpg"}
    return base | fields


def variant(reference: str, **fields: str) -> dict[str, str]:
    base = {"cod_referencia": reference, "preco": "0", "estoque": "4", "disponivel": "S",
            "tipo_1": "Cor", "valor_1": "Azul", "tipo_2": "Tamanho", "valor_2": "M"}
    return base | fields


def order(*skus: str, status: str = "1", **changes: Any) -> tramo.Order:
    """A buyer's order of one of each SKU, paid by card in two installments."""
    address = tramo.Address(street="Rua Oscar Freire", number="379", district="Jardim Paulista",
                            city="São Paulo", state="SP", postal_code="01426-001",
                            complement="Apto 12", recipient="Ana Luíza")
    when = datetime(2026, 3, 2, 10, 0, tzinfo=STORE_TZ)
    items = tuple(tramo.OrderItem(sku=sku, name=f"Item {sku}", quantity=1,
                                  unit_price=Decimal("50.00")) for sku in skus)
    fields: dict[str, Any] = dict(
        id="BUYER-1", placed_at=when, total=Decimal(50 * len(skus)) + Decimal("15.00"),
        platform_status=status, items=items,
        customer=tramo.Customer(name="João da Silva", cpf=CPF, email="joao@example.com.br",
                                phones=("1133334444", "11999998888"), addresses=(address,)),
        billing_address=address, delivery_address=address,
        shipping=tramo.Shipping(platform_method="Correios Sedex", freight=Decimal("15.00"),
                                estimated_delivery=when + timedelta(days=4)),
        payments=(tramo.Payment(value=Decimal(50 * len(skus)) + 15, platform_method="82",
                                installments=2),),
        sales_channel=tramo.SalesChannel(platform_channel="Mercado Livre",
                                         marketplace_order_id="2000012345"),
        notes="Entregar à tarde")
    return tramo.Order(**(fields | changes))


def listing(ws: Webservice, **filters: str) -> list[str]:
    return [o["id_pedido"] for o in ws("fWSImportaPedidos", **filters)]


# -- access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrong", [{"psenha": "senha-errada"}, {"plogin": "admin"},
                                   {"pid_loja": "1"}])
def test_a_wrong_store_id_login_or_password_is_refused(ws: Webservice,
                                                        wrong: dict[str, str]) -> None:
    fault = refused(ws, "fWSImportaStatusPedido", **wrong)
    assert fault.code == "SOAP-ENV:Client.Autenticacao"
    assert fault.causes == ("Acesso negado: loja, login ou senha inválidos",)
    assert "senha-errada" not in str(fault)
    assert ws("fWSImportaStatusPedido")[0] == {"id": "1", "descricao": "AGUARDANDO PAGAMENTO"}


def test_settings_and_option_lists(store: TraySoapSandbox, ws: Webservice) -> None:
    assert store.settings == {"store_url": store.url, "store_id": STORE_ID, "login": LOGIN,
                              "password": PASSWORD, "requests_per_minute": 18_000}
    assert [o["id"] for o in ws("fWSImportaStatusPedido")] == [str(n) for n in range(1, 11)]
    assert set(MAPPINGS["status"]) == {str(n) for n in range(1, 11)} - {"7"}
    for operation, table in (("fWSFormasEnvioDisponiveis", "shipping"),
                             ("fWSFormasPagamentosDisponiveis", "payment"),
                             ("fWSCanaisVendaDisponiveis", "channel")):
        assert [o["id"] for o in ws(operation)] == list(MAPPINGS[table])
    assert {"id": "82", "descricao": "Cartão de crédito"} in ws("fWSFormasPagamentosDisponiveis")


# -- orders: the ToDo list -------------------------------------------------------------------------


def test_orders_page_through_the_todo_list(store: TraySoapSandbox, ws: Webservice) -> None:
    placed = [store.place_order(order("AVULSO")) for _ in range(5)]
    assert placed == ["1", "2", "3", "4", "5"]
    pages = [listing(ws, limite="2", pagina=str(n)) for n in (1, 2, 3, 4)]
    assert pages == [["1", "2"], ["3", "4"], ["5"], []]
    assert listing(ws) == placed and listing(ws, limite="0") == placed
    summary = ws("fWSImportaPedidos", limite="1")[0]
    assert summary == {"id_pedido": "1", "id_cliente": "1", "data_pedido": "2026-03-02",
                       "hora_pedido": "09:00:01", "data_modificacao": "2026-03-02 09:00:01",
                       "id_status": "1"}
    for name, value in (("limite", "51"), ("limite", "dez"), ("pagina", "0")):
        fault = refused(ws, "fWSImportaPedidos", **{name: value})
        assert fault.code == "SOAP-ENV:Client.Dados" and fault.causes[0].startswith(f"{name}: ")


def test_acknowledged_orders_leave_the_list_and_a_store_change_brings_one_back(
        store: TraySoapSandbox, ws: Webservice) -> None:
    for _ in range(3):
        store.place_order(order("AVULSO"))
    assert ws("fWSAtualizaListaToDo", entidade="pedidos", id="1") == ok("1")
    assert ws("fWSAtualizaListaToDo", entidade="pedidos", id="1") == ok("1")  # again: fine
    assert ws("fWSAtualizaListaToDo", entidade="pedidos", id="2") == ok("2")
    assert listing(ws) == ["3"]
    before = ws("fWSImportaPedidoPorId", id_pedido="1")["data_modificacao"]
    store.change_order("1")
    assert listing(ws) == ["1", "3"]
    assert ws("fWSImportaPedidoPorId", id_pedido="1")["data_modificacao"] > before
    assert ws("fWSAtualizaListaToDo", entidade="clientes", id="1") == ok("1")
    assert refused(ws, "fWSAtualizaListaToDo", entidade="pedidos", id="99").code == (
        "SOAP-ENV:Client.NaoEncontrado")
    fault = refused(ws, "fWSAtualizaListaToDo", entidade="produtos", id="1")
    assert fault.code == "SOAP-ENV:Client.Dados" and fault.causes[0].startswith("entidade: ")


def test_the_sellers_own_writes_do_not_put_an_order_back(store: TraySoapSandbox,
                                                         ws: Webservice) -> None:
    store.place_order(order("AVULSO"))
    ws("fWSAtualizaListaToDo", entidade="pedidos", id="1")
    assert ws("fWSAtualizaStatusPedido", id_pedido="1", id_status="2",
              notificar_cliente="S") == ok("1")
    assert ws("fWSAtualizaStatusPedido", id_pedido="1", id_status="3",
              notificar_cliente="N") == ok("1")
    ws("fWSAtualizaRastreioPedido", id_pedido="1", codigo_rastreio="AA123456789BR")
    ws("fWSCadastraNotaFiscalPedido", id_pedido="1", numero="1234", serie="1", chave_acesso=KEY,
       data_emissao="2026-03-02 10:00:00", valor="65.00")
    assert listing(ws) == []
    assert store.held_status("1") == "3" and store.held_emails() == [("1", "2")]
    answer = ws("fWSImportaPedidoPorId", id_pedido="1")
    assert (answer["id_status"], answer["status"]) == ("3", "EM SEPARAÇÃO")
    assert ws("fWSAtualizaStatusPedido", id_pedido="1", id_status="77",
              notificar_cliente="N") == {"status": "erro", "mensagem": "status 77 inexistente",
                                         "id": ""}
    fault = refused(ws, "fWSAtualizaStatusPedido", id_pedido="1", id_status="2",
                    notificar_cliente="talvez")
    assert fault.causes[0].startswith("notificar_cliente: ")


def test_the_list_filters_by_status_and_placement_window(store: TraySoapSandbox,
                                                         ws: Webservice) -> None:
    store.place_order(order("AVULSO", status="2"))        # 2026-03-02 09:00:01
    store.advance(days=1, hours=5)
    store.place_order(order("AVULSO"))                     # 2026-03-03 14:00:03
    store.advance(days=1)
    store.place_order(order("AVULSO", status="2"))        # 2026-03-04 14:00:05
    assert listing(ws, status_atual="2") == ["1", "3"]
    assert listing(ws, status_atual="AGUARDANDO PAGAMENTO") == ["2"]
    assert listing(ws, data_inicial="2026-03-03") == ["2", "3"]
    assert listing(ws, data_final="2026-03-03") == ["1", "2"]
    assert listing(ws, data_inicial="2026-03-03", hora_inicial="1401",
                   data_final="2026-03-04", hora_final="1400") == ["3"]
    assert listing(ws, data_inicial="2026-03-03", hora_inicial="1400",
                   data_final="2026-03-04", hora_final="1359") == ["2"]
    for name, value in (("data_inicial", "03/03/2026"), ("hora_final", "2400")):
        fault = refused(ws, "fWSImportaPedidos", **{"data_inicial": "2026-03-01", name: value})
        assert fault.causes[0].startswith(f"{name}: ")


def test_a_duplicate_page_fault_answers_the_previous_page_again(store: TraySoapSandbox,
                                                                 ws: Webservice) -> None:
    for _ in range(3):
        store.place_order(order("AVULSO"))
    assert listing(ws, limite="2") == ["1", "2"]
    store.inject(Fault.DUPLICATE_PAGE, where=lambda method, path: method == "POST")
    assert listing(ws, limite="2", pagina="2") == ["1", "2"]
    assert listing(ws, limite="2", pagina="2") == ["3"]


# -- orders: their parts ---------------------------------------------------------------------------


def test_an_order_placed_by_a_buyer_shows_all_its_parts(store: TraySoapSandbox,
                                                        ws: Webservice) -> None:
    ws("fWSCadastraProduto", produto=product("PAN-1", estoque="5"))
    ws("fWSCadastraProduto", produto=product("CAM-1"))
    ws("fWSCadastraVariacaoProduto", id_produto="2", variacao=variant("CAM-1-AZ-M"))
    ident = store.place_order(order("PAN-1", "CAM-1-AZ-M", "FORA-DO-CATALOGO", status="2"))
    answer = ws("fWSImportaPedidoPorId", id_pedido=ident)
    assert {k: answer[k] for k in ("id_status", "status", "valor_subtotal", "valor_frete",
                                   "valor_total", "id_forma_envio", "forma_envio",
                                   "prazo_entrega", "id_forma_pagamento", "numero_parcelas",
                                   "valor_parcela", "id_canal_venda", "canal_venda",
                                   "id_pedido_marketplace", "data_envio", "observacao")} == {
        "id_status": "2", "status": "PAGAMENTO APROVADO", "valor_subtotal": "150.00",
        "valor_frete": "15.00", "valor_total": "165.00", "id_forma_envio": "2",
        "forma_envio": "Correios Sedex", "prazo_entrega": "4", "id_forma_pagamento": "82",
        "numero_parcelas": "2", "valor_parcela": "82.50", "id_canal_venda": "2",
        "canal_venda": "Mercado Livre", "id_pedido_marketplace": "2000012345",
        "data_envio": "0000-00-00", "observacao": "Entregar à tarde"}
    items = ws("fWSImportaItensPedidoPorId", id_pedido=ident)
    assert [(i["id_produto"], i["id_variacao"], i["cod_referencia"], i["variacao"])
            for i in items] == [("1", "0", "PAN-1", ""), ("2", "1", "CAM-1-AZ-M",
                                                          "Cor: Azul; Tamanho: M"),
                                ("0", "0", "FORA-DO-CATALOGO", "")]
    assert items[0]["ean"] == "7891234567895" and items[2]["preco"] == "50.00"
    customer = ws("fWSImportaClientePorPedidoAvancado", id_pedido=ident)
    assert {k: customer[k] for k in ("cliente", "tipo_pessoa", "cnpj_cpf", "cep", "uf",
                                     "celular", "data_nascimento", "pais")} == {
        "cliente": "João da Silva", "tipo_pessoa": "F", "cnpj_cpf": CPF, "cep": "01426001",
        "uf": "SP", "celular": "11999998888", "data_nascimento": "0000-00-00", "pais": "Brasil"}
    assert ws("fWSImportaEnderecoEntregaPedido", id_pedido=ident)["destinatario"] == "Ana Luíza"
    assert ws("fWSImportaParcelasPedidoPorId", id_pedido=ident) == [
        {"numero": "1", "valor": "82.50", "vencimento": "2026-03-02"},
        {"numero": "2", "valor": "82.50", "vencimento": "2026-04-01"}]
    assert store.held_stock() == {"PAN-1": 4, "CAM-1-AZ-M": 3}
    fault = refused(ws, "fWSImportaItensPedidoPorId", id_pedido="99")
    assert (fault.code, fault.causes) == ("SOAP-ENV:Client.NaoEncontrado",
                                          ("Pedido não encontrado",))


def test_what_the_store_lacks_falls_back_to_its_first_choice(store: TraySoapSandbox,
                                                             ws: Webservice) -> None:
    ident = store.place_order(order("X", status="99", shipping=None, payments=(),
                                    sales_channel=None, notes=None))
    answer = ws("fWSImportaPedidoPorId", id_pedido=ident)
    assert [answer[k] for k in ("id_status", "id_forma_envio", "id_forma_pagamento",
                                "id_canal_venda", "numero_parcelas")] == ["1", "1", "80", "1", "1"]


def test_tracking_codes_replace_each_other_and_invoices_are_filed_again(
        store: TraySoapSandbox, ws: Webservice) -> None:
    store.place_order(order("AVULSO"))
    ws("fWSAtualizaRastreioPedido", id_pedido="1", codigo_rastreio="AA111111111BR")
    ws("fWSAtualizaRastreioPedido", id_pedido="1", codigo_rastreio="BB222222222BR",
       url_rastreio="https://rastreamento.correios.com.br/?objeto=BB222222222BR")
    assert store.held_trackings() == {"1": ["BB222222222BR"]}
    assert ws("fWSImportaPedidoPorId", id_pedido="1")["data_envio"] == "2026-03-02"
    fault = refused(ws, "fWSAtualizaRastreioPedido", id_pedido="1", codigo_rastreio="X",
                    url_rastreio="correios")
    assert fault.causes[0].startswith("url_rastreio: ")
    invoice = {"numero": "1234", "serie": "1", "data_emissao": "2026-03-02 10:00:00",
               "valor": "65.00", "link": "https://nfe.example.com/1234"}
    fault = refused(ws, "fWSCadastraNotaFiscalPedido", id_pedido="1",
                    chave_acesso=KEY[:-1], **invoice)
    assert fault.code == "SOAP-ENV:Client.Dados"
    assert fault.causes == ("chave_acesso: deve ter 44 dígitos",)
    assert ws("fWSCadastraNotaFiscalPedido", id_pedido="1", chave_acesso=KEY, **invoice) == ok("1")
    assert ws("fWSCadastraNotaFiscalPedido", id_pedido="1", chave_acesso=KEY, **invoice) == ok("2")
    assert store.held_invoices() == {"1": [KEY, KEY]}
    filed = ws("fWSImportaNotasFiscaisPedido", id_pedido="1")
    assert [n["id_nota"] for n in filed] == ["1", "2"] and filed[0]["chave_acesso"] == KEY


# -- the catalogue --------------------------------------------------------------------------------


def test_products_are_created_read_and_updated_with_refused_fields_named(
        store: TraySoapSandbox, ws: Webservice) -> None:
    assert ws("fWSCadastraProduto", produto=product("PAN-1")) == ok("1")
    held = ws("fWSImportaProdutoPorID", id_produto="1")
    assert held | {"data_modificacao": ""} == {
        **dict.fromkeys(STRUCTS["Produto"], ""), **product("PAN-1"), "id_produto": "1",
        "possui_variacao": "N"}
    assert ws("fWSImportaProdutoPorCodReferencia", cod_prod="PAN-1") == held
    for fields, named in (({"cod_referencia": "PAN-1"}, "cod_referencia"),
                          ({"nome": "N" * 201}, "nome"), ({"preco": "-1"}, "preco"),
                          ({"disponivel": "talvez"}, "disponivel"), ({"peso": "0.5"}, "peso"),
                          ({"imagem_2": "ftp://x"}, "imagem_2")):
        base = {} if "cod_referencia" in fields else {"cod_referencia": "OUTRO"}
        fault = refused(ws, "fWSCadastraProduto", produto=product("PAN-1") | base | fields)
        assert fault.code == "SOAP-ENV:Client.Dados" and fault.causes[0].startswith(f"{named}: ")
    changed = product("PAN-2", nome="Panela de Pressão", estoque="99", imagem_1="")
    assert ws("fWSAtualizaProduto", id_produto="1", produto=changed) == ok("1")
    after = ws("fWSImportaProdutoPorID", id_produto="1")
    assert (after["cod_referencia"], after["nome"], after["estoque"], after["imagem_1"]) == (
        "PAN-2", "Panela de Pressão", "5", "")
    assert after["data_modificacao"] > held["data_modificacao"]
    ws("fWSCadastraProduto", produto=product("PAN-3"))
    fault = refused(ws, "fWSAtualizaProduto", id_produto="1", produto=product("PAN-3"))
    assert fault.causes == ("cod_referencia: PAN-3 já é usado por outro produto ou variação",)
    for operation, params in (("fWSImportaProdutoPorID", {"id_produto": "9"}),
                              ("fWSImportaProdutoPorCodReferencia", {"cod_prod": "PAN-1"}),
                              ("fWSAtualizaProduto", {"id_produto": "9",
                                                      "produto": product("Z")})):
        fault = refused(ws, operation, **params)
        assert (fault.code, fault.causes) == ("SOAP-ENV:Client.NaoEncontrado",
                                              ("Produto não encontrado",))


def test_latin1_text_round_trips(store: TraySoapSandbox, ws: Webservice) -> None:
    ws("fWSCadastraProduto", produto=product("PAO-1", nome="Pão de Açúcar",
                                              descricao="Pão de Açúcar — 500 g, coração"))
    answer = ws("fWSImportaProdutoPorCodReferencia", cod_prod="PAO-1")
    assert answer["nome"] == "Pão de Açúcar"
    assert answer["descricao"] == "Pão de Açúcar — 500 g, coração"
    assert store.held_products()[0].name == "Pão de Açúcar"
    envelope = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><s:Envelope '
        'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><fWSImportaProdutoPorID>'
        f"<pid_loja>{STORE_ID}</pid_loja><plogin>{LOGIN}</plogin><psenha>{PASSWORD}</psenha>"
        "<id_produto>1</id_produto></fWSImportaProdutoPorID></s:Body></s:Envelope>")
    raw = httpx.post(f"{store.url}{PATH}", content=envelope.encode("latin-1"), timeout=5.0)
    assert raw.headers["Content-Type"] == "text/xml; charset=ISO-8859-1"
    assert "Pão de Açúcar".encode("latin-1") in raw.content and b"&#8212;" in raw.content


def test_variants_are_created_found_updated_and_deleted(store: TraySoapSandbox,
                                                        ws: Webservice) -> None:
    ws("fWSCadastraProduto", produto=product("CAM-1"))
    assert ws("fWSCadastraVariacaoProduto", id_produto="1",
              variacao=variant("CAM-1-AZ-M")) == ok("1")
    assert ws("fWSCadastraVariacaoProduto", id_produto="1",
              variacao=variant("CAM-1-PR", tipo_2="", valor_2="", valor_1="Preto",
                               estoque="6")) == ok("2")
    parent = ws("fWSImportaProdutoPorID", id_produto="1")
    assert (parent["possui_variacao"], parent["estoque"]) == ("S", "10")
    assert [v["cod_referencia"] for v in ws("fWSImportaVariacoesProduto", id_produto="1")] == [
        "CAM-1-AZ-M", "CAM-1-PR"]
    found = ws("fWSImportaVariacaoPorCodReferencia", cod_referencia="CAM-1-PR")
    assert (found["id_variacao"], found["id_produto"], found["tipo_2"]) == ("2", "1", "")
    for fields, named in (({"cod_referencia": "CAM-1"}, "cod_referencia"),
                          ({"tipo_1": "", "valor_1": ""}, "tipo_1"),
                          ({"tipo_2": "Tamanho", "valor_2": ""}, "tipo_2"),
                          ({"ean": "123"}, "ean")):
        fault = refused(ws, "fWSCadastraVariacaoProduto", id_produto="1",
                        variacao=variant("CAM-1-XX") | fields)
        assert fault.causes[0].startswith(f"{named}: ")
    assert ws("fWSAtualizaVariacaoProduto", id_variacao="1",
              variacao=variant("CAM-1-AZ-G", valor_2="G", estoque="50")) == ok("1")
    updated = ws("fWSImportaVariacaoPorCodReferencia", cod_referencia="CAM-1-AZ-G")
    assert (updated["valor_2"], updated["estoque"]) == ("G", "4")
    assert ws("fWSExcluiVariacaoProduto", id_variacao="1") == ok("1")
    assert [v.sku for p in store.held_products() for v in p.variants] == ["CAM-1-PR"]
    fault = refused(ws, "fWSExcluiVariacaoProduto", id_variacao="1")
    assert (fault.code, fault.causes) == ("SOAP-ENV:Client.NaoEncontrado",
                                          ("Variação não encontrada",))


def test_a_variant_has_at_most_two_attributes(store: TraySoapSandbox) -> None:
    """zeep sends only the declared fields; a PHP client may send a third pair."""
    store.op_fWSCadastraProduto({"produto": product("CAM-1")})
    with pytest.raises(Exception, match="tipo_3: no máximo 2 atributos"):
        store.op_fWSCadastraVariacaoProduto({"id_produto": "1", "variacao": variant(
            "CAM-1-X") | {"tipo_3": "Gola", "valor_3": "V"}})


def test_stock_and_availability_move_per_product_or_variant(store: TraySoapSandbox,
                                                            ws: Webservice) -> None:
    ws("fWSCadastraProduto", produto=product("PAN-1"))
    ws("fWSCadastraProduto", produto=product("CAM-1"))
    ws("fWSCadastraVariacaoProduto", id_produto="2", variacao=variant("CAM-1-AZ-M"))
    assert ws("fWSAtualizaEstoqueProduto", is_grade="N", id_produto="1", estoque="12") == ok("1")
    assert ws("fWSAtualizaEstoqueProduto", is_grade="S", id_produto="1", estoque="0") == ok("1")
    assert store.held_stock() == {"PAN-1": 12, "CAM-1-AZ-M": 0}
    graded = ws("fWSAtualizaEstoqueProduto", is_grade="N", id_produto="2", estoque="3")
    assert graded["status"] == "erro" and "is_grade=S" in graded["mensagem"]
    for params, named in (({"is_grade": "X", "estoque": "1"}, "is_grade"),
                          ({"is_grade": "N", "estoque": "-1"}, "estoque"),
                          ({"is_grade": "N", "estoque": ""}, "estoque")):
        fault = refused(ws, "fWSAtualizaEstoqueProduto", id_produto="1", **params)
        assert fault.causes[0].startswith(f"{named}: ")
    assert refused(ws, "fWSAtualizaEstoqueProduto", is_grade="S", id_produto="9",
                   estoque="1").code == "SOAP-ENV:Client.NaoEncontrado"
    assert ws("fWSAtualizaProdutoDisponivel", is_grade="S", id_produto="1",
              disponivel="N") == ok("1")
    assert ws("fWSAtualizaProdutoDisponivel", is_grade="N", id_produto="1",
              disponivel="N") == ok("1")
    held = {p.code: p for p in store.held_products()}
    assert not held["PAN-1"].available and not held["CAM-1"].variants[0].available


def test_reservations_hold_stock_idempotently_and_release(store: TraySoapSandbox,
                                                          ws: Webservice) -> None:
    ws("fWSCadastraProduto", produto=product("PAN-1", estoque="5"))

    def reserve(ident: str, quantity: str) -> dict[str, str]:
        result: dict[str, str] = ws("fWSReservaEstoque", id_reserva=ident, is_grade="N",
                                    id_produto="1", quantidade=quantity)
        return result

    assert reserve("R1", "3") == ok("R1")
    assert reserve("R1", "3") == ok("R1")  # the same reservation again: nothing new
    assert store.held_reservations() == {"R1": 3} and store.held_stock() == {"PAN-1": 2}
    assert ws("fWSImportaProdutoPorID", id_produto="1")["estoque"] == "5"
    assert reserve("R1", "4")["mensagem"].startswith("conflito")
    assert reserve("R2", "3") == {"status": "erro", "id": "",
                                  "mensagem": "estoque insuficiente: 2 disponível"}
    fault = refused(ws, "fWSReservaEstoque", id_reserva="R3", is_grade="N", id_produto="1",
                    quantidade="0")
    assert fault.causes[0].startswith("quantidade: ")
    for ident in ("R1", "R1", "NUNCA"):
        assert ws("fWSLiberaReservaEstoque", id_reserva=ident) == ok(ident)
    assert store.held_reservations() == {} and store.held_stock() == {"PAN-1": 5}
    assert reserve("R2", "5") == ok("R2")
    assert reserve("R1", "3")["mensagem"].startswith("conflito")  # released ids are spent
    assert store.held_reservations() == {"R2": 5} and store.held_stock() == {"PAN-1": 0}


# -- the WSDL, the seed, the platform view ---------------------------------------------------------


def test_the_wsdl_declares_every_operation_and_without_drops_one(store: TraySoapSandbox,
                                                                 ws: Webservice) -> None:
    def declared() -> set[str]:
        document = httpx.get(f"{store.url}{PATH}?wsdl", timeout=5.0).content
        root = etree.fromstring(document)
        return {op.get("name") or "" for op in
                root.iterfind(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation")}

    names = {op.name for op in SERVICE.operations}
    assert declared() == names and len(names) == 28
    assert ws.client.operations == names
    assert all(op.params[:3] == SERVICE.operations[0].params[:3] for op in SERVICE.operations)
    store.service = SERVICE.without("fWSReservaEstoque")
    assert declared() == names - {"fWSReservaEstoque"}
    fault = refused(ws, "fWSReservaEstoque", id_reserva="R1", is_grade="N", id_produto="1",
                    quantidade="1")
    assert fault.code == "SOAP-ENV:Client" and "fWSReservaEstoque" in fault.causes[0]


def test_seed_fills_the_requested_counts_with_valid_products(store: TraySoapSandbox,
                                                             ws: Webservice) -> None:
    store.seed(products=14, orders=6, seed=3)
    held = store.held_products()
    assert len(held) == 14 and len(store.data["orders"]) == 6
    assert all(isinstance(p, tramo.Product) and p.gtin and p.ncm and p.price for p in held)
    assert any(p.variants for p in held) and any(not p.variants for p in held)
    assert any(len(v.attributes) == 2 for p in held for v in p.variants)
    skus = [sku for p in held for sku in p.skus]
    assert len(skus) == len(set(skus)) == len(store.held_stock())
    assert listing(ws) == [str(n) for n in range(1, 7)]
    customers = [ws("fWSImportaClientePorPedidoAvancado", id_pedido=str(n)) for n in range(1, 7)]
    assert all(len(c["cep"]) == 8 and c["cnpj_cpf"] for c in customers)
    first = [p.name for p in held]
    store.reset()
    store.seed(products=14, orders=6, seed=3)
    assert [p.name for p in store.held_products()] == first

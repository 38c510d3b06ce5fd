"""The Ideris sandbox: an Ideris account's API v1 on loopback, checked over plain HTTP.

No plugin code takes part: requests are made with httpx as any client would,
and what the account holds is read back through the sandbox's ``held_*``
view. One sandbox serves the module; each test gets a new account
(``reset``), a fresh JWT, no rate limit (except where it is the subject) and
creation protocols processed at the next request (``delay=0``) unless the
delay is the subject. Every test ends with the sandbox's ``errors`` empty.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, given, settings

import tramo
from tramo.budget import Window
from tramo.model.identifiers import cnpj_check_digits, cpf_check_digits
from tramo.sandbox import Fault, Knobs
from tramo.testing import strategies
from tramo.testing.kit import project
from tramo_ideris.sandbox import (
    ACCOUNT,
    LOGIN_TOKEN,
    MAPPINGS,
    NOTIFICATION_TOKEN,
    IderisSandbox,
)
from tramo_ideris.sandbox_records import STORE_TZ

DENIED = {"Message": "Authorization has been denied for this request."}
CPF = "123456789" + cpf_check_digits("123456789")
CNPJ = "112223330001" + cnpj_check_digits("112223330001")
CENT = Decimal("0.01")
KEY = "35260311222333000181550010000012341000012345"
WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=STORE_TZ)

FULL_ORDER_KEYS = {
    "id", "data", "codigo", "valorTotalComFrete", "valorPago", "valorTotal", "tarifaEnvio",
    "tarifaVenda", "totalDebitado", "custoProduto", "valorSobrou", "totalLiquido",
    "valorDesconto", "freteComprador", "moeda", "tipoEntrega", "marketplace",
    "idAutenticacaoIderis", "idContaMarketplace", "nomeContaMarketplace", "status",
    "codigoEntrega", "codigoCarrinhoCompras", "metodoRastreio", "numeroRastreio",
    "compradorPrimeiroNome", "compradorSobrenome", "compradorApelido", "compradorEmail",
    "compradorTipoDocumento", "compradorDocumento", "compradorCodigoAreaTelefone",
    "compradorTelefone", "enderecoEntregaCompleto", "enderecoEntregaRua", "enderecoEntregaNumero",
    "enderecoEntregaCep", "enderecoEntregaBairro", "enderecoEntregaCidade",
    "enderecoEntregaEstado", "enderecoEntregaPais", "enderecoEntregaComentario",
    "enderecoEntrega_NomeResponsavelRecebimento", "enderecoEntrega_TelefoneResponsavelRecebimento",
    "intermediadorNome", "intermediadorCnpj", "Item", "Pagamento",
}
LIST_ORDER_KEYS = {"id", "codigo", "marketplace", "idAutenticacaoIderis", "idContaMarketplace",
                   "nomeContaMarketplace", "status", "data", "codigoCarrinhoCompras",
                   "imagemPedidoItem", "intermediadorNome", "intermediadorCnpj"}
PRODUCT_KEYS = {
    "id", "sku", "titulo", "descricaoLonga", "marcaId", "marca", "departamentoId", "departamento",
    "categoriaId", "categoria", "subCategoriaId", "subCategoria", "ncmId", "ncm",
    "produtoOrigemId", "produtoOrigem", "tipoProdutoId", "tipoProduto", "modelo", "garantia",
    "cest", "ean", "videoYoutube", "peso", "comprimento", "largura", "altura", "pesoEmbalagem",
    "comprimentoEmbalagem", "larguraEmbalagem", "alturaEmbalagem", "caminhoImagem",
    "estoquePrincipalId", "quantidadeEstoquePrincipal", "quantidadeEstoquePrincipalReserva",
    "valorCusto", "valorVenda", "ultimaAlteracaoPreco", "Variacao", "ProdutoComposto", "Imagens",
}


# -- the sandbox, a client, and records to work with -----------------------------------------------


@pytest.fixture(scope="module")
def running() -> Iterator[IderisSandbox]:
    with IderisSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def store(running: IderisSandbox) -> Iterator[IderisSandbox]:
    running.reset()
    running.configure(rate_limits=())
    running.configure_protocols(delay=0)
    yield running
    assert running.errors == [], running.errors


def login(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/Login", json=body or {"login_token": LOGIN_TOKEN})


class Api:
    """Plain HTTP to the sandbox, the raw JWT in ``Authorization`` (as Ideris wants)."""

    def __init__(self, sandbox: IderisSandbox) -> None:
        self.sandbox = sandbox
        self.client = httpx.Client(base_url=sandbox.settings["base_url"], timeout=5.0)
        self.token = ""

    def login(self) -> str:
        self.token = ok(login(self.client))
        return self.token

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": self.token, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.call("POST", path, json=body)

    def put(self, path: str, body: Any) -> httpx.Response:
        return self.call("PUT", path, json=body)

    def result(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return list(ok(self.get(path, **params))["result"])


@pytest.fixture
def api(store: IderisSandbox) -> Iterator[Api]:
    client = Api(store)
    client.login()
    yield client
    client.client.close()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int = 400) -> str:
    """The bare-string body of an Ideris business error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, str), body
    return body


def money(value: Any) -> Decimal:
    """How a client reads Ideris' JSON money: through its text, to cents."""
    assert isinstance(value, (int, float)) and not isinstance(value, bool), value
    return Decimal(str(value)).quantize(CENT)


def product_body(sku: str = "CAM-1", **fields: Any) -> dict[str, Any]:
    return {"sku": sku, "titulo": "Camiseta Básica", "descricaoLonga": "Algodão",
            "categoriaIdIderis": 1, "subCategoriaIdIderis": 1, "marcaIdIderis": 1,
            "departamentoIdIderis": 1, "valorCusto": 20.0, "valorVenda": 49.9, **fields}


def with_variations(sku: str = "TEN", *values: str, **fields: Any) -> dict[str, Any]:
    variations = [{"skuVariacao": f"{sku}-{v}", "quantidadeVariacao": 3, "nomeAtributo": "Tamanho",
                   "valorAtributo": v} for v in values or ("40", "42")]
    return product_body(sku, Variacao=variations, **fields)


def create(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """POST a product and read it back once its protocol (delay 0) is processed."""
    [protocol] = ok(api.post("/Produto", body))["result"]
    [done] = api.result("/Protocolo", codigo=protocol["codigo"])
    assert (done["status"], done["mensagem"]) == ("Finalizado", ""), done
    [product] = api.result("/Produto", sku=body["sku"], include="imagem")
    return dict(product)


def an_order(*items: tuple[str, int], **changes: Any) -> tramo.Order:
    """A marketplace buyer's order of ``(sku, quantity)`` lines at R$ 10.50 each."""
    lines = tuple(tramo.OrderItem(sku=sku, name=f"Item {sku}", quantity=quantity,
                                  unit_price=Decimal("10.50"))
                  for sku, quantity in items or (("AVULSO", 1),))
    total = sum((line.total for line in lines), Decimal(0)) + Decimal("20.00")
    home = tramo.Address(street="Avenida Paulista", number="1000", district="Bela Vista",
                         city="São Paulo", state="SP", postal_code="01310-100",
                         complement="Apto 5", recipient="Ana Souza", phone="11999998888")
    order = tramo.Order(
        id="MKT-1", placed_at=WHEN, items=lines, total=total, platform_status="Aprovado",
        customer=tramo.Customer(name="Ana  de Souza", cpf=CPF, email="ana@example.com.br",
                                phones=("11999998888", "1133334444")),
        delivery_address=home, discount=Decimal("1.25"),
        shipping=tramo.Shipping(platform_method="Mercado Envios", freight=Decimal("20.00")),
        payments=(tramo.Payment(value=total, platform_method="pix", installments=3, paid_at=WHEN),),
        sales_channel=tramo.SalesChannel(platform_channel="Mercado Livre",
                                         marketplace_order_id="2000012345678"))
    return attrs.evolve(order, **changes)


def full(api: Api, ident: str) -> dict[str, Any]:
    [order] = api.result(f"/Pedido/{ident}")
    return dict(order)


def stamp(store: IderisSandbox, ident: str) -> str:
    """The order's hidden change stamp, as a naive store time (what ListaPedido selects on)."""
    return str(store.data["orders"][int(ident)]["_alterado"].strftime("%Y-%m-%dT%H:%M:%S"))


def listed(api: Api, **params: Any) -> list[str]:
    return [str(o["id"]) for o in api.result("/ListaPedido", **params)]


def event(n: int) -> str:
    return hashlib.sha256(f"evento-{n}".encode()).hexdigest()


def tracking(order_id: str, code: str = "BR123456789BR", n: int = 1,
             **dados: Any) -> dict[str, Any]:
    return {"versao": "1.0.0", "tipo": "rastreio", "idEvento": event(n),
            "dados": {"idPedido": int(order_id), "codigoRastreio": code,
                      "urlRastreio": "https://rastreio.example.com/BR1",
                      "transportadora": "Correios",
                      "dataEnvio": "2026-03-03T10:20:30", "chaveNota": None, **dados}}


def invoice(order_id: str, n: int = 1, **dados: Any) -> dict[str, Any]:
    return {"versao": "1.0.0", "tipo": "nota_fiscal", "idEvento": event(n),
            "dados": {"idPedido": int(order_id), "chaveNota": KEY, "numeroNota": "1234",
                      "serieNota": "1", "dataEmissaoNota": "2026-03-03T10:20:30",
                      "valorNota": 120.5,
                      "tipoNota": "NFe", "cfop": "5102", "urlDanfe": None, "urlXml": None, **dados}}


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- auth ------------------------------------------------------------------------------------------


def test_the_login_token_buys_a_signed_jwt_living_six_hours_of_platform_time(
        store: IderisSandbox) -> None:
    client = httpx.Client(base_url=store.url)
    response = login(client)
    jwt = ok(response)
    assert isinstance(jwt, str) and response.headers["content-type"].startswith("application/json")
    head, payload, signature = jwt.split(".")
    assert json.loads(_b64decode(head)) == {"alg": "HS256", "typ": "JWT"}
    claims = json.loads(_b64decode(payload))
    assert claims["sub"] == ACCOUNT
    # 6 h of platform time at time_scale 100: 216 real seconds (less the truncated fraction).
    assert claims["exp"] - claims["iat"] in (215, 216)
    wanted = hmac.new(store.data["secret"], f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert _b64decode(signature) == wanted
    assert store.logins() == 1


def test_the_login_key_is_matched_ignoring_case(store: IderisSandbox) -> None:
    client = httpx.Client(base_url=store.url)
    assert isinstance(ok(login(client, Login_token=LOGIN_TOKEN)), str)


def test_a_wrong_or_missing_login_token_gets_the_aspnet_401(store: IderisSandbox) -> None:
    client = httpx.Client(base_url=store.url)
    for body in ({"login_token": LOGIN_TOKEN[:-1] + "0"}, {"token": LOGIN_TOKEN}):
        assert ok(login(client, **body), 401) == DENIED
    assert ok(client.post("/Login", content=b"not json"), 401) == DENIED
    assert store.logins() == 0


def test_every_route_but_login_and_notifications_needs_the_raw_jwt(api: Api) -> None:
    head, payload, signature = api.token.split(".")
    other = json.loads(_b64decode(payload)) | {"sub": "99999"}
    forged = f"{head}.{base64.urlsafe_b64encode(json.dumps(other).encode()).decode().rstrip('=')}"
    for header in ("", f"Bearer {api.token}", "nada", f"{forged}.{signature}"):
        for path in ("/Produto", "/ListaPedido", "/Status", "/Marca"):
            response = api.client.get(path, headers={"Authorization": header} if header else {})
            assert ok(response, 401) == DENIED, (header, path)
    assert ok(api.get("/Status"))["paging"]["total"] == 17


def test_a_jwt_expires_after_its_lifetime_and_a_new_login_renews_it() -> None:
    # 6 h pass in a quarter second; the exp claim is whole seconds, so it lives at most ~1.25 s.
    with IderisSandbox(Knobs(time_scale=6 * 3600 * 4)) as sandbox:
        client = httpx.Client(base_url=sandbox.url)
        jwt = ok(login(client))
        claims = json.loads(_b64decode(jwt.split(".")[1]))
        assert claims["exp"] - claims["iat"] >= 1
        statuses = []
        for _ in range(100):  # bounded: at most 5 s
            statuses.append(client.get("/Status", headers={"Authorization": jwt}).status_code)
            if statuses[-1] == 401:
                break
            time.sleep(0.05)
        assert statuses[-1] == 401 and set(statuses) <= {200, 401}
        renewed = ok(login(client))
        assert ok(client.get("/Status", headers={"Authorization": renewed}))["result"]
        assert sandbox.logins() == 2 and sandbox.errors == []


def test_expire_tokens_makes_every_issued_jwt_refused(api: Api) -> None:
    api.sandbox.expire_tokens()
    assert ok(api.get("/Status"), 401) == DENIED
    api.login()
    assert ok(api.get("/Status"))["result"]


def test_a_reset_forgets_the_jwts_it_issued(api: Api) -> None:
    api.sandbox.reset()
    assert ok(api.get("/Status"), 401) == DENIED


# -- envelopes and pages ---------------------------------------------------------------------------


def test_lists_echo_offset_and_limit_and_count_the_page_and_total(api: Api) -> None:
    answer = ok(api.get("/Marketplace", offset=2, limit=3))
    assert answer["paging"] == {"offset": 2, "total": 6, "limit": 3, "count": 3}
    assert [m["descricao"] for m in answer["result"]] == ["Shopee", "Magalu", "Americanas"]
    default = ok(api.get("/Marketplace"))
    assert default["paging"] == {"offset": 0, "total": 6, "limit": 50, "count": 6}
    past = ok(api.get("/Marketplace", offset=10))
    assert past["paging"] == {"offset": 10, "total": 6, "limit": 50, "count": 0}
    assert past["result"] == []


def test_a_limit_outside_1_to_50_or_a_negative_offset_is_a_400(api: Api) -> None:
    for limit in (51, 0, "x"):
        assert refused(api.get("/Status", limit=limit)) == "O limite máximo é 50"
    assert refused(api.get("/ListaPedido", limit=100)) == "O limite máximo é 50"
    assert refused(api.get("/Marketplace", offset=-1)) == "offset inválido"


def test_the_status_and_marketplace_lists_are_the_fixed_tables(api: Api) -> None:
    statuses = api.result("/Status")
    orders = [s["descricao"] for s in statuses if s["modulo"] == "Pedido"]
    assert orders[:3] == ["Aberto", "Pagamento pendente", "Aprovado"] and len(orders) == 13
    assert {s["modulo"] for s in statuses} == {"Pedido", "Nota Fiscal", "Anúncio"}
    assert set(MAPPINGS["status"]) <= set(orders)
    assert {m["descricao"] for m in api.result("/Marketplace")} == set(MAPPINGS["channel"])
    for path in ("/Categoria", "/SubCategoria", "/Departamento"):
        assert api.result(path) == [{"id": 1, "descricao": "Geral"}]


def test_unknown_paths_get_a_404_string_and_paths_match_ignoring_case(api: Api) -> None:
    assert refused(api.get("/Nada"), 404) == "Recurso não encontrado"
    assert refused(api.client.get("/Nada"), 404) == "Recurso não encontrado"
    assert ok(api.get("/status"))["paging"]["total"] == 17
    assert ok(api.get("/Marketplace/"))["paging"]["total"] == 6
    assert refused(api.call("DELETE", "/Produto"), 405) == "Operação não suportada"


# -- orders ----------------------------------------------------------------------------------------


def test_a_placed_order_is_listed_and_read_in_full_with_every_key(api: Api) -> None:
    ident = api.sandbox.place_order(an_order(("CAM-1", 2)))
    assert ident == "100001"
    [item] = api.result("/ListaPedido")
    assert set(item) == LIST_ORDER_KEYS
    assert (item["id"], item["status"], item["marketplace"]) == (
        100001, "Aprovado", "Mercado Livre")
    order = full(api, ident)
    assert set(order) == FULL_ORDER_KEYS
    assert set(order["Item"][0]) == {"tituloProdutoItem", "skuProdutoItem", "codigoProduto",
                                     "codigoProdutoItem", "quantidadeItem", "precoUnitarioItem",
                                     "caminhoImagemItem", "variacaoProdutoItem"}
    assert set(order["Pagamento"][0]) == {"codigoPagamento", "dataAprovacaoPagamento",
                                          "statusPagamento", "formaPagamento",
                                          "numeroParcelasPagamento", "taxaMercadoPago",
                                          "taxaMercadoLivre"}
    assert all(isinstance(order[k], float) for k in ("valorTotalComFrete", "valorPago",
                                                      "valorTotal", "valorDesconto",
                                                      "freteComprador", "tarifaVenda"))
    assert isinstance(order["id"], int) and isinstance(order["idAutenticacaoIderis"], int)
    assert isinstance(order["Item"][0]["quantidadeItem"], int)
    assert order["data"] == item["data"] == "2026-03-02T09:00:01"
    assert order["moeda"] == "R$" and order["metodoRastreio"] is None
    assert money(order["valorSobrou"]) == money(order["valorTotal"]) - money(order["totalDebitado"])


def test_a_placed_order_reads_back_exactly_by_the_plugins_rules(api: Api) -> None:
    placed = an_order(("CAM-1", 2), ("CAM-2", 1))
    order = full(api, api.sandbox.place_order(placed))
    first, last = order["compradorPrimeiroNome"], order["compradorSobrenome"]
    assert (first, last) == ("Ana", " de Souza") and f"{first} {last}" == placed.customer.name
    assert (order["compradorTipoDocumento"], order["compradorDocumento"]) == ("CPF", CPF)
    assert order["compradorEmail"] == "ana@example.com.br"
    assert (order["compradorCodigoAreaTelefone"] + order["compradorTelefone"]) == "11999998888"
    address = placed.delivery_address
    assert address is not None
    assert [order[f"enderecoEntrega{k}"] for k in ("Rua", "Numero", "Comentario", "Bairro",
                                                     "Cidade", "Estado", "Cep", "Pais")] == [
        address.street, address.number, address.complement, address.district, address.city,
        address.state, "01310100", "Brasil"]
    assert order["enderecoEntrega_NomeResponsavelRecebimento"] == "Ana Souza"
    assert order["enderecoEntrega_TelefoneResponsavelRecebimento"] == "11999998888"
    assert money(order["valorTotalComFrete"]) == placed.total
    assert money(order["valorDesconto"]) == placed.discount == Decimal("1.25")
    assert money(order["freteComprador"]) == Decimal("20.00")
    assert money(order["valorPago"]) == placed.payments[0].value
    assert money(order["valorTotal"]) == placed.items_total
    assert [(i["skuProdutoItem"], i["tituloProdutoItem"], i["quantidadeItem"],
             money(i["precoUnitarioItem"])) for i in order["Item"]] == [
        (i.sku, i.name, i.quantity, i.unit_price) for i in placed.items]
    [payment] = order["Pagamento"]
    assert (payment["formaPagamento"], payment["numeroParcelasPagamento"]) == ("pix", 3)
    assert payment["dataAprovacaoPagamento"] == "2026-03-02T10:00:00"
    assert payment["statusPagamento"] == "approved"
    assert order["codigo"] == "2000012345678" and order["tipoEntrega"] == "Mercado Envios"


def read_back(order: dict[str, Any]) -> tramo.Order:
    """A full order read by the contract's rules (as the plugin reads it), kept fields only."""
    first, last = order["compradorPrimeiroNome"], order["compradorSobrenome"]
    company = order["compradorTipoDocumento"] == "CNPJ"
    document = order["compradorDocumento"] or None
    address = None if order["enderecoEntregaRua"] is None else tramo.Address(
        street=order["enderecoEntregaRua"], number=order["enderecoEntregaNumero"],
        complement=order["enderecoEntregaComentario"], district=order["enderecoEntregaBairro"],
        city=order["enderecoEntregaCidade"], state=order["enderecoEntregaEstado"],
        postal_code=order["enderecoEntregaCep"],
        country="BR" if order["enderecoEntregaPais"] == "Brasil" else order["enderecoEntregaPais"],
        recipient=order["enderecoEntrega_NomeResponsavelRecebimento"],
        phone=order["enderecoEntrega_TelefoneResponsavelRecebimento"])
    return tramo.Order(
        id=str(order["id"]),
        placed_at=datetime.fromisoformat(order["data"]).replace(tzinfo=STORE_TZ),
        customer=tramo.Customer(
            name=f"{first} {last}" if last else first,
            kind=tramo.CustomerKind.COMPANY if company else tramo.CustomerKind.PERSON,
            cnpj=document if company else None, cpf=None if company else document,
            email=order["compradorEmail"]),
        items=tuple(tramo.OrderItem(sku=i["skuProdutoItem"], name=i["tituloProdutoItem"],
                                    quantity=i["quantidadeItem"],
                                    unit_price=money(i["precoUnitarioItem"]))
                    for i in order["Item"]),
        total=money(order["valorTotalComFrete"]), platform_status=order["status"],
        delivery_address=address, discount=money(order["valorDesconto"]),
        shipping=tramo.Shipping(platform_method=order["tipoEntrega"],
                                freight=money(order["freteComprador"])),
        payments=tuple(tramo.Payment(value=money(order["valorPago"]),
                                     installments=p["numeroParcelasPagamento"])
                       for p in order["Pagamento"]),
        sales_channel=tramo.SalesChannel(platform_channel=order["marketplace"],
                                         marketplace_order_id=order["codigo"]),
        currency="BRL" if order["moeda"] == "R$" else order["moeda"])


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(placed=strategies.orders())
def test_any_order_reads_back_what_the_profile_says_is_kept(store: IderisSandbox,
                                                             placed: tramo.Order) -> None:
    store.reset()
    store.configure(rate_limits=())
    api = Api(store)
    api.login()
    order = full(api, store.place_order(placed))
    api.client.close()
    kept = store.profile.kept
    # What the order lacks, Ideris fills in: no freight is 0; a marketplace code is generated.
    channel = placed.sales_channel or tramo.SalesChannel()
    expected = attrs.evolve(
        placed, shipping=placed.shipping or tramo.Shipping(),
        sales_channel=attrs.evolve(channel, marketplace_order_id=channel.marketplace_order_id
                                   or order["codigo"]))
    assert project(read_back(order), kept) == project(expected, kept)
    assert len(order["Pagamento"]) == 1
    if placed.payments:
        assert order["Pagamento"][0]["numeroParcelasPagamento"] == placed.payments[0].installments
    assert order["status"] in MAPPINGS["status"] and order["marketplace"] in MAPPINGS["channel"]
    assert order["tipoEntrega"] in MAPPINGS["shipping"]
    assert order["Pagamento"][0]["formaPagamento"] in MAPPINGS["payment"]


def test_what_ideris_lacks_falls_back_to_its_first_choice(api: Api) -> None:
    company = tramo.Customer(name="Horizonte", kind=tramo.CustomerKind.COMPANY)
    lacking = an_order(platform_status="PAGO", customer=company, delivery_address=None,
                       shipping=tramo.Shipping(platform_method="SEDEX", freight=Decimal("5")),
                       payments=(), sales_channel=None, currency="USD")
    order = full(api, api.sandbox.place_order(lacking))
    assert (order["status"], order["marketplace"], order["tipoEntrega"]) == (
        "Aprovado", "Mercado Livre", "A combinar")
    assert order["moeda"] == "USD" and order["Pagamento"][0]["formaPagamento"] == "credit_card"
    assert order["Pagamento"][0]["numeroParcelasPagamento"] == 1
    assert money(order["valorPago"]) == lacking.total
    assert order["codigo"].isdigit() and order["codigoEntrega"] is None
    assert all(order[k] is None for k in order if k.startswith("enderecoEntrega"))
    assert (order["compradorTipoDocumento"], order["compradorDocumento"]) == ("CNPJ", "")
    assert (order["compradorSobrenome"], order["compradorTelefone"]) == ("", None)
    trailing = an_order(customer=tramo.Customer(name="Ana ", phones=()))
    buyer = full(api, api.sandbox.place_order(trailing))
    assert (buyer["compradorPrimeiroNome"], buyer["compradorSobrenome"]) == ("Ana ", "")
    foreign = tramo.Address(street="Main St", city="Lisboa", postal_code="1000-001",
                            country="PT", number="5")
    other = full(api, api.sandbox.place_order(an_order(
        delivery_address=foreign, shipping=None,
        sales_channel=tramo.SalesChannel(platform_channel="Shopee"))))
    assert (other["enderecoEntregaPais"], other["enderecoEntregaCep"]) == ("PT", "1000-001")
    assert (other["marketplace"], other["tipoEntrega"]) == ("Shopee", "Correios")
    assert money(other["freteComprador"]) == 0


def test_order_ids_count_up_from_100001_and_the_clock_ticks_a_second_per_change(
        api: Api) -> None:
    ids = [api.sandbox.place_order(an_order()) for _ in range(3)]
    assert ids == ["100001", "100002", "100003"]
    assert [stamp(api.sandbox, i) for i in ids] == [
        "2026-03-02T09:00:01", "2026-03-02T09:00:02", "2026-03-02T09:00:03"]
    api.sandbox.change_order(ids[0])
    assert stamp(api.sandbox, ids[0]) == "2026-03-02T09:00:04"
    assert full(api, ids[0])["data"] == "2026-03-02T09:00:01"


def test_lista_pedido_dates_select_on_the_change_stamp_both_bounds_inclusive(api: Api) -> None:
    ids = [api.sandbox.place_order(an_order()) for _ in range(4)]
    api.sandbox.change_order(ids[0])
    since = stamp(api.sandbox, ids[2])
    assert listed(api, dataInicial=since) == [ids[0], ids[2], ids[3]]
    assert listed(api, dataInicial=since, dataFinal=since) == [ids[2]]
    assert listed(api, dataFinal=stamp(api.sandbox, ids[1])) == [ids[1]]
    # The same instant with an offset, in UTC (Z), and with a fraction of a second.
    assert listed(api, dataInicial=since + "-03:00") == [ids[0], ids[2], ids[3]]
    assert listed(api, dataInicial="2026-03-02T12:00:03.000Z") == [ids[0], ids[2], ids[3]]
    assert listed(api, dataInicial="2026-03-02T09:00:03.5") == [ids[0], ids[3]]
    assert listed(api, dataInicial="2026-03-02") == ids
    assert listed(api, dataInicial="2026-03-03") == []
    assert refused(api.get("/ListaPedido", dataInicial="ontem")) == "dataInicial inválida"
    assert refused(api.get("/ListaPedido", dataFinal="2026-13-01")) == "dataFinal inválida"


def test_lista_pedido_filters_by_status_and_marketplace_text_exactly(api: Api) -> None:
    shopee = tramo.SalesChannel(platform_channel="Shopee")
    ids = [api.sandbox.place_order(an_order()),
           api.sandbox.place_order(an_order(sales_channel=shopee)),
           api.sandbox.place_order(an_order(platform_status="Aberto", sales_channel=shopee))]
    assert listed(api, marketplace="Shopee") == ids[1:]
    assert listed(api, status="Aberto") == [ids[2]]
    assert listed(api, Status="Aprovado", marketplace="Shopee") == [ids[1]]
    assert listed(api, status="aberto") == []
    page = ok(api.get("/ListaPedido", limit=2, offset=1))
    assert page["paging"] == {"offset": 1, "total": 3, "limit": 2, "count": 2}
    assert [str(o["id"]) for o in page["result"]] == ids[1:]


def test_pedido_by_id_and_by_ids(api: Api) -> None:
    ids = [api.sandbox.place_order(an_order()) for _ in range(3)]
    assert refused(api.get("/Pedido/999"), 404) == "Pedido não encontrado"
    assert refused(api.get("/Pedido/abc"), 404) == "Pedido não encontrado"
    answer = ok(api.get("/Pedido", ids=f"{ids[2]},999,{ids[0]}"))
    assert [o["id"] for o in answer["result"]] == [int(ids[0]), int(ids[2])]
    assert answer["paging"] == {"offset": 0, "total": 2, "limit": 50, "count": 2}
    assert set(answer["result"][0]) == FULL_ORDER_KEYS
    assert refused(api.get("/Pedido", ids=",".join(str(n) for n in range(1, 52)))) == (
        "Informe no máximo 50 ids")
    assert refused(api.get("/Pedido", ids="1,x"))
    single = ok(api.get(f"/Pedido/{ids[1]}"))
    assert single["paging"] == {"offset": 0, "total": 1, "limit": 50, "count": 1}


def test_pedido_status_moves_the_status_and_the_change_stamp(api: Api) -> None:
    ids = [api.sandbox.place_order(an_order()) for _ in range(2)]
    before = stamp(api.sandbox, ids[0])
    answer = ok(api.put("/PedidoStatus", {"idPedidos": int(ids[0]), "idNovoStatus": 4}))
    assert answer["result"] == [{"idPedido": int(ids[0]), "status": "Em separação"}]
    assert api.sandbox.held_status(ids[0]) == "Em separação"
    assert stamp(api.sandbox, ids[0]) > before
    both = ok(api.put("/PedidoStatus", {"idPedidos": f"{ids[0]},{ids[1]}", "idNovoStatus": "6"}))
    assert [r["status"] for r in both["result"]] == ["Expedido", "Expedido"]
    moved = stamp(api.sandbox, ids[0])
    assert ok(api.put("/PedidoStatus", {"idPedidos": int(ids[0]), "idNovoStatus": 6}))["result"]
    assert stamp(api.sandbox, ids[0]) == moved
    assert full(api, ids[1])["status"] == "Expedido"


def test_pedido_status_refuses_unknown_orders_and_statuses_outside_pedido(api: Api) -> None:
    ident = api.sandbox.place_order(an_order())
    assert refused(api.put("/PedidoStatus", {"idPedidos": 123, "idNovoStatus": 3})) == (
        "Pedido 123 não encontrado")
    assert refused(api.put("/PedidoStatus", {"idPedidos": f"{ident},77", "idNovoStatus": 3})) == (
        "Pedido 77 não encontrado")
    for status in (99, 20, 30):
        assert refused(api.put("/PedidoStatus", {"idPedidos": int(ident), "idNovoStatus": status})
                       ) == f"Status {status} inválido para pedidos"
    assert api.sandbox.held_status(ident) == "Aprovado"


def test_a_placed_order_takes_stock_and_a_cancel_gives_it_back_once(api: Api) -> None:
    create(api, with_variations("TEN", "40"))
    create(api, product_body("CAN", quantidadeEstoquePrincipal=5))
    ident = api.sandbox.place_order(an_order(("TEN-40", 2), ("CAN", 9), ("AVULSO", 1)))
    assert api.sandbox.held_stock() == {"TEN-40": 1, "CAN": 0}
    [line] = [i for i in full(api, ident)["Item"] if i["skuProdutoItem"] == "TEN-40"]
    assert line["variacaoProdutoItem"] == "Tamanho: 40" and line["codigoProduto"].isdigit()
    for _ in range(2):
        ok(api.put("/PedidoStatus", {"idPedidos": int(ident), "idNovoStatus": 10}))
        ok(api.put("/PedidoStatus", {"idPedidos": int(ident), "idNovoStatus": 3}))
    assert api.sandbox.held_stock() == {"TEN-40": 3, "CAN": 5}


# -- products --------------------------------------------------------------------------------------


def test_a_product_post_answers_a_pending_protocol_and_creates_nothing_yet(api: Api) -> None:
    api.sandbox.configure_protocols(delay=3600)
    answer = ok(api.post("/Produto", product_body()))
    assert answer["paging"] == {"offset": 0, "total": 1, "limit": 50, "count": 1}
    [protocol] = answer["result"]
    assert set(protocol) == {"id", "dataCriacao", "codigo", "tipoFeed", "status", "mensagem"}
    assert (protocol["tipoFeed"], protocol["status"], protocol["mensagem"]) == (
        "Cadastro de produto", "Pendente", "")
    assert len(protocol["codigo"]) == 36 and protocol["codigo"].count("-") == 4
    assert refused(api.get("/Produto", sku="CAM-1")) == "Produto não encontrado"
    assert api.result("/Protocolo") == [protocol]
    assert api.sandbox.held_products() == []


def test_a_protocol_is_finished_once_its_delay_has_passed(api: Api) -> None:
    api.sandbox.configure_protocols(delay=3.0)  # 30 ms at time_scale 100
    [protocol] = ok(api.post("/Produto", product_body()))["result"]
    seen = []
    for _ in range(100):  # bounded: at most 5 s
        [now] = api.result("/Protocolo", codigo=protocol["codigo"])
        seen.append(now["status"])
        if now["status"] == "Finalizado":
            break
        time.sleep(0.05)
    assert seen[-1] == "Finalizado" and set(seen) <= {"Pendente", "Finalizado"}
    assert now["mensagem"] == "" and api.result("/Protocolo") == []
    assert [p.code for p in api.sandbox.held_products()] == ["CAM-1"]


def test_a_taken_sku_or_a_refusal_finishes_the_protocol_with_a_message(api: Api) -> None:
    create(api, with_variations("TEN", "40"))
    api.sandbox.refuse_creation("BLOQ", "Categoria do Mercado Livre não permite o produto")
    messages = {}
    for body in (product_body("TEN"), product_body("TEN-40"),
                 with_variations("NOVO", "40", "41") | {"Variacao": [
                     {"skuVariacao": "TEN-40", "nomeAtributo": "Tamanho", "valorAtributo": "40"}]},
                 product_body("BLOQ")):
        [protocol] = ok(api.post("/Produto", body))["result"]
        [done] = api.result("/Protocolo", codigo=protocol["codigo"])
        messages[body["sku"]] = (done["status"], done["mensagem"])
    assert messages == {
        "TEN": ("Finalizado", "SKU TEN já cadastrado"),
        "TEN-40": ("Finalizado", "SKU TEN-40 já cadastrado"),
        "NOVO": ("Finalizado", "SKU TEN-40 já cadastrado"),
        "BLOQ": ("Finalizado", "Categoria do Mercado Livre não permite o produto"),
    }
    assert [p.code for p in api.sandbox.held_products()] == ["TEN"]


def test_protocolo_lists_pending_ones_or_filters_by_codigo_and_sku(api: Api) -> None:
    api.sandbox.configure_protocols(delay=3600)
    first = ok(api.post("/Produto", product_body("A")))["result"][0]
    second = ok(api.post("/Produto", product_body("B")))["result"][0]
    assert [p["id"] for p in api.result("/Protocolo")] == [first["id"], second["id"]]
    assert api.result("/Protocolo", codigo=second["codigo"]) == [second]
    assert api.result("/Protocolo", sku="A") == [first]
    answer = ok(api.get("/Protocolo", codigo="00000000-0000-4000-8000-000000000000"))
    assert answer["result"] == [] and answer["paging"]["count"] == 0


def test_each_missing_or_invalid_field_is_named_in_the_400(api: Api) -> None:
    cases = {
        "O campo titulo é obrigatório": {k: v for k, v in product_body().items()
                                         if k != "titulo"},
        "O campo sku é obrigatório": product_body(sku=""),
        "O campo valorVenda é inválido": product_body(valorVenda=-1),
        "O campo valorCusto é obrigatório": {k: v for k, v in product_body().items()
                                             if k != "valorCusto"},
        "O campo categoriaIdIderis é inválido: 7 não encontrado": product_body(
            categoriaIdIderis=7),
        "Marca 99 não encontrada": product_body(marcaIdIderis=99),
        "O campo Variacao[0].nomeAtributo é obrigatório": product_body(
            "V", Variacao=[{"skuVariacao": "V-1", "valorAtributo": "P"}]),
        "O campo Imagem[0].urlImagem é inválido": product_body(
            Imagem=[{"urlImagem": "foto.jpg"}]),
        "Produto com variação: informe quantidadeVariacao": with_variations(
            quantidadeEstoquePrincipal=3),
        "O campo Variacao[1].skuVariacao repete o SKU V-1": product_body("V", Variacao=[
            {"skuVariacao": "V-1", "nomeAtributo": "Cor", "valorAtributo": "Azul"},
            {"skuVariacao": "V-1", "nomeAtributo": "Cor", "valorAtributo": "Rosa"}]),
    }
    for text, body in cases.items():
        assert refused(api.post("/Produto", body)) == text
    malformed = refused(api.call("POST", "/Produto", content=b"{"))
    assert malformed.startswith("Requisição mal formada")
    assert api.result("/Protocolo", sku="CAM-1") == []


def test_a_created_product_shows_every_key_and_images_only_when_asked(api: Api) -> None:
    body = with_variations("TEN", "40", "42", peso=800, comprimento=33.5, largura=22, altura=12,
                           ean="7891234567895",
                           Imagem=[{"urlImagem": "https://img.example.com/ten-1.jpg"},
                                   {"urlImagem": "https://img.example.com/ten-2.jpg"}])
    body["Variacao"][0]["Imagem"] = [{"urlImagem": "https://img.example.com/ten-40.jpg"}]
    product = create(api, body)
    assert set(product) == PRODUCT_KEYS
    assert (product["tipoProduto"], product["quantidadeEstoquePrincipal"]) == ("Com variação", 6)
    assert (product["marca"], product["categoria"], product["departamento"]) == (
        "Sem marca", "Geral", "Geral")
    assert product["comprimento"] == 33.5 and product["valorVenda"] == 49.9
    assert product["caminhoImagem"] == "https://img.example.com/ten-1.jpg"
    assert [i["urlImagem"] for i in product["Imagens"]] == [
        "https://img.example.com/ten-1.jpg", "https://img.example.com/ten-2.jpg"]
    first, second = product["Variacao"]
    assert first["caminhoImagemVariacao"] == "https://img.example.com/ten-40.jpg"
    assert second["caminhoImagemVariacao"] is None
    assert first["Combinacao"][0]["descricao"] == "Tamanho: 40"
    assert first["Combinacao"][0]["tipoVariacaoId"] == second["Combinacao"][0]["tipoVariacaoId"]
    [plain] = api.result("/Produto", sku="TEN")
    assert plain["Imagens"] == []
    by_id = api.result(f"/Produto/{product['id']}", include="imagem")
    assert by_id == [product]
    assert refused(api.get("/Produto/999")) == "Produto não encontrado"


def test_get_by_sku_finds_a_product_by_a_variation_sku_and_400_when_none(api: Api) -> None:
    create(api, with_variations("TEN", "40"))
    create(api, product_body("CAN"))
    assert [p["sku"] for p in api.result("/Produto", sku="TEN-40")] == ["TEN"]
    assert [p["sku"] for p in api.result("/Produto", sku="CAN")] == ["CAN"]
    assert refused(api.get("/Produto", sku="NADA")) == "Produto não encontrado"
    everything = ok(api.get("/Produto", limit=1, offset=1))
    assert everything["paging"] == {"offset": 1, "total": 2, "limit": 1, "count": 1}
    assert everything["result"][0]["sku"] == "CAN"


def test_put_changes_only_what_it_names_and_dates_a_price_change(api: Api) -> None:
    created = create(api, product_body("CAN", quantidadeEstoquePrincipal=2))
    answer = ok(api.put("/Produto", {"id": created["id"], "titulo": "Caneca Azul",
                                     "quantidadeEstoquePrincipal": 7}))
    [edited] = answer["result"]
    assert edited["Imagens"] == [] and set(edited) == PRODUCT_KEYS
    assert (edited["titulo"], edited["quantidadeEstoquePrincipal"]) == ("Caneca Azul", 7)
    assert {k: v for k, v in edited.items() if k not in ("titulo", "quantidadeEstoquePrincipal")} \
        == {k: v for k, v in created.items() if k not in ("titulo", "quantidadeEstoquePrincipal")}
    same = ok(api.put("/Produto", {"sku": "CAN", "valorVenda": 49.9}))["result"][0]
    assert same["ultimaAlteracaoPreco"] == created["ultimaAlteracaoPreco"]
    priced = ok(api.put("/Produto", {"sku": "CAN", "valorVenda": 59.9,
                                     "Imagem": [{"urlImagem": "https://img.example.com/c.jpg"}]}))
    [now] = priced["result"]
    assert now["valorVenda"] == 59.9
    assert now["ultimaAlteracaoPreco"] > created["ultimaAlteracaoPreco"]
    assert now["caminhoImagem"] == "https://img.example.com/c.jpg"
    assert api.sandbox.held_prices()["CAN"].list_price == Decimal("59.9")


def test_put_updates_and_adds_variations_and_keeps_main_stock_for_simple_products(
        api: Api) -> None:
    created = create(api, with_variations("TEN", "40", "42"))
    body = {"id": created["id"], "Variacao": [
        {"skuVariacao": "TEN-40", "quantidadeVariacao": 9},
        {"skuVariacao": "TEN-44", "quantidadeVariacao": 1, "nomeAtributo": "Tamanho",
         "valorAtributo": "44"}]}
    [edited] = ok(api.put("/Produto", body))["result"]
    assert [(v["skuVariacao"], v["quantidadeVariacao"]) for v in edited["Variacao"]] == [
        ("TEN-40", 9), ("TEN-42", 3), ("TEN-44", 1)]
    assert edited["Variacao"][0]["Combinacao"][0]["tipoVariacaoValor"] == "40"
    assert edited["quantidadeEstoquePrincipal"] == 13
    assert refused(api.put("/Produto", {"id": created["id"], "quantidadeEstoquePrincipal": 5})
                   ) == "Produto com variação: informe quantidadeVariacao"
    assert api.sandbox.held_stock() == {"TEN-40": 9, "TEN-42": 3, "TEN-44": 1}


def test_put_refuses_unknown_products_negative_quantities_and_taken_skus(api: Api) -> None:
    created = create(api, with_variations("TEN", "40"))
    create(api, product_body("CAN"))
    assert refused(api.put("/Produto", {"id": 999, "titulo": "X"})) == "Produto não encontrado"
    assert refused(api.put("/Produto", {"sku": "TEN-40", "titulo": "X"})) == (
        "Produto não encontrado")
    assert refused(api.put("/Produto", {"sku": "CAN", "quantidadeEstoquePrincipal": -1})) == (
        "O campo quantidadeEstoquePrincipal é inválido")
    assert refused(api.put("/Produto", {"id": created["id"], "Variacao": [
        {"skuVariacao": "TEN-40", "quantidadeVariacao": -2}]})) == (
        "O campo Variacao[0].quantidadeVariacao é inválido")
    assert refused(api.put("/Produto", {"id": created["id"], "Variacao": [
        {"skuVariacao": "CAN", "nomeAtributo": "Tamanho", "valorAtributo": "41"}]})) == (
        "SKU CAN já cadastrado")
    assert refused(api.put("/Produto", {"id": created["id"], "Variacao": [
        {"skuVariacao": "TEN-41", "quantidadeVariacao": 2}]})) == (
        "O campo Variacao[0].nomeAtributo é obrigatório")
    # Nothing of a refused edit lands, not even its valid parts.
    assert refused(api.put("/Produto", {"id": created["id"], "titulo": "Novo", "peso": "x"}))
    assert api.result("/Produto", sku="TEN")[0]["titulo"] == "Camiseta Básica"


def test_marca_lists_creates_and_refuses_a_name_it_has(api: Api) -> None:
    assert api.result("/Marca") == [{"id": 1, "descricao": "Sem marca"}]
    [made] = ok(api.post("/Marca", {"descricao": "Tramontina"}))["result"]
    assert made == {"id": 2, "descricao": "Tramontina"}
    assert refused(api.post("/Marca", {"descricao": "TRAMONTINA"}), 409) == "Marca já cadastrada"
    assert refused(api.post("/Marca", {"descricao": ""})) == "O campo descricao é obrigatório"
    assert api.result("/Marca", descricao="tramontina") == [made]
    assert api.result("/Marca", descricao="Outra") == []
    create(api, product_body(marcaIdIderis=2))
    [held] = api.sandbox.held_products()
    assert held.brand == tramo.Brand(id="2", name="Tramontina")


# -- notifications ---------------------------------------------------------------------------------


def notify(api: Api, kind: str, body: Any, token: str = NOTIFICATION_TOKEN) -> httpx.Response:
    return api.client.post(f"/notificacoes/{kind}/{token}", json=body)


def test_a_tracking_is_recorded_once_per_event_and_marks_the_order(api: Api) -> None:
    ident = api.sandbox.place_order(an_order())
    body = tracking(ident)
    assert api.sandbox.settings["tracking_notification_url"].endswith(
        f"/notificacoes/rastreio/{NOTIFICATION_TOKEN}")
    for _ in range(2):  # no Authorization header: the URL's token is the secret
        assert ok(notify(api, "rastreio", body)) == {"recebido": True, "idEvento": event(1)}
    assert api.sandbox.held_trackings() == {ident: ["BR123456789BR"]}
    ok(notify(api, "rastreio", tracking(ident, "BR999999999BR", n=2)))
    assert api.sandbox.held_trackings() == {ident: ["BR123456789BR", "BR999999999BR"]}
    order = full(api, ident)
    assert (order["numeroRastreio"], order["metodoRastreio"]) == ("BR999999999BR", "Correios")
    assert [b["idEvento"] for b in api.sandbox.notifications("rastreio")] == [event(1), event(2)]


def test_an_invoice_is_held_by_its_key_once_per_event(api: Api) -> None:
    ident = api.sandbox.place_order(an_order())
    for n in (1, 1, 2):
        ok(notify(api, "nota-fiscal", invoice(ident, n)))
    assert api.sandbox.held_invoices() == {ident: [KEY, KEY]}
    assert api.sandbox.notifications("nota_fiscal")[0]["dados"]["valorNota"] == Decimal("120.5")
    assert api.sandbox.held_trackings() == {}


def test_a_wrong_notification_token_is_a_404_and_a_bad_body_a_400(api: Api) -> None:
    ident = api.sandbox.place_order(an_order())
    assert refused(notify(api, "rastreio", tracking(ident), "0" * 32), 404) == (
        "Recurso não encontrado")
    assert refused(notify(api, "rastreio", tracking(ident), NOTIFICATION_TOKEN.upper()), 404)
    cases = {
        "O campo tipo é inválido": invoice(ident) | {"tipo": "rastreio"},
        "O campo idEvento é inválido": tracking(ident) | {"idEvento": "abc"},
        "O campo dados.idPedido é inválido: pedido não encontrado": tracking("999"),
        "O campo dados.codigoRastreio é obrigatório": tracking(ident, ""),
        "O campo dados é obrigatório": {"versao": "1.0.0", "tipo": "rastreio",
                                        "idEvento": event(3)},
    }
    for text, body in cases.items():
        kind = "nota-fiscal" if text == "O campo tipo é inválido" else "rastreio"
        assert refused(notify(api, kind, body)) == text
    invoice_cases = {
        "O campo dados.chaveNota é inválido": invoice(ident, chaveNota="123"),
        "O campo dados.tipoNota é inválido": invoice(ident, tipoNota="NFS"),
        "O campo dados.valorNota é obrigatório": invoice(ident, valorNota=None),
        "O campo dados.dataEmissaoNota é inválido": invoice(ident, dataEmissaoNota="ontem"),
    }
    for text, body in invoice_cases.items():
        assert refused(notify(api, "nota-fiscal", body)) == text
    assert refused(api.client.post(f"/notificacoes/rastreio/{NOTIFICATION_TOKEN}",
                                   content=b"[1")).startswith("Requisição mal formada")
    assert api.sandbox.held_trackings() == {} and api.sandbox.held_invoices() == {}


# -- the platform's view ---------------------------------------------------------------------------


def test_held_products_stock_and_prices_are_what_the_api_shows(api: Api) -> None:
    brand = ok(api.post("/Marca", {"descricao": "Olympikus"}))["result"][0]["id"]
    body = with_variations("TEN", "40", "42", marcaIdIderis=brand, peso=800, comprimento=33,
                           largura=22, altura=12.5, ean="7891234567895",
                           Imagem=[{"urlImagem": "https://img.example.com/ten.jpg"}])
    body["Variacao"][1]["Imagem"] = [{"urlImagem": "https://img.example.com/ten-42.jpg"}]
    create(api, body)
    create(api, product_body("CAN", valorVenda=0, quantidadeEstoquePrincipal=4))
    ten, can = api.sandbox.held_products()
    assert (ten.code, ten.name, ten.description, ten.gtin) == (
        "TEN", "Camiseta Básica", "Algodão", "7891234567895")
    assert ten.brand == tramo.Brand(id=str(brand), name="Olympikus")
    assert (ten.price, ten.weight_kg) == (Decimal("49.9"), Decimal("0.8"))
    assert ten.dimensions == tramo.Dimensions(length_cm=Decimal(33), width_cm=Decimal(22),
                                              height_cm=Decimal("12.5"))
    assert ten.images == ("https://img.example.com/ten.jpg",)
    assert [(v.sku, v.attributes, v.images) for v in ten.variants] == [
        ("TEN-40", (tramo.Attribute(name="Tamanho", value="40"),), ()),
        ("TEN-42", (tramo.Attribute(name="Tamanho", value="42"),),
         ("https://img.example.com/ten-42.jpg",))]
    assert (can.brand, can.price, can.weight_kg, can.dimensions, can.variants) == (
        None, None, None, None, ())
    assert can.remote_id == str(api.result("/Produto", sku="CAN")[0]["id"])
    assert api.sandbox.held_stock() == {"TEN-40": 3, "TEN-42": 3, "CAN": 4}
    assert api.sandbox.held_prices() == {
        "TEN": tramo.Price(sku="TEN", list_price=Decimal("49.9"), currency="BRL")}


def test_held_status_is_the_status_text(api: Api) -> None:
    ident = api.sandbox.place_order(an_order(platform_status="Em separação"))
    assert api.sandbox.held_status(ident) == "Em separação"
    api.sandbox.set_status(ident, "Entregue")
    assert full(api, ident)["status"] == "Entregue"
    with pytest.raises(ValueError):
        api.sandbox.set_status(ident, "Emitida")


def test_a_reset_account_is_empty_but_for_sem_marca(api: Api) -> None:
    create(api, product_body())
    api.sandbox.place_order(an_order())
    api.sandbox.configure_protocols(delay=60)
    before = api.sandbox.data
    api.sandbox.reset()
    assert api.sandbox.data is not before and not api.sandbox.calls
    assert api.sandbox.protocol_delay == 3.0
    assert (api.sandbox.held_products(), api.sandbox.held_stock()) == ([], {})
    api.login()
    assert api.result("/Marca") == [{"id": 1, "descricao": "Sem marca"}]
    assert api.result("/ListaPedido") == [] and api.sandbox.logins() == 1
    assert api.sandbox.place_order(an_order()) == "100001"


def test_the_settings_reach_the_sandbox_and_announce_the_scaled_rate(store: IderisSandbox) -> None:
    settings = store.settings
    assert settings["base_url"] == store.url and settings["login_token"] == LOGIN_TOKEN
    assert len(LOGIN_TOKEN) == 96 and LOGIN_TOKEN == LOGIN_TOKEN.lower()
    assert int(LOGIN_TOKEN, 16) >= 0 and len(NOTIFICATION_TOKEN) == 32
    assert (settings["category_id"], settings["subcategory_id"], settings["department_id"]) == (
        1, 1, 1)
    assert settings["invoice_notification_url"] == (
        f"{store.url}/notificacoes/nota-fiscal/{NOTIFICATION_TOKEN}")
    store.reset()  # the constructor's knobs: 120 a minute, 100 times faster
    assert store.settings["requests_per_minute"] == 12_000
    assert store.profile.mappings == MAPPINGS and store.profile.page_size_setting == "page_size"
    assert store.profile.orders == "incremental"


# -- faults ----------------------------------------------------------------------------------------


def test_past_the_rate_limit_comes_a_429_string_with_retry_after(api: Api) -> None:
    # Platform time at the wall clock's pace: two calls an hour, so the third surely waits.
    api.sandbox.configure(time_scale=1, rate_limits=(Window(2, 3600),))
    for _ in range(2):
        ok(api.get("/Status"))
    response = api.get("/Status")
    assert refused(response, 429) == (
        "Requisição excede a quantidade máxima de chamadas permitidas à API.")
    assert float(response.headers["Retry-After"]) > 0


def test_injected_faults_come_back_with_ideris_bodies(api: Api) -> None:
    api.sandbox.inject(Fault.SERVER_ERROR)
    assert refused(api.get("/Produto"), 500) == "Erro na API"
    api.sandbox.configure(retry_after=2.0)
    api.sandbox.inject(Fault.RATE_LIMITED)
    limited = api.post("/Produto", product_body())
    assert refused(limited, 429)
    assert float(limited.headers["Retry-After"]) == pytest.approx(0.02)
    assert api.result("/Protocolo", sku="CAM-1") == []
    api.sandbox.inject(Fault.MALFORMED)
    with pytest.raises(ValueError):
        api.get("/Status").json()


def test_a_duplicate_page_fault_repeats_the_page_served_before(api: Api) -> None:
    first = ok(api.get("/Status", limit=2, offset=0))
    api.sandbox.inject(Fault.DUPLICATE_PAGE)
    assert ok(api.get("/Status", limit=2, offset=2)) == first
    assert ok(api.get("/Status", limit=2, offset=2)) != first


# -- the seed --------------------------------------------------------------------------------------


def test_the_seed_is_a_realistic_account_and_the_same_each_time(store: IderisSandbox) -> None:
    store.seed()
    products = store.held_products()
    assert len(products) == 20 and len(store.data["orders"]) == 10
    assert any(p.variants for p in products) and any(not p.variants for p in products)
    assert all(p.gtin and p.brand and p.images and p.price for p in products)
    other = IderisSandbox()
    other.seed()
    assert other.held_products() == products and other.held_stock() == store.held_stock()
    assert [store.held_status(str(i)) for i in store.data["orders"]] == [
        other.held_status(str(i)) for i in other.data["orders"]]
    api = Api(store)
    api.login()
    orders = api.result("/ListaPedido")
    assert len({o["marketplace"] for o in orders}) >= 3
    assert {o["status"] for o in orders} <= set(MAPPINGS["status"])
    fulls = api.result("/Pedido", ids=",".join(str(o["id"]) for o in orders))
    assert all(o["Item"] and o["Pagamento"] for o in fulls)
    store.seed(products=2, orders=1, seed=5)
    assert len(store.held_products()) == 22


def test_timestamps_are_naive_store_time_to_the_second(api: Api) -> None:
    ident = api.sandbox.place_order(an_order(payments=(tramo.Payment(
        value=Decimal("41.00"), paid_at=datetime(2026, 3, 2, 15, 30, 5, tzinfo=timezone.utc)),)))
    order = full(api, ident)
    assert order["Pagamento"][0]["dataAprovacaoPagamento"] == "2026-03-02T12:30:05"
    assert datetime.fromisoformat(order["data"]).tzinfo is None
    api.sandbox.configure_protocols(delay=3600)
    [protocol] = ok(api.post("/Produto", product_body()))["result"]
    created = datetime.fromisoformat(protocol["dataCriacao"])
    assert created.tzinfo is None and created - datetime(2026, 3, 2, 9) < timedelta(minutes=1)

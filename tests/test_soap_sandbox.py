"""The generic SOAP sandbox: a tiny NuSOAP-style service, called through tramo's SOAP client.

The service knows nothing of any platform: two structs, one array, three
operations. Calls go through :func:`tramo.soap.soap_client` over plain httpx
clients, as a plugin's would; what zeep cannot send (a DOCTYPE, an operation
missing from the WSDL, xsi:nil, a Latin-1 body without a declaration) is
posted by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from zeep.helpers import serialize_object

from tramo.budget import Window
from tramo.errors import PlatformError, RateLimitedError, TransientError
from tramo.http import HttpOptions, RetryPolicy, async_http_client, http_client
from tramo.sandbox import Fault, Knobs
from tramo.sandbox.soap import (
    Params,
    SoapFault,
    SoapOperation,
    SoapSandbox,
    SoapService,
    wsdl,
)
from tramo.soap import WsdlCache, soap_client

NS = "urn:ws_teste"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PATH = "/ws/ws_teste.php"

SERVICE = SoapService(
    name="ws_teste", namespace=NS,
    structs={"Cliente": ("id", "nome", "cidade"), "Retorno": ("status", "id")},
    arrays={"ArrayOfCliente": "Cliente"},
    operations=(
        SoapOperation("BuscaCliente", (("id", "xsd:string"),), "tns:Cliente", confirmed=True),
        SoapOperation("ListaClientes", (("cidade", "xsd:string"),), "tns:ArrayOfCliente"),
        SoapOperation("GravaCliente", (("cliente", "tns:Cliente"),), "tns:Retorno"),
    ),
)


class TestSandbox(SoapSandbox):
    """Customers by id; ``id`` "boom" crashes the handler (a sandbox bug)."""

    __test__ = False  # a sandbox, not a pytest class
    plugin = "teste"
    service = SERVICE
    path = PATH

    @property
    def settings(self) -> dict[str, Any]:
        return {"wsdl": self.wsdl_url}

    @property
    def wsdl_url(self) -> str:
        return f"{self.url}{PATH}?wsdl"

    def fresh_data(self) -> dict[str, Any]:
        return {"clientes": {}, "seen": []}

    def op_BuscaCliente(self, params: Params) -> dict[str, str]:
        self.data["seen"].append(params)
        if params["id"] == "boom":
            raise RuntimeError("a bug in the sandbox")
        found = self.data["clientes"].get(params["id"])
        if found is None:
            raise SoapFault("SOAP-ENV:Client.NaoEncontrado", "Cliente não encontrado")
        return dict(found)

    def op_ListaClientes(self, params: Params) -> list[dict[str, str]]:
        self.data["seen"].append(params)
        return [c for c in self.data["clientes"].values()
                if params["cidade"] in ("", None, c.get("cidade"))]

    def op_GravaCliente(self, params: Params) -> dict[str, str]:
        self.data["seen"].append(params)
        cliente = params["cliente"]
        ident = str(len(self.data["clientes"]) + 1)
        self.data["clientes"][ident] = {**cliente, "id": ident}
        return {"status": "ok", "id": ident}


@pytest.fixture(scope="module")
def running() -> Iterator[TestSandbox]:
    with TestSandbox(Knobs(hang=1.0)) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running: TestSandbox) -> Iterator[TestSandbox]:
    running.reset()
    yield running
    running.service = SERVICE
    assert running.errors == []


#: One WSDL cache for the module: each test builds clients, the WSDL is fetched once.
CACHE = WsdlCache()


def calls(sandbox: TestSandbox, *operations: tuple[str, dict[str, Any]]) -> list[Any]:
    """Build a client as a plugin does and make these operations through it, in order."""
    async def run(http: httpx.Client) -> list[Any]:
        async with httpx.AsyncClient(timeout=5.0) as async_http:
            client = soap_client(sandbox.wsdl_url, http=http, async_http=async_http, cache=CACHE,
                                 operation_timeout=5.0)
            return [serialize_object(await client.service[name](**arguments))
                    for name, arguments in operations]

    with httpx.Client(timeout=5.0) as http:
        return asyncio.run(run(http))


def call(sandbox: TestSandbox, operation: str, **arguments: Any) -> Any:
    return calls(sandbox, (operation, arguments))[0]


def post(sandbox: TestSandbox, body: bytes | str, content_type: str = "text/xml; charset=utf-8",
         ) -> httpx.Response:
    return httpx.post(f"{sandbox.url}{PATH}", content=body, timeout=5.0,
                      headers={"Content-Type": content_type})


def envelope(call_xml: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> str:
    return (f'{prolog}<soap:Envelope xmlns:soap="{SOAP_ENV}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/">'
            f"<soap:Body>{call_xml}</soap:Body></soap:Envelope>")


def fault_of(response: httpx.Response) -> tuple[str, str]:
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, response.text
    return fault.findtext("faultcode") or "", fault.findtext("faultstring") or ""


# -- answers round-trip ----------------------------------------------------------------------


# Latin-1 without control characters: what a PHP store in ISO-8859-1 holds.
LATIN1 = st.text(st.characters(max_codepoint=0xFF, exclude_categories=("Cc", "Cs")),
                 min_size=1, max_size=30)


@given(nome=LATIN1, cidade=LATIN1)
def test_structs_and_arrays_round_trip_latin1_text(running: TestSandbox, nome: str,
                                                    cidade: str) -> None:
    running.reset()
    saved, found, listed = calls(
        running, ("GravaCliente", {"cliente": {"id": "", "nome": nome, "cidade": cidade}}),
        ("BuscaCliente", {"id": "1"}), ("ListaClientes", {"cidade": ""}))
    assert saved == {"status": "ok", "id": "1"}
    assert found == {"id": "1", "nome": nome, "cidade": cidade}
    assert listed == [found]
    assert running.data["seen"][0]["cliente"]["nome"] == nome


def test_a_missing_or_empty_field_is_written_empty_and_read_as_none(sandbox: TestSandbox) -> None:
    sandbox.data["clientes"] = {"1": {"id": "1", "nome": "Ação"}, "2": {"id": "2", "nome": "",
                                                                       "cidade": "Recife"}}
    assert call(sandbox, "BuscaCliente", id="1") == {"id": "1", "nome": "Ação", "cidade": None}
    assert call(sandbox, "ListaClientes", cidade="Recife") == [
        {"id": "2", "nome": None, "cidade": "Recife"}]
    assert call(sandbox, "ListaClientes", cidade="Natal") == []


def test_answers_are_iso_8859_1_with_character_references_for_the_rest(
        sandbox: TestSandbox) -> None:
    sandbox.data["clientes"] = {"1": {"id": "1", "nome": "Ação €", "cidade": ""}}
    answer = post(sandbox, envelope("<BuscaCliente><id>1</id></BuscaCliente>"))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/xml; charset=ISO-8859-1"
    assert answer.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert "Ação &#8364;".encode("latin-1") in answer.content
    root = etree.fromstring(answer.content)
    assert root.get(f"{{{SOAP_ENV}}}encodingStyle") == "http://schemas.xmlsoap.org/soap/encoding/"
    result = root.find(f"{{{SOAP_ENV}}}Body/{{{NS}}}BuscaClienteResponse/return")
    assert result is not None
    assert [(c.tag, c.text or "") for c in result] == [
        ("id", "1"), ("nome", "Ação €"), ("cidade", "")]


def test_an_array_answer_names_its_type_and_length(sandbox: TestSandbox) -> None:
    sandbox.data["clientes"] = {str(i): {"id": str(i)} for i in (1, 2)}
    answer = post(sandbox, envelope("<ListaClientes><cidade/></ListaClientes>"))
    result = etree.fromstring(answer.content).find(f".//{{{NS}}}ListaClientesResponse/return")
    assert result is not None
    xsi = "{http://www.w3.org/2001/XMLSchema-instance}"
    enc = "{http://schemas.xmlsoap.org/soap/encoding/}"
    assert result.get(f"{xsi}type") == "tns:ArrayOfCliente"
    assert result.get(f"{enc}arrayType") == "tns:Cliente[2]"
    assert [item.get(f"{xsi}type") for item in result] == ["tns:Cliente"] * 2


def test_requests_in_latin1_nil_params_and_encoded_arrays_are_read(sandbox: TestSandbox) -> None:
    body = envelope('<GravaCliente><cliente><nome>Jo\u00e3o</nome><cidade xsi:nil="true"/>'
                    "</cliente></GravaCliente>", prolog="").encode("latin-1")
    assert post(sandbox, body, "text/xml; charset=ISO-8859-1").status_code == 200
    declared = envelope("<ListaClientes><cidade>S\u00e3o Paulo</cidade><extra "
                        'enc:arrayType="xsd:string[2]"><item>a</item><item/></extra>'
                        "</ListaClientes>", '<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert post(sandbox, declared.encode("latin-1")).status_code == 200
    nil = envelope('<BuscaCliente><id xsi:nil="true"/></BuscaCliente>')
    assert fault_of(post(sandbox, nil))[0] == "SOAP-ENV:Client.NaoEncontrado"
    assert sandbox.data["seen"] == [
        {"cliente": {"nome": "João", "cidade": None}},
        {"cidade": "São Paulo", "extra": ["a", ""]},
        {"id": None},
    ]


# -- faults --------------------------------------------------------------------------------------


def test_a_fault_reaches_the_client_as_a_platform_error_with_its_code(
        sandbox: TestSandbox) -> None:
    with pytest.raises(PlatformError) as caught:
        call(sandbox, "BuscaCliente", id="404")
    assert caught.value.code == "SOAP-ENV:Client.NaoEncontrado"
    assert caught.value.causes == ("Cliente não encontrado",)


def test_an_operation_the_service_lacks_is_a_client_fault(sandbox: TestSandbox) -> None:
    CACHE.add(sandbox.wsdl_url, wsdl(SERVICE, f"{sandbox.url}{PATH}"))  # read before the change
    sandbox.service = SERVICE.without("ListaClientes")
    with pytest.raises(PlatformError) as caught:
        call(sandbox, "ListaClientes", cidade="")  # the client read the full WSDL before
    assert caught.value.code == "SOAP-ENV:Client"
    assert caught.value.causes == (
        "Operation 'ListaClientes' is not defined in the WSDL for this service",)
    answer = post(sandbox, envelope("<Inexistente/>"))
    assert answer.status_code == 500
    assert fault_of(answer) == (
        "SOAP-ENV:Client", "Operation 'Inexistente' is not defined in the WSDL for this service")
    sandbox.reset()
    assert sandbox.service.operation("ListaClientes") is None  # the instance's choice stays


@pytest.mark.parametrize("prolog", [
    '<!DOCTYPE soap:Envelope [<!ENTITY x "y">]>',
    '<!DOCTYPE soap:Envelope SYSTEM "file:///etc/passwd">',
    ('<!DOCTYPE soap:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
     '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'),
])
def test_a_request_with_a_doctype_is_refused_unread(sandbox: TestSandbox, prolog: str) -> None:
    body = envelope("<BuscaCliente><id>&c;</id></BuscaCliente>"
                    if "&b;" in prolog else "<BuscaCliente><id>1</id></BuscaCliente>",
                    prolog=f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}\n')
    answer = post(sandbox, body)
    assert answer.status_code == 500
    assert fault_of(answer) == ("SOAP-ENV:Client", "A DOCTYPE is not allowed in a SOAP message")
    assert sandbox.data["seen"] == []


def test_a_body_that_is_no_xml_or_has_no_call_is_a_client_fault(sandbox: TestSandbox) -> None:
    for body in ("not xml", envelope("")):
        answer = post(sandbox, body)
        assert answer.status_code == 500 and fault_of(answer)[0] == "SOAP-ENV:Client"


def test_a_crashing_handler_is_kept_and_answered_as_a_server_fault(sandbox: TestSandbox) -> None:
    answer = post(sandbox, envelope("<BuscaCliente><id>boom</id></BuscaCliente>"))
    assert answer.status_code == 500 and fault_of(answer)[0] == "SOAP-ENV:Server"
    assert [str(e) for e in sandbox.errors] == ["a bug in the sandbox"]
    sandbox.errors.clear()


def test_knobs_give_server_faults_and_cut_answers(sandbox: TestSandbox) -> None:
    sandbox.inject(Fault.SERVER_ERROR, where=lambda method, path: method == "POST")
    with pytest.raises(PlatformError) as caught:
        call(sandbox, "BuscaCliente", id="1")
    assert caught.value.code == "SOAP-ENV:Server"
    sandbox.inject(Fault.MALFORMED, where=lambda method, path: method == "POST")
    with pytest.raises(TransientError, match="no valid SOAP"):
        call(sandbox, "ListaClientes", cidade="")


def test_over_the_rate_limit_a_proxy_answers_429_in_html(sandbox: TestSandbox) -> None:
    CACHE.add(sandbox.wsdl_url, wsdl(SERVICE, f"{sandbox.url}{PATH}"))
    sandbox.configure(rate_limits=(Window(1, 60),), time_scale=1.0)
    assert post(sandbox, envelope("<ListaClientes><cidade/></ListaClientes>")).status_code == 200
    refused = post(sandbox, envelope("<ListaClientes><cidade/></ListaClientes>"))
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("text/html")
    assert 0 < float(refused.headers["Retry-After"]) <= 60
    assert b"Envelope" not in refused.content

    # Through the core's clients, as a plugin calls: the 429 never reaches zeep.
    options = HttpOptions(retry=RetryPolicy(attempts=1, max_retry_after=1.0))

    async def run(http: httpx.Client) -> None:
        async with async_http_client(options) as async_http:
            client = soap_client(sandbox.wsdl_url, http=http, async_http=async_http, cache=CACHE)
            await client.service.ListaClientes(cidade="")

    with http_client(options) as http, pytest.raises(RateLimitedError, match="429"):
        asyncio.run(run(http))


def test_another_path_is_an_html_404(sandbox: TestSandbox) -> None:
    answer = httpx.get(f"{sandbox.url}/ws/outro.php", timeout=5.0)
    assert answer.status_code == 404 and answer.headers["Content-Type"].startswith("text/html")


# -- the WSDL ------------------------------------------------------------------------------------


def _declared(document: bytes) -> dict[str, set[str]]:
    """Operation names per part of a WSDL: portType, binding, messages."""
    root = etree.fromstring(document)
    w = f"{{{WSDL_NS}}}"
    return {
        "portType": {op.get("name") or "" for op in root.iterfind(f"{w}portType/{w}operation")},
        "binding": {op.get("name") or "" for op in root.iterfind(f"{w}binding/{w}operation")},
        "messages": {(m.get("name") or "").removesuffix("Request")
                     for m in root.iterfind(f"{w}message")
                     if (m.get("name") or "").endswith("Request")},
    }


def test_the_wsdl_parses_and_declares_every_operation_nusoap_style(sandbox: TestSandbox) -> None:
    answer = httpx.get(sandbox.wsdl_url, timeout=5.0)
    assert answer.headers["Content-Type"] == "text/xml; charset=ISO-8859-1"
    names = {op.name for op in SERVICE.operations}
    assert _declared(answer.content) == {"portType": names, "binding": names, "messages": names}
    root = etree.fromstring(answer.content)
    assert root.nsmap[None] == WSDL_NS and root.get("targetNamespace") == NS
    assert root.nsmap["tns"] == NS and root.nsmap["SOAP-ENC"].endswith("/soap/encoding/")
    location = root.find(f".//{{{WSDL_NS}}}service/{{{WSDL_NS}}}port/"
                         "{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert location is not None and location.get("location") == f"{sandbox.url}{PATH}"
    actions = [op.get("soapAction") for op in root.iter(
        "{http://schemas.xmlsoap.org/wsdl/soap/}operation")]
    assert actions == [f"{NS}#{op.name}" for op in SERVICE.operations]
    index = httpx.get(f"{sandbox.url}{PATH}", timeout=5.0)
    assert index.headers["Content-Type"].startswith("text/html")
    assert all(name in index.text for name in names)


def test_without_drops_an_operation_from_the_wsdl(sandbox: TestSandbox) -> None:
    smaller = SERVICE.without("GravaCliente")
    names = {"BuscaCliente", "ListaClientes"}
    assert _declared(wsdl(smaller, "http://loja/ws.php")) == {
        "portType": names, "binding": names, "messages": names}
    assert SERVICE.operation("GravaCliente") is not None
    assert smaller.operation("GravaCliente") is None
    with pytest.raises(ValueError, match="Nada"):
        SERVICE.without("Nada")
    sandbox.service = smaller
    served = httpx.get(sandbox.wsdl_url, timeout=5.0).content
    assert _declared(served)["portType"] == names

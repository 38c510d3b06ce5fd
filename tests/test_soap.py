"""The SOAP client factory against a real loopback SOAP server, honest and hostile."""

from __future__ import annotations

import asyncio
import resource
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from werkzeug.routing import Map, Rule
from zeep.exceptions import Fault as ZeepFault
from zeep.helpers import serialize_object
from zeep.wsdl.bindings import Soap11Binding

from tramo.errors import OutcomeUnknownError, PlatformError, TransientError
from tramo.http import HttpOptions, RetryPolicy, async_http_client, http_client
from tramo.sandbox import Fault, HttpSandbox, Knobs, Request, Response
from tramo.soap import WSDL_CACHE, SoapFaultError, UnsafeXmlError, WsdlCache, soap_client

NS = "urn:tramo:test"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XML = "text/xml; charset=utf-8"

WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="urn:tramo:test" targetNamespace="urn:tramo:test">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:tramo:test" elementFormDefault="qualified">
      {imports}
      <xsd:element name="Echo"><xsd:complexType><xsd:sequence>
        <xsd:element name="text" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="EchoResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="text" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="Sum"><xsd:complexType><xsd:sequence>
        <xsd:element name="a" type="xsd:long"/><xsd:element name="b" type="xsd:long"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="SumResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="total" type="xsd:long"/></xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="EchoIn"><wsdl:part name="body" element="tns:Echo"/></wsdl:message>
  <wsdl:message name="EchoOut"><wsdl:part name="body" element="tns:EchoResponse"/></wsdl:message>
  <wsdl:message name="SumIn"><wsdl:part name="body" element="tns:Sum"/></wsdl:message>
  <wsdl:message name="SumOut"><wsdl:part name="body" element="tns:SumResponse"/></wsdl:message>
  <wsdl:portType name="TestPort">
    <wsdl:operation name="Echo">
      <wsdl:input message="tns:EchoIn"/><wsdl:output message="tns:EchoOut"/></wsdl:operation>
    <wsdl:operation name="Sum">
      <wsdl:input message="tns:SumIn"/><wsdl:output message="tns:SumOut"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="TestBinding" type="tns:TestPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Echo"><soap:operation soapAction="urn:tramo:test#Echo"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
    <wsdl:operation name="Sum"><soap:operation soapAction="urn:tramo:test#Sum"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="TestService"><wsdl:port name="TestPort" binding="tns:TestBinding">
    <soap:address location="{url}/service"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""


def envelope(body: str, prolog: str = "") -> bytes:
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    start = f'{declaration}{prolog}<soap:Envelope xmlns:soap="{SOAP_ENV}">'
    return f"{start}<soap:Body>{body}</soap:Body></soap:Envelope>".encode()


def echo_answer(text: str) -> str:
    return f'<EchoResponse xmlns="{NS}"><text>{text}</text></EchoResponse>'


def billion_laughs(root: str) -> str:
    """A DTD whose entity lol9 expands to 10^9 'lol's (3 GB), for a document rooted at ``root``."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return f"<!DOCTYPE {root} [\n" + "\n".join(entities) + "\n]>\n"


class SoapSandbox(HttpSandbox):
    """A document/literal SOAP service with Echo and Sum, or any answer a test scripts."""

    plugin = "soap_test"
    url_map = Map([Rule("/service", endpoint="service"), Rule("/doc/<name>", endpoint="document")])

    def fresh_data(self) -> dict[str, Any]:
        # reply: (status, body) answered to every operation instead of the real answer;
        # documents: served at /doc/<name>, for WSDLs a test writes
        return {"reply": None, "documents": {}}

    @property
    def settings(self) -> dict[str, Any]:
        return {"wsdl_url": self.wsdl_url}

    @property
    def wsdl_url(self) -> str:
        return f"{self.url}/service?wsdl"

    def on_document(self, request: Request, name: str) -> Response:
        return Response(self.data["documents"][name], content_type=XML)

    def on_service(self, request: Request) -> Response:
        if request.method == "GET":
            return Response(WSDL.format(url=self.url, imports=""), content_type=XML)
        self.data["received"] = (request.headers.get("Content-Type", ""), request.get_data())
        if self.data["reply"] is not None:
            status, body = self.data["reply"]
            return Response(body, status, content_type=XML)
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        operation = etree.fromstring(request.get_data(), parser).find(f"{{{SOAP_ENV}}}Body")[0]
        values = {etree.QName(child).localname: child.text or "" for child in operation}
        name = etree.QName(operation).localname
        answer = etree.Element(f"{{{NS}}}{name}Response", nsmap={None: NS})
        if name == "Echo":
            etree.SubElement(answer, f"{{{NS}}}text").text = values["text"]
        else:
            total = int(values["a"]) + int(values["b"])
            etree.SubElement(answer, f"{{{NS}}}total").text = str(total)
        return Response(envelope(etree.tostring(answer, encoding="unicode")), content_type=XML)


@pytest.fixture(scope="module")
def platform() -> Iterator[SoapSandbox]:
    with SoapSandbox(Knobs(hang=1.0)) as running:
        yield running


@pytest.fixture
def sandbox(platform: SoapSandbox) -> SoapSandbox:
    platform.reset()
    return platform


@pytest.fixture
def cache() -> WsdlCache:
    return WsdlCache()


def calls(wsdl_url: str, cache: WsdlCache, *operations: tuple[str, dict[str, Any]]) -> list[Any]:
    """Build a client as a plugin does and make these operations through it."""
    async def run() -> list[Any]:
        async with httpx.AsyncClient() as async_http:
            client = soap_client(wsdl_url, http=http, async_http=async_http, cache=cache,
                                 operation_timeout=5.0)
            return [await client.service[name](**arguments) for name, arguments in operations]

    with httpx.Client() as http:
        return asyncio.run(run())


def call(wsdl_url: str, operation: str, cache: WsdlCache, **arguments: Any) -> Any:
    return calls(wsdl_url, cache, (operation, arguments))[0]


def full_text(exc: BaseException) -> str:
    """Everything a traceback of ``exc`` would print, causes included."""
    return "".join(traceback.format_exception(exc)) + repr(exc)


# -- honest platform ---------------------------------------------------------------

def test_operations_round_trip_and_the_connection_clients_stay_as_they_were(
        sandbox: SoapSandbox, cache: WsdlCache) -> None:
    async def run(http: httpx.Client) -> tuple[Any, ...]:
        async with httpx.AsyncClient(headers={"User-Agent": "tramo-test"}) as async_http:
            async with soap_client(sandbox.wsdl_url, http=http, async_http=async_http,
                                   cache=cache) as client:
                echoed = await client.service.Echo(text="olá, ação & <coração>")
                total = await client.service.Sum(a=40, b=2)
            return echoed, total, async_http.is_closed, async_http.headers["User-Agent"]

    with httpx.Client(headers={"User-Agent": "tramo-test"}) as http:
        assert asyncio.run(run(http)) == ("olá, ação & <coração>", 42, False, "tramo-test")
        assert http.headers["User-Agent"] == "tramo-test"
    assert len(sandbox.calls_to("/service", "POST")) == 2


def test_a_local_copy_of_the_wsdl_is_read_from_disk_and_calls_go_to_the_given_address(
        sandbox: SoapSandbox, cache: WsdlCache, tmp_path: Path) -> None:
    copy = tmp_path / "service.wsdl"
    copy.write_text(WSDL.format(url="https://wrong.example.com", imports=""), encoding="utf-8")

    async def run(http: httpx.Client) -> Any:
        async with httpx.AsyncClient() as async_http:
            client = soap_client(str(copy), http=http, async_http=async_http, cache=cache,
                                 address=f"{sandbox.url}/service")
            assert client.operations == {"Echo", "Sum"}
            return await client.service.Sum(a=2, b=3)

    with httpx.Client() as http:
        assert asyncio.run(run(http)) == 5
    assert sandbox.calls_to("/service", "GET") == []


def test_requests_go_in_the_charset_the_service_reads(sandbox: SoapSandbox, cache: WsdlCache) -> None:
    async def run(http: httpx.Client) -> Any:
        async with httpx.AsyncClient() as async_http:
            client = soap_client(sandbox.wsdl_url, http=http, async_http=async_http, cache=cache,
                                 encoding="ISO-8859-1")
            return await client.service.Echo(text="Pão de Açúcar €5")

    with httpx.Client() as http:
        assert asyncio.run(run(http)) == "Pão de Açúcar €5"
    content_type, body = sandbox.data["received"]
    assert content_type.endswith("charset=ISO-8859-1")
    assert body.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    assert "Pão de Açúcar".encode("iso-8859-1") in body and b"&#8364;5" in body


def test_two_clients_for_one_wsdl_fetch_it_once_until_the_cache_is_cleared(
        sandbox: SoapSandbox) -> None:
    WSDL_CACHE.clear()
    try:
        with httpx.Client() as http:
            async_http = httpx.AsyncClient()
            for _ in range(2):
                soap_client(sandbox.wsdl_url, http=http, async_http=async_http)
            assert len(sandbox.calls_to("/service", "GET")) == 1
            WSDL_CACHE.clear()
            soap_client(sandbox.wsdl_url, http=http, async_http=async_http)
            assert len(sandbox.calls_to("/service", "GET")) == 2
    finally:
        WSDL_CACHE.clear()


def test_the_wsdl_cache_keeps_the_newest_few_for_a_while() -> None:
    now = [0.0]
    cache = WsdlCache(max_entries=2, max_age=60, clock=lambda: now[0])
    for url in ("a", "b", "c"):
        cache.add(url, url.encode())
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, b"b", b"c")
    now[0] = 61
    assert cache.get("b") is None


# Any text XML 1.0 can carry; an empty one comes back as None (zeep reads <text/> so).
XML_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n\r"),
    min_size=1, max_size=40)


@given(text=XML_TEXT, a=st.integers(-2**62, 2**62), b=st.integers(-2**62, 2**62))
def test_any_text_and_any_numbers_round_trip_unchanged(
        platform: SoapSandbox, text: str, a: int, b: int) -> None:
    platform.reset()
    operations = ("Echo", {"text": text}), ("Sum", {"a": a, "b": b})
    assert calls(platform.wsdl_url, WSDL_CACHE, *operations) == [text, a + b]


# -- platform errors and transport failures ---------------------------------------

def test_a_soap_fault_is_a_platform_error_with_its_code(
        sandbox: SoapSandbox, cache: WsdlCache) -> None:
    sandbox.data["reply"] = (500, envelope(
        "<soap:Fault><faultcode>soap:Client</faultcode>"
        "<faultstring>pid_loja inválido</faultstring></soap:Fault>"))
    with pytest.raises(SoapFaultError) as caught:
        call(sandbox.wsdl_url, "Echo", cache, text="x")
    assert isinstance(caught.value, PlatformError) and "'Echo'" in str(caught.value)
    assert caught.value.code == "soap:Client" and caught.value.causes == ("pid_loja inválido",)
    assert (caught.value.fault, caught.value.operation) == ("pid_loja inválido", "Echo")


@pytest.mark.parametrize(("read", "error"), [(True, TransientError), (False, OutcomeUnknownError)])
def test_a_hanging_operation_ends_in_a_typed_error_and_the_client_goes_on(
        sandbox: SoapSandbox, cache: WsdlCache, read: bool, error: type[Exception]) -> None:
    # A read that took too long is worth another try; a write may have landed.
    sandbox.configure(hang=1.0)
    sandbox.inject(Fault.TIMEOUT, where=lambda method, path: method == "POST")

    async def run(http: httpx.Client) -> Any:
        async with httpx.AsyncClient() as async_http:
            client = soap_client(sandbox.wsdl_url, http=http, async_http=async_http, cache=cache,
                                 operation_timeout=0.3, idempotent=lambda name: read)
            with pytest.raises(error, match="'Sum'.*longer than 0.3 s"):
                await client.service.Sum(a=1, b=2)
            return await client.service.Sum(a=1, b=2)

    with httpx.Client() as http:
        assert asyncio.run(run(http)) == 3


@pytest.mark.parametrize("fault", [Fault.SERVER_ERROR, Fault.DROPPED, Fault.MALFORMED])
def test_transport_failures_are_transient(
        sandbox: SoapSandbox, cache: WsdlCache, fault: Fault) -> None:
    sandbox.inject(fault, where=lambda method, path: method == "POST")
    with pytest.raises(TransientError, match="'Echo'"):
        call(sandbox.wsdl_url, "Echo", cache, text="x")


def test_a_wsdl_that_cannot_be_fetched_is_transient_and_not_cached(
        sandbox: SoapSandbox, cache: WsdlCache) -> None:
    sandbox.inject(Fault.SERVER_ERROR)
    with pytest.raises(TransientError, match="WSDL"):
        call(sandbox.wsdl_url, "Echo", cache, text="x")
    assert call(sandbox.wsdl_url, "Echo", cache, text="x") == "x"


def test_over_the_core_clients_a_fault_is_still_a_platform_error(
        sandbox: SoapSandbox, cache: WsdlCache) -> None:
    fast = HttpOptions(retry=RetryPolicy(attempts=3, backoff=0.001, max_backoff=0.01))
    sandbox.inject(Fault.SERVER_ERROR, where=lambda method, path: method == "GET")
    sandbox.inject(Fault.SERVER_ERROR, where=lambda method, path: method == "POST")

    async def run(http: httpx.Client) -> Any:
        async with async_http_client(fast) as async_http:
            client = soap_client(sandbox.wsdl_url, http=http, async_http=async_http, cache=cache)
            with pytest.raises(OutcomeUnknownError):  # a 500 that is no fault: maybe applied
                await client.service.Sum(a=1, b=2)
            sandbox.data["reply"] = (500, envelope(
                "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>x</faultstring>"
                "</soap:Fault>"))
            with pytest.raises(PlatformError) as caught:
                await client.service.Sum(a=1, b=2)
            return caught.value.code

    with http_client(fast) as http:
        assert asyncio.run(run(http)) == "soap:Client"
    assert len(sandbox.calls_to("/service", "GET")) == 2  # the WSDL was fetched again after a 503


def test_a_read_is_retried_after_a_5xx_but_a_fault_is_the_answer_and_is_not(
        sandbox: SoapSandbox, cache: WsdlCache) -> None:
    fast = HttpOptions(retry=RetryPolicy(attempts=3, backoff=0.001, max_backoff=0.01))
    sandbox.inject(Fault.SERVER_ERROR, where=lambda method, path: method == "POST")

    async def run(http: httpx.Client) -> Any:
        async with async_http_client(fast) as async_http:
            client = soap_client(sandbox.wsdl_url, http=http, async_http=async_http, cache=cache,
                                 idempotent=lambda name: name == "Sum")
            assert await client.service.Sum(a=1, b=2) == 3  # a 503, then the answer
            sandbox.data["reply"] = (500, envelope(
                "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>x</faultstring>"
                "</soap:Fault>"))
            with pytest.raises(PlatformError):
                await client.service.Sum(a=1, b=2)
            sandbox.data["reply"] = (500, envelope(
                "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>x</faultstring>"
                "</soap:Fault>"))
            with pytest.raises(TransientError):  # the service's own trouble: tried again
                await client.service.Sum(a=1, b=2)

    with http_client(fast) as http:
        asyncio.run(run(http))
    # 503 + answer, one Client fault, then three tries that met a Server fault
    assert len(sandbox.calls_to("/service", "POST")) == 6


# -- hostile platform --------------------------------------------------------------

@pytest.mark.parametrize("prolog", [
    "<!DOCTYPE wsdl:definitions>\n",
    '<!-- types --><!DOCTYPE wsdl:definitions [<!ENTITY store "Loja">]>\n',
    billion_laughs("wsdl:definitions"),
])
def test_a_wsdl_with_a_dtd_is_refused(sandbox: SoapSandbox, cache: WsdlCache, prolog: str) -> None:
    wsdl = WSDL.format(url=sandbox.url, imports="").replace("\n", f"\n{prolog}", 1)
    if "lol9" in prolog:
        wsdl = wsdl.replace("</wsdl:types>", "</wsdl:types>&lol9;")
    sandbox.data["documents"]["evil.wsdl"] = wsdl
    url = f"{sandbox.url}/doc/evil.wsdl?token=s3cr3t"
    with pytest.raises(UnsafeXmlError, match="a DTD") as caught:
        call(url, "Echo", cache, text="x")
    assert "/doc/evil.wsdl" in str(caught.value) and "s3cr3t" not in full_text(caught.value)
    assert cache.get(url) is None


def test_a_wsdl_importing_another_document_is_refused_without_fetching_it(
        sandbox: SoapSandbox, cache: WsdlCache, tmp_path: Path) -> None:
    local = tmp_path / "types.xsd"
    local.write_text('<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>')
    for location in (f"{sandbox.url}/doc/types.xsd", local.as_uri(), "/etc/hosts"):
        imports = f'<xsd:import namespace="urn:other" schemaLocation="{location}"/>'
        sandbox.data["documents"]["importing.wsdl"] = WSDL.format(url=sandbox.url, imports=imports)
        with pytest.raises(UnsafeXmlError, match="reference to another document"):
            call(f"{sandbox.url}/doc/importing.wsdl", "Echo", cache, text="x")
    assert sandbox.calls_to("/doc/types.xsd") == []


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16"])
def test_a_billion_laughs_answer_is_refused_without_expanding_it(
        sandbox: SoapSandbox, cache: WsdlCache, encoding: str) -> None:
    answer = envelope(echo_answer("&lol9;"), billion_laughs("soap:Envelope")).decode()
    sandbox.data["reply"] = (200, answer.replace("UTF-8", encoding).encode(encoding))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UnsafeXmlError, match="'Echo'"):
        call(sandbox.wsdl_url, "Echo", cache, text="x")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown * (1 if sys.platform == "darwin" else 1024) < 256 * 2**20  # expanded: 3 GB


def test_an_answer_too_deep_for_the_parser_is_refused(
        sandbox: SoapSandbox, cache: WsdlCache) -> None:
    sandbox.data["reply"] = (200, envelope(echo_answer("<x>" * 300 + "</x>" * 300)))
    with pytest.raises(UnsafeXmlError, match="beyond the parser's limits"):
        call(sandbox.wsdl_url, "Echo", cache, text="x")


@pytest.mark.parametrize("where", ["answer", "wsdl"])
@pytest.mark.parametrize("declaration", [
    '<!ENTITY xxe SYSTEM "{uri}">',
    '<!ENTITY % xxe SYSTEM "{uri}"> %xxe;',
])
def test_an_external_entity_is_refused_and_the_file_never_shows(
        sandbox: SoapSandbox, cache: WsdlCache, tmp_path: Path, where: str,
        declaration: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-6f1d2c")
    dtd = declaration.format(uri=secret.as_uri())
    entity = "" if "%" in declaration else "&xxe;"
    url = sandbox.wsdl_url
    if where == "answer":  # in an element's text
        prolog = f"<!DOCTYPE soap:Envelope [{dtd}]>\n"
        sandbox.data["reply"] = (200, envelope(echo_answer(entity), prolog))
    else:  # in an attribute, which lxml reports only as a syntax error
        wsdl = WSDL.format(url=sandbox.url, imports="").replace(
            'type="xsd:string"/>', f'type="xsd:string" default="{entity}"/>', 1)
        wsdl = wsdl.replace("\n", f"\n<!DOCTYPE wsdl:definitions [{dtd}]>\n", 1)
        sandbox.data["documents"]["xxe.wsdl"] = wsdl
        url = f"{sandbox.url}/doc/xxe.wsdl"
    with pytest.raises(UnsafeXmlError, match="a DTD") as caught:
        call(url, "Echo", cache, text="x")
    assert "TOP-SECRET" not in full_text(caught.value)


# -- rpc answers read by the WSDL's shapes, as zeep reads them ---------------------------------

RPC_NS = "urn:tramo:rpc"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
RPC_TYPES = """
<xsd:complexType name="Rec"><xsd:all><xsd:element name="id" type="xsd:string"/>
  <xsd:element name="name" type="xsd:string"/><xsd:element name="note" type="xsd:string"/>
</xsd:all></xsd:complexType>
<xsd:complexType name="Pair"><xsd:all><xsd:element name="a" type="xsd:string"/>
  <xsd:element name="b" type="xsd:string"/></xsd:all></xsd:complexType>
<xsd:complexType name="One"><xsd:all><xsd:element name="only" type="xsd:string"/>
</xsd:all></xsd:complexType>
<xsd:complexType name="Box"><xsd:sequence><xsd:element name="label" type="xsd:string"/>
  <xsd:element name="tag" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>
  <xsd:element name="pair" type="tns:Pair"/></xsd:sequence></xsd:complexType>
<xsd:complexType name="Typed"><xsd:all><xsd:element name="count" type="xsd:int"/>
  <xsd:element name="name" type="xsd:string"/></xsd:all></xsd:complexType>
<xsd:complexType name="ArrayOfRec"><xsd:complexContent><xsd:restriction base="SOAP-ENC:Array">
  <xsd:attribute ref="SOAP-ENC:arrayType" wsdl:arrayType="tns:Rec[]"/>
</xsd:restriction></xsd:complexContent></xsd:complexType>
<xsd:complexType name="ArrayOfString"><xsd:complexContent><xsd:restriction base="SOAP-ENC:Array">
  <xsd:attribute ref="SOAP-ENC:arrayType" wsdl:arrayType="xsd:string[]"/>
</xsd:restriction></xsd:complexContent></xsd:complexType>"""
#: operation: its answer's parts (name, type)
RPC_OPERATIONS = {
    "GetRec": [("return", "tns:Rec")], "ListRec": [("return", "tns:ArrayOfRec")],
    "ListText": [("return", "tns:ArrayOfString")], "GetOne": [("return", "tns:One")],
    "GetBox": [("return", "tns:Box")], "GetTyped": [("return", "tns:Typed")],
    "GetTwo": [("pair", "tns:Pair"), ("code", "xsd:string")],
}


def rpc_wsdl(address: str) -> str:
    """A NuSOAP-like rpc/encoded WSDL: every operation takes ``id`` and answers its parts."""
    body = f'<soap:body use="encoded" namespace="{RPC_NS}" encodingStyle="{SOAP_ENC}"/>'
    messages, ports, bindings = [], [], []
    for name, parts in RPC_OPERATIONS.items():
        answer = "".join(f'<wsdl:part name="{part}" type="{kind}"/>' for part, kind in parts)
        messages.append(f'<wsdl:message name="{name}In"><wsdl:part name="id" type="xsd:string"/>'
                        f'</wsdl:message><wsdl:message name="{name}Out">{answer}</wsdl:message>')
        ports.append(f'<wsdl:operation name="{name}"><wsdl:input message="tns:{name}In"/>'
                     f'<wsdl:output message="tns:{name}Out"/></wsdl:operation>')
        bindings.append(f'<wsdl:operation name="{name}"><soap:operation soapAction="{name}" '
                        f'style="rpc"/><wsdl:input>{body}</wsdl:input>'
                        f'<wsdl:output>{body}</wsdl:output></wsdl:operation>')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:SOAP-ENC="{SOAP_ENC}" xmlns:tns="{RPC_NS}" targetNamespace="{RPC_NS}">
  <wsdl:types><xsd:schema targetNamespace="{RPC_NS}">
    <xsd:import namespace="{SOAP_ENC}"/><xsd:import namespace="http://schemas.xmlsoap.org/wsdl/"/>
    {RPC_TYPES}</xsd:schema></wsdl:types>
  {"".join(messages)}
  <wsdl:portType name="RpcPort">{"".join(ports)}</wsdl:portType>
  <wsdl:binding name="RpcBinding" type="tns:RpcPort">
    <soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>
    {"".join(bindings)}</wsdl:binding>
  <wsdl:service name="RpcService"><wsdl:port name="RpcPort" binding="tns:RpcBinding">
    <soap:address location="{address}"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"""


def rpc_envelope(operation: str, parts: str) -> bytes:
    """An answer as NuSOAP writes one: every namespace NuSOAP declares, the parts unqualified."""
    return (f'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" '
            f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="{XSI}" '
            f'xmlns:SOAP-ENC="{SOAP_ENC}" xmlns:tns="{RPC_NS}"><SOAP-ENV:Body>'
            f'<ns1:{operation}Response xmlns:ns1="{RPC_NS}">{parts}</ns1:{operation}Response>'
            "</SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


@pytest.fixture(scope="module")
def rpc_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A client for the rpc WSDL, read from disk; its answers are handed to its binding directly."""
    path = tmp_path_factory.mktemp("rpc") / "rpc.wsdl"
    path.write_text(rpc_wsdl("http://127.0.0.1:9/rpc"), encoding="utf-8")
    with httpx.Client() as http:
        yield soap_client(str(path), http=http, async_http=httpx.AsyncClient(), cache=WsdlCache(),
                          address="http://127.0.0.1:9/rpc")


def read_both(client: Any, operation: str, content: bytes, status: int = 200) -> tuple[Any, Any]:
    """The answer read by the client's binding, and by zeep's own reading: plain, or the error
    (a fault with its code and text; other errors by their type, worded a little differently)."""
    binding = client.service._binding
    found = binding.get(operation)

    def read(process_reply: Any) -> Any:
        answer = httpx.Response(status, content=content, headers={"Content-Type": XML})
        try:
            return serialize_object(process_reply(binding, client, found, answer), dict)
        except Exception as exc:  # noqa: BLE001 - compared
            return (ZeepFault, exc.code, exc.message) if isinstance(exc, ZeepFault) else type(exc)

    return read(type(binding).process_reply), read(Soap11Binding.process_reply)


def leaf(name: str, value: str | None, typed: bool) -> str:
    """A string field: None is xsi:nil, else its text (escaped), typed as NuSOAP types it or not."""
    kind = ' xsi:type="xsd:string"' if typed else ""
    if value is None:
        return f'<{name}{kind} xsi:nil="true"/>'
    return f"<{name}{kind}>{escape(value)}</{name}>"


# A field sent with a text, as nil, or not at all; NuSOAP's xsi:type or none.
FIELD = st.one_of(st.none(), st.just(""), XML_TEXT, st.just(" padded "))
RECORD = st.lists(st.tuples(st.sampled_from(["id", "name", "note"]), FIELD, st.booleans()),
                  max_size=4)


def record_xml(tag: str, fields: list[tuple[str, str | None, bool]], typed: bool) -> str:
    kind = ' xsi:type="tns:Rec"' if typed else ""
    return f"<{tag}{kind}>{''.join(leaf(*field) for field in fields)}</{tag}>"


def test_plain_rpc_answers_are_read_without_zeep_and_the_rest_by_zeep(rpc_client: Any) -> None:
    binding = rpc_client.service._binding
    plain = {name for name in RPC_OPERATIONS if binding._reader(binding.get(name)) is not None}
    assert plain == set(RPC_OPERATIONS) - {"GetTyped"}  # an xsd:int is zeep's to convert
    answer = rpc_envelope("GetTyped", "<return><count>7</count><name>x</name></return>")
    assert read_both(rpc_client, "GetTyped", answer) == ({"count": 7, "name": "x"},) * 2


@given(fields=RECORD, typed=st.booleans())
def test_a_struct_of_text_reads_as_zeep_reads_it(
        rpc_client: Any, fields: list[tuple[str, str | None, bool]], typed: bool) -> None:
    # any order, fields missing, nil (not consulted), empty, sent twice (the first counts),
    # typed or not; with neither fields nor attributes it is None
    answer = rpc_envelope("GetRec", record_xml("return", fields, typed))
    ours, zeeps = read_both(rpc_client, "GetRec", answer)
    assert ours == zeeps
    assert set(ours) == {"id", "name", "note"} if fields or typed else ours is None


@given(records=st.lists(RECORD, max_size=4), nil=st.booleans())
def test_an_array_of_structs_reads_as_zeep_reads_it(
        rpc_client: Any, records: list[list[tuple[str, str | None, bool]]], nil: bool) -> None:
    items = "".join(record_xml("item", fields, typed=True) for fields in records)
    shape = f'SOAP-ENC:arrayType="tns:Rec[{len(records)}]" xsi:type="tns:ArrayOfRec"'
    part = f'<return {shape} xsi:nil="true"/>' if nil and not records else \
        f"<return {shape}>{items}</return>"
    ours, zeeps = read_both(rpc_client, "ListRec", rpc_envelope("ListRec", part))
    assert ours == zeeps and len(ours) == len(records)


@pytest.mark.parametrize(("operation", "parts"), [
    ("ListText", ('<return SOAP-ENC:arrayType="xsd:string[3]">'
                  '<item xsi:type="xsd:string">a</item><item xsi:type="xsd:string"></item>'
                  '<item xsi:type="xsd:string">c</item></return>')),  # the empty one left out
    ("GetOne", "<return><only>just this</only></return>"),  # a one-field struct is its field
    ("GetOne", '<return xsi:nil="true"/>'),
    ("GetOne", ""),
    ("GetTwo", "<pair><b>2</b><a>1</a></pair><code>42</code>"),  # two parts: a struct of them
    ("GetTwo", "<code>42</code><pair><b>2</b><a>1</a></pair>"),  # refused: parts in order
    ("GetBox", "<return><tag>t</tag><label>L</label></return>"),  # a sequence, in order
    ("GetBox", "<return><label>L</label><label>M</label></return>"),
    ("GetTwo", "<pair><a>1</a></pair>"),
    ("GetBox", ("<return><label>L</label><tag>t1</tag><tag>t2</tag>"
                "<pair><a>x</a><b>y</b></pair></return>")),
    ("GetBox", "<return><label>L</label><pair/></return>"),
    ("GetRec", "<return><id>1</id><name><b>bold</b> tail</name></return>"),  # mixed content
    ("GetRec", "<return><id>1</id><bogus>x</bogus></return>"),  # refused, as zeep refuses
    ("GetRec", "<return/><extra/>"),
    ("GetRec", "<!-- a comment --><return><id>1<!-- inside --></id></return>"),
])
def test_other_answers_read_as_zeep_reads_them(rpc_client: Any, operation: str, parts: str) -> None:
    ours, zeeps = read_both(rpc_client, operation, rpc_envelope(operation, parts))
    assert ours == zeeps


def test_array_items_without_xsi_type_are_read_as_the_declared_item(rpc_client: Any) -> None:
    # zeep leaves such items as raw lxml elements; the WSDL says what they are
    answer = rpc_envelope("ListRec", "<return><item><id>1</id></item>"
                                     "<rec><note>n</note></rec></return>")
    ours, zeeps = read_both(rpc_client, "ListRec", answer)
    assert ours == [{"id": "1", "name": None, "note": None},
                    {"id": None, "name": None, "note": "n"}]
    assert all(isinstance(item, etree._Element) for item in zeeps)


@pytest.mark.parametrize("status", [200, 500])
def test_a_fault_in_a_plain_answer_is_zeeps_fault(rpc_client: Any, status: int) -> None:
    fault = envelope("<soap:Fault><faultcode>soap:Client.Dados</faultcode>"
                     "<faultstring>id inválido</faultstring></soap:Fault>")
    ours, zeeps = read_both(rpc_client, "GetRec", fault, status)
    assert ours == zeeps == (ZeepFault, "soap:Client.Dados", "id inválido")


@pytest.mark.parametrize("answer", [
    rpc_envelope("GetRec", "<return><id>&lol9;</id></return>").replace(
        b"?>", b"?>" + billion_laughs("SOAP-ENV:Envelope").encode(), 1),
    rpc_envelope("GetRec", "<return><id>" + "<x>" * 300 + "</x>" * 300 + "</id></return>"),
    rpc_envelope("GetRec", "<return><id>1</id>"),  # cut short
    b"<html>Bad gateway</html>",
])
def test_unsafe_or_broken_plain_answers_fail_as_zeep_fails(rpc_client: Any, answer: bytes) -> None:
    # the transport refuses a DTD before any reading; the binding itself still parses as zeep
    ours, zeeps = read_both(rpc_client, "GetRec", answer)
    assert ours == zeeps and isinstance(ours, type) and issubclass(ours, Exception)


def test_over_the_wire_a_plain_answer_a_fault_and_a_bomb_end_as_before(
        sandbox: SoapSandbox, cache: WsdlCache) -> None:
    sandbox.data["documents"]["rpc.wsdl"] = rpc_wsdl(f"{sandbox.url}/service")
    url = f"{sandbox.url}/doc/rpc.wsdl"
    sandbox.data["reply"] = (200, rpc_envelope("GetRec", '<return xsi:type="tns:Rec">'
                                               "<name>Pão</name><id>7</id></return>"))
    assert call(url, "GetRec", cache, id="7") == {"id": "7", "name": "Pão", "note": None}
    sandbox.data["reply"] = (200, envelope("<soap:Fault><faultcode>soap:Client</faultcode>"
                                           "<faultstring>no</faultstring></soap:Fault>"))
    with pytest.raises(SoapFaultError) as caught:
        call(url, "GetRec", cache, id="7")
    fault = caught.value
    assert (fault.code, fault.fault, fault.operation) == ("soap:Client", "no", "GetRec")
    sandbox.data["reply"] = (200, rpc_envelope("GetRec", "<return><id>" + "<x>" * 300 + "</x>" * 300
                                               + "</id></return>"))
    with pytest.raises(UnsafeXmlError, match="beyond the parser's limits"):
        call(url, "GetRec", cache, id="7")
    sandbox.data["reply"] = (200, rpc_envelope("GetRec", "<return><bogus/></return>"))
    with pytest.raises(PlatformError, match="unusable"):
        call(url, "GetRec", cache, id="7")

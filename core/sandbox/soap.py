"""SOAP sandboxes: a SOAP 1.1 rpc/encoded service on loopback, shaped like PHP's NuSOAP.

Platforms that speak SOAP from PHP (Tray's ``ws_servidor.php``) publish a
NuSOAP WSDL at ``GET <path>?wsdl`` and take every call as ``POST <path>``,
with parameters as untyped child elements and answers typed by ``xsi:type``.
A plugin's sandbox describes its service once (:class:`SoapService`), writes
one ``op_<Name>(params)`` method per operation and raises :class:`SoapFault`
for the platform's refusals; this module serves the WSDL, reads calls safely
and writes answers and faults the way NuSOAP does::

    class StoreSandbox(SoapSandbox):
        plugin = "store_soap"
        service = SERVICE
        path = "/webservice/ws.php"

        def op_GetProduct(self, params: Params) -> dict[str, str]: ...

Everything else (knobs, faults, rate limits, calls seen) comes from
:class:`~tramo.sandbox.http.HttpSandbox`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from xml.sax.saxutils import escape, quoteattr

import attrs
from lxml import etree
from werkzeug.routing import Map, Rule

from tramo.sandbox.base import Fault, Knobs
from tramo.sandbox.http import HttpSandbox, Request, Response, retry_after_header

__all__ = ["Params", "SoapFault", "SoapOperation", "SoapSandbox", "SoapService", "wsdl"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"

#: A call's parameters by name: text, a struct (dict), an array (list), or None (xsi:nil).
Params = dict[str, Any]

_NIL = f"{{{XSI}}}nil"
_TYPE = f"{{{XSI}}}type"
_ARRAY_TYPE = f"{{{SOAP_ENC}}}arrayType"
_DECLARED = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*\bencoding\s*=", re.DOTALL)
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)


# -- the service description ------------------------------------------------------------------


@attrs.frozen
class SoapOperation:
    """One operation: its parameters and answer, each typed ``xsd:string`` or ``tns:<Name>``."""

    name: str
    params: tuple[tuple[str, str], ...]
    returns: str
    #: seen in public clients; False for a name of our own design (documentation only)
    confirmed: bool = False


@attrs.frozen
class SoapService:
    """A whole service: the names NuSOAP derives from ``name``, its types and operations.

    Every struct field is ``xsd:string`` (PHP services answer text); ``arrays``
    name SOAP-encoded arrays of a struct (``{"ArrayOfPedido": "Pedido"}``).
    """

    name: str
    namespace: str
    structs: Mapping[str, tuple[str, ...]]
    arrays: Mapping[str, str]
    operations: tuple[SoapOperation, ...]

    def operation(self, name: str) -> SoapOperation | None:
        """The operation called ``name``, or None when the service lacks it."""
        return next((op for op in self.operations if op.name == name), None)

    def without(self, *names: str) -> SoapService:
        """The same service lacking these operations (a store whose webservice is older)."""
        unknown = set(names) - {op.name for op in self.operations}
        if unknown:
            raise ValueError(f"the service has no operation {', '.join(sorted(unknown))}")
        kept = tuple(op for op in self.operations if op.name not in names)
        return attrs.evolve(self, operations=kept)


def _local(qualified: str) -> str:
    """``tns:Pedido`` -> ``Pedido``."""
    return qualified.rpartition(":")[2]


# -- the WSDL ------------------------------------------------------------------------------------


def _schema(service: SoapService) -> Iterator[str]:
    yield f"<types><xsd:schema targetNamespace={quoteattr(service.namespace)}>"
    yield f'<xsd:import namespace="{SOAP_ENC}"/><xsd:import namespace="{WSDL}"/>'
    for struct, fields in service.structs.items():
        yield f"<xsd:complexType name={quoteattr(struct)}><xsd:all>"
        yield "".join(f'<xsd:element name={quoteattr(f)} type="xsd:string"/>' for f in fields)
        yield "</xsd:all></xsd:complexType>"
    for array, item in service.arrays.items():
        kind = quoteattr(f"tns:{item}[]")
        yield (f"<xsd:complexType name={quoteattr(array)}><xsd:complexContent>"
               '<xsd:restriction base="SOAP-ENC:Array">'
               f'<xsd:attribute ref="SOAP-ENC:arrayType" wsdl:arrayType={kind}/>'
               "</xsd:restriction></xsd:complexContent></xsd:complexType>")
    yield "</xsd:schema></types>"


def _messages(service: SoapService) -> Iterator[str]:
    for op in service.operations:
        parts = "".join(f"<part name={quoteattr(p)} type={quoteattr(t)}/>" for p, t in op.params)
        yield f"<message name={quoteattr(op.name + 'Request')}>{parts}</message>"
        yield (f"<message name={quoteattr(op.name + 'Response')}>"
               f'<part name="return" type={quoteattr(op.returns)}/></message>')


def _port_type(service: SoapService) -> Iterator[str]:
    yield f"<portType name={quoteattr(service.name + 'PortType')}>"
    for op in service.operations:
        yield (f"<operation name={quoteattr(op.name)}>"
               f"<input message={quoteattr(f'tns:{op.name}Request')}/>"
               f"<output message={quoteattr(f'tns:{op.name}Response')}/></operation>")
    yield "</portType>"


def _binding(service: SoapService) -> Iterator[str]:
    yield (f"<binding name={quoteattr(service.name + 'Binding')} "
           f"type={quoteattr(f'tns:{service.name}PortType')}>"
           f'<soap:binding style="rpc" transport="{HTTP_TRANSPORT}"/>')
    body = (f'<soap:body use="encoded" namespace={quoteattr(service.namespace)} '
            f'encodingStyle="{SOAP_ENC}"/>')
    for op in service.operations:
        action = quoteattr(f"{service.namespace}#{op.name}")
        yield (f"<operation name={quoteattr(op.name)}>"
               f'<soap:operation soapAction={action} style="rpc"/>'
               f"<input>{body}</input><output>{body}</output></operation>")
    yield "</binding>"


def wsdl(service: SoapService, address: str, encoding: str = "ISO-8859-1") -> bytes:
    """The service's WSDL as NuSOAP writes it, the operations answered at ``address``."""
    port, binding = quoteattr(service.name + "Port"), quoteattr(f"tns:{service.name}Binding")
    namespaces = {"SOAP-ENV": SOAP_ENV, "xsd": XSD, "xsi": XSI, "SOAP-ENC": SOAP_ENC,
                  "tns": service.namespace, "soap": WSDL_SOAP, "wsdl": WSDL}
    declared = " ".join(f"xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in namespaces.items())
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>\n',
        f'<definitions {declared} xmlns="{WSDL}" targetNamespace={quoteattr(service.namespace)}>',
        *_schema(service), *_messages(service), *_port_type(service), *_binding(service),
        f"<service name={quoteattr(service.name)}>",
        f"<port name={port} binding={binding}>",
        f"<soap:address location={quoteattr(address)}/></port></service>",
        "</definitions>\n",
    ]
    return "".join(parts).encode(encoding, "xmlcharrefreplace")


# -- faults and answers ----------------------------------------------------------------------------


class SoapFault(Exception):
    """The platform refuses the call; answered as a SOAP 1.1 Fault with HTTP 500.

    :param code: the faultcode, e.g. ``SOAP-ENV:Client.NaoEncontrado``.
    :param message: the faultstring, in the platform's words.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


_NSMAP = {"SOAP-ENV": SOAP_ENV, "xsd": XSD, "xsi": XSI, "SOAP-ENC": SOAP_ENC}


def _envelope(namespace: str) -> tuple[etree._Element, etree._Element]:
    """An empty envelope (NuSOAP's namespaces and encodingStyle) and its Body."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={**_NSMAP, "tns": namespace})
    root.set(f"{{{SOAP_ENV}}}encodingStyle", SOAP_ENC)
    return root, etree.SubElement(root, f"{{{SOAP_ENV}}}Body")


def _text(parent: etree._Element, tag: str, value: Any) -> None:
    child = etree.SubElement(parent, tag)
    child.set(_TYPE, "xsd:string")
    child.text = "" if value is None else str(value)


def _struct(parent: etree._Element, tag: str, struct: str, fields: tuple[str, ...],
            value: Mapping[str, Any]) -> None:
    """A struct: every declared field, in order, empty where the value lacks it."""
    element = etree.SubElement(parent, tag)
    element.set(_TYPE, f"tns:{struct}")
    for field in fields:
        _text(element, field, value.get(field))


class SoapSandbox(HttpSandbox):
    """A SOAP service on loopback: WSDL at ``GET path?wsdl``, operations at ``POST path``.

    Subclasses set :attr:`service` and :attr:`path` and answer each operation
    from ``op_<Name>(params)`` (or override :meth:`handle`); :meth:`authorize`
    runs first. A handler returns a dict (a struct), a list of dicts (an array)
    or text, and raises :class:`SoapFault` to refuse. Handlers run under
    ``self.lock``, one call at a time, as the platform's records are shared.
    """

    #: the service served; an instance may hold another (a store lacking operations)
    service: SoapService
    #: where the service is, e.g. ``/webservice/v2/ws_servidor.php``
    path: ClassVar[str] = "/"
    #: the encoding of the WSDL and of every answer
    encoding: str = "ISO-8859-1"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.url_map = Map([Rule(cls.path, endpoint="soap", methods=["GET", "POST"])])

    def __init__(self, knobs: Knobs | None = None, *, service: SoapService | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(knobs, host=host, port=port)
        if service is not None:
            self.service = service
        self._current = threading.local()

    # -- override points -------------------------------------------------------------------

    def authorize(self, name: str, params: Params) -> None:
        """Refuse a call before its handler runs (raise :class:`SoapFault`); default: let in."""

    def handle(self, name: str, params: Params) -> Any:
        """The answer to operation ``name``: ``op_<name>(params)`` by default."""
        return getattr(self, f"op_{name}")(params)

    def current_fault(self) -> Fault | None:
        """The fault drawn for the call being handled on this thread (DUPLICATE_PAGE, say).

        SOAP reads are POSTs to one path, so only the operation knows whether it
        reads a page; it asks here and answers its previous page itself.
        """
        fault: Fault | None = getattr(self._current, "fault", None)
        return fault

    # -- HttpSandbox's answers, in a PHP service's terms ---------------------------------

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        """A proxy in front of PHP refuses the call: HTML, no SOAP."""
        body = "<html><body><h1>429 Too Many Requests</h1></body></html>"
        return Response(body, 429, {"Retry-After": retry_after_header(retry_after)},
                        content_type="text/html; charset=utf-8")

    def server_error(self, request: Request) -> Response:
        return self.fault_response(SoapFault("SOAP-ENV:Server", "Internal Server Error"))

    def not_found(self, request: Request) -> Response:
        body = f"<html><body><h1>404 Not Found</h1><p>{escape(request.path)}</p></body></html>"
        return Response(body, 404, content_type="text/html; charset=utf-8")

    def is_page_read(self, request: Request) -> bool:
        return False

    def _handle(self, request: Request, fault: Fault | None) -> Response:
        self._current.fault = fault
        try:
            return super()._handle(request, fault)
        finally:
            self._current.fault = None

    # -- the endpoint ------------------------------------------------------------------------

    def on_soap(self, request: Request) -> Response:
        if request.method in ("GET", "HEAD"):
            return self._wsdl_or_index(request)
        try:
            name, params = self._read_call(request)
            with self.lock:  # the answer is written before another call can change the records
                self.authorize(name, params)
                return self.answer(name, self.handle(name, params))
        except SoapFault as fault:
            return self.fault_response(fault)

    def _wsdl_or_index(self, request: Request) -> Response:
        if "wsdl" in {key.lower() for key in request.args}:
            body = wsdl(self.service, self.url + self.path, self.encoding)
            return Response(body, content_type=f"text/xml; charset={self.encoding}")
        items = "".join(f"<li>{escape(op.name)}</li>" for op in self.service.operations)
        page = (f"<html><head><title>{escape(self.service.name)}</title></head><body>"
                f"<h1>{escape(self.service.name)}</h1><ul>{items}</ul></body></html>")
        return Response(page.encode(self.encoding, "xmlcharrefreplace"),
                        content_type=f"text/html; charset={self.encoding}")

    def _read_call(self, request: Request) -> tuple[str, Params]:
        """The operation's name and parameters, or a Client fault for what cannot be read."""
        root = _parse(request)
        body = root.find(f"{{{SOAP_ENV}}}Body")
        calls = [] if body is None else [c for c in body if isinstance(c.tag, str)]
        if not calls:
            raise SoapFault("SOAP-ENV:Client", "The request has no operation in its Body")
        name = etree.QName(calls[0]).localname
        operation = self.service.operation(name)
        if operation is None:
            raise SoapFault("SOAP-ENV:Client",
                            f"Operation '{name}' is not defined in the WSDL for this service")
        declared = dict(operation.params)
        params: Params = dict.fromkeys(declared)
        for child in calls[0]:
            if isinstance(child.tag, str):
                local = etree.QName(child).localname
                params[local] = self._value(child, declared.get(local, ""))
        return name, params

    def _value(self, element: etree._Element, declared: str) -> Any:
        """A parameter's value: text, a dict (struct), a list (array) or None (nil)."""
        if element.get(_NIL, "").lower() in ("true", "1"):
            return None
        children = [c for c in element if isinstance(c.tag, str)]
        kind = _local(declared)
        typed = element.get(_TYPE, "")
        if kind in self.service.arrays or element.get(_ARRAY_TYPE) or typed.endswith("Array"):
            return [self._value(c, "") for c in children]
        if kind in self.service.structs or children:
            return {etree.QName(c).localname: self._value(c, "") for c in children}
        return element.text or ""

    # -- answers -------------------------------------------------------------------------------

    def answer(self, name: str, result: Any) -> Response:
        """The operation's answer, typed by what it returns, in :attr:`encoding`."""
        root, body = _envelope(self.service.namespace)
        wrapper = etree.SubElement(body, f"{{{self.service.namespace}}}{name}Response",
                                   nsmap={"ns1": self.service.namespace})
        operation = self.service.operation(name)
        returns = operation.returns if operation is not None else "xsd:string"
        self._write(wrapper, "return", returns, result)
        return self._xml(root, 200)

    def _write(self, parent: etree._Element, tag: str, declared: str, value: Any) -> None:
        kind = _local(declared)
        if isinstance(value, Mapping):
            _struct(parent, tag, kind, self.service.structs[kind], value)
        elif isinstance(value, (list, tuple)):
            item = self.service.arrays[kind]
            array = etree.SubElement(parent, tag)
            array.set(_TYPE, f"tns:{kind}")
            array.set(_ARRAY_TYPE, f"tns:{item}[{len(value)}]")
            for entry in value:
                if item in self.service.structs:
                    _struct(array, "item", item, self.service.structs[item], entry)
                else:
                    _text(array, "item", entry)
        else:
            _text(parent, tag, value)

    def fault_response(self, fault: SoapFault) -> Response:
        """A SOAP 1.1 Fault, answered with HTTP 500 as NuSOAP does."""
        root, body = _envelope(self.service.namespace)
        element = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
        _text(element, "faultcode", fault.code)
        _text(element, "faultstring", fault.message)
        return self._xml(root, 500)

    def _xml(self, root: etree._Element, status: int) -> Response:
        # lxml writes what the encoding cannot hold as character references
        declaration = f'<?xml version="1.0" encoding="{self.encoding}"?>\n'.encode("ascii")
        body = declaration + etree.tostring(root, xml_declaration=False, encoding=self.encoding)
        return Response(body, status, content_type=f"text/xml; charset={self.encoding}")


def _parse(request: Request) -> etree._Element:
    """The request's XML, read without entities, network or huge trees; no DTD allowed.

    An envelope without an encoding in its XML declaration is read in the
    charset its Content-Type names (a PHP client's ISO-8859-1), else UTF-8.
    """
    content = request.get_data()
    options: dict[str, Any] = {"resolve_entities": False, "no_network": True,
                               "huge_tree": False, "load_dtd": False}
    charset = _CHARSET.search(request.headers.get("Content-Type", ""))
    if charset is not None and not _DECLARED.match(content):
        options["encoding"] = charset.group(1)
    try:
        root = etree.fromstring(content, etree.XMLParser(**options))
    except (etree.XMLSyntaxError, LookupError, ValueError) as exc:
        raise SoapFault("SOAP-ENV:Client", f"The request is not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise SoapFault("SOAP-ENV:Client", "A DOCTYPE is not allowed in a SOAP message")
    return root

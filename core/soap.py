"""SOAP clients for plugins: zeep over the connection's HTTP clients, refusing unsafe XML.

:func:`soap_client` gives a zeep AsyncClient (``await client.service.Op(...)``)
that, unlike a plain one, refuses DTDs, entities, loads of any document but
the WSDL and trees over lxml's limits, in the WSDL and in every answer
(:class:`UnsafeXmlError`); bounds each operation as a whole (zeep sets no
timeout on a client it is given, and httpx's bound each phase, not the call);
fetches a WSDL once per process (:data:`WSDL_CACHE`); and fails with tramo
errors, letting those the HTTP clients raise pass through.

rpc/encoded services (PHP's NuSOAP, .NET's old ASMX) lean on the SOAP
encoding schema, which zeep would fetch from the web; a copy of the part zeep
reads is bundled, so those WSDLs load with external references still refused.
Operations the caller names idempotent (reads) are retried like a GET; a SOAP
fault, which arrives as HTTP 500, is the platform's answer and is never retried,
unless it is a ``Server`` fault (the service's own trouble, SOAP 1.1 s4.4.1).
Answers of rpc operations made of text, structs and arrays (NuSOAP's) are read
by :mod:`tramo.soap_replies`, several times faster than zeep's typed reading.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

import httpx
import zeep
import zeep.cache
import zeep.wsdl
from lxml import etree
from zeep.exceptions import (DTDForbidden, EntitiesForbidden, Error, ExternalReferenceForbidden,
                             Fault, TransportError, ValidationError, XMLSyntaxError)
from zeep.proxy import AsyncOperationProxy
from zeep.transports import AsyncTransport
from zeep.wsdl.bindings import HttpGetBinding, HttpPostBinding

from tramo.errors import OutcomeUnknownError, PlatformError, TramoError, TransientError, describe
from tramo.http import ANSWER, IDEMPOTENT
from tramo.redaction import redact_url
from tramo.soap_replies import PlainSoap11Binding, PlainSoap12Binding

__all__ = ["WSDL_CACHE", "SoapClient", "SoapFaultError", "UnsafeXmlError", "WsdlCache", "soap_client"]

#: A DTD in the prolog (after an optional BOM, XML declaration, comments, PIs).
_DTD = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:(?:<\?.*?\?>|<!--.*?-->)\s*)*"
                  rb"<!DOCTYPE\s*([^\s\[>]*)", re.S)
#: A SOAP fault's start tag (SOAP 1.1 or 1.2, any prefix).
_FAULT = re.compile(rb"<(?:[\w.-]+:)?Fault[\s>]")
#: A fault the service blames on itself (1.1 ``Server``, 1.2 ``Receiver``): worth another try.
_SERVER_FAULT = re.compile(rb"<(?:[\w.-]+:)?(?:faultcode|Value)[^>]*>\s*(?:[\w.-]+:)?(?:Server|Receiver)")
#: libxml2's words, in lxml's syntax errors, for a document over its limits
#: (huge_tree off): depth, text size, entity expansion.
_LIMITS = ("XML_PARSE_HUGE", "Excessive depth", "amplification", "entity reference loop")

SOAP_ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"
#: What zeep needs of the SOAP 1.1 encoding schema: the array type, its
#: ``arrayType`` attribute (which rpc/encoded WSDLs restrict) and the struct.
_ENCODING_SCHEMA = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{SOAP_ENCODING}">
  <xs:attribute name="arrayType" type="xs:string"/>
  <xs:attribute name="offset" type="xs:string"/>
  <xs:complexType name="Array">
    <xs:sequence><xs:any namespace="##any" minOccurs="0" maxOccurs="unbounded" processContents="lax"/></xs:sequence>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>
  <xs:complexType name="Struct">
    <xs:sequence><xs:any namespace="##any" minOccurs="0" maxOccurs="unbounded" processContents="lax"/></xs:sequence>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:complexType>
</xs:schema>""".encode()

#: The operation being called, for the transport to mark its request.
_OPERATION: contextvars.ContextVar[str] = contextvars.ContextVar("tramo_soap_operation", default="")


def _never(operation: str) -> bool:
    return False


def _is_answer(response: httpx.Response) -> bool:
    """A fault is the service's answer, unless it blames itself: then the HTTP rules apply
    (a read is tried again, a write that may have landed is OutcomeUnknownError)."""
    return bool(_FAULT.search(response.content)) and not _SERVER_FAULT.search(response.content)


class UnsafeXmlError(PlatformError):
    """The platform sent XML that is refused unread: a DTD, an entity, a reference, a bomb.

    :ivar refused: what was refused, in words.
    :ivar url: where the document came from (redacted).
    """

    def __init__(self, refused: str, url: str, operation: str | None = None) -> None:
        self.refused, self.url = refused, redact_url(url)
        where = f"the answer to {operation!r} from" if operation else "the WSDL at"
        super().__init__(f"refused unsafe XML in {where} {self.url}: {refused}")


class SoapFaultError(PlatformError):
    """The platform answered a call with a SOAP fault.

    :ivar code: the fault code as sent (``SOAP-ENV:Client.NaoEncontrado``).
    :ivar fault: the fault's text (``faultstring``), for the plugin to word its own error.
    :ivar operation: the operation that was refused.
    """

    def __init__(self, message: str, code: str, fault: str, operation: str) -> None:
        super().__init__(message, code=code, causes=[fault] if fault else ())
        self.fault, self.operation = fault, operation


class WsdlCache(zeep.cache.Base):
    """WSDLs by URL, shared by the clients of a process so that each is fetched once.

    Bounded: ``max_entries`` documents (least recently used out first), each kept
    ``max_age`` seconds so a platform's new WSDL is seen. :meth:`clear` forgets
    all; a WSDL that fails to load or is refused is discarded at once.
    """

    # no __len__: zeep tests the cache for truth, and would skip an empty one

    def __init__(self, max_entries: int = 32, max_age: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries, self.max_age, self.clock = max_entries, max_age, clock
        self._entries: collections.OrderedDict[str, tuple[float, bytes]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def add(self, url: str, content: bytes) -> None:
        with self._lock:
            self._entries.pop(url, None)
            self._entries[url] = (self.clock(), bytes(content))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get(self, url: str) -> bytes | None:
        with self._lock:
            stamp, content = self._entries.pop(url, (0.0, None))
            if content is None or self.clock() - stamp > self.max_age:
                return None
            self._entries[url] = (stamp, content)
            return content

    def discard(self, url: str) -> None:
        with self._lock:
            self._entries.pop(url, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: The process-wide cache :func:`soap_client` uses unless given another.
WSDL_CACHE = WsdlCache()


def _refuse_dtd(content: bytes) -> None:
    # SOAP messages must not carry a DTD (SOAP 1.1 s3, 1.2 part 1 s5), nor WSDLs need one.
    # Refused before lxml reads it: lxml reports some abuse only as a syntax error.
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16, by its byte order mark
        content = content.decode("utf-16", "replace").encode()
    if match := _DTD.match(content):
        raise DTDForbidden(f"<!DOCTYPE {match[1].decode('ascii', 'replace')}>", None, None)


class _Document(zeep.wsdl.Document):
    """A WSDL document that starts with the bundled SOAP encoding schema."""

    def load(self, location: str) -> None:
        # Registered under its namespace as location: zeep's auto-import finds it there.
        self.types.add_documents([etree.fromstring(_ENCODING_SCHEMA)], SOAP_ENCODING)
        super().load(location)


class _Transport(AsyncTransport):
    """zeep's AsyncTransport over clients it does not own, loading one document."""

    #: zeep's hook for the classes a WSDL's bindings are built as: SOAP's read plain answers
    binding_classes = (PlainSoap11Binding, PlainSoap12Binding, HttpGetBinding, HttpPostBinding)

    def __init__(self, http: httpx.Client, async_http: httpx.AsyncClient, cache: WsdlCache,
                 idempotent: Callable[[str], bool], encoding: str) -> None:
        # Not AsyncTransport.__init__: it replaces both clients' headers with
        # zeep's User-Agent, wiping the connection's own for all their users.
        self._close_session, self._loaded, self.operation_timeout = False, False, None
        self.cache, self.wsdl_client, self.client = cache, http, async_http
        self.idempotent, self.encoding = idempotent, encoding
        self.logger = logging.getLogger(AsyncTransport.__module__)

    def load(self, url: str) -> bytes:
        # forbid_external stops http(s) imports only; zeep would read a path or
        # a file: URL named in the WSDL from disk. The WSDL is the one load.
        if self._loaded:
            raise ExternalReferenceForbidden(url)
        self._loaded = True
        content: bytes = super().load(url)
        _refuse_dtd(content)
        return content

    async def post(self, address: str, message: bytes, headers: dict[str, str]) -> httpx.Response:
        # zeep's post logs whole envelopes and answers at DEBUG: passwords
        # travel in SOAP bodies (Tray's psenha), personal data in answers.
        extensions = {ANSWER: _is_answer, IDEMPOTENT: self.idempotent(_OPERATION.get())}
        if self.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            message, headers = _encoded(message, headers, self.encoding)
        response = await self.client.post(address, content=message, headers=headers,
                                          extensions=extensions)
        _refuse_dtd(response.content)
        return response

    async def aclose(self) -> None:
        """The HTTP clients belong to the connection: closing a SOAP client leaves them open."""


def _encoded(message: bytes, headers: dict[str, str], encoding: str) -> tuple[bytes, dict[str, str]]:
    """zeep's UTF-8 envelope in the charset the service reads; what it lacks becomes &#NNN;."""
    document = etree.fromstring(message)  # zeep's own output: no DTD, no entities
    content = etree.tostring(document, xml_declaration=True, encoding=encoding)
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "text/xml")
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    headers["Content-Type"] = f"{kind.split(';')[0]}; charset={encoding}"
    return content, headers


class _Operation(AsyncOperationProxy):
    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        client: SoapClient = self._proxy._client
        address: str = self._proxy._binding_options.get("address") or ""
        what = f"SOAP operation {self._op_name!r} at {redact_url(address)}"
        token = _OPERATION.set(self._op_name)
        try:
            async with asyncio.timeout(client.operation_timeout):
                return await super().__call__(*args, **kwargs)
        except TimeoutError as exc:
            late = f"{what} took longer than {client.operation_timeout:g} s"
            if client.idempotent(self._op_name):
                raise TransientError(late) from exc
            raise OutcomeUnknownError(f"{late}; it may have been applied") from exc
        except Exception as exc:
            _reraise(exc, what, address, self._op_name)
        finally:
            _OPERATION.reset(token)


class SoapClient(zeep.AsyncClient):
    """zeep's AsyncClient whose operations are bounded and fail with tramo errors."""

    operation_timeout: float = 60.0
    idempotent: Callable[[str], bool] = staticmethod(_never)

    def bind(self, service_name: str | None = None, port_name: str | None = None) -> Any:
        return _bounded(super().bind(service_name, port_name))

    @property
    def operations(self) -> frozenset[str]:
        """The names of the operations the WSDL's first port offers."""
        return frozenset(self.service._operations)


def _bounded(proxy: Any) -> Any:
    if proxy is not None:
        proxy._operations = {name: _Operation(proxy, name) for name in proxy._operations}
    return proxy


def soap_client(wsdl: str, *, http: httpx.Client, async_http: httpx.AsyncClient,
                operation_timeout: float = 60.0, cache: WsdlCache = WSDL_CACHE,
                idempotent: Callable[[str], bool] = _never,
                address: str | None = None, encoding: str = "utf-8") -> SoapClient:
    """A SOAP client for the WSDL at ``wsdl`` over the caller's HTTP clients, which it never closes.

    The WSDL is loaded now (from ``cache``, or synchronously through ``http``;
    ``wsdl`` may be a local file, a copy the user keeps); operations go through
    ``async_http`` to ``address`` (default: the WSDL's), each bounded by
    ``operation_timeout`` s. ``idempotent(operation)`` says which may be sent
    again after a failure; the others fail with OutcomeUnknownError when their
    answer is lost. Requests go in ``encoding`` (ISO-8859-1 for services that
    read nothing else); answers are read in whatever charset they declare.

    :raises UnsafeXmlError: the WSDL has a DTD or an import, or is too big or deep.
    :raises TransientError: the WSDL could not be fetched.
    :raises PlatformError: the WSDL is not one zeep can read.
    """
    settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True,
                             forbid_entities=True, forbid_external=True)
    try:
        transport = _Transport(http, async_http, cache, idempotent, encoding)
        client = SoapClient(_Document(wsdl, transport, settings=settings),
                            transport=transport, settings=settings)
        if address is not None:
            binding = next(iter(client.wsdl.bindings))
            client._default_service = _bounded(client.create_service(binding, address))
    except Exception as exc:
        cache.discard(wsdl)
        _reraise(exc, f"WSDL {redact_url(wsdl)}", wsdl)
    client.operation_timeout = operation_timeout
    client.idempotent = idempotent
    return client


def _reraise(exc: Exception, what: str, url: str, operation: str | None = None) -> NoReturn:
    """Raise the tramo error for a zeep, lxml or httpx failure; anything else as it is.

    zeep's exceptions are not chained: their text can quote the platform's
    answer (a whole body, an entity's content), which a traceback would print.
    """
    if isinstance(exc, (TramoError, ValidationError)):
        raise exc  # the HTTP clients' own errors; a plugin's bad arguments
    if isinstance(exc, DTDForbidden):
        raise UnsafeXmlError(f"a DTD ({exc.name})", url, operation) from None
    if isinstance(exc, EntitiesForbidden):
        raise UnsafeXmlError(f"an entity declaration ({exc.name})", url, operation) from None
    if isinstance(exc, ExternalReferenceForbidden):
        refused = f"a reference to another document ({redact_url(str(exc.url))})"
        raise UnsafeXmlError(refused, url, operation) from None
    syntax = str(getattr(exc, "message", exc)).split("\nContent:")[0]  # not the body zeep quotes
    if isinstance(exc, (XMLSyntaxError, TransportError)) and any(lim in syntax for lim in _LIMITS):
        refused = "a document beyond the parser's limits (entity expansion, depth or size)"
        raise UnsafeXmlError(refused, url, operation) from None
    if isinstance(exc, Fault):
        raise SoapFaultError(f"{what} answered with a SOAP fault", str(exc.code or ""),
                             str(exc.message or ""), operation or "") from None
    if isinstance(exc, TransportError):  # an HTTP error status, or an answer that is no XML
        status = exc.status_code
        if 400 <= status < 500 and status != 429:
            raise PlatformError(f"{what} answered HTTP {status}", code=status) from None
        raise TransientError(f"{what} answered HTTP {status} with no valid SOAP") from None
    if isinstance(exc, httpx.HTTPError):
        raise TransientError(f"{what} failed: {redact_url(describe(exc))}") from exc
    if isinstance(exc, Error):
        raise PlatformError(f"{what} is unusable ({type(exc).__name__})") from None
    raise exc

"""HTTP sandboxes: a werkzeug WSGI server on a loopback port, in a background thread.

werkzeug gives the server (threaded, stoppable), URL routing and request and
response objects, which is most of what a platform stand-in needs; a plugin's
sandbox adds its routes and the platform's own bodies for errors::

    class TraySandbox(HttpSandbox):
        plugin = "tray_rest"
        url_map = Map([Rule("/web_api/products", endpoint="products")])

        def on_products(self, request: Request) -> Response: ...

Every request passes through the knobs first (latency, faults, rate limits),
so a plugin's sandbox gets them without writing them.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tramo.sandbox.base import Fault, Knobs, Sandbox

__all__ = ["HttpSandbox", "Request", "Response", "json_response", "retry_after_header"]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer, encoded the way most platforms do (UTF-8, not ASCII-escaped)."""
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    headers=headers, content_type="application/json; charset=utf-8")


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds, or with decimals when a time scale made it short.

    HTTP allows only whole seconds; tramo's client reads decimals too, so a
    scaled sandbox can ask for 60 ms instead of rounding it up to a second.
    """
    if seconds >= 1 and float(seconds).is_integer():
        return str(int(seconds))
    return f"{max(seconds, 0.001):.3f}"


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its access log (a sandbox records calls itself)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class HttpSandbox(Sandbox):
    """A platform's HTTP API on loopback.

    Subclasses set ``url_map`` (endpoints name ``on_<endpoint>`` methods, which
    take the request and the rule's arguments) and may override the error
    answers to give the platform's own bodies.
    """

    url_map: ClassVar[Map] = Map([])

    def __init__(self, knobs: Knobs | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(knobs)
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._last_page: dict[str, bytes] = {}
        #: exceptions raised while handling a request (a bug in the sandbox, not a
        #: platform fault): the client got :meth:`server_error`; tests assert it stays empty
        self.errors: list[BaseException] = []

    # -- lifecycle -------------------------------------------------------------

    def _start(self) -> None:
        self._server = make_server(self.host, self.port, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-{self.plugin or 'http'}", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

    @property
    def url(self) -> str:
        """The server's root, e.g. ``http://127.0.0.1:50123``."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager")
        return f"http://{self.host}:{self._server.server_port}"

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._last_page = {}
            self.errors = []

    # -- the platform's answers (override for the platform's own bodies) ------

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return json_response({"error": "Too Many Requests"}, 429,
                             {"Retry-After": retry_after_header(retry_after)})

    def server_error(self, request: Request) -> Response:
        return json_response({"error": "Service Unavailable"}, 503)

    def not_found(self, request: Request) -> Response:
        return json_response({"error": "Not Found", "path": request.path}, 404)

    def is_page_read(self, request: Request) -> bool:
        """Whether DUPLICATE_PAGE applies: by default any GET with a query string."""
        return request.method == "GET" and bool(request.query_string)

    # -- the WSGI app --------------------------------------------------------------

    def http_error(self, request: Request, exc: HTTPException) -> Response:
        """The answer to a routing error other than an unknown path (a wrong method, say)."""
        return Response(exc.get_body(), exc.code or 500, exc.get_headers())

    def guard(self, request: Request, endpoint: str) -> Response | None:
        """Refuse a routed request before its handler runs (a missing token); None lets it in."""
        return None

    def match(self, request: Request) -> tuple[str, dict[str, Any]]:
        """The endpoint and arguments of a request (override for a platform that ignores case)."""
        endpoint, arguments = self.url_map.bind_to_environ(request.environ).match()
        return str(endpoint), dict(arguments)

    def dispatch(self, request: Request) -> Response:
        """Route to ``on_<endpoint>`` past :meth:`guard`; an unknown path gets :meth:`not_found`."""
        try:
            endpoint, arguments = self.match(request)
        except NotFound:
            return self.not_found(request)
        except HTTPException as exc:
            return self.http_error(request, exc)
        refused = self.guard(request, endpoint)
        if refused is not None:
            return refused
        return getattr(self, f"on_{endpoint}")(request, **arguments)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self.handling():
            return self._answer(environ, start_response)

    def _answer(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        method, path = request.method, request.path
        query = request.query_string.decode("latin-1")
        fault, wait = self.admit(method, path)
        if fault is Fault.DROPPED:
            self.record(method, path, query, None, fault)
            return _drop(environ, start_response)
        if fault is Fault.RATE_LIMITED:
            response = self.rate_limited(request, wait)
        elif fault is Fault.SERVER_ERROR:
            response = self.server_error(request)
        else:
            if fault is Fault.TIMEOUT and not self.hang():
                self.record(method, path, query, None, fault)
                return _drop(environ, start_response)
            try:
                response = self._handle(request, fault)
            except Exception as exc:  # noqa: BLE001 - a sandbox bug is kept, not hidden as a fault
                self.errors.append(exc)
                response = self.server_error(request)
        self.record(method, path, query, response.status_code, fault)
        return response(environ, start_response)

    def _handle(self, request: Request, fault: Fault | None) -> Response:
        page_read = self.is_page_read(request)
        if fault is Fault.DUPLICATE_PAGE and page_read and request.path in self._last_page:
            return Response(self._last_page[request.path], 200, content_type="application/json")
        response = self.dispatch(request)
        if page_read and response.status_code == 200:
            self._last_page[request.path] = response.get_data()
        if fault is Fault.MALFORMED:
            body = response.get_data()
            response.set_data(body[: max(1, len(body) // 2)] if body else b"<")
        return response


def _drop(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Close the client's connection without a word, as a crashed proxy does.

    The status is set only so that werkzeug tries to send it, finds the socket
    closed and treats the call as a dropped connection (quietly).
    """
    start_response("500 Dropped", [])
    sock: socket.socket | None = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return []

"""A webhook receiver for the engine: one small WSGI and ASGI app a host mounts.

Why it exists: platforms announce orders by webhook, and tramo already has
one idempotent way to import an order (the polling path, which skips an
order already imported at its ``updated_at``). :meth:`Tramo.take_webhook`
verifies a delivery through the plugin's ``parse_webhook`` and sends the
orders it names down that same path, so a notification and the next poll
can never import an order twice. This module only turns HTTP into that call
and its outcome back into the status a platform understands:

=====================================  ======  ==================================
what happened                          answer  what the platform does
=====================================  ======  ==================================
processed (held orders included)       200     stops: tramo keeps what it held
signature or store refused             401     retries, then gives up
not a notification                     400     retries, then gives up
unknown connection                     404     retries, then gives up
not POST / not GET on ``/health``      405
body over ``max_body``                 413
connection busy (another run's lock)   503     retries later (``Retry-After``)
anything else                          500     retries later
=====================================  ======  ==================================

Routes: ``POST /webhooks/<connection>`` and ``GET /health``. Response bodies
carry record ids and counts only: error bodies are short fixed texts, held
reasons lose any echoed value and are masked, and unexpected failures are
logged (masked) on ``tramo.intake``, never echoed.

The host mounts :class:`IntakeApp` in its own WSGI server, or its
:meth:`IntakeApp.asgi` in an ASGI one (the engine runs in a worker thread),
or runs it alone with :func:`serve`::

    app = IntakeApp(engine)
    serve(engine, "0.0.0.0", 8080)           # or start_in_thread(engine) in tests
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import threading
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
from tramo.errors import (
    AuthenticationError,
    CapabilityNotSupported,
    ConfigurationError,
    ValidationError,
)
from tramo.redaction import mask_personal, redact, redact_url
from tramo.secrets import Secret
from tramo.sync.engine import Tramo
from tramo.sync.report import RunReport
from tramo.webhooks import header
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_input_stream

__all__ = ["IntakeApp", "serve", "start_in_thread"]

log = logging.getLogger("tramo.intake")

#: the prefix of a connection's webhook address
PREFIX = "/webhooks/"
#: seconds a platform is asked to wait before delivering a refused (busy) notification again
RETRY_AFTER = 30
#: bytes read at a time from a request body
_CHUNK = 64 * 1024
#: at most this much of an unwanted body is read and dropped before answering (so the
#: client reads the answer rather than a reset connection); past it the body is left
_DRAIN = 1_000_000
#: " (got <value>)", the value a ValidationError echoes (it may be personal data)
_ECHOED = re.compile(r"\s*\(got .*?\)", re.DOTALL)
#: what a field path looks like (anything else is not shown)
_FIELD = re.compile(r"[A-Za-z0-9_.\[\]-]{1,80}")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


@attrs.frozen
class Answer:
    """A status, a JSON body and any extra headers: what either interface sends back."""

    status: int
    body: Mapping[str, Any]
    headers: tuple[tuple[str, str], ...] = ()

    def encoded(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _error(status: int, text: str, *headers: tuple[str, str]) -> Answer:
    return Answer(status, {"error": text}, headers)


NOT_FOUND = _error(404, "not found")
TOO_LARGE = _error(413, "the body is too large")


class IntakeApp:
    """The webhook receiver: a WSGI app (call it) and an ASGI app (:meth:`asgi`).

    :param engine: the engine whose connections take the notifications.
    :param max_body: the largest body taken, in bytes (checked against
        ``Content-Length`` first, and counted while reading).
    """

    def __init__(self, engine: Tramo, *, max_body: int = 1_000_000) -> None:
        if max_body < 1:
            raise ValueError("max_body must be at least 1 byte")
        self.engine = engine
        self.max_body = max_body

    def __repr__(self) -> str:
        return f"IntakeApp(connections={self.engine.names}, max_body={self.max_body})"

    # -- what both interfaces share ---------------------------------------------------------

    def route(self, method: str, path: str) -> Answer | str | None:
        """The connection a request is for; None for the health check; else the answer."""
        if path == "/health":
            if method not in ("GET", "HEAD"):
                return _error(405, "method not allowed", ("Allow", "GET, HEAD"))
            return None
        if not path.startswith(PREFIX) or "/" in path[len(PREFIX):] or path == PREFIX:
            return NOT_FOUND
        if method != "POST":
            return _error(405, "method not allowed", ("Allow", "POST"))
        name = path[len(PREFIX):]
        try:
            self.engine.connection(name)
        except ConfigurationError:
            return _error(404, "no such connection")
        return name

    def health(self) -> Answer:
        return Answer(200, {"ok": True, "connections": list(self.engine.names)})

    def declared_too_large(self, length: str | None) -> Answer | None:
        """The answer to a ``Content-Length`` that is unreadable or over ``max_body``."""
        if length is None or not length.strip():
            return None
        try:
            size = int(length)
        except ValueError:
            return _error(400, "the Content-Length is not a number")
        if size < 0:
            return _error(400, "the Content-Length is not a number")
        return TOO_LARGE if size > self.max_body else None

    def take(self, name: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Hand one notification to the engine; its outcome as an answer (never raises)."""
        try:
            report = self.engine.take_webhook(name, headers, body)
        except AuthenticationError as exc:
            log.warning("connection %r: a notification was refused: %s",
                        name, self._clean(name, str(exc)))
            return _error(401, "the notification could not be authenticated")
        except ValidationError as exc:  # its value (part of the body) is neither logged nor shown
            field = exc.field if _FIELD.fullmatch(str(exc.field)) else None
            log.info("connection %r: a malformed notification: %s: %s",
                     name, field or "?", self._clean(name, str(exc.reason)))
            return _error(400, f"malformed notification ({field})" if field
                          else "malformed notification")
        except CapabilityNotSupported as exc:
            log.warning("connection %r takes no webhooks: %s", name, self._clean(name, str(exc)))
            return _error(404, "this connection takes no webhooks")
        except Exception as exc:  # noqa: BLE001 - the platform must hear something; it retries
            self._log_failure(name, exc)
            return _error(500, "the notification could not be processed")
        return self._answer(name, report)

    def _answer(self, name: str, report: RunReport) -> Answer:
        flows = list(report)
        busy = [f for f in flows if f.status == "skipped"]
        if busy:
            log.info("connection %r is busy; the platform is asked to deliver again: %s",
                     name, self._clean(name, busy[0].reason or ""))
            return _error(503, "the connection is busy; deliver the notification again later",
                          ("Retry-After", str(RETRY_AFTER)))
        failed = [f for f in flows if f.status == "failed"]
        if failed:
            log.error("connection %r: the notified orders could not be imported: %s",
                      name, self._clean(name, failed[0].reason or ""))
            return _error(500, "the notification could not be processed")
        for flow in flows:
            for ident, reason in flow.failed:
                log.warning("connection %r: order %s: %s", name, ident, self._clean(name, reason))
        return Answer(200, {
            "imported": [ident for f in flows for ident in f.received],
            "unchanged": sum(f.unchanged for f in flows),
            "held": [[ident, self._shown(name, reason)] for f in flows for ident, reason in f.held],
        })

    def _secrets(self, name: str) -> list[Secret]:
        try:
            settings = self.engine.connection(name).settings
        except Exception:  # noqa: BLE001 - masking must not fail
            return []
        return [v for v in settings.values() if isinstance(v, Secret)]

    def _clean(self, name: str, text: str) -> str:
        return mask_personal(redact_url(redact(text, self._secrets(name))))

    def _shown(self, name: str, reason: str) -> str:
        """A held order's reason fit for a response: no echoed value, no secret of the
        connection, personal data masked (an ERP's own error text can carry any of them)."""
        return self._clean(name, _ECHOED.sub("", reason))[:300]

    def _log_failure(self, name: str, exc: BaseException) -> None:
        text = self._clean(name, "".join(traceback.format_exception(exc)).rstrip())
        # the traceback is logged as masked text, not as exc_info (its message is unmasked)
        log.exception("connection %r: a notification failed unexpectedly\n%s", name, text,
                      exc_info=False)

    # -- WSGI -----------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        answer = self._wsgi_answer(request)
        response = Response(answer.encoded(), answer.status, headers=list(answer.headers),
                            content_type="application/json")
        return response(environ, start_response)  # werkzeug sends no body to a HEAD

    def _wsgi_answer(self, request: Request) -> Answer:
        routed = self.route(request.method, request.path)
        if routed is None:
            return self.health()
        if isinstance(routed, Answer):
            _drain(request.environ)
            return routed
        refused = self.declared_too_large(request.headers.get("Content-Length"))
        if refused is not None:
            _drain(request.environ)
            return refused
        stream = get_input_stream(request.environ, safe_fallback=True)
        body = bytearray()
        while True:
            chunk = stream.read(min(_CHUNK, self.max_body + 1 - len(body)))
            if not chunk:
                break
            body += chunk
            if len(body) > self.max_body:
                _drain(request.environ)
                return TOO_LARGE
        return self.take(routed, dict(request.headers.items()), bytes(body))

    # -- ASGI -----------------------------------------------------------------------------

    async def asgi(self, scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
        """The ASGI app: reads the body, then runs the engine in a worker thread."""
        kind = scope.get("type")
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        method = str(scope.get("method", "GET")).upper()
        path = str(scope.get("path") or "/")
        root = str(scope.get("root_path") or "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        headers = _asgi_headers(scope.get("headers") or ())
        routed = self.route(method, path)
        if routed is None:
            answer = self.health()
        elif isinstance(routed, Answer):
            answer = routed
        else:
            refused = self.declared_too_large(header(headers, "content-length"))
            if refused is not None:
                answer = refused
            else:
                read = await self._asgi_body(receive)
                if read is None:
                    return  # the client went away: nobody to answer, nothing taken
                answer = (read if isinstance(read, Answer)
                          else await asyncio.to_thread(self.take, routed, headers, read))
        await _asgi_send(send, answer, head=method == "HEAD")

    async def _asgi_body(self, receive: Receive) -> bytes | Answer | None:
        body = bytearray()
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return None
            body += message.get("body") or b""
            if len(body) > self.max_body:
                return TOO_LARGE
            if not message.get("more_body"):
                return bytes(body)


# -- helpers ---------------------------------------------------------------------------------


def _drain(environ: Environ) -> None:
    """Read and drop a body the app will not use (at most ``_DRAIN`` bytes), so a client that
    is still sending sees the answer instead of a reset connection."""
    try:
        stream = get_input_stream(environ, safe_fallback=True)
        left = _DRAIN
        while left > 0:
            chunk = stream.read(min(_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
    except Exception:  # noqa: BLE001 - the answer is sent whatever happens here
        return


def _asgi_headers(raw: Iterable[Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        name = name.lower()
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return headers


async def _asgi_send(send: Send, answer: Answer, *, head: bool = False) -> None:
    body = answer.encoded()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode("ascii"))]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message.get("type") == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message.get("type") == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


# -- running it alone -------------------------------------------------------------------------


def _url(host: str, server: BaseWSGIServer) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{server.server_port}"


def serve(engine: Tramo, host: str = "127.0.0.1", port: int = 8080, *,
          ready: Callable[[str], None] | None = None, max_body: int = 1_000_000) -> None:
    """Serve the intake (werkzeug, a thread per request) until interrupted.

    Ctrl-C, or SIGTERM (what a service manager sends) when called from the main
    thread, ends it in order: the caller then closes the engine, so no lock or
    half-read state is left behind. ``ready`` is told the server's address once
    it listens (with ``port=0``, the port the system chose).
    """
    server = make_server(host, port, IntakeApp(engine, max_body=max_body), threaded=True)
    restore = _interrupt_on_sigterm()
    try:
        if ready is not None:
            ready(_url(host, server))
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        restore()


def _interrupt_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM raise KeyboardInterrupt, as Ctrl-C does; what puts the old handler back.

    Only the main thread may set handlers; elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(number: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)


def start_in_thread(engine: Tramo, host: str = "127.0.0.1", port: int = 0, *,
                    max_body: int = 1_000_000) -> tuple[BaseWSGIServer, str]:
    """The intake served from a daemon thread: the server and its address.

    ``server.shutdown()`` stops it (then ``server.server_close()`` frees the port).
    """
    server = make_server(host, port, IntakeApp(engine, max_body=max_body), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="tramo-intake", daemon=True)
    thread.start()
    return server, _url(host, server)

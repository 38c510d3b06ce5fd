"""HTTP for plugins: httpx clients that retry safely and wait on rate budgets.

A plugin asks its connection for a client (``connection.http_client(...)``)
and uses it as any httpx client. Underneath, a :class:`RetryingTransport`
(or its async twin):

- refuses plain ``http://`` except to loopback, and never turns TLS checks off;
- waits on the store's rate :class:`~tramo.budget.Budget` before every try;
- retries connection failures, timeouts, 5xx and 429 with full-jitter
  backoff, honouring Retry-After (seconds or an HTTP date) up to a cap;
- sends a write again only when that is safe: the method is idempotent, the
  request carries the idempotency key the platform honours, or the platform
  certainly did not act on it (the connection never opened, or a 429);
- ends in a typed error: :class:`~tramo.errors.RateLimitedError`,
  :class:`~tramo.errors.RetriesExhaustedError` or
  :class:`~tramo.errors.OutcomeUnknownError`.

Per request, ``extensions={"tramo.idempotent": True}`` marks a POST that is
safe to repeat (a query sent as POST) and ``False`` a PUT that is not (one
that adds to a counter); ``{"tramo.cost": 2}`` draws more from the budget;
``{"tramo.answer": predicate}`` hands over a response the predicate accepts
whatever its status (a SOAP fault comes as HTTP 500, but it is the
platform's answer, not a failure to retry); ``{"tramo.refused": predicate}``
is the other way round: the predicate reads the body (a GraphQL "Throttled"
comes as HTTP 200) and returns the seconds to wait when the platform refused
the request without acting on it, which is then sent again like a 429.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from tramo.budget import Budget
from tramo.errors import (
    ConfigurationError,
    OutcomeUnknownError,
    PlatformError,
    RateLimitedError,
    RetriesExhaustedError,
)
from tramo.redaction import RedactingFilter, redact, redact_url
from tramo.secrets import Secret

__all__ = [
    "ANSWER",
    "COST",
    "IDEMPOTENT",
    "AsyncRetryingTransport",
    "HttpOptions",
    "RetryPolicy",
    "REFUSED",
    "RetryingTransport",
    "STREAM",
    "async_http_client",
    "check_url",
    "http_client",
    "is_loopback",
    "mask_in_http_logs",
    "parse_retry_after",
    "path",
]

#: request extension: True or False overrides the method's idempotency
IDEMPOTENT = "tramo.idempotent"
#: request extension: how many budget tokens the request costs (default 1)
COST = "tramo.cost"
#: request extension: a predicate on a response; one it accepts is the answer, whatever its status
ANSWER = "tramo.answer"

#: request extension: a predicate on a response's body; seconds to wait when the platform
#: refused the request without acting on it (a refusal sent with HTTP 200), None otherwise
REFUSED = "tramo.refused"

#: request extension: the caller reads the answer as it arrives (a large download), so the
#: transport hands it over unread and uncapped; any other answer is read whole, within
#: ``HttpOptions.max_answer_bytes``, before it is handed over (a body cut off is retried)
STREAM = "tramo.stream"

#: methods that RFC 9110 defines as idempotent
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

#: failures that happen before a request leaves: repeating it cannot duplicate anything
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

# httpx logs every request with its full URL at INFO; credential parameters go, and so do
# the secrets of every connection made in this process (a webhook URL is its own credential).
_HTTPX_LOG = RedactingFilter(personal=False)
logging.getLogger("httpx").addFilter(_HTTPX_LOG)


def mask_in_http_logs(secrets: Iterable[str | Secret]) -> None:
    """Keep ``secrets`` out of httpx's own request log lines from now on."""
    _HTTPX_LOG.add(*secrets)


@attrs.frozen
class RetryPolicy:
    """How often and how patiently a call is tried.

    :param attempts: tries in all, the first included.
    :param backoff: the first backoff's ceiling in seconds; it doubles per try.
    :param max_backoff: the ceiling of any backoff.
    :param max_retry_after: the longest Retry-After waited here; a longer one
        goes up as :class:`RateLimitedError` so the host can schedule the wait.
    :param statuses: answers worth another try.
    """

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def backoff_for(self, retry: int, rng: random.Random) -> float:
        """Full jitter: anywhere from 0 to the exponential ceiling, so clients spread out."""
        return rng.uniform(0.0, min(self.max_backoff, self.backoff * 2.0 ** retry))


@attrs.frozen
class HttpOptions:
    """What a host may tune on every HTTP client of a connection."""

    timeout: httpx.Timeout = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
    limits: httpx.Limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
    retry: RetryPolicy = RetryPolicy()
    #: an explicit proxy URL; environment proxy variables are not read
    proxy: str | None = None
    #: the largest answer read into memory; a larger one is refused with a PlatformError
    max_answer_bytes: int = attrs.field(default=64 * 2**20, validator=attrs.validators.gt(0))


def path(template: str, *values: str) -> str:
    """A request path with each value percent-encoded (``path("/orders/{}", "a/b")``: ``/orders/a%2Fb``),
    so an id taken from a record never walks into another route."""
    return template.format(*(quote(v, safe="") for v in values))


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: httpx.URL | str) -> None:
    """Refuse what is not HTTPS, unless it stays on this machine."""
    url = httpx.URL(url)
    if url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host)):
        return
    if url.scheme == "http":
        raise ConfigurationError(
            f"plain http to {url.host!r} refused: use https (plain http is allowed to loopback only)")
    raise ConfigurationError(f"unsupported URL scheme {url.scheme!r} for {redact_url(str(url))}")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After asks for: delay seconds (decimals accepted) or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


class _Decider:
    """The retry rules, shared by the sync and async transports."""

    def __init__(self, policy: RetryPolicy, idempotency_header: str | None,
                 on_wait: Callable[[float, str], Any] | None, rng: random.Random,
                 secrets: Iterable[str | Secret] = ()) -> None:
        self.policy = policy
        self.secrets = tuple(secrets)
        self.idempotency_header = idempotency_header
        self.on_wait = on_wait
        self.rng = rng

    def replayable(self, request: httpx.Request) -> bool:
        """Safe to send twice: the request says so, or its method, or its idempotency key."""
        explicit = request.extensions.get(IDEMPOTENT)
        if explicit is not None:
            return bool(explicit)
        if request.method in IDEMPOTENT_METHODS:
            return True
        return self.idempotency_header is not None and self.idempotency_header in request.headers

    def label(self, request: httpx.Request) -> str:
        """The request as errors and waits name it: credentials in the URL masked, and any
        secret (a webhook URL whose path is the credential) too."""
        url = redact_url(str(request.url.copy_with(fragment=None)))
        return f"{request.method} {redact(url, self.secrets)}"

    def after_error(self, request: httpx.Request, exc: httpx.TransportError, tries: int) -> float:
        """The wait before the next try after ``exc``, or the error to raise."""
        what = f"{self.label(request)}: {type(exc).__name__}"
        if not isinstance(exc, _NOT_SENT) and not self.replayable(request):
            raise OutcomeUnknownError(
                f"{what}; the request may have reached the platform, and it is not safe to "
                f"send again (no idempotent method or idempotency key)") from exc
        if isinstance(exc, httpx.UnsupportedProtocol):
            raise ConfigurationError(f"{what}: {exc}") from None
        if tries >= self.policy.attempts:
            raise RetriesExhaustedError(what, tries) from exc
        return self._announce(self.policy.backoff_for(tries - 1, self.rng), what)

    def after_response(self, request: httpx.Request, response: httpx.Response, tries: int) -> float | None:
        """None to hand ``response`` over; else the wait before the next try (or an error)."""
        status = response.status_code
        refused = request.extensions.get(REFUSED)
        wait = refused(response) if refused is not None and status not in self.policy.statuses else None
        if wait is not None:
            what = f"{self.label(request)}: refused by the platform"
            if wait > self.policy.max_retry_after:
                raise RateLimitedError(f"{what}: it asks for a long pause", wait)
            if tries >= self.policy.attempts:
                raise RateLimitedError(f"{what} (after {tries} tries)", wait)
            return self._announce(wait, what)
        if status not in self.policy.statuses:
            return None
        is_answer = request.extensions.get(ANSWER)
        if is_answer is not None and is_answer(response):
            return None
        what = f"{self.label(request)}: HTTP {status}"
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            # A 429 is a refusal: the platform did not act, so even a POST may go again.
            if retry_after is not None and retry_after > self.policy.max_retry_after:
                raise RateLimitedError(f"{what}: the platform asks for a long pause", retry_after)
            if tries >= self.policy.attempts:
                raise RateLimitedError(f"{what} (after {tries} tries)", retry_after)
        else:
            if not self.replayable(request):
                raise OutcomeUnknownError(
                    f"{what}; the platform may have applied it, and it is not safe to send again",
                    status=status, response=response)
            if tries >= self.policy.attempts:
                raise RetriesExhaustedError(what, tries, status)
            if retry_after is not None and retry_after > self.policy.max_retry_after:
                raise RetriesExhaustedError(f"{what}, asked to wait {retry_after:g} s", tries, status)
        wait = retry_after if retry_after is not None else self.policy.backoff_for(tries - 1, self.rng)
        return self._announce(wait, what)

    def _announce(self, wait: float, what: str) -> float:
        if self.on_wait is not None:
            self.on_wait(wait, f"{what}; trying again in {wait:.2f} s")
        return wait


def _too_large(what: str, limit: int) -> PlatformError:
    return PlatformError(f"{what}: the answer is larger than {limit} bytes "
                         f"(HttpOptions.max_answer_bytes); it was not read", code="answer_too_large")


def _declared_size(response: httpx.Response) -> int:
    text = response.headers.get("content-length", "")
    return int(text) if text.isdigit() else 0


def _whole(response: httpx.Response, raw: bytes) -> httpx.Response:
    """The same answer with its raw body in memory (decoded as the original would be)."""
    return httpx.Response(response.status_code, headers=response.headers, content=raw,
                          extensions=response.extensions)


def _read_whole(response: httpx.Response, limit: int, what: str) -> httpx.Response:
    """Read the body here, so a connection lost mid-body is a transport error the retry
    rules see, and never more than ``limit`` bytes of it."""
    if _declared_size(response) > limit:
        response.close()
        raise _too_large(what, limit)
    chunks, size = [], 0
    try:
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > limit:
                raise _too_large(what, limit)
            chunks.append(chunk)
    finally:
        response.close()
    return _whole(response, b"".join(chunks))


async def _aread_whole(response: httpx.Response, limit: int, what: str) -> httpx.Response:
    """:func:`_read_whole` for the async transport."""
    if _declared_size(response) > limit:
        await response.aclose()
        raise _too_large(what, limit)
    chunks, size = [], 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                raise _too_large(what, limit)
            chunks.append(chunk)
    finally:
        await response.aclose()
    return _whole(response, b"".join(chunks))


def _to_inspect(decide: _Decider, request: httpx.Request, response: httpx.Response) -> bool:
    """Whether a streamed answer's body must be read before deciding (others are read already)."""
    return response.status_code in decide.policy.statuses or REFUSED in request.extensions


def _cost(request: httpx.Request) -> float:
    return float(request.extensions.get(COST, 1.0))


class RetryingTransport(httpx.BaseTransport):
    """Wraps a transport with the budget wait, the retry rules and the URL check."""

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy = RetryPolicy(), *,
                 budget: Budget | None = None, idempotency_header: str | None = None,
                 on_response: Callable[[httpx.Response], Any] | None = None,
                 on_wait: Callable[[float, str], Any] | None = None,
                 sleep: Callable[[float], Any] = time.sleep, rng: random.Random | None = None,
                 secrets: Iterable[str | Secret] = (),
                 max_answer_bytes: int = HttpOptions.max_answer_bytes) -> None:  # type: ignore[assignment]
        self.inner = inner
        self.budget = budget
        self.on_response = on_response
        self.sleep = sleep
        self.max_answer_bytes = max_answer_bytes
        self.decide = _Decider(policy, idempotency_header, on_wait, rng or random.Random(), secrets)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_url(request.url)
        request.read()  # the body must be replayable
        tries = 0
        while True:
            tries += 1
            if self.budget is not None:
                self.budget.acquire(_cost(request))
            try:
                response = self.inner.handle_request(request)
                if STREAM not in request.extensions:
                    response = _read_whole(response, self.max_answer_bytes, self.decide.label(request))
            except httpx.TransportError as exc:
                wait = self.decide.after_error(request, exc, tries)
            else:
                if STREAM in request.extensions and _to_inspect(self.decide, request, response):
                    response.read()  # a short error body, or one to inspect; frees the connection
                response.request = request  # on_response may read what was asked (its extensions)
                if self.on_response is not None:
                    self.on_response(response)
                decided = self.decide.after_response(request, response, tries)
                if decided is None:
                    return response
                wait = decided
            self.sleep(wait)

    def close(self) -> None:
        self.inner.close()


class AsyncRetryingTransport(httpx.AsyncBaseTransport):
    """:class:`RetryingTransport` for ``httpx.AsyncClient``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, policy: RetryPolicy = RetryPolicy(), *,
                 budget: Budget | None = None, idempotency_header: str | None = None,
                 on_response: Callable[[httpx.Response], Any] | None = None,
                 on_wait: Callable[[float, str], Any] | None = None,
                 rng: random.Random | None = None, secrets: Iterable[str | Secret] = (),
                 max_answer_bytes: int = HttpOptions.max_answer_bytes) -> None:  # type: ignore[assignment]
        self.inner = inner
        self.budget = budget
        self.on_response = on_response
        self.max_answer_bytes = max_answer_bytes
        self.decide = _Decider(policy, idempotency_header, on_wait, rng or random.Random(), secrets)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url(request.url)
        await request.aread()
        tries = 0
        while True:
            tries += 1
            if self.budget is not None:
                await self.budget.aacquire(_cost(request))
            try:
                response = await self.inner.handle_async_request(request)
                if STREAM not in request.extensions:
                    response = await _aread_whole(response, self.max_answer_bytes,
                                                  self.decide.label(request))
            except httpx.TransportError as exc:
                wait = self.decide.after_error(request, exc, tries)
            else:
                if STREAM in request.extensions and _to_inspect(self.decide, request, response):
                    await response.aread()
                response.request = request
                if self.on_response is not None:
                    self.on_response(response)
                decided = self.decide.after_response(request, response, tries)
                if decided is None:
                    return response
                wait = decided
            await asyncio.sleep(wait)

    async def aclose(self) -> None:
        await self.inner.aclose()


def http_client(options: HttpOptions = HttpOptions(), *, base_url: str = "",
                headers: Mapping[str, str] | None = None, budget: Budget | None = None,
                idempotency_header: str | None = None,
                on_response: Callable[[httpx.Response], Any] | None = None,
                on_wait: Callable[[float, str], Any] | None = None,
                secrets: Iterable[str | Secret] = ()) -> httpx.Client:
    """An ``httpx.Client`` whose every request goes through a :class:`RetryingTransport`.

    ``secrets`` are masked wherever a request is named (its errors and waits).
    """
    inner = httpx.HTTPTransport(verify=True, limits=options.limits, proxy=options.proxy)
    transport = RetryingTransport(inner, options.retry, budget=budget,
                                  idempotency_header=idempotency_header,
                                  on_response=on_response, on_wait=on_wait, secrets=secrets,
                                  max_answer_bytes=options.max_answer_bytes)
    return httpx.Client(transport=transport, **_client_options(options, base_url, headers))


def async_http_client(options: HttpOptions = HttpOptions(), *, base_url: str = "",
                      headers: Mapping[str, str] | None = None, budget: Budget | None = None,
                      idempotency_header: str | None = None,
                      on_response: Callable[[httpx.Response], Any] | None = None,
                      on_wait: Callable[[float, str], Any] | None = None,
                      secrets: Iterable[str | Secret] = ()) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request goes through an :class:`AsyncRetryingTransport`."""
    inner = httpx.AsyncHTTPTransport(verify=True, limits=options.limits, proxy=options.proxy)
    transport = AsyncRetryingTransport(inner, options.retry, budget=budget,
                                       idempotency_header=idempotency_header,
                                       on_response=on_response, on_wait=on_wait, secrets=secrets,
                                       max_answer_bytes=options.max_answer_bytes)
    return httpx.AsyncClient(transport=transport, **_client_options(options, base_url, headers))


def _client_options(options: HttpOptions, base_url: str,
                    headers: Mapping[str, str] | None) -> dict[str, Any]:
    """What both clients share: the checked base URL, timeouts, no redirects, no env proxies."""
    if base_url:
        check_url(base_url)
    return {"base_url": base_url, "headers": headers, "timeout": options.timeout,
            "follow_redirects": False, "trust_env": False}

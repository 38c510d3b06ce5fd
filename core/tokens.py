"""Access tokens that expire: kept, refreshed ahead of time, once, shared.

Platforms hand out tokens with a lifetime (Tray: an access token of about 3 h
and a refresh token of a month; Ideris: a login token obtained with a key;
Shopify: a long-lived token, the same shape with no expiry). Every plugin
needs the same care around them, so it lives here once:

- the token is kept in the connection's state store, so a restart (or another
  process on the same store) reuses it instead of authorizing again;
- it is refreshed *ahead* of expiry (``margin`` before it), so a request never
  leaves with a token that dies on the way;
- concurrent callers (threads, asyncio tasks, even on different event loops
  and through different :class:`~tramo.state.StateStore` objects on the same
  file) share one refresh: refreshing twice at once can burn a one-use
  refresh token or authorization code;
- after a 401, :meth:`TokenKeeper.invalidate` forgets the token only if it is
  still the stored one, so ten concurrent 401s lead to one refresh, not ten.

The state file is the credential store (like a keyring): access and refresh
tokens are written to it *revealed*, because they must survive a restart.
Protect the file as you would the settings' secrets. In memory they are
:class:`~tramo.secrets.Secret` again, so reprs, messages and logs show ``***``.
Processes on the same store re-read the stored token before refreshing, so
one that refreshed moments ago is seen; two processes that both find the
token stale at the same instant can still both refresh.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import functools
import inspect
import json
import logging
import threading
import types
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import attrs
import httpx

from tramo.aio import call_async, call_sync
from tramo.errors import AuthenticationError
from tramo.secrets import Secret
from tramo.state import ConnectionState

__all__ = ["Obtain", "Token", "TokenAuth", "TokenKeeper", "bearer", "jwt_expiry", "query_parameter",
           "raw_header"]

_log = logging.getLogger("tramo.tokens")

#: Version of the stored record; a record of another version is treated as absent.
_FORMAT: Final = 1


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise TypeError(f"{attribute.name} must be a datetime or None, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be an aware datetime (with a timezone), "
                         "got a naive one")


def _not_empty(instance: Any, attribute: attrs.Attribute[Any], value: Secret | None) -> None:
    if value is not None and not value:
        raise ValueError(f"the {attribute.name} token of a Token cannot be empty")


def _secret(value: str | Secret) -> Secret:
    return Secret(value)


def _optional_secret(value: str | Secret | None) -> Secret | None:
    return None if value is None else Secret(value)


def _frozen_extra(value: Mapping[str, str]) -> Mapping[str, str]:
    extra = dict(value)
    for name, item in extra.items():
        if not isinstance(name, str) or not isinstance(item, str):
            raise TypeError("Token.extra maps text to text (and holds nothing secret: it is shown "
                            f"in reprs); got a {type(item).__name__} under {name!r}")
    return types.MappingProxyType(extra)


@attrs.frozen
class Token:
    """An access token, when it expires, and what renews it.

    ``access`` and ``refresh`` are :class:`~tramo.secrets.Secret` (text is
    wrapped), so a Token's repr shows ``***`` for them. ``expires_at`` None
    means it never expires (Shopify); times must carry a timezone.
    ``extra`` keeps what the platform handed out with the token and the
    plugin needs later (Tray's ``api_address`` and ``store_id``); it is not
    secret and appears in the repr.
    """

    access: Secret = attrs.field(converter=_secret, validator=_not_empty)
    expires_at: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware)
    refresh: Secret | None = attrs.field(default=None, kw_only=True, converter=_optional_secret,
                                         validator=_not_empty)
    refresh_expires_at: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware)
    extra: Mapping[str, str] = attrs.field(factory=dict, kw_only=True, converter=_frozen_extra,
                                           hash=False, repr=lambda extra: repr(dict(extra)))
    #: when it was obtained (the keeper stamps it), so its whole lifetime is known
    issued_at: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware, eq=False)

    def expired(self, now: datetime | None = None) -> bool:
        """True once the access token no longer works."""
        return self.expires_at is not None and self.expires_at <= (now or _utcnow())

    def refreshable(self, now: datetime | None = None) -> bool:
        """True when a refresh token is there and still works; else authorize afresh."""
        return self.refresh is not None and (
            self.refresh_expires_at is None or self.refresh_expires_at > (now or _utcnow()))


#: The plugin's function that renews a token: given the current (maybe
#: expired or refused) token, or None when there is none yet, it refreshes or
#: authorizes afresh and returns the new token. Plain or ``async``.
Obtain = Callable[[Token | None], Token | Awaitable[Token]]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _dump(token: Token) -> dict[str, Any]:
    """The stored record: secrets revealed, since the state file is the credential store."""
    return {
        "format": _FORMAT,
        "access": token.access.reveal(),
        "expires_at": _time(token.expires_at),
        "refresh": token.refresh.reveal() if token.refresh is not None else None,
        "refresh_expires_at": _time(token.refresh_expires_at),
        "extra": dict(token.extra),
        "issued_at": _time(token.issued_at),
        "invalid": False,
    }


@attrs.frozen
class _Stored:
    token: Token
    invalid: bool


def _load(record: Any) -> _Stored | None:
    """The stored token, or None when there is none or it cannot be read (then it is replaced)."""
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        return None
    try:
        token = Token(record["access"], expires_at=_parse_time(record["expires_at"]),
                      refresh=record["refresh"],
                      refresh_expires_at=_parse_time(record["refresh_expires_at"]),
                      extra=record["extra"], issued_at=_parse_time(record.get("issued_at")))
    except (KeyError, TypeError, ValueError):
        return None
    return _Stored(token, bool(record.get("invalid")))


class _Retry:
    """The outcome of a refresh interrupted (cancelled, KeyboardInterrupt): waiters try again."""


_RETRY: Final = _Retry()
_Outcome = Token | Exception | _Retry


def _settle_future(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Flight:
    """One refresh in progress, waited on by threads and by tasks on any event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop = loop  # the loop of an async leader, where a sync wait would deadlock
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._outcome: _Outcome = _RETRY
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def settle(self, outcome: _Outcome) -> None:
        with self._lock:
            if self._done.is_set():
                return
            self._outcome = outcome
            self._done.set()
            futures, self._futures = self._futures, []
        for loop, future in futures:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting
                loop.call_soon_threadsafe(_settle_future, future)

    def wait(self) -> Token | _Retry:
        if self.loop is not None and self.loop is _running_loop():
            raise RuntimeError("a sync TokenKeeper.get() would block the event loop that is "
                               "refreshing the token; use 'await keeper.aget()' in async code")
        self._done.wait()
        return self._result()

    async def await_(self) -> Token | _Retry:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._done.is_set():
                future.set_result(None)
            else:
                self._futures.append((loop, future))
        await future
        return self._result()

    def _result(self) -> Token | _Retry:
        if isinstance(self._outcome, Exception):
            raise self._outcome
        return self._outcome


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# One flight per stored token in the whole process: keepers on different
# StateStore objects of the same file share it.
_flights: dict[tuple[Any, str, str], _Flight] = {}
_flights_lock = threading.Lock()
# The slots whose obtain() is running in this context: obtain calling get() on
# its own keeper would wait for itself.
_obtaining: contextvars.ContextVar[frozenset[tuple[Any, str, str]]] = contextvars.ContextVar(
    "tramo_tokens_obtaining", default=frozenset())


def _store_identity(state: ConnectionState) -> Any:
    """The file behind ``state`` (resolved), or its store object when it lives in memory."""
    store = state.store
    path = store.path
    return str(path.resolve()) if path is not None else store


class TokenKeeper:
    """Keeps one connection's token valid: stored, refreshed ahead of expiry, once.

    :param state: the connection's state; the token is stored under ``key``.
    :param obtain: the plugin's renewal, ``obtain(current) -> Token`` (plain or
        ``async``); ``current`` is the stored token (expired, about to, or
        refused) or None when there is none yet. It is never called twice at
        once for the same stored token in this process.
    :param key: the state key, for a connection that holds several tokens.
    :param margin: refresh when the token has no more than this left (or a
        quarter of its lifetime, when that is shorter).
    :param clock: the current time, aware; tests pass a fake.
    """

    def __init__(self, state: ConnectionState, obtain: Obtain, *, key: str = "token",
                 margin: timedelta = timedelta(minutes=5),
                 clock: Callable[[], datetime] = _utcnow) -> None:
        if margin < timedelta(0):
            raise ValueError("margin cannot be negative")
        self.state = state
        self.obtain = obtain
        self.key = key
        self.margin = margin
        self.clock = clock
        self._slot = (_store_identity(state), state.namespace, key)

    @property
    def _async(self) -> bool:
        """Whether obtain is ``async``: then it runs on the caller's loop, else in a thread."""
        return inspect.iscoroutinefunction(self.obtain) or inspect.iscoroutinefunction(
            getattr(self.obtain, "__call__", None))

    def __repr__(self) -> str:
        return f"TokenKeeper({self.state!r}, key={self.key!r}, margin={self.margin})"

    def get(self) -> Token:
        """The stored token while it has more than ``margin`` left, else a new one."""
        while True:
            if (token := self._usable()) is not None:
                return token
            flight, leader = self._join(None)
            outcome = self._lead(flight) if leader else flight.wait()
            if isinstance(outcome, Token):
                return outcome

    async def aget(self) -> Token:
        """:meth:`get` for async code: the event loop never blocks on the refresh.

        The refresh does not run in the caller's task: an ``async`` obtain runs
        as a task of its own on the caller's loop (where the plugin's async
        client lives), a plain one in a thread of its own. Cancelling the caller
        that started it cancels neither, so its result still reaches the
        others and is stored.
        """
        while True:
            if (token := self._usable()) is not None:
                return token
            loop = asyncio.get_running_loop()
            flight, leader = self._join(loop if self._async else None)
            if leader:
                self._start(flight, loop)
            outcome = await flight.await_()
            if isinstance(outcome, Token):
                return outcome

    def invalidate(self, token: Token) -> bool:
        """Forget ``token`` (the platform refused it) so the next get() renews it.

        Only when it is still the stored token: a caller holding a token that
        was already renewed changes nothing. The token stays stored, marked
        refused, so ``obtain`` still receives it (and its refresh token).
        True when this call marked it.
        """
        with self.state.atomic():
            record = self.state.get(self.key)
            stored = _load(record)
            if stored is None or stored.invalid or stored.token != token:
                return False
            self.state.set(self.key, {**record, "invalid": True})
        _log.debug("%s: the stored token was refused; the next get() renews it", self)
        return True

    # -- internals

    def _usable(self) -> Token | None:
        stored = _load(self.state.get(self.key))
        if stored is None or stored.invalid or not self._lasts(stored.token):
            return None
        return stored.token

    def _lasts(self, token: Token) -> bool:
        if token.expires_at is None:
            return True
        margin = self.margin
        if token.issued_at is not None:
            # A token that lives less than four margins (a sandbox with a time
            # scale, a platform with short tokens) is renewed when a quarter is left.
            margin = min(margin, (token.expires_at - token.issued_at) / 4)
        return token.expires_at - self.clock() > margin

    def _join(self, loop: asyncio.AbstractEventLoop | None) -> tuple[_Flight, bool]:
        """The refresh in progress for this token, or a new one this caller leads."""
        if self._slot in _obtaining.get():
            raise RuntimeError(f"{self!r}: obtain() asked the same keeper for a token; it would "
                               "wait for itself. obtain() receives the current token instead")
        with _flights_lock:
            if (flight := _flights.get(self._slot)) is not None:
                return flight, False
            flight = _flights[self._slot] = _Flight(loop)
            return flight, True

    def _land(self, flight: _Flight, outcome: _Outcome) -> None:
        with _flights_lock:
            if _flights.get(self._slot) is flight:
                del _flights[self._slot]
        flight.settle(outcome)

    def _start(self, flight: _Flight, loop: asyncio.AbstractEventLoop) -> None:
        """Start the refresh ``flight`` stands for, apart from the caller."""
        try:
            if self._async:
                task = loop.create_task(self._alead(flight))
                task.add_done_callback(functools.partial(self._finished, flight))
            else:
                context = contextvars.copy_context()
                threading.Thread(target=context.run, args=(self._lead_apart, flight),
                                 name="tramo-token-refresh").start()
        except BaseException as exc:
            self._land(flight, exc if isinstance(exc, Exception) else _RETRY)
            raise

    def _lead_apart(self, flight: _Flight) -> None:
        """:meth:`_lead` in a thread of its own; its outcome reaches callers through ``flight``."""
        with contextlib.suppress(BaseException):
            self._lead(flight)

    def _finished(self, flight: _Flight, task: asyncio.Task[Token]) -> None:
        """After an async refresh: its error is seen (nobody awaits the task), its flight landed.

        A task cancelled before it ever ran never reached its own ``except``;
        landing again is harmless, a flight settles once.
        """
        if not task.cancelled():
            task.exception()
        self._land(flight, _RETRY)

    @contextlib.contextmanager
    def _inside_obtain(self) -> Iterator[None]:
        marker = _obtaining.set(_obtaining.get() | {self._slot})
        try:
            yield
        finally:
            _obtaining.reset(marker)

    def _recheck(self) -> tuple[Token | None, Token | None]:
        """Before renewing: (the stored token if another renewed it meanwhile, what obtain gets).

        Another keeper's flight, or another process, may have stored a new
        token between this caller's look and its taking the lead.
        """
        stored = _load(self.state.get(self.key))
        if stored is not None and not stored.invalid and self._lasts(stored.token):
            return stored.token, None
        self._announce(stored)
        return None, stored.token if stored is not None else None

    def _lead(self, flight: _Flight) -> Token:
        try:
            token, current = self._recheck()
            if token is None:
                with self._inside_obtain():
                    result = call_sync(functools.partial(self.obtain, current), {})
                token = self._keep(result)
        except Exception as exc:
            self._land(flight, exc)
            raise
        except BaseException:
            self._land(flight, _RETRY)
            raise
        self._land(flight, token)
        return token

    async def _alead(self, flight: _Flight) -> Token:
        try:
            token, current = self._recheck()
            if token is None:
                with self._inside_obtain():
                    result = await call_async(functools.partial(self.obtain, current), {})
                token = self._keep(result)
        except Exception as exc:
            self._land(flight, exc)
            raise
        except BaseException:
            self._land(flight, _RETRY)
            raise
        self._land(flight, token)
        return token

    def _announce(self, stored: _Stored | None) -> None:
        if stored is None:
            why = "no token is stored"
        elif stored.invalid:
            why = "the stored token was refused"
        else:
            why = f"the stored token expires at {_time(stored.token.expires_at)}"
        _log.debug("%s: renewing the token: %s", self, why)

    def _keep(self, result: Any) -> Token:
        """Check what obtain() returned and store it."""
        if not isinstance(result, Token):
            raise TypeError("obtain() must return a tramo.tokens.Token, "
                            f"not {type(result).__name__}")
        if result.expired(self.clock()):
            # Storing it would have every later get() renew again at once.
            raise AuthenticationError(
                f"the token obtained for {self.state.namespace!r} ({self.key!r}) had already "
                f"expired (at {_time(result.expires_at)}, now {_time(self.clock())}); check the "
                "platform's answer and this machine's clock")
        if result.issued_at is None:
            result = attrs.evolve(result, issued_at=self.clock())
        self.state.set(self.key, _dump(result))
        if not self._lasts(result):
            _log.warning("%s: the new token expires at %s, within the %s margin; every get() "
                         "will renew it until the margin is made shorter",
                         self, _time(result.expires_at), self.margin)
        else:
            _log.debug("%s: new token stored, expires at %s", self, _time(result.expires_at))
        return result


# -- putting the token on requests ------------------------------------------------------

#: Puts the access token (revealed text) on a request.
Place = Callable[[httpx.Request, str], None]


def bearer(request: httpx.Request, access: str) -> None:
    """``Authorization: Bearer <token>``, the common case."""
    request.headers["Authorization"] = f"Bearer {access}"


def raw_header(request: httpx.Request, access: str) -> None:
    """``Authorization: <token>`` with no scheme (Ideris wants the JWT bare)."""
    request.headers["Authorization"] = access


def jwt_expiry(token: str) -> datetime | None:
    """When a JWT says it expires (its ``exp`` claim), or None when it does not say.

    Read without verifying the signature: the platform verifies its own token;
    the client only needs to know when to renew it ahead of time.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
        exp = claims.get("exp") if isinstance(claims, dict) else None
        if isinstance(exp, bool) or not isinstance(exp, (int, float)):
            return None
        return datetime.fromtimestamp(exp, timezone.utc)
    except (ValueError, UnicodeError, OverflowError, OSError):
        return None


def query_parameter(name: str) -> Place:
    """The token as a query parameter (Tray's ``access_token``); tramo's log filters redact it."""

    def place(request: httpx.Request, access: str) -> None:
        request.url = request.url.copy_merge_params({name: access})

    return place


def _unauthorized(response: httpx.Response) -> bool:
    return response.status_code == 401


class TokenAuth(httpx.Auth):
    """An httpx ``auth=`` that signs each request with the keeper's token.

    When the platform refuses the token (``refused(response)``, by default a
    401), the token is invalidated, renewed once (one renewal however many
    requests were refused together) and the request is sent once more; a
    second refusal is returned to the caller, who turns it into an
    :class:`~tramo.errors.AuthenticationError`. A refused request did not
    act, so sending a write again is safe.
    """

    def __init__(self, keeper: TokenKeeper, place: Place = bearer,
                 refused: Callable[[httpx.Response], bool] = _unauthorized) -> None:
        self.keeper = keeper
        self.place = place
        self.refused = refused

    def sync_auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:  # type: ignore[override]
        token = self.keeper.get()
        self.place(request, token.access.reveal())
        response = yield request
        response.read()  # a refusal may be told apart by its body (Tray's error_code)
        if self.refused(response):
            self.keeper.invalidate(token)
            self.place(request, self.keeper.get().access.reveal())
            yield request

    async def async_auth_flow(self, request: httpx.Request):  # type: ignore[override,no-untyped-def]
        token = await self.keeper.aget()
        self.place(request, token.access.reveal())
        response = yield request
        await response.aread()
        if self.refused(response):
            self.keeper.invalidate(token)
            self.place(request, (await self.keeper.aget()).access.reveal())
            yield request

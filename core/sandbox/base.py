"""What every sandbox shares, whatever wire protocol it speaks.

A sandbox is a real server on a loopback port that a plugin talks to as it
would talk to its platform. Tests, the conformance kit, benchmarks and hosts
working offline all use the same object:

    with plugin_sandbox as running:
        connection = Connection(registry, "tray_rest", running.settings)
        ...
        running.data      # what the platform holds now
        running.calls     # what reached it

Knobs make it misbehave the way platforms do (latency, 429s, 5xx, hangs,
dropped connections, malformed bodies, repeated pages, rate limits), and a
time scale makes platform durations (token lifetimes, Retry-After, rate
windows) pass in milliseconds.
"""

from __future__ import annotations

import abc
import collections
import contextlib
import enum
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, Self

import attrs

from tramo.budget import Window

__all__ = ["Call", "Fault", "Knobs", "PlatformView", "Profile", "RateLimiter", "Sandbox"]


class Fault(enum.Enum):
    """Ways a platform misbehaves, each injected by the sandbox on request."""

    #: 429 with a Retry-After; the request is not handled.
    RATE_LIMITED = "rate_limited"
    #: a 5xx answer; the request is not handled.
    SERVER_ERROR = "server_error"
    #: no answer until the client has given up; the request IS handled
    #: afterwards, as a slow platform does (the write lands, the caller never hears).
    TIMEOUT = "timeout"
    #: the connection is closed without an answer; the request is not handled.
    DROPPED = "dropped"
    #: the request is handled but its answer is cut short (invalid body).
    MALFORMED = "malformed"
    #: a read of a page answers with the page served before it.
    DUPLICATE_PAGE = "duplicate_page"


@attrs.define
class Knobs:
    """How a sandbox behaves; change them on a running sandbox, ``reset()`` restores them.

    :param latency: real seconds added to every call.
    :param faults: the chance (0 to 1) of each fault on any call.
    :param seed: seeds the fault draws, so a failing run can be replayed.
    :param hang: real seconds a TIMEOUT call hangs before it is handled.
    :param retry_after: platform seconds a 429 asks the client to wait.
    :param time_scale: platform durations are divided by this (1000: a
        3-hour token lasts 10.8 s, a minute's rate window 60 ms).
    :param rate_limits: the platform's windows in platform seconds, enforced
        per sandbox with 429s; empty for none.
    """

    latency: float = 0.0
    faults: dict[Fault, float] = attrs.field(factory=dict)
    seed: int = 0
    hang: float = 5.0
    retry_after: float = 1.0
    time_scale: float = 1.0
    rate_limits: Sequence[Window] = ()


@attrs.frozen
class Call:
    """One request as the sandbox saw it."""

    method: str
    path: str
    query: str
    status: int | None
    fault: Fault | None
    at: float


@attrs.frozen
class Profile:
    """What the conformance kit must know about a platform, declared by its sandbox.

    :param kept: per model class name, the fields the platform keeps
        (``{"Product": {"code", "name", ...}, "Variant": {...}}``); a class not
        listed is kept whole, one listed with no fields is not kept at all (Tray
        keeps no ``StockReservation``: the plugin does). What is not kept is
        declared here, never dropped silently.
    :param orders: ``"incremental"`` (read changes since a checkpoint) or
        ``"queue"`` (orders stay until acknowledged).
    :param mappings: the status (and shipping, payment, channel) tables of a
        host using this sandbox, as ``Connection(mappings=...)`` takes them.
    :param invalid: per capability, ways to turn a valid item into one the
        model allows but the platform refuses: ``(what, make_invalid)`` pairs.
    :param page_size_setting: the setting that sets a read's page size, if any.
    :param opt_out: property name to the written reason it does not apply.
    """

    kept: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    orders: str = attrs.field(default="incremental",
                              validator=attrs.validators.in_(("incremental", "queue")))
    mappings: Mapping[str, Any] = attrs.field(factory=dict)
    invalid: Mapping[str, Sequence[tuple[str, Callable[[Any], Any]]]] = attrs.field(factory=dict)
    page_size_setting: str | None = None
    opt_out: Mapping[str, str] = attrs.field(factory=dict)

    @opt_out.validator
    def _reasons(self, attribute: Any, value: Mapping[str, str]) -> None:
        blank = sorted(name for name, reason in value.items() if not str(reason).strip())
        if blank:
            raise ValueError(f"an opt-out needs a written reason; none given for {', '.join(blank)}")


class PlatformView(Protocol):
    """The platform's side, in the model's terms: what the conformance kit reads and does.

    A sandbox implements the methods the kit's properties for its plugin's
    capabilities need (products round trip: ``held_products``; reservations:
    ``held_stock`` and ``held_reservations``; ...); the kit names any it lacks.
    """

    def held_products(self) -> list[Any]:
        """The products the platform holds, as :class:`tramo.Product`."""
        ...

    def held_stock(self) -> dict[str, int]:
        """SKU to the quantity the platform would sell now (reservations taken off)."""
        ...

    def held_reservations(self) -> dict[str, int]:
        """Reservation id to the quantity it still holds (released ones absent)."""
        ...

    def held_prices(self) -> dict[str, Any]:
        """SKU to its :class:`tramo.Price` as the platform holds it."""
        ...

    def held_trackings(self) -> dict[str, list[str]]:
        """Order id to the tracking codes the platform holds for it (a duplicate shows twice)."""
        ...

    def held_invoices(self) -> dict[str, list[str]]:
        """Order id to the NF-e access keys the platform holds for it (a duplicate shows twice)."""
        ...

    def held_status(self, order_id: str) -> str:
        """The platform's status id of an order."""
        ...

    def place_order(self, order: Any) -> str:
        """A buyer places ``order`` (a :class:`tramo.Order`) now; returns the platform's id.

        The sandbox stamps placement and change times itself, strictly
        increasing, so checkpoints taken from them are exact.
        """
        ...

    def change_order(self, order_id: str) -> None:
        """Something changes the order on the platform now (its change time moves)."""
        ...


VIEW_METHODS = frozenset(name for name in vars(PlatformView)
                         if name.startswith(("held_", "place_", "change_")))


class RateLimiter:
    """The platform's side of rate limiting: exact sliding windows, answering how long to wait."""

    def __init__(self, windows: Sequence[Window], scale: Callable[[float], float],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.windows = [(w.limit, scale(w.seconds)) for w in windows]
        self.clock = clock
        self._seen: list[collections.deque[float]] = [collections.deque() for _ in windows]
        self._lock = threading.Lock()

    def admit(self) -> float:
        """Count a call and return 0, or refuse it and return the seconds until one fits."""
        with self._lock:
            now = self.clock()
            wait = 0.0
            for (limit, seconds), seen in zip(self.windows, self._seen):
                while seen and seen[0] <= now - seconds:
                    seen.popleft()
                if len(seen) >= limit:
                    wait = max(wait, seen[0] + seconds - now)
            if wait > 0:
                return wait
            for seen in self._seen:
                seen.append(now)
            return 0.0


class Sandbox(abc.ABC):
    """A platform's stand-in on loopback: start it, point a plugin at it, read what it holds.

    Subclasses implement :meth:`_start`, :meth:`_stop`, :attr:`settings` and
    :meth:`fresh_data`, and route each request through :meth:`admit` so knobs apply.
    ``data`` is the platform's state; it is replaced, not emptied, on
    :meth:`reset`, so a reset costs the same however much a test wrote.
    """

    #: the plugin this sandbox stands in for
    plugin: str = ""
    #: what the conformance kit must know about the platform
    profile: Profile = Profile()

    def __init__(self, knobs: Knobs | None = None) -> None:
        self._initial = attrs.evolve(knobs) if knobs is not None else Knobs()
        self.lock = threading.RLock()
        self.calls: collections.deque[Call] = collections.deque(maxlen=100_000)
        self._forced: list[tuple[Fault, Callable[[str, str], bool] | None]] = []
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._inflight = 0
        self._running = False
        self.knobs = attrs.evolve(self._initial)
        self.data = self.fresh_data()
        self._apply_knobs()

    # -- lifecycle -------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Self:
        if not self._running:
            self._start()
            self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._cut_hangs()
            self._stop()
            self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def reset(self) -> None:
        """Forget everything: data, calls, queued faults; knobs back to how they started.

        Calls still hanging on a TIMEOUT are cut off (never handled), so a
        test's leftovers cannot land in the next test's data.
        """
        self._cut_hangs()
        self.settle(timeout=1.0)
        with self.lock:
            self.data = self.fresh_data()
            self.calls.clear()
            self._forced.clear()
            self.knobs = attrs.evolve(self._initial)
            self._apply_knobs()

    def configure(self, **changes: Any) -> None:
        """Change knobs on a running sandbox (``configure(latency=0.05)``)."""
        with self.lock:
            self.knobs = attrs.evolve(self.knobs, **changes)
            self._apply_knobs()

    def _apply_knobs(self) -> None:
        self._random = random.Random(self.knobs.seed)
        self.limiter = RateLimiter(self.knobs.rate_limits, self.duration)

    # -- what subclasses provide ---------------------------------------------

    @abc.abstractmethod
    def _start(self) -> None: ...

    @abc.abstractmethod
    def _stop(self) -> None: ...

    @property
    @abc.abstractmethod
    def settings(self) -> dict[str, Any]:
        """The plugin settings that reach this sandbox (valid only while it runs)."""

    @abc.abstractmethod
    def fresh_data(self) -> Any:
        """The platform's state as a new account has it (plus any seed records)."""

    # -- time ------------------------------------------------------------------

    def duration(self, platform_seconds: float) -> float:
        """Real seconds a platform duration lasts here."""
        return platform_seconds / self.knobs.time_scale

    def now(self) -> float:
        """Wall-clock time, for expiry stamps compared with the client's clock."""
        return time.time()

    # -- faults ----------------------------------------------------------------

    def inject(self, fault: Fault, times: int = 1, *,
               where: Callable[[str, str], bool] | None = None) -> None:
        """Make the next ``times`` calls (that ``where(method, path)`` accepts) fail this way."""
        with self.lock:
            self._forced.extend([(fault, where)] * times)

    def draw_fault(self, method: str, path: str) -> Fault | None:
        """The fault this call suffers: a queued one first, else by the knobs' chances."""
        with self.lock:
            for index, (fault, where) in enumerate(self._forced):
                if where is None or where(method, path):
                    del self._forced[index]
                    return fault
            for fault, chance in self.knobs.faults.items():
                if chance > 0 and self._random.random() < chance:
                    return fault
        return None

    def admit(self, method: str, path: str) -> tuple[Fault | None, float]:
        """Apply latency and draw the call's fate: (fault, retry_after real seconds).

        A call over the rate limit comes back as RATE_LIMITED with the real
        wait; an injected 429 asks for ``knobs.retry_after`` platform seconds.
        """
        if self.knobs.latency > 0:
            self.pause(self.knobs.latency)
        fault = self.draw_fault(method, path)
        if fault is Fault.RATE_LIMITED:
            return fault, self.duration(self.knobs.retry_after)
        if fault is None and self.knobs.rate_limits:
            wait = self.limiter.admit()
            if wait > 0:
                return Fault.RATE_LIMITED, wait
        return fault, 0.0

    def hang(self) -> bool:
        """Wait out a TIMEOUT fault; False when a reset or stop cut it short."""
        return not self._wake.wait(self.knobs.hang)

    def _cut_hangs(self) -> None:
        woken, self._wake = self._wake, threading.Event()
        woken.set()

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` (latency), cut short by a reset or stop."""
        self._wake.wait(seconds)

    @contextlib.contextmanager
    def handling(self) -> Iterator[None]:
        """Wrap each request's handling, so :meth:`settle` can wait for the stragglers."""
        with self._idle:
            self._inflight += 1
        try:
            yield
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until no request is being handled (a hung write lands or is cut off).

        :returns: False when ``timeout`` (default: the hang knob plus a second) ran out.
        """
        limit = self.knobs.hang + 1.0 if timeout is None else timeout
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, limit)

    def record(self, method: str, path: str, query: str, status: int | None,
               fault: Fault | None) -> None:
        self.calls.append(Call(method, path, query, status, fault, time.monotonic()))

    def is_write(self, call: Call) -> bool:
        """Whether ``call`` asked the platform to change what it holds (a benchmark counts these).

        By default any method but GET and HEAD; a platform whose reads are not GETs
        (SOAP, GraphQL, file servers) or whose token exchange is a POST says better.
        """
        return call.method not in ("GET", "HEAD")

    def calls_to(self, path: str, method: str | None = None) -> list[Call]:
        """The calls that reached ``path`` (and used ``method``), oldest first."""
        return [c for c in list(self.calls)
                if c.path == path and (method is None or c.method == method)]

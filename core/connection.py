"""A connection: one plugin, its validated settings, the user's mappings, its state.

This is the object every hook receives first. Hosts call capabilities
through it (:meth:`Connection.call` / :meth:`Connection.acall`); the call
goes to this connection's plugin only, never to the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import httpx

from tramo import aio, dispatch
from tramo.budget import Budget, Window
from tramo.capabilities import PLUMBING, CapabilitySpec, Kind, spec_for
from tramo.errors import CapabilityNotSupported, ConfigurationError, PluginContractError, describe
from tramo.http import HttpOptions, async_http_client, http_client, mask_in_http_logs
from tramo.logs import ConnectionLogger
from tramo.mapping import Mappings
from tramo.model import ConnectionReport
from tramo.secrets import Secret
from tramo.bindings import Binder
from tramo.state import ConnectionState, StateStore

if TYPE_CHECKING:
    from tramo.plugin import PluginInfo
    from tramo.registry import Registry

__all__ = ["DEFAULT_TIMEZONE", "Connection"]

#: Tray and most Brazilian platforms send naive local times; this is where they are.
DEFAULT_TIMEZONE = "America/Sao_Paulo"

_T = TypeVar("_T")


class Connection:
    """One store (or account) reached through one plugin.

    :param registry: where the plugin was discovered.
    :param plugin: the plugin's name.
    :param settings: the plugin's settings; validated here, secrets wrapped.
    :param name: the connection's name (default: the plugin's), which namespaces its state.
    :param mappings: the user's status/shipping/payment/channel mappings
        (a :class:`tramo.Mappings` or plain tables).
    :param state: the state store (default: in memory for this process).
    :param timezone: the store's timezone, for platforms that send naive times.
    :param http: timeouts, limits, retry policy and proxy of its HTTP clients.
    :param store_key: which store of the platform this is; connections with
        the same platform and store key share rate budgets (give a store's
        REST and SOAP connections the same key). Default: the connection's name.
    :param on_wait: told (seconds, reason) before any wait on a rate budget or
        a retry, so a host can show it; default: logged at INFO.
    """

    def __init__(self, registry: Registry, plugin: str, settings: Mapping[str, Any],
                 *, name: str | None = None, mappings: Mappings | Mapping[str, Any] | None = None,
                 state: StateStore | None = None, timezone: str = DEFAULT_TIMEZONE,
                 http: HttpOptions | None = None, store_key: str | None = None,
                 on_wait: Callable[[float, str], Any] | None = None) -> None:
        record = registry.available(plugin)
        assert record.info is not None
        self.registry = registry
        self.plugin = plugin
        self.info: PluginInfo = record.info
        self.name = name or plugin
        self.settings: Mapping[str, Any] = MappingProxyType(record.info.validate_settings(settings))
        self.mappings = mappings if isinstance(mappings, Mappings) else Mappings.from_config(mappings)
        self._store = state or StateStore()
        self.state: ConnectionState = self._store.for_connection(self.name)
        self.http_options = http or HttpOptions()
        self.store_key = store_key or self.name
        try:
            self.timezone = ZoneInfo(timezone)
        except Exception:
            raise ConfigurationError(f"unknown timezone {timezone!r}") from None
        secrets = [v for v in self.settings.values() if isinstance(v, Secret)]
        self._secrets = tuple(secrets)
        mask_in_http_logs(self._secrets)
        self.log = ConnectionLogger(logging.getLogger(f"tramo.plugin.{plugin}"), self.name, secrets)
        self.on_wait = on_wait or (lambda seconds, reason: self.log.info(reason))
        self._restrictions: dict[str, str] | None = None
        self._plans: dict[str, _Plan] = {}
        self._budgets: dict[str, Budget] = {}
        self._resources: dict[str, Any] = {}
        self._clients: list[httpx.Client | httpx.AsyncClient] = []

    def __repr__(self) -> str:
        return f"Connection(name={self.name!r}, plugin={self.plugin!r})"

    # -- resources ------------------------------------------------------------

    def budget(self, name: str, windows: Sequence[Window]) -> Budget:
        """The store's rate budget ``name``, shared by every connection and process on it."""
        budget = self._budgets.get(name)
        if budget is None:
            shared = self._store.for_connection(f"store:{self.info.platform}:{self.store_key}")
            budget = self._budgets[name] = Budget(shared, name, windows, on_wait=self.on_wait)
        return budget

    def http_client(self, base_url: str = "", *, headers: Mapping[str, str] | None = None,
                    budget: Budget | None = None, idempotency_header: str | None = None,
                    on_response: Callable[[httpx.Response], Any] | None = None) -> httpx.Client:
        """A new HTTP client with the core's retries, budget waits and URL checks.

        :param budget: drawn from before every try (see :meth:`budget`).
        :param idempotency_header: the header by which the platform recognises a
            repeated write; a request carrying it may be retried.
        :param on_response: sees every answer first (to feed a budget what the
            platform reports about its limits).
        Closed with the connection.
        """
        client = http_client(self.http_options, base_url=base_url, headers=headers, budget=budget,
                             idempotency_header=idempotency_header, on_response=on_response,
                             on_wait=self.on_wait, secrets=self._secrets)
        self._clients.append(client)
        return client

    def async_http_client(self, base_url: str = "", *, headers: Mapping[str, str] | None = None,
                          budget: Budget | None = None, idempotency_header: str | None = None,
                          on_response: Callable[[httpx.Response], Any] | None = None
                          ) -> httpx.AsyncClient:
        """:meth:`http_client` for async hooks (use it from one event loop)."""
        client = async_http_client(self.http_options, base_url=base_url, headers=headers,
                                   budget=budget, idempotency_header=idempotency_header,
                                   on_response=on_response, on_wait=self.on_wait,
                                   secrets=self._secrets)
        self._clients.append(client)
        return client

    def binder(self, kind: str) -> Binder:
        """The external-id bindings of ``kind`` on this connection (see :mod:`tramo.bindings`)."""
        return Binder(self.state, kind)

    def resource(self, key: str, factory: Callable[[], _T]) -> _T:
        """What ``factory`` makes, made once per connection (a plugin's API client, say)."""
        if key not in self._resources:
            self._resources[key] = factory()
        return self._resources[key]  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close every client and resource the connection made."""
        resources, self._resources = list(self._resources.values()), {}
        clients, self._clients = self._clients, []
        for thing in [*resources, *clients]:
            try:
                if isinstance(thing, httpx.AsyncClient) or (
                        not hasattr(thing, "close") and hasattr(thing, "aclose")):
                    aio.call_sync(thing.aclose, {})
                elif hasattr(thing, "close"):
                    thing.close()
            except Exception as exc:  # closing must not hide the host's own error
                self.log.debug("closing %s failed: %s", type(thing).__name__, describe(exc))

    async def aclose(self) -> None:
        """:meth:`close` for async hosts: async clients close on the running loop."""
        for thing in [*self._resources.values(), *self._clients]:
            if isinstance(thing, httpx.AsyncClient) or (
                    not hasattr(thing, "close") and hasattr(thing, "aclose")):
                try:
                    await thing.aclose()
                except Exception as exc:
                    self.log.debug("closing %s failed: %s", type(thing).__name__, describe(exc))
        self._clients = [c for c in self._clients if not isinstance(c, httpx.AsyncClient)]
        self._resources = {k: v for k, v in self._resources.items() if hasattr(v, "close")}
        self.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- capabilities ---------------------------------------------------------

    def restrictions(self) -> Mapping[str, str]:
        """Capabilities the plugin has but this connection may not use, with reasons."""
        if self._restrictions is None:
            impl = self.registry.implementation(self.plugin, "restrict_capabilities")
            found: Mapping[str, str] = {}
            if impl is not None:
                found = aio.call_sync(impl.function, self._args(tuple(impl.argnames), {})) or {}
                if not isinstance(found, Mapping):
                    raise PluginContractError(self.plugin, "restrict_capabilities",
                                              f"returned {type(found).__name__}, not a mapping")
            self._restrictions = {str(k): str(v) for k, v in found.items()}
        return MappingProxyType(self._restrictions)

    def capabilities(self) -> frozenset[str]:
        """What this connection can do: the plugin's capabilities less the restricted ones."""
        record = self.registry.record(self.plugin)
        restricted = self.restrictions()
        return frozenset(c for c in record.capabilities if c not in restricted)

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities()

    def why_not(self, capability: str) -> str | None:
        """None when this connection can do ``capability``; else why not, in words
        (the plugin lacks it, naming plugins that have it, or the connection may not use it)."""
        try:
            self._resolve(capability)
        except CapabilityNotSupported as exc:
            return str(exc)
        return None

    def _resolve(self, capability: str) -> Any:
        if capability in PLUMBING:
            raise ConfigurationError(f"{capability!r} is plumbing, not a capability")
        self.registry.hook_argnames(capability)  # raises for a name that is no hook
        impl = self.registry.implementation(self.plugin, capability)
        reason = self.restrictions().get(capability) if impl is not None else None
        if impl is None or reason is not None:
            others = [p for p in self.registry.supporting(capability, self.info.platform)
                      if p != self.plugin]
            raise CapabilityNotSupported(capability, self.plugin, others, reason)
        return impl

    def _plan(self, capability: str) -> _Plan:
        """What calling ``capability`` needs, worked out once per connection."""
        plan = self._plans.get(capability)
        if plan is None:
            impl = self._resolve(capability)
            wanted = tuple(a for a in self.registry.hook_argnames(capability) if a != "connection")
            plan = _Plan.of(impl.function, spec_for(capability), wanted, tuple(impl.argnames))
            self._plans[capability] = plan
        return plan

    def _args(self, accepts: tuple[str, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments a hook implementation takes (it may take fewer than the spec)."""
        values = {"connection": self, **kwargs}
        return {name: values[name] for name in accepts if name in values}

    def _prepare(self, plan: _Plan, capability: str, kwargs: dict[str, Any]) -> Any:
        if len(kwargs) != len(plan.wanted) or not kwargs.keys() >= plan.wanted_set:
            kwargs = _complete(capability, plan.wanted, kwargs)
        prepared = dispatch.prepare(self, plan.spec, kwargs)
        if plan.takes_all:
            return prepared, {"connection": self, **prepared.kwargs}
        return prepared, self._args(plan.accepts, prepared.kwargs)

    # -- calling --------------------------------------------------------------

    def call(self, capability: str, /, **kwargs: Any) -> Any:
        """Run ``capability`` on this connection's plugin and return its checked result.

        Writes return a list of :class:`WriteResult` in input order; reads an
        iterator of model objects and :class:`Held` records; look-ups a list.
        :raises CapabilityNotSupported: the plugin lacks it, or the connection may not use it.
        """
        plan = self._plans.get(capability) or self._plan(capability)
        prepared, arguments = self._prepare(plan, capability, kwargs)
        if plan.spec.kind is Kind.WRITE and prepared.nothing_to_send:
            return dispatch.all_held(prepared)
        result = aio.call_sync(plan.function, arguments)
        if plan.spec.kind is Kind.READ:
            return dispatch.finish_read(self, plan.spec, result)
        return dispatch.finish_result(self, plan.spec, prepared, result)

    async def acall(self, capability: str, /, **kwargs: Any) -> Any:
        """:meth:`call` for asyncio hosts; reads return an async iterator."""
        plan = self._plans.get(capability) or self._plan(capability)
        prepared, arguments = self._prepare(plan, capability, kwargs)
        if plan.spec.kind is Kind.WRITE and prepared.nothing_to_send:
            return dispatch.all_held(prepared)
        result = await aio.call_async(plan.function, arguments)
        if plan.spec.kind is Kind.READ:
            return dispatch.finish_read_async(self, plan.spec, result)
        return dispatch.finish_result(self, plan.spec, prepared, result)

    def check(self) -> ConnectionReport:
        """Run the plugin's ``check_connection``; a plugin without one cannot vouch."""
        impl = self.registry.implementation(self.plugin, "check_connection")
        if impl is None:
            return ConnectionReport(problems=(
                f"plugin {self.plugin!r} has no check_connection hook, so the connection "
                f"cannot be verified before a sync",))
        try:
            report = aio.call_sync(impl.function, self._args(tuple(impl.argnames), {}))
        except Exception as exc:
            return ConnectionReport(problems=(describe(exc),))
        if not isinstance(report, ConnectionReport):
            raise PluginContractError(self.plugin, "check_connection",
                                      f"returned {type(report).__name__}, not a ConnectionReport")
        return report


class _Plan(NamedTuple):
    function: Any
    spec: CapabilitySpec
    wanted: tuple[str, ...]
    accepts: tuple[str, ...]
    wanted_set: frozenset[str]
    #: the implementation takes every argument of the spec (most do): no filtering per call
    takes_all: bool

    @classmethod
    def of(cls, function: Any, spec: CapabilitySpec, wanted: tuple[str, ...],
           accepts: tuple[str, ...]) -> _Plan:
        return cls(function, spec, wanted, accepts, frozenset(wanted),
                   set(accepts) == {"connection", *wanted})


def _complete(capability: str, wanted: tuple[str, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments checked against the hook spec, ``since`` defaulting to None."""
    unknown = sorted(set(kwargs) - set(wanted))
    if unknown:
        raise TypeError(f"{capability}() takes {', '.join(wanted) or 'no arguments'}; "
                        f"got unexpected {', '.join(unknown)}")
    if "since" in wanted:
        kwargs = {"since": None, **kwargs}
    missing = [a for a in wanted if a not in kwargs]
    if missing:
        raise TypeError(f"{capability}() is missing {', '.join(missing)}")
    return kwargs

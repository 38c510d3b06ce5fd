"""A connection: one plugin, its validated settings, the user's mappings, its state.

This is the object every hook receives first. Hosts call capabilities
through it (:meth:`Connection.call` / :meth:`Connection.acall`); the call
goes to this connection's plugin only, never to the others.
"""

from __future__ import annotations

import logging
from typing import NamedTuple
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx

from tramo import aio, dispatch
from tramo.capabilities import PLUMBING, CapabilitySpec, Kind, spec_for
from tramo.errors import CapabilityNotSupported, ConfigurationError, PluginContractError, describe
from tramo.logs import ConnectionLogger
from tramo.mapping import Mappings
from tramo.model import ConnectionReport
from tramo.secrets import Secret
from tramo.state import ConnectionState, StateStore

if TYPE_CHECKING:
    from tramo.plugin import PluginInfo
    from tramo.registry import Registry

__all__ = ["DEFAULT_TIMEZONE", "Connection"]

#: Tray and most Brazilian platforms send naive local times; this is where they are.
DEFAULT_TIMEZONE = "America/Sao_Paulo"


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
    """

    def __init__(self, registry: Registry, plugin: str, settings: Mapping[str, Any],
                 *, name: str | None = None, mappings: Mappings | Mapping[str, Any] | None = None,
                 state: StateStore | None = None, timezone: str = DEFAULT_TIMEZONE) -> None:
        record = registry.available(plugin)
        assert record.info is not None
        self.registry = registry
        self.plugin = plugin
        self.info: PluginInfo = record.info
        self.name = name or plugin
        self.settings: Mapping[str, Any] = MappingProxyType(record.info.validate_settings(settings))
        self.mappings = mappings if isinstance(mappings, Mappings) else Mappings.from_config(mappings)
        self.state: ConnectionState = (state or StateStore()).for_connection(self.name)
        try:
            self.timezone = ZoneInfo(timezone)
        except Exception:
            raise ConfigurationError(f"unknown timezone {timezone!r}") from None
        secrets = [v for v in self.settings.values() if isinstance(v, Secret)]
        self.log = ConnectionLogger(logging.getLogger(f"tramo.plugin.{plugin}"), self.name, secrets)
        self._restrictions: dict[str, str] | None = None
        self._http: httpx.Client | None = None
        self._plans: dict[str, _Plan] = {}

    def __repr__(self) -> str:
        return f"Connection(name={self.name!r}, plugin={self.plugin!r})"

    # -- resources ------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        """The shared HTTP client: TLS verified, explicit timeouts and limits."""
        if self._http is None:
            self._http = httpx.Client(
                verify=True,
                timeout=httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0),
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                follow_redirects=False,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

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
            plan = _Plan(impl.function, spec_for(capability), wanted, tuple(impl.argnames))
            self._plans[capability] = plan
        return plan

    def _args(self, accepts: tuple[str, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments a hook implementation takes (it may take fewer than the spec)."""
        values = {"connection": self, **kwargs}
        return {name: values[name] for name in accepts if name in values}

    def _prepare(self, plan: _Plan, capability: str, kwargs: dict[str, Any]) -> Any:
        if len(kwargs) != len(plan.wanted) or any(k not in kwargs for k in plan.wanted):
            kwargs = _complete(capability, plan.wanted, kwargs)
        prepared = dispatch.prepare(self, plan.spec, kwargs)
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

"""Plugin discovery, registration and capability listing.

Plugins are found only through the ``tramo.plugins`` entry point group, with
stevedore (which isolates each entry point's import), then registered into
pluggy as they are, under the entry point's name. A plugin that fails to
import, register or describe itself is listed as unavailable with its error;
it never takes the host down unless strict mode is asked for.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
import pluggy
from stevedore import ExtensionManager, NamedExtensionManager

from tramo import aio, hookspecs
from tramo.capabilities import PLUMBING
from tramo.errors import (
    ConfigurationError,
    IncompatiblePluginError,
    PluginLoadError,
    describe,
)
from tramo.plugin import PLUGIN_API_VERSION, PROJECT, PluginInfo

if TYPE_CHECKING:
    from tramo.connection import Connection

__all__ = ["ENTRY_POINT_GROUP", "PluginRecord", "Registry", "discover"]

ENTRY_POINT_GROUP: Final = "tramo.plugins"
STRICT_ENV: Final = "TRAMO_STRICT_PLUGINS"
ALLOW_ENV: Final = "TRAMO_PLUGINS"
BLOCK_ENV: Final = "TRAMO_DISABLED_PLUGINS"


@attrs.frozen
class PluginRecord:
    """One discovered plugin, available or not."""

    name: str
    status: Literal["ok", "unavailable"]
    info: PluginInfo | None = None
    capabilities: tuple[str, ...] = ()
    error: str | None = None
    distribution: str | None = None
    plugin: Any = attrs.field(default=None, repr=False, eq=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def platform(self) -> str | None:
        return self.info.platform if self.info else None

    @property
    def modality(self) -> str | None:
        return self.info.modality if self.info else None

    def to_json(self) -> dict[str, Any]:
        """The ``tramo plugins --json`` form."""
        return {
            "name": self.name,
            "platform": self.platform,
            "modality": self.modality,
            "status": self.status,
            "capabilities": sorted(self.capabilities),
            "error": self.error,
        }


class Registry:
    """The plugins of this process: a pluggy manager plus what discovery found.

    Build it with :func:`discover`. Calls go through connections
    (:meth:`connect`), which dispatch to their own plugin only.
    """

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._records: dict[str, PluginRecord] = {}
        self._impls: dict[str, dict[str, pluggy.HookImpl]] = {}

    # -- what is here ---------------------------------------------------------

    @property
    def plugins(self) -> list[PluginRecord]:
        """Every discovered plugin, by name."""
        return [self._records[name] for name in sorted(self._records)]

    def record(self, name: str) -> PluginRecord:
        """The record of plugin ``name``; ConfigurationError when none is installed."""
        try:
            return self._records[name]
        except KeyError:
            known = ", ".join(sorted(self._records)) or "none"
            raise ConfigurationError(f"no plugin named {name!r} is installed (installed: {known})") from None

    def available(self, name: str) -> PluginRecord:
        """The record of an available plugin; PluginLoadError when it failed to load."""
        record = self.record(name)
        if not record.ok:
            raise PluginLoadError(name, record.error or "unavailable")
        return record

    def implementation(self, plugin: str, hook: str) -> pluggy.HookImpl | None:
        """The plugin's own implementation of ``hook``, or None."""
        return self._impls.get(plugin, {}).get(hook)

    def supporting(self, capability: str, platform: str | None) -> list[str]:
        """Available plugins of ``platform`` that implement ``capability``."""
        return [r.name for r in self.plugins
                if r.ok and r.platform == platform and capability in r.capabilities]

    def hook_argnames(self, hook: str) -> tuple[str, ...]:
        """The argument names of a hook spec (core or a plugin's own)."""
        caller = getattr(self.pm.hook, hook, None)
        if caller is None or caller.spec is None:
            raise ConfigurationError(f"{hook!r} is not a tramo hook")
        return tuple(caller.spec.argnames)

    def connect(self, plugin: str, settings: Mapping[str, Any] | None = None,
                **options: Any) -> Connection:
        """A :class:`tramo.Connection` of ``plugin`` with ``settings`` validated."""
        from tramo.connection import Connection

        return Connection(self, plugin, settings or {}, **options)

    # -- building -------------------------------------------------------------

    @classmethod
    def for_testing(cls, plugins: Mapping[str, Any]) -> Registry:
        """A registry of the given plugin objects, skipping entry points (for unit tests)."""
        registry = cls()
        for name, plugin in plugins.items():
            registry._register(name, plugin, None)
        registry.pm.check_pending()
        return registry

    def _unavailable(self, name: str, reason: str, distribution: str | None = None) -> None:
        self._records[name] = PluginRecord(name, "unavailable", error=reason,
                                           distribution=distribution)

    def _register(self, name: str, plugin: Any, distribution: str | None) -> None:
        if name in self._records:
            self._drop(name)
            self._unavailable(name, f"more than one installed distribution registers a plugin "
                                    f"named {name!r}; uninstall all but one", distribution)
            return
        try:
            extra_specs = getattr(plugin, "tramo_hookspecs", None)
            if extra_specs is not None:
                self.pm.add_hookspecs(extra_specs)
            self.pm.register(plugin, name=name)
        except Exception as exc:
            self._drop(name)  # pluggy may have kept the hooks it took before the failure
            self._unavailable(name, f"could not register: {describe(exc)}", distribution)
            return
        try:
            record = self._validate(name, plugin, distribution)
        except PluginLoadError as exc:
            self._drop(name)
            self._unavailable(name, exc.reason, distribution)
            return
        self._records[name] = record

    def _drop(self, name: str) -> None:
        self._impls.pop(name, None)
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)

    def _validate(self, name: str, plugin: Any, distribution: str | None) -> PluginRecord:
        impls: dict[str, pluggy.HookImpl] = {}
        unknown = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            if not caller.has_spec():
                unknown.append(caller.name)
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper):
                    impls[caller.name] = impl
        if unknown:
            raise PluginLoadError(name, f"implements unknown hook(s) {', '.join(sorted(unknown))} "
                                        f"(misspelled, or a hook spec the plugin did not declare)")
        if "plugin_info" not in impls:
            raise PluginLoadError(name, "implements no plugin_info hook")
        try:
            info = aio.call_sync(impls["plugin_info"].function, {})
        except Exception as exc:
            raise PluginLoadError(name, f"plugin_info failed: {describe(exc)}") from None
        if not isinstance(info, PluginInfo):
            raise PluginLoadError(name, f"plugin_info returned {type(info).__name__}, "
                                        f"not tramo.PluginInfo")
        if info.api_version != PLUGIN_API_VERSION:
            raise IncompatiblePluginError(name, info.api_version, PLUGIN_API_VERSION)
        if info.name != name:
            raise PluginLoadError(name, f"plugin_info says its name is {info.name!r}, but its "
                                        f"entry point is {name!r}; the two must agree")
        self._impls[name] = impls
        capabilities = tuple(sorted(h for h in impls if h not in PLUMBING))
        return PluginRecord(name, "ok", info=info, capabilities=capabilities,
                            distribution=distribution, plugin=plugin)


def _env_list(variable: str) -> list[str] | None:
    value = os.environ.get(variable)
    if value is None or not value.strip():
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _env_flag(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in {"1", "true", "yes", "on"}


def discover(allow: Iterable[str] | None = None, block: Iterable[str] = (),
             strict: bool | None = None) -> Registry:
    """Find, load and register the installed plugins.

    :param allow: load only these plugin names (default: all; or the
        comma-separated ``TRAMO_PLUGINS`` environment variable).
    :param block: never load these (also ``TRAMO_DISABLED_PLUGINS``).
    :param strict: raise PluginLoadError when any plugin is unavailable,
        instead of listing it (default: the ``TRAMO_STRICT_PLUGINS`` variable).
    """
    allowed = list(allow) if allow is not None else _env_list(ALLOW_ENV)
    blocked = set(block) | set(_env_list(BLOCK_ENV) or [])
    strict = _env_flag(STRICT_ENV) if strict is None else strict

    points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    wanted = [ep.name for ep in points
              if (allowed is None or ep.name in allowed) and ep.name not in blocked]
    failures: dict[str, tuple[str, str | None]] = {}

    def failed(_manager: Any, ep: importlib.metadata.EntryPoint, exc: BaseException) -> None:
        failures[ep.name] = (f"could not import {ep.value}: {describe(exc)}", _dist_of(ep))

    # stevedore memoises a group's entry points per process; drop that memo so a
    # plugin installed since the last discovery is seen.
    ExtensionManager.ENTRY_POINT_CACHE.pop(ENTRY_POINT_GROUP, None)
    manager: NamedExtensionManager[Any] = NamedExtensionManager(
        ENTRY_POINT_GROUP, names=wanted, on_load_failure_callback=failed,
        on_missing_entrypoints_callback=None)

    registry = Registry()
    for extension in manager.extensions:
        registry._register(extension.name, extension.plugin, _dist_of(extension.entry_point))
    for name, (reason, dist) in failures.items():
        registry._unavailable(name, reason, dist)
    for name in allowed or []:
        if name not in registry._records and name not in blocked:
            registry._unavailable(name, "allowed, but no installed distribution provides it")
    registry.pm.check_pending()

    if strict:
        broken = [r for r in registry.plugins if not r.ok]
        if broken:
            raise PluginLoadError(
                ", ".join(r.name for r in broken),
                "; ".join(f"{r.name}: {r.error}" for r in broken) + f" (strict mode: {STRICT_ENV})")
    return registry


def _dist_of(ep: importlib.metadata.EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None
    return f"{dist.metadata['Name']} {dist.version}"


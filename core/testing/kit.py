"""The conformance kit's handle on one plugin: its registry entry, its running sandbox, connections.

The kit's properties (:mod:`tramo.testing.suite`) receive a :class:`Kit`; it
knows which capabilities the plugin declares, what its sandbox's
:class:`~tramo.sandbox.Profile` says about the platform, and makes
connections that reach the sandbox with short timeouts so faults are quick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import httpx

from tramo.capabilities import CAPABILITIES
from tramo.connection import Connection
from tramo.errors import ConfigurationError
from tramo.http import HttpOptions, RetryPolicy
from tramo.model import Outcome, Product, WriteResult
from tramo.registry import Registry, discover
from tramo.sandbox import Knobs, PlatformView, Profile, Sandbox
from tramo.sandbox.base import VIEW_METHODS
from tramo.secrets import Secret
from tramo.state import StateStore

__all__ = ["KIT_HTTP", "Kit", "connect_to", "project", "skus_of"]

#: Short timeouts and backoffs: the sandbox is on loopback and its faults are injected.
KIT_HTTP = HttpOptions(
    timeout=httpx.Timeout(5.0, read=0.5),
    retry=RetryPolicy(attempts=4, backoff=0.005, max_backoff=0.02, max_retry_after=1.0),
)

#: How long the kit's sandboxes hang a TIMEOUT call: past KIT_HTTP's read timeout.
KIT_HANG = 0.8

OK_OUTCOMES = frozenset({Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED})


def connect_to(sandbox: Sandbox, registry: Registry, plugin: str | None = None, *,
               state: StateStore | None = None, mappings: Mapping[str, Any] | None = None,
               **settings: Any) -> Connection:
    """A connection to a running sandbox, as the kit and a plugin's own tests make one.

    The sandbox's settings (``settings`` override them), the mappings its
    Profile declares, a fresh state unless ``state`` is given (so a full rate
    budget), :data:`KIT_HTTP`'s short timeouts and no announced waits.
    """
    return registry.connect(
        plugin or sandbox.plugin, {**sandbox.settings, **settings}, state=state or StateStore(),
        mappings=dict(sandbox.profile.mappings if mappings is None else mappings), http=KIT_HTTP,
        on_wait=lambda seconds, why: None)


class Kit:
    """One plugin under test, with its sandbox running for the whole session."""

    def __init__(self, plugin: str, registry: Registry | None = None) -> None:
        self.plugin = plugin
        self.registry = registry if registry is not None else discover(allow=[plugin])
        self.record = self.registry.available(plugin)
        self.capabilities = frozenset(self.record.capabilities)
        impl = self.registry.implementation(plugin, "sandbox")
        if impl is None:
            raise ConfigurationError(
                f"plugin {plugin!r} has no sandbox hook: the conformance kit runs against the "
                f"plugin's sandbox (see the plugin guide, 'Sandboxes')")
        sandbox = impl.function()
        if not isinstance(sandbox, Sandbox):
            raise ConfigurationError(f"plugin {plugin!r}'s sandbox hook returned "
                                     f"{type(sandbox).__name__}, not a tramo.sandbox.Sandbox")
        self.sandbox = sandbox
        self.sandbox.configure(hang=KIT_HANG)
        self.profile: Profile = sandbox.profile
        self.platform: PlatformView = _View(sandbox, plugin)  # type: ignore[assignment]
        self.sandbox.start()

    def close(self) -> None:
        self.sandbox.stop()

    def __repr__(self) -> str:
        return f"Kit({self.plugin!r})"

    # -- what the plugin declares -------------------------------------------------

    def has(self, *capabilities: str) -> bool:
        return all(c in self.capabilities for c in capabilities)

    def undeclared(self) -> list[str]:
        return sorted(set(CAPABILITIES) - self.capabilities)

    def opted_out(self, prop: str) -> str | None:
        return self.profile.opt_out.get(prop)

    def secrets(self) -> list[str]:
        """The sandbox settings' values that the plugin declares secret."""
        secret_names = {s.name for s in self.record.info.settings if s.secret} if self.record.info else set()
        return [str(v) for k, v in self.sandbox.settings.items() if k in secret_names and v]

    # -- working with it -----------------------------------------------------------

    def reset(self) -> None:
        """A new account on the sandbox, with the kit's hang time."""
        self.sandbox.reset()
        self.sandbox.configure(hang=KIT_HANG)

    def connect(self, **settings: Any) -> Connection:
        """A fresh connection (fresh state) to the sandbox, settings overridable."""
        return connect_to(self.sandbox, self.registry, self.plugin, **settings)

    def knobs(self) -> Knobs:
        return self.sandbox.knobs


class _View:
    """The sandbox's platform-side view; a method it lacks fails with its name, not AttributeError."""

    def __init__(self, sandbox: Sandbox, plugin: str) -> None:
        self._sandbox = sandbox
        self._plugin = plugin

    def __getattr__(self, name: str) -> Any:
        if name not in VIEW_METHODS:
            raise AttributeError(name)
        method = getattr(self._sandbox, name, None)
        if method is None:
            raise ConfigurationError(
                f"{type(self._sandbox).__name__} (the sandbox of {self._plugin!r}) has no {name}(), "
                f"which this property reads; implement it (tramo.sandbox.PlatformView) or opt "
                f"the property out in its Profile with a reason")
        return method


def skus_of(product: Product) -> list[str]:
    """The SKUs a product is sold under: its variants', else its own (or its code)."""
    if product.variants:
        return [v.sku for v in product.variants]
    return [product.sku or product.code]


def ok(result: WriteResult) -> bool:
    return result.outcome in OK_OUTCOMES


def project(value: Any, kept: Any) -> Any:
    """``value`` reduced to what the platform keeps, comparable with ``==``.

    Model objects become dicts of their kept fields; sequences of model
    objects become lists sorted by their representation (a platform need not
    keep the order of variants or attributes).
    """
    if attrs.has(type(value)):
        wanted = kept.get(type(value).__name__)
        return {field.name: project(getattr(value, field.name), kept)
                for field in attrs.fields(type(value)) if wanted is None or field.name in wanted}
    if isinstance(value, (tuple, list)):
        items = [project(v, kept) for v in value]
        if value and attrs.has(type(value[0])):
            return sorted(items, key=repr)
        return items
    if isinstance(value, Secret):
        return value.reveal()
    return value


def by_key(items: Iterable[Any], key: str) -> dict[str, Any]:
    return {getattr(item, key): item for item in items}


def first_failure(results: Sequence[WriteResult]) -> WriteResult | None:
    return next((r for r in results if not ok(r)), None)

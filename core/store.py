"""One store reached through several modalities of its platform (Tray: REST, SOAP, FTP).

Each capability goes to the best connection that offers it, in a preference
order the user sets (first listed wins); the routes are visible, so a host
can show which modality does what.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tramo.connection import Connection
from tramo.errors import CapabilityNotSupported, ConfigurationError

__all__ = ["Store"]


class Store:
    """Connections of one platform, routed per capability by preference.

    :param connections: the store's connections, one per modality.
    :param preference: plugin names, best first (default: the order given).
    """

    def __init__(self, connections: Sequence[Connection],
                 preference: Sequence[str] | None = None) -> None:
        if not connections:
            raise ConfigurationError("a store needs at least one connection")
        platforms = {c.info.platform for c in connections}
        if len(platforms) != 1:
            raise ConfigurationError(
                f"a store's connections share one platform; got {', '.join(sorted(platforms))}")
        self.platform = platforms.pop()
        by_plugin = {c.plugin: c for c in connections}
        order = list(preference or [c.plugin for c in connections])
        unknown = [p for p in order if p not in by_plugin]
        if unknown:
            raise ConfigurationError(
                f"preference names plugin(s) {', '.join(unknown)} with no connection in this store")
        order += [c.plugin for c in connections if c.plugin not in order]
        self.connections = [by_plugin[p] for p in order]

    def __repr__(self) -> str:
        return f"Store(platform={self.platform!r}, plugins={[c.plugin for c in self.connections]})"

    def resolve(self, capability: str) -> Connection:
        """The preferred connection that can do ``capability`` here."""
        for connection in self.connections:
            if connection.supports(capability):
                return connection
        configured = [c.plugin for c in self.connections]
        registry = self.connections[0].registry
        others = [p for p in registry.supporting(capability, self.platform) if p not in configured]
        reasons = [f"{c.plugin}: {c.restrictions()[capability]}"
                   for c in self.connections if capability in c.restrictions()]
        raise CapabilityNotSupported(capability, " / ".join(configured), others,
                                     "; ".join(reasons) or None)

    def routes(self) -> dict[str, str]:
        """Capability -> plugin that serves it on this store."""
        found: dict[str, str] = {}
        for connection in self.connections:
            for capability in sorted(connection.capabilities()):
                found.setdefault(capability, connection.plugin)
        return found

    def call(self, capability: str, /, **kwargs: Any) -> Any:
        return self.resolve(capability).call(capability, **kwargs)

    async def acall(self, capability: str, /, **kwargs: Any) -> Any:
        return await self.resolve(capability).acall(capability, **kwargs)

"""The user's mappings between ERP values and platform ids.

Four kinds: ``status`` (canonical :class:`OrderStatus` values), ``shipping``,
``payment`` and ``channel`` (the ERP's own codes). Each kind is one table
from platform id to ERP value (*inbound*); the *outbound* direction is its
inverse wherever an ERP value has exactly one platform id, and can be set
explicitly where several platform ids share one ERP value. A value with no
mapping raises :class:`tramo.MappingError`; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from tramo.errors import ConfigurationError, MappingError
from tramo.model.status import OrderStatus

__all__ = ["KINDS", "KindMapping", "Mappings"]

KINDS: Final = ("status", "shipping", "payment", "channel")


@attrs.frozen
class KindMapping:
    """One kind's table: ``inbound`` platform id -> ERP value; ``outbound`` ERP value -> id."""

    kind: str
    inbound: Mapping[str, str] = attrs.field(factory=dict)
    outbound: Mapping[str, str] = attrs.field(factory=dict)
    fallback: str | None = None

    def to_erp(self, platform_value: str) -> str:
        if platform_value in self.inbound:
            return self.inbound[platform_value]
        if self.fallback is not None:
            return self.fallback
        raise MappingError(self.kind, platform_value, "inbound")

    def to_platform(self, erp_value: str) -> str:
        if erp_value in self.outbound:
            return self.outbound[erp_value]
        raise MappingError(self.kind, erp_value, "outbound")


def _build(kind: str, spec: Any) -> KindMapping:
    if isinstance(spec, KindMapping):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigurationError(f"the {kind} mapping must be a table, not {type(spec).__name__}")
    if "inbound" in spec or "outbound" in spec or "fallback" in spec:
        inbound = dict(spec.get("inbound", {}))
        explicit = dict(spec.get("outbound", {}))
        fallback = spec.get("fallback")
    else:
        inbound, explicit, fallback = dict(spec), {}, None
    inbound = {str(k): str(v) for k, v in inbound.items()}
    if kind == "status":
        allowed = {s.value for s in OrderStatus}
        for value in [*inbound.values(), *explicit.keys(), *([fallback] if fallback else [])]:
            if value not in allowed:
                raise ConfigurationError(
                    f"status mapping value {value!r} is not a canonical status; "
                    f"use one of {', '.join(sorted(allowed))}")
    owners: dict[str, list[str]] = {}
    for platform_id, erp_value in inbound.items():
        owners.setdefault(erp_value, []).append(platform_id)
    outbound = {erp: ids[0] for erp, ids in owners.items() if len(ids) == 1}
    outbound.update({str(k): str(v) for k, v in explicit.items()})
    return KindMapping(kind, inbound, outbound, fallback)


@attrs.frozen
class Mappings:
    """All four mapping kinds of one connection."""

    status: KindMapping = KindMapping("status")
    shipping: KindMapping = KindMapping("shipping")
    payment: KindMapping = KindMapping("payment")
    channel: KindMapping = KindMapping("channel")

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Mappings:
        """Build from plain tables, e.g. ``{"status": {"a enviar": "ready_to_ship"}}``.

        A kind's table is either ``{platform_id: erp_value}`` or
        ``{"inbound": {...}, "outbound": {...}, "fallback": value}``.
        """
        config = dict(config or {})
        unknown = sorted(set(config) - set(KINDS))
        if unknown:
            raise ConfigurationError(
                f"unknown mapping kind(s) {', '.join(unknown)}; the kinds are {', '.join(KINDS)}")
        return cls(**{kind: _build(kind, config[kind]) for kind in config})

    def status_to_platform(self, status: OrderStatus) -> str:
        return self.status.to_platform(status.value)

    def status_to_erp(self, platform_status: str) -> OrderStatus:
        return OrderStatus(self.status.to_erp(platform_status))

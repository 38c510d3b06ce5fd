"""Calling one capability of one connection's plugin, and keeping the contract.

Before the call: write items of the wrong type, or whose status has no
mapping, are held (``Outcome.HELD``) and not sent; the rest go on. After the
call: a write must give one :class:`WriteResult` per item sent, in order, or
the plugin broke the contract; read results get the user's mappings applied,
and an order that cannot be mapped becomes :class:`Held` instead of stopping
the read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from tramo import aio
from tramo.capabilities import CapabilitySpec, Kind
from tramo.errors import PluginContractError, TramoError, ValidationError
from tramo.model import Held, Order, StatusUpdate, WriteResult
from tramo.webhooks import first_deliveries

if TYPE_CHECKING:
    from tramo.connection import Connection

__all__ = ["Prepared", "finish_read", "finish_read_async", "finish_result", "prepare"]


#: a call that held nothing shares this read-only empty table (no dict made per call)
NOTHING_HELD: Mapping[int, WriteResult] = MappingProxyType({})


@attrs.define
class Prepared:
    """A call ready to go: the kwargs for the plugin and the items held back."""

    kwargs: dict[str, Any]
    held: Mapping[int, WriteResult] = NOTHING_HELD
    total: int = 0

    @property
    def nothing_to_send(self) -> bool:
        return self.total == 0 or len(self.held) == self.total


def prepare(connection: Connection, spec: CapabilitySpec, kwargs: dict[str, Any]) -> Prepared:
    """Check and map a write's items; hold the bad ones."""
    if spec.kind is not Kind.WRITE or spec.payload is None:
        return Prepared(kwargs)
    items = kwargs[spec.payload]
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ValidationError(f"{spec.name}.{spec.payload}", items, "must be a sequence of items")
    items = list(items)
    kind = spec.item
    if kind is not StatusUpdate and (kind is None or all(isinstance(i, kind) for i in items)):
        return Prepared({**kwargs, spec.payload: items}, total=len(items))  # the common case
    held: dict[int, WriteResult] = {}
    send: list[Any] = []
    for index, item in enumerate(items):
        error: TramoError | None = None
        if kind is not None and not isinstance(item, kind):
            wanted = kind.__name__ if isinstance(kind, type) else str(kind)
            error = ValidationError(f"{spec.name}.{spec.payload}[{index}]", item,
                                    f"must be a {wanted}")
        elif isinstance(item, StatusUpdate):
            try:
                item = attrs.evolve(item, platform_status=connection.mappings.status_to_platform(item.status))
            except TramoError as exc:
                error = exc
        if error is not None:
            held[index] = WriteResult.held(spec.local_id_of(item), error)
        else:
            send.append(item)
    return Prepared({**kwargs, spec.payload: send}, held, len(items))


def finish_result(connection: Connection, spec: CapabilitySpec, prepared: Prepared,
                  result: Any) -> Any:
    """Check a plugin's return value against the contract and merge held items back."""
    if spec.kind is Kind.WRITE:
        return _merge(connection, spec, prepared, result)
    if spec.kind in (Kind.LOOKUP, Kind.PARSE):
        values = list(result)
        for value in values:
            if spec.item is not None and not isinstance(value, spec.item):
                raise PluginContractError(connection.plugin, spec.name,
                                          f"returned a {type(value).__name__} among its results")
        if spec.kind is Kind.PARSE:
            return first_deliveries(connection.state, values)
        return values
    return result


def _merge(connection: Connection, spec: CapabilitySpec, prepared: Prepared,
           result: Any) -> list[WriteResult]:
    sent = prepared.total - len(prepared.held)
    results = list(result) if result is not None else []
    if len(results) != sent:
        raise PluginContractError(connection.plugin, spec.name,
                                  f"returned {len(results)} result(s) for {sent} item(s)")
    wrong = next((v for v in results if not isinstance(v, WriteResult)), None)
    if wrong is not None:
        raise PluginContractError(connection.plugin, spec.name,
                                  f"returned a {type(wrong).__name__}, not a WriteResult")
    if not prepared.held:
        return results
    merged: list[WriteResult] = []
    fresh = iter(results)
    for index in range(prepared.total):
        merged.append(prepared.held[index] if index in prepared.held else next(fresh))
    return merged


def all_held(prepared: Prepared) -> list[WriteResult]:
    return [prepared.held[i] for i in range(prepared.total)]


def _map_record(connection: Connection, spec: CapabilitySpec, record: Any) -> Any:
    if isinstance(record, Held):
        return record
    if spec.item is not None and not isinstance(record, spec.item):
        raise PluginContractError(connection.plugin, spec.name,
                                  f"yielded a {type(record).__name__}, not a "
                                  f"{getattr(spec.item, '__name__', spec.item)} or Held")
    if isinstance(record, Order):
        try:
            return map_order(connection, record)
        except TramoError as exc:
            return Held("order", exc, remote_id=record.id, raw=record)
    return record


def map_order(connection: Connection, order: Order) -> Order:
    """The order with status, shipping, payment and channel mapped to ERP values."""
    mappings = connection.mappings
    changes: dict[str, Any] = {"status": mappings.status_to_erp(order.platform_status)}
    if order.shipping is not None and order.shipping.platform_method is not None:
        changes["shipping"] = attrs.evolve(
            order.shipping, method=mappings.shipping.to_erp(order.shipping.platform_method))
    if order.payments:
        changes["payments"] = tuple(
            attrs.evolve(p, method=mappings.payment.to_erp(p.platform_method))
            if p.platform_method is not None else p
            for p in order.payments)
    channel = order.sales_channel
    if channel is not None and channel.platform_channel is not None:
        changes["sales_channel"] = attrs.evolve(
            channel, channel=mappings.channel.to_erp(channel.platform_channel))
    return attrs.evolve(order, **changes)


def finish_read(connection: Connection, spec: CapabilitySpec, result: Any) -> Iterator[Any]:
    """Sync iteration over a read's records, mapped; unmappable orders held."""
    for record in aio.iterate(result):
        yield _map_record(connection, spec, record)


async def finish_read_async(connection: Connection, spec: CapabilitySpec,
                            result: Any) -> AsyncIterator[Any]:
    """Async iteration over a read's records, mapped; unmappable orders held."""
    async for record in aio.aiterate(result):
        yield _map_record(connection, spec, record)

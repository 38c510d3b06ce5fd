"""The skeleton of a write hook: one WriteResult per item, in order, whatever happens.

Every write hook does the same dance: turn each item into a request body
(refusing what the platform would refuse, before any call), send it, and turn
the answer into a :class:`~tramo.model.WriteResult`; an error on one item must
not lose the others, and a refusal of the credentials or a long rate-limit
pause should not be met with a hundred more calls. :func:`write_each` is that
dance, once, for every plugin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from tramo.errors import AuthenticationError, RateLimitedError, TramoError, ValidationError
from tramo.model import WriteResult

__all__ = ["STOPS_THE_BATCH", "awrite_each", "write_each", "write_together"]

T = TypeVar("T")

#: Errors after which the rest of a batch is not sent: the credentials are refused,
#: or the platform asked for a pause longer than the client waits. Each remaining
#: item is reported FAILED with the same error, so the host retries them later.
STOPS_THE_BATCH: tuple[type[TramoError], ...] = (AuthenticationError, RateLimitedError)


class _Batch:
    """The results of a batch so far, and the error that stops the rest of it."""

    def __init__(self) -> None:
        self.results: list[WriteResult] = []
        self.stop: TramoError | None = None

    def prepare(self, item: Any, ident: str, body: Callable[[Any], Any]) -> tuple[bool, Any]:
        """(True, body) when the item is to be sent; else its result is already recorded."""
        try:
            prepared = body(item)
        except ValidationError as exc:
            self.results.append(WriteResult.held(ident, exc))
            return False, None
        if self.stop is not None:
            self.results.append(WriteResult.failed(ident, self.stop))
            return False, None
        return True, prepared

    def failed(self, ident: str, exc: TramoError) -> None:
        if isinstance(exc, STOPS_THE_BATCH):
            self.stop = exc
        self.results.append(WriteResult.failed(ident, exc))


def write_each(items: Iterable[T], local_id: Callable[[T], str], body: Callable[[T], Any],
               send: Callable[[T, Any], WriteResult]) -> list[WriteResult]:
    """One WriteResult per item, in order.

    ``body(item)`` builds the request body (a plugin's ``wire`` function); its
    ValidationError means the platform would refuse the item, which is then
    HELD without a call. ``send(item, body)`` makes the calls; any tramo error
    it raises, including the core client's ``OutcomeUnknownError`` and
    ``RetriesExhaustedError``, makes the item FAILED (never done), and the
    next item goes on.
    """
    batch = _Batch()
    for item in items:
        ident = local_id(item)
        ready, prepared = batch.prepare(item, ident, body)
        if ready:
            try:
                batch.results.append(send(item, prepared))
            except TramoError as exc:
                batch.failed(ident, exc)
    return batch.results


async def awrite_each(items: Iterable[T], local_id: Callable[[T], str], body: Callable[[T], Any],
                      send: Callable[[T, Any], Awaitable[WriteResult]]) -> list[WriteResult]:
    """:func:`write_each` for async write hooks: ``send`` is awaited, items one after another."""
    batch = _Batch()
    for item in items:
        ident = local_id(item)
        ready, prepared = batch.prepare(item, ident, body)
        if ready:
            try:
                batch.results.append(await send(item, prepared))
            except TramoError as exc:
                batch.failed(ident, exc)
    return batch.results


def write_together(items: Iterable[T], local_id: Callable[[T], str], body: Callable[[T], Any],
                   send: Callable[[list[tuple[T, Any]]], list[WriteResult]]) -> list[WriteResult]:
    """One WriteResult per item, in order, for platforms that take a batch in one write (a file).

    ``body(item)`` is checked for every item first, as in :func:`write_each`;
    the ones it refuses are HELD and the rest go to one ``send(pairs)``, which
    returns their results in order. A tramo error from ``send`` makes every
    item sent FAILED: a batch is taken whole or not at all.
    """
    results: list[WriteResult | None] = []
    ready: list[tuple[int, str, T, Any]] = []
    for item in items:
        ident = local_id(item)
        try:
            prepared = body(item)
        except ValidationError as exc:
            results.append(WriteResult.held(ident, exc))
            continue
        ready.append((len(results), ident, item, prepared))
        results.append(None)
    if ready:
        try:
            sent = send([(item, prepared) for _, _, item, prepared in ready])
            if len(sent) != len(ready):
                raise AssertionError(f"a batch of {len(ready)} answered {len(sent)} results")
        except TramoError as exc:
            sent = [WriteResult.failed(ident, exc) for _, ident, _, _ in ready]
        for (index, _, _, _), result in zip(ready, sent):
            results[index] = result
    return [r for r in results if r is not None]

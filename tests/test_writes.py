"""write_each and awrite_each: one result per item, in order; refusals held, errors failed, batches stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import tramo
from tramo.model import Outcome
from tramo.writes import awrite_each, write_each


def body(item: str) -> str:
    if item.startswith("bad"):
        raise tramo.ValidationError("item", item, "is bad")
    return item.upper()


def run_sync(items: list[str], send: Callable[[str, str], tramo.WriteResult]) -> list[Any]:
    return write_each(items, lambda i: i, body, send)


def run_async(items: list[str], send: Callable[[str, str], tramo.WriteResult]) -> list[Any]:
    async def asend(item: str, prepared: str) -> tramo.WriteResult:
        await asyncio.sleep(0)
        return send(item, prepared)

    return asyncio.run(awrite_each(items, lambda i: i, body, asend))


BOTH = pytest.mark.parametrize("run", [run_sync, run_async], ids=["write_each", "awrite_each"])


@BOTH
def test_each_item_gets_its_result_in_order(run: Any) -> None:
    sent: list[str] = []

    def send(item: str, prepared: str) -> tramo.WriteResult:
        sent.append(prepared)
        if item == "boom":
            raise tramo.PlatformError("refused", code="x")
        return tramo.WriteResult(item, Outcome.CREATED, remote_id=prepared)

    results = run(["a", "bad1", "boom", "b"], send)
    assert [r.local_id for r in results] == ["a", "bad1", "boom", "b"]
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.HELD, Outcome.FAILED,
                                            Outcome.CREATED]
    assert sent == ["A", "BOOM", "B"]  # the held item cost no call


@BOTH
def test_refused_credentials_stop_the_batch_but_every_item_is_reported(run: Any) -> None:
    calls: list[str] = []

    def send(item: str, prepared: str) -> tramo.WriteResult:
        calls.append(item)
        raise tramo.AuthenticationError("token refused")

    results = run(["a", "b", "bad", "c"], send)
    assert calls == ["a"]
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.FAILED, Outcome.HELD,
                                            Outcome.FAILED]
    assert all(isinstance(r.error, (tramo.AuthenticationError, tramo.ValidationError))
               for r in results)

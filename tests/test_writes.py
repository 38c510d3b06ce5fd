"""write_each: one result per item, in order; refusals held, errors failed, batches stopped."""

from __future__ import annotations

import tramo
from tramo.model import Outcome
from tramo.writes import write_each


def body(item: str) -> str:
    if item.startswith("bad"):
        raise tramo.ValidationError("item", item, "is bad")
    return item.upper()


def test_each_item_gets_its_result_in_order() -> None:
    sent: list[str] = []

    def send(item: str, prepared: str) -> tramo.WriteResult:
        sent.append(prepared)
        if item == "boom":
            raise tramo.PlatformError("refused", code="x")
        return tramo.WriteResult(item, Outcome.CREATED, remote_id=prepared)

    results = write_each(["a", "bad1", "boom", "b"], lambda i: i, body, send)
    assert [r.local_id for r in results] == ["a", "bad1", "boom", "b"]
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.HELD, Outcome.FAILED,
                                            Outcome.CREATED]
    assert sent == ["A", "BOOM", "B"]  # the held item cost no call


def test_refused_credentials_stop_the_batch_but_every_item_is_reported() -> None:
    calls: list[str] = []

    def send(item: str, prepared: str) -> tramo.WriteResult:
        calls.append(item)
        raise tramo.AuthenticationError("token refused")

    results = write_each(["a", "b", "bad", "c"], lambda i: i, body, send)
    assert calls == ["a"]
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.FAILED, Outcome.HELD,
                                            Outcome.FAILED]
    assert all(isinstance(r.error, (tramo.AuthenticationError, tramo.ValidationError))
               for r in results)

"""The kit's queue property, on a small queue-style platform: held until acknowledged, then gone.

No built-in plugin reads a queue yet (Ideris will), so a minimal one lives
here: a sandbox keeping orders until ``POST /queue/ack`` and a plugin reading
``GET /queue``. The honest plugin passes the property; one that reports an
acknowledgement it never sent is caught.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
from hypothesis import Phase, settings
from werkzeug.routing import Map, Rule

import tramo
from tramo.model.convert import from_dict, to_dict
from tramo.sandbox import HttpSandbox, Profile, Request, Response, json_response
from tramo.testing import suite
from tramo.testing.kit import Kit


class QueueSandbox(HttpSandbox):
    """Orders wait in a queue until the client acknowledges them by id."""

    plugin = "queue"
    profile = Profile(orders="queue", mappings={"status": {"new": "open"}})
    url_map = Map([Rule("/queue", endpoint="queue", methods=["GET"]),
                   Rule("/queue/ack", endpoint="ack", methods=["POST"])])

    def fresh_data(self) -> dict[str, Any]:
        return {"queue": {}, "next": 1}

    @property
    def settings(self) -> dict[str, Any]:
        return {"url": self.url}

    def on_queue(self, request: Request) -> Response:
        with self.lock:
            return json_response({"orders": list(self.data["queue"].values())})

    def on_ack(self, request: Request) -> Response:
        ids = json.loads(request.get_data() or b"[]")
        with self.lock:
            for ident in ids:
                self.data["queue"].pop(ident, None)
        return json_response({"acknowledged": ids})

    def place_order(self, order: tramo.Order) -> str:
        with self.lock:
            ident = str(self.data["next"])
            self.data["next"] += 1
            # the store's own status; no methods or channel to map (a bare queue)
            placed = attrs.evolve(order, id=ident, platform_status="new", payments=(),
                                  shipping=None, sales_channel=None)
            self.data["queue"][ident] = to_dict(placed)
        return ident


def plugin(acknowledges: bool = True) -> SimpleNamespace:
    def plugin_info() -> tramo.PluginInfo:
        return tramo.PluginInfo(name="queue", platform="queue", modality="rest",
                                settings=(tramo.Setting(name="url"),))

    def sandbox() -> QueueSandbox:
        return QueueSandbox()

    def receive_orders(connection: tramo.Connection, since: Any) -> Iterator[tramo.Order]:
        answer = connection.http_client(connection.settings["url"]).get("/queue").json()
        for record in answer["orders"]:
            yield from_dict(tramo.Order, record)

    def acknowledge_orders(connection: tramo.Connection, orders: Any) -> list[tramo.WriteResult]:
        ids = [o.id if isinstance(o, tramo.Order) else o for o in orders]
        if acknowledges:
            connection.http_client(connection.settings["url"]).post("/queue/ack", json=ids)
        return [tramo.WriteResult(i, tramo.Outcome.UPDATED) for i in ids]

    hooks = {"plugin_info": plugin_info, "sandbox": sandbox, "receive_orders": receive_orders,
             "acknowledge_orders": acknowledge_orders}
    return SimpleNamespace(**{name: tramo.hookimpl(hook) for name, hook in hooks.items()})


QUICK = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                 report_multiple_bugs=False, phases=(Phase.explicit, Phase.generate))


def quick(prop: Any) -> Any:
    """The property with QUICK settings, unless another test module already gave it some
    (hypothesis decorates the one function object, and refuses a second settings)."""
    return prop if getattr(prop, "_hypothesis_internal_settings_applied", False) else QUICK(prop)


PROPERTY = quick(suite.test_a_queued_order_comes_until_acknowledged_and_never_after)


@pytest.fixture
def kit_of() -> Iterator[Any]:
    made: list[Kit] = []

    def make(acknowledges: bool) -> Kit:
        made.append(Kit("queue", tramo.Registry.for_testing({"queue": plugin(acknowledges)})))
        return made[-1]

    yield make
    for kit in made:
        kit.close()


def test_an_honest_queue_plugin_holds_the_queue_property(kit_of: Any) -> None:
    PROPERTY(kit=kit_of(True))


def test_an_acknowledgement_never_sent_is_caught(kit_of: Any) -> None:
    with pytest.raises(AssertionError):
        PROPERTY(kit=kit_of(False))


def test_the_incremental_properties_do_not_apply_to_a_queue(kit_of: Any) -> None:
    with pytest.raises(pytest.skip.Exception, match="queue"):
        suite.test_incremental_reads_yield_exactly_what_changed_after_the_checkpoint(kit=kit_of(True))

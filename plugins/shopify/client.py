"""The Shopify client: one per connection, over the core's HTTP client and a cost budget.

The core brings TLS, retries with backoff, 429s and the budget's waits.
This module adds what is Shopify's own: the versioned GraphQL endpoint and
its access-token header, and the cost bucket. Shopify charges a query's
requested cost up front and refunds what it did not use, reporting the
bucket on every answer; the client draws each operation's requested cost
(learned from earlier answers, kept in the connection's state) from a budget
shaped like the shop's bucket, gives back the refund, believes what the
answer says is left, and adopts the bucket size and restore rate the shop
reports. So a long run waits before the bucket runs dry instead of being
throttled; a THROTTLED answer that comes anyway is waited out and sent again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

import tramo
from tramo.budget import Budget, Window
from tramo.http import COST, IDEMPOTENT, REFUSED
from tramo.paging import Page, cursor_pages

from tramo_shopify import operations as ops
from tramo_shopify import wire

__all__ = ["DEFAULT_COST", "Shopify", "api", "bucket_window"]

Json = dict[str, Any]

#: What an operation not seen before is taken to cost (Shopify reports the real figure).
DEFAULT_COST = 100.0
#: request extension naming the operation, so the answer's cost is learned under its name
OPERATION = "shopify.operation"
#: versions from which inventory mutations need @idempotent and changeFromQuantity
IDEMPOTENCY_REQUIRED = "2026-04"
#: the first version that knows the @idempotent directive
IDEMPOTENCY_KNOWN = "2026-01"


def bucket_window(size: float, restore_rate: float) -> Window:
    """The shop's leaky bucket as a budget window: ``size`` points, ``restore_rate`` a second."""
    capacity = max(1, int(size))
    return Window(capacity + max(1, int(restore_rate)), 1.0, burst=capacity)


def api(connection: tramo.Connection) -> Shopify:
    return connection.resource("shopify", lambda: Shopify(connection))


class Shopify:
    """Calls to one shop's Admin GraphQL API; answers are ``data``, failures typed tramo errors."""

    def __init__(self, connection: tramo.Connection) -> None:
        settings = connection.settings
        self.connection = connection
        self.state = connection.state
        self.version = str(settings["api_version"])
        self.endpoint = f"/admin/api/{self.version}/graphql.json"
        base = settings.get("base_url") or f"https://{settings['shop_domain']}"
        known = self.state.get("shopify:bucket") or {}
        self.budget: Budget = connection.budget("graphql", [bucket_window(
            known.get("size", settings["bucket_size"]), known.get("rate", settings["restore_rate"]))])
        self.costs: dict[str, float] = dict(self.state.get("shopify:costs") or {})
        self._last: tuple[httpx.Response, Any] | None = None
        self.http: httpx.Client = connection.http_client(
            base, headers={"X-Shopify-Access-Token": settings["access_token"].reveal(),
                           "Accept": "application/json"},
            budget=self.budget, on_response=self._observe)

    # -- the cost bucket -----------------------------------------------------------------------

    def cost(self, operation: str) -> float:
        """What ``operation`` is expected to cost: its last requested cost, within the bucket."""
        capacity = self.budget.windows[0].capacity
        return min(self.costs.get(operation, DEFAULT_COST), capacity)

    def _observe(self, response: httpx.Response) -> None:
        """Learn from the answer's cost report: refund, what is left, the bucket's shape."""
        report = wire.cost_of(self._parsed(response) or {})
        if report is None:
            return
        request = response.request
        operation = request.extensions.get(OPERATION)
        if operation and report.requested > 0 and self.costs.get(operation) != report.requested:
            self.costs[operation] = report.requested
            self.state.set("shopify:costs", self.costs)
        window = bucket_window(report.maximum, report.restore_rate)
        if window != self.budget.windows[0]:
            self.budget.adopt([window])
            self.state.set("shopify:bucket", {"size": report.maximum, "rate": report.restore_rate})
        drawn = float(request.extensions.get(COST, 1.0))
        self.budget.give_back(drawn - (report.actual or 0.0))
        self.budget.observe(0, report.available)
        if report.requested > 0:  # a THROTTLED answer's resend draws what the query really costs
            request.extensions[COST] = min(report.requested, self.budget.windows[0].capacity)

    def _throttled(self, response: httpx.Response) -> float | None:
        """A THROTTLED answer is a refusal: wait (the budget knows how long) and send again."""
        return 0.0 if wire.is_throttled(self._parsed(response)) else None

    def _parsed(self, response: httpx.Response) -> Any:
        """The answer's JSON, parsed once for its three readers: the throttle check, the cost
        report and the data. Threads sharing the client at worst parse an answer again."""
        last = self._last
        if last is not None and last[0] is response:
            return last[1]
        answer = wire.parse(response.content)
        self._last = (response, answer)
        return answer

    # -- calls -----------------------------------------------------------------------------------

    def run(self, operation: str, variables: Mapping[str, Any] | None = None, *,
            safe: bool = True) -> Json:
        """Run a named operation of :mod:`operations`; ``safe`` False for a write without a key."""
        body = {"query": ops.OPERATIONS[operation], "variables": dict(variables or {})}
        response = self.http.post(self.endpoint, content=json.dumps(body).encode("utf-8"),
                                  headers={"Content-Type": "application/json"},
                                  extensions={COST: self.cost(operation), REFUSED: self._throttled,
                                              IDEMPOTENT: safe, OPERATION: operation})
        answer = self._parsed(response)
        self._last = None  # the answer is read: the client keeps no answer past its call
        return wire.data_of(response.status_code, answer, operation, write=not safe)

    def mutate(self, operation: str, field: str, variables: Mapping[str, Any], *,
               errors: str = "userErrors", safe: bool = False) -> Json:
        """A mutation's payload; its userErrors raised as a PlatformError naming the field."""
        payload = self.run(operation, variables, safe=safe).get(field) or {}
        wire.raise_user_errors(payload, field, errors)
        return payload

    def pages(self, operation: str, path: str, variables: Mapping[str, Any], first: int,
              after: str | None = None) -> Iterator[Json]:
        """Every node of the connection at ``path`` (``"orders"``, ``"order.lineItems"``), cursor
        by cursor, from ``after`` (the end of a page already read) when given."""

        def fetch(cursor: Any) -> Page[Json]:
            data: Any = self.run(operation, {**variables, "first": first,
                                             "after": cursor if cursor is not None else after})
            for key in path.split("."):
                data = (data or {}).get(key)
            connection = data or {}
            info = connection.get("pageInfo") or {}
            following = info.get("endCursor") if info.get("hasNextPage") else None
            return Page(list(connection.get("nodes") or ()), following)

        return cursor_pages(fetch)

    # -- what several hooks need -------------------------------------------------------------------

    @property
    def idempotency_required(self) -> bool:
        return self.version >= IDEMPOTENCY_REQUIRED

    @property
    def idempotency_known(self) -> bool:
        return self.version >= IDEMPOTENCY_KNOWN

    @staticmethod
    def idempotency_key() -> str:
        return str(uuid.uuid4())

    def shop(self) -> Json:
        return self.run("SHOP")

    def locations(self) -> dict[str, str]:
        """Location gid by name and by gid (the ERP names a warehouse either way)."""
        found = self.connection.resource("shopify-locations", lambda: {
            key: node["id"] for node in (self.shop().get("locations") or {}).get("nodes") or ()
            if node.get("isActive", True) for key in (node["id"], node.get("name"))})
        return found

    def location(self, warehouse: str | None) -> str:
        """The location of a stock level: the named warehouse, else the ``location_id`` setting."""
        wanted = warehouse or self.connection.settings.get("location_id")
        if not wanted:
            raise tramo.ConfigurationError("no location_id set and the stock level names no warehouse")
        found = self.locations().get(wanted) or self.locations().get(wire.gid("Location", wanted))
        if found is None:
            raise tramo.ValidationError("StockLevel.warehouse", wanted,
                                        "is no active location of this shop (by name or id)")
        return found

"""The core's HTTP clients against a real loopback server with injected faults."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.routing import Map, Rule

import tramo
from tramo.budget import Window
from tramo.errors import (
    ConfigurationError,
    OutcomeUnknownError,
    RateLimitedError,
    RetriesExhaustedError,
)
from tramo.http import (
    COST,
    IDEMPOTENT,
    REFUSED,
    HttpOptions,
    RetryPolicy,
    async_http_client,
    check_url,
    http_client,
    parse_retry_after,
)
from tramo.sandbox import Fault, HttpSandbox, Knobs, Request, Response, json_response
from tramo.state import StateStore

FAST = HttpOptions(
    timeout=httpx.Timeout(1.0, read=0.15),
    retry=RetryPolicy(attempts=4, backoff=0.002, max_backoff=0.01, max_retry_after=0.5),
)


class ItemsSandbox(HttpSandbox):
    """A tiny platform: items to list and create; it counts what it applied."""

    plugin = "items"
    url_map = Map([Rule("/items", endpoint="items"), Rule("/items/<int:ident>", endpoint="item")])

    def fresh_data(self) -> dict[str, Any]:
        return {"items": [], "applied": 0}

    @property
    def settings(self) -> dict[str, Any]:
        return {"url": self.url}

    def on_items(self, request: Request) -> Response:
        with self.lock:
            if request.method == "POST":
                self.data["applied"] += 1
                item = {"id": len(self.data["items"]) + 1, **(request.get_json() or {})}
                self.data["items"].append(item)
                return json_response(item, 201)
            return json_response({"items": self.data["items"]})

    def on_item(self, request: Request, ident: int) -> Response:
        with self.lock:
            self.data["applied"] += 1
            return json_response({"id": ident, **(request.get_json() or {})})


@pytest.fixture(scope="module")
def platform() -> Iterator[ItemsSandbox]:
    with ItemsSandbox(Knobs(hang=0.3)) as running:
        yield running


@pytest.fixture
def sandbox(platform: ItemsSandbox) -> ItemsSandbox:
    platform.reset()
    return platform


def client(sandbox: ItemsSandbox, **kwargs: Any) -> httpx.Client:
    return http_client(FAST, base_url=sandbox.url, **kwargs)


# -- URL rules and Retry-After -------------------------------------------------

@pytest.mark.parametrize("url", ["https://api.example.com/x", "http://127.0.0.1:8080/x",
                                 "http://localhost/x", "http://[::1]:9/x", "http://127.9.9.9/"])
def test_https_anywhere_and_plain_http_to_loopback_are_allowed(url: str) -> None:
    check_url(url)


@given(st.ip_addresses(v=4).filter(lambda ip: not ip.is_loopback))
def test_plain_http_off_loopback_is_refused(ip: Any) -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        check_url(f"http://{ip}/web_api/products")


def test_plain_http_to_a_host_name_is_refused_before_any_request() -> None:
    with pytest.raises(ConfigurationError, match="plain http to 'api.example.com'"):
        http_client(base_url="http://api.example.com")
    with http_client() as plain, pytest.raises(ConfigurationError):
        plain.get("http://10.0.0.1/x")


@given(st.floats(min_value=0, max_value=10**6, allow_nan=False))
def test_retry_after_in_seconds_reads_back(seconds: float) -> None:
    assert parse_retry_after(f"{seconds:.3f}") == pytest.approx(seconds, abs=1e-3)


@given(st.integers(min_value=0, max_value=86400 * 30))
def test_retry_after_as_an_http_date_is_the_time_until_then(delta: int) -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=delta), usegmt=True)
    assert parse_retry_after(header, now) == delta


def test_a_past_date_means_no_wait_and_garbage_means_unknown() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None and parse_retry_after("") is None
    assert parse_retry_after("nan") is None and parse_retry_after(None) is None


# -- retries ----------------------------------------------------------------------

def test_a_read_is_retried_through_a_server_error(sandbox: ItemsSandbox) -> None:
    sandbox.inject(Fault.SERVER_ERROR)
    sandbox.inject(Fault.DROPPED)
    with client(sandbox) as http:
        assert http.get("/items").json() == {"items": []}
    assert [c.fault for c in sandbox.calls] == [Fault.SERVER_ERROR, Fault.DROPPED, None]


def test_retry_after_is_honoured_and_the_wait_is_announced(sandbox: ItemsSandbox) -> None:
    sandbox.configure(retry_after=0.05)
    sandbox.inject(Fault.RATE_LIMITED)
    waits: list[tuple[float, str]] = []
    with client(sandbox, on_wait=lambda s, why: waits.append((s, why))) as http:
        assert http.get("/items").status_code == 200
    assert waits[0][0] == pytest.approx(0.05) and "HTTP 429" in waits[0][1]


def test_a_retry_after_beyond_the_cap_goes_up_to_the_host(sandbox: ItemsSandbox) -> None:
    sandbox.configure(retry_after=3600)
    sandbox.inject(Fault.RATE_LIMITED)
    with client(sandbox) as http, pytest.raises(RateLimitedError) as caught:
        http.get("/items")
    assert caught.value.retry_after == 3600 and len(sandbox.calls) == 1


def test_retries_end_in_a_typed_error(sandbox: ItemsSandbox) -> None:
    sandbox.inject(Fault.SERVER_ERROR, times=10)
    with client(sandbox) as http, pytest.raises(RetriesExhaustedError) as caught:
        http.get("/items")
    assert caught.value.attempts == 4 and caught.value.status == 503
    assert len(sandbox.calls) == 4


def test_a_secret_url_is_masked_in_errors_waits_and_httpx_log_lines(
        sandbox: ItemsSandbox, caplog: pytest.LogCaptureFixture) -> None:
    from tramo.http import mask_in_http_logs
    secret = f"{sandbox.url}/items/7"  # a webhook URL whose path is its own credential
    mask_in_http_logs([secret])
    waits: list[str] = []
    sandbox.inject(Fault.SERVER_ERROR, times=10)
    with caplog.at_level(logging.INFO, logger="httpx"), client(
            sandbox, secrets=[tramo.Secret(secret)], on_wait=lambda s, why: waits.append(why)) as http:
        with pytest.raises(RetriesExhaustedError) as caught:
            http.put(secret, json={})
        sandbox.reset()
        assert http.put(secret, json={}).status_code == 200  # httpx logs the answered request
    assert "/items/7" not in str(caught.value) and "PUT ***" in str(caught.value)
    assert waits and not [w for w in waits if "/items/7" in w]
    assert "HTTP Request" in caplog.text and "/items/7" not in caplog.text


def test_a_hung_read_times_out_and_is_tried_again(sandbox: ItemsSandbox) -> None:
    sandbox.inject(Fault.TIMEOUT)
    with client(sandbox) as http:
        assert http.get("/items").status_code == 200


def test_a_write_without_a_key_is_not_repeated_after_a_server_error(sandbox: ItemsSandbox) -> None:
    sandbox.inject(Fault.SERVER_ERROR)
    with client(sandbox) as http, pytest.raises(OutcomeUnknownError) as caught:
        http.post("/items", json={"name": "x"})
    assert caught.value.status == 503 and caught.value.response.json()["error"]
    assert len(sandbox.calls) == 1


def test_a_write_with_the_platform_s_idempotency_key_is_retried(sandbox: ItemsSandbox) -> None:
    sandbox.inject(Fault.SERVER_ERROR)
    with client(sandbox, idempotency_header="Idempotency-Key") as http:
        response = http.post("/items", json={"name": "x"}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 201 and sandbox.data["applied"] == 1


def test_a_refused_write_429_is_sent_again(sandbox: ItemsSandbox) -> None:
    sandbox.configure(retry_after=0.01)
    sandbox.inject(Fault.RATE_LIMITED)
    with client(sandbox) as http:
        assert http.post("/items", json={"name": "x"}).status_code == 201
    assert sandbox.data["applied"] == 1


def test_a_request_can_declare_itself_safe_or_unsafe(sandbox: ItemsSandbox) -> None:
    sandbox.inject(Fault.SERVER_ERROR)
    with client(sandbox) as http:
        assert http.post("/items", json={}, extensions={IDEMPOTENT: True}).status_code == 201
        sandbox.inject(Fault.SERVER_ERROR)
        with pytest.raises(OutcomeUnknownError):
            http.put("/items/1", json={"add": 1}, extensions={IDEMPOTENT: False})


def test_a_write_whose_connection_never_opened_is_tried_again() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens
    with http_client(FAST, base_url=f"http://127.0.0.1:{port}") as http:
        with pytest.raises(RetriesExhaustedError) as caught:
            http.post("/items", json={})
    assert caught.value.attempts == 4 and caught.value.status is None


SEND_FAULTS = st.lists(st.sampled_from([Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.DROPPED,
                                        Fault.TIMEOUT, Fault.MALFORMED]), max_size=4)


@settings(max_examples=15)  # each hung call costs a read timeout
@given(faults=SEND_FAULTS)
def test_a_write_without_a_key_is_sent_again_only_after_a_refusal(platform: ItemsSandbox,
                                                                   faults: list[Fault]) -> None:
    """Whatever goes wrong, the platform applies it at most once, and the
    request is only repeated after a 429, where the platform did not act."""
    platform.reset()
    platform.configure(retry_after=0.001)
    for fault in faults:
        platform.inject(fault)
    with client(platform) as http:
        try:
            http.post("/items", json={"name": "once"})
        except (OutcomeUnknownError, RateLimitedError, RetriesExhaustedError):
            pass
    assert platform.settle()
    assert platform.data["applied"] <= 1
    calls = list(platform.calls)
    for earlier in calls[:-1]:
        assert earlier.fault is Fault.RATE_LIMITED


@settings(max_examples=15)
@given(faults=st.lists(st.sampled_from([Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.DROPPED,
                                        Fault.TIMEOUT]), max_size=3))
def test_a_read_survives_any_few_transient_faults(platform: ItemsSandbox, faults: list[Fault]) -> None:
    platform.reset()
    platform.configure(retry_after=0.001)
    platform.data["items"].append({"id": 1})
    for fault in faults:
        platform.inject(fault)
    with client(platform) as http:
        assert http.get("/items").json() == {"items": [{"id": 1}]}
    assert platform.settle()


# -- budgets, async, connections, redaction ------------------------------------

def test_a_shared_budget_waits_before_the_platform_has_to_refuse(sandbox: ItemsSandbox) -> None:
    sandbox.configure(rate_limits=(Window(5, 1.0),), time_scale=10)  # 5 calls per 100 ms
    budget = tramo.budget.Budget(StateStore().for_connection("s"), "api", [Window(5, 0.1, burst=2)])
    waits: list[float] = []
    budget.on_wait = lambda seconds, why: waits.append(seconds)
    with client(sandbox, budget=budget) as http:
        for _ in range(15):
            assert http.get("/items").status_code == 200
    assert all(c.status == 200 for c in sandbox.calls) and len(sandbox.calls) == 15
    assert waits  # the budget, not the platform, made the client slow down


def test_a_request_may_cost_more_than_one_token(sandbox: ItemsSandbox) -> None:
    budget = tramo.budget.Budget(StateStore().for_connection("s"), "api", [Window(100, 60, burst=10)])
    with client(sandbox, budget=budget) as http:
        http.get("/items", extensions={COST: 4})
    assert budget.remaining()[0] == pytest.approx(6, abs=0.1)


def test_the_async_client_follows_the_same_rules(sandbox: ItemsSandbox) -> None:
    sandbox.inject(Fault.SERVER_ERROR)

    async def work() -> None:
        async with async_http_client(FAST, base_url=sandbox.url) as http:
            assert (await http.get("/items")).status_code == 200
            sandbox.inject(Fault.DROPPED)
            with pytest.raises(OutcomeUnknownError):
                await http.post("/items", json={})

    asyncio.run(work())
    assert [c.fault for c in sandbox.calls] == [Fault.SERVER_ERROR, None, Fault.DROPPED]


def _registry() -> tramo.Registry:
    info = tramo.hookimpl(lambda: tramo.PluginInfo(name="p", platform="shop", modality="rest"))
    info.__name__ = "plugin_info"
    return tramo.Registry.for_testing({"p": SimpleNamespace(plugin_info=info)})


def test_connections_to_one_store_share_its_budget_across_modalities(sandbox: ItemsSandbox) -> None:
    registry, store = _registry(), StateStore()
    rest = registry.connect("p", name="rest", state=store, store_key="loja-1", http=FAST)
    soap = registry.connect("p", name="soap", state=store, store_key="loja-1", http=FAST)
    other = registry.connect("p", name="other", state=store, store_key="loja-2", http=FAST)
    windows = [Window(180, 60, burst=18)]
    with rest.http_client(sandbox.url, budget=rest.budget("api", windows)) as http:
        for _ in range(5):
            http.get("/items")
    assert soap.budget("api", windows).remaining()[0] == pytest.approx(13, abs=0.5)
    assert other.budget("api", windows).remaining()[0] == pytest.approx(18)
    rest.close()


def test_a_connection_closes_the_clients_it_made(sandbox: ItemsSandbox) -> None:
    connection = _registry().connect("p", http=FAST)
    sync = connection.http_client(sandbox.url)
    made = connection.resource("api", lambda: SimpleNamespace(closed=False, close=lambda: None))
    assert connection.resource("api", lambda: None) is made
    asynchronous = connection.async_http_client(sandbox.url)
    connection.close()
    assert sync.is_closed and asynchronous.is_closed


def test_credentials_in_urls_stay_out_of_logs_and_errors(sandbox: ItemsSandbox,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    token = "APP_USR-7777-SECRET-TOKEN"
    sandbox.inject(Fault.SERVER_ERROR, times=10)
    waits: list[str] = []
    with caplog.at_level(logging.DEBUG), client(sandbox, on_wait=lambda s, why: waits.append(why)) as http:
        with pytest.raises(RetriesExhaustedError) as caught:
            http.get("/items", params={"access_token": token})
    seen = " ".join([str(caught.value), repr(caught.value), *waits,
                     *(r.getMessage() for r in caplog.records)])
    assert "access_token=" in seen and token not in seen


def test_what_the_platform_reports_about_its_limit_lowers_the_budget(sandbox: ItemsSandbox) -> None:
    """A call-limit header ("used/limit", as Shopify sends) fed to the budget through on_response."""
    sandbox.on_items = lambda request: json_response(  # type: ignore[method-assign]
        {"items": []}, 200, {"X-Shopify-Shop-Api-Call-Limit": "39/40"})
    budget = tramo.budget.Budget(StateStore().for_connection("s"), "api", [Window(40, 20, burst=39)])

    def observe(response: httpx.Response) -> None:
        used, limit = response.headers["X-Shopify-Shop-Api-Call-Limit"].split("/")
        budget.observe(0, int(limit) - int(used))

    try:
        with client(sandbox, budget=budget, on_response=observe) as http:
            http.get("/items")
    finally:
        del sandbox.on_items
    assert budget.remaining()[0] == pytest.approx(1, abs=0.1)


def test_path_values_are_percent_encoded_so_an_id_stays_one_segment() -> None:
    from tramo.http import path
    assert path("/orders/{}/invoices", "12/../x?y") == "/orders/12%2F..%2Fx%3Fy/invoices"


def test_a_refusal_sent_with_http_200_is_waited_out_and_sent_again(sandbox: ItemsSandbox) -> None:
    """A GraphQL "Throttled" comes as 200: the request's predicate spots it, and even a POST goes
    again, because the platform did not act on it."""
    answers = iter([{"errors": [{"extensions": {"code": "THROTTLED"}}]}, {"data": {"ok": True}}])
    sandbox.on_items = lambda request: json_response(next(answers))  # type: ignore[method-assign]
    waits: list[float] = []
    seen: list[bytes] = []

    def throttled(response: httpx.Response) -> float | None:
        return 0.01 if b"THROTTLED" in response.content else None

    try:
        with client(sandbox, on_wait=lambda wait, why: waits.append(wait),
                    on_response=lambda response: seen.append(response.content)) as http:
            answer = http.post("/items", json={}, extensions={REFUSED: throttled})
    finally:
        del sandbox.on_items
    assert answer.json() == {"data": {"ok": True}}
    assert waits == [0.01]
    assert len(seen) == 2 and b"THROTTLED" in seen[0]  # on_response read the refused body too


def test_refusals_without_end_become_a_rate_limited_error(sandbox: ItemsSandbox) -> None:
    with client(sandbox) as http, pytest.raises(RateLimitedError, match="refused"):
        http.get("/items", extensions={REFUSED: lambda response: 0.001})


# -- answers read whole, within a size ---------------------------------------------------------


def _answering(sandbox: ItemsSandbox, body: Any, headers: dict[str, str] | None = None) -> None:
    sandbox.dispatch = lambda request: Response(body, 200, content_type="application/json",
                                                headers=headers or {})


def test_an_answer_larger_than_the_limit_is_refused_by_name_declared_or_not(
        sandbox: ItemsSandbox) -> None:
    small = attrs.evolve(FAST, max_answer_bytes=1000)
    try:
        for body, headers in ((b"[" + b" " * 5000 + b"]", None),                  # declared
                              (iter([b"[", b" " * 3000, b" " * 3000, b"]"]), None)):  # chunked
            _answering(sandbox, body, headers)
            with http_client(small, base_url=sandbox.url) as plain:
                with pytest.raises(tramo.PlatformError, match="larger than 1000 bytes") as caught:
                    plain.get("/items")
            assert caught.value.code == "answer_too_large"
    finally:
        del sandbox.dispatch


def test_an_answer_within_the_limit_reads_as_before_in_both_clients(sandbox: ItemsSandbox) -> None:
    with client(sandbox) as plain:
        plain.post("/items", json={"name": "a"})
        assert plain.get("/items").json() == {"items": [{"id": 1, "name": "a"}]}

    async def read() -> Any:
        async with async_http_client(FAST, base_url=sandbox.url) as aclient:
            return (await aclient.get("/items")).json()

    assert asyncio.run(read()) == {"items": [{"id": 1, "name": "a"}]}


def test_a_read_whose_body_is_cut_off_is_tried_again(sandbox: ItemsSandbox) -> None:
    cut = [2]
    dispatch = sandbox.dispatch

    def answer(request: Any) -> Any:
        if cut[0]:
            cut[0] -= 1
            return Response(iter([b'{"items": [']), 200, content_type="application/json",
                            headers={"Content-Length": "500"})
        return dispatch(request)

    sandbox.dispatch = answer
    try:
        with client(sandbox) as plain:
            assert plain.get("/items").json() == {"items": []}
    finally:
        del sandbox.dispatch
    assert cut == [0]

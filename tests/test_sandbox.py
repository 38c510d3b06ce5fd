"""The sandbox harness: a real loopback server whose knobs make it misbehave on purpose."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.routing import Map, Rule

from tramo.budget import Window
from tramo.sandbox import (
    Fault,
    HttpSandbox,
    Knobs,
    RateLimiter,
    Request,
    Response,
    json_response,
    retry_after_header,
)


class PagesSandbox(HttpSandbox):
    plugin = "pages"
    url_map = Map([Rule("/things", endpoint="things")])

    def fresh_data(self) -> dict[str, Any]:
        return {"things": list(range(1, 8)), "writes": 0}

    @property
    def settings(self) -> dict[str, Any]:
        return {"url": self.url}

    def on_things(self, request: Request) -> Response:
        if request.method == "POST":
            with self.lock:
                self.data["writes"] += 1
            return json_response({"ok": True}, 201)
        page = int(request.args.get("page", 1))
        return json_response({"page": page, "things": self.data["things"][(page - 1) * 3: page * 3]})

    def rate_limited(self, request: Request, retry_after: float) -> Response:
        return json_response({"message": "slow down", "code": 429}, 429,
                             {"Retry-After": retry_after_header(retry_after)})


@pytest.fixture(scope="module")
def running() -> Iterator[PagesSandbox]:
    with PagesSandbox(Knobs(hang=0.5)) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running: PagesSandbox) -> PagesSandbox:
    running.reset()
    return running


@pytest.fixture
def http(sandbox: PagesSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=httpx.Timeout(2.0, read=0.2)) as client:
        yield client


def test_a_sandbox_serves_on_a_free_loopback_port_only_while_it_runs() -> None:
    sandbox = PagesSandbox()
    with pytest.raises(RuntimeError, match="not running"):
        sandbox.url
    with sandbox as running:
        url = httpx.URL(running.url)
        assert url.host == "127.0.0.1" and url.port and running.running
        assert httpx.get(f"{running.url}/things").json()["things"] == [1, 2, 3]
    assert not sandbox.running
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1)
        probe.connect(("127.0.0.1", url.port))


def test_what_the_platform_holds_and_what_reached_it_are_visible(sandbox: PagesSandbox,
                                                               http: httpx.Client) -> None:
    http.post("/things")
    http.get("/things", params={"page": 2})
    assert sandbox.data["writes"] == 1
    assert [(c.method, c.query, c.status) for c in sandbox.calls_to("/things")] == [
        ("POST", "", 201), ("GET", "page=2", 200)]
    assert http.get("/nowhere").status_code == 404


def test_reset_forgets_data_calls_faults_and_knob_changes(sandbox: PagesSandbox,
                                                          http: httpx.Client) -> None:
    http.post("/things")
    sandbox.configure(latency=1.0, faults={Fault.SERVER_ERROR: 1.0})
    sandbox.inject(Fault.DROPPED, times=3)
    sandbox.reset()
    assert sandbox.data["writes"] == 0 and not sandbox.calls
    assert sandbox.knobs.latency == 0 and sandbox.knobs.faults == {}
    assert http.get("/things").status_code == 200


def test_reset_replaces_the_data_instead_of_emptying_it(sandbox: PagesSandbox) -> None:
    """Constant time: a reset never walks what a test wrote."""
    big = sandbox.data
    big["things"] = list(range(200_000))
    sandbox.reset()
    assert sandbox.data is not big and len(sandbox.data["things"]) == 7


def test_injected_faults_hit_only_the_calls_they_match(sandbox: PagesSandbox, http: httpx.Client) -> None:
    sandbox.inject(Fault.SERVER_ERROR, where=lambda method, path: method == "POST")
    assert http.get("/things").status_code == 200
    assert http.post("/things").status_code == 503
    assert http.post("/things").status_code == 201


def test_each_fault_looks_as_it_does_from_a_real_platform(sandbox: PagesSandbox, http: httpx.Client) -> None:
    sandbox.inject(Fault.RATE_LIMITED)
    limited = http.get("/things")
    assert limited.status_code == 429 and limited.json()["message"] == "slow down"
    assert limited.headers["Retry-After"] == "1"
    sandbox.inject(Fault.SERVER_ERROR)
    assert http.get("/things").status_code == 503
    sandbox.inject(Fault.DROPPED)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/things")
    sandbox.inject(Fault.MALFORMED)
    with pytest.raises(ValueError):
        http.get("/things").json()
    sandbox.inject(Fault.TIMEOUT)
    with pytest.raises(httpx.ReadTimeout):
        http.get("/things")


def test_a_timed_out_write_still_lands_as_on_a_slow_platform(sandbox: PagesSandbox,
                                                             http: httpx.Client) -> None:
    sandbox.configure(hang=0.3)
    sandbox.inject(Fault.TIMEOUT)
    with pytest.raises(httpx.ReadTimeout):
        http.post("/things")
    assert sandbox.settle()
    assert sandbox.data["writes"] == 1 and sandbox.calls[-1].fault is Fault.TIMEOUT


def test_a_duplicated_page_repeats_the_page_served_before(sandbox: PagesSandbox, http: httpx.Client) -> None:
    first = http.get("/things", params={"page": 1}).json()
    sandbox.inject(Fault.DUPLICATE_PAGE)
    assert http.get("/things", params={"page": 2}).json() == first


def test_faults_by_chance_are_reproducible_from_the_seed(sandbox: PagesSandbox, http: httpx.Client) -> None:
    def statuses() -> list[int]:
        sandbox.reset()
        sandbox.configure(faults={Fault.SERVER_ERROR: 0.5}, seed=7)
        return [http.get("/things").status_code for _ in range(20)]

    first = statuses()
    assert first == statuses() and {200, 503} == set(first)


def test_the_rate_limit_answers_429_with_the_real_wait(sandbox: PagesSandbox, http: httpx.Client) -> None:
    sandbox.configure(rate_limits=(Window(3, 60.0),), time_scale=60)  # 3 a minute, a minute is 1 s
    assert [http.get("/things").status_code for _ in range(4)] == [200, 200, 200, 429]
    wait = float(http.get("/things").headers["Retry-After"])
    assert 0 < wait <= 1.0


def test_the_time_scale_shortens_platform_durations(sandbox: PagesSandbox) -> None:
    sandbox.configure(time_scale=1000)
    assert sandbox.duration(3 * 3600) == pytest.approx(10.8)
    sandbox.configure(retry_after=60)
    sandbox.inject(Fault.RATE_LIMITED)
    assert httpx.get(f"{sandbox.url}/things").headers["Retry-After"] == "0.060"


def test_latency_is_added_to_every_call(sandbox: PagesSandbox, http: httpx.Client) -> None:
    sandbox.configure(latency=0.05)
    started = time.monotonic()
    http.get("/things")
    assert time.monotonic() - started >= 0.05  # a floor, not a timing bound


@settings(max_examples=40)
@given(limit=st.integers(1, 6), seconds=st.floats(1, 100),
       gaps=st.lists(st.floats(0, 30), min_size=1, max_size=40))
def test_the_platform_side_limiter_never_admits_more_than_its_window(limit: int, seconds: float,
                                                                    gaps: list[float]) -> None:
    now = [0.0]
    limiter = RateLimiter([Window(limit, seconds)], lambda s: s, clock=lambda: now[0])
    admitted: list[float] = []
    for gap in gaps:
        now[0] += gap
        wait = limiter.admit()
        if wait == 0:
            admitted.append(now[0])
        else:
            assert wait > 0
    for start in admitted:
        assert sum(1 for t in admitted if start <= t < start + seconds) <= limit


def test_a_request_the_sandbox_crashes_on_is_a_5xx_and_kept_in_errors() -> None:
    from werkzeug.routing import Map, Rule

    from tramo.sandbox import HttpSandbox

    class Broken(HttpSandbox):
        url_map = Map([Rule("/boom", endpoint="boom")])

        def fresh_data(self) -> dict[str, int]:
            return {}

        @property
        def settings(self) -> dict[str, str]:
            return {"url": self.url}

        def on_boom(self, request: object) -> object:
            raise KeyError("a bug")

    with Broken() as sandbox:
        response = httpx.get(f"{sandbox.url}/boom")
        assert response.status_code == 503 and [c.status for c in sandbox.calls] == [503]
        assert [repr(e) for e in sandbox.errors] == ["KeyError('a bug')"]
        sandbox.reset()
        assert sandbox.errors == []

"""Tokens: kept across restarts, renewed ahead of expiry, once for all concurrent callers."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.errors import AuthenticationError
from tramo.secrets import Secret
from tramo.state import ConnectionState, StateStore
from tramo.tokens import Token, TokenAuth, TokenKeeper, query_parameter

START = datetime(2024, 5, 6, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
BOUND = 5.0  # seconds any wait in these tests may take at most; never reached when all is well


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Platform:
    """Hands out numbered tokens lasting ``lifetime``; can be held, made to fail or to lag."""

    def __init__(self, clock: Callable[[], datetime], lifetime: timedelta = HOUR) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.received: list[Token | None] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()
        self.failures = 0
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        return len(self.received)

    def hold(self) -> None:
        self.release.clear()

    def _issue(self, current: Token | None) -> Token:
        with self._lock:
            self.received.append(current)
            number = self.calls
        self.entered.set()
        return Token(f"access-{number}-s3cr3t", expires_at=self.clock() + self.lifetime,
                     refresh=f"refresh-{number}-s3cr3t", extra={"store_id": "42"})

    def _settle(self, token: Token) -> Token:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform unreachable")
        return token

    def __call__(self, current: Token | None) -> Token:
        token = self._issue(current)
        assert self.release.wait(BOUND)
        return self._settle(token)

    async def async_obtain(self, current: Token | None) -> Token:
        token = self._issue(current)
        assert await asyncio.to_thread(self.release.wait, BOUND)
        return self._settle(token)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def platform(clock: Clock) -> Platform:
    return Platform(clock)


@pytest.fixture
def state() -> ConnectionState:
    return StateStore().for_connection("loja")


@pytest.fixture
def waiting() -> Iterator[Callable[[int], None]]:
    """``waiting(n)`` returns once n callers share one refresh in progress (so they all overlap)."""
    joined = threading.Condition()
    callers: dict[Any, int] = {}  # per refresh (the flight object), how many callers joined it
    join_flight = TokenKeeper._join

    def counted(keeper: TokenKeeper, loop: Any) -> Any:
        flight, leader = join_flight(keeper, loop)
        with joined:
            callers[flight] = callers.get(flight, 0) + 1
            joined.notify_all()
        return flight, leader

    def until(n: int) -> None:
        with joined:
            assert joined.wait_for(lambda: max(callers.values(), default=0) >= n, BOUND), callers

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TokenKeeper, "_join", counted)
        yield until


def run_threads(n: int, target: Callable[[], Any]) -> tuple[list[threading.Thread], list[Any]]:
    """Start n threads together on ``target``; the threads and, once joined, each one's
    result or exception, in order."""
    results: list[Any] = [None] * n
    start = threading.Barrier(n)

    def work(i: int) -> None:
        start.wait(BOUND)
        try:
            results[i] = target()
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    return threads, results


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(BOUND)
        assert not thread.is_alive()


# -- keeping

def test_a_new_keeper_obtains_once_and_a_restart_reuses_the_stored_token(
        tmp_path: Path, clock: Clock, platform: Platform) -> None:
    path = tmp_path / "state.db"
    keeper = TokenKeeper(StateStore(path).for_connection("loja"), platform, clock=clock)
    first = keeper.get()
    assert keeper.get() == first
    assert platform.received == [None]

    def never(current: Token | None) -> Token:
        raise AssertionError("a restart must not authorize again")

    restarted = TokenKeeper(StateStore(path).for_connection("loja"), never, clock=clock)
    again = restarted.get()
    assert again == first and isinstance(again.access, Secret) and isinstance(again.refresh, Secret)
    assert again.extra == {"store_id": "42"}


def test_the_state_file_is_the_credential_store_so_it_holds_the_values_revealed(
        state: ConnectionState, clock: Clock, platform: Platform) -> None:
    TokenKeeper(state, platform, key="api", clock=clock).get()
    record = state.get("api")
    assert record["access"] == "access-1-s3cr3t" and record["refresh"] == "refresh-1-s3cr3t"
    assert record["expires_at"] == (START + HOUR).isoformat()


def test_a_token_is_renewed_ahead_of_expiry_and_obtain_receives_the_old_one(
        state: ConnectionState, clock: Clock, platform: Platform) -> None:
    keeper = TokenKeeper(state, platform, margin=timedelta(minutes=5), clock=clock)
    old = keeper.get()
    clock.advance(minutes=54, seconds=59)
    assert keeper.get() == old and platform.calls == 1
    clock.advance(seconds=1)  # 5 minutes left: within the margin, the old token still works
    assert not old.expired(clock())
    new = keeper.get()
    assert new != old and platform.received == [None, old]
    assert new.expires_at == clock() + HOUR


def test_a_token_that_never_expires_is_never_renewed(state: ConnectionState, clock: Clock) -> None:
    calls: list[Token | None] = []

    def obtain(current: Token | None) -> Token:
        calls.append(current)
        return Token("shpat_x")

    keeper = TokenKeeper(state, obtain, clock=clock)
    keeper.get()
    clock.advance(days=3650)
    assert keeper.get() == Token("shpat_x") and calls == [None]


def test_an_unreadable_stored_record_counts_as_no_token(
        state: ConnectionState, clock: Clock, platform: Platform) -> None:
    state.set("token", {"format": 1, "access": "x"})
    assert TokenKeeper(state, platform, clock=clock).get().access == Secret("access-1-s3cr3t")
    assert platform.received == [None]


# -- one refresh at a time

def test_twenty_threads_needing_a_refresh_share_one(
        state: ConnectionState, clock: Clock, platform: Platform,
        waiting: Callable[[int], None]) -> None:
    keeper = TokenKeeper(state, platform, clock=clock)
    old = keeper.get()
    clock.advance(hours=1)
    platform.hold()
    threads, results = run_threads(20, keeper.get)
    waiting(20)
    platform.release.set()
    join(threads)
    assert platform.received == [None, old]
    assert all(r == results[0] for r in results) and results[0] != old


def test_twenty_tasks_needing_a_refresh_share_one(
        state: ConnectionState, clock: Clock, platform: Platform,
        waiting: Callable[[int], None]) -> None:
    keeper = TokenKeeper(state, platform.async_obtain, clock=clock)

    async def main() -> list[Token]:
        old = await keeper.aget()
        clock.advance(hours=1)
        platform.hold()
        tasks = [asyncio.create_task(keeper.aget()) for _ in range(20)]
        await asyncio.to_thread(waiting, 20)
        platform.release.set()
        results = await asyncio.gather(*tasks)
        assert platform.received == [None, old]
        return results

    results = asyncio.run(main())
    assert len(set(results)) == 1


def test_threads_tasks_on_two_loops_and_two_stores_of_one_file_share_one_refresh(
        tmp_path: Path, clock: Clock, platform: Platform,
        waiting: Callable[[int], None]) -> None:
    keepers = [TokenKeeper(StateStore(tmp_path / "state.db").for_connection("loja"),
                           platform.async_obtain, clock=clock) for _ in range(2)]
    old = keepers[0].get()  # a sync get with an async obtain: it runs on the portal
    clock.advance(hours=2)
    platform.hold()

    def on_a_loop(keeper: TokenKeeper) -> Callable[[], list[Token]]:
        async def tasks() -> list[Token]:
            return list(await asyncio.gather(*(keeper.aget() for _ in range(5))))
        return lambda: asyncio.run(tasks())

    loop_results: list[list[Token]] = [[], []]
    sync_results: list[Token | None] = [None] * 6
    threads = [threading.Thread(
        target=lambda i=i: loop_results.__setitem__(i, on_a_loop(keepers[i])())) for i in range(2)]
    sync_threads = [threading.Thread(
        target=lambda i=i: sync_results.__setitem__(i, keepers[i % 2].get())) for i in range(6)]
    for thread in threads + sync_threads:
        thread.start()
    waiting(16)
    platform.release.set()
    join(threads + sync_threads)
    everything = [t for batch in loop_results for t in batch] + sync_results
    assert platform.received == [None, old]
    assert len(everything) == 16 and len(set(everything)) == 1 and everything[0] != old


class RacingState(ConnectionState):
    """A state whose next read is followed by ``meanwhile()``: another process acting just then."""

    meanwhile: Callable[[], Any] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key, default)
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        return value


def test_the_stored_token_is_read_again_before_renewing_it(
        tmp_path: Path, clock: Clock, platform: Platform) -> None:
    state = RacingState(StateStore(tmp_path / "state.db"), "loja")
    keeper = TokenKeeper(state, platform, clock=clock)
    old = keeper.get()
    clock.advance(hours=1)
    other = TokenKeeper(StateStore(tmp_path / "state.db").for_connection("loja"), platform,
                        clock=clock)
    state.meanwhile = other.get  # renews it after this keeper found it stale, before it leads
    assert keeper.get() == other.get() != old
    assert platform.received == [None, old]


def test_ten_callers_refused_at_once_lead_to_one_refresh(
        state: ConnectionState, clock: Clock, platform: Platform,
        waiting: Callable[[int], None]) -> None:
    keeper = TokenKeeper(state, platform, clock=clock)
    old = keeper.get()
    platform.hold()
    marked: list[bool] = []

    def refused() -> Token:
        marked.append(keeper.invalidate(old))  # each got a 401 with the same token
        return keeper.get()

    threads, results = run_threads(10, refused)
    waiting(10)
    platform.release.set()
    join(threads)
    assert sorted(marked) == [False] * 9 + [True]
    assert platform.received == [None, old]  # obtain still gets the refused token (its refresh)
    assert len(set(results)) == 1 and results[0] != old
    assert keeper.invalidate(old) is False and keeper.get() == results[0]


def test_a_failed_refresh_reaches_every_waiter_and_the_next_call_tries_again(
        state: ConnectionState, clock: Clock, platform: Platform,
        waiting: Callable[[int], None]) -> None:
    keeper = TokenKeeper(state, platform, clock=clock)
    old = keeper.get()
    clock.advance(hours=1)
    platform.hold()
    platform.failures = 1
    threads, results = run_threads(10, keeper.get)
    waiting(10)
    platform.release.set()
    join(threads)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert platform.received == [None, old]
    assert keeper.get() != old and platform.received == [None, old, old]


def test_a_failed_async_refresh_reaches_every_task(
        state: ConnectionState, clock: Clock, platform: Platform,
        waiting: Callable[[int], None]) -> None:
    keeper = TokenKeeper(state, platform.async_obtain, clock=clock)
    platform.hold()
    platform.failures = 1

    async def main() -> list[Any]:
        tasks = [asyncio.create_task(keeper.aget()) for _ in range(5)]
        await asyncio.to_thread(waiting, 5)
        platform.release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    assert all(isinstance(r, ConnectionError) for r in asyncio.run(main()))
    assert platform.calls == 1


def test_cancelling_the_task_that_started_a_refresh_does_not_cancel_it_for_the_others(
        state: ConnectionState, clock: Clock, platform: Platform,
        waiting: Callable[[int], None]) -> None:
    keeper = TokenKeeper(state, platform.async_obtain, clock=clock)
    platform.hold()

    async def main() -> Token:
        leader = asyncio.create_task(keeper.aget())
        await asyncio.to_thread(platform.entered.wait, BOUND)
        follower = asyncio.create_task(keeper.aget())
        await asyncio.to_thread(waiting, 2)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        platform.release.set()
        return await follower

    assert asyncio.run(main()).access == Secret("access-1-s3cr3t")
    assert platform.calls == 1


class Interrupt(BaseException):
    """Like KeyboardInterrupt: not an error of the refresh, so waiters take over."""


def test_a_refresh_interrupted_in_its_thread_is_taken_over_by_a_waiter(
        state: ConnectionState, clock: Clock, platform: Platform,
        waiting: Callable[[int], None]) -> None:
    def obtain(current: Token | None) -> Token:
        token = platform(current)
        if platform.calls == 1:
            raise Interrupt
        return token

    keeper = TokenKeeper(state, obtain, clock=clock)
    platform.hold()
    interrupted: list[BaseException] = []

    def leader() -> None:
        try:
            keeper.get()
        except Interrupt as exc:
            interrupted.append(exc)

    first = threading.Thread(target=leader)
    first.start()
    assert platform.entered.wait(BOUND)
    threads, results = run_threads(3, keeper.get)
    waiting(4)
    platform.release.set()
    join([first, *threads])
    assert len(interrupted) == 1 and platform.calls == 2
    assert len(set(results)) == 1 and results[0].access == Secret("access-2-s3cr3t")


def test_a_refresh_cut_short_by_the_end_of_its_loop_is_taken_over_by_a_waiter(
        state: ConnectionState, clock: Clock, waiting: Callable[[int], None]) -> None:
    calls: list[Token | None] = []
    started = threading.Event()

    async def obtain(current: Token | None) -> Token:
        calls.append(current)
        if len(calls) == 1:
            started.set()
            await asyncio.sleep(BOUND)  # cancelled when asyncio.run ends
        return Token(f"access-{len(calls)}", expires_at=clock() + HOUR)

    keeper = TokenKeeper(state, obtain, clock=clock)
    threads: list[threading.Thread] = []

    async def leave_early() -> None:
        asyncio.create_task(keeper.aget())
        await asyncio.to_thread(started.wait, BOUND)
        threads.extend(run_threads(1, keeper.get)[0])
        await asyncio.to_thread(waiting, 2)

    asyncio.run(leave_early())
    join(threads)
    assert len(calls) == 2 and keeper.get().access == Secret("access-2")


def test_a_refresh_task_cancelled_before_it_ran_is_started_again(
        state: ConnectionState, clock: Clock, platform: Platform) -> None:
    keeper = TokenKeeper(state, platform.async_obtain, clock=clock)

    async def main() -> Token:
        caller = asyncio.create_task(keeper.aget())
        await asyncio.sleep(0)  # the caller has created the refresh task; it has not run yet
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task() and task is not caller:
                task.cancel()
        return await asyncio.wait_for(caller, BOUND)

    assert asyncio.run(main()).access == Secret("access-1-s3cr3t")
    assert platform.calls == 1


def test_a_plain_obtain_started_by_aget_is_kept_though_its_loop_ended(
        state: ConnectionState, clock: Clock, platform: Platform) -> None:
    keeper = TokenKeeper(state, platform, clock=clock)
    platform.hold()

    async def leave() -> None:
        asyncio.create_task(keeper.aget())
        await asyncio.to_thread(platform.entered.wait, BOUND)

    asyncio.run(leave())  # cancels the caller while obtain runs in its thread
    platform.release.set()
    threads, results = run_threads(1, keeper.get)
    join(threads)
    assert platform.calls == 1 and results[0].access == Secret("access-1-s3cr3t")


# -- what obtain may get wrong

def test_an_already_expired_token_is_refused_not_renewed_in_a_loop(
        state: ConnectionState, clock: Clock) -> None:
    platform = Platform(clock, lifetime=timedelta(0))
    keeper = TokenKeeper(state, platform, clock=clock)
    for attempt in range(1, 3):
        with pytest.raises(AuthenticationError, match="already expired") as caught:
            keeper.get()
        assert platform.calls == attempt  # each get tries once, no more
    assert "s3cr3t" not in str(caught.value) and state.get("token") is None


def test_a_token_shorter_than_the_margin_is_kept_until_a_quarter_of_its_life_is_left(
        state: ConnectionState, clock: Clock) -> None:
    platform = Platform(clock, lifetime=timedelta(minutes=2))
    keeper = TokenKeeper(state, platform, margin=timedelta(minutes=5), clock=clock)
    first = keeper.get()
    clock.advance(seconds=85)
    assert keeper.get() == first and platform.calls == 1
    clock.advance(seconds=10)  # 25 s left of 120: less than a quarter
    assert keeper.get() != first and platform.calls == 2


def test_a_stored_token_without_its_issue_time_keeps_the_whole_margin(
        state: ConnectionState, clock: Clock) -> None:
    stamped = Token("old", expires_at=clock() + timedelta(minutes=2))
    state.set("token", {"format": 1, "access": "old", "expires_at": stamped.expires_at.isoformat(),
                        "refresh": None, "refresh_expires_at": None, "extra": {}, "invalid": False})
    platform = Platform(clock, lifetime=timedelta(hours=3))
    keeper = TokenKeeper(state, platform, margin=timedelta(minutes=5), clock=clock)
    assert keeper.get() != stamped and platform.calls == 1


def test_obtain_must_return_a_token(state: ConnectionState) -> None:
    with pytest.raises(TypeError, match="not dict"):
        TokenKeeper(state, lambda current: {"x": "y"}).get()  # type: ignore[arg-type,return-value]


def test_a_sync_obtain_serves_aget_and_an_async_one_serves_get(
        state: ConnectionState, clock: Clock, platform: Platform) -> None:
    sync_keeper = TokenKeeper(state, platform, key="a", clock=clock)
    async_keeper = TokenKeeper(state, platform.async_obtain, key="b", clock=clock)
    assert asyncio.run(sync_keeper.aget()) == sync_keeper.get()
    assert async_keeper.get() == asyncio.run(async_keeper.aget())
    assert platform.calls == 2


def bounded(call: Callable[[], Any]) -> Any:
    """``call()`` in a thread of its own, so a deadlock fails the test instead of hanging it."""
    threads, results = run_threads(1, call)
    threads[0].join(BOUND)
    assert not threads[0].is_alive(), "deadlocked"
    if isinstance(results[0], Exception):
        raise results[0]
    return results[0]


def test_obtain_asking_its_own_keeper_fails_instead_of_waiting_for_itself(
        state: ConnectionState) -> None:
    def obtain(current: Token | None) -> Token:
        return keeper.get()

    async def async_obtain(current: Token | None) -> Token:
        return await async_keeper.aget()

    keeper = TokenKeeper(state, obtain, key="a")
    async_keeper = TokenKeeper(state, async_obtain, key="b")
    for call in (keeper.get, lambda: asyncio.run(keeper.aget()), async_keeper.get,
                 lambda: asyncio.run(async_keeper.aget())):
        with pytest.raises(RuntimeError, match="wait for itself"):
            bounded(call)


def test_a_sync_get_on_the_loop_that_refreshes_fails_instead_of_blocking_it(
        state: ConnectionState, clock: Clock, platform: Platform) -> None:
    keeper = TokenKeeper(state, platform.async_obtain, clock=clock)
    platform.hold()

    async def main() -> None:
        leader = asyncio.create_task(keeper.aget())
        await asyncio.to_thread(platform.entered.wait, BOUND)
        try:
            with pytest.raises(RuntimeError, match="use 'await keeper.aget\\(\\)'"):
                keeper.get()
        finally:
            platform.release.set()
        await leader

    bounded(lambda: asyncio.run(main()))


# -- the property

operations = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.integers(0, 3 * 3600)),
    st.tuples(st.just("get"), st.just(0)),
    st.tuples(st.just("invalidate"), st.just(0)),
    st.tuples(st.just("invalidate an old one"), st.just(0)),
), max_size=30)


@given(margin=st.integers(0, 900), extra_life=st.integers(1, 7200), ops=operations)
def test_obtain_is_called_only_for_a_missing_refused_or_expiring_token(
        margin: int, extra_life: int, ops: list[tuple[str, int]]) -> None:
    clock = Clock()
    platform = Platform(clock, lifetime=timedelta(seconds=margin + extra_life))
    keeper = TokenKeeper(StateStore().for_connection("p"), platform,
                         margin=timedelta(seconds=margin), clock=clock)
    held: list[Token] = []  # every token handed out, the current one last
    refused = False
    for op, amount in ops:
        if op == "advance":
            clock.advance(seconds=amount)
        elif op == "get":
            current = held[-1] if held else None
            due = (current is None or refused
                   or current.expires_at - clock() <= timedelta(seconds=margin))
            calls = platform.calls
            token = keeper.get()
            assert platform.calls == calls + due
            if due:
                assert platform.received[-1] == current
                refused = False
            assert token.expires_at - clock() > timedelta(seconds=margin)
            if not held or token != held[-1]:
                held.append(token)
        elif op == "invalidate" and held:
            assert keeper.invalidate(held[-1]) is (not refused)
            refused = True
        elif op == "invalidate an old one" and len(held) > 1:
            assert keeper.invalidate(held[0]) is False


# -- values and secrets

def test_a_token_wants_aware_times_and_text() -> None:
    with pytest.raises(ValueError, match="aware"):
        Token("x", expires_at=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="empty"):
        Token("")
    with pytest.raises(TypeError, match="text to text"):
        Token("x", extra={"store_id": 42})  # type: ignore[dict-item]
    token = Token("x", expires_at=START, refresh="r", refresh_expires_at=START + HOUR)
    assert token.expired(START) and not token.expired(START - timedelta(seconds=1))
    assert token.refreshable(START) and not token.refreshable(START + HOUR)
    assert not Token("x").refreshable() and not Token("x").expired()
    with pytest.raises(TypeError):
        token.extra["store_id"] = "1"  # type: ignore[index]


def test_no_secret_value_in_reprs_messages_or_logs(
        state: ConnectionState, clock: Clock, platform: Platform,
        caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        keeper = TokenKeeper(state, platform, clock=clock)
        token = keeper.get()
        keeper.invalidate(token)
        keeper.get()
        clock.advance(hours=2)
        platform.failures = 1
        with pytest.raises(ConnectionError) as failed:
            keeper.get()
        seen.append(str(failed.value))
        platform.lifetime = timedelta(minutes=-1)
        with pytest.raises(AuthenticationError) as expired:
            keeper.get()
        seen += [str(expired.value), repr(expired.value)]
        platform.lifetime = timedelta(minutes=1)
        token = keeper.get()  # shorter than the margin: a warning
    seen += [repr(token), str(token), f"{token}", repr(keeper), str(keeper)]
    seen += [record.getMessage() for record in caplog.records]
    assert any("renewing the token" in text for text in seen)
    assert any("Secret('***')" in text for text in seen)
    assert not [text for text in seen if "s3cr3t" in text]


# -- TokenAuth: the token on every request, one renewal after a refusal --------------


def _auth_platform(valid: set[str]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("access_token")
        return httpx.Response(200 if token in valid else 401, json={"token": token})

    return httpx.MockTransport(answer)


def test_token_auth_puts_the_token_where_the_platform_reads_it(
        state: ConnectionState, clock: Clock) -> None:
    platform = Platform(clock)
    keeper = TokenKeeper(state, platform, clock=clock)
    auth = TokenAuth(keeper, query_parameter("access_token"))
    with httpx.Client(transport=_auth_platform({"access-1-s3cr3t"}), auth=auth) as client:
        assert client.get("https://loja.example/x").json() == {"token": "access-1-s3cr3t"}


def test_a_refused_token_is_renewed_once_and_the_request_sent_again(
        state: ConnectionState, clock: Clock) -> None:
    platform = Platform(clock)
    keeper = TokenKeeper(state, platform, clock=clock)
    auth = TokenAuth(keeper, query_parameter("access_token"))
    with httpx.Client(transport=_auth_platform({"access-2-s3cr3t"}), auth=auth) as client:
        response = client.get("https://loja.example/x?page=2")
    assert response.json() == {"token": "access-2-s3cr3t"} and platform.calls == 2
    assert response.request.url.params["page"] == "2"


def test_a_second_refusal_reaches_the_caller(state: ConnectionState, clock: Clock) -> None:
    platform = Platform(clock)
    keeper = TokenKeeper(state, platform, clock=clock)
    with httpx.Client(transport=_auth_platform(set()), auth=TokenAuth(keeper)) as client:
        assert client.get("https://loja.example/x").status_code == 401
    assert platform.calls == 2


def test_token_auth_works_for_async_clients(state: ConnectionState, clock: Clock) -> None:
    platform = Platform(clock)
    keeper = TokenKeeper(state, platform.async_obtain, clock=clock)
    auth = TokenAuth(keeper, query_parameter("access_token"))

    async def fetch() -> Any:
        async with httpx.AsyncClient(transport=_auth_platform({"access-2-s3cr3t"}),
                                     auth=auth) as client:
            return (await client.get("https://loja.example/x")).json()

    assert asyncio.run(fetch()) == {"token": "access-2-s3cr3t"} and platform.calls == 2


def _jwt(claims: object) -> str:
    import base64
    import json
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{part}.c2ln"


def test_a_jwt_says_when_it_expires_and_anything_else_says_nothing() -> None:
    from tramo.tokens import jwt_expiry
    assert jwt_expiry(_jwt({"exp": 1_800_000_000})) == datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)
    for unreadable in ("opaque-token", "a.!!!.c", _jwt(["exp"]), _jwt({"exp": "soon"}), _jwt({"exp": True}),
                       _jwt({"sub": "x"})):
        assert jwt_expiry(unreadable) is None


def test_raw_header_puts_the_token_without_a_scheme() -> None:
    from tramo.tokens import raw_header
    request = httpx.Request("GET", "https://example.com/")
    raw_header(request, "a.b.c")
    assert request.headers["Authorization"] == "a.b.c"

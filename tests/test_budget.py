"""Rate budgets: never more calls than any window allows, shared by every process on a store."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.budget import Budget, Window
from tramo.state import StateStore

windows = st.builds(Window, limit=st.integers(1, 40), seconds=st.sampled_from([1.0, 10.0, 60.0]))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@given(st.lists(windows, min_size=1, max_size=3),
       st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=120))
def test_a_budget_never_lets_more_calls_through_than_any_window_allows(
        limits: list[Window], pauses: list[float]) -> None:
    clock = FakeClock()
    budget = Budget(StateStore().for_connection("s"), "api", limits, clock=clock, sleep=clock.sleep)
    calls: list[float] = []
    for pause in pauses:
        clock.sleep(pause)
        budget.acquire()
        calls.append(clock.now)
    for window in limits:
        for i, start in enumerate(calls):
            inside = [t for t in calls[i:] if t < start + window.seconds]
            assert len(inside) <= window.limit, (window, len(inside))


def test_a_wait_is_announced_before_it_happens() -> None:
    clock = FakeClock()
    heard: list[str] = []
    budget = Budget(StateStore().for_connection("s"), "api", [Window(limit=2, seconds=10, burst=1)],
                    clock=clock, sleep=clock.sleep, on_wait=lambda s, why: heard.append(why))
    budget.acquire()
    budget.acquire()
    assert clock.now == pytest.approx(1_000_010.0)
    assert len(heard) == 1 and "waiting 10.00 s" in heard[0]


def test_what_the_platform_reports_lowers_the_budget() -> None:
    clock = FakeClock()
    budget = Budget(StateStore().for_connection("s"), "api", [Window(limit=100, seconds=10, burst=40)],
                    clock=clock, sleep=clock.sleep)
    assert budget.remaining() == [40.0]
    budget.observe(0, 3)
    assert budget.remaining() == [3.0]
    assert budget.try_acquire(5) > 0


def _spend(path: str, count: int) -> None:
    budget = Budget(StateStore(path).for_connection("store"), "api", [Window(limit=1000, seconds=3600, burst=50)])
    for _ in range(count):
        assert budget.try_acquire() == 0


def test_processes_on_the_same_store_share_one_budget(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite3")
    context = multiprocessing.get_context("spawn")
    # Both open the new file at the same moment: setting it up must not race.
    workers = [context.Process(target=_spend, args=(path, 20)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    left = Budget(StateStore(path).for_connection("store"), "api",
                  [Window(limit=1000, seconds=3600, burst=50)]).remaining()[0]
    assert 10 <= left < 11  # 50 - 40, plus the little that refilled meanwhile


def test_a_window_refuses_a_burst_that_would_never_refill() -> None:
    with pytest.raises(ValueError):
        Window(limit=10, seconds=1, burst=10)


def test_published_limits_give_a_window_per_limit_each_refilling() -> None:
    from tramo.budget import published_limits

    assert published_limits() == ()
    minute, day, second = published_limits(per_second=3, per_minute=180, per_day=10_000)
    assert (minute.limit, minute.seconds, minute.capacity) == (180, 60, 9.0)
    assert (day.limit, day.seconds, day.capacity) == (10_000, 86_400, 5_000.0)
    assert (second.limit, second.seconds, second.capacity) == (3, 1, 1.0)
    assert all(w.rate > 0 for w in (minute, day, second))
    assert published_limits(per_minute=1)[0].capacity == 1.0  # a limit of one still refills


def test_tokens_given_back_return_to_the_bucket_up_to_its_capacity() -> None:
    clock = FakeClock()
    budget = Budget(StateStore().for_connection("s"), "api", [Window(1100, 1, burst=1000)],
                    clock=clock, sleep=clock.sleep)
    budget.acquire(300)
    budget.give_back(250)
    assert budget.remaining() == [pytest.approx(950)]
    budget.give_back(500)
    assert budget.remaining() == [pytest.approx(1000)]


def test_a_budget_adopts_the_limits_the_platform_reports() -> None:
    clock = FakeClock()
    budget = Budget(StateStore().for_connection("s"), "api", [Window(2100, 1, burst=2000)],
                    clock=clock, sleep=clock.sleep)
    budget.adopt([Window(1050, 1, burst=1000)])
    assert budget.remaining() == [pytest.approx(1000)]
    budget.acquire(1000)
    clock.sleep(1)
    assert budget.remaining() == [pytest.approx(50)]
    with pytest.raises(ValueError):
        budget.adopt([Window(10, 1), Window(100, 60)])

"""tramo.jobs.follow: asynchronous jobs followed together, within a time, backing off."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.errors import AuthenticationError, TransientError
from tramo.jobs import follow


class Clock:
    """Time that passes only when the follower sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


@given(durations=st.dictionaries(st.text(min_size=1, max_size=3), st.floats(0, 30), max_size=8),
       within=st.floats(0, 20))
def test_every_job_done_within_the_time_is_reported_and_none_other(durations: dict[str, float],
                                                                   within: float) -> None:
    clock = Clock()
    rounds: list[int] = []

    def look(left: Mapping[str, float]) -> dict[str, str]:
        rounds.append(len(left))
        return {key: "done" for key, lasts in left.items() if lasts <= clock.now}

    done = follow(durations, look, within=within, sleep=clock.sleep, clock=lambda: clock.now)
    assert set(done) == {k for k, lasts in durations.items() if lasts <= clock.now}
    assert clock.now <= within + 1e-9
    finished_in_time = {k for k, lasts in durations.items() if lasts <= within - 5.0}
    assert finished_in_time <= set(done)  # the pause never exceeds 5 s
    assert len(rounds) <= 1 + len(clock.pauses) and all(p <= 5.0 for p in clock.pauses)


def test_pauses_double_from_the_first_to_the_ceiling_and_long_ones_are_announced() -> None:
    clock = Clock()
    told: list[str] = []
    follow({"a": 1}, lambda left: {}, within=12, sleep=clock.sleep, clock=lambda: clock.now,
           first_pause=0.5, longest_pause=4.0, on_wait=lambda s, why: told.append(why), what="protocol")
    assert clock.pauses == [0.5, 1.0, 2.0, 4.0, 4.0, 0.5]
    assert len(told) == 4 and "1 protocol(s)" in told[0]


def test_a_transient_failure_of_a_look_is_tried_again_and_another_goes_up() -> None:
    clock = Clock()
    looks = iter([TransientError("blip"), {"a": 1}])

    def look(left: Mapping[str, int]) -> dict[str, int]:
        answer = next(looks)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert follow({"a": 0}, look, within=5, sleep=clock.sleep, clock=lambda: clock.now) == {"a": 1}

    def refused(left: Mapping[str, int]) -> dict[str, int]:
        raise AuthenticationError("no")

    with pytest.raises(AuthenticationError):
        follow({"a": 0}, refused, within=5, sleep=clock.sleep, clock=lambda: clock.now)

"""Following a platform's asynchronous jobs until they finish, all of them together.

Some writes are taken now and done later: Ideris answers a product creation
with a protocol, Shopify a bulk operation with its id. Polling each job in
turn makes N jobs wait N times; :func:`follow` looks at every pending job
in one round (the plugin decides how: one listing of pending jobs, or a call
per job), then pauses, the pause doubling up to a ceiling, until none is
pending or the time allowed is over. What is still pending then is the
caller's to report (never as done) and to remember for the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tramo.errors import TransientError

__all__ = ["follow"]

K = TypeVar("K")
J = TypeVar("J")
R = TypeVar("R")


def follow(pending: Mapping[K, J], look: Callable[[Mapping[K, J]], Mapping[K, R]], *,
           within: float, on_wait: Callable[[float, str], Any] | None = None,
           first_pause: float = 0.05, longest_pause: float = 5.0,
           what: str = "job", sleep: Callable[[float], Any] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> dict[K, R]:
    """The outcomes of the jobs that finished within ``within`` seconds, by key.

    ``look(left)`` is one round: it returns the outcome of each job in
    ``left`` that has finished (others are left out). A transient error in a
    round is tried again next round; any other error goes up to the caller.
    A pause of a second or more is told to ``on_wait`` first.
    """
    deadline = clock() + within
    left = dict(pending)
    done: dict[K, R] = {}
    pause = first_pause
    while left:
        try:
            finished = look(left)
        except TransientError:
            finished = {}
        for key, outcome in finished.items():
            if key in left:
                done[key] = outcome
                del left[key]
        remaining = deadline - clock()
        if not left or remaining <= 0:
            break
        wait = min(pause, remaining)
        if on_wait is not None and wait >= 1:
            on_wait(wait, f"waiting {wait:.0f} s for {len(left)} {what}(s) to finish")
        sleep(wait)
        pause = min(pause * 2, longest_pause)
    return done

"""Rate budgets: wait before a call rather than after a 429.

A :class:`Budget` holds one token bucket per window of a platform's limits
(Tray: 180 a minute and 10,000 a day), kept in the state store so every
process working on the same store draws from the same buckets. A bucket of
capacity ``burst`` refilling at ``(limit - burst) / seconds`` lets through at
most ``burst + (limit - burst) = limit`` calls in any ``seconds``-long span,
which is the platform's promise kept exactly, with room for a short burst.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from tramo.state import ConnectionState

__all__ = ["MIN_WAIT", "Budget", "Window", "published_limits"]

#: The shortest wait asked for, in seconds.
MIN_WAIT = 0.001


@attrs.frozen
class Window:
    """At most ``limit`` calls in any ``seconds``, ``burst`` of them back to back.

    ``burst`` defaults to a tenth of the limit (at least 1) and must stay below
    the limit, so that the bucket refills; a limit of 1 is one call per window.
    """

    limit: int = attrs.field(validator=attrs.validators.ge(1))
    seconds: float = attrs.field(validator=attrs.validators.gt(0))
    burst: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.burst is not None and not 1 <= self.burst < max(self.limit, 2):
            raise ValueError(f"burst must be from 1 to {max(self.limit - 1, 1)}, got {self.burst}")

    @property
    def capacity(self) -> float:
        return float(self.burst if self.burst is not None else max(1, self.limit // 10))

    @property
    def rate(self) -> float:
        """Tokens per second: what the window allows beyond its burst, spread evenly."""
        return max(self.limit - self.capacity, 1.0) / self.seconds


def published_limits(*, per_second: int = 0, per_minute: int = 0,
                     per_day: int = 0) -> tuple[Window, ...]:
    """The windows for a platform's published request limits (0: no such limit).

    A minute's bucket holds three seconds' worth, so the pace is steady; a
    day's holds half the quota (a big import may spend it at the minute's
    pace, the rest comes back over the day); a second's holds one call, then
    an even pace, for platforms and proxies that refuse any burst.
    """
    found = []
    if per_minute > 0:
        found.append(Window(per_minute, 60, burst=max(1, min(per_minute // 20, per_minute - 1))))
    if per_day > 0:
        found.append(Window(per_day, 86_400, burst=max(1, min(per_day // 2, per_day - 1))))
    if per_second > 0:
        found.append(Window(per_second, 1, burst=1))
    return tuple(found)


class Budget:
    """Token buckets for one store's windows, shared through ``state``.

    :param state: the connection's state (its store file is what processes share).
    :param name: which budget of the store (``"api"``), one per rate-limited API.
    :param windows: the platform's limits.
    :param on_wait: called with (seconds, reason) before waiting, so a host
        does not mistake a wait for a hang.
    :param clock: wall-clock seconds (shared across processes); tests pass a fake.
    """

    def __init__(self, state: ConnectionState, name: str, windows: Sequence[Window], *,
                 on_wait: Callable[[float, str], Any] | None = None,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Any] = time.sleep) -> None:
        if not windows:
            raise ValueError("a budget needs at least one window")
        self.state = state
        self.key = f"budget:{name}"
        self.windows = tuple(windows)
        self.on_wait = on_wait
        self.clock = clock
        self.sleep = sleep

    def _buckets(self, data: Any, now: float) -> list[float]:
        levels = data["tokens"] if isinstance(data, dict) and len(data.get("tokens", ())) == len(self.windows) else None
        since = data.get("at", now) if isinstance(data, dict) else now
        elapsed = max(0.0, now - since)
        if levels is None:
            return [w.capacity for w in self.windows]
        return [min(w.capacity, level + elapsed * w.rate) for w, level in zip(self.windows, levels)]

    def try_acquire(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens now and return 0, or take nothing and return the seconds to wait."""
        for window in self.windows:
            if cost > window.capacity:
                raise ValueError(f"a call costing {cost} can never fit a burst of {window.capacity:g}")
        with self.state.atomic():
            now = self.clock()
            levels = self._buckets(self.state.get(self.key), now)
            wait = max(((cost - level) / w.rate if level < cost else 0.0)
                       for w, level in zip(self.windows, levels))
            if wait <= 0:
                levels = [level - cost for level in levels]
            else:
                wait = max(wait, MIN_WAIT)  # a wait below the clock's grain would never end
            self.state.set(self.key, {"tokens": levels, "at": now})
        return wait

    def acquire(self, cost: float = 1.0) -> None:
        """Wait until the call fits every window, then take its tokens."""
        while (wait := self.try_acquire(cost)) > 0:
            self._announce(wait)
            self.sleep(wait)

    async def aacquire(self, cost: float = 1.0) -> None:
        """:meth:`acquire` without blocking the event loop."""
        while (wait := self.try_acquire(cost)) > 0:
            self._announce(wait)
            await asyncio.sleep(wait)

    def observe(self, window: int, remaining: float) -> None:
        """The platform says only ``remaining`` calls are left in ``window``; believe it."""
        with self.state.atomic():
            now = self.clock()
            levels = self._buckets(self.state.get(self.key), now)
            levels[window] = min(levels[window], max(0.0, float(remaining)))
            self.state.set(self.key, {"tokens": levels, "at": now})

    def give_back(self, cost: float) -> None:
        """Return tokens taken for a call that cost less than was drawn (a platform that
        charges a query's estimated cost up front and refunds the difference)."""
        if cost <= 0:
            return
        with self.state.atomic():
            now = self.clock()
            levels = self._buckets(self.state.get(self.key), now)
            levels = [min(w.capacity, level + cost) for w, level in zip(self.windows, levels)]
            self.state.set(self.key, {"tokens": levels, "at": now})

    def adopt(self, windows: Sequence[Window]) -> None:
        """Take the limits the platform reports (a plan's own bucket size and restore rate).

        The levels stay, cut to the new capacities; the same number of windows is kept.
        """
        if len(windows) != len(self.windows):
            raise ValueError(f"a budget of {len(self.windows)} window(s) cannot adopt {len(windows)}")
        self.windows = tuple(windows)

    def remaining(self) -> list[float]:
        """Tokens left in each window now."""
        return self._buckets(self.state.get(self.key), self.clock())

    def _announce(self, wait: float) -> None:
        if self.on_wait is not None:
            self.on_wait(wait, f"rate budget {self.key}: waiting {wait:.2f} s before the next call")

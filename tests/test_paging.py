"""Paging helpers: every item once, in order, and no loop runs forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.paging import (
    AHEAD,
    Page,
    PagingError,
    cursor_pages,
    fetch_each,
    gather_pages,
    offset_pages,
    page_numbers,
)

items_lists = st.lists(st.integers(), max_size=60)
page_sizes = st.integers(1, 12)


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@given(items_lists, page_sizes)
def test_page_numbers_yield_every_item_once_in_order(items: list[int], size: int) -> None:
    pages = chunks(items, size)

    def fetch(n: int) -> Page[int]:
        return Page(pages[n - 1] if n <= len(pages) else [], n + 1 if n < len(pages) else None)

    assert list(page_numbers(fetch)) == items


@given(items_lists, page_sizes)
def test_offsets_yield_every_item_once_in_order(items: list[int], size: int) -> None:
    assert list(offset_pages(lambda offset, limit: items[offset:offset + limit], limit=size)) == items


@given(items_lists, page_sizes)
def test_cursors_yield_every_item_once_in_order(items: list[int], size: int) -> None:
    pages = chunks(items, size) or [[]]

    def fetch(token: Hashable | None) -> Page[int]:
        index = 0 if token is None else int(str(token).removeprefix("c"))
        return Page(pages[index], f"c{index + 1}" if index + 1 < len(pages) else None)

    assert list(cursor_pages(fetch)) == items


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=30), st.integers(1, 50))
def test_the_guard_stops_every_cursor_loop(tokens: list[str], max_pages: int) -> None:
    """Whatever cursor sequence a platform sends, the read ends: at the end, a repeat, or the limit."""
    calls = 0

    def fetch(token: Hashable | None) -> Page[int]:
        nonlocal calls
        calls += 1
        return Page([calls], tokens[(calls - 1) % len(tokens)])  # never says "no more"

    with pytest.raises(PagingError):
        list(cursor_pages(fetch, max_pages=max_pages))
    assert calls <= min(max_pages, 5) + 1


def test_a_page_number_api_that_repeats_a_page_is_stopped() -> None:
    with pytest.raises(PagingError, match="second time"):
        list(page_numbers(lambda n: Page([n], 1)))


def test_the_page_limit_is_enforced() -> None:
    with pytest.raises(PagingError, match="more than 3 pages"):
        list(offset_pages(lambda offset, limit: [offset] * limit, limit=2, max_pages=3))


def test_pages_are_fetched_concurrently_and_come_out_in_order() -> None:
    running = 0
    peak = 0

    async def fetch(n: int) -> list[int]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (10 - n))  # later pages answer first
        running -= 1
        return [n * 10, n * 10 + 1]

    async def read() -> list[int]:
        return [item async for item in gather_pages(fetch, 8, concurrency=3)]

    assert asyncio.run(read()) == [v for n in range(1, 9) for v in (n * 10, n * 10 + 1)]
    assert peak == 3


@given(delays=st.lists(st.integers(0, 5), min_size=0, max_size=12), concurrency=st.integers(1, 4))
def test_fetch_each_overlaps_the_listing_and_keeps_its_order(delays: list[int], concurrency: int) -> None:
    events: list[str] = []
    running = peak = 0

    async def listing() -> AsyncIterator[int]:
        for index in range(len(delays)):
            await asyncio.sleep(0)  # a page arriving
            yield index
        await asyncio.sleep(0)
        events.append("listing ended")

    async def fetch(index: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        events.append(f"fetching {index}")
        await asyncio.sleep(0.0005 * delays[index])  # answers come back out of order
        running -= 1
        return index * 10

    async def read() -> list[int]:
        return [value async for value in fetch_each(listing(), fetch, concurrency=concurrency)]

    assert asyncio.run(read()) == [index * 10 for index in range(len(delays))]
    assert peak <= concurrency
    if delays:  # the first fetch starts before the listing has ended
        assert events.index("fetching 0") < events.index("listing ended")


def test_fetch_each_ends_at_a_failed_fetch() -> None:
    started: list[int] = []

    async def listing() -> AsyncIterator[int]:
        for index in range(6):
            yield index

    async def fetch(index: int) -> int:
        started.append(index)
        if index == 1:
            raise ValueError("gone")
        await asyncio.sleep(0.05)
        return index

    async def read() -> list[int]:
        return [value async for value in fetch_each(listing(), fetch, concurrency=2)]

    with pytest.raises(ValueError):
        asyncio.run(asyncio.wait_for(read(), 5))
    assert started[:2] == [0, 1]


@given(st.lists(st.integers(0, 20), max_size=30))
def test_seen_records_stops_a_read_at_the_first_key_that_comes_again(keys: list[int]) -> None:
    from tramo.paging import SeenRecords
    seen = SeenRecords("order")
    repeated = next((i for i, k in enumerate(keys) if k in keys[:i]), None)
    if repeated is None:
        seen.check(keys)
        assert seen.keys == set(keys)
    else:
        with pytest.raises(PagingError, match=f"order {keys[repeated]!r} came back"):
            seen.check(keys)


# -- bounded reads: a long read holds a few pages, never all of them --------------------------


class PageLedger:
    """Counts the pages a fetch has started and the pages the reader has not yet finished."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.held: set[int] = set()  # started, and not every item of it yielded yet
        self.most_held = 0
        self.cancelled: list[int] = []
        self.finished: list[int] = []

    def start(self, number: int) -> None:
        self.started.append(number)
        self.held.add(number)
        self.most_held = max(self.most_held, len(self.held))

    def read(self, number: int) -> None:
        self.held.discard(number)


def page_items(number: int, size: int) -> list[tuple[int, int]]:
    return [(number, index) for index in range(size)]


@given(pages=st.integers(0, 60), size=st.integers(1, 4), concurrency=st.integers(1, 5),
       delays=st.lists(st.integers(0, 3), min_size=1, max_size=7))
def test_gather_pages_holds_a_bounded_window_and_keeps_the_order(
        pages: int, size: int, concurrency: int, delays: list[int]) -> None:
    ledger = PageLedger()
    running = most_running = 0

    async def fetch(number: int) -> list[tuple[int, int]]:
        nonlocal running, most_running
        ledger.start(number)
        running += 1
        most_running = max(most_running, running)
        for _ in range(delays[number % len(delays)]):  # answers come back out of order
            await asyncio.sleep(0)
        running -= 1
        return page_items(number, size)

    async def read() -> list[tuple[int, int]]:
        seen = []
        async for item in gather_pages(fetch, pages, first=1, concurrency=concurrency):
            seen.append(item)
            if item[1] == size - 1:  # the page's last item: the reader is done with it
                ledger.read(item[0])
            await asyncio.sleep(0)  # a slow reader: the fetches must not run away from it
        return seen

    assert asyncio.run(read()) == [i for n in range(1, pages + 1) for i in page_items(n, size)]
    assert ledger.started == list(range(1, pages + 1))
    assert most_running <= concurrency
    # the window ahead plus the page being read
    assert ledger.most_held <= AHEAD * concurrency + 1


def test_gather_pages_over_many_pages_starts_only_its_window_before_the_reader_moves() -> None:
    ledger = PageLedger()
    gate = asyncio.Event()

    async def fetch(number: int) -> list[int]:
        ledger.start(number)
        if number == 1:
            await gate.wait()
        return [number]

    async def read() -> list[int]:
        reader = gather_pages(fetch, 10_000, concurrency=3)
        first = asyncio.ensure_future(anext(reader))
        for _ in range(50):  # every page that could start has started
            await asyncio.sleep(0)
        started_while_blocked = len(ledger.started)
        gate.set()
        got = [await first]
        await reader.aclose()
        return [started_while_blocked, *got]

    started_while_blocked, first_item = asyncio.run(read())
    assert first_item == 1
    # the window is scheduled (pages after the first finish and free their slots), no more
    assert started_while_blocked == AHEAD * 3


def test_gather_pages_cancels_its_fetches_when_the_reader_stops_early() -> None:
    ledger = PageLedger()

    async def fetch(number: int) -> list[int]:
        ledger.start(number)
        try:
            if number > 1:
                await asyncio.sleep(30)
        except asyncio.CancelledError:
            ledger.cancelled.append(number)
            raise
        ledger.finished.append(number)
        return [number]

    async def read() -> list[int]:
        reader = gather_pages(fetch, 500, concurrency=4)
        got = [await anext(reader)]
        await reader.aclose()
        assert sorted(ledger.cancelled) == sorted(set(ledger.started) - {1})  # by aclose's end
        return got

    assert asyncio.run(asyncio.wait_for(read(), 10)) == [1]
    assert ledger.finished == [1]
    assert ledger.cancelled and sorted(ledger.cancelled) == sorted(set(ledger.started) - {1})
    assert len(ledger.started) <= AHEAD * 4


@given(pages=st.integers(1, 30), concurrency=st.integers(1, 5), data=st.data())
def test_an_error_in_page_k_comes_after_every_earlier_page(pages: int, concurrency: int,
                                                           data: st.DataObject) -> None:
    broken = data.draw(st.integers(1, pages), label="broken page")

    async def fetch(number: int) -> list[int]:
        await asyncio.sleep(0)
        if number == broken:
            raise ValueError(f"page {number}")
        for _ in range(3 if number < broken else 0):  # the broken page fails first
            await asyncio.sleep(0)
        return [number]

    async def read(seen: list[int]) -> None:
        async for item in gather_pages(fetch, pages, concurrency=concurrency):
            seen.append(item)

    seen: list[int] = []
    with pytest.raises(ValueError, match=f"page {broken}$"):
        asyncio.run(read(seen))
    assert seen == list(range(1, broken))


@given(count=st.integers(0, 80), concurrency=st.integers(1, 4),
       delays=st.lists(st.integers(0, 3), min_size=1, max_size=5))
def test_fetch_each_keeps_a_bounded_number_of_fetches_pending(count: int, concurrency: int,
                                                              delays: list[int]) -> None:
    listed = 0
    pending: set[int] = set()  # listed, and its result not yet read
    most_pending = 0

    async def listing() -> AsyncIterator[int]:
        nonlocal listed, most_pending
        for index in range(count):
            listed += 1
            pending.add(index)
            most_pending = max(most_pending, len(pending))
            yield index

    async def fetch(index: int) -> int:
        for _ in range(delays[index % len(delays)]):
            await asyncio.sleep(0)
        return index

    async def read() -> list[int]:
        got = []
        async for value in fetch_each(listing(), fetch, concurrency=concurrency):
            got.append(value)
            pending.discard(value)
            await asyncio.sleep(0)  # a slow reader
        return got

    assert asyncio.run(read()) == list(range(count))
    assert listed == count
    assert most_pending <= AHEAD * concurrency + 1


def test_fetch_each_cancels_its_fetches_and_closes_the_listing_when_the_reader_stops() -> None:
    cancelled: list[int] = []
    listed = 0
    listing_closed = False

    async def listing() -> AsyncIterator[int]:
        nonlocal listing_closed, listed
        try:
            for index in range(1_000):
                listed += 1
                yield index
        finally:
            listing_closed = True

    async def fetch(index: int) -> int:
        try:
            if index > 0:
                await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(index)
            raise
        return index

    async def read() -> tuple[int, bool, int]:
        reader = fetch_each(listing(), fetch, concurrency=3)
        got = await anext(reader)
        await reader.aclose()
        return got, listing_closed, len(cancelled)  # as it stands once aclose returns

    got, closed_at_once, cancelled_at_once = asyncio.run(asyncio.wait_for(read(), 10))
    assert got == 0
    assert listed <= AHEAD * 3 + 1  # the listing was stopped, not read to its end
    assert closed_at_once
    assert 0 < cancelled_at_once <= AHEAD * 3

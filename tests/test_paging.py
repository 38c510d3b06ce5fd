"""Paging helpers: every item once, in order, and no loop runs forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.paging import (
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

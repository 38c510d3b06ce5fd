"""Paging helpers: page numbers, offsets and cursors, each with a loop guard.

A platform that repeats a cursor or a page forever must not hang a sync, so
every helper remembers every token it has used (not only the previous one)
and stops at ``max_pages``; either way it raises :class:`PagingError`. Pages
of a page-number API whose total is known can be fetched concurrently, and
the details of each listed record while the listing goes on.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Iterator,
    Sequence,
)
from typing import Generic, TypeVar

import attrs

from tramo.errors import TransientError

__all__ = ["Page", "PagingError", "SeenRecords", "cursor_pages", "fetch_each", "gather_pages",
           "offset_pages", "page_numbers"]

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_MAX_PAGES = 10_000
#: pages (or fetches) scheduled ahead of the reader, in multiples of the concurrency
AHEAD = 2


class PagingError(TransientError):
    """The platform's paging looped or went on past the page limit."""


@attrs.frozen
class Page(Generic[T]):
    """One page: its items and the token of the next page (None at the end)."""

    items: Sequence[T]
    next: Hashable | None = None


class _Guard:
    def __init__(self, max_pages: int, what: str) -> None:
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        self.max_pages = max_pages
        self.what = what
        self.seen: set[Hashable] = set()

    def visit(self, token: Hashable) -> None:
        if token in self.seen:
            raise PagingError(f"{self.what} {token!r} came back a second time; the platform's "
                              f"paging loops, so the read stops here")
        if len(self.seen) >= self.max_pages:
            raise PagingError(f"more than {self.max_pages} pages; raise max_pages if that is real")
        self.seen.add(token)


class SeenRecords:
    """The record keys one read has yielded; a key that comes again stops the read.

    The token guard catches a platform that repeats a cursor or a page number;
    this catches one that answers a new offset with a page it served before,
    which would otherwise repeat some records and skip others.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.keys: set[Hashable] = set()

    def check(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            if key in self.keys:
                raise PagingError(f"{self.what} {key!r} came back on a second page: the platform's "
                                  f"paging repeated itself, so the read stops here")
            self.keys.add(key)


def cursor_pages(fetch: Callable[[Hashable | None], Page[T]], *,
                 max_pages: int = DEFAULT_MAX_PAGES) -> Iterator[T]:
    """Items of a cursor API: ``fetch(None)`` first, then ``fetch(page.next)`` until None."""
    guard = _Guard(max_pages, "cursor")
    token: Hashable | None = None
    guard.visit(("first page",))
    while True:
        page = fetch(token)
        yield from page.items
        if page.next is None:
            return
        guard.visit(page.next)
        token = page.next


def page_numbers(fetch: Callable[[int], Page[T]], *, first: int = 1,
                 max_pages: int = DEFAULT_MAX_PAGES) -> Iterator[T]:
    """Items of a page-number API. ``fetch(n)`` returns a page whose ``next`` is n+1 or None.

    An empty page also ends the read.
    """
    guard = _Guard(max_pages, "page")
    number: Hashable | None = first
    while number is not None:
        guard.visit(number)
        page = fetch(int(number))  # type: ignore[call-overload]
        if not page.items:
            return
        yield from page.items
        number = page.next


def offset_pages(fetch: Callable[[int, int], Sequence[T]], *, limit: int,
                 max_pages: int = DEFAULT_MAX_PAGES) -> Iterator[T]:
    """Items of an offset/limit API; a page shorter than ``limit`` is the last."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    guard = _Guard(max_pages, "offset")
    offset = 0
    while True:
        guard.visit(offset)
        items = fetch(offset, limit)
        yield from items
        if len(items) < limit:
            return
        offset += limit


async def gather_pages(fetch: Callable[[int], Awaitable[Sequence[T]]], pages: int, *,
                       first: int = 1, concurrency: int = 4) -> AsyncIterator[T]:
    """Items of pages ``first .. first+pages-1`` fetched at most ``concurrency`` at a time.

    For page-number APIs that say how many pages there are: after the first
    page, the rest need not wait for each other. Items come out in page order.
    Only a window of ``AHEAD * concurrency`` pages is scheduled ahead of the
    one being read, and a page is let go once yielded, so a read of any length
    holds a bounded number of pages (a slow page still lets the next ones run).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    limit = asyncio.Semaphore(concurrency)
    numbers = iter(range(first, first + pages))
    window: deque[asyncio.Future[Sequence[T]]] = deque()

    async def one(number: int) -> Sequence[T]:
        async with limit:
            return await fetch(number)

    def top_up() -> None:
        for number in itertools.islice(numbers, AHEAD * concurrency - len(window)):
            window.append(asyncio.ensure_future(one(number)))

    try:
        top_up()
        while window:
            items = await window[0]
            window.popleft()
            top_up()
            for item in items:
                yield item
            del items  # not held while the next page is awaited
    finally:
        await _cancel(window)


async def fetch_each(items: AsyncIterable[T], fetch: Callable[[T], Awaitable[R]], *,
                     concurrency: int = 4) -> AsyncIterator[R]:
    """``fetch(item)`` for each listed item, at most ``concurrency`` at once, results in list order.

    For list-then-detail APIs (a page of order ids, then one call per order):
    the fetches start while the listing is still paging, so the two overlap
    instead of queueing behind each other. At most ``AHEAD * concurrency``
    fetches are pending (running, queued or answered but not yet yielded): past
    that the listing waits for the oldest, so a long listing never piles up
    answers. A fetch's error ends the read; the fetches still running are
    cancelled, and so is the listing.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    limit = asyncio.Semaphore(concurrency)

    async def one(item: T) -> R:
        async with limit:
            return await fetch(item)

    listing = aiter(items)
    pending: deque[asyncio.Future[R]] = deque()
    try:
        async for item in listing:
            pending.append(asyncio.ensure_future(one(item)))
            while pending and pending[0].done():
                yield pending.popleft().result()
            while len(pending) >= AHEAD * concurrency:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        await _cancel(pending)
        close = getattr(listing, "aclose", None)
        if close is not None:
            await close()


async def _cancel(tasks: Iterable[asyncio.Future[object]]) -> None:
    """Cancel ``tasks`` and wait until they have stopped (their errors are not raised again)."""
    waiting = list(tasks)
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)

"""Run sync and async hooks from sync and async hosts alike.

A hook may be a plain function or a coroutine function, and a read hook may
return an iterable or an async iterable. Sync hosts get coroutines run on one
private event loop thread (the *portal*), so an async plugin keeps one loop
for its whole life (an ``httpx.AsyncClient`` stays on the loop that made it).
Async hosts get sync hooks run in a worker thread, so the host's loop never
blocks on a slow platform.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

__all__ = ["aiterate", "call_async", "call_sync", "iterate", "portal"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def portal() -> asyncio.AbstractEventLoop:
    """The private event loop that runs coroutines for sync callers; started on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="tramo-portal", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def _in_portal() -> bool:
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False


def _wait(awaitable: Awaitable[T]) -> T:
    if _in_portal():
        raise RuntimeError("a sync tramo call was made from inside an async hook; use 'acall'")
    async def run() -> T:
        return await awaitable
    return asyncio.run_coroutine_threadsafe(run(), portal()).result()


def call_sync(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call ``function`` and, when it returns an awaitable, wait for it on the portal."""
    result = function(**kwargs)
    if result.__class__ is list or not inspect.isawaitable(result):  # lists: most writes, no probing
        return result
    return _wait(result)


async def call_async(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call ``function`` from async code; a sync function runs in a worker thread."""
    if inspect.iscoroutinefunction(function):
        return await function(**kwargs)
    result = await asyncio.to_thread(function, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


def iterate(result: Any) -> Iterator[Any]:
    """Sync iteration over an iterable or an async iterable (driven on the portal)."""
    if hasattr(result, "__aiter__"):
        iterator = result.__aiter__()
        while True:
            try:
                yield _wait(iterator.__anext__())
            except StopAsyncIteration:
                return
    else:
        yield from result


_DONE = object()


async def aiterate(result: Any) -> AsyncIterator[Any]:
    """Async iteration over an async iterable or a (possibly blocking) sync iterable."""
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
        return
    if isinstance(result, (list, tuple)):
        for item in result:
            yield item
        return
    iterator = iter(result)
    while True:
        item = await asyncio.to_thread(next, iterator, _DONE)
        if item is _DONE:
            return
        yield item

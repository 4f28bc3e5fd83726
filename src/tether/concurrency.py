"""Run blocking code without blocking the event loop.

Plain asyncio (no AnyIO): :func:`run_in_threadpool` is :func:`asyncio.to_thread`, which copies
the caller's ``contextvars`` into the worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

__all__ = ["is_async_callable", "iterate_in_threadpool", "run_in_threadpool"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


async def run_in_threadpool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call ``func(*args, **kwargs)`` in the default thread pool and await its result.

    Raises:
        Exception: whatever ``func`` raises.
    """
    return await asyncio.to_thread(func, *args, **kwargs)


class _Exhausted(Exception):
    """Raised in the worker thread instead of StopIteration, which cannot cross a Future."""


def _next(iterator: Iterator[_T]) -> _T:
    try:
        return next(iterator)
    except StopIteration:
        raise _Exhausted from None


async def iterate_in_threadpool(iterable: Iterable[_T]) -> AsyncIterator[_T]:
    """Iterate a blocking iterable, each ``next()`` in the thread pool."""
    iterator = iter(iterable)
    step = functools.partial(_next, iterator)
    while True:
        try:
            yield await asyncio.to_thread(step)
        except _Exhausted:
            return


def is_async_callable(obj: Any) -> bool:
    """Whether calling ``obj`` returns a coroutine (functions, partials, async ``__call__``).

    Decided once at registration by its callers, never per call.
    """
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (
        callable(obj) and inspect.iscoroutinefunction(type(obj).__call__)
    )

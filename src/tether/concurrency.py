"""Run blocking code without blocking the event loop.

:func:`run_in_threadpool` runs sync code (dependencies, endpoints, exception handlers,
background tasks, file reads) in an AnyIO worker thread, as Starlette does, so
``anyio.from_thread.run(...)`` works inside it. AnyIO's default thread limiter bounds how many
run at once (40 tokens, per event loop; change ``total_tokens`` of
``anyio.to_thread.current_default_thread_limiter()`` at startup). The caller's ``contextvars``
are copied into the thread. AnyIO is imported on the first call, so the hot paths (frames,
fan-out, async dependencies) never touch it; without AnyIO installed, the standard library's
``asyncio.to_thread`` (bounded by the default executor) takes its place.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

__all__ = ["is_async_callable", "iterate_in_threadpool", "run_in_threadpool"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


_Runner = Callable[..., Awaitable[Any]]
_runner: _Runner | None = None


def _thread_runner() -> _Runner:
    """``anyio.to_thread.run_sync``, or ``asyncio.to_thread`` when AnyIO is not installed."""
    global _runner
    if _runner is None:
        try:
            import anyio.to_thread
        except ImportError:  # pragma: no cover - AnyIO comes with the test client's httpx
            _runner = asyncio.to_thread
        else:
            _runner = anyio.to_thread.run_sync
    return _runner


async def run_in_threadpool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call ``func(*args, **kwargs)`` in a worker thread and await its result.

    Raises:
        Exception: whatever ``func`` raises.
    """
    runner = _runner if _runner is not None else _thread_runner()
    if kwargs:
        result: _T = await runner(functools.partial(func, *args, **kwargs))
    else:
        result = await runner(func, *args)
    return result


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
            yield await run_in_threadpool(step)
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

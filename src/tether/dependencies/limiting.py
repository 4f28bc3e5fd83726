"""``Depends(dependency, max_concurrency=N)``: at most N runs of a dependency at a time.

Callers beyond N wait for a free slot (in arrival order) instead of failing. The slot is held
while the dependency computes its value; for a ``yield`` dependency, from its start until its
cleanup has run, so a pool of N resources is never exceeded. One limit is shared by every use
of the same dependency with the same N (across routes, HTTP and WebSocket), per event loop.

The wrapper is built once at registration and keeps the dependency's signature, so its own
parameters are still injected; dependencies without the option are not touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

from tether.concurrency import is_async_callable, run_in_threadpool
from tether.exceptions import ConfigurationError

__all__ = ["limited"]

_WRAPPERS: dict[tuple[Any, int], Callable[..., Any]] = {}


class _Slots:
    """One ``asyncio.Semaphore`` of ``size`` per event loop (a semaphore binds to one loop)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._by_loop: weakref.WeakKeyDictionary[Any, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.size)
        return semaphore


def limited(dependency: Callable[..., Any], size: int, inline: bool) -> Callable[..., Any]:
    """``dependency`` wrapped so that at most ``size`` runs are in progress at once.

    Raises:
        ConfigurationError: ``size`` is not a positive integer.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigurationError(f"max_concurrency must be a positive integer, not {size!r}")
    key = (dependency, size)
    try:
        return _WRAPPERS[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable callable: wrapped for this use only
        return _wrap(dependency, _Slots(size), inline)
    wrapper = _WRAPPERS[key] = _wrap(dependency, _Slots(size), inline)
    return wrapper


def _wrap(dependency: Any, slots: _Slots, inline: bool) -> Callable[..., Any]:
    target = dependency if inspect.isroutine(dependency) else type(dependency).__call__
    if inspect.isclass(dependency):
        target = dependency
    if inspect.isasyncgenfunction(target):
        return _wrap_async_generator(dependency, slots)
    if inspect.isgeneratorfunction(target):
        return _wrap_generator(dependency, slots)
    if is_async_callable(dependency):

        @functools.wraps(dependency)
        async def limited_async(*args: Any, **kwargs: Any) -> Any:
            async with slots():
                return await dependency(*args, **kwargs)

        return limited_async

    @functools.wraps(dependency)
    async def limited_sync(*args: Any, **kwargs: Any) -> Any:
        async with slots():
            if inline:
                return dependency(*args, **kwargs)
            return await run_in_threadpool(dependency, *args, **kwargs)

    return limited_sync


def _wrap_async_generator(dependency: Any, slots: _Slots) -> Callable[..., Any]:
    manager = contextlib.asynccontextmanager(dependency)

    @functools.wraps(dependency)
    async def limited_async_gen(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with slots(), manager(*args, **kwargs) as value:
            yield value

    return limited_async_gen


def _wrap_generator(dependency: Any, slots: _Slots) -> Callable[..., Any]:
    manager = contextlib.contextmanager(dependency)

    @functools.wraps(dependency)
    async def limited_gen(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with slots():
            context = manager(*args, **kwargs)
            value = await run_in_threadpool(context.__enter__)
            try:
                yield value
            except BaseException as exc:
                if not await run_in_threadpool(context.__exit__, type(exc), exc, exc.__traceback__):
                    raise
            else:
                await run_in_threadpool(context.__exit__, None, None, None)

    return limited_gen

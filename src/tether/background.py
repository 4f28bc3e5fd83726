"""Work to run after a response has been sent (also after a WebSocket denial response)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tether.concurrency import is_async_callable, run_in_threadpool

__all__ = ["BackgroundTask", "BackgroundTasks"]


class BackgroundTask:
    """``func(*args, **kwargs)``, awaited if async, else run in the thread pool.

    Whether ``func`` is async is decided once, here, not on every call.
    """

    __slots__ = ("func", "args", "kwargs", "is_async")

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async_callable(func)

    async def __call__(self) -> None:
        """Run the task; its exceptions propagate."""
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            await run_in_threadpool(self.func, *self.args, **self.kwargs)


class BackgroundTasks(BackgroundTask):
    """Several background tasks, run one after another in the order they were added."""

    __slots__ = ("tasks",)

    def __init__(self, tasks: Sequence[BackgroundTask] | None = None) -> None:
        self.tasks = list(tasks) if tasks else []

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Queue ``func(*args, **kwargs)``."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        """Run every task in order; the first exception stops the rest and propagates."""
        for task in self.tasks:
            await task()

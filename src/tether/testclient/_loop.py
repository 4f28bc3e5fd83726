"""Waiting on an app task without ever hanging, and the loop thread of the sync client."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from tether.testclient._errors import AppTimeoutError
from tether.types import Message

__all__ = ["LoopThread", "next_message"]

T = TypeVar("T")


async def next_message(
    queue: asyncio.Queue[Message], task: asyncio.Task[None], timeout: float | None, what: str
) -> Message | None:
    """Return the next message the app sent, or ``None`` once the app finished and is drained.

    Messages the app sent before it finished are returned first. Raises
    :class:`AppTimeoutError` naming ``what`` when nothing comes within ``timeout`` seconds.
    """
    if not queue.empty():
        return queue.get_nowait()
    if task.done():
        return None
    getter = asyncio.ensure_future(queue.get())
    try:
        done, _ = await asyncio.wait((getter, task), timeout=timeout, return_when="FIRST_COMPLETED")
    finally:
        # A cancelled getter leaves its item in the queue, so nothing is lost here.
        getter.cancel()
    if getter in done:
        return getter.result()
    if task in done:
        return queue.get_nowait() if not queue.empty() else None
    raise AppTimeoutError(f"waited {timeout} s for {what}, and nothing came")


async def stop_task(task: asyncio.Task[None], grace: float, timeout: float | None) -> None:
    """Let ``task`` finish on its own for ``grace`` seconds, then cancel it and wait for it.

    Raises :class:`AppTimeoutError` if the task ignores the cancellation for ``timeout`` s.
    """
    if not task.done():
        await asyncio.wait((task,), timeout=grace)
    if task.done():
        return
    task.cancel()
    await asyncio.wait((task,), timeout=timeout)
    if not task.done():
        raise AppTimeoutError(f"the app ignored its cancellation for {timeout} s and still runs")


def task_error(task: asyncio.Task[None]) -> BaseException | None:
    """The exception a finished ``task`` raised; ``None`` if it returned or was cancelled."""
    if not task.done() or task.cancelled():
        return None
    return task.exception()


class LoopThread:
    """An asyncio event loop in one daemon thread: where the sync client runs the app.

    Started on first use and stopped by :meth:`stop`; every call from the test thread is
    handed over with :func:`asyncio.run_coroutine_threadsafe`.
    """

    __slots__ = ("_loop", "_thread")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> asyncio.AbstractEventLoop:
        """Start the loop thread unless it runs already; return its loop."""
        if self._loop is not None:
            return self._loop
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(
            target=_run_loop, args=(loop, ready), name="tether-testclient-loop", daemon=True
        )
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread
        return loop

    def call(self, coro: Coroutine[Any, Any, T], guard: float | None) -> T:
        """Run ``coro`` on the loop thread and return its result (or raise its exception).

        ``guard`` bounds the wait in case the app blocks the loop itself (``time.sleep``,
        blocking I/O), where no asyncio timeout can fire; then :class:`AppTimeoutError`.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "the synchronous TestClient was called from inside the app's own event loop; "
                "use AsyncTestClient in async code"
            )
        future = asyncio.run_coroutine_threadsafe(coro, self.start())
        try:
            return future.result(guard)
        except TimeoutError:
            if future.done():
                raise
            future.cancel()
            raise AppTimeoutError(
                f"the app's event loop did not answer within {guard} s; "
                "is the app blocking it (time.sleep, blocking I/O)?"
            ) from None

    def stop(self) -> None:
        """Cancel what still runs on the loop, stop it and join its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is not thread:
            thread.join(10)


def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.wait(tasks, timeout=5))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()

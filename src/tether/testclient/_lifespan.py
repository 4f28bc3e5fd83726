"""The ASGI lifespan protocol, driven the way a server drives it (ASGI lifespan spec 2.0)."""

from __future__ import annotations

import asyncio
from typing import Any

from tether.testclient._loop import next_message, stop_task, task_error
from tether.types import Message

__all__ = ["LifespanRunner"]


class LifespanRunner:
    """Run the app's lifespan: ``startup()`` before the first connection, ``shutdown()`` after.

    ``state`` is the dict handed to the app as ``scope["state"]``; the client copies it into
    every connection scope. An app that returns or raises before answering the startup event
    is an app without lifespan support only if it returned; a raised exception propagates.
    """

    __slots__ = ("_app", "_from_app", "_task", "_timeout", "_to_app", "state")

    def __init__(self, app: Any, state: dict[str, Any], timeout: float | None) -> None:
        self._app = app
        self._timeout = timeout
        self.state = state
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the answer.

        Raises the app's own exception if it failed, ``RuntimeError`` for
        ``lifespan.startup.failed`` without one, :class:`AppTimeoutError` if it never answers.
        """
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        self._task = asyncio.create_task(self._app(scope, self._to_app.get, self._send))
        self._to_app.put_nowait({"type": "lifespan.startup"})
        await self._expect("lifespan.startup")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown``, wait for the answer and for the app to return.

        Raises like :meth:`startup`.
        """
        task = self._task
        if task is None:
            return
        if not task.done():
            self._to_app.put_nowait({"type": "lifespan.shutdown"})
            await self._expect("lifespan.shutdown")
        await stop_task(task, grace=self._timeout or 5.0, timeout=self._timeout)
        self._raise_app_error()

    async def _send(self, message: Message) -> None:
        self._from_app.put_nowait(message)

    async def _expect(self, event: str) -> None:
        assert self._task is not None
        what = f"the app to answer {event}"
        message = await next_message(self._from_app, self._task, self._timeout, what)
        if message is None:
            self._raise_app_error()  # a plain return means: no lifespan support
            return
        kind = message.get("type")
        if kind == f"{event}.failed":
            await stop_task(self._task, grace=self._timeout or 5.0, timeout=self._timeout)
            self._raise_app_error()
            raise RuntimeError(f"the app reported {kind}: {message.get('message', '')}")
        if kind != f"{event}.complete":
            raise RuntimeError(f"expected {event}.complete or .failed from the app, got {kind!r}")

    def _raise_app_error(self) -> None:
        error = None if self._task is None else task_error(self._task)
        if error is not None:
            raise error

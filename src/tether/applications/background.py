"""What a route does with the per-request objects of :mod:`tether.dependencies.injected`.

HTTP: the background tasks become the response's ``background`` (unless a returned Response has
its own), so they run after the response is sent; the sub-response's status code and headers are
copied onto a response built from the return value (not onto a returned Response), as in
FastAPI. WebSocket: the tasks run once the endpoint has returned or the client has left.
Under telemetry, each HTTP background task runs in a ``fastapi.background_task`` span.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tether.background import BackgroundTasks
from tether.dependencies.injected import BACKGROUND_KEY, SUB_RESPONSE_KEY
from tether.dependencies.solver import observed_operation
from tether.responses import Response
from tether.types import Scope
from tether.websockets import WebSocketDisconnect

__all__ = ["observe_background", "then_background", "with_injected"]


def with_injected(respond: Callable[[Any, Scope], Response]) -> Callable[[Any, Scope], Response]:
    """``respond`` plus FastAPI's handling of the run's background tasks and sub-response."""

    def finish(result: Any, scope: Scope) -> Response:
        response = respond(result, scope)
        tasks = scope.pop(BACKGROUND_KEY, None)
        if tasks is not None and response.background is None:
            response.background = tasks
        sub = scope.pop(SUB_RESPONSE_KEY, None)
        if sub is not None and not isinstance(result, Response):
            if sub.status_code is not None:
                response.status_code = sub.status_code
            response.raw_headers.extend(sub.raw_headers)
        return response

    return finish


def observe_background(response: Response, observer: Any) -> None:
    """Run ``response``'s background work in ``fastapi.background_task`` spans (telemetry).

    Each task of a :class:`BackgroundTasks` gets its own span (a single task, one); an
    exception marks its span, even an ``HTTPException`` (once the response is sent, nothing
    can handle it: the error it becomes is logged). The caller's objects are not changed.
    """
    background = response.background
    if background is None or observer.operations is None:
        return
    tasks = background.tasks if type(background) is BackgroundTasks else [background]
    response.background = _Observed(tasks, observer)


class _Observed(BackgroundTasks):
    __slots__ = ("observer",)

    def __init__(self, tasks: list[Any], observer: Any) -> None:
        super().__init__(tasks)
        self.observer = observer

    async def __call__(self) -> None:
        for task in self.tasks:
            function = getattr(task, "func", task)
            with observed_operation(self.observer, "background_task", function):
                await task()


def then_background(call: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
    """``call(websocket)``, then the background tasks it queued (also after a disconnect).

    A failing task is logged once on ``tether.error``; the connection is already over, so
    nothing is raised. An endpoint that fails runs none, as an HTTP endpoint that fails does.
    """

    async def run(websocket: Any) -> Any:
        try:
            result = await call(websocket)
        except WebSocketDisconnect:
            await _run_tasks(websocket.scope.pop(BACKGROUND_KEY, None))
            raise
        await _run_tasks(websocket.scope.pop(BACKGROUND_KEY, None))
        return result

    return run


async def _run_tasks(tasks: Any) -> None:
    if tasks is None:
        return
    try:
        await tasks()
    except Exception:
        logging.getLogger("tether.error").exception("Background task failed after a WebSocket")

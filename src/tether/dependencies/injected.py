"""Per-request objects a parameter can ask for by type: ``BackgroundTasks`` and ``Response``.

As in FastAPI, ``tasks: BackgroundTasks`` gets one collection per request (or WebSocket
connection) shared by the endpoint and all its dependencies, run after the response is sent (or
after the WebSocket endpoint returns); ``response: Response`` gets a *sub-response* whose
headers, cookies and status code are copied onto the response built from the endpoint's return
value. Both live in the connection's scope under the keys below, created on first use, so a
route that does not declare them pays nothing; the route reads them back after the run.
"""

from __future__ import annotations

from typing import Any, Final

from tether.background import BackgroundTasks
from tether.dependencies.context import Context
from tether.exceptions import ConfigurationError
from tether.responses import Response

__all__ = ["BACKGROUND_KEY", "SUB_RESPONSE_KEY", "injected_extractor"]

BACKGROUND_KEY: Final = "tether.background_tasks"
SUB_RESPONSE_KEY: Final = "tether.sub_response"


def get_background_tasks(ctx: Context) -> BackgroundTasks:
    """The run's shared :class:`BackgroundTasks` (created on first use)."""
    scope = ctx.scope
    tasks: BackgroundTasks | None = scope.get(BACKGROUND_KEY)
    if tasks is None:
        tasks = scope[BACKGROUND_KEY] = BackgroundTasks()
    return tasks


def get_sub_response(ctx: Context) -> Response:
    """The run's shared sub-response: no status, no headers until the endpoint sets them."""
    scope = ctx.scope
    response: Response | None = scope.get(SUB_RESPONSE_KEY)
    if response is None:
        response = Response()
        response.status_code = None  # type: ignore[assignment]  # "not set", as in FastAPI
        response.raw_headers = []
        scope[SUB_RESPONSE_KEY] = response
    return response


def injected_extractor(annotation: Any, websocket: bool, name: str, call: Any) -> Any:
    """``(extractor, key)`` for a BackgroundTasks/Response annotation, else None.

    Raises :class:`ConfigurationError` for a ``Response`` parameter on a WebSocket route.
    """
    if not isinstance(annotation, type):
        return None
    if issubclass(annotation, BackgroundTasks):
        return get_background_tasks, BACKGROUND_KEY
    if issubclass(annotation, Response):
        if websocket:
            raise ConfigurationError(
                f"parameter {name!r} of {call!r} asks for a Response on a WebSocket route, "
                "which sends none; use websocket.send_denial_response() to refuse a handshake"
            )
        return get_sub_response, SUB_RESPONSE_KEY
    return None

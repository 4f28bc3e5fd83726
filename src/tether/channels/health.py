"""The health-check ASGI app of a hub: 200 or 503 with the broker and hub state as JSON."""

from __future__ import annotations

from typing import Any

from tether._json import dumps
from tether.channels.hub import Hub

__all__ = ["HealthApp"]


class HealthApp:
    """An ASGI app instance (not a function), so routers mount it as an app.

    Answers 200 when the broker is connected and the hub runs, else 503; the body is
    :meth:`Hub.health` as JSON.
    """

    __slots__ = ("hub",)

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        report = self.hub.health()
        body = dumps(report).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        status = 200 if report["ok"] else 503
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

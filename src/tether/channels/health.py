"""HTTP faces of the broker state: the health-check app, and 503 for a broker that is down."""

from __future__ import annotations

from typing import Any

from tether._json import dumps
from tether.channels.hub import Hub

__all__ = ["BROKER_UNAVAILABLE_DETAIL", "HealthApp", "broker_unavailable_handler"]

BROKER_UNAVAILABLE_DETAIL = "the server cannot reach its message broker; try again shortly"


async def broker_unavailable_handler(request: Any, exc: Exception) -> Any:
    """Exception handler answering ``BrokerUnavailable`` with 503 and a JSON body.

    Register it with ``app.add_exception_handler(BrokerUnavailable, broker_unavailable_handler)``
    so a route that publishes while the broker is down says so (``{"detail": ...,
    "code": "unavailable"}``, ``Retry-After: 2``) instead of a plain-text 500.
    """
    from tether.responses import JSONResponse

    return JSONResponse(
        {"detail": BROKER_UNAVAILABLE_DETAIL, "code": "unavailable"},
        status_code=503,
        headers={"retry-after": "2"},
    )


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

"""Per-route limits: a chat endpoint with the app's limits and an upload endpoint that may
receive bigger messages. Written as raw ASGI so it runs before any router exists; with a tether
app, decorate the endpoint with ``@limits(...)`` and the router applies it.
"""

from __future__ import annotations

from tether.limits import LimitsMiddleware, WebSocketLimits, apply_route_limits, limits
from tether.types import Receive, Scope, Send


async def chat(scope: Scope, receive: Receive, send: Send) -> None:
    """Echo chat messages."""
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send(
            {"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")}
        )


@limits(max_message_size=4 * 1024 * 1024, messages_per_second=2, burst=4)
async def upload(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept big binary chunks, slowly; answer with their size."""
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": str(len(message.get("bytes") or b""))})


ROUTES = {"/chat": chat, "/upload": apply_route_limits(upload, upload)}


async def router(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch WebSockets by path; anything else is refused."""
    endpoint = ROUTES.get(scope.get("path", ""))
    if scope["type"] == "websocket" and endpoint is not None:
        await endpoint(scope, receive, send)
    elif scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})


app = LimitsMiddleware(
    router,
    WebSocketLimits(
        max_message_size=16 * 1024, messages_per_second=20, max_connections_per_client=10
    ),
)

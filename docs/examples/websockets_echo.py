"""A bare ASGI WebSocket app built on tether.websockets (no router needed).

Run it with ``uvicorn docs.examples.websockets_echo:app``. Tests import and drive it.
"""

from __future__ import annotations

from tether import status
from tether.responses import PlainTextResponse
from tether.types import Receive, Scope, Send
from tether.websockets import WebSocket, WebSocketDisconnect


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    websocket = WebSocket(scope, receive, send)
    if websocket.query_params.get("token") != "secret":
        # Before accept: refuse with a real HTTP status when the server can, else close.
        if "websocket.http.response" in (scope.get("extensions") or {}):
            await websocket.send_denial_response(PlainTextResponse("bad token", status_code=403))
        else:
            await websocket.close(status.WS_1008_POLICY_VIOLATION, "bad token")
        return
    await websocket.accept(subprotocol=None)
    try:
        async for message in websocket.iter_json():
            await websocket.send_json({"echo": message})
    except ValueError:  # not JSON: tell the client why we hang up
        await websocket.close(status.WS_1003_UNSUPPORTED_DATA, "JSON only")
    # iter_json() ends quietly when the client disconnects: a normal end.


__all__ = ["WebSocketDisconnect", "app"]

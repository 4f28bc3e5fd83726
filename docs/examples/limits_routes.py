"""Per-route limits on a Tether app.

The app-level limits apply to every WebSocket; a route may replace single fields of them:

* ``/chat`` keeps the app's limits (16 KiB messages, 20 messages per second);
* ``/upload`` takes big binary chunks, slowly (``@limits`` on the endpoint; put it *below*
  ``@app.websocket`` so the route sees it when it is registered);
* ``/avatar`` allows 256 KiB messages (``limits=`` on the route decorator).
"""

from __future__ import annotations

from tether import Tether, WebSocket, WebSocketDisconnect
from tether.limits import WebSocketLimits, limits

app = Tether(
    limits=WebSocketLimits(
        max_message_size=16 * 1024, messages_per_second=20, max_connections_per_client=10
    ),
)


@app.websocket("/chat")
async def chat(websocket: WebSocket) -> None:
    """Echo chat messages."""
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


@app.websocket("/upload")
@limits(max_message_size=4 * 1024 * 1024, messages_per_second=2, burst=4)
async def upload(websocket: WebSocket) -> None:
    """Accept big binary chunks; answer each with its size."""
    await websocket.accept()
    try:
        while True:
            chunk = await websocket.receive_bytes()
            await websocket.send_text(str(len(chunk)))
    except WebSocketDisconnect:
        pass


@app.websocket("/avatar", limits=WebSocketLimits(max_message_size=256 * 1024))
async def avatar(websocket: WebSocket) -> None:
    """Take one image; answer with its size and close."""
    await websocket.accept()
    image = await websocket.receive_bytes()
    await websocket.send_text(str(len(image)))
    await websocket.close()

"""An app with a 1 KiB WebSocket message cap, served by ``tether run`` in test_cli_ws_max_size."""

from __future__ import annotations

from tether import Tether, WebSocket
from tether.limits import WebSocketLimits

app = Tether(limits=WebSocketLimits(max_message_size=1024))


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)

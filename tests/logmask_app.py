"""An app that installs log masking at import, served at --log-level trace by test_log_masking_trace."""

from __future__ import annotations

from tether import Tether, WebSocket
from tether.logsafe import install_log_masking

install_log_masking()
app = Tether()


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="chat")
    await websocket.send_text(await websocket.receive_text())

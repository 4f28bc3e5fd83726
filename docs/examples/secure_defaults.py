"""A public app with tether's secure defaults, and the two changes most apps make.

* The origin check refuses other sites' pages, DNS-rebinding pages included: the app is served
  under ``app.example`` (listed) and ``dash.internal`` (a trusted host), so a page of either may
  open a socket; ``Origin`` equal to ``Host`` on any other name is refused.
* The default limits apply (1 MiB messages, 100 per second, 256 sockets per address, 30 s for
  the first message on routes without handshake authentication); ``/ticker`` only pushes, so it
  lifts the first-message timeout for itself.
"""

from __future__ import annotations

import asyncio

from tether import Tether, WebSocket, WebSocketDisconnect
from tether.limits import limits
from tether.middleware.trustedhost import TrustedHostMiddleware

app = Tether(allowed_origins=["https://app.example"])
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["app.example", "dash.internal"])


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    """Echo text frames (the default limits apply)."""
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


@app.websocket("/ticker")
@limits(first_message_timeout=None)  # a push-only route: its clients never send
async def ticker(websocket: WebSocket) -> None:
    """Send a tick every 10 ms, three times."""
    await websocket.accept()
    for n in range(3):
        await websocket.send_json({"tick": n})
        await asyncio.sleep(0.01)
    await websocket.close()

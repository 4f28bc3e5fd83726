"""A single-page app next to its API and WebSocket: ``app.frontend()`` serves the build.

``frontend_dist/`` stands for what ``npm run build`` leaves in ``dist/``. The API route and the
WebSocket route are matched first; the build's files only when nothing else matched, and a
browser navigating to a client-side route (``/rooms/lobby``) gets ``index.html``, while a
missing script is still a 404. Run it with ``tether run docs.examples.frontend_app:app``.
"""

from __future__ import annotations

from pathlib import Path

from tether import Tether, WebSocket

DIST = Path(__file__).resolve().parent / "frontend_dist"

app = Tether()


@app.get("/api/me")
def read_me() -> dict[str, str]:
    return {"name": "Ada"}


@app.websocket("/ws")
async def greet(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("welcome")
    await websocket.close()


app.frontend("/", directory=DIST, fallback="index.html")

"""The Starlette modules next to a WebSocket app (see docs/starlette-modules.md).

Static files, a template page, authentication that covers the WebSocket handshake, a
BaseHTTPMiddleware and jsonable_encoder. Run by tests/test_starlette_modules_example.py.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import tempfile
from pathlib import Path

from tether.applications import Tether
from tether.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    requires,
)
from tether.encoders import jsonable_encoder
from tether.middleware import Middleware
from tether.middleware.authentication import AuthenticationMiddleware
from tether.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from tether.requests import HTTPConnection, Request
from tether.responses import Response
from tether.staticfiles import StaticFiles
from tether.templating import Jinja2Templates
from tether.websockets import WebSocket

ASSETS = Path(tempfile.mkdtemp(prefix="tether-example-"))
(ASSETS / "static").mkdir()
(ASSETS / "static" / "app.js").write_text("console.log('hi')\n")
(ASSETS / "templates").mkdir()
(ASSETS / "templates" / "room.html").write_text(
    "<h1>{{ room }}</h1><script src=\"{{ url_for('static', path='/app.js') }}\"></script>"
)


class BasicAuthBackend(AuthenticationBackend):
    """``Authorization: Basic`` checked against a tiny in-memory table."""

    users = {"ann": "secret"}

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        try:
            _, encoded = header.split(" ", 1)
            name, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, binascii.Error) as exc:
            raise AuthenticationError("malformed credentials") from exc
        if self.users.get(name) != password:
            raise AuthenticationError("wrong user name or password")
        return AuthCredentials(["chat"]), SimpleUser(name)


async def server_timing(request: Request, call_next: RequestResponseEndpoint) -> Response:
    started = datetime.datetime.now()
    response = await call_next(request)
    elapsed = (datetime.datetime.now() - started).total_seconds() * 1000
    response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
    return response


app = Tether(
    middleware=[
        Middleware(BaseHTTPMiddleware, dispatch=server_timing),
        Middleware(AuthenticationMiddleware, backend=BasicAuthBackend()),
    ]
)
app.mount("/static", StaticFiles(directory=ASSETS / "static"), name="static")
templates = Jinja2Templates(directory=ASSETS / "templates")


@dataclasses.dataclass
class Joined:
    user: str
    at: datetime.datetime


@app.get("/rooms/{room}")
async def room_page(request: Request, room: str) -> Response:
    return templates.TemplateResponse(request, "room.html", {"room": room})


@app.websocket("/rooms/{room}/ws")
@requires("chat")
async def room_socket(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    joined = Joined(websocket.user.display_name, datetime.datetime(2024, 1, 1, 12, 0))
    await websocket.send_json(jsonable_encoder({"room": room, "joined": joined}))
    await websocket.close()

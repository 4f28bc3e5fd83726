"""The chat demo: rooms with history, a presence list, typing indicators and recovery.

Served by ``tether demo`` (or ``uvicorn tether.demo.app:app``). The broker comes from the
``TETHER_BROKER`` environment variable (``memory://`` when unset), so every uvicorn worker
started by ``tether demo --workers N --broker redis://...`` shares one Redis.

What runs where:

* ``GET /`` serves a plain HTML page; ``/static/chat.js`` and ``/static/chat.css`` drive it,
  with no build step and nothing fetched from another site.
* ``GET /_tether/channels.js`` is the channels JavaScript client, which reconnects and
  recovers missed messages by offset.
* ``WS /channels`` is the channels browser protocol. Each room is two channels:
  ``room:<name>`` (history, presence, join/leave events; only the server publishes) and
  ``typing:<name>`` (no history; browsers publish their own typing pings).
* ``POST /api/join`` checks a name and a room before the page connects, so a refusal comes
  back as a sentence rather than as a closed socket.
* ``POST /api/rooms/{room}/messages`` checks a message and publishes it from the HTTP handler:
  the length limits live on the server, and the author cannot be left out.
* ``GET /api/whoami`` names the process that answered (tests use it to tell workers apart).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from tether.applications import Tether
from tether.channels import (
    BrokerUnavailable,
    ChannelOptions,
    Channels,
    Connection,
    ConnectionLimits,
    PublishRejected,
    broker_unavailable_handler,
)
from tether.channels.errors import ChannelForbidden
from tether.demo.icon import favicon
from tether.demo.rules import (
    NAME_MAX,
    ROOM_MAX,
    TEXT_MAX,
    Refused,
    clean_name,
    clean_room,
    clean_text,
)
from tether.requests import Request
from tether.responses import HTMLResponse, JSONResponse, Response
from tether.runtime.limits import WebSocketLimits
from tether.websockets import WebSocket

__all__ = ["BROKER_ENV", "NAMESPACES", "app", "create_app", "room_namespaces"]

BROKER_ENV = "TETHER_BROKER"
HISTORY_SIZE = 200

_STATIC_TYPES = {
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
    "index.html": "text/html; charset=utf-8",
}


class RoomRefused(ChannelForbidden):
    """A channel the demo does not serve, or a client that did not give a usable name."""


def _authorize(connection: Connection, channel: str, action: str) -> bool:
    """Rooms and typing channels only, with a valid room name, for named clients.

    Raises :class:`RoomRefused` with a readable message (the page shows it).
    """
    namespace, _, room = channel.partition(":")
    if namespace not in ("room", "typing"):
        raise RoomRefused(f"the chat demo has no channel {channel!r}")
    try:
        if clean_room(room) != room:
            raise Refused("Room names are lower case.")
    except Refused as exc:
        raise RoomRefused(str(exc)) from None
    if not (connection.info or {}).get("name"):
        raise RoomRefused("join with a name first")
    return action == "subscribe" or namespace == "typing"


def _typing_ping(connection: Connection, channel: str, data: Any) -> dict[str, Any]:
    """Pass on a typing ping as ``{name, client, typing}`` only: other pages render it.

    Raises :class:`~tether.channels.PublishRejected` for anything else.
    """
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise PublishRejected("a typing ping is {name, client, typing}")
    client = data.get("client")
    return {
        "name": data["name"][:NAME_MAX],
        "client": client if isinstance(client, str) else connection.client_id,
        "typing": data.get("typing") is not False,
    }


def room_namespaces() -> dict[str, ChannelOptions]:
    """Channel options of the demo: ``room`` keeps history and presence; ``typing`` keeps nothing.

    Publishers outside the server (an :class:`~tether.channels.Emitter`) pass these too, so
    history sizes agree.
    """
    return {
        "room": ChannelOptions(
            history_size=HISTORY_SIZE,
            history_ttl=3600.0,
            presence=True,
            join_leave=True,
            authorize=_authorize,
        ),
        "typing": ChannelOptions(client_publish=True, authorize=_authorize, validate=_typing_ping),
    }


NAMESPACES: Mapping[str, ChannelOptions] = room_namespaces()


def _authenticate(websocket: WebSocket) -> dict[str, Any]:
    """The name comes from ``?name=``; a missing or unusable one refuses the socket.

    Raises :class:`ChannelForbidden` with the reason, which the page shows (close 1008).
    """
    try:
        name = clean_name(websocket.query_params.get("name"))
    except Refused as exc:
        raise ChannelForbidden(str(exc)) from None
    return {"user": name, "info": {"name": name}}


def _broker_kind(broker: str) -> str:
    # Only the scheme: a Redis URL may carry a password.
    return urlsplit(broker).scheme or "memory"


def _static(name: str) -> bytes:
    return resources.files("tether.demo").joinpath("static", name).read_bytes()


def _refused(exc: Refused) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise Refused("The request body must be JSON.") from None
    if not isinstance(body, dict):
        raise Refused("The request body must be a JSON object.")
    return body


def create_app(broker: str | None = None) -> Tether:
    """Build the chat demo on ``broker`` (default: ``$TETHER_BROKER`` or ``memory://``).

    Raises ``ValueError`` for a broker URL that is neither ``memory://`` nor ``redis://``.
    """
    channels = Channels(
        broker,  # None: TETHER_BROKER (set by `tether demo --broker`), else memory://
        namespaces=room_namespaces(),
        default=ChannelOptions(authorize=_authorize),
        limits=ConnectionLimits(max_message_bytes=512, max_channels=8),
        authenticate=_authenticate,
        node_id=f"{socket.gethostname()}-{os.getpid()}",
    )
    app = Tether(
        lifespan=channels.lifespan,
        title="tether chat demo",
        # Same-origin pages only: another site cannot open a socket with a visitor's browser.
        allowed_origins=[],
        limits=WebSocketLimits.recommended(
            max_message_size=4096,
            messages_per_second=20.0,
            burst=40,
            max_connections_per_client=200,
        ),
    )
    app.state.channels = channels
    # A publish while the broker is down answers 503 with JSON (the page shows it), not 500.
    app.add_exception_handler(BrokerUnavailable, broker_unavailable_handler)
    app.add_websocket_route("/channels", channels.endpoint)
    app.add_route("/_tether/channels.js", channels.client_js, methods=["GET", "HEAD"])
    _add_pages(app)
    _add_api(app, channels, _broker_kind(channels.backend.address))
    return app


def _add_pages(app: Tether) -> None:
    @app.get("/")
    async def index() -> HTMLResponse:
        return HTMLResponse(_static("index.html"), headers={"cache-control": "no-cache"})

    icon = favicon()

    @app.get("/favicon.ico")
    async def favicon_ico() -> Response:
        return Response(icon, media_type="image/x-icon", headers={"cache-control": "max-age=86400"})

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        media_type = _STATIC_TYPES.get(name)
        if media_type is None or name == "index.html":
            return JSONResponse({"detail": "not found"}, status_code=404)
        return Response(_static(name), media_type=media_type, headers={"cache-control": "no-cache"})


def _add_api(app: Tether, channels: Channels, broker_kind: str) -> None:
    @app.post("/api/join")
    async def join(request: Request) -> JSONResponse:
        try:
            body = await _json_object(request)
            name, room = clean_name(body.get("name")), clean_room(body.get("room"))
        except Refused as exc:
            return _refused(exc)
        return JSONResponse({"name": name, "room": room})

    @app.post("/api/rooms/{room}/messages")
    async def say(room: str, request: Request) -> JSONResponse:
        try:
            room = clean_room(room)
            body = await _json_object(request)
            message = {
                "name": clean_name(body.get("name")),
                "text": clean_text(body.get("text")),
                "ts": int(time.time() * 1000),
            }
        except Refused as exc:
            return _refused(exc)
        position = await channels.publish(f"room:{room}", message)
        return JSONResponse({"offset": position.offset, "epoch": position.epoch})

    @app.get("/api/whoami")
    async def whoami() -> JSONResponse:
        return JSONResponse({"pid": os.getpid(), "node": channels.node_id, "broker": broker_kind})

    @app.get("/api/limits")
    async def limits() -> JSONResponse:
        return JSONResponse({"name": NAME_MAX, "room": ROOM_MAX, "text": TEXT_MAX})

    app.add_route("/api/health", channels.health_endpoint, methods=["GET"])


app = create_app()

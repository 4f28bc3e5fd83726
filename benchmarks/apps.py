"""The same echo endpoints written on raw ASGI, Starlette, FastAPI, Litestar and tether.

Every app serves:

- ``/ws``: accept, then echo text frames until the client goes away;
- ``/json``: accept, then echo JSON documents (``receive_json`` + ``send_json``);
- ``/di/{room}?q=...``: one path parameter, one query parameter and one dependency, then the
  text echo loop (raw ASGI has no such thing; Starlette has no DI, so its version reads the
  parameters by hand and says so in the results).

Apps are built lazily on attribute access (``apps.tether_app``), so a missing framework or a
tether API that does not exist yet only affects the rows that need it. ``uvicorn
benchmarks.apps:starlette_app`` works because uvicorn uses ``getattr`` on the module.
"""

# No ``from __future__ import annotations``: FastAPI and Litestar read the endpoint annotations
# at registration, and the types imported inside the builders must be real objects then.

import contextlib
import json
from collections.abc import Callable
from typing import Any

from _common import ASGIApp, Message, Receive, Send

FRAMEWORKS = ("tether", "raw", "starlette", "fastapi", "litestar")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


def _pick_json_roundtrip() -> Callable[[str], str]:
    try:
        import orjson
    except ImportError:
        return lambda text: json.dumps(json.loads(text), separators=(",", ":"))
    return lambda text: orjson.dumps(orjson.loads(text)).decode()


_json_roundtrip = _pick_json_roundtrip()


async def raw_app(scope: Message, receive: Receive, send: Send) -> None:
    """Framework-free ASGI echo: the limit every framework is measured against."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "websocket":
        return
    as_json = scope["path"] == "/json"
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if as_json:
            # Decode and re-encode, as the frameworks do, with the fastest codec at hand.
            text = _json_roundtrip(text)
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def raw_idle_app(scope: Message, receive: Receive, send: Send) -> None:
    """Accept and then only await ``receive()``: the idle-memory baseline."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await receive()
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


def build_starlette() -> ASGIApp:
    """Starlette echo app."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    async def echo_json(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_json(await ws.receive_json())
        except WebSocketDisconnect:
            pass

    async def with_params(ws: WebSocket) -> None:
        # No DI in Starlette: read what the other frameworks inject, by hand.
        room = ws.path_params["room"]
        q = ws.query_params.get("q", "")
        user = ws.headers.get("host", "")
        assert room and q is not None and user is not None
        await echo(ws)

    routes = [
        WebSocketRoute("/ws", echo),
        WebSocketRoute("/json", echo_json),
        WebSocketRoute("/di/{room}", with_params),
    ]
    return Starlette(routes=routes)  # type: ignore[return-value]


def build_fastapi() -> ASGIApp:
    """FastAPI echo app."""
    from fastapi import Depends, FastAPI, WebSocket, WebSocketDisconnect

    app = FastAPI()

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    @app.websocket("/json")
    async def echo_json(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_json(await ws.receive_json())
        except WebSocketDisconnect:
            pass

    async def current_user(ws: WebSocket) -> str:
        return ws.headers.get("host", "")

    @app.websocket("/di/{room}")
    async def with_params(
        ws: WebSocket, room: str, q: str = "", user: str = Depends(current_user)
    ) -> None:
        await echo(ws)

    return app  # type: ignore[return-value]


def build_litestar() -> ASGIApp:
    """Litestar echo app."""
    from litestar import Litestar, WebSocket, websocket
    from litestar.di import Provide
    from litestar.exceptions import WebSocketDisconnect

    @websocket("/ws")
    async def echo(socket: WebSocket) -> None:
        await socket.accept()
        try:
            while True:
                await socket.send_text(await socket.receive_text())
        except WebSocketDisconnect:
            pass

    @websocket("/json")
    async def echo_json(socket: WebSocket) -> None:
        await socket.accept()
        try:
            while True:
                await socket.send_json(await socket.receive_json())
        except WebSocketDisconnect:
            pass

    async def current_user(socket: WebSocket) -> str:
        return socket.headers.get("host", "")

    @websocket("/di/{room:str}", dependencies={"user": Provide(current_user)})
    async def with_params(socket: WebSocket, room: str, user: str, q: str = "") -> None:
        await socket.accept()
        try:
            while True:
                await socket.send_text(await socket.receive_text())
        except WebSocketDisconnect:
            pass

    return Litestar([echo, echo_json, with_params])  # type: ignore[return-value]


def build_tether() -> ASGIApp:
    """tether echo app, written as the FastAPI one with the imports changed.

    The ``/di`` route is added only when ``tether.Depends`` exists, so the echo rows do not
    wait for dependency injection.
    """
    Tether, WebSocket, WebSocketDisconnect = _tether_names()
    app = Tether(**_tether_limits())

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    @app.websocket("/json")
    async def echo_json(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_json(await ws.receive_json())
        except WebSocketDisconnect:
            pass

    with contextlib.suppress(Exception):  # the DI row then reports "not available"
        _add_tether_di_route(app, echo)
    return app  # type: ignore[return-value]


def _tether_limits() -> dict[str, Any]:
    """The default limits with the rate raised: a benchmark floods by design, and the same
    inline checks (budget and size cap per frame) still run on every frame."""
    try:
        from tether.limits import WebSocketLimits
    except ImportError:
        return {}
    if not hasattr(WebSocketLimits, "none"):  # before limits were on by default
        return {}
    return {"limits": WebSocketLimits.recommended(messages_per_second=1e12, burst=1 << 29)}


def _tether_names() -> tuple[Any, Any, Any]:
    # The top-level re-exports may land after the modules do; the modules are the fallback.
    try:
        from tether import Tether, WebSocket, WebSocketDisconnect
    except ImportError:
        from tether.applications import Tether
        from tether.websockets import WebSocket, WebSocketDisconnect
    return Tether, WebSocket, WebSocketDisconnect


def _add_tether_di_route(app: Any, echo: Any) -> None:
    try:
        from tether import Depends, WebSocket
    except ImportError:
        from tether.params import Depends
        from tether.websockets import WebSocket

    async def current_user(ws: WebSocket) -> str:
        return ws.headers.get("host", "")

    @app.websocket("/di/{room}")
    async def with_params(
        ws: WebSocket, room: str, q: str = "", user: str = Depends(current_user)
    ) -> None:
        await echo(ws)


def build_raw() -> ASGIApp:
    """The raw ASGI echo app."""
    return raw_app


BUILDERS: dict[str, Callable[[], ASGIApp]] = {
    "tether": build_tether,
    "raw": build_raw,
    "starlette": build_starlette,
    "fastapi": build_fastapi,
    "litestar": build_litestar,
}

_cache: dict[str, ASGIApp] = {}


def build(name: str) -> ASGIApp:
    """Build (once) the echo app of framework ``name``; raises whatever the framework raises."""
    if name not in _cache:
        _cache[name] = BUILDERS[name]()
    return _cache[name]


def try_build(name: str) -> tuple[ASGIApp | None, str]:
    """Build ``name``'s app, or return ``(None, reason)`` when tether's cannot be built.

    A peer that fails to build is a broken harness, not a missing feature: that raises.
    """
    try:
        return build(name), ""
    except Exception as exc:
        if name != "tether":
            raise
        return None, f"{type(exc).__name__}: {exc}"


def __getattr__(attr: str) -> Any:
    # ``uvicorn apps:fastapi_app`` resolves through this hook.
    if attr.endswith("_app") and attr[: -len("_app")] in BUILDERS:
        return build(attr[: -len("_app")])
    if attr == "idle_app":
        return raw_idle_app
    raise AttributeError(attr)

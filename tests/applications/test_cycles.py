"""A finished connection leaves no reference cycle behind (refcounting frees it at once)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from tether.applications import Tether
from tether.params import Depends
from tether.websockets import WebSocket, WebSocketDisconnect


def _scope(path: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"example.org")],
        "subprotocols": [],
    }


async def _connect(app: Tether, path: str, query: bytes = b"") -> list[Any]:
    script = iter(
        (
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": "hi"},
            {"type": "websocket.disconnect", "code": 1000},
        )
    )
    sent: list[Any] = []

    async def receive() -> Any:
        return next(script)

    async def send(message: Any) -> None:
        sent.append(message)

    await app(_scope(path, query), receive, send)
    return sent


class PassThrough:
    """A user middleware: the connection then takes the full stack, not the direct path."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _app(middleware: bool = False) -> Tether:
    app = Tether()
    if middleware:
        app.add_middleware(PassThrough)

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    async def user(ws: WebSocket) -> str:
        return ws.headers.get("host", "")

    async def boom(ws: WebSocket) -> None:
        await ws.accept()
        raise ValueError("endpoint failed")

    app.add_api_websocket_route("/ws", echo)

    @app.websocket("/di/{room}")
    async def with_params(ws: WebSocket, room: str, q: str = "", who: str = Depends(user)) -> None:
        await echo(ws)

    app.add_api_websocket_route("/boom", boom)
    return app


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("middleware", [False, True], ids=["direct", "full-stack"])
@pytest.mark.parametrize(("path", "query"), [("/ws", b""), ("/di/lobby", b"q=x"), ("/boom", b"")])
async def test_a_connection_leaves_no_cycle(
    no_automatic_gc: None, path: str, query: bytes, middleware: bool
) -> None:
    app = _app(middleware)
    sent = await _connect(app, path, query)  # builds the stack on the first call
    assert sent[0]["type"] == "websocket.accept"
    gc.collect()
    for _ in range(5):
        await _connect(app, path, query)
    assert gc.collect() == 0


@pytest.mark.parametrize("middleware", [False, True], ids=["direct", "full-stack"])
async def test_a_failed_endpoint_still_closes_with_1011(middleware: bool) -> None:
    sent = await _connect(_app(middleware), "/boom")
    assert sent[-1]["type"] == "websocket.close" and sent[-1]["code"] == 1011

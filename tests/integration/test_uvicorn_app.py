"""What a real ``websockets`` client sees from a Tether app under a real uvicorn."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from servers import uvicorn_thread
from tether.applications import Tether
from tether.exceptions import HTTPException, WebSocketException
from tether.websockets import WebSocket

pytestmark = pytest.mark.integration


def build_app() -> Tether:
    app = Tether(allowed_origins=["https://good.example"])

    @app.websocket("/deny")
    async def deny(websocket: WebSocket) -> None:
        raise HTTPException(401, "nope")

    @app.websocket("/custom-close")
    async def custom_close(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(4001, "custom")

    @app.websocket("/crash")
    async def crash(websocket: WebSocket) -> None:
        await websocket.accept()
        raise RuntimeError("crash after accept")

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.send_text(await websocket.receive_text())

    return app


@pytest.fixture(scope="module")
def ws_base() -> Iterator[str]:
    with uvicorn_thread(build_app()) as base:
        yield base.replace("http://", "ws://")


async def refused(url: str, **options: object) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, **options):  # type: ignore[arg-type]
            pass
    return info.value


async def test_unknown_path_is_404(ws_base: str) -> None:
    error = await refused(ws_base + "/nowhere")
    assert error.response.status_code == 404


async def test_cross_origin_handshake_is_403(ws_base: str) -> None:
    error = await refused(ws_base + "/echo", origin="https://evil.example")
    assert error.response.status_code == 403
    async with connect(ws_base + "/echo", origin="https://good.example") as ws:  # type: ignore[arg-type]
        await ws.send("ok")
        assert await ws.recv() == "ok"


async def test_http_exception_before_accept(ws_base: str) -> None:
    error = await refused(ws_base + "/deny")
    assert error.response.status_code == 401
    assert json.loads(error.response.body) == {"detail": "nope"}


async def test_websocket_exception_close_code_and_reason(ws_base: str) -> None:
    async with connect(ws_base + "/custom-close") as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "custom")


async def test_unhandled_error_after_accept_is_1011(
    ws_base: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        async with connect(ws_base + "/crash") as ws:
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1011
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in records] == ["tether.error"]


async def test_client_disconnect_is_not_an_error(
    ws_base: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        async with connect(ws_base + "/echo") as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
        # A second connection proves the server finished the first one before we look.
        async with connect(ws_base + "/echo") as ws:
            await ws.send("again")
            assert await ws.recv() == "again"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

"""The test client answers a server-initiated close as a real client does."""

from __future__ import annotations

import asyncio

import pytest

from tether.applications import Tether
from tether.testclient import AsyncTestClient, TestClient
from tether.types import Message
from tether.websockets import WebSocket, WebSocketDisconnect


def _closing_app(seen: list[Message]) -> Tether:
    app = Tether()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(4001, "done")
        seen.append(await websocket.receive())

    return app


def test_app_close_after_accept_is_answered_with_the_same_code() -> None:
    seen: list[Message] = []
    with TestClient(_closing_app(seen)) as client, client.websocket_connect("/ws") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 4001
    # Without the answer, the app would only have seen the client's exit disconnect (1000).
    assert seen == [{"type": "websocket.disconnect", "code": 4001, "reason": "done"}]


async def test_drain_completes_while_the_client_is_still_connected() -> None:
    app = Tether()
    ended: list[str] = []

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            ended.append(f"disconnect {exc.code}")

    async with AsyncTestClient(app) as client, client.websocket_connect("/ws") as ws:
        drain = asyncio.create_task(app.drain())
        message = await ws.receive()
        assert message["type"] == "websocket.close" and message["code"] == 1012
        assert await drain == 1
        # The handler returned before the session ended: the drain did not wait it out.
        assert len(app.connections) == 0
        assert ended == ["disconnect 1012"]


async def test_close_during_handshake_is_not_answered() -> None:
    app = Tether()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.close(4003)

    async with AsyncTestClient(app) as client:
        with pytest.raises(WebSocketDisconnect) as refused:
            async with client.websocket_connect("/ws"):
                pass
    assert refused.value.code == 4003

"""Testing a tether app with TestClient and AsyncTestClient (see docs/testing.md).

Run by tests/test_testclient.py, so the example keeps working.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tether.applications import Tether
from tether.exceptions import HTTPException
from tether.testclient import (
    AppTimeoutError,
    AsyncTestClient,
    TestClient,
    WebSocketDenialResponse,
)
from tether.websockets import WebSocket, WebSocketDisconnect


@asynccontextmanager
async def lifespan(app: Tether) -> AsyncIterator[dict[str, Any]]:
    # What the lifespan yields is copied into every connection's scope["state"].
    yield {"motd": "welcome"}


app = Tether(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    if websocket.query_params.get("token") != "secret":
        raise HTTPException(401, "missing token")  # before accept: a 401 denial response
    await websocket.accept()
    await websocket.send_json({"motd": websocket.scope["state"].get("motd")})
    try:
        while True:
            text = await websocket.receive_text()
            if text == "bye":
                await websocket.close(code=4000, reason="see you")
                return
            await websocket.send_text(text.upper())
    except WebSocketDisconnect:
        pass  # the client left: a normal end


def test_with_the_sync_client() -> None:
    with TestClient(app) as client:  # `with` runs the lifespan
        assert client.get("/health").json() == {"status": "ok"}

        with client.websocket_connect("/echo?token=secret") as websocket:
            assert websocket.receive_json() == {"motd": "welcome"}
            websocket.send_text("hello")
            assert websocket.receive_text() == "HELLO"
            websocket.assert_no_message(within=0.05)  # nothing else was sent
            websocket.send_text("bye")
            with pytest.raises(WebSocketDisconnect) as closed:
                websocket.receive_text()
            assert (closed.value.code, closed.value.reason) == (4000, "see you")

        with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/echo"):
            pass
        assert denied.value.status_code == 401


async def test_with_the_async_client() -> None:
    async with AsyncTestClient(app, timeout=1.0) as client:
        assert (await client.get("/health")).status_code == 200

        async with client.websocket_connect("/echo?token=secret") as websocket:
            assert await websocket.receive_json() == {"motd": "welcome"}
            # Waiting for a message that never comes fails fast instead of hanging.
            with pytest.raises(AppTimeoutError):
                await websocket.receive_text(timeout=0.05)

"""The AsyncTestClient: the same API awaited, on the test's own event loop."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tether.testclient import (
    AppFinishedError,
    AppTimeoutError,
    AsyncTestClient,
    AsyncWebSocketTestSession,
    WebSocketDenialResponse,
)
from tether.types import Receive, Scope, Send
from tether.websockets import WebSocket, WebSocketDisconnect, WebSocketFrameTypeError


class App:
    """HTTP echo, a WebSocket echo with a denial on /deny, and lifespan state."""

    def __init__(self) -> None:
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.events: list[str] = []
        self.disconnects: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loops.append(asyncio.get_running_loop())
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
        elif scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.websocket(WebSocket(scope, receive, send))

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            event = (await receive())["type"].split(".")[-1]
            self.events.append(event)
            if event == "startup":
                scope["state"]["greeting"] = "hello"
            await send({"type": f"lifespan.{event}.complete"})
            if event == "shutdown":
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = (await receive())["body"]
        payload = {"body": body.decode(), "state": scope["state"], "path": scope["path"]}
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(payload).encode()})

    async def websocket(self, websocket: WebSocket) -> None:
        if websocket.url.path == "/deny":
            await websocket.send_denial_response(deny_403)
            return
        if websocket.url.path == "/crash":
            raise ZeroDivisionError("crash before accept")
        await websocket.accept(subprotocol="v1", headers=[(b"x-state", b"ok")])
        await websocket.send_json(websocket.scope["state"])
        try:
            async for text in websocket.iter_text():
                await websocket.send_text(text.upper())
        finally:
            self.disconnects.append(1)


async def deny_403(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    await send({"type": "websocket.http.response.body", "body": b"forbidden"})


async def test_http_requests_and_lifespan_state() -> None:
    app = App()
    async with AsyncTestClient(app) as client:
        response = await client.post("/items", json={"a": 1})
        assert response.status_code == 201
        assert response.json() == {
            "body": '{"a":1}',
            "state": {"greeting": "hello"},
            "path": "/items",
        }
        assert isinstance(response, httpx.Response)
    assert app.events == ["startup", "shutdown"]
    running = asyncio.get_running_loop()
    assert all(loop is running for loop in app.loops)


async def test_websocket_session_with_lifespan_state() -> None:
    app = App()
    async with AsyncTestClient(app) as client:
        session = client.websocket_connect("/ws", subprotocols=["v1"])
        assert isinstance(session, AsyncWebSocketTestSession)
        async with session as websocket:
            assert websocket.accepted_subprotocol == "v1"
            assert websocket.extra_headers == [(b"x-state", b"ok")]
            assert await websocket.receive_json() == {"greeting": "hello"}
            await websocket.send_text("shout")
            assert await websocket.receive_text() == "SHOUT"
        # A binary frame makes the app's iter_text() fail; the test sees the app's error.
        with pytest.raises(WebSocketFrameTypeError):
            async with client.websocket_connect("/ws") as websocket:
                await websocket.send_bytes(b"binary")
    assert app.disconnects == [1, 1]


async def test_websocket_message_kinds() -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                await websocket.close()  # allowed: the app has not closed yet
                return
            await websocket.send({**message, "type": "websocket.send"})

    client = AsyncTestClient(handler)
    async with client.websocket_connect("/ws") as websocket:
        await websocket.send_json({"ü": [1]}, mode="binary")
        assert await websocket.receive_json(mode="binary") == {"ü": [1]}
        await websocket.send({"type": "websocket.receive", "text": "raw"})
        assert await websocket.receive() == {"type": "websocket.send", "text": "raw"}
        await websocket.send_bytes(b"\xff")
        assert await websocket.receive_bytes() == b"\xff"
        await websocket.assert_no_message(within=0.02)
        await websocket.close(code=4000, reason="bye")
        closing = await websocket.receive()
        assert closing["type"] == "websocket.close"
        with pytest.raises(AppFinishedError):
            await websocket.receive()
    await client.aclose()


async def test_denial_and_app_error_at_enter() -> None:
    client = AsyncTestClient(App())
    with pytest.raises(WebSocketDenialResponse) as info:
        async with client.websocket_connect("/deny"):
            pass  # pragma: no cover - not reached
    assert (info.value.status_code, info.value.text) == (403, "forbidden")
    with pytest.raises(ZeroDivisionError, match="crash before accept"):
        async with client.websocket_connect("/crash"):
            pass  # pragma: no cover - not reached
    await client.aclose()


async def test_close_before_accept_and_timeouts() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        if websocket.url.path == "/closed":
            await websocket.close(1008, "policy")
            return
        await websocket.accept()
        await websocket.receive()

    client = AsyncTestClient(app, timeout=0.1)
    with pytest.raises(WebSocketDisconnect) as info:
        async with client.websocket_connect("/closed"):
            pass  # pragma: no cover - not reached
    assert (info.value.code, info.value.reason) == (1008, "policy")
    async with client.websocket_connect("/quiet") as websocket:
        with pytest.raises(AppTimeoutError, match="message from the app"):
            await websocket.receive_text()
        with pytest.raises(AppTimeoutError, match="0.01 s"):
            await websocket.receive(timeout=0.01)
    await client.aclose()


async def test_http_timeout() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.Event().wait()

    client = AsyncTestClient(app, timeout=0.05)
    with pytest.raises(AppTimeoutError, match="GET /"):
        await client.get("/")
    await client.aclose()


async def test_concurrent_clients_interleave_on_one_loop() -> None:
    """Two sessions of a broadcast-style app, driven from one test, deterministically."""
    members: list[WebSocket] = []

    async def room(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        members.append(websocket)
        try:
            async for text in websocket.iter_text():
                for member in list(members):
                    await member.send_text(text)
        finally:
            members.remove(websocket)

    client = AsyncTestClient(room)
    async with client.websocket_connect("/room") as alice, client.websocket_connect("/room") as bob:
        await alice.send_text("hi all")
        assert await alice.receive_text() == "hi all"
        assert await bob.receive_text() == "hi all"
    assert members == []
    await client.aclose()

"""tether.websockets.WebSocket used directly in raw ASGI apps, under a real uvicorn server.

The client side is the ``websockets`` library, so what is checked is what a real client sees
on the wire: frames, subprotocol and headers of the handshake, close codes and reasons, an
HTTP denial response, and a client that vanishes while the app is sending.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from servers import uvicorn_thread
from tether.types import Receive, Scope, Send
from tether.websockets import WebSocket, WebSocketDisconnect

pytestmark = pytest.mark.integration

Handler = Callable[[WebSocket], Awaitable[None]]
# uvicorn's own logging setup keeps records from the root logger; without it caplog sees them.
SERVER = {"lifespan": "off", "log_config": None}


def raw_app(handler: Handler) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        await handler(WebSocket(scope, receive, send))

    return app


def ws_url(base: str, path: str = "/ws") -> str:
    return base.replace("http://", "ws://") + path


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None and message["text"].startswith("{"):
                await websocket.send_json({"echo": json.loads(message["text"])}, mode="binary")
            else:
                await websocket.send({**message, "type": "websocket.send"})
    except WebSocketDisconnect:
        return


async def test_text_bytes_and_json_round_trip(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with uvicorn_thread(raw_app(echo), **SERVER) as base:
        async with connect(ws_url(base)) as client:
            await client.send("héllo")
            assert await client.recv() == "héllo"
            await client.send(b"\x00\xff")
            assert await client.recv() == b"\x00\xff"
            await client.send('{"n": "数据"}')
            assert await client.recv() == '{"echo":{"n":"数据"}}'.encode()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_subprotocol_and_accept_headers() -> None:
    async def handler(websocket: WebSocket) -> None:
        offered = websocket.scope["subprotocols"]
        await websocket.accept(subprotocol=offered[-1], headers=[(b"x-tether", b"yes")])
        await websocket.send_text(",".join(offered))
        await websocket.close()

    with uvicorn_thread(raw_app(handler), **SERVER) as base:
        async with connect(
            ws_url(base), subprotocols=[Subprotocol("chat.v1"), Subprotocol("chat.v2")]
        ) as client:
            assert client.subprotocol == "chat.v2"
            assert client.response is not None
            assert client.response.headers["x-tether"] == "yes"
            assert await client.recv() == "chat.v1,chat.v2"


@pytest.mark.parametrize(("code", "reason"), [(1000, ""), (4001, "bye now"), (1011, "ünïcode")])
async def test_close_codes_and_reasons(code: int, reason: str) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code=code, reason=reason)

    with uvicorn_thread(raw_app(handler), **SERVER) as base:
        async with connect(ws_url(base)) as client:
            with pytest.raises(ConnectionClosed) as info:
                await client.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (code, reason)


async def test_client_close_code_reaches_the_app() -> None:
    seen: list[tuple[int, str]] = []
    done = threading.Event()

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            seen.append((exc.code, exc.reason))
        finally:
            done.set()

    with uvicorn_thread(raw_app(handler), **SERVER) as base:
        async with connect(ws_url(base)) as client:
            await client.close(code=4002, reason="leaving")
        assert await asyncio.to_thread(done.wait, 5)
    assert seen == [(4002, "leaving")]


async def test_denial_response_reaches_the_client() -> None:
    async def deny(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
        await send(
            {"type": "websocket.http.response.body", "body": b'{"detail":', "more_body": True}
        )
        await send({"type": "websocket.http.response.body", "body": b'"no token"}'})

    async def handler(websocket: WebSocket) -> None:
        await websocket.send_denial_response(deny)

    with uvicorn_thread(raw_app(handler), **SERVER) as base, pytest.raises(InvalidStatus) as info:
        async with connect(ws_url(base)):
            pass  # pragma: no cover - not reached
    response = info.value.response
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.body == b'{"detail":"no token"}'


async def test_close_before_accept_is_a_403_for_the_client() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.close(code=4003, reason="not allowed")

    with uvicorn_thread(raw_app(handler), **SERVER) as base, pytest.raises(InvalidStatus) as info:
        async with connect(ws_url(base)):
            pass  # pragma: no cover - not reached
    assert info.value.response.status_code == 403


async def test_client_vanishing_mid_send_ends_the_app_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    outcome: list[object] = []
    done = threading.Event()

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_bytes(b"x" * 65536)
                await asyncio.sleep(0.001)
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            outcome.append(exc)
            raise
        finally:
            done.set()

    with uvicorn_thread(raw_app(handler), **SERVER) as base:
        client = await connect(ws_url(base), max_size=None)
        await client.recv()
        client.transport.abort()  # vanish: no close frame, the TCP connection just drops
        assert await asyncio.to_thread(done.wait, 5), "the app kept sending to a gone client"
    assert outcome == [1006]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

"""tether.endpoints: WebSocketEndpoint (spec section 4) and HTTPEndpoint."""

from __future__ import annotations

from typing import Any

import pytest

from tether.endpoints import HTTPEndpoint, WebSocketEndpoint
from tether.requests import Request
from tether.responses import PlainTextResponse
from tether.routing import Route, Router, WebSocketRoute
from tether.testclient import AsyncTestClient, TestClient
from tether.websockets import WebSocket, WebSocketDisconnect

CODES: list[int] = []


class Echo(WebSocketEndpoint):
    encoding = "json"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_json({"echo": data})

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        CODES.append(close_code)


class Text(WebSocketEndpoint):
    encoding = "text"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_text(data.upper())


class Either(WebSocketEndpoint):
    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_text(type(data).__name__)


class Bytes(WebSocketEndpoint):
    encoding = "bytes"


def app() -> Router:
    return Router(
        [
            WebSocketRoute("/json", Echo),
            WebSocketRoute("/text", Text),
            WebSocketRoute("/either", Either),
            WebSocketRoute("/bytes", Bytes),
        ]
    )


async def test_json_endpoint_echo_and_disconnect_code() -> None:
    CODES.clear()
    client = AsyncTestClient(app())
    async with client.websocket_connect("/json") as ws:
        await ws.send_json({"a": 1})
        assert await ws.receive_json() == {"echo": {"a": 1}}
        await ws.send_bytes(b'{"b": 2}')
        assert await ws.receive_json() == {"echo": {"b": 2}}
        await ws.close(4000)
    assert CODES == [4000]


def test_text_endpoint_and_empty_text_is_valid() -> None:
    with TestClient(app()).websocket_connect("/text") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "HI"
        ws.send_text("")
        assert ws.receive_text() == ""


def test_none_encoding_passes_either_kind() -> None:
    with TestClient(app()).websocket_connect("/either") as ws:
        ws.send_text("x")
        assert ws.receive_text() == "str"
        ws.send_bytes(b"x")
        assert ws.receive_text() == "bytes"


@pytest.mark.parametrize(
    ("path", "payload"),
    [("/text", {"bytes": b"x"}), ("/bytes", {"text": "x"}), ("/json", {"text": "{bad"})],
)
def test_decode_error_closes_with_1003(path: str, payload: dict[str, Any]) -> None:
    CODES.clear()
    with pytest.raises(RuntimeError), TestClient(app()).websocket_connect(path) as ws:
        ws.send({"type": "websocket.receive", **payload})
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert info.value.code == 1003
    if path == "/json":
        assert CODES == [1011]


class Items(HTTPEndpoint):
    async def get(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("get")

    def post(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("post")


def test_http_endpoint_dispatch_and_405() -> None:
    client = TestClient(Router([Route("/items", Items)]))
    assert client.get("/items").text == "get"
    assert client.head("/items").status_code == 200
    assert client.post("/items").text == "post"
    response = client.delete("/items")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"

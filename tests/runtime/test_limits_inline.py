"""The inline limits of the direct WebSocket path (tether._limits_inline), in-process.

The same outcomes as LimitsMiddleware (tests/test_limits.py), reached through the budget and
caps the WebSocket's receive methods check inline.
"""

from __future__ import annotations

import pytest

from tether import Tether, WebSocket, WebSocketDisconnect
from tether.limits import WebSocketLimits
from tether.testclient import TestClient

MIB = 1 << 20


def app_with(limits: WebSocketLimits) -> Tether:
    app = Tether(limits=limits)

    @app.websocket("/text")
    async def text(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(str(len(await websocket.receive_text())))
        except WebSocketDisconnect as exc:
            websocket.scope["app"].state.closed = (exc.code, exc.reason)

    @app.websocket("/raw")
    async def raw(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            await websocket.send_text(str(len(message.get("text") or message.get("bytes"))))

    @app.websocket("/json")
    async def json_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_json(await websocket.receive_json())
        except WebSocketDisconnect:
            pass

    return app


def test_the_direct_path_is_taken() -> None:
    app = app_with(WebSocketLimits.recommended())
    app.build_middleware_stack()
    assert app._direct is not None and app._direct.limits is not None


@pytest.mark.parametrize("path", ["/text", "/raw"])
def test_text_size_is_counted_in_utf8_bytes(path: str) -> None:
    app = app_with(WebSocketLimits.recommended())
    with TestClient(app) as client, client.websocket_connect(path) as ws:
        ws.send_text("é" * (MIB // 4))  # more characters than the fast check lets by
        assert ws.receive_text() == str(MIB // 4)  # ... but 512 KiB: delivered
        ws.send_text("é" * (MIB // 2 + 1))  # 1 MiB + 2 bytes
        assert ws.receive() == {
            "type": "websocket.close",
            "code": 1009,
            "reason": "message too big",
        }


def test_an_oversized_frame_of_the_wrong_type_is_1009_not_a_type_error() -> None:
    app = app_with(WebSocketLimits.recommended())
    with TestClient(app) as client, client.websocket_connect("/text") as ws:
        ws.send_bytes(b"x" * (MIB + 1))
        assert ws.receive()["code"] == 1009


def test_json_frames_are_limited_too() -> None:
    limits = WebSocketLimits.recommended(max_message_size=64, messages_per_second=0.001, burst=3)
    with TestClient(app_with(limits)) as client:
        with client.websocket_connect("/json") as ws:
            ws.send_json({"a": 1})
            assert ws.receive_json() == {"a": 1}
            ws.send_json({"a": "x" * 100})
            assert ws.receive()["code"] == 1009
        with client.websocket_connect("/json") as ws:
            for n in range(3):
                ws.send_json(n)
                assert ws.receive_json() == n
            ws.send_json(4)
            assert ws.receive() == {
                "type": "websocket.close",
                "code": 1013,
                "reason": "rate limit exceeded",
            }


def test_the_endpoint_sees_the_close_code_and_later_sends_are_a_gone_peer() -> None:
    app = app_with(WebSocketLimits.recommended(max_message_size=10))
    with TestClient(app) as client, client.websocket_connect("/text") as ws:
        ws.send_text("x" * 11)
        assert ws.receive()["code"] == 1009
    assert app.state.closed == (1009, "message too big")


def test_error_mode_drops_without_spending_a_token() -> None:
    """After a drop the bucket holds what it held: the next frame is dropped too (no refill
    in between at 0.001/s), and many drops in a row do not recurse."""
    limits = WebSocketLimits.recommended(
        messages_per_second=0.001, burst=2, rate_limit_action="error"
    )
    with TestClient(app_with(limits)) as client, client.websocket_connect("/raw") as ws:
        for text in ("a", "bb"):
            ws.send_text(text)
        for _ in range(2000):  # deeper than Python's recursion limit if drops recursed
            ws.send_text("ccc")
        assert [ws.receive_text() for _ in range(2)] == ["1", "2"]
        for _ in range(2000):
            assert ws.receive_json()["code"] == "rate_limited"


def test_none_lifts_everything() -> None:
    app = app_with(WebSocketLimits.none())
    with TestClient(app) as client, client.websocket_connect("/raw") as ws:
        for _ in range(500):
            ws.send_text("x")
        ws.send_bytes(b"x" * (2 * MIB))
        assert [ws.receive_text() for _ in range(500)] == ["1"] * 500
        assert ws.receive_text() == str(2 * MIB)

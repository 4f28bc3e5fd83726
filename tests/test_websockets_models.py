"""``WebSocket.receive_model`` / ``iter_model`` / ``send_model`` delegate to tether.messages."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from tether import Tether, WebSocket
from tether.messages import InvalidMessagePolicy
from tether.testclient import TestClient
from tether.websockets import WebSocketDisconnect


@dataclasses.dataclass
class Hello:
    type: Literal["hello"]
    name: str


def make_app() -> Tether:
    app = Tether()

    @app.websocket("/iter")
    async def iterate(websocket: WebSocket) -> None:
        await websocket.accept()
        async for message in websocket.iter_model(Hello):
            await websocket.send_model(Hello(type="hello", name=message.name.upper()))

    @app.websocket("/strict")
    async def strict(websocket: WebSocket) -> None:
        await websocket.accept()
        message = await websocket.receive_model(
            Hello, policy=InvalidMessagePolicy.CLOSE_INVALID_DATA
        )
        await websocket.send_model(message)

    return app


def test_iter_model_replies_and_reports_invalid_messages() -> None:
    with TestClient(make_app()) as client, client.websocket_connect("/iter") as session:
        session.send_json({"type": "hello", "name": "ann"})
        assert session.receive_json() == {"type": "hello", "name": "ANN"}
        session.send_json({"type": "hello"})
        reply = session.receive_json()
        assert reply["type"] == "error"
        assert reply["errors"][0]["loc"] == ["name"]
        session.send_json({"type": "hello", "name": "bo"})
        assert session.receive_json() == {"type": "hello", "name": "BO"}


def test_receive_model_close_policy_closes_with_1007() -> None:
    with TestClient(make_app()) as client, client.websocket_connect("/strict") as session:
        session.send_text("not json")
        with pytest.raises(WebSocketDisconnect) as caught:
            session.receive_text()
        assert caught.value.code == 1007

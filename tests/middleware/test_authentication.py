"""AuthenticationMiddleware and @requires on WebSocket handshakes: what the client sees."""

import asyncio
from typing import Any

import pytest

from tether.applications import Tether
from tether.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    SimpleUser,
    requires,
)
from tether.middleware import Middleware
from tether.middleware.authentication import AuthenticationMiddleware
from tether.requests import HTTPConnection
from tether.routing import WebSocketRoute
from tether.testclient import TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket


class TokenBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> Any:
        token = conn.query_params.get("token")
        if token is None:
            return None
        if token != "good":
            raise AuthenticationError("bad token")
        return AuthCredentials(["chat"]), SimpleUser("ann")


@requires("chat")
async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(websocket.user.display_name)
    await websocket.close()


def make_app() -> Tether:
    return Tether(
        routes=[WebSocketRoute("/chat", chat)],
        middleware=[Middleware(AuthenticationMiddleware, backend=TokenBackend())],
    )


def test_requires_on_a_websocket_gives_a_403_denial_and_errors_a_400_denial() -> None:
    client = TestClient(make_app())
    with client.websocket_connect("/chat?token=good") as session:
        assert session.receive_text() == "ann"
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/chat"):
        pass
    assert denied.value.status_code == 403
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/chat?token=bad"),
    ):
        pass
    assert denied.value.status_code == 400
    assert denied.value.text == "bad token"


def test_without_the_denial_extension_an_error_closes_with_1008() -> None:
    sent: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the endpoint must not run")

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    middleware = AuthenticationMiddleware(inner, backend=TokenBackend())
    scope = {"type": "websocket", "path": "/", "query_string": b"token=x", "headers": []}
    asyncio.run(middleware(scope, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "bad token"}]

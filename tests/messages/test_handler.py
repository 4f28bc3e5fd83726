"""Reply-style message handlers: hints read once, replies sent, policies applied."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Literal

import msgspec
import pydantic
import pytest

from tether.exceptions import ConfigurationError
from tether.messages import InvalidMessagePolicy, RouteDoc, get_doc, message_handler
from tether.testclient import AsyncTestClient
from tether.websockets import WebSocket


class Ping(pydantic.BaseModel):
    type: Literal["ping"]
    n: int


class Echo(pydantic.BaseModel):
    type: Literal["echo"]
    text: str


class Pong(msgspec.Struct, tag="pong"):
    n: int


@dataclasses.dataclass
class Said:
    type: Literal["said"]
    text: str


def asgi(endpoint: Any) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await endpoint(WebSocket(scope, receive, send))

    return app


@message_handler
async def reply_handler(message: Ping | Echo) -> Pong | Said | None:
    """Answer pings and echoes; stay quiet on an empty echo."""
    if isinstance(message, Ping):
        return Pong(n=message.n + 1)
    return Said(type="said", text=message.text) if message.text else None


async def test_async_handler_replies_with_the_returned_message() -> None:
    async with AsyncTestClient(asgi(reply_handler)) as client, client.websocket_connect("/") as ws:
        await ws.send_text('{"type":"ping","n":1}')
        assert await ws.receive_json() == {"type": "pong", "n": 2}
        await ws.send_text('{"type":"echo","text":""}')
        await ws.send_text('{"type":"echo","text":"x"}')
        assert await ws.receive_json() == {"type": "said", "text": "x"}


async def test_invalid_and_unknown_messages_get_the_default_error_reply() -> None:
    async with AsyncTestClient(asgi(reply_handler)) as client, client.websocket_connect("/") as ws:
        await ws.send_text('{"type":"ping","n":"one"}')
        assert (await ws.receive_json())["errors"][0]["loc"] == ["n"]
        await ws.send_text('{"type":"pong"}')
        error = (await ws.receive_json())["errors"][0]
        assert error["type"] == "unknown_message_type"
        await ws.send_text('{"type":"ping","n":0}')
        assert await ws.receive_json() == {"type": "pong", "n": 1}


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        (InvalidMessagePolicy.CLOSE_INVALID_DATA, 1007),
        (InvalidMessagePolicy.CLOSE_UNSUPPORTED_DATA, 1003),
        (InvalidMessagePolicy.CLOSE_POLICY_VIOLATION, 1008),
    ],
)
async def test_handler_close_policies(policy: InvalidMessagePolicy, code: int) -> None:
    @message_handler(policy=policy)
    def handler(message: Ping) -> Pong:
        return Pong(n=message.n)

    async with AsyncTestClient(asgi(handler)) as client, client.websocket_connect("/") as ws:
        await ws.send_text("nonsense")
        message = await ws.receive()
        assert (message["type"], message["code"]) == ("websocket.close", code)


async def test_sync_handler_with_the_websocket_parameter() -> None:
    @message_handler(subprotocol="chat.v1")
    def handler(websocket: WebSocket, message: Echo) -> Said:
        return Said(type="said", text=f"{websocket.url.path}:{message.text}")

    async with (
        AsyncTestClient(asgi(handler)) as client,
        client.websocket_connect("/room", subprotocols=["chat.v1"]) as ws,
    ):
        assert ws.accepted_subprotocol == "chat.v1"
        await ws.send_text('{"type":"echo","text":"hi"}')
        assert await ws.receive_json() == {"type": "said", "text": "/room:hi"}


async def test_websocket_may_come_after_the_message() -> None:
    @message_handler
    async def handler(message: Echo, websocket: WebSocket) -> None:
        await websocket.send_text(message.text.upper())

    async with AsyncTestClient(asgi(handler)) as client, client.websocket_connect("/") as ws:
        await ws.send_text('{"type":"echo","text":"hi"}')
        assert await ws.receive_text() == "HI"


def test_endpoint_signature_is_the_websocket_only() -> None:
    params = inspect.signature(reply_handler).parameters
    assert list(params) == ["websocket"]
    assert reply_handler.__annotations__["websocket"] is WebSocket
    assert reply_handler.__name__ == "reply_handler"
    assert reply_handler.__doc__ == "Answer pings and echoes; stay quiet on an empty echo."
    assert not hasattr(reply_handler, "__wrapped__")


def test_handler_documents_what_it_receives_and_sends() -> None:
    doc = get_doc(reply_handler)
    assert doc == RouteDoc(receives=Ping | Echo, sends=Pong | Said, reply=True)


def test_explicit_documentation_wins_over_hints() -> None:
    def handler(message: Ping) -> None: ...

    handler.__tether_doc__ = RouteDoc(summary="s", sends=Pong)  # type: ignore[attr-defined]
    doc = get_doc(message_handler(handler))
    assert doc is not None
    assert (doc.summary, doc.receives, doc.sends, doc.reply) == ("s", Ping, Pong, False)


def test_missing_message_hint_is_refused() -> None:
    def handler(message):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(ConfigurationError, match="type hint"):
        message_handler(handler)


def test_extra_parameters_are_refused() -> None:
    def handler(message: Ping, other: int) -> None: ...

    with pytest.raises(ConfigurationError, match="exactly one message parameter"):
        message_handler(handler)

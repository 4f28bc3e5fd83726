"""tether.types: the ASGI aliases and message TypedDicts."""

from __future__ import annotations

import typing

from tether import types


def test_public_names_exist() -> None:
    for name in types.__all__:
        assert hasattr(types, name), name


def test_websocket_message_keys() -> None:
    hints = typing.get_type_hints
    assert set(hints(types.WebSocketAcceptEvent)) == {"type", "subprotocol", "headers"}
    assert set(hints(types.WebSocketCloseEvent)) == {"type", "code", "reason"}
    assert set(hints(types.WebSocketReceiveEvent)) == {"type", "bytes", "text"}
    assert set(hints(types.WebSocketDisconnectEvent)) == {"type", "code", "reason"}
    assert set(hints(types.WebSocketResponseStartEvent)) == {"type", "status", "headers"}
    assert set(hints(types.WebSocketResponseBodyEvent)) == {"type", "body", "more_body"}
    assert types.WebSocketResponseStartEvent.__required_keys__ == {"type", "status"}


def test_messages_are_plain_dicts() -> None:
    message: types.WebSocketSendEvent = {"type": "websocket.send", "text": "x"}
    assert type(message) is dict

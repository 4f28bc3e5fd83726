"""tether.websockets: the state machine (pure, exhaustive) and the WebSocket API over fakes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from tether.requests import HTTPConnection
from tether.responses import PlainTextResponse, StreamingResponse
from tether.websockets import (
    RECEIVE_TRANSITIONS,
    SEND_TRANSITIONS,
    WebSocket,
    WebSocketClose,
    WebSocketDisconnect,
    WebSocketDisconnected,
    WebSocketFrameTypeError,
    WebSocketState,
    check_close_reason,
    next_receive_state,
    next_send_state,
)

S = WebSocketState
RECEIVE_TYPES = ["websocket.connect", "websocket.receive", "websocket.disconnect"]
SEND_TYPES = [
    "websocket.accept",
    "websocket.send",
    "websocket.close",
    "websocket.http.response.start",
    "websocket.http.response.body",
]
ALL_TYPES = RECEIVE_TYPES + SEND_TYPES + ["http.response.start", "bogus", None]


class Transport:
    """Fake ASGI server: ``receive`` pops scripted messages, ``send`` records them."""

    def __init__(
        self, incoming: Iterable[dict[str, Any]] = (), send_error: Exception | None = None
    ):
        self.incoming = list(incoming)
        self.sent: list[dict[str, Any]] = []
        self.received = 0
        self.send_error = send_error

    async def receive(self) -> dict[str, Any]:
        self.received += 1
        return self.incoming.pop(0)

    async def send(self, message: dict[str, Any]) -> None:
        if self.send_error is not None:
            raise self.send_error
        self.sent.append(message)


def make_scope(**extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "websocket",
        "path": "/ws",
        "headers": [(b"host", b"testserver")],
        "query_string": b"",
        "extensions": {"websocket.http.response": {}},
    }
    scope.update(extra)
    return scope


def make_ws(*incoming: dict[str, Any], **scope: Any) -> tuple[WebSocket, Transport]:
    transport = Transport(incoming)
    return WebSocket(make_scope(**scope), transport.receive, transport.send), transport


CONNECT = {"type": "websocket.connect"}


def text(data: str) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": data}


def binary(data: bytes) -> dict[str, Any]:
    return {"type": "websocket.receive", "bytes": data}


async def accepted(*incoming: dict[str, Any], **scope: Any) -> tuple[WebSocket, Transport]:
    ws, transport = make_ws(CONNECT, *incoming, **scope)
    await ws.accept()
    return ws, transport


# --- the tables themselves, as the contract (spec 1.4) writes them ---------------------------


def test_receive_table_is_the_contract() -> None:
    assert dict(RECEIVE_TRANSITIONS) == {
        (S.CONNECTING, "websocket.connect"): S.CONNECTED,
        (S.CONNECTED, "websocket.receive"): S.CONNECTED,
        (S.CONNECTED, "websocket.disconnect"): S.DISCONNECTED,
    }


def test_send_table_is_the_contract() -> None:
    assert dict(SEND_TRANSITIONS) == {
        (S.CONNECTING, "websocket.accept"): S.CONNECTED,
        (S.CONNECTING, "websocket.close"): S.DISCONNECTED,
        (S.CONNECTING, "websocket.http.response.start"): S.RESPONSE,
        (S.CONNECTED, "websocket.send"): S.CONNECTED,
        (S.CONNECTED, "websocket.close"): S.DISCONNECTED,
        (S.RESPONSE, "websocket.http.response.body"): S.DISCONNECTED,
    }


def test_state_values() -> None:
    assert [(s.name, s.value) for s in S] == [
        ("CONNECTING", 0),
        ("CONNECTED", 1),
        ("DISCONNECTED", 2),
        ("RESPONSE", 3),
    ]


# --- pure transition functions: every state x every message type ------------------------------


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("kind", ALL_TYPES)
def test_next_receive_state_exhaustive(state: WebSocketState, kind: Any) -> None:
    expected = RECEIVE_TRANSITIONS.get((state, kind))
    if expected is not None:
        assert next_receive_state(state, kind) is expected
    elif state in (S.DISCONNECTED, S.RESPONSE):
        with pytest.raises(WebSocketDisconnected, match='Cannot call "receive"'):
            next_receive_state(state, kind)
    else:
        with pytest.raises(RuntimeError, match="Expected ASGI message") as info:
            next_receive_state(state, kind)
        assert type(info.value) is RuntimeError
        assert repr(kind) in str(info.value)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("kind", ALL_TYPES)
@pytest.mark.parametrize("more_body", [False, True])
def test_next_send_state_exhaustive(state: WebSocketState, kind: Any, more_body: bool) -> None:
    expected = SEND_TRANSITIONS.get((state, kind))
    if expected is not None:
        continued = more_body and kind == "websocket.http.response.body"
        assert next_send_state(state, kind, more_body) is (state if continued else expected)
    elif state is S.DISCONNECTED:
        with pytest.raises(WebSocketDisconnected, match='Cannot call "send" once a close'):
            next_send_state(state, kind, more_body)
    else:
        with pytest.raises(RuntimeError, match="Expected ASGI message") as info:
            next_send_state(state, kind, more_body)
        assert type(info.value) is RuntimeError
        assert str(info.value).endswith(f"but got {kind!r}")


@pytest.mark.parametrize(
    ("state", "kind", "text"),
    [
        (
            S.CONNECTING,
            "websocket.send",
            'Expected ASGI message "websocket.accept", "websocket.close" or '
            "\"websocket.http.response.start\", but got 'websocket.send'",
        ),
        (
            S.CONNECTED,
            "websocket.accept",
            'Expected ASGI message "websocket.send" or "websocket.close", but got \'websocket.accept\'',
        ),
        (
            S.RESPONSE,
            "websocket.http.response.start",
            'Expected ASGI message "websocket.http.response.body", '
            "but got 'websocket.http.response.start'",
        ),
    ],
)
def test_send_error_texts(state: WebSocketState, kind: str, text: str) -> None:
    with pytest.raises(RuntimeError) as info:
        next_send_state(state, kind)
    assert str(info.value) == text


def test_receive_error_texts() -> None:
    with pytest.raises(RuntimeError) as info:
        next_receive_state(S.CONNECTING, "websocket.receive")
    assert str(info.value) == (
        "Expected ASGI message \"websocket.connect\", but got 'websocket.receive'"
    )
    with pytest.raises(RuntimeError) as info:
        next_receive_state(S.CONNECTED, "websocket.connect")
    assert '"websocket.receive" or "websocket.disconnect"' in str(info.value)


# --- receive(): every client state x every message type ---------------------------------------


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("kind", ALL_TYPES)
async def test_receive_follows_table(state: WebSocketState, kind: Any) -> None:
    message = {"type": kind}
    ws, transport = make_ws(message)
    ws.client_state = state
    expected = RECEIVE_TRANSITIONS.get((state, kind))
    if expected is not None:
        assert await ws.receive() is message
        assert ws.client_state is expected
    elif state in (S.DISCONNECTED, S.RESPONSE):
        with pytest.raises(WebSocketDisconnected):
            await ws.receive()
        assert transport.received == 0  # nothing consumed
    else:
        with pytest.raises(RuntimeError):
            await ws.receive()
        assert transport.received == 1  # consumed, state unchanged
        assert ws.client_state is state
    assert ws.application_state is S.CONNECTING  # the other machine never moves


# --- send(): every application state x every message type -------------------------------------


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("kind", ALL_TYPES)
async def test_send_follows_table(state: WebSocketState, kind: Any) -> None:
    ws, transport = make_ws()
    ws.application_state = state
    seen: list[WebSocketState] = []

    async def send(message: dict[str, Any]) -> None:
        seen.append(ws.application_state)  # the state moved before the raw send
        transport.sent.append(message)

    ws._send = send
    expected = SEND_TRANSITIONS.get((state, kind))
    if expected is None:
        error = WebSocketDisconnected if state is S.DISCONNECTED else RuntimeError
        with pytest.raises(error):
            await ws.send({"type": kind})
        assert transport.sent == [] and ws.application_state is state
    else:
        await ws.send({"type": kind})
        assert seen == [expected] and ws.application_state is expected
    assert ws.client_state is S.CONNECTING


async def test_denial_body_more_body_keeps_response_state() -> None:
    ws, transport = make_ws()
    await ws.send({"type": "websocket.http.response.start", "status": 403})
    await ws.send({"type": "websocket.http.response.body", "body": b"a", "more_body": True})
    assert ws.application_state is S.RESPONSE
    await ws.send({"type": "websocket.http.response.body", "body": b"b"})
    assert ws.application_state is S.DISCONNECTED
    with pytest.raises(WebSocketDisconnected, match="close message has been sent"):
        await ws.send({"type": "websocket.close"})


# --- OSError handling -------------------------------------------------------------------------


async def _call(ws: WebSocket, name: str) -> None:
    calls = {
        "send": lambda: ws.send({"type": "websocket.send", "text": "x"}),
        "send_text": lambda: ws.send_text("x"),
        "send_bytes": lambda: ws.send_bytes(b"x"),
        "send_json": lambda: ws.send_json({"a": 1}),
        "send_json_binary": lambda: ws.send_json({"a": 1}, mode="binary"),
        "close": lambda: ws.close(),
    }
    await calls[name]()


@pytest.mark.parametrize(
    "name", ["send", "send_text", "send_bytes", "send_json", "send_json_binary", "close"]
)
@pytest.mark.parametrize("error", [OSError("gone"), ConnectionResetError(), BrokenPipeError()])
async def test_oserror_after_accept_becomes_1006(name: str, error: OSError) -> None:
    ws, transport = await accepted()
    transport.send_error = error
    with pytest.raises(WebSocketDisconnect) as info:
        await _call(ws, name)
    assert info.value.code == 1006 and info.value.reason == ""
    assert info.value.args == ()
    assert info.value.__cause__ is error
    assert ws.application_state is S.DISCONNECTED


async def test_oserror_before_accept_propagates_raw() -> None:
    ws, transport = make_ws(CONNECT)
    transport.send_error = OSError("gone")
    with pytest.raises(OSError):
        await ws.accept()
    assert ws.application_state is S.CONNECTED  # moved before the send, as in the peer


async def test_oserror_during_denial_propagates_raw() -> None:
    ws, transport = make_ws()
    transport.send_error = OSError("gone")
    with pytest.raises(OSError) as info:
        await ws.send_denial_response(PlainTextResponse("no", status_code=403))
    assert not isinstance(info.value, WebSocketDisconnect)
    assert ws.application_state is S.RESPONSE


async def test_other_send_errors_propagate_unchanged() -> None:
    ws, transport = await accepted()
    transport.send_error = ValueError("bad frame")
    with pytest.raises(ValueError, match="bad frame"):
        await ws.send_text("x")
    assert ws.application_state is S.CONNECTED


# --- accept -------------------------------------------------------------------------------------


async def test_accept_consumes_connect_and_sends_both_keys() -> None:
    ws, transport = make_ws(CONNECT)
    await ws.accept()
    assert transport.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert ws.client_state is S.CONNECTED and ws.application_state is S.CONNECTED


async def test_accept_after_manual_receive_does_not_receive_again() -> None:
    ws, transport = make_ws(CONNECT)
    assert await ws.receive() == CONNECT
    headers = [(b"x-a", b"1")]
    await ws.accept(subprotocol="chat", headers=headers)
    assert transport.received == 1
    assert transport.sent[0]["headers"] is headers and transport.sent[0]["subprotocol"] == "chat"


async def test_accept_with_wrong_first_message() -> None:
    ws, _ = make_ws(text("hi"))
    with pytest.raises(RuntimeError, match="\"websocket.connect\", but got 'websocket.receive'"):
        await ws.accept()


async def test_second_accept_is_refused() -> None:
    ws, _ = await accepted()
    with pytest.raises(RuntimeError, match="but got 'websocket.accept'"):
        await ws.accept()


async def _outcome(call: Any, ws: WebSocket, transport: Transport) -> tuple[Any, ...]:
    try:
        await call()
        error: Any = None
    except Exception as exc:
        error = (type(exc), str(exc))
    return error, ws.client_state, ws.application_state, transport.received, transport.sent


@pytest.mark.parametrize("client", list(S))
@pytest.mark.parametrize("application", list(S))
@pytest.mark.parametrize("first", [CONNECT, text("hi")])
async def test_accept_agrees_with_receive_then_send(
    client: WebSocketState, application: WebSocketState, first: dict[str, Any]
) -> None:
    # accept() inlines receive() and send() for speed: it must do exactly what they do.
    ws, transport = make_ws(first)
    ws.client_state, ws.application_state = client, application
    reference, ref_transport = make_ws(first)
    reference.client_state, reference.application_state = client, application

    async def by_hand() -> None:
        if reference.client_state is S.CONNECTING:
            await reference.receive()
        await reference.send({"type": "websocket.accept", "subprotocol": None, "headers": []})

    assert await _outcome(ws.accept, ws, transport) == await _outcome(
        by_hand, reference, ref_transport
    )


def test_new_websocket_sets_every_connection_slot() -> None:
    # WebSocket.__init__ inlines HTTPConnection.__init__: no base-class slot may be left unset.
    scope = make_scope()
    ws, _ = make_ws()
    base = HTTPConnection(scope)
    for slot in HTTPConnection.__slots__:
        if slot != "__weakref__":
            assert getattr(ws, slot) == getattr(base, slot), slot


def test_states_hash_by_identity() -> None:
    assert {S.CONNECTED: 1}[S.CONNECTED] == 1
    assert len({*S, *S}) == len(S)
    assert all(hash(state) == object.__hash__(state) for state in S)


# --- receive helpers --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["receive_text", "receive_bytes", "receive_json"])
@pytest.mark.parametrize("state", [S.CONNECTING, S.DISCONNECTED, S.RESPONSE])
async def test_receive_helpers_need_accept(method: str, state: WebSocketState) -> None:
    ws, transport = make_ws(CONNECT, text("x"))
    ws.application_state = state
    with pytest.raises(WebSocketDisconnected, match='Need to call "accept" first'):
        await getattr(ws, method)()
    assert transport.received == 0 and ws.client_state is S.CONNECTING


@pytest.mark.parametrize("method", ["receive_json", "send_json"])
async def test_mode_is_checked_before_state(method: str) -> None:
    ws, _ = make_ws()
    args = () if method == "receive_json" else ({"a": 1},)
    with pytest.raises(RuntimeError, match='The "mode" argument should be "text" or "binary"'):
        await getattr(ws, method)(*args, mode="json")


async def test_receive_text_bytes_json() -> None:
    ws, _ = await accepted(
        text("hello"), binary(b"\x00\x01"), text('{"a":[1,2]}'), binary('{"ü":1}'.encode())
    )
    assert await ws.receive_text() == "hello"
    assert await ws.receive_bytes() == b"\x00\x01"
    assert await ws.receive_json() == {"a": [1, 2]}
    assert await ws.receive_json(mode="binary") == {"ü": 1}


@pytest.mark.parametrize("method", ["receive_text", "receive_bytes", "receive_json"])
async def test_disconnect_raises_with_code_and_reason(method: str) -> None:
    ws, _ = await accepted({"type": "websocket.disconnect", "code": 1001, "reason": "bye"})
    with pytest.raises(WebSocketDisconnect) as info:
        await getattr(ws, method)()
    assert (info.value.code, info.value.reason, info.value.args) == (1001, "bye", (1001, "bye"))
    assert ws.client_state is S.DISCONNECTED and ws.application_state is S.CONNECTED
    # The client side is finished but the app did not close: a RuntimeError now, not a disconnect.
    with pytest.raises(WebSocketDisconnected, match='Cannot call "receive"'):
        await getattr(ws, method)()
    await ws.close()  # still allowed, as in on_disconnect handlers


async def test_disconnect_without_code_is_1005() -> None:
    ws, _ = await accepted({"type": "websocket.disconnect"})
    with pytest.raises(WebSocketDisconnect) as info:
        await ws.receive_text()
    assert info.value.code == 1005 and info.value.reason == ""


async def test_receive_helpers_when_client_side_not_yet_connected() -> None:
    # The app accepted through raw send() without consuming connect.
    ws, _ = make_ws(CONNECT, text("late"))
    await ws.send({"type": "websocket.accept"})
    with pytest.raises(WebSocketFrameTypeError, match="'websocket.connect'"):
        await ws.receive_text()
    assert await ws.receive_text() == "late"


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("receive_text", binary(b"x")),
        ("receive_text", {"type": "websocket.receive", "text": None, "bytes": b"x"}),
        ("receive_bytes", text("x")),
        ("receive_json", binary(b"{}")),
    ],
)
async def test_wrong_frame_type_is_a_clear_keyerror(method: str, message: dict[str, Any]) -> None:
    ws, _ = await accepted(message)
    with pytest.raises(WebSocketFrameTypeError) as info:
        await getattr(ws, method)()
    assert isinstance(info.value, KeyError) and isinstance(info.value, TypeError)
    assert "frame" in str(info.value) and not str(info.value).startswith("'")


async def test_receive_json_binary_mode_on_text_frame() -> None:
    ws, _ = await accepted(text("{}"))
    with pytest.raises(KeyError):
        await ws.receive_json(mode="binary")


async def test_invalid_json_is_a_valueerror_and_socket_stays_open() -> None:
    ws, _ = await accepted(text("{not json"), text("[1]"))
    with pytest.raises(json.JSONDecodeError):
        await ws.receive_json()
    assert await ws.receive_json() == [1]


async def test_illegal_message_while_connected() -> None:
    ws, _ = await accepted(CONNECT)
    with pytest.raises(RuntimeError, match="but got 'websocket.connect'"):
        await ws.receive_text()
    assert ws.client_state is S.CONNECTED


# --- iterators ---------------------------------------------------------------------------------


async def test_iterators_stop_on_disconnect() -> None:
    bye = {"type": "websocket.disconnect", "code": 1000}
    ws, _ = await accepted(text("a"), text("b"), bye)
    assert [m async for m in ws.iter_text()] == ["a", "b"]
    ws, _ = await accepted(binary(b"a"), bye)
    assert [m async for m in ws.iter_bytes()] == [b"a"]
    ws, _ = await accepted(text("1"), text('{"x":2}'), bye)
    assert [m async for m in ws.iter_json()] == [1, {"x": 2}]


async def test_iterators_propagate_other_errors() -> None:
    ws, _ = await accepted(text("a"), binary(b"b"))
    got: list[str] = []
    with pytest.raises(KeyError):
        async for message in ws.iter_text():
            got.append(message)
    assert got == ["a"]
    ws, _ = make_ws()
    with pytest.raises(WebSocketDisconnected):
        async for _ in ws.iter_bytes():
            pass


# --- send helpers ------------------------------------------------------------------------------


async def test_send_helpers_messages() -> None:
    ws, transport = await accepted()
    await ws.send_text("t")
    await ws.send_bytes(b"b")
    await ws.send_json({"test": "数据"})
    await ws.send_json({"a": [1, 2], "ü": None}, mode="binary")
    assert transport.sent[1:] == [
        {"type": "websocket.send", "text": "t"},
        {"type": "websocket.send", "bytes": b"b"},
        {"type": "websocket.send", "text": '{"test":"数据"}'},
        {"type": "websocket.send", "bytes": '{"a":[1,2],"ü":null}'.encode()},
    ]


@pytest.mark.parametrize("name", ["send_text", "send_bytes", "send_json"])
async def test_send_helpers_before_accept(name: str) -> None:
    ws, transport = make_ws(CONNECT)
    arg = {"send_text": "x", "send_bytes": b"x", "send_json": {}}[name]
    with pytest.raises(RuntimeError, match='"websocket.accept", "websocket.close"'):
        await getattr(ws, name)(arg)
    assert transport.sent == []


@pytest.mark.parametrize("name", ["send_text", "send_bytes", "send_json"])
async def test_send_helpers_after_close(name: str) -> None:
    ws, transport = await accepted()
    await ws.close()
    arg = {"send_text": "x", "send_bytes": b"x", "send_json": {}}[name]
    with pytest.raises(WebSocketDisconnected, match='Cannot call "send"'):
        await getattr(ws, name)(arg)
    assert len(transport.sent) == 2


async def test_send_json_unserialisable_raises_typeerror() -> None:
    ws, transport = await accepted()
    with pytest.raises(TypeError):
        await ws.send_json({"a": {1, 2}})
    assert len(transport.sent) == 1


# --- close ------------------------------------------------------------------------------------


async def test_close_messages_and_double_close() -> None:
    ws, transport = await accepted()
    await ws.close(1001, None)
    assert transport.sent[-1] == {"type": "websocket.close", "code": 1001, "reason": ""}
    with pytest.raises(WebSocketDisconnected):
        await ws.close()


async def test_close_before_connect_is_a_rejection() -> None:
    ws, transport = make_ws()
    await ws.close(code=1008, reason="policy")
    assert transport.received == 0 and ws.client_state is S.CONNECTING
    assert transport.sent == [{"type": "websocket.close", "code": 1008, "reason": "policy"}]


@pytest.mark.parametrize(
    ("reason", "error"),
    [("x" * 124, ValueError), ("é" * 62, ValueError), (["list"], TypeError), (b"bytes", TypeError)],
)
async def test_close_reason_is_checked_before_sending(reason: Any, error: type) -> None:
    ws, transport = await accepted()
    with pytest.raises(error):
        await ws.close(reason=reason)
    assert len(transport.sent) == 1 and ws.application_state is S.CONNECTED


@pytest.mark.parametrize("reason", ["x" * 123, "é" * 61 + "x", "", None, "🙂" * 30])
def test_close_reason_limits_accept(reason: str | None) -> None:
    assert check_close_reason(reason) == (reason or "")


# --- denial responses -------------------------------------------------------------------------


async def test_denial_response_plain() -> None:
    ws, transport = make_ws()
    await ws.send_denial_response(PlainTextResponse("nope", status_code=403))
    start, body = transport.sent
    assert start["type"] == "websocket.http.response.start" and start["status"] == 403
    assert (b"content-length", b"4") in start["headers"]
    assert body == {"type": "websocket.http.response.body", "body": b"nope"}
    assert ws.application_state is S.DISCONNECTED and ws.client_state is S.CONNECTING
    with pytest.raises(WebSocketDisconnected, match='Cannot call "send"'):
        await ws.send({"type": "websocket.close"})


async def test_denial_response_streaming() -> None:
    ws, transport = make_ws()
    await ws.send_denial_response(StreamingResponse(iter([b"a", "b"]), status_code=429))
    assert [(m["type"], m.get("body"), m.get("more_body")) for m in transport.sent] == [
        ("websocket.http.response.start", None, None),
        ("websocket.http.response.body", b"a", True),
        ("websocket.http.response.body", b"b", True),
        ("websocket.http.response.body", b"", False),
    ]


@pytest.mark.parametrize("extensions", [{}, None, {"other": {}}])
async def test_denial_needs_the_extension(extensions: Any) -> None:
    ws, transport = make_ws(extensions=extensions)
    with pytest.raises(RuntimeError, match="doesn't support the Websocket Denial Response"):
        await ws.send_denial_response(PlainTextResponse("x"))
    assert transport.sent == []


async def test_denial_after_accept_is_refused() -> None:
    ws, _ = await accepted()
    with pytest.raises(RuntimeError, match="but got 'websocket.http.response.start'"):
        await ws.send_denial_response(PlainTextResponse("x"))


# --- WebSocketClose, exceptions, construction --------------------------------------------------


async def test_websocket_close_app() -> None:
    transport = Transport()
    app = WebSocketClose(1013, None)
    await app(make_scope(), transport.receive, transport.send)
    assert transport.sent == [{"type": "websocket.close", "code": 1013, "reason": ""}]
    assert transport.received == 0


def test_disconnect_exception_args() -> None:
    positional = WebSocketDisconnect(1001, "x")
    assert positional.args == (1001, "x") and str(positional) == "(1001, 'x')"
    keywords = WebSocketDisconnect(code=1006)
    assert keywords.args == () and str(keywords) == "" and repr(keywords) == "WebSocketDisconnect()"
    default = WebSocketDisconnect()
    assert (default.code, default.reason) == (1000, "")
    assert not issubclass(WebSocketDisconnect, RuntimeError)
    assert issubclass(WebSocketDisconnected, RuntimeError)


def test_construction_does_no_io_and_checks_scope() -> None:
    ws, transport = make_ws()
    assert ws.client_state is S.CONNECTING and ws.application_state is S.CONNECTING
    assert transport.received == 0 and transport.sent == []
    assert not hasattr(ws, "__dict__")
    with pytest.raises(AssertionError):
        WebSocket({"type": "http"}, transport.receive, transport.send)
    with pytest.raises(AssertionError):
        WebSocket({"type": "lifespan"}, transport.receive, transport.send)


def test_identity_equality_and_generic_subscript() -> None:
    first, _ = make_ws()
    second = WebSocket(first.scope, first._receive, first._send)
    assert first != second and len({first, second}) == 2
    assert WebSocket[Any] is WebSocket
    assert first.url == "ws://testserver/ws"


# --- the documented example (docs/websockets.md) -----------------------------------------------


async def test_docs_example_echo_and_denial() -> None:
    from docs.examples.websockets_echo import app

    transport = Transport(
        [CONNECT, text('{"a":1}'), {"type": "websocket.disconnect", "code": 1000}]
    )
    await app(make_scope(query_string=b"token=secret"), transport.receive, transport.send)
    assert transport.sent[1] == {"type": "websocket.send", "text": '{"echo":{"a":1}}'}

    transport = Transport([CONNECT, text("not json")])
    await app(make_scope(query_string=b"token=secret"), transport.receive, transport.send)
    assert transport.sent[-1] == {"type": "websocket.close", "code": 1003, "reason": "JSON only"}

    transport = Transport([CONNECT])
    await app(make_scope(), transport.receive, transport.send)
    assert transport.sent[0]["status"] == 403

    transport = Transport([CONNECT])
    await app(make_scope(extensions={}), transport.receive, transport.send)
    assert transport.sent == [{"type": "websocket.close", "code": 1008, "reason": "bad token"}]

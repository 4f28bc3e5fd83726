"""Property test: random ASGI traffic and random calls through ``WebSocket``.

A model replays the raw traffic the fake server saw through the transition tables and must
agree with the socket's own states after every call; only documented exceptions may escape;
no illegal message ever reaches the server. The fakes never suspend, so each coroutine is
driven by hand: no event loop is involved (the state machine is I/O-free).
"""

from __future__ import annotations

import json
from collections.abc import Coroutine
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tether.responses import PlainTextResponse
from tether.websockets import (
    CONTINUED_BY_MORE_BODY,
    RECEIVE_TRANSITIONS,
    SEND_TRANSITIONS,
    WebSocket,
    WebSocketDisconnect,
    WebSocketDisconnected,
    WebSocketFrameTypeError,
    WebSocketState,
)

S = WebSocketState


class OutOfMessages(Exception):
    """The scripted server has nothing more to deliver: the example ends here."""


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the WebSocket suspended although the fakes never do")


incoming_messages = st.one_of(
    st.just({"type": "websocket.connect"}),
    st.builds(
        lambda t: {"type": "websocket.receive", "text": t}, st.sampled_from(["a", "[1]", "{"])
    ),
    st.builds(lambda b: {"type": "websocket.receive", "bytes": b}, st.sampled_from([b"x", b"{}"])),
    st.just({"type": "websocket.receive", "text": None, "bytes": b"1"}),
    st.builds(
        lambda c, r: {"type": "websocket.disconnect", **c, **r},
        st.sampled_from([{}, {"code": 1000}, {"code": 1001}]),
        st.sampled_from([{}, {"reason": None}, {"reason": "bye"}]),
    ),
    st.sampled_from([{"type": "websocket.http.response.start"}, {"type": "bogus"}]),
)

raw_send_types = st.sampled_from(
    [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
        "websocket.http.response.start",
        "websocket.http.response.body",
        "bogus",
    ]
)

calls = st.one_of(
    st.sampled_from(
        [
            ("receive",),
            ("accept",),
            ("receive_text",),
            ("receive_bytes",),
            ("receive_json", "text"),
            ("receive_json", "binary"),
            ("receive_json", "bad"),
            ("send_text",),
            ("send_bytes",),
            ("send_json", "text"),
            ("send_json", "binary"),
            ("send_json", "bad"),
            ("close", None),
            ("close", "x" * 200),
            ("denial",),
        ]
    ),
    st.tuples(st.just("send"), raw_send_types, st.booleans()),
)

ALLOWED = (
    WebSocketDisconnect,
    WebSocketDisconnected,
    WebSocketFrameTypeError,
    RuntimeError,
    json.JSONDecodeError,
    ValueError,  # an over-long close reason
    OSError,  # raw, only outside CONNECTED (checked below)
)


class Server:
    def __init__(self, incoming: list[dict[str, Any]], failures: list[bool]) -> None:
        self.incoming = incoming
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.sent: list[tuple[dict[str, Any], bool]] = []  # (message, raised OSError)

    async def receive(self) -> dict[str, Any]:
        if not self.incoming:
            raise OutOfMessages
        message = self.incoming.pop(0)
        self.received.append(message)
        return message

    async def send(self, message: dict[str, Any]) -> None:
        fail = bool(self.failures) and self.failures.pop(0)
        self.sent.append((message, fail))
        if fail:
            raise ConnectionResetError("client went away")


def invoke(ws: WebSocket, call: tuple[Any, ...]) -> Coroutine[Any, Any, Any]:
    name = call[0]
    if name == "send":
        message: dict[str, Any] = {"type": call[1], "status": 403}
        if call[2]:
            message["more_body"] = True
        return ws.send(message)
    if name == "denial":
        return ws.send_denial_response(PlainTextResponse("no", status_code=403))
    if name in ("receive_json", "send_json") and call[1] != "text":
        arg = () if name == "receive_json" else ({"k": 1},)
        return getattr(ws, name)(*arg, mode=call[1])  # type: ignore[no-any-return]
    if name == "close":
        return ws.close(reason=call[1])
    args = {"send_text": ("t",), "send_bytes": (b"b",), "send_json": ([1],)}.get(name, ())
    return getattr(ws, name)(*args)  # type: ignore[no-any-return]


class Model:
    """The states implied by the raw traffic, computed from the tables alone."""

    def __init__(self) -> None:
        self.client = S.CONNECTING
        self.app = S.CONNECTING

    def on_received(self, message: dict[str, Any], error: BaseException | None) -> None:
        new = RECEIVE_TRANSITIONS.get((self.client, message.get("type")))
        if new is None:
            assert type(error) is RuntimeError, (message, error)
        else:
            self.client = new

    def on_sent(self, message: dict[str, Any], failed: bool, error: BaseException | None) -> None:
        kind = message["type"]
        new = SEND_TRANSITIONS.get((self.app, kind))
        assert new is not None, f"illegal {kind!r} reached the server in {self.app}"
        before = self.app
        if not (message.get("more_body") and kind in CONTINUED_BY_MORE_BODY):
            self.app = new
        if failed and before is S.CONNECTED:
            assert isinstance(error, WebSocketDisconnect) and error.code == 1006
            self.app = S.DISCONNECTED
        elif failed:
            assert type(error) is ConnectionResetError


@settings(max_examples=400, deadline=None)
@given(
    incoming=st.lists(incoming_messages, max_size=12),
    script=st.lists(calls, max_size=14),
    failures=st.lists(st.booleans(), max_size=10),
    start_connected=st.booleans(),
)
def test_random_traffic_keeps_states_legal(
    incoming: list[dict[str, Any]],
    script: list[tuple[Any, ...]],
    failures: list[bool],
    start_connected: bool,
) -> None:
    if start_connected:
        incoming = [{"type": "websocket.connect"}, *incoming]
        script = [("accept",), *script]
    server = Server(list(incoming), [False] * start_connected + list(failures))
    scope = {
        "type": "websocket",
        "path": "/",
        "headers": [],
        "extensions": {"websocket.http.response": {}},
    }
    ws = WebSocket(scope, server.receive, server.send)
    model = Model()
    for call in script:
        seen_received, seen_sent = len(server.received), len(server.sent)
        error: BaseException | None = None
        try:
            drive(invoke(ws, call))
        except OutOfMessages:
            return
        except ALLOWED as exc:
            error = exc
        except BaseException as exc:  # pragma: no cover - the property failing
            raise AssertionError(f"undocumented {exc!r} from {call}") from exc
        for message in server.received[seen_received:]:
            model.on_received(message, error)
        for message, failed in server.sent[seen_sent:]:
            model.on_sent(message, failed, error)
        assert (ws.client_state, ws.application_state) == (model.client, model.app), call
        if isinstance(error, OSError):
            assert not isinstance(error, WebSocketDisconnect)

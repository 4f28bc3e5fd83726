"""The WebSocket connection: an ASGI state machine with a friendly API on top.

Two independent state machines (ASGI WebSocket spec; Starlette's ``WebSocket`` contract):

* ``client_state`` follows what the server delivered; only :meth:`WebSocket.receive` moves it.
* ``application_state`` follows what the application sent; only :meth:`WebSocket.send`
  moves it.

The legal moves of both are the data in :data:`RECEIVE_TRANSITIONS` and
:data:`SEND_TRANSITIONS`. The pure functions :func:`next_receive_state` and
:func:`next_send_state` read those tables and raise every misuse error; they do no I/O, so
the machine can be tested exhaustively without an event loop. The async methods only await
the server's ``receive``/``send`` around them. The hot paths (``receive_text``,
``send_text``, ...) short-cut the table for the one transition that happens on every frame,
``(CONNECTED, websocket.receive|send) -> CONNECTED``; tests check the short-cut agrees with
the table.

Error tree of this module (outside :class:`tether.exceptions.TetherError` by contract)::

    Exception
    ├── WebSocketDisconnect           the client went away (code, reason)
    ├── RuntimeError                  a message or call not allowed in the current state
    │   └── WebSocketDisconnected     the socket is finished; no more receive/send
    └── KeyError, TypeError
        └── WebSocketFrameTypeError   receive_text() got binary data, or the reverse
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from tether import _json
from tether.exceptions import WebSocketDisconnect
from tether.messages import wire as _wire
from tether.requests import HTTPConnection
from tether.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from typing import Protocol

    from tether.types import ASGIApp

    class MessageLimiter(Protocol):
        """What :mod:`tether.runtime.limits_inline` attaches to a WebSocket."""

        async def over_limit(self, websocket: WebSocket, message: Message) -> Message: ...


__all__ = [
    "RECEIVE_TRANSITIONS",
    "SEND_TRANSITIONS",
    "WebSocket",
    "WebSocketClose",
    "WebSocketDisconnect",
    "WebSocketDisconnected",
    "WebSocketFrameTypeError",
    "WebSocketState",
    "check_close_reason",
    "next_receive_state",
    "next_send_state",
]


class WebSocketState(enum.Enum):
    """Where one side of a WebSocket stands.

    ``RESPONSE`` exists on the application side only: a denial HTTP response is being sent
    (ASGI WebSocket Denial Response extension).
    """

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3

    # Members are singletons, so identity hashing agrees with equality; Enum's own __hash__
    # (hash of the name) is Python code run on every table lookup.
    __hash__ = object.__hash__


class WebSocketDisconnected(RuntimeError):
    """The WebSocket is finished on this side: nothing more can be received or sent."""


class WebSocketFrameTypeError(KeyError, TypeError):
    """``receive_text()`` got a binary frame, or ``receive_bytes()`` a text frame.

    A ``KeyError`` for code written against the peer (which raises ``KeyError('text')``), and
    a ``TypeError`` because that is what it is.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_raw_loads: Final = _json.raw_loads
_dumps: Final = _json.dumps

_CONNECTING: Final = WebSocketState.CONNECTING
_CONNECTED: Final = WebSocketState.CONNECTED
_DISCONNECTED: Final = WebSocketState.DISCONNECTED
_RESPONSE: Final = WebSocketState.RESPONSE

RECEIVE_TRANSITIONS: Final[Mapping[tuple[WebSocketState, str], WebSocketState]] = MappingProxyType(
    {
        (_CONNECTING, "websocket.connect"): _CONNECTED,
        (_CONNECTED, "websocket.receive"): _CONNECTED,
        (_CONNECTED, "websocket.disconnect"): _DISCONNECTED,
    }
)
"""``(client_state, received message type) -> next client_state``; anything else is misuse."""

SEND_TRANSITIONS: Final[Mapping[tuple[WebSocketState, str], WebSocketState]] = MappingProxyType(
    {
        (_CONNECTING, "websocket.accept"): _CONNECTED,
        (_CONNECTING, "websocket.close"): _DISCONNECTED,
        (_CONNECTING, "websocket.http.response.start"): _RESPONSE,
        (_CONNECTED, "websocket.send"): _CONNECTED,
        (_CONNECTED, "websocket.close"): _DISCONNECTED,
        (_RESPONSE, "websocket.http.response.body"): _DISCONNECTED,
    }
)
"""``(application_state, sent message type) -> next application_state``.

A ``websocket.http.response.body`` with ``more_body`` true keeps the state (see
:data:`CONTINUED_BY_MORE_BODY`).
"""

CONTINUED_BY_MORE_BODY: Final = frozenset({"websocket.http.response.body"})
"""Message types that leave the state unchanged when they carry ``more_body=True``."""

_RECEIVE_FINISHED = 'Cannot call "receive" once a disconnect message has been received.'
_SEND_FINISHED = 'Cannot call "send" once a close message has been sent.'
_NOT_CONNECTED = 'WebSocket is not connected. Need to call "accept" first.'
_BAD_MODE = 'The "mode" argument should be "text" or "binary".'
_NO_DENIAL = "The server doesn't support the Websocket Denial Response extension."
_MAX_REASON_BYTES = 123  # RFC 6455 section 5.5: control frame payload <= 125, minus the code
# Both below 2**30: CPython 3.11 specialises -= and < only for one-digit ints. A socket that
# takes a billion frames with no limiter just goes through _over_limit once, which refills.
_NO_LIMIT: Final = (1 << 30) - 1
_NO_CAP: Final = (1 << 30) - 1


def _allowed(
    table: Mapping[tuple[WebSocketState, str], WebSocketState],
) -> dict[WebSocketState, tuple[str, ...]]:
    return {
        state: tuple(kind for (origin, kind) in table if origin is state)
        for state in WebSocketState
    }


_RECEIVE_ALLOWED: Final = _allowed(RECEIVE_TRANSITIONS)
_SEND_ALLOWED: Final = _allowed(SEND_TRANSITIONS)


def _moves(
    table: Mapping[tuple[WebSocketState, str], WebSocketState],
) -> dict[WebSocketState, dict[Any, WebSocketState]]:
    # The tables re-keyed per state: one dict lookup by message type (any object: a bad
    # message may carry anything), no tuple to build.
    return {
        state: {kind: new for (origin, kind), new in table.items() if origin is state}
        for state in WebSocketState
    }


_RECEIVE_MOVES: Final = _moves(RECEIVE_TRANSITIONS)
_SEND_MOVES: Final = _moves(SEND_TRANSITIONS)
# The moves of every connection's life, looked up once here (still read from the tables).
_CONNECTING_RECEIVE: Final = _RECEIVE_MOVES[_CONNECTING]
_CONNECTED_RECEIVE: Final = _RECEIVE_MOVES[_CONNECTED]
_ACCEPTED: Final = SEND_TRANSITIONS[(_CONNECTING, "websocket.accept")]
_CLIENT_LEFT: Final = RECEIVE_TRANSITIONS[(_CONNECTED, "websocket.disconnect")]


def _unexpected(allowed: tuple[str, ...], got: object) -> RuntimeError:
    quoted = [f'"{kind}"' for kind in allowed]
    expected = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return RuntimeError(f"Expected ASGI message {expected}, but got {got!r}")


def check_can_receive(state: WebSocketState) -> None:
    """Raise before any I/O when ``receive()`` cannot run in client ``state``.

    Raises:
        WebSocketDisconnected: no message may be received in ``state`` (a disconnect came).
    """
    if not _RECEIVE_ALLOWED[state]:
        raise WebSocketDisconnected(_RECEIVE_FINISHED)


def next_receive_state(state: WebSocketState, message_type: object) -> WebSocketState:
    """The client state after receiving a message of ``message_type`` in ``state``.

    Raises:
        WebSocketDisconnected: nothing may be received in ``state``.
        RuntimeError: ``message_type`` is not legal in ``state``.
    """
    new_state = _RECEIVE_MOVES[state].get(message_type)
    if new_state is not None:
        return new_state
    check_can_receive(state)
    raise _unexpected(_RECEIVE_ALLOWED[state], message_type)


def next_send_state(
    state: WebSocketState, message_type: object, more_body: object = False
) -> WebSocketState:
    """The application state after sending a message of ``message_type`` in ``state``.

    Raises:
        WebSocketDisconnected: nothing may be sent in ``state`` (closed, or denial finished).
        RuntimeError: ``message_type`` is not legal in ``state``.
    """
    new_state = _SEND_MOVES[state].get(message_type)
    if new_state is not None:
        if more_body and message_type in CONTINUED_BY_MORE_BODY:
            return state
        return new_state
    if not _SEND_ALLOWED[state]:
        raise WebSocketDisconnected(_SEND_FINISHED)
    raise _unexpected(_SEND_ALLOWED[state], message_type)


def check_close_reason(reason: object) -> str:
    """Return ``reason`` as the string a close frame can carry.

    Raises:
        TypeError: ``reason`` is neither a ``str`` nor None.
        ValueError: ``reason`` is longer than 123 bytes in UTF-8 (RFC 6455 section 5.5).
    """
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise TypeError(f"a close reason must be a str or None, not {type(reason).__name__}")
    if len(reason) > _MAX_REASON_BYTES // 4 and len(reason.encode()) > _MAX_REASON_BYTES:
        raise ValueError(
            f"a close reason may hold at most {_MAX_REASON_BYTES} bytes of UTF-8 "
            f"(RFC 6455 section 5.5), this one has {len(reason.encode())}"
        )
    return reason


def _connected_receive(message: Message) -> WebSocketState:
    """The client state after ``message``, received while CONNECTED (its type is a str)."""
    new_state = _CONNECTED_RECEIVE.get(message["type"])
    return next_receive_state(_CONNECTED, message["type"]) if new_state is None else new_state


def _disconnect_from(message: Message) -> WebSocketDisconnect:
    # A server that omits the code reports "no status received" (RFC 6455 section 7.1.5).
    return WebSocketDisconnect(message.get("code", 1005), message.get("reason"))


def _frame_error(method: str, wanted: str, message: Message) -> WebSocketFrameTypeError:
    if message.get("type") == "websocket.receive":
        got = "a binary frame" if wanted == "text" else "a text frame"
        other = "receive_bytes()" if wanted == "text" else "receive_text()"
        hint = f"; use {other} or receive() for it"
    else:
        got, hint = f"the message {message.get('type')!r}", ""
    return WebSocketFrameTypeError(f"{method} expected a {wanted} frame, but got {got}{hint}")


def _over_cap(websocket: WebSocket, message: Message) -> bool:
    """Whether a frame may be over the limiter's size cap (text: 4 UTF-8 bytes per character)."""
    text = message.get("text")
    if text is not None:
        return len(text) > websocket._text_cap
    return len(message.get("bytes") or b"") > websocket._bytes_cap


def _payload(message: Message, method: str, key: str) -> Any:
    """The ``text``/``bytes`` of a received message, or the matching exception."""
    if message.get("type") == "websocket.disconnect":
        raise _disconnect_from(message)
    value = message.get(key)
    if value is None:
        raise _frame_error(method, "text" if key == "text" else "binary", message)
    return value


class WebSocket(HTTPConnection):
    """One WebSocket connection (ASGI scope ``type == "websocket"``).

    ``WebSocket(scope, receive, send)`` does no I/O. ``client_state`` and
    ``application_state`` are plain attributes (tests may set them).

    Raises:
        AssertionError: the scope is not a WebSocket scope.
    """

    __slots__ = (
        "_receive",
        "_send",
        "client_state",
        "application_state",
        "_budget",
        "_text_cap",
        "_bytes_cap",
        "_limiter",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # HTTPConnection.__init__ inlined (one is built per connection): the scope and its
        # empty caches; tests check every slot of the base class is set here too.
        assert scope["type"] == "websocket"
        self.scope = scope
        self._url = self._base_url = None
        self._headers = self._query_params = self._cookies = self._state = None
        self._receive = receive
        self._send = send
        self.client_state = self.application_state = _CONNECTING
        # Inline limits (see MessageLimiter): a frame that takes the budget below zero or is
        # over a cap goes to the limiter; without one, neither can happen.
        self._budget = _NO_LIMIT
        self._text_cap = self._bytes_cap = _NO_CAP
        self._limiter: MessageLimiter | None = None

    async def receive(self) -> Message:
        """Await the next ASGI message from the server, checked against the client state.

        Raises:
            WebSocketDisconnected: a disconnect was already received (nothing is awaited).
            RuntimeError: the server sent a message type that is illegal now (consumed).
        """
        state = self.client_state
        receive = self._receive  # a local call specialises (see receive_text)
        if state is _CONNECTED:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                self._budget -= 1
                if not (self._budget < 0 or _over_cap(self, message)):
                    return message
                try:
                    message = await self._over_limit(message)
                except WebSocketDisconnect as closed:  # receive() reports it as a message
                    message = {"type": "websocket.disconnect", "code": closed.code}
                    message["reason"] = closed.reason or ""
                    self.client_state = _CLIENT_LEFT
                    return message
                kind = message["type"]
                if kind == "websocket.receive":
                    return message
            moves = _CONNECTED_RECEIVE
        else:
            moves = _RECEIVE_MOVES[state]
            if not moves:
                raise WebSocketDisconnected(_RECEIVE_FINISHED)
            message = await receive()
            kind = message.get("type")
        new_state = moves.get(kind)
        if new_state is None:  # the table's error for this state and type
            new_state = next_receive_state(state, kind)
        self.client_state = new_state
        return message

    async def send(self, message: Message) -> None:
        """Send one ASGI message, checked against the application state.

        The state moves before the server's ``send`` is awaited. After accept, an ``OSError``
        from the server (the client is gone) becomes ``WebSocketDisconnect(code=1006)``.

        Raises:
            WebSocketDisconnected: the socket was closed or a denial response finished.
            RuntimeError: the message type is illegal in the current state.
            WebSocketDisconnect: code 1006, the connection broke while sending.
        """
        state = self.application_state
        kind = message.get("type")
        if state is not _CONNECTED or kind != "websocket.send":  # that move keeps the state
            new_state = _SEND_MOVES[state].get(kind)
            if new_state is None:  # the table's error for this state and type
                new_state = next_send_state(state, kind)
            elif kind in CONTINUED_BY_MORE_BODY and message.get("more_body", False):
                new_state = state
            self.application_state = new_state
            if state is not _CONNECTED:
                await self._send(message)
                return
        send = self._send
        try:
            await send(message)
        except OSError as exc:
            raise self._broken() from exc

    def _broken(self) -> WebSocketDisconnect:
        """Record that a send after accept failed: the transport is gone (code 1006)."""
        self.application_state = _DISCONNECTED
        return WebSocketDisconnect(code=1006)

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Accept the handshake, first consuming ``websocket.connect`` if nobody did.

        Raises:
            RuntimeError: already accepted or closed (the state machine's errors).
        """
        if self.client_state is _CONNECTING:
            receive = self._receive  # inlined receive(): the connect message
            message = await receive()
            kind = message.get("type")
            new_state = _CONNECTING_RECEIVE.get(kind)
            self.client_state = (
                next_receive_state(_CONNECTING, kind) if new_state is None else new_state
            )
        message = {"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers or []}
        if self.application_state is not _CONNECTING:
            await self.send(message)  # the table's error (already accepted or closed)
            return
        self.application_state = _ACCEPTED
        send = self._send
        await send(message)

    async def receive_text(self) -> str:
        """Await the next text frame.

        Raises:
            WebSocketDisconnected: the app has not accepted, or already closed/denied.
            WebSocketDisconnect: the client disconnected (its code and reason).
            WebSocketFrameTypeError: the frame was binary.
        """
        if self.application_state is _CONNECTED and self.client_state is _CONNECTED:
            # Inlined receive(): one coroutine frame per frame received. `self._receive()`
            # would be an unspecialisable method load on 3.11; a local call is not.
            receive = self._receive
            message = await receive()
            if message["type"] == "websocket.receive":
                try:  # zero-cost on 3.11 when the key is there (the common case)
                    text = message["text"]
                except KeyError:
                    text = None
                if text is not None:
                    self._budget -= 1
                    if self._budget < 0 or len(text) > self._text_cap:
                        message = self._settle(await self._over_limit(message))
                        return _payload(message, "receive_text()", "text")  # type: ignore[no-any-return]
                    return text  # type: ignore[no-any-return]
                message = await self._check_other(message)  # the wrong frame type
            elif message["type"] == "websocket.disconnect":  # every connection's last frame
                self.client_state = _CLIENT_LEFT
                raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))
            else:
                self.client_state = _connected_receive(message)
            return _payload(message, "receive_text()", "text")  # type: ignore[no-any-return]
        return await self._receive_payload("receive_text()", "text")  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        """Await the next binary frame.

        Raises:
            WebSocketDisconnected: the app has not accepted, or already closed/denied.
            WebSocketDisconnect: the client disconnected (its code and reason).
            WebSocketFrameTypeError: the frame was text.
        """
        if self.application_state is _CONNECTED and self.client_state is _CONNECTED:
            receive = self._receive  # the fast path of receive_text, for binary frames
            message = await receive()
            if message["type"] == "websocket.receive":
                try:
                    data = message["bytes"]
                except KeyError:
                    data = None
                if data is not None:
                    self._budget -= 1
                    if self._budget < 0 or len(data) > self._bytes_cap:
                        message = self._settle(await self._over_limit(message))
                        return _payload(message, "receive_bytes()", "bytes")  # type: ignore[no-any-return]
                    return data  # type: ignore[no-any-return]
                message = await self._check_other(message)  # the wrong frame type
            elif message["type"] == "websocket.disconnect":
                self.client_state = _CLIENT_LEFT
                raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))
            else:
                self.client_state = _connected_receive(message)
            return _payload(message, "receive_bytes()", "bytes")  # type: ignore[no-any-return]
        return await self._receive_payload("receive_bytes()", "bytes")  # type: ignore[no-any-return]

    async def _over_limit(self, message: Message) -> Message:
        """A frame the inline budget flagged: the message to go on with.

        That is ``message`` itself when the limiter lets it through, or the next message
        from the server after the limiter dropped it (rate limit in "error" mode). Raises
        ``WebSocketDisconnect`` when the limiter closed the connection (1009, 1008).
        """
        limiter = self._limiter
        if limiter is None:  # budget and caps only run out with a limiter attached
            self._budget = _NO_LIMIT
            return message
        return await limiter.over_limit(self, message)

    async def _check_other(self, message: Message) -> Message:
        """The limits for a frame of the other type than asked for (refused after this)."""
        self._budget -= 1
        if self._budget < 0 or _over_cap(self, message):
            return self._settle(await self._over_limit(message))
        return message

    def _settle(self, message: Message) -> Message:
        """Move the client state for a message the limiter returned; raise on a disconnect."""
        kind = message["type"]
        if kind == "websocket.disconnect":
            self.client_state = _CLIENT_LEFT
            raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))
        if kind != "websocket.receive":
            self.client_state = _connected_receive(message)
        return message

    async def _receive_payload(self, method: str, key: str) -> Any:
        """The slow path of the ``receive_*`` helpers: any state but both CONNECTED."""
        if self.application_state is not _CONNECTED:
            raise WebSocketDisconnected(_NOT_CONNECTED)
        return _payload(await self.receive(), method, key)

    async def receive_json(self, mode: str = "text") -> Any:
        """Await the next frame and parse it as JSON (``mode`` "text" or "binary" frame).

        Raises:
            RuntimeError: ``mode`` is neither "text" nor "binary" (checked first).
            WebSocketDisconnected, WebSocketDisconnect, WebSocketFrameTypeError: as
                :meth:`receive_text`.
            ValueError: the frame is not JSON (``json.JSONDecodeError``); the socket stays open.
        """
        if mode == "text":
            key = "text"
        elif mode == "binary":
            key = "bytes"
        else:
            raise RuntimeError(_BAD_MODE)
        if self.application_state is _CONNECTED and self.client_state is _CONNECTED:
            receive = self._receive  # the fast path of receive_text
            message = await receive()
            if message["type"] == "websocket.receive":
                try:
                    data = message[key]
                except KeyError:
                    data = None
                if data is not None:
                    self._budget -= 1  # text_cap for bytes too: stricter, the limiter decides
                    if self._budget < 0 or len(data) > self._text_cap:
                        message = self._settle(await self._over_limit(message))
                        return _json.loads(_payload(message, "receive_json()", key))
                    try:
                        return _raw_loads(data)
                    except ValueError:  # let the stdlib try (NaN literals...) or explain
                        return _json.loads(data)
                message = await self._check_other(message)  # the wrong frame type
            elif message["type"] == "websocket.disconnect":
                self.client_state = _CLIENT_LEFT
                raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))
            else:
                self.client_state = _connected_receive(message)
            return _json.loads(_payload(message, "receive_json()", key))
        return _json.loads(await self._receive_payload("receive_json()", key))

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text frames until the client disconnects (other errors propagate)."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield binary frames until the client disconnects (other errors propagate)."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        """Yield JSON text frames, parsed, until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def send_text(self, data: str) -> None:
        """Send a text frame.

        Raises:
            RuntimeError: not accepted yet (or the state machine's other errors).
            WebSocketDisconnected: already closed.
            WebSocketDisconnect: code 1006, the connection broke while sending.
        """
        if self.application_state is _CONNECTED:
            # Inlined send() for the one legal move that keeps the state (CONNECTED, send).
            send = self._send
            try:
                await send({"type": "websocket.send", "text": data})
            except OSError as exc:
                raise self._broken() from exc
        else:
            await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame (errors as :meth:`send_text`)."""
        if self.application_state is _CONNECTED:
            send = self._send  # the fast path of send_text
            try:
                await send({"type": "websocket.send", "bytes": data})
            except OSError as exc:
                raise self._broken() from exc
        else:
            await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        """Send ``data`` as compact JSON (non-ASCII kept) in a text or binary frame.

        Raises:
            RuntimeError: ``mode`` is neither "text" nor "binary" (checked first).
            TypeError: ``data`` is not JSON-serialisable.
            RuntimeError, WebSocketDisconnected, WebSocketDisconnect: as :meth:`send_text`.
        """
        if mode == "text":
            message: Message = {"type": "websocket.send", "text": _dumps(data)}
        elif mode == "binary":
            message = {"type": "websocket.send", "bytes": _json.dumps_bytes(data)}
        else:
            raise RuntimeError(_BAD_MODE)
        if self.application_state is _CONNECTED:
            send = self._send  # the fast path of send_text
            try:
                await send(message)
            except OSError as exc:
                raise self._broken() from exc
        else:
            await self.send(message)

    # Typed messages (see tether.messages): the functions themselves are the methods, so a
    # typed round trip pays no extra frame; ``ws.receive_model(Model)`` is
    # ``receive_model(ws, Model)``. Decoders load pydantic/msgspec only when first used.
    receive_model = _wire.receive_model
    iter_model = _wire.iter_model
    send_model = _wire.send_model

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection, or reject the handshake when called before accept.

        Raises:
            TypeError: ``reason`` is not a str (checked before anything is sent).
            ValueError: ``reason`` is over 123 UTF-8 bytes (checked before anything is sent).
            WebSocketDisconnected: already closed.
            WebSocketDisconnect: code 1006, the connection broke while closing.
        """
        reason = check_close_reason(reason)
        await self.send({"type": "websocket.close", "code": code, "reason": reason})

    async def send_denial_response(self, response: ASGIApp) -> None:
        """Refuse the handshake with an HTTP response (ASGI Denial Response extension).

        ``response`` is any ASGI app, typically a :class:`tether.responses.Response`; it is
        given this socket's checked ``receive``/``send``.

        Raises:
            RuntimeError: the server does not advertise the extension, or the socket was
                already accepted.
        """
        if "websocket.http.response" not in (self.scope.get("extensions") or {}):
            raise RuntimeError(_NO_DENIAL)
        await response(self.scope, self.receive, self.send)


class WebSocketClose:
    """An ASGI app that closes the WebSocket with ``code`` and ``reason`` (raw send, no checks).

    Used where no endpoint exists (no route matched): before accept it rejects the handshake.
    """

    __slots__ = ("code", "reason")

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": self.code, "reason": self.reason})

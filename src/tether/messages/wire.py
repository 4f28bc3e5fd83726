"""Receive and send typed messages on a WebSocket.

These are plain functions over any object with the WebSocket methods ``receive``,
``send_text``, ``send_bytes`` and ``close`` (:class:`~tether.messages.policy.MessageSocket`), so
:class:`tether.websockets.WebSocket` can expose them as methods by delegation.

Text and binary frames are both accepted as JSON (binary as UTF-8).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine
from typing import Any, Literal, TypeVar, overload

from tether.exceptions import WebSocketDisconnect
from tether.messages.adapters import ADAPTERS, adapter_for
from tether.messages.errors import MessageValidationError
from tether.messages.policy import InvalidMessagePolicy, MessageSocket, handle_invalid

__all__ = ["iter_model", "receive_frame", "receive_model", "send_model"]

T = TypeVar("T")

DEFAULT_POLICY = InvalidMessagePolicy.ERROR_REPLY


async def receive_frame(websocket: MessageSocket) -> str | bytes:
    """Return the payload of the next data frame.

    Raises :class:`tether.websockets.WebSocketDisconnect` when the client has gone.
    """
    message = await websocket.receive()
    text: str | None = message.get("text")
    return _binary_payload(message) if text is None else text


def _binary_payload(message: Any) -> bytes:
    """The bytes of a received message without text; a disconnect raises."""
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    data: bytes = message.get("bytes") or b""
    return data


async def _answer_invalid(
    websocket: MessageSocket, error: MessageValidationError, policy: InvalidMessagePolicy
) -> None:
    """Apply ``policy``; raise ``WebSocketDisconnect`` if it closed the socket."""
    code = await handle_invalid(websocket, error, policy)
    if code is not None:
        raise WebSocketDisconnect(code, "invalid message")


@overload
async def receive_model(
    websocket: MessageSocket, model: type[T], *, policy: InvalidMessagePolicy = ...
) -> T: ...
@overload
async def receive_model(
    websocket: MessageSocket, model: Any, *, policy: InvalidMessagePolicy = ...
) -> Any: ...
async def receive_model(
    websocket: MessageSocket, model: Any, *, policy: InvalidMessagePolicy = DEFAULT_POLICY
) -> Any:
    """Receive the next frame that is a valid ``model`` and return it decoded.

    An invalid frame gets ``policy``: under ``ERROR_REPLY`` (the default) an error frame goes
    back and the next frame is read; under a close policy the socket is closed with its code and
    :class:`~tether.websockets.WebSocketDisconnect` is raised (the connection is over, as when
    the client leaves); under ``RAISE`` :class:`MessageValidationError` is raised.

    ``model`` may be a pydantic model, msgspec ``Struct``, dataclass, ``TypedDict`` or a tagged
    union of them (see :mod:`tether.messages.adapters`).
    """
    try:
        adapter = ADAPTERS[model]
    except (KeyError, TypeError):  # first use, or an unhashable type expression
        adapter = adapter_for(model)
    while True:
        # receive_frame() inlined: one coroutine frame less per message.
        message = await websocket.receive()
        try:
            frame = message["text"]
        except KeyError:  # zero-cost on 3.11 when the key is there
            frame = None
        if frame is None:
            frame = _binary_payload(message)
        try:
            return adapter.parse(frame)
        except Exception as exc:
            error = adapter.failure(exc)
            if error is None:
                raise
        await _answer_invalid(websocket, error, policy)


@overload
def iter_model(
    websocket: MessageSocket, model: type[T], *, policy: InvalidMessagePolicy = ...
) -> AsyncIterator[T]: ...
@overload
def iter_model(
    websocket: MessageSocket, model: Any, *, policy: InvalidMessagePolicy = ...
) -> AsyncIterator[Any]: ...
async def iter_model(
    websocket: MessageSocket, model: Any, *, policy: InvalidMessagePolicy = DEFAULT_POLICY
) -> AsyncIterator[Any]:
    """Yield every valid ``model`` message until the client disconnects.

    Ends quietly when the client leaves or when a close policy closed the socket; invalid
    frames get ``policy`` as in :func:`receive_model`.
    """
    try:
        adapter = ADAPTERS[model]
    except (KeyError, TypeError):
        adapter = adapter_for(model)
    while True:
        message = await websocket.receive()
        try:
            frame = message["text"]
        except KeyError:
            frame = None
        if frame is None:
            if message["type"] == "websocket.disconnect":
                return
            frame = message.get("bytes") or b""
        try:
            decoded = adapter.parse(frame)
        except Exception as exc:
            error = adapter.failure(exc)
            if error is None:
                raise
            if await handle_invalid(websocket, error, policy) is not None:
                return
            continue
        yield decoded


def send_model(
    websocket: MessageSocket,
    message: Any,
    *,
    model: Any = None,
    mode: Literal["text", "binary"] = "text",
) -> Coroutine[Any, Any, None]:
    """Encode ``message`` once, as compact JSON, and send it as one frame: ``await`` the result.

    ``model`` is the declared type to encode with (default: the message's own class); ``mode``
    chooses a text frame (default) or a binary frame of UTF-8 JSON.
    Raises ``ValueError`` for another ``mode``.

    A plain function that encodes now and returns the socket's send coroutine, so awaiting it
    runs one coroutine frame, not two. Encoding errors and a bad ``mode`` therefore raise at
    the call, before anything is awaited.
    """
    declared = type(message) if model is None else model
    try:
        adapter = ADAPTERS[declared]
    except (KeyError, TypeError):
        adapter = adapter_for(declared)
    if mode == "text":
        return websocket.send_text(adapter.dump(message).decode())
    if mode == "binary":
        return websocket.send_bytes(adapter.dump(message))
    raise ValueError(f'mode must be "text" or "binary", not {mode!r}')

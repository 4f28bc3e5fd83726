"""Reply-style handlers: a function from the typed message to the typed reply.

::

    @app.websocket("/ws")
    @message_handler
    async def chat(message: ClientMessage) -> ServerMessage | None:
        ...

:func:`message_handler` reads the type hints once, at decoration time, and returns a WebSocket
endpoint ``async def endpoint(websocket: WebSocket) -> None`` that accepts the connection,
decodes every frame as the parameter's type, calls the function and sends its return value
(unless it is ``None``). The function may also take the ``WebSocket`` (a parameter annotated
``WebSocket`` or named ``websocket``), and may be sync (it then runs on the event loop, so it
must not block).

The endpoint carries AsyncAPI metadata (``receives`` / ``sends`` from the hints) that
:mod:`tether.asyncapi` reads.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import Any, get_args, get_origin

from tether.exceptions import ConfigurationError
from tether.messages.adapters import adapter_for
from tether.messages.metadata import RouteDoc, get_doc, set_doc
from tether.messages.policy import InvalidMessagePolicy
from tether.messages.wire import DEFAULT_POLICY, iter_model, send_model

__all__ = ["message_handler"]

Endpoint = Callable[[Any], Awaitable[None]]


@typing.overload
def message_handler(func: Callable[..., Any], /) -> Endpoint: ...
@typing.overload
def message_handler(
    *, policy: InvalidMessagePolicy = ..., subprotocol: str | None = ...
) -> Callable[[Callable[..., Any]], Endpoint]: ...
def message_handler(
    func: Callable[..., Any] | None = None,
    /,
    *,
    policy: InvalidMessagePolicy = DEFAULT_POLICY,
    subprotocol: str | None = None,
) -> Endpoint | Callable[[Callable[..., Any]], Endpoint]:
    """Turn ``func(message) -> reply | None`` into a WebSocket endpoint.

    Use bare (``@message_handler``) or with options (``@message_handler(policy=...)``).
    ``policy`` applies to invalid frames; ``subprotocol`` is passed to ``accept()``.
    Raises :class:`~tether.exceptions.ConfigurationError` when the message parameter has no
    type hint or the function has other parameters.
    """

    def decorate(function: Callable[..., Any]) -> Endpoint:
        return _build_endpoint(function, policy, subprotocol)

    return decorate if func is None else decorate(func)


def _build_endpoint(
    func: Callable[..., Any], policy: InvalidMessagePolicy, subprotocol: str | None
) -> Endpoint:
    from tether.websockets import WebSocket

    receives, sends, socket_first = _analyse(func, WebSocket)
    for declared in (receives, sends):  # compile now, so a bad type fails at import time
        if declared is not None:
            adapter_for(declared)
    is_async = inspect.iscoroutinefunction(func)

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol=subprotocol)
        async for message in iter_model(websocket, receives, policy=policy):
            if socket_first is None:
                reply = func(message)
            elif socket_first:
                reply = func(websocket, message)
            else:
                reply = func(message, websocket)
            if is_async:
                reply = await reply
            if reply is not None:
                await send_model(websocket, reply)

    _copy_identity(func, endpoint, WebSocket)
    doc = get_doc(func) or RouteDoc()
    set_doc(endpoint, doc.with_defaults(receives=receives, sends=sends, reply=sends is not None))
    return endpoint


def _analyse(func: Callable[..., Any], socket_type: type) -> tuple[Any, Any, bool | None]:
    """Return ``(message type, reply type or None, socket position)`` from ``func``'s hints.

    Socket position: ``None`` if the function does not take the socket, ``True`` if it comes
    first, ``False`` if it comes after the message.
    """
    hints = typing.get_type_hints(func, include_extras=True)
    params = list(inspect.signature(func).parameters.values())
    socket_at = [i for i, p in enumerate(params) if _is_socket(p, hints, socket_type)]
    others = [p for i, p in enumerate(params) if i not in socket_at]
    if len(others) != 1 or len(socket_at) > 1:
        raise ConfigurationError(
            f"{func.__qualname__} must take exactly one message parameter "
            "(and optionally the WebSocket)"
        )
    if others[0].name not in hints:
        raise ConfigurationError(
            f"the parameter {others[0].name!r} of {func.__qualname__} needs a type hint: "
            "it declares the message type"
        )
    position = None if not socket_at else socket_at[0] == 0
    return hints[others[0].name], _reply_type(hints.get("return")), position


def _is_socket(param: inspect.Parameter, hints: dict[str, Any], socket_type: type) -> bool:
    hint = hints.get(param.name)
    if isinstance(hint, type) and issubclass(hint, socket_type):
        return True
    return hint is None and param.name == "websocket"


def _reply_type(hint: Any) -> Any:
    """The reply type without ``None``; ``None`` when the function never replies."""
    if hint is None or hint is type(None):
        return None
    if get_origin(hint) in (typing.Union, _union_type()):
        members = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(members) < len(get_args(hint)):
            return members[0] if len(members) == 1 else typing.Union[tuple(members)]  # noqa: UP007
    return hint


def _union_type() -> Any:
    import types

    return types.UnionType


def _copy_identity(func: Callable[..., Any], endpoint: Any, socket_type: type) -> None:
    # No __wrapped__: dependency injection must see the endpoint's own signature.
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(endpoint, name, getattr(func, name, getattr(endpoint, name)))
    endpoint.__annotations__ = {"websocket": socket_type, "return": None}

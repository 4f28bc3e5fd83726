"""Typed WebSocket messages: declared types in, validated objects out, encoded once.

Declare what a route receives and sends as pydantic models, msgspec structs, dataclasses or
``TypedDict`` types, or tagged unions of them (a ``type`` field tells the members apart)::

    async for message in iter_model(websocket, ClientMessage):
        await send_model(websocket, reply_to(message))

or write a reply-style handler with :func:`message_handler`. A frame that does not fit gets the
:class:`InvalidMessagePolicy` (an error frame back, by default). See ``docs/typed-messages.md``.
"""

from __future__ import annotations

from tether.messages.adapters import MessageAdapter, adapter_for, encode, message_types
from tether.messages.errors import MessageValidationError
from tether.messages.handler import message_handler
from tether.messages.metadata import RouteDoc, get_doc, set_doc
from tether.messages.policy import InvalidMessagePolicy, error_frame
from tether.messages.wire import iter_model, receive_model, send_model

__all__ = [
    "InvalidMessagePolicy",
    "MessageAdapter",
    "MessageValidationError",
    "RouteDoc",
    "adapter_for",
    "encode",
    "error_frame",
    "get_doc",
    "iter_model",
    "message_handler",
    "message_types",
    "receive_model",
    "send_model",
    "set_doc",
]

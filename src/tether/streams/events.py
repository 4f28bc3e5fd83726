"""Server-Sent Events on the wire: :class:`ServerSentEvent` and its encoding.

The format is the ``text/event-stream`` of the HTML Living Standard, section 9.2
("Server-sent events", 9.2.6 "Interpreting an event stream"): an event is a block of
``field: value`` lines ended by a blank line; ``data`` may span lines (one ``data:`` line
each), ``event`` and ``id`` may not, ``retry`` is a number of milliseconds, and a line that
starts with ``:`` is a comment the browser ignores (used as a keep-alive).

Field checks and the byte layout (comment, event, data, id, retry; ``\\n`` line ends) follow
FastAPI's ``fastapi.sse``, so events look the same on the wire as the peer's. Data given as
``data=`` is always JSON (a string becomes ``"quoted"``); ``raw_data=`` is sent as it is.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import typing
from collections.abc import Callable
from typing import Any

__all__ = [
    "KEEPALIVE_COMMENT",
    "SSE_EVENT_SCHEMA",
    "ServerSentEvent",
    "encode_data",
    "encode_item",
    "event_encoder",
    "format_sse_event",
    "stream_item_type",
]

KEEPALIVE_COMMENT = b": ping\n\n"
"""What an idle stream sends every ping interval (a comment: browsers ignore it)."""

_PING_INTERVAL: float = 15.0
"""Seconds of silence before a keep-alive comment goes out (proxies drop idle connections)."""


def _single_line(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"SSE '{field}' must be a string, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"SSE '{field}' must be a single line")
    return value


def _check_id(value: str | None) -> str | None:
    if value is not None and "\0" in value:
        # A NUL makes browsers ignore the id (the spec's "does not contain U+0000" rule).
        raise ValueError("SSE 'id' must not contain null characters")
    return _single_line(value, "id")


def _check_retry(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"SSE 'retry' must be an integer >= 0 (milliseconds), got {value!r}")
    return value


class ServerSentEvent:
    """One event of a ``text/event-stream`` (``fastapi.sse.ServerSentEvent``).

    ``data`` is encoded as JSON (models, dataclasses, dicts, strings alike); ``raw_data`` is
    sent as given. ``event`` is the type the browser dispatches on (``message`` when absent),
    ``id`` what it sends back as ``Last-Event-ID`` on reconnect, ``retry`` its reconnection
    delay in milliseconds, ``comment`` lines it ignores.

    Raises ``ValueError`` when both ``data`` and ``raw_data`` are given, when ``event`` or
    ``id`` span lines, when ``id`` holds a NUL, or when ``retry`` is not an integer >= 0.
    """

    __slots__ = ("comment", "data", "event", "id", "raw_data", "retry")

    def __init__(
        self,
        data: Any = None,
        *,
        raw_data: str | None = None,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if data is not None and raw_data is not None:
            raise ValueError(
                "Cannot set both 'data' and 'raw_data' on one ServerSentEvent: 'data' is "
                "sent as JSON, 'raw_data' as the string it is"
            )
        self.data = data
        self.raw_data = raw_data
        self.event = _single_line(event, "event")
        self.id = _check_id(id)
        self.retry = _check_retry(retry)
        self.comment = comment

    def encode(self) -> bytes:
        """The event in wire format, ending with the blank line."""
        if self.raw_data is not None:
            data: str | None = self.raw_data
        elif self.data is not None:
            data = encode_data(self.data)
        else:
            data = None
        return format_sse_event(
            data_str=data, event=self.event, id=self.id, retry=self.retry, comment=self.comment
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("data", "raw_data", "event", "id", "retry", "comment")
            if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"


def _lines(value: str) -> list[str]:
    # Only CRLF, CR and LF end lines in an event stream; str.splitlines() would also split on
    # U+2028, \v and others that the browser keeps inside a line.
    return value.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def format_sse_event(
    *,
    data_str: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """Wire bytes of one event from an already encoded ``data_str``; ends with ``\\n\\n``.

    Multi-line ``data_str`` and ``comment`` become one line each; fields are not checked here
    (:class:`ServerSentEvent` checks them).
    """
    lines: list[str] = []
    if comment is not None:
        lines.extend(": " + line for line in _lines(comment))
    if event is not None:
        lines.append("event: " + event)
    if data_str is not None:
        lines.extend("data: " + line for line in _lines(data_str))
    if id is not None:
        lines.append("id: " + id)
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines.append("\n")
    return "\n".join(lines).encode("utf-8")


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return list(value)
    # UUID, Decimal, Path, Enum members with str values and the like read naturally as text.
    enum_value = getattr(value, "value", None)
    return enum_value if isinstance(enum_value, int | float | str) else str(value)


_encoder = json.JSONEncoder(default=_default)


def encode_data(value: Any) -> str:
    """``value`` as the JSON text of a ``data`` field (models via ``model_dump_json``)."""
    dump_json = getattr(value, "model_dump_json", None)
    if dump_json is not None and not isinstance(value, type):
        return str(dump_json())
    return _encoder.encode(value)


def encode_item(item: Any) -> bytes:
    """What a generator endpoint yielded, as wire bytes: an event as is, anything else as data."""
    if isinstance(item, ServerSentEvent):
        return item.encode()
    data = encode_data(item)
    if "\n" in data or "\r" in data:  # only with a model's or encoder's own indentation
        return format_sse_event(data_str=data)
    return ("data: " + data + "\n\n").encode("utf-8")


def event_encoder(item_json: Callable[[Any], bytes] | None) -> Callable[[Any], bytes]:
    """:func:`encode_item`, with plain values encoded by ``item_json`` when given.

    ``item_json`` is the route's checker for the annotated item type (``AsyncIterable[Item]``):
    it validates and filters each value as a response model does. Events pass unchecked.
    """
    if item_json is None:
        return encode_item

    def encode(item: Any) -> bytes:
        if isinstance(item, ServerSentEvent):
            return item.encode()
        data = item_json(item)
        if b"\n" in data or b"\r" in data:
            return format_sse_event(data_str=data.decode("utf-8"))
        return b"data: " + data + b"\n\n"

    return encode


SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}
"""One event as OpenAPI 3.2 describes an event stream's items (section 4.14.4)."""

_STREAM_ORIGINS = frozenset(
    {
        collections.abc.AsyncIterable,
        collections.abc.AsyncIterator,
        collections.abc.AsyncGenerator,
        collections.abc.Iterable,
        collections.abc.Iterator,
        collections.abc.Generator,
    }
)


def stream_item_type(annotation: Any) -> Any:
    """``Item`` for an ``AsyncIterable[Item]``-like return annotation; else None.

    ``ServerSentEvent`` is a wrapper, not a data type: it gives None too.
    """
    if typing.get_origin(annotation) not in _STREAM_ORIGINS:
        return None
    args = typing.get_args(annotation)
    item = args[0] if args else Any
    if item is Any or (isinstance(item, type) and issubclass(item, ServerSentEvent)):
        return None
    return item

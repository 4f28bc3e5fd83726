"""Streams over plain HTTP: Server-Sent Events and JSON lines.

:mod:`tether.sse` is the face under FastAPI's module name (``fastapi.sse``); channel streams
over SSE live with the channels (:meth:`tether.channels.Channels.sse_endpoint`).
"""

from tether.streams.events import KEEPALIVE_COMMENT, ServerSentEvent, format_sse_event
from tether.streams.responses import EventSourceResponse, JSONLinesResponse

__all__ = [
    "KEEPALIVE_COMMENT",
    "EventSourceResponse",
    "JSONLinesResponse",
    "ServerSentEvent",
    "format_sse_event",
]

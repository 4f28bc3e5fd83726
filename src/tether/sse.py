"""Server-Sent Events (``fastapi.sse``): :class:`EventSourceResponse`, :class:`ServerSentEvent`.

A path operation that ``yield``\\ s with ``response_class=EventSourceResponse`` streams each
value as one event (models and dicts as JSON ``data``); see docs/streaming.md. The code lives
in :mod:`tether.streams`.
"""

from tether.streams.events import _PING_INTERVAL as _PING_INTERVAL
from tether.streams.events import KEEPALIVE_COMMENT, ServerSentEvent, format_sse_event
from tether.streams.responses import EventSourceResponse, JSONLinesResponse

__all__ = [
    "KEEPALIVE_COMMENT",
    "EventSourceResponse",
    "JSONLinesResponse",
    "ServerSentEvent",
    "format_sse_event",
]

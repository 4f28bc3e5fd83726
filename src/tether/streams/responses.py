"""Streaming responses: :class:`EventSourceResponse` (SSE) and :class:`JSONLinesResponse`.

Both take an (async) iterable and stream it with a :class:`~tether.streams.pump.Pump`: the
source is closed as soon as the client goes away, an idle event stream sends a keep-alive
comment every ``ping_interval`` seconds (15 by default, as FastAPI), and a graceful shutdown of
the application (:meth:`tether.Tether.drain`, SIGTERM under uvicorn) ends every open stream
cleanly, so browsers reconnect (to another instance) instead of being cut off when the server
exits. They are also the ``response_class`` of a path operation that ``yield``\\ s: see
:meth:`EventSourceResponse.from_generator`.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any

from tether.background import BackgroundTask
from tether.responses import StreamingResponse, _until_disconnect
from tether.streams import events
from tether.streams.events import (
    KEEPALIVE_COMMENT,
    SSE_EVENT_SCHEMA,
    encode_data,
    encode_item,
    event_encoder,
    stream_item_type,
)
from tether.streams.pump import Pump, as_async_iterator
from tether.types import Receive, Scope, Send

__all__ = ["EventSourceResponse", "JSONLinesResponse", "track_stream"]

Content = AsyncIterable[Any] | Iterable[Any]


def _raw_or_event(item: Any) -> bytes:
    # A response built by hand streams str/bytes chunks as they are (a StreamingResponse, as
    # in the peer); events and other objects are encoded.
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    return encode_item(item)


def _json_line(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    return (encode_data(item) + "\n").encode("utf-8")


def track_stream(scope: Scope, stop: Callable[[], None]) -> Callable[[], None]:
    """Have the app's graceful shutdown call ``stop()``; returns the function that untracks.

    During a drain ``stop()`` is called at once: the stream ends, and the client reconnects to
    an instance that is not going away.

    Works with any app whose ``connections`` has ``on_drain(hook)`` (a :class:`tether.Tether`);
    elsewhere nothing is tracked.
    """
    app = scope.get("app")
    registry = getattr(app, "connections", None)
    if registry is None or not hasattr(registry, "on_drain"):
        return _nothing
    if getattr(registry, "draining", False):  # a stream opened during a drain ends at once
        stop()
        return _nothing
    # The set lives on the app (it dies with it); the drain hook is added with the set.
    stops: set[Callable[[], None]] | None = getattr(app, "_tether_open_streams", None)
    if stops is None:
        stops = set()
        try:
            app._tether_open_streams = stops  # type: ignore[union-attr]
        except AttributeError:  # an app with __slots__: streams end with the server instead
            return _nothing
        registry.on_drain(_drain_hook(stops))
    holder = _Stop(stop).stop_once
    stops.add(holder)
    return lambda: stops.discard(holder)


class _Stop:
    """A distinct callable per stream (bound methods of one pump would compare equal)."""

    __slots__ = ("stop",)

    def __init__(self, stop: Callable[[], None]) -> None:
        self.stop = stop

    def stop_once(self) -> None:
        self.stop()


def _drain_hook(stops: set[Callable[[], None]]) -> Callable[[float], Any]:
    async def end_streams(seconds_left: float) -> None:
        for stop in list(stops):
            stop()

    return end_streams


def _nothing() -> None:
    return None


class _PumpedResponse(StreamingResponse):
    """A streaming response driven by a :class:`Pump` (shared by SSE and JSON lines)."""

    ping: bytes = b""
    ping_interval: float | None = None

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        # StreamingResponse's own setup would wrap ``content`` in a thread-pool generator
        # that cannot be closed mid-next(); the pump's iterator can.
        self._source = as_async_iterator(content)
        self.body_iterator = self._source
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.init_headers(headers)

    def _encoder(self) -> Callable[[Any], bytes]:
        raise NotImplementedError

    def _interval(self) -> float | None:
        return self.ping_interval

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a denial response: no client to keep alive
            await super().__call__(scope, receive, send)
            return
        pump = Pump(self._source, self._encoder(), ping=self.ping, ping_interval=self._interval())
        untrack = track_stream(scope, pump.stop)
        try:
            await _until_disconnect(self._run(pump, send), receive)
        finally:
            untrack()
        if self.background is not None:
            await self.background()

    async def _run(self, pump: Pump, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )

        async def write(body: bytes) -> None:
            await send({"type": "http.response.body", "body": body, "more_body": True})

        await pump.run(write)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class EventSourceResponse(_PumpedResponse):
    """A ``text/event-stream`` response (``fastapi.sse.EventSourceResponse``).

    ``content`` yields :class:`~tether.sse.ServerSentEvent` objects, objects sent as JSON
    ``data`` (dicts, models, dataclasses...), or ready-made ``str``/``bytes`` chunks, which go
    out unchanged. Sends ``Cache-Control: no-cache`` and ``X-Accel-Buffering: no`` (nginx then
    passes events on at once) unless ``headers`` says otherwise. Any HTTP method works.

    ``ping_interval``: seconds of silence before a ``: ping`` comment (default 15; ``None``
    for the default, ``0`` for none).
    """

    media_type = "text/event-stream"
    ping = KEEPALIVE_COMMENT

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        *,
        ping_interval: float | None = None,
    ) -> None:
        extra = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        if headers:
            extra.update({name.lower(): value for name, value in headers.items()})
        super().__init__(content, status_code, extra, media_type, background)
        self.ping_interval = ping_interval
        self._transform: Callable[[Any], bytes] = _raw_or_event

    def _encoder(self) -> Callable[[Any], bytes]:
        return self._transform

    def _interval(self) -> float | None:
        interval = events._PING_INTERVAL if self.ping_interval is None else self.ping_interval
        return interval or None

    @classmethod
    def from_generator(
        cls,
        generator: AsyncIterable[Any] | Iterable[Any],
        *,
        status_code: int | None = None,
        ping_interval: float | None = None,
        item_json: Callable[[Any], bytes] | None = None,
    ) -> EventSourceResponse:
        """The response of a path operation that ``yield``\\ s (``response_class=`` this).

        Every yielded value becomes one event: a :class:`ServerSentEvent` as it is, anything
        else (a ``str`` too) as JSON ``data``, through ``item_json`` (the route's validating
        encoder for its annotated item type) when given.
        """
        response = cls(generator, status_code or 200, ping_interval=ping_interval)
        response._transform = event_encoder(item_json)  # a str is JSON data, not a chunk
        return response

    @classmethod
    def openapi_response(cls, route: Any, schemas: Any) -> dict[str, Any]:
        """The OpenAPI response content of a generator route: one item schema per event."""
        schema = copy.deepcopy(SSE_EVENT_SCHEMA)
        item = stream_item_type(getattr(route, "response_model", None))
        if item is not None:
            schema["required"] = ["data"]
            schema["properties"]["data"] = {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": schemas.schema(item, "serialization", title=_item_title(route)),
            }
        return {"content": {"text/event-stream": {"itemSchema": schema}}}


def _item_title(route: Any) -> str:
    # The peer names the item's field StreamItem_<operation id>; a schema that is not a
    # reference gets that name as its title.
    return f"StreamItem_{getattr(route, 'unique_id', '')}".title().replace("_", " ")


class JSONLinesResponse(_PumpedResponse):
    """Newline-delimited JSON (``application/jsonl``, also known as NDJSON) over a chunked body.

    Each item of ``content`` is one JSON document on its own line (``bytes`` go out as they
    are). For clients that cannot use ``EventSource``: ``fetch`` streams, curl,
    server-to-server. A path operation that ``yield``\\ s without a ``response_class`` streams
    this way, as in FastAPI.
    """

    media_type = "application/jsonl"
    _line: Callable[[Any], bytes] = staticmethod(_json_line)

    def _encoder(self) -> Callable[[Any], bytes]:
        return self._line

    @classmethod
    def from_generator(
        cls,
        generator: AsyncIterable[Any] | Iterable[Any],
        *,
        status_code: int | None = None,
        ping_interval: float | None = None,
        item_json: Callable[[Any], bytes] | None = None,
    ) -> JSONLinesResponse:
        """The response of a path operation that ``yield``\\ s (the default for generators).

        ``item_json`` (the route's validating encoder for its item type) encodes each line.
        """
        response = cls(generator, status_code or 200)
        if item_json is not None:
            response._line = lambda item: item_json(item) + b"\n"
        return response

    @classmethod
    def openapi_response(cls, route: Any, schemas: Any) -> dict[str, Any]:
        """The OpenAPI response content of a generator route: the schema of one line."""
        item = stream_item_type(getattr(route, "response_model", None))
        schema = (
            {} if item is None else schemas.schema(item, "serialization", title=_item_title(route))
        )
        return {"content": {"application/jsonl": {"itemSchema": schema}}}

"""Channels over plain HTTP: Server-Sent Events (and JSON lines) that resume by position.

:meth:`Channels.sse_endpoint <tether.channels.Channels.sse_endpoint>` builds a
:class:`ChannelStream`, an ASGI app that subscribes each request to one or a few channels and
streams their publications. It is a transport, not a second hub: the request becomes a hub
:class:`~tether.channels.connection.Connection` whose "socket" writes HTTP body chunks, so
fan-out, the outbound queue and its slow-consumer policy, limits, the ``authenticate`` and
``authorize`` hooks, history recovery and the broker (memory or Redis, across workers) are the
ones WebSocket subscribers use.

The event stream (docs/streaming.md, "Channel streams"):

- every publication is an event whose ``id`` is the stream position after it:
  ``<epoch>:<offset>``, one per channel in the endpoint's order, joined by ``,``; its ``data``
  is the published JSON; with several channels its ``event`` is the channel name;
- on reconnect the browser sends that id back as ``Last-Event-ID``, and the stream resumes
  right after it from history; a first request may ask for the same with ``?since=<id>``, or
  ``?since=start`` for everything the channel still retains;
- when history cannot cover the gap (trimmed, expired, another epoch) the stream says so with a
  ``reset`` event, ``data`` ``{"channel", "epoch", "offset"}`` and an ``id`` at the new
  position, and goes on from there: never a silent hole;
- a fresh subscription (nothing to resume) starts with a ``ready`` event whose ``id`` is the
  position it starts from, so a connection lost before the first publication resumes too;
- keep-alive comments and ``join``/``leave`` events carry no ``id``;
- a subscriber too slow for its queue, a hole the node cannot fill, a hub stop and a graceful
  shutdown end the response; the browser reconnects with its ``Last-Event-ID`` and resumes.

``format="jsonl"`` streams the same as newline-delimited JSON, one protocol frame per line
(``{"type":"pub","channel",...,"offset","epoch","data"}``, ``reset``, ``ready``, ``ping``),
for ``fetch`` streams, curl and servers; a client resumes with ``?since=``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from tether._json import dumps, loads
from tether.channels.backends.base import Position
from tether.channels.connection import Connection, SubscribeResult
from tether.channels.errors import ChannelError, ChannelForbidden, ChannelLimitExceeded
from tether.channels.hub import Hub
from tether.channels.names import InvalidChannelName
from tether.channels.options import SlowConsumerPolicy
from tether.channels.subscriber import CLOSE_INSUFFICIENT_STATE
from tether.requests import Request
from tether.streams.responses import track_stream
from tether.types import Receive, Scope, Send

__all__ = ["ChannelStream", "format_position", "parse_position"]

ChannelsOf = Sequence[str] | Callable[[Request], "Sequence[str] | Any"]
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_JSONL_HEADERS = [
    (b"content-type", b"application/jsonl"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_STATUS: dict[type[Exception], int] = {ChannelForbidden: 403, ChannelLimitExceeded: 429}


class _Positioned(Protocol):
    @property
    def offset(self) -> int: ...

    @property
    def epoch(self) -> str: ...


def format_position(positions: Sequence[_Positioned | None]) -> str:
    """The event id for one position per channel: ``epoch:offset`` joined by ``,``."""
    return ",".join("" if p is None else f"{p.epoch}:{p.offset}" for p in positions)


def parse_position(text: str | None, count: int) -> list[Position | None] | None:
    """Positions from an event id of :func:`format_position`; None when it is not one.

    An id for another number of channels, or with a part that is not ``epoch:offset``, is
    not ours (another app's, or a hand-edited URL): the stream starts fresh instead.
    """
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != count:
        return None
    positions: list[Position | None] = []
    for part in parts:
        if not part:
            positions.append(None)
            continue
        epoch, colon, offset = part.rpartition(":")
        if not colon or not epoch or not offset.isdigit() or len(offset) > 18:
            return None
        positions.append(Position(int(offset), epoch))
    return positions


_PUB_PREFIX = len('{"type":"pub","channel":')


class _Pub:
    """A ``pub`` frame taken apart once, shared by every stream it is fanned out to.

    It has a position's ``offset`` and ``epoch``, so streams keep it as their position; the
    bytes for single-channel streams, the same for all of them, are made once.
    """

    __slots__ = ("channel", "data", "epoch", "offset", "sse", "jsonl")

    def __init__(self, text: str) -> None:
        # The frame's layout is fixed (router.publication_frame): the data is copied out of
        # the text, never decoded and re-encoded. A JSON string cannot hold an unescaped
        # '"', so the first ',"offset":' ends the channel name.
        end = text.index(',"offset":', _PUB_PREFIX)
        self.channel: str = loads(text[_PUB_PREFIX:end])
        epoch_at = text.index(',"epoch":"', end)
        self.offset = int(text[end + 10 : epoch_at])
        data_at = text.index('","data":', epoch_at + 10)
        self.epoch = text[epoch_at + 10 : data_at]
        self.data = text[data_at + 9 : -1]
        self.sse: bytes | None = None
        self.jsonl: bytes | None = None

    def sse_single(self) -> bytes:
        """The event for a single-channel stream."""
        if self.sse is None:
            self.sse = f"id: {self.epoch}:{self.offset}\n{_data_lines(self.data)}\n".encode()
        return self.sse


_last: tuple[Any, _Pub] | None = None


def _parsed(message: Mapping[str, Any], text: str) -> _Pub:
    # Fan-out hands the same message object to every subscriber in turn: one parse for all.
    global _last
    last = _last
    if last is not None and last[0] is message:
        return last[1]
    pub = _Pub(text)
    _last = (message, pub)
    return pub


def _data_lines(data: str) -> str:
    if "\n" in data or "\r" in data:  # published JSON text is normally one line
        data = data.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\ndata: ")
    return "data: " + data + "\n"


class _HTTPSocket:
    """The "socket" a hub connection writes to: HTTP body chunks of one streaming response.

    The outbox calls :meth:`send` with the hub's frames (and this module's own chunks) and
    :meth:`close` when the connection must end (slow consumer, shutdown, hub stop).
    """

    __slots__ = (
        "_http_send",
        "_started",
        "channels",
        "done",
        "finished",
        "jsonl",
        "outbox",
        "positions",
    )

    def __init__(self, http_send: Send, channels: list[str], jsonl: bool) -> None:
        self._http_send = http_send
        self._started = False
        self.channels = channels
        self.jsonl = jsonl
        self.positions: list[_Positioned | None] = [None] * len(channels)
        self.finished = False
        self.outbox: Any = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        if not self._started:
            self._started = True
            headers = _JSONL_HEADERS if self.jsonl else _SSE_HEADERS
            await self._http_send(
                {"type": "http.response.start", "status": 200, "headers": list(headers)}
            )

    async def send(self, message: Mapping[str, Any]) -> None:
        if self.finished:
            raise ConnectionError("the stream has ended")
        body = message.get("body")
        if body is None:
            body = self._translate(message, message["text"])
            if not body:
                return
        if not self._started:
            await self.start()
        await self._http_send({"type": "http.response.body", "body": body, "more_body": True})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        try:
            await self.start()
            await self._http_send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if not self.done.done():
                self.done.set_result(None)

    def _translate(self, message: Mapping[str, Any], text: str) -> bytes:
        if text.startswith('{"type":"pub"'):
            pub = _parsed(message, text)
            return self._publication(pub, text)
        if text.startswith('{"type":"unsubscribed"'):
            # A hole this node cannot fill (router._insufficient): end the response; the
            # reconnect resumes from the last id and gets a reset if history cannot help.
            asyncio.get_running_loop().call_soon(
                self.outbox.close, CLOSE_INSUFFICIENT_STATE, "insufficient state"
            )
            return b""
        if text.startswith(('{"type":"join"', '{"type":"leave"')):
            if self.jsonl:
                return (text + "\n").encode()
            kind = "join" if text[9] == "j" else "leave"
            return f"event: {kind}\n{_data_lines(text)}\n".encode()
        return b""  # replies and the like belong to the WebSocket protocol

    def _publication(self, pub: _Pub, text: str) -> bytes:
        channels = self.channels
        if len(channels) == 1:
            if pub.channel != channels[0]:
                return b""
            self.positions[0] = pub
            if self.jsonl:
                if pub.jsonl is None:
                    pub.jsonl = (text + "\n").encode()
                return pub.jsonl
            return pub.sse or pub.sse_single()
        try:
            index = channels.index(pub.channel)
        except ValueError:
            return b""
        self.positions[index] = pub
        if self.jsonl:
            return (text + "\n").encode()
        event = f"event: {pub.channel}\n" if len(self.channels) > 1 else ""
        ident = format_position(self.positions)
        return f"{event}id: {ident}\n{_data_lines(pub.data)}\n".encode()

    def control(self, kind: str, channel: str, position: Position) -> bytes:
        """A ``ready``/``reset`` event: the stream (re)starts at ``position`` in ``channel``."""
        self.positions[self.channels.index(channel)] = position
        frame = {"channel": channel, "epoch": position.epoch, "offset": position.offset}
        if self.jsonl:
            return (dumps({"type": kind, **frame}) + "\n").encode()
        ident = format_position(self.positions)
        return f"event: {kind}\nid: {ident}\ndata: {dumps(frame)}\n\n".encode()


class ChannelStream:
    """ASGI app: one HTTP request follows ``channels`` as Server-Sent Events (or JSON lines).

    ``channels`` is a list of names, or ``channels(request)`` returning one (path parameters
    pick the channel: ``lambda r: [f"answer:{r.path_params['id']}"]``). ``ping_interval``
    seconds of silence send a keep-alive; ``retry`` (milliseconds) is sent first as the
    browser's reconnection delay. Refusals answer before the stream starts: 401 when the hub's
    ``authenticate`` returns None, 403 when ``authorize`` or ``ChannelForbidden`` says no,
    429 for a limit, 400 for a bad channel name.
    """

    def __init__(
        self,
        hub: Hub,
        channels: ChannelsOf,
        *,
        format: Literal["sse", "jsonl"] = "sse",
        ping_interval: float = 15.0,
        retry: int | None = None,
    ) -> None:
        if format not in ("sse", "jsonl"):
            raise ValueError(f"format must be 'sse' or 'jsonl', not {format!r}")
        self.hub = hub
        self.channels = channels
        self.jsonl = format == "jsonl"
        self.ping_interval = ping_interval
        self.retry = retry
        ping = b'{"type":"ping"}\n' if self.jsonl else b": ping\n\n"
        self._ping = {"body": ping}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            names = await self._channel_names(request)
            identity = await self._authenticate(request)
        except (ChannelError, InvalidChannelName) as exc:
            await _refuse(send, _STATUS.get(type(exc), 400), str(exc))
            return
        if identity is None:
            await _refuse(send, 401, "not authenticated")
            return
        socket = _HTTPSocket(send, names, self.jsonl)
        connection = self.hub.open(socket, info=identity.get("info"), user=identity.get("user"))
        socket.outbox = connection.outbox
        untrack = track_stream(scope, lambda: connection.outbox.close(1012, "server restart"))
        try:
            await self._serve(request, connection, socket, receive)
        finally:
            untrack()
            self.hub._drop(connection)
            connection.outbox.detach()
            if not socket.finished:
                with contextlib.suppress(Exception):
                    await socket.close()

    async def _channel_names(self, request: Request) -> list[str]:
        names = self.channels(request) if callable(self.channels) else self.channels
        if inspect.isawaitable(names):
            names = await names
        if isinstance(names, str):
            names = [names]
        names = list(names)
        for name in names:
            self.hub.namespaces.options(name)  # InvalidChannelName for a bad one
        return names

    async def _authenticate(self, request: Request) -> Mapping[str, Any] | None:
        if self.hub.authenticate is None:
            return {}
        result = self.hub.authenticate(request)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _serve(
        self, request: Request, connection: Connection, socket: _HTTPSocket, receive: Receive
    ) -> None:
        try:
            for name in socket.channels:
                if not await _allowed(connection, name):
                    raise ChannelForbidden(f"not allowed to subscribe to {name}")
            since = await self._since(request, socket.channels)
        except ChannelError as exc:
            await _refuse(socket._http_send, _STATUS.get(type(exc), 400), str(exc))
            socket.finished = True
            return
        await socket.start()
        if self.retry is not None and not self.jsonl:
            _push(connection, f"retry: {self.retry}\n\n".encode())
        socket.positions = list(since)  # ids name every channel's position from the start
        listener = asyncio.ensure_future(_disconnected(receive))
        try:
            for index, name in enumerate(socket.channels):
                await self._subscribe(connection, socket, name, since[index])
            await self._follow(connection, socket, listener)
        except (ChannelError, InvalidChannelName) as exc:
            # Refused after the stream began (a limit reached by an earlier channel): say so.
            _push(connection, _error_event(self.jsonl, str(exc)))
            connection.outbox.close(1008, "refused")
            await asyncio.wait([listener, socket.done], timeout=5.0)
        finally:
            listener.cancel()

    async def _since(self, request: Request, names: list[str]) -> list[Position | None]:
        header = request.headers.get("last-event-id")
        query = request.query_params.get("since")
        positions = parse_position(header or query, len(names))
        if positions is not None:
            return positions
        if not header and query == "start":
            return [await self._oldest(name) for name in names]
        return [None] * len(names)

    async def _oldest(self, name: str) -> Position:
        """Just before the oldest publication the channel retains (its position if none)."""
        result = await self.hub.history(name, limit=1)
        if result.publications:
            return Position(result.publications[0].offset - 1, result.position.epoch)
        return result.position

    async def _subscribe(
        self, connection: Connection, socket: _HTTPSocket, name: str, since: Position | None
    ) -> None:
        def ready(result: SubscribeResult) -> None:
            if since is not None and result.recovered:
                socket.positions[socket.channels.index(name)] = since
                return
            kind = "reset" if since is not None else "ready"
            _push(connection, socket.control(kind, name, result.position))

        await self.hub._subscribe(connection, name, since, on_ready=ready)

    async def _follow(
        self, connection: Connection, socket: _HTTPSocket, listener: asyncio.Future[None]
    ) -> None:
        """Wait for the client to leave or the stream to end; keep-alive in the silences."""
        waiting = {listener, socket.done}
        while not connection.closed:
            done, _ = await asyncio.wait(
                waiting, timeout=self.ping_interval, return_when=asyncio.FIRST_COMPLETED
            )
            if done:
                return
            connection.outbox.push(self._ping, 16, SlowConsumerPolicy.DROP_NEWEST)


def _push(connection: Connection, body: bytes) -> None:
    connection.outbox.push({"body": body}, len(body), SlowConsumerPolicy.DISCONNECT)


def _error_event(jsonl: bool, message: str) -> bytes:
    if jsonl:
        return (dumps({"type": "error", "message": message}) + "\n").encode()
    return f"event: error\ndata: {dumps({'message': message})}\n\n".encode()


async def _allowed(connection: Connection, channel: str) -> bool:
    hook = connection.hub.namespaces.options(channel).authorize
    if hook is None:
        return True
    verdict = hook(connection, channel, "subscribe")
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return bool(verdict)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _refuse(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

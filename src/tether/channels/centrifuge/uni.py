"""The unidirectional WebSocket transport of the Centrifuge protocol (``uni_websocket``).

For clients without an SDK: they send one connect request and then only read. Frames are
pushes without the ``Reply`` wrapper, one JSON object each: first ``{"connect": {...}}``,
then ``{"channel": ..., "pub": {...}}``, ``{"channel": ..., "subscribe": {...}}``, and ``{}``
as a ping. A refused connect is a close code (3500 unauthorized, 3005 expired token, 3501
malformed request).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import parse_qs

from tether._json import loads
from tether.channels.backends.base import Publication
from tether.channels.centrifuge.codec_json import JsonCodec
from tether.channels.centrifuge.codes import Close
from tether.channels.centrifuge.session import Host, Wire

__all__ = ["UniJsonCodec", "UniWebSocket"]


class UniJsonCodec(JsonCodec):
    """JSON pushes without the reply wrapper, one per frame."""

    name = "uni_json"
    unidirectional = True

    def encode(self, replies: list[dict[str, Any]]) -> dict[str, Any]:
        """Each reply unwrapped: ``{"push": P}`` becomes ``P``; ``id`` is dropped."""
        unwrapped = []
        for reply in replies:
            push = reply.get("push")
            unwrapped.append(
                push if push is not None else {k: v for k, v in reply.items() if k != "id"}
            )
        return super().encode(unwrapped)

    def publication(self, publication: Publication, channel_json: str) -> dict[str, Any]:
        """The ``pub`` push of one publication, unwrapped."""
        return {
            "type": "websocket.send",
            "text": f'{{"channel":{channel_json},"pub":{{"data":{publication.data},'
            f'"offset":{publication.offset}}}}}',
        }


class UniWebSocket:
    """ASGI app: the ``uni_websocket`` transport of one Centrifuge endpoint."""

    def __init__(self, endpoint: Host) -> None:
        self.endpoint = endpoint
        self.wire = Wire(endpoint, UniJsonCodec())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from tether.websockets import WebSocket

        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        request = await self._request(websocket)
        if request is None:
            return
        endpoint = self.endpoint
        session = await endpoint._connect(websocket, self.wire, {"connect": request})
        if session is None:
            return
        try:
            while not session.connection.closed:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
        finally:
            endpoint.finish(session)

    async def _request(self, websocket: Any) -> dict[str, Any] | None:
        """The connect request from ``?cf_connect=`` or the first frame; None after a close."""
        query = parse_qs(websocket.scope.get("query_string", b"").decode("latin-1"))
        try:
            if "cf_connect" in query:
                request = loads(query["cf_connect"][0])
            else:
                async with asyncio.timeout(self.endpoint.stale_delay):
                    message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return None
                request = loads(message.get("text") or message.get("bytes") or b"{}")
        except TimeoutError:
            await websocket.close(*Close.STALE)
            return None
        except ValueError:
            request = None
        if not isinstance(request, dict):
            await websocket.close(*Close.BAD_REQUEST)
            return None
        return request


# Refusals before the stream starts are HTTP statuses: the close code says which.
_STATUS_FOR_CLOSE = {Close.INVALID_TOKEN[0]: 401, Close.EXPIRED[0]: 401}


class _EventStream:
    """A "socket" writing pushes as Server-Sent Events on one HTTP response.

    It is what the hub's outbox and the endpoint's connect see: ``send`` takes the
    ``websocket.send`` messages they make, ``close`` ends the stream (or, before the
    stream started, answers with an HTTP error status).
    """

    def __init__(self, scope: Any, receive: Any, send: Any) -> None:
        from tether.requests import HTTPConnection

        self.connection = HTTPConnection(scope)
        self.scope = scope
        self.query_params = self.connection.query_params
        self.headers = self.connection.headers
        self._receive = receive
        self._send = send
        self._started = False
        self.ended = asyncio.Event()

    async def _start(self) -> None:
        self._started = True
        headers = [
            (b"content-type", b"text/event-stream"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})

    async def send(self, message: dict[str, Any]) -> None:
        if self.ended.is_set():
            raise ConnectionError("the event stream ended")
        if not self._started:
            await self._start()
        text = message.get("text") or ""
        body = "".join(f"data: {line}\n\n" for line in text.split("\n"))
        await self._send({"type": "http.response.body", "body": body.encode(), "more_body": True})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if self.ended.is_set():
            return
        self.ended.set()
        if not self._started:
            status = _STATUS_FOR_CLOSE.get(code, 400)
            body = (reason or "").encode()
            start = {"type": "http.response.start", "status": status, "headers": []}
            await self._send(start)
            await self._send({"type": "http.response.body", "body": body})
            return
        await self._send({"type": "http.response.body", "body": b""})

    async def until_gone(self) -> None:
        """Wait until the client leaves or the stream was closed."""
        ended = asyncio.ensure_future(self.ended.wait())
        try:
            while not self.ended.is_set():
                receiving = asyncio.ensure_future(self._receive())
                await asyncio.wait({ended, receiving}, return_when=asyncio.FIRST_COMPLETED)
                if receiving.done() and receiving.result()["type"] == "http.disconnect":
                    self.ended.set()
                elif not receiving.done():
                    receiving.cancel()
        finally:
            ended.cancel()


class UniSse:
    """ASGI app: the ``uni_sse`` transport (Server-Sent Events) of one Centrifuge endpoint.

    ``GET ...?cf_connect=<ConnectRequest JSON>`` (what an ``EventSource`` can send) or a POST
    with the request as its JSON body; each push is one ``data:`` event. A refused connect
    answers 401 (token) or 400 before any event.
    """

    def __init__(self, endpoint: Host) -> None:
        self.endpoint = endpoint
        self.wire = Wire(endpoint, UniJsonCodec())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        stream = _EventStream(scope, receive, send)
        request = await _sse_request(stream, receive)
        if not isinstance(request, dict):
            await stream.close(*Close.BAD_REQUEST)
            return
        session = await self.endpoint._connect(stream, self.wire, {"connect": request})
        if session is None:
            await stream.close(*Close.BAD_REQUEST)  # no-op when _connect closed it
            return
        try:
            await stream.until_gone()
        finally:
            self.endpoint.finish(session)
            with contextlib.suppress(Exception):  # the client may be gone: nothing to tell it
                await stream.close()


async def _sse_request(stream: _EventStream, receive: Any) -> Any:
    """The connect request of a uni_sse client: the query's ``cf_connect`` or a JSON body."""
    try:
        if "cf_connect" in stream.query_params:
            return loads(stream.query_params["cf_connect"])
        if stream.scope.get("method") == "POST":
            body, more = b"", True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            return loads(body or b"{}")
    except ValueError:
        return None
    return {}

"""The unidirectional WebSocket transport of the Centrifuge protocol (``uni_websocket``).

For clients without an SDK: they send one connect request and then only read. Frames are
pushes without the ``Reply`` wrapper, one JSON object each: first ``{"connect": {...}}``,
then ``{"channel": ..., "pub": {...}}``, ``{"channel": ..., "subscribe": {...}}``, and ``{}``
as a ping. A refused connect is a close code (3500 unauthorized, 3005 expired token, 3501
malformed request).
"""

from __future__ import annotations

import asyncio
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

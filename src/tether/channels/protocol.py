"""The browser JSON protocol over one WebSocket (specified in docs/channels-protocol.md).

Client frames are objects with a ``type`` and an optional ``id`` that the reply echoes.
Replies and errors go through the connection's outbound queue, so a ``subscribe`` reply always
precedes the publications it replays.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tether._json import dumps
from tether.channels.backends.base import BrokerUnavailable, Position
from tether.channels.connection import Connection, SubscribeResult
from tether.channels.errors import (
    ChannelError,
    ChannelForbidden,
    ChannelLimitExceeded,
    ChannelNotFound,
    PublishRejected,
)
from tether.channels.frames import FrameRefused, LogLimiter, decode_frame
from tether.channels.hub import Hub
from tether.channels.names import InvalidChannelName
from tether.channels.options import Action, ValidateHook
from tether.channels.subscriber import CLOSE_PROTOCOL_ERROR

__all__ = ["serve"]

CLOSE_POLICY = 1008
# Offsets a client may send: JavaScript's exact integers (and far below Lua's 1e14 formatting).
MAX_OFFSET = (1 << 53) - 1
_LOG = LogLimiter(logging.getLogger("tether.channels"))
# Most publications one history reply carries (a client pages with `since` for more).
HISTORY_PAGE = 100
Handler = Callable[["Hub", Connection, dict[str, Any]], Awaitable[dict[str, Any] | None]]


class BadRequest(ChannelError):
    """A client frame is missing a field or has one of the wrong type."""

    code = "bad_request"


async def serve(hub: Hub, websocket: Any) -> None:
    """Accept ``websocket`` and run the protocol until it disconnects.

    A refused ``authenticate`` still accepts, then closes with 1008 and a short reason: a
    browser cannot see a refusal before accept (it gets 1006) and would retry forever.
    """
    try:
        identity = await _authenticate(hub, websocket)
        refusal = "not authenticated"
    except ChannelForbidden as exc:
        identity, refusal = None, _short(str(exc) or "not authenticated")
    await websocket.accept()
    if identity is None:
        await websocket.close(CLOSE_POLICY, refusal)
        return
    connection = hub.open(websocket, info=identity.get("info"), user=identity.get("user"))
    connected: dict[str, Any] = {
        "type": "connected",
        "client": connection.client_id,
        "node": hub.node_id,
    }
    if not hub.broker_available:
        connected["broker"] = "unavailable"
    connection.send_text(dumps(connected))
    try:
        await _receive_loop(hub, connection, websocket)
        # A close the server decided (4003, 4001...) is sent by the outbox's writer: wait for
        # it, or the endpoint returns first and the client sees the TCP connection cut (1006).
        await connection.outbox.closed_sent()
    finally:
        hub._drop(connection)
        connection.outbox.detach()


def _short(reason: str) -> str:
    """Trim a close reason to the 123 UTF-8 bytes a close frame can carry."""
    encoded = reason.encode()
    if len(encoded) <= 123:
        return reason
    return encoded[:120].decode("utf-8", "ignore") + "..."


async def _authenticate(hub: Hub, websocket: Any) -> Mapping[str, Any] | None:
    if hub.authenticate is None:
        return {}
    result = hub.authenticate(websocket)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _receive_loop(hub: Hub, connection: Connection, websocket: Any) -> None:
    while not connection.closed:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            text = (message.get("bytes") or b"").decode("utf-8", "replace")
        try:
            frame = decode_frame(text)
        except FrameRefused as exc:
            hub.metrics.protocol_errors += 1
            if exc.fatal:
                connection.outbox.close(CLOSE_PROTOCOL_ERROR, str(exc))
                return
            _error(connection, exc.request_id, "bad_request", str(exc))
            continue
        if not isinstance(frame, dict):
            hub.metrics.protocol_errors += 1
            connection.outbox.close(CLOSE_PROTOCOL_ERROR, "frames must be JSON objects")
            return
        await _dispatch(hub, connection, frame)


async def _dispatch(hub: Hub, connection: Connection, frame: dict[str, Any]) -> None:
    """Run one request; every failure becomes an ``error`` frame, never a closed socket."""
    request_id = frame.get("id")
    kind = frame.get("type")
    handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
    try:
        if handler is None:
            raise BadRequest(f"unknown frame type {_shown(kind)}")
        result = await handler(hub, connection, frame)
    except (ChannelError, InvalidChannelName) as exc:
        hub.metrics.protocol_errors += 1
        code = exc.code if isinstance(exc, ChannelError) else "bad_channel"
        _error(connection, request_id, code, str(exc))
        return
    except BrokerUnavailable as exc:
        _LOG.log(logging.WARNING, "broker", f"channel request failed, broker unavailable: {exc}")
        _error(connection, request_id, "unavailable", "the broker is unavailable: try again")
        return
    except Exception as exc:  # a bug or a hook's failure: answer, keep the connection
        cause = f"{kind if handler else '?'}:{type(exc).__name__}"
        _LOG.log(logging.ERROR, cause, f"channel request {cause} failed", exc)
        _error(connection, request_id, "internal", "the server failed to handle this request")
        return
    if result is not None:
        _send(connection, {"type": "reply", "id": request_id, "result": result})


def _shown(value: Any) -> str:
    """A short, printable rendering of a client value for an error message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _error(connection: Connection, request_id: Any, code: str, message: str) -> None:
    _send(
        connection,
        {"type": "error", "id": request_id, "error": {"code": code, "message": message}},
    )


def _send(connection: Connection, frame: dict[str, Any]) -> None:
    connection.send_text(dumps(frame))


def _channel(frame: dict[str, Any]) -> str:
    channel = frame.get("channel")
    if not isinstance(channel, str):
        raise BadRequest("'channel' must be a string")
    return channel


def _since(frame: dict[str, Any]) -> Position | None:
    since = frame.get("since")
    if since is None:
        return None
    if (
        not isinstance(since, dict)
        or type(since.get("offset")) is not int  # bool is an int subclass: refused
        or not 0 <= since["offset"] <= MAX_OFFSET
        or not isinstance(since.get("epoch"), str)
        or len(since["epoch"]) > 64
    ):
        raise BadRequest('\'since\' must be {"offset": int >= 0, "epoch": str}')
    return Position(since["offset"], since["epoch"])


async def _allowed(connection: Connection, channel: str, action: Action) -> bool:
    namespaces = connection.hub.namespaces
    if not namespaces.registered(channel):
        # Closed by default: a made-up namespace would give clients channels (and broker
        # keys) that nobody configured or authorised.
        raise ChannelForbidden(f"no namespace registered for {channel}")
    hook = namespaces.options(channel).authorize
    if hook is None:
        return True
    verdict = hook(connection, channel, action)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return bool(verdict)


async def _subscribe(hub: Hub, connection: Connection, frame: dict[str, Any]) -> None:
    channel = _channel(frame)
    since = _since(frame)
    if not await _allowed(connection, channel, "subscribe"):
        raise ChannelForbidden(f"not allowed to subscribe to {channel}")
    recoverable = hub.namespaces.options(channel).history_size > 0

    def reply(result: SubscribeResult) -> None:
        _send(
            connection,
            {
                "type": "reply",
                "id": frame.get("id"),
                "result": {
                    "channel": channel,
                    "offset": result.position.offset,
                    "epoch": result.position.epoch,
                    "recovered": result.recovered,
                    "was_recovering": result.was_recovering,
                    "replayed": result.publications_replayed,
                    "recoverable": recoverable,
                },
            },
        )

    await hub._subscribe(connection, channel, since, on_ready=reply)
    return None


async def _unsubscribe(hub: Hub, connection: Connection, frame: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(frame)
    if channel not in connection.subscriptions:
        raise ChannelNotFound(f"not subscribed to {channel}")
    await connection.unsubscribe(channel)
    return {}


async def _publish(hub: Hub, connection: Connection, frame: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(frame)
    options = hub.namespaces.options(channel)
    if not options.client_publish or not await _allowed(connection, channel, "publish"):
        raise ChannelForbidden(f"not allowed to publish to {channel}")
    data = frame.get("data")
    try:
        text = dumps(data)
    except (RecursionError, TypeError, ValueError):
        raise BadRequest("'data' is nested too deeply to publish") from None
    if len(text) > hub.limits.max_message_bytes:
        raise ChannelLimitExceeded("message too large")
    if options.validate is not None:
        checked = await _validated(options.validate, connection, channel, data)
        if checked is not data:  # transformed: encode what the hook returned
            text = dumps(checked)
    position = await hub.publish_json(channel, text)
    if options.authorize is not None and not await _allowed(connection, channel, "subscribe"):
        return {}  # may write, may not read: the channel's position is not the writer's to see
    return {"offset": position.offset, "epoch": position.epoch}


async def _validated(hook: ValidateHook, connection: Connection, channel: str, data: Any) -> Any:
    """Run a ``validate`` hook; its refusal (``PublishRejected`` or ``ValueError``) is ours."""
    try:
        checked = hook(connection, channel, data)
        if inspect.isawaitable(checked):
            checked = await checked
    except PublishRejected:
        raise
    except ValueError as exc:
        raise PublishRejected(str(exc) or "publish rejected") from exc
    return checked


async def _ping(hub: Hub, connection: Connection, frame: dict[str, Any]) -> None:
    _send(connection, {"type": "pong", "id": frame.get("id")})
    return None


async def _presence(hub: Hub, connection: Connection, frame: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(frame)
    if not await _allowed(connection, channel, "subscribe"):
        raise ChannelForbidden(f"not allowed to see presence of {channel}")
    if frame.get("count_only"):
        return {"count": await hub.presence_count(channel)}
    return {"members": await hub.presence(channel)}


async def _history(hub: Hub, connection: Connection, frame: dict[str, Any]) -> None:
    """One page of history: at most :data:`HISTORY_PAGE` publications and about half the
    outbound queue in bytes; ``more`` says whether to ask again with ``since`` set to the last
    offset received. The reply is assembled from the stored JSON text (no decode, no encode),
    so one request neither stalls the loop nor overflows the requester's own queue."""
    channel = _channel(frame)
    since = _since(frame)
    limit = frame.get("limit")
    if limit is not None and (type(limit) is not int or limit < 0):
        raise BadRequest("'limit' must be an integer >= 0")
    if not await _allowed(connection, channel, "subscribe"):
        raise ChannelForbidden(f"not allowed to read history of {channel}")
    wanted = HISTORY_PAGE if limit is None else min(limit, HISTORY_PAGE)
    result = await hub.history(channel, since=since, limit=wanted + 1)
    budget = hub.limits.max_queue_bytes // 2
    items: list[str] = []
    for publication in result.publications[:wanted]:
        budget -= len(publication.data) + 32
        if budget < 0 and items:
            break
        items.append(f'{{"offset":{publication.offset},"data":{publication.data}}}')
    more = len(items) < len(result.publications)
    position = result.position
    connection.send_text(
        f'{{"type":"reply","id":{dumps(frame.get("id"))},"result":{{"offset":{position.offset},'
        f'"epoch":{dumps(position.epoch)},"publications":[{",".join(items)}],'
        f'"more":{"true" if more else "false"}}}}}'
    )


_HANDLERS: dict[str, Handler] = {
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
    "publish": _publish,
    "ping": _ping,
    "presence": _presence,
    "history": _history,
}

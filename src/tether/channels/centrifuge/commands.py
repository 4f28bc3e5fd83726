"""The commands a connected client sends, each answered through the hub.

A handler takes the session and the command's request object and returns the result object
of the reply, or None when it queued the reply itself (``subscribe``, whose reply must go
out before the publications it recovers). Refusals raise :class:`CentrifugeError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from tether._json import dumps, loads
from tether.channels.backends.base import Position, Publication
from tether.channels.centrifuge.codes import CentrifugeError, ErrorCode
from tether.channels.centrifuge.session import Session, SubState, client_info
from tether.channels.centrifuge.shapes import Raw
from tether.channels.centrifuge.tokens import InvalidToken, TokenExpired
from tether.channels.connection import SubscribeResult
from tether.channels.errors import (
    ChannelError,
    ChannelLimitExceeded,
    ChannelsClosed,
    PublishRejected,
)
from tether.channels.names import InvalidChannelName
from tether.channels.options import Action, ChannelOptions
from tether.telemetry.envelope import plain_page

__all__ = ["HANDLERS", "error_for", "subscribe_channel"]

Handler = Callable[[Session, dict[str, Any], int], Awaitable[dict[str, Any] | None]]


def error_for(exc: Exception) -> CentrifugeError:
    """The protocol error for a hub exception."""
    if isinstance(exc, CentrifugeError):
        return exc
    if isinstance(exc, InvalidChannelName):
        return CentrifugeError(ErrorCode.UNKNOWN_CHANNEL, "unknown channel")
    if isinstance(exc, ChannelLimitExceeded):
        return CentrifugeError(ErrorCode.LIMIT_EXCEEDED, "limit exceeded")
    if isinstance(exc, PublishRejected):
        return CentrifugeError(ErrorCode.BAD_REQUEST, str(exc) or "bad request")
    if isinstance(exc, ChannelsClosed):
        return CentrifugeError(ErrorCode.NOT_AVAILABLE, "not available")
    if isinstance(exc, ChannelError) and exc.code == "forbidden":
        return CentrifugeError(ErrorCode.PERMISSION_DENIED, "permission denied")
    return CentrifugeError(ErrorCode.INTERNAL, "internal server error", temporary=True)


def data_text(request: dict[str, Any]) -> str:
    """The request's ``data`` as JSON text: encoded once from JSON, checked from Protobuf.

    Protobuf data is bytes and channels carry JSON to every protocol, so bytes that are not
    JSON are refused (``ValueError``, answered as a bad request).
    """
    data = request.get("data")
    if type(data) is Raw:
        text = str(data)  # a plain str: decoders (msgspec, orjson) refuse str subclasses
        if not text:
            return "null"
        loads(text)
        return text
    return dumps(data)


def _channel(request: dict[str, Any]) -> str:
    channel = request.get("channel")
    if not isinstance(channel, str) or not channel:
        raise CentrifugeError(ErrorCode.BAD_REQUEST, "bad request")
    return channel


async def _allowed(session: Session, channel: str, action: Action) -> ChannelOptions:
    options = session.endpoint.hub.namespaces.options(channel)
    hook = options.authorize
    if hook is not None:
        verdict = hook(session.connection, channel, action)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if not verdict:
            raise CentrifugeError(ErrorCode.PERMISSION_DENIED, "permission denied")
    return options


def _subscribed(session: Session, channel: str) -> ChannelOptions:
    """Options of a channel the client is subscribed to (presence and history need it)."""
    options = session.endpoint.hub.namespaces.options(channel)
    if channel not in session.subs:
        raise CentrifugeError(ErrorCode.PERMISSION_DENIED, "permission denied")
    return options


def _publication(publication: Publication) -> dict[str, Any]:
    return {"data": Raw(publication.data), "offset": publication.offset}


def subscribe_result(
    result: SubscribeResult, options: ChannelOptions, state: SubState, ttl: int
) -> dict[str, Any]:
    """The ``SubscribeResult`` object for a hub subscribe outcome."""
    reply: dict[str, Any] = {}
    if options.history_size:
        reply.update(
            recoverable=True,
            positioned=True,
            epoch=result.position.epoch,
            offset=result.position.offset,
        )
    if result.was_recovering:
        reply.update(was_recovering=True, recovered=result.recovered)
    if ttl:
        reply.update(expires=True, ttl=ttl)
    return reply


async def subscribe_channel(
    session: Session,
    channel: str,
    request: dict[str, Any],
    state: SubState,
    answer: Callable[[dict[str, Any]], None],
) -> None:
    """Subscribe through the hub; ``answer`` queues the result before any recovered data."""
    options = session.endpoint.hub.namespaces.options(channel)
    since = None
    if request.get("recover") and options.history_size:
        since = Position(int(request.get("offset") or 0), str(request.get("epoch") or ""))
    ttl = session.set_sub_expiry(channel, state)
    session.subs[channel] = state

    def ready(result: SubscribeResult) -> None:
        answer(subscribe_result(result, options, state, ttl))

    try:
        await session.endpoint.hub._subscribe(session.connection, channel, since, on_ready=ready)
    except BaseException:
        if session.subs.get(channel) is state:
            session.forget(channel)
        raise


async def _subscribe(session: Session, request: dict[str, Any], reply_id: int) -> None:
    channel = _channel(request)
    if channel in session.subs:
        raise CentrifugeError(ErrorCode.ALREADY_SUBSCRIBED, "already subscribed")
    state = SubState(join_leave=bool(request.get("join_leave")))
    token = request.get("token")
    if token:
        state.expire_at, state.info = await _sub_token(session, token, channel)
    else:
        await _allowed(session, channel, "subscribe")
    await subscribe_channel(
        session, channel, request, state, lambda r: session.send({"id": reply_id, "subscribe": r})
    )
    return None


async def _sub_token(session: Session, token: str, channel: str) -> tuple[int | None, Any]:
    tokens = session.endpoint.tokens
    if tokens is None:
        raise CentrifugeError(ErrorCode.PERMISSION_DENIED, "permission denied")
    try:
        claims = await tokens.subscribe(token, user=session.user, channel=channel)
    except TokenExpired:
        raise CentrifugeError(ErrorCode.TOKEN_EXPIRED, "token expired") from None
    except InvalidToken:
        raise CentrifugeError(ErrorCode.PERMISSION_DENIED, "permission denied") from None
    return claims.expire_at, claims.info


async def _unsubscribe(session: Session, request: dict[str, Any], reply_id: int) -> dict[str, Any]:
    channel = _channel(request)
    session.forget(channel)
    await session.connection.unsubscribe(channel)
    return {}


async def _publish(session: Session, request: dict[str, Any], reply_id: int) -> dict[str, Any]:
    channel = _channel(request)
    options = await _allowed(session, channel, "publish")
    if not options.client_publish:
        raise CentrifugeError(ErrorCode.PERMISSION_DENIED, "permission denied")
    text = data_text(request)
    hub = session.endpoint.hub
    if len(text) > hub.limits.max_message_bytes:
        raise CentrifugeError(ErrorCode.LIMIT_EXCEEDED, "limit exceeded")
    if options.validate is not None:
        data = loads(text)
        try:
            checked = options.validate(session.connection, channel, data)
            if inspect.isawaitable(checked):
                checked = await checked
        except ValueError as exc:
            raise PublishRejected(str(exc) or "publish rejected") from exc
        if checked is not data:
            text = dumps(checked)
    await hub.publish_json(channel, text)
    return {}


async def _presence(session: Session, request: dict[str, Any], reply_id: int) -> dict[str, Any]:
    channel = _channel(request)
    if not _subscribed(session, channel).presence:
        raise CentrifugeError(ErrorCode.NOT_AVAILABLE, "not available")
    members = await session.endpoint.hub.backend.presence_members(channel)
    return {"presence": {client: client_info(client, info) for client, info in members.items()}}


async def _presence_stats(
    session: Session, request: dict[str, Any], reply_id: int
) -> dict[str, Any]:
    channel = _channel(request)
    if not _subscribed(session, channel).presence:
        raise CentrifugeError(ErrorCode.NOT_AVAILABLE, "not available")
    members = await session.endpoint.hub.presence(channel)
    users = {member.get("user") for member in members.values()}
    return {"num_clients": len(members), "num_users": len(users)}


async def _history(session: Session, request: dict[str, Any], reply_id: int) -> dict[str, Any]:
    channel = _channel(request)
    options = _subscribed(session, channel)
    if not options.history_size:
        raise CentrifugeError(ErrorCode.NOT_AVAILABLE, "not available")
    limit = int(request.get("limit") or 0)
    since = request.get("since")
    hub = session.endpoint.hub
    page = plain_page(await hub.backend.history(channel, 0, options.history_size))
    position = page.position
    publications = page.publications
    if isinstance(since, dict):
        if str(since.get("epoch") or "") != position.epoch:
            raise CentrifugeError(ErrorCode.UNRECOVERABLE_POSITION, "unrecoverable position")
        mark = int(since.get("offset") or 0)
        if request.get("reverse"):
            publications = [p for p in publications if p.offset < mark]
        else:
            publications = [p for p in publications if p.offset > mark]
    if request.get("reverse"):
        publications = publications[::-1]
    if limit >= 0:
        publications = publications[:limit]
    return {
        "publications": [_publication(p) for p in publications],
        "epoch": position.epoch,
        "offset": position.offset,
    }


async def _rpc(session: Session, request: dict[str, Any], reply_id: int) -> dict[str, Any]:
    method = request.get("method") or ""
    handler = session.endpoint.rpc_handlers.get(method)
    if handler is None:
        raise CentrifugeError(ErrorCode.METHOD_NOT_FOUND, "method not found")
    result = await handler(session, data_text(request))
    return {"data": Raw(result)} if result else {}


async def _send(session: Session, request: dict[str, Any], reply_id: int) -> None:
    handler = session.endpoint.send_handler
    if handler is not None:
        await handler(session, data_text(request))
    return None


async def _refresh(session: Session, request: dict[str, Any], reply_id: int) -> dict[str, Any]:
    tokens = session.endpoint.tokens
    if tokens is None:
        raise CentrifugeError(ErrorCode.NOT_AVAILABLE, "not available")
    try:
        claims = await tokens.connect(str(request.get("token") or ""))
    except TokenExpired:
        raise CentrifugeError(ErrorCode.TOKEN_EXPIRED, "token expired") from None
    except InvalidToken:
        session.close(session.endpoint.invalid_token)
        return {}
    if claims.user != session.user:
        session.close(session.endpoint.invalid_token)
        return {}
    ttl = session.set_expiry(claims.expire_at)
    reply: dict[str, Any] = {"client": session.client, "version": session.endpoint.version}
    if ttl:
        reply.update(expires=True, ttl=ttl)
    return reply


async def _sub_refresh(session: Session, request: dict[str, Any], reply_id: int) -> dict[str, Any]:
    channel = _channel(request)
    state = session.subs.get(channel)
    if state is None:
        raise CentrifugeError(ErrorCode.PERMISSION_DENIED, "permission denied")
    state.expire_at, state.info = await _sub_token(session, str(request.get("token")), channel)
    ttl = session.set_sub_expiry(channel, state)
    return {"expires": True, "ttl": ttl} if ttl else {}


HANDLERS: dict[str, Handler] = {
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
    "publish": _publish,
    "presence": _presence,
    "presence_stats": _presence_stats,
    "history": _history,
    "rpc": _rpc,
    "send": _send,
    "refresh": _refresh,
    "sub_refresh": _sub_refresh,
}

"""The WebSocket endpoint speaking the Centrifuge client protocol (v2) over a channels hub.

One endpoint serves both formats: Protobuf when the client offers the
``centrifuge-protobuf`` subprotocol (or asks with ``?format=protobuf``), JSON otherwise. The
first command must be ``connect`` (else close 3501); a client that sends nothing within
``stale_delay`` seconds is closed with 3502.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from tether._json import dumps, loads
from tether.channels.backends.base import BrokerUnavailable
from tether.channels.centrifuge.codec_json import JsonCodec
from tether.channels.centrifuge.codes import CentrifugeError, Close, ErrorCode
from tether.channels.centrifuge.commands import HANDLERS, error_for, subscribe_channel
from tether.channels.centrifuge.control import Control
from tether.channels.centrifuge.session import Codec, Session, SubState, Wire
from tether.channels.centrifuge.shapes import Raw
from tether.channels.centrifuge.tokens import InvalidToken, TokenExpired, TokenVerifier
from tether.channels.connection import Connection
from tether.channels.errors import ChannelError
from tether.channels.hub import Hub
from tether.channels.names import InvalidChannelName

__all__ = ["CentrifugeEndpoint", "Identity"]

PROTOBUF = "centrifuge-protobuf"
RpcHandler = Callable[[Session, str], Awaitable[str]]
Identity = Mapping[str, Any]
"""What an ``on_connect`` hook returns: ``{"user": str, "info": ..., "channels": [...]}``."""
ConnectHook = Callable[[Any, dict[str, Any]], "Awaitable[Identity | None] | Identity | None"]


class CentrifugeEndpoint:
    """ASGI WebSocket endpoint: ``app.add_websocket_route("/connection/websocket", endpoint)``.

    Identity comes from the connection token (``tokens``), else from ``on_connect(websocket,
    request)`` (return ``{"user": ..., "info": ...}`` or None to refuse), else from the hub's
    ``authenticate``; ``anonymous=True`` lets clients without any of these in as user ``""``.
    """

    # tether.runtime.limits_policy.CLIENT_SPEAKS_FIRST: the client's connect command is the
    # first message; nothing the server sends meets the first-message deadline.
    _tether_client_speaks_first = True

    def __init__(
        self,
        hub: Hub,
        *,
        tokens: TokenVerifier | None = None,
        anonymous: bool = False,
        on_connect: ConnectHook | None = None,
        ping_interval: float = 25.0,
        pong_timeout: float = 8.0,
        stale_delay: float = 10.0,
        expiry_grace: float = 25.0,
        version: str = "tether",
    ) -> None:
        self.hub = hub
        self.tokens = tokens
        self.anonymous = anonymous
        self.on_connect = on_connect
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.stale_delay = stale_delay
        self.expiry_grace = expiry_grace
        self.version = version
        self.invalid_token = Close.INVALID_TOKEN
        self.sessions: dict[Connection, Session] = {}
        self.rpc_handlers: dict[str, RpcHandler] = {}
        self.send_handler: RpcHandler | None = None
        self._json = Wire(self, JsonCodec())
        self._protobuf: Wire | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.control = Control(hub, self._apply)

    # -- registration -------------------------------------------------------------------------

    def rpc(self, method: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register ``handler(session, data)`` for RPC ``method``; its result is the reply.

        ``data`` is decoded JSON, or an instance of the handler's annotated type (a typed
        message: pydantic, msgspec or dataclass), converted once per call by an adapter built
        here. Raise :class:`CentrifugeError` to answer with an error code.
        """

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            self.rpc_handlers[method] = _compile(handler)
            return handler

        return register

    def on_send(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``handler(session, data)`` for the client's async ``send`` messages."""
        self.send_handler = _compile(handler)
        return handler

    def spawn(self, coroutine: Any) -> None:
        """Run ``coroutine`` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def uni_websocket(self) -> Any:
        """ASGI app of the unidirectional WebSocket transport (``uni_websocket``).

        The client sends one connect request (a JSON ``ConnectRequest``, or ``?cf_connect=``
        in the URL) and then only listens: pushes arrive unwrapped, one JSON object per
        frame, for the channels its identity subscribes it to (a token's ``channels``).
        """
        from tether.channels.centrifuge.uni import UniWebSocket

        return UniWebSocket(self)

    @property
    def uni_sse(self) -> Any:
        """ASGI app of the unidirectional Server-Sent Events transport (``uni_sse``).

        ``GET ?cf_connect=<ConnectRequest JSON>`` (or a POST with it as the body) answers a
        ``text/event-stream`` whose events are the unwrapped pushes of ``uni_websocket``.
        """
        from tether.channels.centrifuge.uni import UniSse

        return UniSse(self)

    def _wire(self, websocket: Any) -> tuple[Wire, str | None]:
        offered = websocket.scope.get("subprotocols") or []
        query = websocket.scope.get("query_string", b"")
        if PROTOBUF in offered or b"format=protobuf" in query or b"cf_protocol=protobuf" in query:
            if self._protobuf is None:
                from tether.channels.centrifuge.codec_protobuf import ProtobufCodec

                self._protobuf = Wire(self, ProtobufCodec())
            return self._protobuf, PROTOBUF if PROTOBUF in offered else None
        return self._json, "centrifuge-json" if "centrifuge-json" in offered else None

    # -- serving ------------------------------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """ASGI entry point (a WebSocket scope)."""
        from tether.websockets import WebSocket

        await self.serve(WebSocket(scope, receive, send))

    async def serve(self, websocket: Any) -> None:
        """Run the protocol on an unaccepted ``websocket`` until it disconnects."""
        wire, subprotocol = self._wire(websocket)
        await websocket.accept(subprotocol=subprotocol)
        try:
            async with asyncio.timeout(self.stale_delay):
                commands = await self._receive(websocket, wire.codec)
        except TimeoutError:
            await websocket.close(*Close.STALE)
            return
        if commands is None:
            return
        if not commands or "connect" not in commands[0]:
            await websocket.close(*Close.BAD_REQUEST)
            return
        session = await self._connect(websocket, wire, commands[0])
        if session is None:
            return
        try:
            await self._run(session, commands[1:])
        finally:
            self.finish(session)

    def finish(self, session: Session) -> None:
        """Forget a session whose socket ended: timers, subscriptions, presence."""
        session.stop()
        self.sessions.pop(session.connection, None)
        self.hub._drop(session.connection)
        session.connection.outbox.detach()

    async def _receive(self, websocket: Any, codec: Codec) -> list[dict[str, Any]] | None:
        """The commands of the next frame; None when the client went away or sent garbage."""
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        frame = message.get("bytes") if codec.binary else message.get("text")
        if frame is None:
            frame = message.get("text") or message.get("bytes") or ""
        try:
            return codec.decode(frame)
        except ValueError:
            self.hub.metrics.protocol_errors += 1
            await websocket.close(*Close.BAD_REQUEST)
            return None

    async def _run(self, session: Session, pending: list[dict[str, Any]]) -> None:
        websocket, codec = session.connection.websocket, session.codec
        while not session.connection.closed:
            for command in pending:
                try:
                    ok = await self._dispatch(session, command)
                except (ValueError, TypeError, AttributeError):  # e.g. an "id" that is no number
                    ok = False
                if not ok:
                    session.close(Close.BAD_REQUEST)
                    return
            try:
                commands = await self._receive(websocket, codec)
            except Exception:  # the socket broke under us: the client is gone
                return
            if commands is None:
                return
            pending = commands

    async def _dispatch(self, session: Session, command: dict[str, Any]) -> bool:
        """Run one command and queue its reply; False for a command that breaks the protocol."""
        reply_id = int(command.get("id") or 0)
        method = next((name for name in command if name in HANDLERS), None)
        if method is None:
            if reply_id == 0 and len(command) <= 1:
                session.pong()  # an empty command answers the server's ping
                return True
            return "connect" not in command and reply_id > 0 and self._unknown(session, reply_id)
        request = command[method]
        if not isinstance(request, dict):
            return False
        try:
            result = await HANDLERS[method](session, request, reply_id)
        except (ChannelError, InvalidChannelName, CentrifugeError) as exc:
            self.hub.metrics.protocol_errors += 1
            session.send({"id": reply_id, "error": error_for(exc).reply()})
            return True
        except BrokerUnavailable:
            error = CentrifugeError(ErrorCode.INTERNAL, "internal server error", temporary=True)
            session.send({"id": reply_id, "error": error.reply()})
            return True
        except (ValueError, TypeError):
            session.send(
                {"id": reply_id, "error": {"code": ErrorCode.BAD_REQUEST, "message": "bad request"}}
            )
            return True
        if result is None or not reply_id:
            pass
        elif result:
            session.send({"id": reply_id, method: result})
        else:
            session.send_message(session.codec.empty_reply(reply_id, method))
        return True

    def _unknown(self, session: Session, reply_id: int) -> bool:
        error = {"code": ErrorCode.METHOD_NOT_FOUND, "message": "method not found"}
        session.send({"id": reply_id, "error": error})
        return True

    # -- connect ------------------------------------------------------------------------------

    async def _connect(self, websocket: Any, wire: Wire, command: dict[str, Any]) -> Session | None:
        reply_id = int(command.get("id") or 0)
        request = command["connect"] if isinstance(command["connect"], dict) else {}
        try:
            identity, expire_at = await self._identify(websocket, request)
        except CentrifugeError as exc:
            if wire.codec.unidirectional:  # no replies there: the close code says it
                await websocket.close(*_close_for(exc))
                return None
            reply = {"id": reply_id, "error": exc.reply()}
            await websocket.send(wire.codec.encode([reply]))
            await self._linger(websocket)
            return None
        except InvalidToken:
            await websocket.close(*self.invalid_token)
            return None
        user = str(identity.get("user") or "")
        connection = self.hub.open(websocket, info=identity.get("info"), user=user, raw=True)
        connection.wire = wire
        session = Session(self, connection, wire, user)
        session.meta = identity.get("meta")
        self.sessions[connection] = session
        ttl = session.set_expiry(expire_at)
        result: dict[str, Any] = {
            "client": session.client,
            "version": self.version,
            "node": self.hub.node_id,
        }
        if self.ping_interval > 0:
            result.update(ping=int(self.ping_interval), pong=not wire.codec.unidirectional)
        if ttl:
            result.update(expires=True, ttl=ttl)
        if identity.get("data") is not None:
            result["data"] = Raw(dumps(identity["data"]))
        await self.control.listen()  # this node hears server-side commands from here on
        session.send({"id": reply_id, "connect": result})
        session.start_pings()
        await self._server_side(session, identity, request)
        return session

    async def _linger(self, websocket: Any) -> None:
        """After a refused connect, let the client close: the SDKs read the error reply
        and then close themselves; one closed under them first only sees a dropped
        transport and retries as if the network had failed."""
        try:
            async with asyncio.timeout(self.stale_delay):
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
        except TimeoutError:
            await websocket.close(*Close.STALE)

    async def _identify(
        self, websocket: Any, request: dict[str, Any]
    ) -> tuple[Mapping[str, Any], int | None]:
        """(identity, expiry) of a connecting client; raises CentrifugeError / InvalidToken."""
        token = request.get("token")
        if token and self.tokens is not None:
            try:
                claims = await self.tokens.connect(str(token))
            except TokenExpired:
                raise CentrifugeError(ErrorCode.TOKEN_EXPIRED, "token expired") from None
            identity = {
                "user": claims.user,
                "info": claims.info,
                "channels": list(claims.channels) + list(claims.subs),
                "meta": claims.meta,
            }
            return identity, claims.expire_at
        if self.on_connect is not None:
            found = self.on_connect(websocket, request)
            if inspect.isawaitable(found):
                found = await found
            if found is None:
                raise CentrifugeError(ErrorCode.UNAUTHORIZED, "unauthorized")
            return found, None
        if self.hub.authenticate is not None:
            found = self.hub.authenticate(websocket)
            if inspect.isawaitable(found):
                found = await found
            if found is not None:
                return found, None
        if self.anonymous and not token:
            return {"user": ""}, None
        if token:
            raise InvalidToken("no way to verify tokens is configured")
        raise CentrifugeError(ErrorCode.UNAUTHORIZED, "unauthorized")

    async def _server_side(
        self, session: Session, identity: Mapping[str, Any], request: dict[str, Any]
    ) -> None:
        """Subscribe the client to its identity's ``channels``, pushed as ``sub``.

        The SDK remembers where each stream stopped and sends it back in the connect
        request's ``subs`` on reconnect, so server-side subscriptions recover too.
        """
        positions = request.get("subs") if isinstance(request.get("subs"), dict) else {}
        for channel in identity.get("channels") or ():
            known = positions.get(channel) if isinstance(positions, dict) else None
            wanted = known if isinstance(known, dict) else {}
            state = SubState(server_side=True)
            try:
                await subscribe_channel(
                    session,
                    channel,
                    wanted,
                    state,
                    partial(session.push, channel, "subscribe"),
                )
            except (ChannelError, InvalidChannelName) as exc:
                logger_warning(channel, exc)

    # -- server-side operations ---------------------------------------------------------------

    async def subscribe(self, user: str, channel: str) -> None:
        """Subscribe ``user``'s connections on every node to ``channel`` (a ``subscribe`` push).

        Sent through the broker (see :mod:`tether.channels.centrifuge.control`); returns once
        published, before the nodes have applied it.
        """
        await self.control.send({"op": "subscribe", "user": user, "channel": channel})

    async def unsubscribe(self, user: str, channel: str) -> None:
        """Unsubscribe ``user``'s connections on every node from ``channel`` (code 2000)."""
        await self.control.send({"op": "unsubscribe", "user": user, "channel": channel})

    async def disconnect(self, user: str, *, reconnect: bool = False) -> None:
        """Close ``user``'s connections on every node (3503, or 3011 to make them reconnect)."""
        await self.control.send({"op": "disconnect", "user": user, "reconnect": reconnect})

    async def _apply(self, command: dict[str, Any]) -> None:
        """Carry out a control command on this node's sessions of its user."""
        op, user = command.get("op"), command.get("user")
        for session in [s for s in self.sessions.values() if s.user == user]:
            channel = str(command.get("channel") or "")
            if op == "subscribe" and channel not in session.subs:
                push = partial(session.push, channel, "subscribe")
                await subscribe_channel(session, channel, {}, SubState(server_side=True), push)
            elif op == "unsubscribe" and channel in session.subs:
                session.forget(channel)
                await session.connection.unsubscribe(channel)
                session.push(channel, "unsubscribe", {"code": 2000, "reason": "server unsubscribe"})
            elif op == "disconnect":
                reconnect = bool(command.get("reconnect"))
                session.close(Close.FORCE_RECONNECT if reconnect else Close.FORCE_NO_RECONNECT)


def _close_for(exc: CentrifugeError) -> tuple[int, str]:
    """The close code standing for a refused connect where no error reply can be sent."""
    if exc.number == ErrorCode.TOKEN_EXPIRED:
        return Close.EXPIRED  # reconnect, with a new token
    if exc.number == ErrorCode.UNAUTHORIZED:
        return Close.INVALID_TOKEN
    return Close.BAD_REQUEST


def logger_warning(channel: str, exc: Exception) -> None:
    import logging

    logging.getLogger("tether.channels").warning(
        "server-side subscription to %s refused: %r", channel, exc
    )


def _compile(handler: Callable[..., Any]) -> RpcHandler:
    """Wrap ``handler(session, data)``: decode data to its annotated type, encode the result."""
    from tether.messages.adapters import adapter_for

    parameters = list(inspect.signature(handler, eval_str=True).parameters.values())
    annotation = parameters[1].annotation if len(parameters) > 1 else inspect.Parameter.empty
    typed = annotation not in (inspect.Parameter.empty, Any, object)
    adapter = adapter_for(annotation) if typed else None
    is_async = inspect.iscoroutinefunction(handler)

    async def run(session: Session, data: str) -> str:
        if adapter is not None:
            try:
                value = adapter.decode(data)
            except Exception as exc:
                raise CentrifugeError(ErrorCode.BAD_REQUEST, "bad request") from exc
        else:
            value = loads(data)
        result = handler(session, value)
        if is_async:
            result = await result
        if result is None:
            return ""
        if isinstance(result, dict | list | str | int | float | bool):
            return dumps(result)
        from tether.messages.adapters import encode

        return encode(result)

    return run

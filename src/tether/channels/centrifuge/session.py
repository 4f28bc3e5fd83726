"""One Centrifuge client on one WebSocket: identity, timers, per-channel state, output.

Every frame the session sends after the connect reply goes through the hub connection's
outbound queue, so replies, pushes and the publications the hub fans out stay in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tether._json import dumps, loads
from tether.channels.backends.base import Publication
from tether.channels.centrifuge.codes import Close, UnsubscribeCode
from tether.channels.centrifuge.shapes import Raw
from tether.channels.connection import Connection
from tether.channels.options import SlowConsumerPolicy
from tether.channels.subscriber import Entry

if TYPE_CHECKING:
    from tether.channels.centrifuge.tokens import TokenVerifier
    from tether.channels.hub import Hub

__all__ = ["Codec", "Host", "Session", "SubState", "Wire"]


class Codec(Protocol):
    """A wire format of the protocol (JSON or Protobuf)."""

    name: str
    binary: bool
    unidirectional: bool

    def decode(self, frame: str | bytes) -> list[dict[str, Any]]: ...

    def encode(self, replies: list[dict[str, Any]]) -> dict[str, Any]: ...

    def empty_reply(self, reply_id: int, method: str) -> dict[str, Any]: ...

    def publication(self, publication: Publication, channel_json: str) -> dict[str, Any]: ...

    def size(self, message: dict[str, Any]) -> int: ...


class Host(Protocol):
    """What sessions, commands and transports need of their endpoint.

    A protocol rather than the endpoint's class, which imports them: naming it here would
    tie the modules into a circle.
    """

    hub: Hub
    tokens: TokenVerifier | None
    version: str
    invalid_token: tuple[int, str]
    ping_interval: float
    pong_timeout: float
    stale_delay: float
    expiry_grace: float
    sessions: dict[Connection, Session]
    rpc_handlers: dict[str, Callable[[Session, str], Awaitable[str]]]
    send_handler: Callable[[Session, str], Awaitable[str]] | None

    def spawn(self, coroutine: Any) -> None: ...

    def finish(self, session: Session) -> None: ...

    async def _connect(
        self, websocket: Any, wire: Wire, command: dict[str, Any]
    ) -> Session | None: ...


@dataclass(slots=True)
class SubState:
    """A client's subscription as the protocol sees it (the hub keeps the stream state)."""

    join_leave: bool = False
    expire_at: int | None = None
    info: Any = None
    timer: asyncio.TimerHandle | None = None
    server_side: bool = False


class Wire:
    """The hub's view of one codec of one endpoint: frames for fan-out, events for sessions."""

    __slots__ = ("codec", "endpoint", "_channel_json")

    def __init__(self, endpoint: Host, codec: Codec) -> None:
        self.endpoint = endpoint
        self.codec = codec
        self._channel_json: dict[str, str] = {}

    def publication_entry(self, publication: Publication, channel: str) -> Entry:
        """The ``pub`` push of ``publication`` as a queue entry (built once per fan-out)."""
        names = self._channel_json
        channel_json = names.get(channel)
        if channel_json is None:
            if len(names) > 10000:
                names.clear()
            channel_json = names[channel] = dumps(channel)
        message = self.codec.publication(publication, channel_json)
        policy = self.endpoint.hub.namespaces.options(channel).slow_consumer
        return (message, self.codec.size(message), policy)

    def presence_event(
        self, connection: Connection, channel: str, kind: str, client_id: str, info: str
    ) -> None:
        """Push ``join``/``leave`` to a client that asked for them on this channel."""
        session = self.endpoint.sessions.get(connection)
        if session is None:
            return
        state = session.subs.get(channel)
        if state is None or not state.join_leave:
            return
        session.push(channel, kind, {"info": client_info(client_id, info)})

    def insufficient(self, connection: Connection, channel: str) -> None:
        """The hub dropped the subscription: tell the SDK to subscribe again and recover."""
        session = self.endpoint.sessions.get(connection)
        if session is not None:
            session.forget(channel)
            session.push(
                channel,
                "unsubscribe",
                {"code": UnsubscribeCode.INSUFFICIENT, "reason": "insufficient state"},
            )


def client_info(client_id: str, info_json: str) -> dict[str, Any]:
    """A ``ClientInfo`` from the hub's presence record ``{"user": ..., "info": ...}``."""
    record = loads(info_json) if info_json else {}
    result: dict[str, Any] = {"user": record.get("user") or "", "client": client_id}
    if record.get("info") is not None:
        result["conn_info"] = Raw(dumps(record["info"]))
    return result


class Session:
    """State of one connected client; created by the endpoint after a good ``connect``."""

    def __init__(self, endpoint: Host, connection: Connection, wire: Wire, user: str) -> None:
        self.endpoint = endpoint
        self.connection = connection
        self.wire = wire
        self.codec = wire.codec
        self.user = user
        self.client = connection.client_id
        self.subs: dict[str, SubState] = {}
        self.expire_at: int | None = None
        self.meta: Any = None
        self._expiry: asyncio.TimerHandle | None = None
        self._ping: asyncio.TimerHandle | None = None
        self._pong: asyncio.TimerHandle | None = None

    # -- output -------------------------------------------------------------------------------

    def send(self, reply: dict[str, Any]) -> None:
        """Queue one reply (never awaits); a full queue closes the connection as slow."""
        self.send_message(self.codec.encode([reply]))

    def send_message(self, message: dict[str, Any]) -> None:
        """Queue an encoded ASGI send message."""
        entry = (message, self.codec.size(message), SlowConsumerPolicy.DISCONNECT)
        self.connection.outbox.push_entry(entry)

    def push(self, channel: str, kind: str, body: dict[str, Any]) -> None:
        """Queue a push (``pub``, ``join``, ``leave``, ``unsubscribe``, ``sub``, ...)."""
        self.send({"push": {"channel": channel, kind: body}})

    def close(self, code_reason: tuple[int, str]) -> None:
        """Close with a protocol close code after what is already queued is dropped."""
        self.connection.outbox.close(*code_reason)

    # -- timers -------------------------------------------------------------------------------

    def start_pings(self) -> None:
        """Send ``{}`` every ``ping_interval``; a missing pong closes with 3012."""
        interval = self.endpoint.ping_interval
        if interval > 0:
            self._ping = asyncio.get_running_loop().call_later(interval, self._send_ping)

    def _send_ping(self) -> None:
        if self.connection.closed:
            return
        self.send({})
        loop = asyncio.get_running_loop()
        if self._pong is None and not self.codec.unidirectional:  # uni clients never answer
            self._pong = loop.call_later(self.endpoint.pong_timeout, self._no_pong)
        self._ping = loop.call_later(self.endpoint.ping_interval, self._send_ping)

    def _no_pong(self) -> None:
        self._pong = None
        self.close(Close.NO_PONG)

    def pong(self) -> None:
        """The client answered a ping."""
        if self._pong is not None:
            self._pong.cancel()
            self._pong = None

    def set_expiry(self, expire_at: int | None) -> int:
        """Arm (or clear) the connection's expiry; returns the ttl in seconds (0: none)."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self.expire_at = expire_at
        if expire_at is None:
            return 0
        ttl, delay = self._expiry_times(expire_at)
        self._expiry = asyncio.get_running_loop().call_later(delay, self.close, Close.EXPIRED)
        return ttl

    def _expiry_times(self, expire_at: int) -> tuple[int, float]:
        """The ttl to tell the client and the delay until the close, for a token's ``exp``.

        The client is told whole seconds, rounded down (it refreshes early, never late); the
        close comes once the token really expired, plus the grace: closing at the rounded-down
        ttl let a client reconnect with a token that was still valid.
        """
        left = expire_at - time.time()
        return max(int(left), 1), max(left, 1.0) + self.endpoint.expiry_grace

    def set_sub_expiry(self, channel: str, state: SubState) -> int:
        """Arm a subscription's expiry (unsubscribe push 2501); returns its ttl (0: none)."""
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if state.expire_at is None:
            return 0
        ttl, delay = self._expiry_times(state.expire_at)
        loop = asyncio.get_running_loop()
        state.timer = loop.call_later(delay, self._sub_expired, channel)
        return ttl

    def _sub_expired(self, channel: str) -> None:
        if self.subs.get(channel) is None:
            return
        self.forget(channel)
        self.endpoint.spawn(self.connection.unsubscribe(channel))
        self.push(
            channel,
            "unsubscribe",
            {"code": UnsubscribeCode.EXPIRED, "reason": "subscription expired"},
        )

    def forget(self, channel: str) -> None:
        """Drop the protocol state of ``channel`` (the hub side is handled by the caller)."""
        state = self.subs.pop(channel, None)
        if state is not None and state.timer is not None:
            state.timer.cancel()

    def stop(self) -> None:
        """Cancel every timer (the connection ended)."""
        for handle in (self._expiry, self._ping, self._pong):
            if handle is not None:
                handle.cancel()
        for channel in list(self.subs):
            self.forget(channel)

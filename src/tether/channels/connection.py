"""One WebSocket's side of the hub: its subscriptions, identity and outbound queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tether.channels.backends.base import Position, Publication
from tether.channels.names import Namespaces
from tether.channels.subscriber import Entry, Outbox

__all__ = ["Connection", "Membership", "SubscribeResult", "Subscription", "Wire"]


class Membership(Protocol):
    """What a connection needs of its hub (:class:`tether.channels.hub.Hub` is one).

    A protocol rather than the hub's class: the hub holds connections, so naming it here would
    tie the two modules into a circle.
    """

    namespaces: Namespaces

    async def _subscribe(
        self, connection: Connection, channel: str, since: Position | None
    ) -> SubscribeResult: ...

    def _unsubscribe(self, connection: Connection, channel: str) -> None: ...


class Wire(Protocol):
    """Frames of another client protocol spoken over the hub (the Centrifuge endpoint).

    A connection with a wire is ``raw`` to the hub: the router asks the wire, not tether's
    protocol, for its publication frames (once per fan-out and wire) and hands it the
    channel events (join, leave, a stream hole) of that connection.
    """

    def publication_entry(self, publication: Publication, channel: str) -> Entry:
        """The queue entry ``(message, size, policy)`` of one publication in ``channel``."""
        ...

    def presence_event(
        self, connection: Connection, channel: str, kind: str, client_id: str, info: str
    ) -> None:
        """Deliver a ``join``/``leave`` of ``client_id`` (``info`` is JSON text)."""
        ...

    def insufficient(self, connection: Connection, channel: str) -> None:
        """The hub unsubscribed ``connection`` from ``channel``: its stream has a hole."""
        ...


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    """Outcome of a subscribe: where the delivered stream starts and whether it recovered.

    Every publication with an offset greater than ``position.offset`` (in ``position.epoch``)
    is delivered, in order. ``recovered`` is True when every message after ``since`` is being
    replayed, so ``position`` equals ``since``; otherwise ``position`` is the channel's current
    position (always so when no ``since`` was given; see ``was_recovering``).
    """

    channel: str
    position: Position
    recovered: bool
    was_recovering: bool
    publications_replayed: int


class Subscription:
    """A connection's membership in one channel; buffers live messages while it catches up.

    ``outbox`` and ``raw`` repeat the connection's, so fan-out reads one object per recipient.
    """

    __slots__ = ("buffer", "connection", "epoch", "last", "outbox", "raw", "wire")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.outbox = connection.outbox
        self.raw = connection.raw
        self.wire = connection.wire
        self.last = 0
        self.epoch = ""
        # Not None while history is being read: live publications wait here (the splice).
        self.buffer: list[Publication] | None = []


class Connection:
    """The hub's handle on one WebSocket: subscribe and unsubscribe it, see its queue.

    Create it with :meth:`Channels.connection` or let :meth:`Channels.subscribe` do it.
    """

    __slots__ = (
        "client_id",
        "closed",
        "hub",
        "info",
        "outbox",
        "raw",
        "subscriptions",
        "user",
        "websocket",
        "wire",
    )

    def __init__(
        self,
        hub: Membership,
        websocket: Any,
        outbox: Outbox,
        *,
        client_id: str,
        user: str | None,
        info: dict[str, Any] | None,
        raw: bool,
    ) -> None:
        self.hub = hub
        self.websocket = websocket
        self.outbox = outbox
        self.client_id = client_id
        self.user = user
        self.info = info
        self.raw = raw
        self.closed = False
        self.subscriptions: dict[str, Subscription] = {}
        # Another protocol's framing (a raw connection whose frames it builds), else None.
        self.wire: Wire | None = None

    @property
    def channels(self) -> list[str]:
        """Names of the channels this connection is subscribed to."""
        return list(self.subscriptions)

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting in the outbound queue."""
        return self.outbox.queued_bytes

    async def subscribe(self, channel: str, *, since: Position | None = None) -> SubscribeResult:
        """Subscribe to ``channel``, replaying messages after ``since`` when possible.

        Raises :class:`~tether.channels.errors.ChannelError` subclasses when refused.
        """
        return await self.hub._subscribe(self, channel, since)

    async def unsubscribe(self, channel: str) -> None:
        """Stop delivering ``channel`` here; leaving presence happens in the background."""
        self.hub._unsubscribe(self, channel)

    def send_text(self, text: str) -> bool:
        """Queue a text frame for this connection (not awaited); False if it was not queued."""
        from tether.channels.options import SlowConsumerPolicy

        message = {"type": "websocket.send", "text": text}
        return self.outbox.push(message, len(text), SlowConsumerPolicy.DISCONNECT)

    def __repr__(self) -> str:
        return f"<Connection {self.client_id} channels={len(self.subscriptions)}>"

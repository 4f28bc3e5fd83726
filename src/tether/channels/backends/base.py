"""The Backend contract every broker implements (memory, Redis, ...).

A backend assigns offsets, keeps bounded history, stores presence and carries live messages
between processes. The hub talks to it only through :class:`Backend`, and the backend reports
what arrives through a :class:`BackendListener`; the contract-test suite runs unchanged against
every implementation.

Payloads travel as JSON text: the hub encodes once, and no backend decodes ``data``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Protocol

from tether.channels.options import ChannelOptions

__all__ = [
    "Backend",
    "BackendListener",
    "BrokerUnavailable",
    "Capabilities",
    "FRESH_META_TTL",
    "HistoryPage",
    "Position",
    "Publication",
]


FRESH_META_TTL = 120.0
"""Seconds the metadata a read created lives without a publish or a :meth:`Backend.keep`."""


class BrokerUnavailable(ConnectionError):
    """The broker cannot be reached right now; the call may succeed after a reconnect."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a channel's stream stands: the last ``offset`` assigned within ``epoch``."""

    offset: int
    epoch: str


@dataclass(frozen=True, slots=True)
class Publication:
    """One message of a channel: its broker-assigned ``offset``, ``epoch`` and JSON ``data``."""

    channel: str
    offset: int
    epoch: str
    data: str


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """Retained publications after some offset, oldest first, and the channel's position."""

    publications: list[Publication]
    position: Position


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do; the hub adapts (for example: no recovery without history)."""

    has_history: bool = True
    has_presence: bool = True
    cross_process: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class BackendListener(Protocol):
    """What a backend calls when something arrives. Calls are synchronous and must not block."""

    def on_publication(self, publication: Publication) -> None:
        """A live publication for a channel this node subscribed to."""

    def on_presence_event(self, channel: str, kind: str, client_id: str, info: str) -> None:
        """A ``join`` or ``leave`` of ``client_id`` (``info`` is JSON text)."""

    def on_resubscribed(self) -> None:
        """The backend reconnected and resubscribed: live messages may have been missed."""

    def on_broker_state(self, available: bool) -> None:
        """The broker became unreachable (``False``) or reachable again (``True``).

        Called once per change, not once per retry.
        """


class Backend(abc.ABC):
    """Abstract broker. Methods raise :class:`BrokerUnavailable` when the broker is down."""

    capabilities: Capabilities = Capabilities()
    #: Where the broker is, for messages and logs (a URL without its password).
    address: str = "(unknown broker)"

    @abc.abstractmethod
    async def start(self, listener: BackendListener) -> None:
        """Connect and start delivering live messages to ``listener``."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop listening, remove this node's presence entries, release connections."""

    @abc.abstractmethod
    async def publish(self, channel: str, data: str, options: ChannelOptions) -> Position:
        """Assign the next offset atomically, keep history per ``options``, publish live."""

    @abc.abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Receive live messages of ``channel``; return once the broker confirmed it.

        Interest is recorded synchronously, before the first await, so cancelling the wait
        never loses or reorders it against a later :meth:`unsubscribe`. Idempotent.
        """

    @abc.abstractmethod
    def unsubscribe(self, channel: str) -> None:
        """Stop receiving live messages of ``channel`` (recorded at once, applied soon)."""

    @abc.abstractmethod
    async def history(self, channel: str, since: int, limit: int) -> HistoryPage:
        """Up to ``limit`` retained publications with offset > ``since``, and the position.

        Creates the channel's epoch if it has none yet, so a position read before the first
        publish stays valid after it. Metadata created by a read lives only
        :data:`FRESH_META_TTL` seconds unless published to or kept (:meth:`keep`), so names
        nobody publishes to do not stay behind in the broker.
        """

    async def keep(self, channels: list[str], ttl: float) -> None:
        """Make the metadata of ``channels`` (served here) live at least ``ttl`` more seconds.

        Called by the hub's heartbeat for every channel with a local subscriber: a channel that
        is listened to keeps its epoch however quiet it is. Never shortens a longer TTL.
        """
        return None  # a backend whose metadata never expires has nothing to do

    async def position(self, channel: str) -> Position:
        """The channel's current position (creating its epoch if needed)."""
        return (await self.history(channel, 0, 0)).position

    @abc.abstractmethod
    async def presence_add(self, channel: str, client_id: str, info: str, ttl: float) -> None:
        """Add or refresh a member; it expires after ``ttl`` seconds unless refreshed."""

    async def presence_refresh(self, entries: dict[tuple[str, str], str], ttl: float) -> None:
        """Heartbeat: re-add every ``(channel, client_id) -> info`` entry of this node."""
        for (channel, client_id), info in entries.items():
            await self.presence_add(channel, client_id, info, ttl)

    @abc.abstractmethod
    async def presence_remove(self, channel: str, client_id: str) -> None:
        """Remove a member (idempotent)."""

    async def presence_expire(self, channel: str) -> dict[str, str]:
        """Remove members whose heartbeat stopped and return them (client id -> info JSON).

        Atomic: when several nodes sweep one channel, each expired member is returned to
        exactly one of them, which announces its ``leave``. A backend without TTL presence
        returns nothing.
        """
        return {}

    @abc.abstractmethod
    async def presence_members(self, channel: str) -> dict[str, str]:
        """Live members: client id -> info JSON."""

    @abc.abstractmethod
    async def presence_count(self, channel: str) -> int:
        """Number of live members, without listing them."""

    @abc.abstractmethod
    async def presence_event(self, channel: str, kind: str, client_id: str, info: str) -> None:
        """Broadcast a ``join``/``leave`` event to every node subscribed to ``channel``."""

    @abc.abstractmethod
    def health(self) -> dict[str, Any]:
        """A JSON-ready snapshot: at least ``{"state": "connected" | ..., "ok": bool}``."""

"""The in-process broker: same contract as Redis, no network.

A :class:`MemoryBroker` holds streams and presence; each hub gets its own
:class:`MemoryBackend` on it, so several hubs sharing one broker behave like several nodes
sharing one Redis (the contract tests use that). The epoch of a channel is created when the
channel is first touched and again whenever its metadata expired, so positions from a previous
process or an expired stream never recover silently.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from typing import Any

from tether.channels.backends.base import (
    FRESH_META_TTL,
    Backend,
    BackendListener,
    Capabilities,
    HistoryPage,
    Position,
    Publication,
)
from tether.channels.options import ChannelOptions

__all__ = ["MemoryBackend", "MemoryBroker"]


class _Stream:
    __slots__ = (
        "epoch",
        "history",
        "history_ttl",
        "kept_until",
        "last_touch",
        "meta_ttl",
        "offset",
    )

    def __init__(self, now: float) -> None:
        self.epoch = secrets.token_hex(4)
        self.offset = 0
        self.history: deque[tuple[int, str]] = deque()
        self.history_ttl = 0.0
        # Created by a read: short-lived until a publish sets the namespace's meta_ttl.
        self.meta_ttl = FRESH_META_TTL
        self.last_touch = now
        self.kept_until = now  # extended by keep() while a hub listens

    def expired(self, now: float) -> bool:
        return now - self.last_touch > self.meta_ttl and now > self.kept_until


class MemoryBroker:
    """Streams, presence and interest of every backend attached to it, in this process."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._interest: dict[str, set[MemoryBackend]] = {}
        self._presence: dict[str, dict[str, tuple[str, float, MemoryBackend]]] = {}
        self._last_sweep = clock()

    def stream(self, channel: str) -> _Stream:
        """Return the live stream of ``channel``, replacing an expired one (new epoch)."""
        now = self._clock()
        if now - self._last_sweep > 1.0:
            self._sweep(now)
        stream = self._streams.get(channel)
        if stream is None or stream.expired(now):
            stream = self._streams[channel] = _Stream(now)
        elif stream.history and now - stream.last_touch > stream.history_ttl:
            stream.history.clear()
        return stream

    def _sweep(self, now: float) -> None:
        # Dead channels must not accumulate: drop expired metadata, clear expired history.
        self._last_sweep = now
        for channel, stream in list(self._streams.items()):
            idle = now - stream.last_touch
            if stream.expired(now):
                del self._streams[channel]
            elif stream.history and idle > stream.history_ttl:
                stream.history.clear()

    def publish(self, channel: str, data: str, options: ChannelOptions) -> Position:
        stream = self.stream(channel)
        stream.offset += 1
        stream.last_touch = self._clock()
        stream.meta_ttl = options.meta_ttl
        stream.history_ttl = options.history_ttl
        if options.history_size:
            stream.history.append((stream.offset, data))
            while len(stream.history) > options.history_size:
                stream.history.popleft()
        elif stream.history:
            stream.history.clear()
        publication = Publication(channel, stream.offset, stream.epoch, data)
        for backend in tuple(self._interest.get(channel, ())):
            backend.deliver(publication)
        return Position(stream.offset, stream.epoch)

    def keep(self, channels: list[str], ttl: float) -> None:
        now = self._clock()
        for channel in channels:
            stream = self._streams.get(channel)
            if stream is not None:
                stream.kept_until = max(stream.kept_until, now + ttl)

    def history(self, channel: str, since: int, limit: int) -> HistoryPage:
        stream = self.stream(channel)
        found: list[Publication] = []
        if limit > 0 and stream.history and stream.history[-1][0] > since:
            start = max(0, len(stream.history) - (stream.offset - since))
            for index in range(start, len(stream.history)):
                offset, data = stream.history[index]
                if offset > since:
                    found.append(Publication(channel, offset, stream.epoch, data))
                    if len(found) >= limit:
                        break
        return HistoryPage(found, Position(stream.offset, stream.epoch))

    def interest(self, channel: str, backend: MemoryBackend, on: bool) -> None:
        if on:
            self._interest.setdefault(channel, set()).add(backend)
            return
        members = self._interest.get(channel)
        if members is not None:
            members.discard(backend)
            if not members:
                del self._interest[channel]

    def subscribed_channels(self) -> set[str]:
        """Channels that at least one backend listens to (a test oracle, like PUBSUB)."""
        return set(self._interest)

    def presence(self, channel: str) -> dict[str, str]:
        """Live members; expired ones stay until :meth:`presence_expire` announces them."""
        now = self._clock()
        members = self._presence.get(channel, {})
        return {client: info for client, (info, exp, _) in members.items() if exp >= now}

    def presence_expire(self, channel: str) -> dict[str, str]:
        members = self._presence.get(channel)
        if not members:
            return {}
        now = self._clock()
        expired = {c: info for c, (info, exp, _) in members.items() if exp < now}
        for client_id in expired:
            self.presence_del(channel, client_id)
        return expired

    def presence_set(self, channel: str, client_id: str, entry: tuple[str, float, Any]) -> None:
        self._presence.setdefault(channel, {})[client_id] = entry

    def presence_del(self, channel: str, client_id: str) -> None:
        members = self._presence.get(channel)
        if members is not None:
            members.pop(client_id, None)
            if not members:
                del self._presence[channel]

    def drop_backend(self, backend: MemoryBackend) -> None:
        for channel in list(self._interest):
            self.interest(channel, backend, False)
        for channel, members in list(self._presence.items()):
            for client_id in [c for c, (_, _, b) in members.items() if b is backend]:
                self.presence_del(channel, client_id)

    def event(self, channel: str, kind: str, client_id: str, info: str) -> None:
        for backend in tuple(self._interest.get(channel, ())):
            if backend.listener is not None:
                backend.listener.on_presence_event(channel, kind, client_id, info)


class MemoryBackend(Backend):
    """A hub's handle on a :class:`MemoryBroker` (a private one unless one is given)."""

    capabilities = Capabilities(has_history=True, has_presence=True, cross_process=False)
    address = "memory://"

    def __init__(self, broker: MemoryBroker | None = None) -> None:
        self.broker = broker if broker is not None else MemoryBroker()
        self.listener: BackendListener | None = None
        self._channels: set[str] = set()

    def deliver(self, publication: Publication) -> None:
        """Called by the broker for channels this backend subscribed to."""
        if self.listener is not None:
            self.listener.on_publication(publication)

    async def start(self, listener: BackendListener) -> None:
        self.listener = listener

    async def stop(self) -> None:
        self.broker.drop_backend(self)
        self._channels.clear()
        self.listener = None

    async def publish(self, channel: str, data: str, options: ChannelOptions) -> Position:
        return self.broker.publish(channel, data, options)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        self.broker.interest(channel, self, True)

    def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        self.broker.interest(channel, self, False)

    async def history(self, channel: str, since: int, limit: int) -> HistoryPage:
        return self.broker.history(channel, since, limit)

    async def keep(self, channels: list[str], ttl: float) -> None:
        self.broker.keep(channels, ttl)

    async def presence_add(self, channel: str, client_id: str, info: str, ttl: float) -> None:
        self.broker.presence_set(channel, client_id, (info, self.broker._clock() + ttl, self))

    async def presence_remove(self, channel: str, client_id: str) -> None:
        self.broker.presence_del(channel, client_id)

    async def presence_members(self, channel: str) -> dict[str, str]:
        return self.broker.presence(channel)

    async def presence_expire(self, channel: str) -> dict[str, str]:
        return self.broker.presence_expire(channel)

    async def presence_count(self, channel: str) -> int:
        return len(self.broker.presence(channel))

    async def presence_event(self, channel: str, kind: str, client_id: str, info: str) -> None:
        self.broker.event(channel, kind, client_id, info)

    def health(self) -> dict[str, Any]:
        return {"backend": "memory", "state": "connected", "ok": True}

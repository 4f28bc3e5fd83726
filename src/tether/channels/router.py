"""The node-local router: which connections listen to which channel, in what order.

It implements :class:`~tether.channels.backends.base.BackendListener`. Every live publication
passes through :meth:`LocalRouter.on_publication`, which checks the channel's offset sequence:
duplicates are skipped, a gap pauses the channel and fills it from history (or tells every
subscriber ``insufficient_state``), and in-order publications are encoded once and pushed into
each subscriber's outbound queue without awaiting anything.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from tether._json import dumps
from tether.channels.backends.base import Backend, BrokerUnavailable, Position, Publication
from tether.channels.connection import Connection, Subscription, Wire
from tether.channels.metrics import ChannelMetrics
from tether.channels.options import ChannelOptions
from tether.channels.subscriber import CLOSE_INSUFFICIENT_STATE, Entry
from tether.telemetry.envelope import plain_page

__all__ = ["LocalChannel", "LocalRouter", "publication_frame"]

logger = logging.getLogger("tether.channels")

# A gap larger than this is not worth a history read: subscribers resync instead.
MAX_GAP_FILL = 10000
# Subscribers served per loop turn by one fan-out (about 1-5 ms of work on a real server).
FANOUT_CHUNK = 1024
# The ``last`` offset of a detached subscription: no publication is newer.
DETACHED = sys.maxsize
# Seconds a position check after a broker reconnect is retried while the broker refuses it.
POSITION_RETRY_FOR = 30.0

Spawn = Callable[[Coroutine[Any, Any, None]], None]


def publication_frame(publication: Publication, channel_json: str) -> str:
    """The protocol frame of one publication; ``data`` is already JSON, so no re-encode."""
    return (
        f'{{"type":"pub","channel":{channel_json},"offset":{publication.offset},'
        f'"epoch":"{publication.epoch}","data":{publication.data}}}'
    )


def _entry(text: str, channel: LocalChannel) -> Entry:
    return ({"type": "websocket.send", "text": text}, len(text), channel.options.slow_consumer)


class LocalChannel:
    """This node's state for one channel with at least one local subscriber."""

    __slots__ = (
        "backlog",
        "epoch",
        "filling",
        "last",
        "name",
        "name_json",
        "options",
        "subscribers",
    )

    def __init__(self, name: str, options: ChannelOptions) -> None:
        self.name = name
        self.name_json = dumps(name)
        self.options = options
        self.subscribers: dict[Connection, Subscription] = {}
        self.last = 0
        self.epoch = ""
        # Not None while a gap is being filled: live publications wait here in order.
        self.filling: list[Publication] | None = None
        # Not None while a large fan-out runs in chunks: later publications wait here.
        self.backlog: deque[Publication] | None = None


class _Fanout:
    """One publication on its way to a channel's subscribers.

    Each wire format is encoded at most once, into one queue entry (message, size, policy)
    shared by every recipient; a recipient costs a slot read or two and one socket send.
    """

    __slots__ = ("channel", "framed", "publication", "raw", "wire", "wired")

    def __init__(self, channel: LocalChannel, publication: Publication) -> None:
        self.channel = channel
        self.publication = publication
        self.framed: Entry | None = None
        self.raw: Entry | None = None
        # The last wire asked for a frame, and that frame (one wire per protocol codec).
        self.wire: Wire | None = None
        self.wired: Entry | None = None

    def deliver(self, subscriptions: Iterable[Subscription], metrics: ChannelMetrics) -> None:
        """Hand the publication to each subscription (or its splice buffer), in order."""
        publication = self.publication
        offset = publication.offset
        delivered = 0
        for subscription in subscriptions:
            if offset <= subscription.last:  # replayed already, or detached
                continue
            if subscription.buffer is not None:
                subscription.buffer.append(publication)
                continue
            subscription.last = offset
            if subscription.raw:
                wire = subscription.wire
                if wire is None:
                    entry = self.raw or self._encode_raw()
                elif wire is self.wire and self.wired is not None:
                    entry = self.wired
                else:
                    entry = self._encode_wire(wire)
            else:
                entry = self.framed or self._encode_framed()
            if subscription.outbox.offer(entry):
                delivered += 1
        metrics.delivered += delivered

    def _encode_raw(self) -> Entry:
        self.raw = _entry(self.publication.data, self.channel)
        return self.raw

    def _encode_wire(self, wire: Wire) -> Entry:
        self.wire = wire
        self.wired = wire.publication_entry(self.publication, self.channel.name)
        return self.wired

    def _encode_framed(self) -> Entry:
        self.framed = _entry(
            publication_frame(self.publication, self.channel.name_json), self.channel
        )
        return self.framed


class LocalRouter:
    """Routes publications from the backend to local subscriptions."""

    def __init__(self, backend: Backend, metrics: ChannelMetrics, spawn: Spawn) -> None:
        self.backend = backend
        self.metrics = metrics
        self.channels: dict[str, LocalChannel] = {}
        self._spawn = spawn

    # -- membership ---------------------------------------------------------------------------

    def attach(self, connection: Connection, name: str, options: ChannelOptions) -> LocalChannel:
        """Register a buffering subscription synchronously (before any await)."""
        channel = self.channels.get(name)
        if channel is None:
            channel = self.channels[name] = LocalChannel(name, options)
            self.metrics.channels += 1
        subscription = Subscription(connection)
        channel.subscribers[connection] = subscription
        connection.subscriptions[name] = subscription
        self.metrics.subscriptions += 1
        return channel

    def detach(self, connection: Connection, name: str) -> bool:
        """Remove a subscription; drop broker interest with the last one. Never awaits."""
        subscription = connection.subscriptions.pop(name, None)
        channel = self.channels.get(name)
        if subscription is None or channel is None:
            return False
        channel.subscribers.pop(connection, None)
        # A chunked fan-out may still hold it in its snapshot: make it skip this one.
        subscription.last = DETACHED
        subscription.buffer = None
        self.metrics.subscriptions -= 1
        if not channel.subscribers:
            del self.channels[name]
            self.metrics.channels -= 1
            self.backend.unsubscribe(name)
        return True

    def note_position(self, channel: LocalChannel, position: Position) -> None:
        """Learn the stream position when this node knows none yet."""
        if not channel.epoch:
            channel.epoch = position.epoch
            channel.last = position.offset

    def begin_splice(self, subscription: Subscription, start: Position) -> None:
        """Set where the subscription's stream starts (replayed history follows)."""
        subscription.epoch = start.epoch
        subscription.last = start.offset

    def deliver_replayed(
        self, subscription: Subscription, channel: LocalChannel, publication: Publication
    ) -> None:
        """Queue one replayed history publication for a subscription still splicing."""
        self._deliver_one(subscription, channel, publication)

    def end_splice(self, subscription: Subscription, channel: LocalChannel) -> None:
        """Deliver the live messages buffered after the history, then go live."""
        buffered, subscription.buffer = subscription.buffer or [], None
        for publication in buffered:
            if publication.epoch == subscription.epoch:
                self._deliver_one(subscription, channel, publication)

    def _deliver_one(
        self, subscription: Subscription, channel: LocalChannel, publication: Publication
    ) -> None:
        if publication.offset <= subscription.last:
            return
        subscription.last = publication.offset
        connection = subscription.connection
        if connection.wire is not None:
            connection.outbox.push_entry(
                connection.wire.publication_entry(publication, channel.name)
            )
            return
        text = (
            publication.data
            if connection.raw
            else publication_frame(publication, channel.name_json)
        )
        message = {"type": "websocket.send", "text": text}
        connection.outbox.push(message, len(text), channel.options.slow_consumer)

    # -- the live path ------------------------------------------------------------------------

    def on_publication(self, publication: Publication) -> None:
        """Sequence a live publication and fan it out (called by the backend)."""
        channel = self.channels.get(publication.channel)
        if channel is None:
            self.metrics.unrouted += 1
        elif channel.filling is not None:
            channel.filling.append(publication)
        else:
            self._sequence(channel, publication)

    def _sequence(self, channel: LocalChannel, publication: Publication) -> None:
        if publication.epoch != channel.epoch:
            if channel.epoch:
                self._insufficient(channel)  # the stream was reset: nobody is continuous
            channel.epoch = publication.epoch
            channel.last = publication.offset - 1
        expected = channel.last + 1
        if publication.offset < expected:
            self.metrics.duplicates_skipped += 1
            return
        if publication.offset > expected:
            self.metrics.gaps_detected += 1
            channel.filling = [publication]
            self._spawn(self._fill_gap(channel, channel.last, publication.offset - 1))
            return
        channel.last = publication.offset
        self._fanout(channel, publication)

    def _fanout(self, channel: LocalChannel, publication: Publication) -> None:
        """Deliver one publication to every live subscriber, without awaiting.

        Up to :data:`FANOUT_CHUNK` subscribers are served in this call. A larger channel is
        served from a snapshot in chunks of that size, one loop turn each, so one publish
        never holds the loop for long; publications arriving meanwhile wait in the channel's
        backlog and go out after it, in order.
        """
        if channel.backlog is not None:
            channel.backlog.append(publication)
            return
        subscribers = channel.subscribers
        if len(subscribers) <= FANOUT_CHUNK:
            _Fanout(channel, publication).deliver(subscribers.values(), self.metrics)
            return
        channel.backlog = deque()
        self._fanout_chunk(_Fanout(channel, publication), list(subscribers.values()), 0)

    def _fanout_chunk(self, job: _Fanout, subscriptions: list[Subscription], start: int) -> None:
        end = start + FANOUT_CHUNK
        job.deliver(subscriptions[start:end], self.metrics)
        loop = asyncio.get_running_loop()
        if end < len(subscriptions):
            loop.call_soon(self._fanout_chunk, job, subscriptions, end)
            return
        channel = job.channel
        if channel.backlog:
            publication = channel.backlog.popleft()
            snapshot = list(channel.subscribers.values())
            loop.call_soon(self._fanout_chunk, _Fanout(channel, publication), snapshot, 0)
        else:
            channel.backlog = None

    def on_presence_event(self, channel_name: str, kind: str, client_id: str, info: str) -> None:
        """Forward a ``join``/``leave`` to protocol subscribers (raw ones only get data)."""
        channel = self.channels.get(channel_name)
        if channel is None:
            return
        text = (
            f'{{"type":"{kind}","channel":{channel.name_json},'
            f'"client":{dumps(client_id)},"info":{info}}}'
        )
        message = {"type": "websocket.send", "text": text}
        for connection, subscription in channel.subscribers.items():
            if subscription.buffer is not None:
                continue
            if not connection.raw:
                connection.outbox.push(message, len(text), channel.options.slow_consumer)
            elif connection.wire is not None:
                connection.wire.presence_event(connection, channel_name, kind, client_id, info)

    # -- gaps ---------------------------------------------------------------------------------

    async def _fill_gap(self, channel: LocalChannel, since: int, target: int) -> None:
        page = None
        if target - since <= MAX_GAP_FILL:
            try:
                page = plain_page(await self.backend.history(channel.name, since, target - since))
            except Exception as exc:
                logger.warning("history read to fill a gap in %s failed: %r", channel.name, exc)
        pending, channel.filling = channel.filling or [], None
        found = page.publications if page is not None else []
        if (
            page is not None
            and (not channel.epoch or page.position.epoch == channel.epoch)
            and found
            and found[0].offset == since + 1
            and found[-1].offset >= target
        ):
            self.metrics.gaps_filled += 1
            pending = found + pending
        else:
            self._insufficient(channel)
            if pending:
                channel.last = pending[0].offset - 1
                channel.epoch = pending[0].epoch
            elif page is not None:
                channel.last, channel.epoch = page.position.offset, page.position.epoch
        self._replay(channel, pending)

    def _replay(self, channel: LocalChannel, pending: list[Publication]) -> None:
        for index, publication in enumerate(pending):
            if channel.filling is not None:  # a new gap opened: the rest waits behind it
                channel.filling.extend(pending[index:])
                return
            self._sequence(channel, publication)

    async def _read_position(self, channel: LocalChannel) -> Position | None:
        """The broker's position of ``channel``, or None when it cannot be read.

        A refusal (``BrokerUnavailable``) is retried with a backoff for up to
        ``POSITION_RETRY_FOR`` seconds while the channel still has subscribers here and fewer
        than ``MAX_GAP_FILL`` live publications wait behind the check: pub/sub
        can be back before commands are (a Redis Cluster node that restarted takes
        subscriptions while the cluster still answers ``CLUSTERDOWN``), and no other reconnect
        would come to check again. Past that, the broker's next reconnect checks once more.
        """
        loop = asyncio.get_running_loop()
        give_up = loop.time() + POSITION_RETRY_FOR
        delay = 0.05
        while True:
            try:
                return await self.backend.position(channel.name)
            except BrokerUnavailable as exc:
                held = len(channel.filling or ())  # live publications wait behind the check
                gone = self.channels.get(channel.name) is not channel
                if loop.time() + delay > give_up or gone or held > MAX_GAP_FILL:
                    logger.warning("position check of %s failed: %r", channel.name, exc)
                    return None
                logger.debug("position check of %s refused, retrying: %r", channel.name, exc)
            except Exception as exc:
                logger.warning("position check of %s failed: %r", channel.name, exc)
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _insufficient(self, channel: LocalChannel) -> None:
        """Tell every subscriber its stream has a hole this node cannot fill."""
        frame = (
            f'{{"type":"unsubscribed","channel":{channel.name_json},'
            f'"reason":"insufficient_state","resubscribe":true}}'
        )
        for connection in list(channel.subscribers):
            self.metrics.insufficient_state += 1
            if connection.wire is not None:
                self.detach(connection, channel.name)
                connection.wire.insufficient(connection, channel.name)
            elif connection.raw:
                connection.outbox.close(CLOSE_INSUFFICIENT_STATE, "insufficient state: reconnect")
            else:
                connection.send_text(frame)
                self.detach(connection, channel.name)

    def check_positions(self) -> None:
        """After a broker reconnect: compare every channel with the broker and fill gaps."""
        for channel in list(self.channels.values()):
            if channel.filling is None:
                channel.filling = []
                self._spawn(self._check_position(channel))

    async def _check_position(self, channel: LocalChannel) -> None:
        position = await self._read_position(channel)
        if position is None:
            pending, channel.filling = channel.filling or [], None
            self._replay(channel, pending)
            return
        if (channel.epoch and position.epoch != channel.epoch) or position.offset < channel.last:
            pending, channel.filling = channel.filling or [], None
            self._insufficient(channel)
            channel.epoch, channel.last = position.epoch, position.offset
            self._replay(channel, pending)
        elif position.offset > channel.last:
            self.metrics.gaps_detected += 1
            await self._fill_gap(channel, channel.last, position.offset)
        else:
            pending, channel.filling = channel.filling or [], None
            self._replay(channel, pending)

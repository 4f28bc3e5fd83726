"""The hub: :class:`Hub`, one per process, the core of :class:`~tether.channels.Channels`.

The hub owns the backend, the node-local router and every channel-aware connection. It never
awaits a socket on the publish path: the backend hands publications to the router, which pushes
pre-encoded frames into per-connection queues.

The hub knows no transport: the endpoints that serve it (the browser protocol, health) live
above it, in :mod:`tether.channels.serving`, so every transport can import the hub and none is
imported by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import Any, Self

from tether._json import dumps
from tether.channels.backends import BROKER_ENV, backend_from_url
from tether.channels.backends.base import (
    FRESH_META_TTL,
    Backend,
    BrokerUnavailable,
    HistoryPage,
    Position,
    Publication,
)
from tether.channels.connection import Connection, SubscribeResult, Subscription
from tether.channels.errors import (
    BrokerUnreachable,
    ChannelLimitExceeded,
    ChannelsClosed,
    ProcessSplit,
    check_text,
)
from tether.channels.metrics import ChannelMetrics
from tether.channels.names import Namespaces
from tether.channels.options import ChannelOptions, ConnectionLimits
from tether.channels.processes import serving_processes
from tether.channels.router import LocalChannel, LocalRouter
from tether.channels.subscriber import Outbox
from tether.telemetry import TelemetryConfig, channel_backend, resolve_telemetry
from tether.telemetry.envelope import plain, plain_page

__all__ = ["HistoryResult", "Hub", "live_hubs"]

logger = logging.getLogger("tether.channels")

Authenticate = Callable[[Any], "Awaitable[Mapping[str, Any] | None] | Mapping[str, Any] | None"]
CLOSE_GOING_AWAY = 1012


_hubs: weakref.WeakSet[Hub] = weakref.WeakSet()


def live_hubs() -> list[Hub]:
    """Every hub (:class:`Channels`) built in this process and not garbage yet (the CLI asks)."""
    return list(_hubs)


class HistoryResult:
    """Retained publications (oldest first) and the channel's current position."""

    __slots__ = ("position", "publications")

    def __init__(self, publications: list[Publication], position: Position) -> None:
        self.publications = publications
        self.position = position

    def __repr__(self) -> str:
        return f"HistoryResult({len(self.publications)} publications, {self.position!r})"


class Hub:
    """Pub/sub hub: publish from anywhere, subscribe WebSockets, history, presence.

    ``telemetry`` (a :class:`~tether.telemetry.TelemetryConfig` or ``True``) traces publishes
    and deliveries and observes the hub's counters; see :mod:`tether.telemetry.channels`.

    ``broker`` is ``"memory://"``, ``"redis://host:port/db?prefix=app"`` or a
    :class:`Backend`. Precedence: a broker given here wins; without one (``None``, the
    default) the ``TETHER_BROKER`` environment variable (set by ``tether run --broker``) is
    used, else ``"memory://"``. Options are looked up by channel namespace (``chat`` in
    ``chat:lobby``).

    :meth:`start` refuses (:class:`~tether.exceptions.StartupRefused`, one line) a memory
    broker when several worker processes serve the app (see :mod:`.processes`), and a broker
    that cannot be reached, unless ``degraded_start=True``: then the hub starts, reports the
    broker as unavailable (``health()``, ``unavailable`` errors) and connects when it can.
    """

    def __init__(
        self,
        broker: str | Backend | None = None,
        *,
        namespaces: Mapping[str, ChannelOptions] | None = None,
        default: ChannelOptions | None = None,
        limits: ConnectionLimits | None = None,
        authenticate: Authenticate | None = None,
        node_id: str | None = None,
        presence_ttl: float = 30.0,
        telemetry: TelemetryConfig | bool | None = None,
        degraded_start: bool = False,
    ) -> None:
        self.broker_source = "code"
        if broker is None:
            # `tether run --broker URL` hands its broker to every worker through the environment.
            self.broker_source = BROKER_ENV if os.environ.get(BROKER_ENV) else "default"
            broker = os.environ.get(BROKER_ENV) or "memory://"
        self.backend = backend_from_url(broker) if isinstance(broker, str) else broker
        self.degraded_start = degraded_start
        _hubs.add(self)
        self.namespaces = Namespaces(namespaces, default)
        self.limits = limits or ConnectionLimits()
        self.authenticate = authenticate
        self.node_id = node_id or secrets.token_hex(6)
        self.presence_ttl = presence_ttl
        self.metrics = ChannelMetrics()
        if telemetry is not None and telemetry is not False:  # opt-in; nodes may differ
            traced = resolve_telemetry(telemetry)
            if traced is not None:
                self.backend = channel_backend(traced, self.backend, self)
        self.router = LocalRouter(self.backend, self.metrics, self._spawn)
        self._connections: dict[Any, Connection] = {}
        self._present: dict[tuple[str, str], str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._stopped = False
        self._start_lock: asyncio.Lock | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._broker_available = True

    def namespace(self, name: str, options: ChannelOptions) -> None:
        """Use ``options`` for every channel ``name:*``; raises ``ConfigurationError``."""
        self.namespaces.add(name, options)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect the backend (idempotent; also done lazily on first use).

        A stopped hub can be started again (an app whose lifespan runs twice, as in tests).
        """
        if self._started:
            return
        self._stopped = False
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._started:
                self._check_processes()
                self._broker_available = True
                await self.backend.start(_Listener(self))
                broker = self.backend.health()
                if not broker.get("ok"):
                    await self._unreachable(broker.get("last_error") or "no answer")
                self._heartbeat = asyncio.get_running_loop().create_task(self._beat())
                self._started = True

    async def _unreachable(self, reason: str) -> None:
        """Refuse to start on a broker that does not answer, unless ``degraded_start``."""
        address = self.backend.address
        if self.degraded_start:
            logger.warning(
                "starting without the channels broker at %s (%s): degraded_start=True;"
                " it connects as soon as the broker answers",
                address,
                reason,
            )
            return
        await self.backend.stop()
        raise BrokerUnreachable(
            f"cannot reach the channels broker at {address} ({reason}):"
            " start it, fix the URL, or pass Channels(degraded_start=True)"
        )

    def _check_processes(self) -> None:
        """Refuse a per-process broker in one of several worker processes (a silent split)."""
        if self.backend.capabilities.cross_process:
            return
        count = serving_processes()
        if count > 1:
            origin = {
                "code": "given in code",
                "default": "the default: no broker given and TETHER_BROKER unset",
            }.get(self.broker_source, f"from {self.broker_source}")
            raise ProcessSplit(
                f"{count} worker processes serve this app but its Channels broker is in memory"
                f" ({origin}), so each worker would only reach its own sockets: use a shared"
                " broker (Channels() with TETHER_BROKER or --broker redis://host:6379/0) or"
                " run one worker"
            )

    async def stop(self) -> None:
        """Close every channel connection with 1012, leave presence, disconnect the backend."""
        self._stopped = True
        for connection in list(self._connections.values()):
            connection.outbox.close(CLOSE_GOING_AWAY, "server shutting down: reconnect")
            self._drop(connection)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._started:
            self._started = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._settle(), 2.0)
            await self.backend.stop()
        for task in list(self._tasks):
            task.cancel()

    async def _settle(self) -> None:
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        """Lifespan context for an app: ``Tether(lifespan=channels.lifespan)``."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def broker_available(self) -> bool:
        """False from the moment the broker stops answering until it answers again."""
        return self._broker_available

    def _broker_state(self, available: bool) -> None:
        """Tell every protocol client once per change; the frame is in docs/channels-protocol.md."""
        if available == self._broker_available:
            return
        self._broker_available = available
        frame: dict[str, Any] = {"type": "broker", "available": available}
        if not available:
            frame["code"] = "unavailable"
            frame["message"] = "the server cannot reach its message broker; retrying"
        text = dumps(frame)
        for connection in list(self._connections.values()):
            if not connection.raw:
                connection.send_text(text)

    # -- publishing and reading ---------------------------------------------------------------

    async def publish(self, channel: str, data: Any) -> Position:
        """Encode ``data`` as JSON once and publish it; return its position.

        Raises ``InvalidChannelName``, ``TypeError`` for unencodable data, ``InvalidText`` for
        strings holding a lone surrogate, ``BrokerUnavailable``.
        """
        return await self.publish_json(channel, dumps(data))

    async def publish_json(self, channel: str, text: str) -> Position:
        """Publish already-encoded JSON text (not parsed; raises ``InvalidText`` for text
        that is not valid Unicode, such as a lone surrogate, which no socket can carry)."""
        options = self.namespaces.options(channel)
        check_text(text)
        await self.start()
        position = await self.backend.publish(channel, text, options)
        self.metrics.published += 1
        return position

    async def history(
        self, channel: str, *, since: Position | None = None, limit: int | None = None
    ) -> HistoryResult:
        """Retained publications after ``since`` (all retained when None), oldest first.

        With a ``since`` from another epoch nothing is returned: compare ``position.epoch``.
        """
        options = self.namespaces.options(channel)
        await self.start()
        count = options.history_size if limit is None else min(limit, options.history_size)
        after = since.offset if since is not None else 0
        page = plain_page(await self.backend.history(channel, after, count))
        if since is not None and since.epoch != page.position.epoch:
            return HistoryResult([], page.position)
        return HistoryResult(page.publications, page.position)

    async def presence(self, channel: str) -> dict[str, dict[str, Any]]:
        """Members of ``channel``: client id -> ``{"user": ..., "info": ...}``."""
        from tether._json import loads

        self.namespaces.options(channel)
        await self.start()
        members = await self.backend.presence_members(channel)
        return {client: loads(info) for client, info in members.items()}

    async def presence_count(self, channel: str) -> int:
        """Number of members of ``channel`` (O(1) in the broker)."""
        self.namespaces.options(channel)
        await self.start()
        return await self.backend.presence_count(channel)

    # -- connections --------------------------------------------------------------------------

    def open(
        self,
        websocket: Any,
        *,
        info: dict[str, Any] | None = None,
        user: str | None = None,
        raw: bool = False,
    ) -> Connection:
        """Register ``websocket`` and return its :class:`Connection` (existing one if any).

        Pair with :meth:`disconnect`, or use :meth:`connection` which does both.
        """
        existing = self._connections.get(websocket)
        if existing is not None:
            return existing
        if self._stopped:
            raise ChannelsClosed("this Channels hub was stopped")
        loop = asyncio.get_running_loop()
        holder: list[Connection] = []

        def closed(code: int) -> None:
            # Deferred: the outbox closes from inside fan-out, which must not see sets change.
            loop.call_soon(self._drop, holder[0])

        outbox = Outbox(websocket, self.limits, self.metrics, closed)
        connection = Connection(
            self, websocket, outbox, client_id=secrets.token_hex(8), user=user, info=info, raw=raw
        )
        holder.append(connection)
        self._connections[websocket] = connection
        self.metrics.connections += 1
        return connection

    @contextlib.asynccontextmanager
    async def connection(
        self,
        websocket: Any,
        *,
        info: dict[str, Any] | None = None,
        user: str | None = None,
        raw: bool = False,
    ) -> AsyncIterator[Connection]:
        """Async context manager: a :class:`Connection` that is cleaned up on exit."""
        connection = self.open(websocket, info=info, user=user, raw=raw)
        try:
            yield connection
        finally:
            self._drop(connection)
            connection.outbox.detach()

    async def subscribe(
        self,
        websocket: Any,
        channel: str,
        *,
        since: Position | None = None,
        info: dict[str, Any] | None = None,
        raw: bool = False,
    ) -> SubscribeResult:
        """Subscribe ``websocket`` (registering it if needed) to ``channel``."""
        connection = self.open(websocket, info=info, raw=raw)
        return await self._subscribe(connection, channel, since)

    async def unsubscribe(self, websocket: Any, channel: str) -> None:
        """Stop delivering ``channel`` to ``websocket`` (no error if it was not subscribed)."""
        connection = self._connections.get(websocket)
        if connection is not None:
            self._unsubscribe(connection, channel)

    async def disconnect(self, websocket: Any, code: int | None = None, reason: str = "") -> None:
        """Forget ``websocket``: unsubscribe all, leave presence; close it if ``code`` given."""
        connection = self._connections.get(websocket)
        if connection is None:
            return
        self._drop(connection)
        if code is None:
            connection.outbox.detach()
        else:
            connection.outbox.closed = False
            connection.outbox.close(code, reason)

    def _drop(self, connection: Connection) -> None:
        if connection.closed:
            return
        connection.closed = True
        for channel in list(connection.subscriptions):
            self._unsubscribe(connection, channel)
        if self._connections.get(connection.websocket) is connection:
            del self._connections[connection.websocket]
        self.metrics.connections -= 1

    # -- subscribe internals ------------------------------------------------------------------

    async def _subscribe(
        self,
        connection: Connection,
        channel: str,
        since: Position | None,
        on_ready: Callable[[SubscribeResult], None] | None = None,
    ) -> SubscribeResult:
        options = self.namespaces.options(channel)
        await self.start()
        self._check_limits(connection, channel, options)
        rejoin = channel in connection.subscriptions
        if rejoin:
            self.router.detach(connection, channel)
        local = self.router.attach(connection, channel, options)
        subscription = connection.subscriptions[channel]
        try:
            page = await self._read_start(channel, since, options)
        except BaseException:
            if connection.subscriptions.get(channel) is subscription:
                self.router.detach(connection, channel)
            raise
        self.router.note_position(local, page.position)
        recovered, start, replay = _recover(since, page, options)
        result = SubscribeResult(channel, start, recovered, since is not None, len(replay))
        if since is not None:
            if recovered:
                self.metrics.recovered += 1
            else:
                self.metrics.not_recovered += 1
        if on_ready is not None:
            on_ready(result)
        if connection.subscriptions.get(channel) is subscription:
            await self._splice(connection, local, subscription, start, replay)
            if options.presence and not rejoin:
                await self._join(connection, channel, options)
        return result

    async def _splice(
        self,
        connection: Connection,
        local: LocalChannel,
        subscription: Subscription,
        start: Position,
        replay: list[Publication],
    ) -> None:
        """History first, paced by the outbound queue, then the live messages buffered meanwhile.

        A long replay waits for the queue to drain instead of overflowing it, so a client can
        recover more than ``max_queue_bytes`` of missed messages without being a slow consumer.
        """
        router, outbox = self.router, connection.outbox
        router.begin_splice(subscription, start)
        try:
            for publication in replay:
                if (
                    outbox.queued_bytes + len(publication.data) + 128 > self.limits.max_queue_bytes
                    or len(outbox) + 1 >= self.limits.max_queue_messages
                ):
                    await outbox.wait_drained()
                if connection.subscriptions.get(local.name) is not subscription or outbox.closed:
                    return
                router.deliver_replayed(subscription, local, publication)
        except BaseException:
            if connection.subscriptions.get(local.name) is subscription:
                self.router.detach(connection, local.name)
            raise
        router.end_splice(subscription, local)

    def _check_limits(self, connection: Connection, channel: str, options: ChannelOptions) -> None:
        if connection.closed:
            raise ChannelsClosed("the connection is closed")
        if (
            channel not in connection.subscriptions
            and len(connection.subscriptions) >= self.limits.max_channels
        ):
            raise ChannelLimitExceeded("too many channels on this connection")
        local = self.router.channels.get(channel)
        if (
            options.max_subscribers
            and local is not None
            and len(local.subscribers) >= options.max_subscribers
            and connection not in local.subscribers
        ):
            raise ChannelLimitExceeded(f"channel {channel} is full")

    async def _read_start(
        self, channel: str, since: Position | None, options: ChannelOptions
    ) -> HistoryPage:
        # Interest first (live messages buffer in the subscription), then the history read.
        await self.backend.subscribe(channel)
        if since is not None and options.history_size and since.offset >= 0:
            page = await self.backend.history(channel, since.offset, options.recovery_limit)
            return plain_page(page)
        return HistoryPage([], await self.backend.position(channel))

    def _unsubscribe(self, connection: Connection, channel: str) -> None:
        if not self.router.detach(connection, channel):
            return
        info = self._present.pop((channel, connection.client_id), None)
        if info is not None:
            options = self.namespaces.options(channel)
            self._spawn(self._leave(channel, connection.client_id, info, options))

    async def _join(self, connection: Connection, channel: str, options: ChannelOptions) -> None:
        info = dumps({"user": connection.user, "info": connection.info})
        self._present[(channel, connection.client_id)] = info
        try:
            await self.backend.presence_add(channel, connection.client_id, info, self.presence_ttl)
            if options.join_leave:
                await self.backend.presence_event(channel, "join", connection.client_id, info)
        except Exception as exc:  # the heartbeat adds it again once the broker is back
            self._log_broker_failure("presence join on %s failed: %r", channel, exc)

    async def _leave(
        self, channel: str, client_id: str, info: str, options: ChannelOptions
    ) -> None:
        await self.backend.presence_remove(channel, client_id)
        if options.join_leave:
            await self.backend.presence_event(channel, "leave", client_id, info)

    async def _beat(self) -> None:
        """Refresh this node's presence entries so they outlive ``presence_ttl`` while alive,
        then announce the members of other (dead) nodes that expired."""
        while True:
            await asyncio.sleep(self.presence_ttl / 3)
            try:
                if self.router.channels:  # listened-to channels keep their epoch while quiet
                    await self.backend.keep(list(self.router.channels), FRESH_META_TTL)
                if self._present:
                    await self.backend.presence_refresh(dict(self._present), self.presence_ttl)
                await self._expire_presence()
            except Exception as exc:
                self._log_broker_failure("presence heartbeat failed: %r", exc)

    async def _expire_presence(self) -> None:
        """Sweep the presence channels this node serves; send ``leave`` for expired members.

        Only channels with local subscribers are swept: a channel nobody here listens to has
        no one here to tell. The backend removes each expired member for one node only, so
        its ``leave`` is sent once however many nodes sweep.
        """
        for channel in [c for c in self.router.channels.values() if c.options.presence]:
            expired = await self.backend.presence_expire(channel.name)
            if channel.options.join_leave:
                for client_id, info in expired.items():
                    await self.backend.presence_event(channel.name, "leave", client_id, info)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log_broker_failure("channels background task failed: %r", task.exception())

    def _log_broker_failure(self, message: str, *args: Any) -> None:
        # While the broker is known to be down its outage was logged once, with its address:
        # the failures it causes go to debug instead of repeating it for every member and beat.
        if not self._broker_available and isinstance(args[-1], BrokerUnavailable):
            logger.debug(message, *args)
        else:
            logger.warning(message, *args)

    # -- serving ------------------------------------------------------------------------------

    @property
    def connections(self) -> list[Connection]:
        """Every registered connection (a copy)."""
        return list(self._connections.values())

    def health(self) -> dict[str, Any]:
        """Broker and hub state, JSON-ready: ``{"ok": bool, "broker": {...}, ...}``."""
        broker = self.backend.health()
        return {
            "ok": bool(broker.get("ok")) and not self._stopped,
            "node": self.node_id,
            "started": self._started,
            "broker": broker,
            "metrics": self.metrics.snapshot(),
        }


def _recover(
    since: Position | None, page: HistoryPage, options: ChannelOptions
) -> tuple[bool, Position, list[Publication]]:
    """All-or-nothing recovery: (recovered, position to continue from, publications to replay)."""
    position = page.position
    if since is None or since.epoch != position.epoch or since.offset > position.offset:
        return False, position, []
    if since.offset == position.offset:
        return True, position, []
    found = [p for p in page.publications if p.offset <= position.offset]
    if found and found[0].offset == since.offset + 1 and found[-1].offset == position.offset:
        return True, Position(since.offset, position.epoch), found
    return False, position, []


class _Listener:
    """Adapts backend callbacks to the router, counting broker reconnects."""

    __slots__ = ("hub",)

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def on_publication(self, publication: Publication) -> None:
        # Another node may trace when this one does not: its envelope never reaches a client.
        self.hub.router.on_publication(plain(publication))

    def on_presence_event(self, channel: str, kind: str, client_id: str, info: str) -> None:
        self.hub.router.on_presence_event(channel, kind, client_id, info)

    def on_resubscribed(self) -> None:
        self.hub.metrics.broker_reconnects += 1
        self.hub.router.check_positions()

    def on_broker_state(self, available: bool) -> None:
        self.hub._broker_state(available)

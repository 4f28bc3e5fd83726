"""The Redis backend: Lua-assigned offsets, stream history, pub/sub fan-out, TTL presence.

Keys for channel ``C`` under prefix ``P``::

    P:m:C   hash    e = epoch, s = top offset        (TTL meta_ttl, refreshed by publishes)
    P:h:C   stream  entry id "<offset>-1", field d   (MAXLEN history_size, TTL history_ttl)
    P:c:C   pub/sub "p<offset>:<epoch>:<data>" or "e<join|leave>:<client>:<info>"
    P:p:C   hash    client id -> info JSON           (presence)
    P:pe:C  zset    client id scored by expiry ms    (heartbeats push it forward)
    P:srv   hash    run = run id of the server, g = generation token (see redis.lua)

The meta hash also holds ``g``, the generation its epoch was made in. A server whose run id
is not the one in ``P:srv`` (a replica promoted by a failover, a restart that reloaded a
snapshot) starts a new generation, so every channel starts a new epoch instead of reusing
offsets that the failover may have lost: subscribers are told (``recovered: false``), never
handed a second publication under an offset they already have.

``redis+sentinel://`` URLs find the master through Sentinel (:func:`parse_sentinel_url`);
connections follow it after a failover.

redis-py is imported lazily through :func:`tether.exceptions.require`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from tether.channels.backends._redis_listener import Interest, PubSubListener
from tether.channels.backends._redis_pipeline import (
    CommandPipeline,
    Connect,
    ReplyError,
    bulk,
    pack,
)
from tether.channels.backends.base import (
    FRESH_META_TTL,
    Backend,
    BackendListener,
    BrokerUnavailable,
    Capabilities,
    HistoryPage,
    Position,
    Publication,
)
from tether.channels.options import ChannelOptions
from tether.exceptions import require

__all__ = ["RedisBackend", "SentinelSettings", "parse_sentinel_url"]

logger = logging.getLogger("tether.channels.redis")

_SCRIPT_FILE = Path(__file__).with_name("redis.lua")


def _load_scripts(path: Path = _SCRIPT_FILE) -> dict[str, str]:
    """The scripts of a ``.lua`` file, by the name on their ``--@ name`` line."""
    scripts: dict[str, str] = {}
    name = ""
    for line in path.read_text().splitlines():
        if line.startswith("--@ "):
            name = line[4:].strip()
            scripts[name] = ""
        elif name:
            scripts[name] += line + "\n"
    return scripts


class RedisBackend(Backend):
    """Channels over one Redis server; every node and :class:`Emitter` may share it.

    Commands other than publishes (which share one pipelined connection) and the pub/sub
    listener take a connection from a pool of at most ``max_connections``; when all are busy
    a command waits for one (up to ``command_timeout``) rather than failing.

    Raises :class:`BrokerUnavailable` from commands while Redis cannot be reached.
    """

    capabilities = Capabilities(has_history=True, has_presence=True, cross_process=True)

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "tether",
        command_timeout: float = 5.0,
        ping_interval: float = 5.0,
        max_connections: int = 50,
        sentinel: SentinelSettings | None = None,
    ) -> None:
        self.url = url
        self.sentinel = sentinel
        self.max_connections = max_connections
        self._slots = asyncio.Semaphore(max_connections)
        self.address = masked_url(url)
        self.prefix = prefix
        self.command_timeout = command_timeout
        self.ping_interval = ping_interval
        self._pre = prefix.encode()
        self._pubsub_pre = self._pre + b":c:"
        self._server_key = self._pre + b":srv"
        self._client: Any = None
        self._pool: Any = None
        self._scripts: dict[str, Any] = {}
        self._listener: Interest | None = None
        self._hub: BackendListener | None = None
        self._pipeline: CommandPipeline | None = None
        self._follower: asyncio.Task[None] | None = None
        self._script_sources: dict[str, str] = {}
        self._shas: dict[str, str] = {}
        # channel -> (options, packed EVALSHA head, packed option arguments)
        self._publish_heads: dict[str, tuple[ChannelOptions, bytes, bytes]] = {}
        # Epoch candidates only need to differ from a channel's previous epoch: no syscall.
        self._random = random.Random(secrets.randbits(64))

    @classmethod
    def from_url(cls, url: str) -> RedisBackend:
        """Build from ``redis://host:port/db?prefix=name&max_connections=50`` (neither is
        sent to Redis), or from a ``redis+sentinel://`` URL (see :func:`parse_sentinel_url`).

        Raises ``ValueError`` for a malformed Sentinel URL.
        """
        if url.startswith("redis+sentinel://"):
            settings, options = parse_sentinel_url(url)
            # As for redis://: the URL kept names the servers, not tether's own options.
            parts = urlsplit(url)
            kept = [
                (key, value)
                for key, values in parse_qs(parts.query).items()
                if key not in ("prefix", "max_connections")
                for value in values
            ]
            return cls(
                urlunsplit(parts._replace(query="&".join(f"{k}={v}" for k, v in kept))),
                prefix=options.get("prefix", "tether"),
                max_connections=int(options.get("max_connections", "50")),
                sentinel=settings,
            )
        check_url(url)
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        prefix = query.pop("prefix", ["tether"])[0]
        size = int(query.pop("max_connections", ["50"])[0])
        rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
        return cls(urlunsplit(parts._replace(query=rest)), prefix=prefix, max_connections=size)

    # -- keys ---------------------------------------------------------------------------------

    def _key(self, kind: str, channel: str) -> str:
        return f"{self.prefix}:{kind}:{channel}"

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, listener: BackendListener) -> None:
        redis = require("redis.asyncio", "redis")
        retry = require("redis.asyncio.retry", "redis")
        backoff = require("redis.backoff", "redis")
        self._hub = listener
        # Bounded: commands wait for one of max_connections slots (see _slot) instead of
        # failing with MaxConnectionsError at the pool's cap during a burst.
        self._pool = _make_pool(
            self.url,
            self.sentinel,
            max_connections=self.max_connections,
            socket_timeout=self.command_timeout,
            socket_connect_timeout=2.0,
            protocol=2,
            retry=retry.Retry(backoff.NoBackoff(), 0),
        )
        # No retries: a publish whose reply was lost must not run twice (two offsets).
        self._client = redis.Redis(
            connection_pool=self._pool, retry=retry.Retry(backoff.NoBackoff(), 0)
        )
        scripts = _load_scripts()
        self._scripts = {name: self._client.register_script(src) for name, src in scripts.items()}
        self._script_sources = scripts
        self._shas = {name: hashlib.sha1(src.encode()).hexdigest() for name, src in scripts.items()}
        self._publish_heads.clear()
        self._pipeline = CommandPipeline(
            _sentinel_opener(self._pool) if self.sentinel is not None else _opener(self._pool),
            _setup_commands(self._pool, scripts, self._server_key),
            self.command_timeout,
        )
        self._listener = PubSubListener(
            self._pool.make_connection,
            self._on_message,
            listener.on_resubscribed,
            ping_interval=self.ping_interval,
            address=self.address,
            on_state=getattr(listener, "on_broker_state", None),
        )
        self._listener.start()
        if self.sentinel is not None:
            self._follower = asyncio.get_running_loop().create_task(self._follow_master())
        # Wait a little for the first connection, but start even while Redis is down:
        # the listener keeps trying and health() says so.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listener.connected.wait(), 2.0)

    async def _follow_master(self) -> None:
        """Ask the Sentinels every second where the master is; when it moved, drop the
        connections so that they reopen there.

        A demoted master answers READONLY, which also drops the pipeline, but until the
        Sentinels reconfigure it (up to their INFO period, ten seconds) it still takes writes
        that the switch then discards. Following the Sentinels' answer shortens that window;
        what was written in it is not lost silently: the new master starts a new generation,
        so every channel moves to a new epoch (see redis.lua).
        """
        pool = self._pool
        current: Any = None
        while True:
            await asyncio.sleep(min(1.0, self.ping_interval))
            try:
                address = await pool.sentinel_manager.discover_master(pool.service_name)
            except Exception:  # no Sentinel answers, or none knows a master: try again
                continue
            if current is not None and address != current:
                logger.warning("Redis master moved to %s:%s (Sentinel)", *address)
                if self._pipeline is not None:
                    self._pipeline.reconnect("the master moved")
                if self._listener is not None:
                    self._listener.drop("the master moved")
            current = address

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        if self._pipeline is not None:
            await self._pipeline.close()
            self._pipeline = None
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._pool is not None:
            await self._pool.disconnect()
            self._pool = None
        self._hub = None

    # -- live path ----------------------------------------------------------------------------

    def _channel_of(self, key: bytes) -> str | None:
        """The channel whose pub/sub key ``key`` is (None for a key that is not ours)."""
        if not key.startswith(self._pubsub_pre):
            return None
        return key[len(self._pubsub_pre) :].decode()

    def _on_message(self, key: bytes, payload: bytes) -> None:
        hub = self._hub
        channel = self._channel_of(key)
        if hub is None or channel is None:
            return
        kind = payload[:1]
        head, _, rest = payload[1:].partition(b":")
        if kind == b"p":
            epoch, _, data = rest.partition(b":")
            hub.on_publication(Publication(channel, int(head), epoch.decode(), data.decode()))
        elif kind == b"e":
            client_id, _, info = rest.partition(b":")
            hub.on_presence_event(channel, head.decode(), client_id.decode(), info.decode())

    async def _call(self, name: str, keys: list[str], args: list[Any]) -> Any:
        if self._client is None:
            raise BrokerUnavailable("the Redis backend is not started")
        return await self._guard(self._scripts[name](keys=keys, args=args))

    async def publish(self, channel: str, data: str, options: ChannelOptions) -> Position:
        """Run the ``publish`` script through the auto-pipeline (see ``_redis_pipeline``).

        Concurrent publishes share round trips; each gets its own reply or error. Never
        retried after it may have run: a lost reply raises ``BrokerUnavailable``.
        """
        pipeline = self._pipeline
        if pipeline is None:
            raise BrokerUnavailable("the Redis backend is not started")
        cached = self._publish_heads.get(channel)
        if cached is None or cached[0] is not options:
            cached = self._publish_head(channel, options)
        head, tail = cached[1], cached[2]
        encoded = data.encode()
        epoch_candidate = b"%08x" % self._random.getrandbits(32)
        command = b"%b$%d\r\n%b\r\n%b$8\r\n%b\r\n" % (
            head,
            len(encoded),
            encoded,
            tail,
            epoch_candidate,
        )
        try:
            reply = await pipeline.call(command)
        except ReplyError as exc:
            if exc.code != "NOSCRIPT":
                raise self._reply_error(exc) from None
            # Flushed script cache (SCRIPT FLUSH): the script did not run, so sending it in
            # full is no double publish.
            reply = await self._eval_publish(channel, encoded, options, epoch_candidate)
        return Position(reply[0], reply[1].decode())

    def _publish_head(
        self, channel: str, options: ChannelOptions
    ) -> tuple[ChannelOptions, bytes, bytes]:
        """The constant parts of a channel's EVALSHA command, packed once per channel."""
        if len(self._publish_heads) >= 10_000:
            self._publish_heads.clear()  # many short-lived channels: do not grow without end
        head = b"*12\r\n" + b"".join(
            bulk(arg)
            for arg in (
                b"EVALSHA",
                self._shas["publish"].encode(),
                b"3",
                self._key("m", channel).encode(),
                self._key("h", channel).encode(),
                self._server_key,
                self._key("c", channel).encode(),
            )
        )
        tail = b"".join(
            bulk(str(value).encode())
            for value in (
                options.history_size,
                int(options.history_ttl * 1000),
                int(options.meta_ttl * 1000),
            )
        )
        cached = (options, head, tail)
        self._publish_heads[channel] = cached
        return cached

    async def _eval_publish(
        self, channel: str, encoded: bytes, options: ChannelOptions, epoch: bytes
    ) -> Any:
        assert self._pipeline is not None
        command = pack(
            b"EVAL",
            self._script_sources["publish"].encode(),
            b"3",
            self._key("m", channel).encode(),
            self._key("h", channel).encode(),
            self._server_key,
            self._key("c", channel).encode(),
            encoded,
            b"%d" % options.history_size,
            b"%d" % int(options.history_ttl * 1000),
            b"%d" % int(options.meta_ttl * 1000),
            epoch,
        )
        try:
            return await self._pipeline.call(command)
        except ReplyError as exc:
            raise self._reply_error(exc) from None

    @staticmethod
    def _reply_error(exc: ReplyError) -> Exception:
        errors = require("redis.exceptions", "redis")
        error: Exception = errors.ResponseError(str(exc))
        return error

    async def subscribe(self, channel: str) -> None:
        if self._listener is None:
            raise BrokerUnavailable("the Redis backend is not started")
        try:
            await asyncio.wait_for(
                self._listener.subscribe(self._key("c", channel).encode()), self.command_timeout
            )
        except TimeoutError:
            raise BrokerUnavailable("Redis did not confirm the subscription in time") from None

    def unsubscribe(self, channel: str) -> None:
        if self._listener is not None:
            self._listener.unsubscribe(self._key("c", channel).encode())

    async def history(self, channel: str, since: int, limit: int) -> HistoryPage:
        """Read through the auto-pipeline: a burst of subscribes (each reads a position)
        shares round trips instead of queueing for pooled connections."""
        top, epoch, entries = await self._script(
            "history",
            self._key("m", channel).encode(),
            self._key("h", channel).encode(),
            self._server_key,
            b"%d" % max(since, 0),
            b"%d" % max(limit, 0),
            secrets.token_hex(4).encode(),
            b"%d" % int(FRESH_META_TTL * 1000),  # only if this read creates the channel
        )
        epoch_text = epoch.decode()
        found = [
            Publication(channel, int(entry_id.split(b"-", 1)[0]), epoch_text, _field(fields, b"d"))
            for entry_id, fields in entries
        ]
        return HistoryPage(found, Position(int(top), epoch_text))

    async def keep(self, channels: list[str], ttl: float) -> None:
        """One ``keep`` script per 500 channels, through the auto-pipeline."""
        pipeline = self._pipeline
        if pipeline is None or not channels:
            return
        sha, ttl_ms = self._shas["keep"].encode(), b"%d" % int(ttl * 1000)
        for start in range(0, len(channels), 500):
            keys = [self._key("m", c).encode() for c in channels[start : start + 500]]
            command = pack(b"EVALSHA", sha, b"%d" % len(keys), *keys, ttl_ms)
            try:
                await pipeline.call(command)
            except ReplyError as exc:
                raise self._reply_error(exc) from None

    async def _script(self, name: str, *args: bytes) -> Any:
        """EVALSHA a three-key script through the pipeline (EVAL if Redis lost it: no side
        effect happened then, so sending it again in full is safe)."""
        pipeline = self._pipeline
        if pipeline is None:
            raise BrokerUnavailable("the Redis backend is not started")
        try:
            return await pipeline.call(pack(b"EVALSHA", self._shas[name].encode(), b"3", *args))
        except ReplyError as exc:
            if exc.code != "NOSCRIPT":
                raise self._reply_error(exc) from None
        source = self._script_sources[name].encode()
        try:
            return await pipeline.call(pack(b"EVAL", source, b"3", *args))
        except ReplyError as exc:
            raise self._reply_error(exc) from None

    # -- presence -----------------------------------------------------------------------------

    async def presence_add(self, channel: str, client_id: str, info: str, ttl: float) -> None:
        """Through the auto-pipeline, as :meth:`presence_remove`: joins come in bursts."""
        pipeline = self._pipeline
        if pipeline is None:
            raise BrokerUnavailable("the Redis backend is not started")
        members, expiries = self._key("p", channel).encode(), self._key("pe", channel).encode()
        client, keep = client_id.encode(), b"%d" % int(ttl * 2000)
        await asyncio.gather(
            pipeline.call(pack(b"HSET", members, client, info.encode())),
            pipeline.call(pack(b"ZADD", expiries, b"%d" % int((time.time() + ttl) * 1000), client)),
            pipeline.call(pack(b"PEXPIRE", members, keep)),
            pipeline.call(pack(b"PEXPIRE", expiries, keep)),
        )

    async def presence_refresh(self, entries: dict[tuple[str, str], str], ttl: float) -> None:
        if self._client is None:
            raise BrokerUnavailable("the Redis backend is not started")
        expiry = int((time.time() + ttl) * 1000)
        keep = int(ttl * 2000)
        async with self._client.pipeline(transaction=False) as pipe:
            for (channel, client_id), info in entries.items():
                members, expiries = self._key("p", channel), self._key("pe", channel)
                pipe.hset(members, client_id, info)
                pipe.zadd(expiries, {client_id: expiry})
                pipe.pexpire(members, keep)
                pipe.pexpire(expiries, keep)
            await self._guard(pipe.execute())

    async def presence_remove(self, channel: str, client_id: str) -> None:
        """Through the auto-pipeline: 5,000 clients leaving at once share a few round trips
        (each used to hold a pooled connection, and most failed at the pool's cap)."""
        pipeline = self._pipeline
        if pipeline is None:
            return
        client = client_id.encode()
        await asyncio.gather(
            pipeline.call(pack(b"HDEL", self._key("p", channel).encode(), client)),
            pipeline.call(pack(b"ZREM", self._key("pe", channel).encode(), client)),
        )

    async def presence_members(self, channel: str) -> dict[str, str]:
        flat = await self._call(
            "presence_sweep",
            [self._key("p", channel), self._key("pe", channel)],
            [int(time.time() * 1000), "list"],
        )
        return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}

    async def presence_expire(self, channel: str) -> dict[str, str]:
        flat = await self._call(
            "presence_expire",
            [self._key("p", channel), self._key("pe", channel)],
            [int(time.time() * 1000)],
        )
        return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}

    async def presence_count(self, channel: str) -> int:
        count = await self._call(
            "presence_sweep",
            [self._key("p", channel), self._key("pe", channel)],
            [int(time.time() * 1000), "count"],
        )
        return int(count)

    async def presence_event(self, channel: str, kind: str, client_id: str, info: str) -> None:
        if self._client is None:
            raise BrokerUnavailable("the Redis backend is not started")
        await self._guard(
            self._client.publish(self._key("c", channel), f"e{kind}:{client_id}:{info}")
        )

    async def _guard(self, awaitable: Any) -> Any:
        """Await a pooled command once a connection slot is free; map network errors.

        A semaphore, not redis-py's BlockingConnectionPool: its condition variable wakes
        waiters in a way that costs time proportional to the queue per connection handed
        over, which stalled the loop for tens of seconds under 10,000 queued commands.
        """
        outage = self._outage_errors()
        slots = self._slots
        try:
            async with asyncio.timeout(self.command_timeout):
                await slots.acquire()
        except TimeoutError:
            _close(awaitable)
            raise BrokerUnavailable("no Redis connection came free in time") from None
        try:
            return await awaitable
        except outage as exc:
            raise BrokerUnavailable(f"Redis is unavailable: {exc}") from exc
        finally:
            slots.release()

    @staticmethod
    def _outage_errors() -> tuple[type[BaseException], ...]:
        """The errors that mean "Redis cannot answer now" (mapped to BrokerUnavailable)."""
        errors = require("redis.exceptions", "redis")
        return (errors.ConnectionError, errors.TimeoutError, OSError)

    def health(self) -> dict[str, Any]:
        if self._listener is None:
            return {"backend": "redis", "state": "stopped", "ok": False}
        report = self._listener.health()
        report["backend"] = "redis"
        if report["state"] == "connected" and self._pipeline is not None and self._pipeline.failing:
            # Commands time out (a stall longer than command_timeout) while pub/sub looks fine.
            report["state"] = "unresponsive"
        report["address"] = self.address
        report["ok"] = report["state"] == "connected"
        return report

    def subscribed_keys(self) -> set[bytes]:
        """Pub/sub keys this node wants (a test oracle next to ``PUBSUB NUMSUB``)."""
        return set(self._listener.desired) if self._listener is not None else set()


def masked_url(url: str) -> str:
    """``url`` without its password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def check_url(url: str) -> None:
    """Raise ``ValueError`` (one line) for a Redis URL whose host, port or database is unusable."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError:
        raise ValueError(
            f"bad Redis URL {masked_url(url)!r}: the port must be a number from 1 to 65535"
        ) from None
    database = parts.path.strip("/")
    if parts.scheme != "unix" and database and not database.isdigit():
        raise ValueError(
            f"bad Redis URL {masked_url(url)!r}: the database after the last '/' must be a number"
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"bad Redis URL {masked_url(url)!r}: no host (redis://host:6379/0)")


def _opener(pool: Any) -> Connect:
    """Open connections to the server the redis-py ``pool`` is configured for."""
    settings = pool.connection_kwargs
    ssl_context = None
    if settings.get("path") is None:
        probe = pool.make_connection()
        if hasattr(probe, "ssl_context"):  # rediss:// with the pool's certificate settings
            ssl_context = probe.ssl_context.get()

    def connect(factory: Callable[[], asyncio.Protocol]) -> Any:
        loop = asyncio.get_running_loop()
        if settings.get("path") is not None:
            return loop.create_unix_connection(factory, settings["path"])
        host = settings.get("host", "localhost")
        return loop.create_connection(
            factory,
            host,
            settings.get("port", 6379),
            ssl=ssl_context,
            server_hostname=host if ssl_context is not None else None,
        )

    return connect


@dataclass(frozen=True, slots=True)
class SentinelSettings:
    """Where the Sentinels are and which master they watch (from a ``redis+sentinel://`` URL)."""

    hosts: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def parse_sentinel_url(url: str) -> tuple[SentinelSettings, dict[str, str]]:
    """Parse ``redis+sentinel://[user:pass@]host:port,host:port/master-name[/db][?...]``.

    The password is the master's; ``sentinel_password`` in the query is the Sentinels' own.
    Returns the settings and the remaining query options (``prefix``, ``max_connections``).
    Raises ``ValueError`` naming what is wrong.
    """
    rest = url.removeprefix("redis+sentinel://")
    rest, _, query_text = rest.partition("?")
    credentials, at, rest = rest.rpartition("@") if "@" in rest else ("", "", rest)
    netloc, _, path = rest.partition("/")
    hosts = tuple(_host_port(item, 26379) for item in netloc.split(",") if item)
    parts = [part for part in path.split("/") if part]
    if not hosts or not parts or len(parts) > 2:
        raise ValueError(
            f"a Sentinel URL is redis+sentinel://host:port[,host:port...]/master-name[/db], "
            f"not {masked_url(url)!r}"
        )
    if len(parts) == 2 and not parts[1].isdigit():
        raise ValueError(f"the database in {masked_url(url)!r} must be a number")
    query = {key: values[-1] for key, values in parse_qs(query_text).items()}
    username, _, password = credentials.partition(":") if at else ("", "", "")
    settings = SentinelSettings(
        hosts=hosts,
        service=unquote(parts[0]),
        db=int(parts[1]) if len(parts) == 2 else 0,
        username=unquote(username) or None,
        password=unquote(password) or None,
        sentinel_password=query.pop("sentinel_password", None),
    )
    return settings, query


def _host_port(item: str, default_port: int) -> tuple[str, int]:
    host, colon, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
    if not colon:
        return item, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{port!r} is not a port number (in {item!r})")
    return host, int(port)


def _make_pool(url: str, sentinel: SentinelSettings | None, **options: Any) -> Any:
    """A redis-py connection pool: to ``url``, or to the master that Sentinel names."""
    if sentinel is None:
        redis = require("redis.asyncio", "redis")
        return redis.ConnectionPool.from_url(url, **options)
    module = require("redis.asyncio.sentinel", "redis")
    manager = module.Sentinel(
        list(sentinel.hosts),
        sentinel_kwargs={
            "password": sentinel.sentinel_password,
            "socket_timeout": options["socket_timeout"],
            "socket_connect_timeout": options["socket_connect_timeout"],
        },
    )
    return module.SentinelConnectionPool(
        sentinel.service,
        manager,
        db=sentinel.db,
        username=sentinel.username,
        password=sentinel.password,
        **options,
    )


def _sentinel_opener(pool: Any) -> Connect:
    """Open connections to the master that the Sentinels name at the time of each connect."""

    async def connect(factory: Callable[[], asyncio.Protocol]) -> Any:
        try:
            host, port = await pool.get_master_address()
        except Exception as exc:  # MasterNotFoundError, or no Sentinel answered
            raise OSError(f"no master found through Sentinel: {exc}") from exc
        return await asyncio.get_running_loop().create_connection(factory, host, port)

    return connect


def _setup_commands(pool: Any, scripts: dict[str, str], server_key: bytes) -> list[bytes]:
    """AUTH and SELECT as the pool would send them, SCRIPT LOAD of every script, then the
    ``server`` script, so a connection's first publish already sees this server's generation."""
    settings = pool.connection_kwargs
    setup = []
    password = settings.get("password")
    if password is not None:
        username = settings.get("username")
        credentials = [username, password] if username else [password]
        setup.append(pack(b"AUTH", *(str(item).encode() for item in credentials)))
    db = int(settings.get("db") or 0)
    if db:
        setup.append(pack(b"SELECT", b"%d" % db))
    for source in scripts.values():  # publish, history (positions) run through the pipeline
        setup.append(pack(b"SCRIPT", b"LOAD", source.encode()))
    setup.append(pack(b"EVAL", scripts["server"].encode(), b"1", server_key))
    return setup


def _close(awaitable: Any) -> None:
    """Close a coroutine that will never be awaited (no "never awaited" warning)."""
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


def _field(fields: Any, name: bytes) -> str:
    if isinstance(fields, dict):
        return str(fields[name].decode())
    for index in range(0, len(fields), 2):
        if fields[index] == name:
            return str(fields[index + 1].decode())
    return "null"

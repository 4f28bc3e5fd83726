"""The Redis backend over a Redis Cluster (Redis 7+): hash-tagged keys, sharded pub/sub.

Select it with ``redis+cluster://host:port,host:port/?prefix=name`` (any few nodes serve as
seeds; the rest are discovered). Keys of channel ``C`` under prefix ``P`` all carry the hash
tag ``{P:C}``, so they live in one slot and every script stays atomic on one master::

    {P:C}:m    hash    e = epoch, s = top offset, g = generation (the master's replication id)
    {P:C}:h    stream  history, as in the single-server mode
    {P:C}:c    shard channel (SPUBLISH from the publish script, SSUBSCRIBE per shard)
    {P:C}:p    hash    presence;  {P:C}:pe  zset  presence expiries

A cluster has no key that every script can reach, so the failover generation is no global
``P:srv`` hash as with one server: the scripts in ``redis_cluster.lua`` read the master's
replication id, which a failover (manual or not) and a slot migration both change. A channel
whose meta was written under another id starts a new epoch: subscribers are told
(``recovered: false``) instead of being handed offsets that the failover may have lost.
A slot migration therefore also starts new epochs for the channels of that slot.

Commands go through redis-py's ``RedisCluster``: it keeps the slot map, follows ``MOVED`` and
``ASK``, waits out ``TRYAGAIN`` during a migration and loads scripts that a new master lacks.
It is built with no retries, so a publish whose reply was lost is never run twice (that would
be one message under two offsets); redirects are safe to follow because the redirected command
did not run. The two hot scripts, publish and history (every subscribe reads a position), first
try the master's auto-pipelined connection (:mod:`._redis_slots`, routed by redis-py's slot
map) and go through redis-py only when they did not run there. Measured with
``benchmarks/redis_modes.py`` (smoke runs on the shared 2-core machine, 100 publishes in flight
over 64 channels): 7.6k publishes/s with every publish through redis-py, 42k/s with the
pipelines (one server: 61k/s). Reading the replication id costs the server about 5 us per
script (``INFO replication``; a bare EVAL went from 506k to 141k calls/s with 32-deep
pipelining here).

Sharded pub/sub, and how it follows slots that move, is in :mod:`._redis_shards`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from tether.channels.backends._redis_pipeline import ReplyError, pack
from tether.channels.backends._redis_shards import ShardedPubSub
from tether.channels.backends._redis_slots import NOT_RUN, SlotPipelines
from tether.channels.backends.base import (
    FRESH_META_TTL,
    BackendListener,
    BrokerUnavailable,
    HistoryPage,
    Position,
    Publication,
)
from tether.channels.backends.redis import (
    RedisBackend,
    _field,
    _host_port,
    _load_scripts,
    masked_url,
)
from tether.channels.options import ChannelOptions
from tether.exceptions import require

__all__ = ["ClusterSettings", "RedisClusterBackend", "parse_cluster_url"]

logger = logging.getLogger("tether.channels.redis")

_CLUSTER_SCRIPTS = Path(__file__).with_name("redis_cluster.lua")
PUBLISH_CONNECTION_NAME = b"tether-publish"  # what CLIENT LIST shows for a master's pipeline


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """The seed nodes of a cluster and its credentials (from a ``redis+cluster://`` URL)."""

    hosts: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = None


def parse_cluster_url(url: str) -> tuple[ClusterSettings, dict[str, str]]:
    """Parse ``redis+cluster://[user:pass@]host:port[,host:port...][/][?prefix=...]``.

    Returns the settings and the query options (``prefix``, ``max_connections``). Raises
    ``ValueError`` naming what is wrong (a cluster has one database: no path is allowed).
    """
    rest = url.removeprefix("redis+cluster://")
    rest, _, query_text = rest.partition("?")
    credentials, at, rest = rest.rpartition("@") if "@" in rest else ("", "", rest)
    netloc, _, path = rest.partition("/")
    if path.strip("/") not in ("", "0"):
        raise ValueError(
            f"a Redis Cluster has only database 0; drop the path from {masked_url(url)!r}"
        )
    hosts = tuple(_host_port(item, 6379) for item in netloc.split(",") if item)
    if not hosts:
        raise ValueError(
            f"a Redis Cluster URL is redis+cluster://host:port[,host:port...], "
            f"not {masked_url(url)!r}"
        )
    username, _, password = credentials.partition(":") if at else ("", "", "")
    query = {key: values[-1] for key, values in parse_qs(query_text).items()}
    settings = ClusterSettings(
        hosts=hosts, username=unquote(username) or None, password=unquote(password) or None
    )
    return settings, query


class RedisClusterBackend(RedisBackend):
    """Channels over a Redis Cluster; every node and :class:`Emitter` may share it.

    Raises :class:`BrokerUnavailable` from commands while the channel's master cannot be
    reached (during a failover, until the cluster promoted a replica).
    """

    def __init__(
        self,
        url: str = "redis+cluster://127.0.0.1:7000",
        *,
        prefix: str = "tether",
        command_timeout: float = 5.0,
        ping_interval: float = 5.0,
        max_connections: int = 50,
    ) -> None:
        super().__init__(
            url,
            prefix=prefix,
            command_timeout=command_timeout,
            ping_interval=ping_interval,
            max_connections=max_connections,
        )
        self.cluster, _ = parse_cluster_url(url)
        self._tag_head = ("{" + prefix + ":").encode()
        self._routes: SlotPipelines | None = None

    @classmethod
    def from_url(cls, url: str) -> RedisClusterBackend:
        """Build from a ``redis+cluster://`` URL (see :func:`parse_cluster_url`); ``prefix`` and
        ``max_connections`` are taken out of it, as :meth:`RedisBackend.from_url` does."""
        _, options = parse_cluster_url(url)
        return cls(
            url.partition("?")[0],
            prefix=options.get("prefix", "tether"),
            max_connections=int(options.get("max_connections", "50")),
        )

    def _key(self, kind: str, channel: str) -> str:
        return f"{{{self.prefix}:{channel}}}:{kind}"

    def _channel_of(self, key: bytes) -> str | None:
        if not key.startswith(self._tag_head) or not key.endswith(b"}:c"):
            return None
        return key[len(self._tag_head) : -3].decode()

    async def start(self, listener: BackendListener) -> None:
        cluster = require("redis.asyncio.cluster", "redis")
        retry = require("redis.asyncio.retry", "redis")
        backoff = require("redis.backoff", "redis")
        self._hub = listener
        self._client = cluster.RedisCluster(
            startup_nodes=[cluster.ClusterNode(host, port) for host, port in self.cluster.hosts],
            username=self.cluster.username,
            password=self.cluster.password,
            max_connections=self.max_connections,  # per node; _guard bounds the total
            socket_timeout=self.command_timeout,
            socket_connect_timeout=2.0,
            protocol=2,
            # No retries: a publish whose reply was lost must not run twice (two offsets).
            retry=retry.Retry(backoff.NoBackoff(), 0),
        )
        scripts = {**_load_scripts(), **_load_scripts(_CLUSTER_SCRIPTS)}
        self._scripts = {name: self._client.register_script(src) for name, src in scripts.items()}
        self._script_sources = scripts
        self._shas = {name: script.sha for name, script in self._scripts.items()}
        self._routes = SlotPipelines(
            self._client,
            _setup_commands(self.cluster, scripts),
            self.command_timeout,
            on_stale=self._refresh_slot_map,
            name=PUBLISH_CONNECTION_NAME,
        )
        try:
            await self._guard(self._client.initialize())
            unreachable = ""
        except BrokerUnavailable as exc:  # the hub refuses to start, or starts degraded
            unreachable = str(exc)
        self._listener = ShardedPubSub(
            self._client,
            self._on_message,
            listener.on_resubscribed,
            ping_interval=self.ping_interval,
            address=self.address,
            on_state=getattr(listener, "on_broker_state", None),
            on_slot_map=self._routes.prune,  # a demoted master keeps no publish connection
        )
        if unreachable:
            self._listener.reachable, self._listener.last_error = False, unreachable
        self._listener.start()

    def _refresh_slot_map(self) -> None:
        if isinstance(self._listener, ShardedPubSub):
            self._listener.refresh()

    async def stop(self) -> None:
        if self._routes is not None:
            await self._routes.close()
            self._routes = None
        await super().stop()

    async def _on_slot(self, name: str, keys: list[str], args: list[bytes]) -> Any:
        """Run script ``name`` on its slot's master through that master's pipeline; through
        redis-py when it did not run there (a redirect, no connection, no slot map yet)."""
        routes = self._routes
        if routes is not None:
            encoded = [key.encode() for key in keys]
            command = pack(
                b"EVALSHA", self._shas[name].encode(), b"%d" % len(keys), *encoded, *args
            )
            try:
                reply = await routes.call(encoded[0], command)
            except ReplyError as exc:
                raise self._reply_error(exc) from None
            if reply is not NOT_RUN:
                return reply
        return await self._call(name, keys, list(args))

    @staticmethod
    def _outage_errors() -> tuple[type[BaseException], ...]:
        """Besides lost connections: no master for the slot yet, a migration that took too
        long (``TRYAGAIN``), and redis-py's own "cluster unreachable" errors."""
        errors = require("redis.exceptions", "redis")
        return (
            errors.ConnectionError,
            errors.TimeoutError,
            OSError,
            errors.ClusterError,  # CLUSTERDOWN, "TTL exhausted" after many redirects
            errors.MasterDownError,
            errors.TryAgainError,
            errors.RedisClusterException,  # SlotNotCovered, unreachable cluster
        )

    async def publish(self, channel: str, data: str, options: ChannelOptions) -> Position:
        """Run the ``publish`` script on the channel's master (never twice: see module doc)."""
        offset, epoch = await self._on_slot(
            "publish",
            [self._key("m", channel), self._key("h", channel)],
            [
                self._key("c", channel).encode(),
                data.encode(),
                b"%d" % options.history_size,
                b"%d" % int(options.history_ttl * 1000),
                b"%d" % int(options.meta_ttl * 1000),
                b"%08x" % self._random.getrandbits(32),
            ],
        )
        return Position(int(offset), epoch.decode())

    async def history(self, channel: str, since: int, limit: int) -> HistoryPage:
        top, epoch, entries = await self._on_slot(
            "history",
            [self._key("m", channel), self._key("h", channel)],
            [
                b"%d" % max(since, 0),
                b"%d" % max(limit, 0),
                b"%08x" % self._random.getrandbits(32),
                b"%d" % int(FRESH_META_TTL * 1000),
            ],
        )
        epoch_text = epoch.decode()
        found = [
            Publication(channel, int(entry_id.split(b"-", 1)[0]), epoch_text, _field(fields, b"d"))
            for entry_id, fields in entries
        ]
        return HistoryPage(found, Position(int(top), epoch_text))

    async def keep(self, channels: list[str], ttl: float) -> None:
        """One ``keep`` script per slot (a script's keys must share one)."""
        if self._client is None or not channels:
            return
        crc = require("redis.crc", "redis")
        by_slot: dict[int, list[str]] = {}
        for channel in channels:
            key = self._key("m", channel)
            by_slot.setdefault(crc.key_slot(key.encode()), []).append(key)
        ttl_ms = int(ttl * 1000)
        await asyncio.gather(*(self._call("keep", keys, [ttl_ms]) for keys in by_slot.values()))

    async def presence_add(self, channel: str, client_id: str, info: str, ttl: float) -> None:
        members, expiries = self._key("p", channel), self._key("pe", channel)
        keep = int(ttl * 2000)
        await self._pipelined(
            ("HSET", members, client_id, info),
            ("ZADD", expiries, int((time.time() + ttl) * 1000), client_id),
            ("PEXPIRE", members, keep),
            ("PEXPIRE", expiries, keep),
        )

    async def presence_remove(self, channel: str, client_id: str) -> None:
        if self._client is None:
            return
        await self._pipelined(
            ("HDEL", self._key("p", channel), client_id),
            ("ZREM", self._key("pe", channel), client_id),
        )

    async def _pipelined(self, *commands: tuple[Any, ...]) -> None:
        """Commands of one channel (one slot, one master) in one round trip."""
        if self._client is None:
            raise BrokerUnavailable("the Redis backend is not started")
        async with self._client.pipeline(transaction=False) as pipe:
            for command in commands:
                pipe.execute_command(*command)
            await self._guard(pipe.execute())

    async def presence_event(self, channel: str, kind: str, client_id: str, info: str) -> None:
        if self._client is None:
            raise BrokerUnavailable("the Redis backend is not started")
        await self._guard(
            self._client.spublish(self._key("c", channel), f"e{kind}:{client_id}:{info}")
        )

    def health(self) -> dict[str, Any]:
        """As one server's, with the per-master publish connections: one whose callers timed
        out (a stalled master) makes the state ``unresponsive`` and is named in
        ``last_error``, until that master answers again."""
        report = super().health()
        report["backend"] = "redis-cluster"
        stalled = self._routes.failing() if self._routes is not None else []
        if stalled and report["state"] == "connected":
            report["state"] = "unresponsive"
            report["ok"] = False
            report["last_error"] = (
                f"commands to master {', '.join(stalled)} got no reply in time "
                f"(command_timeout {self.command_timeout:g} s)"
            )
        return report


def _setup_commands(settings: ClusterSettings, scripts: dict[str, str]) -> list[bytes]:
    """AUTH as redis-py would send it, then SCRIPT LOAD of every script (a master promoted
    since the last connection may lack them)."""
    setup = []
    if settings.password is not None:
        credentials = (
            [settings.username, settings.password] if settings.username else [settings.password]
        )
        setup.append(pack(b"AUTH", *(item.encode() for item in credentials if item)))
    setup += [pack(b"SCRIPT", b"LOAD", source.encode()) for source in scripts.values()]
    return setup
